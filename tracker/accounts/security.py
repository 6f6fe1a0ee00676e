"""App-wide protections: CSRF on every form, session cookies, no caching of signed-in
answers, the signed-in user in templates."""

from flask import Flask, Response, abort, current_app, g, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.exc import SQLAlchemyError

from tracker.accounts.access import (
    bearer_token,
    current_login_session_id,
    current_user,
    idle_limit,
    unauthorized,
)
from tracker.core import clock
from tracker.core.errors import error_response, wants_json
from tracker.core.translate import gettext as _
from tracker.serving.request_log import auth_event

csrf = CSRFProtect()

# A cookie named so is only taken by browsers when it is Secure, for Path=/ and without a
# Domain: no other host (a subdomain) and no plain-HTTP page can set or shadow it.
HOST_PREFIX = "__Host-"


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, marked Secure whenever the request came over HTTPS, and then
    named with the `__Host-` prefix."""

    def get_cookie_secure(self, app: Flask) -> bool:
        """Return whether the session cookie needs the Secure flag."""
        # SESSION_COOKIE_SECURE forces it behind a TLS-terminating proxy; a direct
        # HTTPS request sets it on its own.
        return super().get_cookie_secure(app) or (has_request_context() and request.is_secure)

    def get_cookie_name(self, app: Flask) -> str:
        """Return the cookie's name: `__Host-session` when Secure, `session` over plain HTTP."""
        name = super().get_cookie_name(app)
        return HOST_PREFIX + name if self.get_cookie_secure(app) else name

    def get_cookie_domain(self, app: Flask) -> str | None:
        """Return no Domain for a `__Host-` cookie, as the prefix requires."""
        return None if self.get_cookie_secure(app) else super().get_cookie_domain(app)

    def get_cookie_path(self, app: Flask) -> str:
        """Return Path=/ for a `__Host-` cookie, as the prefix requires."""
        return "/" if self.get_cookie_secure(app) else super().get_cookie_path(app)


def init_app(app: Flask) -> None:
    """Turn on CSRF checks, the session cookie settings and the sign-in template helpers."""
    # The default check runs for every request; ours skips requests that carry a bearer
    # token (no cookie is involved, so no cross-site forgery is possible).
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.config.setdefault("WTF_CSRF_ENABLED", True)
    csrf.init_app(app)
    app.before_request(_refuse_unknown_token)
    app.before_request(_check_csrf)
    app.after_request(_no_store_when_signed_in)
    app.register_error_handler(CSRFError, _csrf_error)
    app.session_interface = SessionInterface()
    app.context_processor(
        lambda: {"current_user": current_user(), "session_idle_seconds": _session_idle_seconds}
    )

    from tracker.accounts.cli import register

    register(app)


WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _refuse_unknown_token() -> None:
    # A revoked or expired token is told so, rather than answered as an anonymous visitor.
    if bearer_token() is not None and current_user() is None:
        if g.get("token_expired"):
            message = _("このトークンは有効期限が切れています。新しいトークンを発行してください。")
        else:
            message = _("このトークンは登録されていないか、取り消されています。")
        abort(unauthorized(message, code="invalid_token"))


def _check_csrf() -> None:
    if bearer_token() is not None:
        return
    if request.method in WRITES and request.path.startswith("/api/") and current_user() is None:
        # No credentials at all: the caller needs to sign in or send a token, which a
        # CSRF complaint would not tell it.
        auth_event("permission refused", status=401, path=request.path)
        abort(unauthorized(_("ログインするか、Authorization: Bearer <トークン> を送ってください")))
    if not current_app.config["WTF_CSRF_ENABLED"]:
        return
    csrf.protect(apply_exemptions=True)


def _csrf_error(error: CSRFError) -> ResponseReturnValue:
    message = _(
        "送信を受け付けられませんでした（フォームの有効期限切れ、または不正な送信）。"
        "ページを読み込み直してから、もう一度送信してください。"
    )
    if wants_json():
        message = _("CSRF の確認に失敗しました。") + message
    return error_response(400, code="csrf_failed", message=message)


def _session_idle_seconds() -> int | None:
    """Return in how many seconds without a request this browser's sign-in ends (None: not
    signed in with a session), for the page's warning before it ends. The server counts
    from the last use it wrote down, which may be up to a minute before this request."""
    user = current_user()
    if user is None or current_login_session_id() is None:
        return None
    since = clock.now() - g.login_session_last_use
    return max(1, int((idle_limit(user) - since).total_seconds()))


def _static_file() -> bool:
    endpoint = request.endpoint or ""
    return endpoint == "static" or endpoint.endswith(".static") or request.blueprint == "vendor"


def _no_store_when_signed_in(response: Response) -> Response:
    """Keep every answer to a signed-in request out of any cache (OWASP ASVS V8.2.1): it may
    hold what only this person may see. So too the pages of secret links (a reset link, an
    alert's manage link), which are anyone's who holds the link. Anonymous answers keep
    their own caching."""
    if "token" in (request.view_args or {}):
        response.headers["Cache-Control"] = "no-store"
        return response
    cookie = current_app.session_interface.get_cookie_name(current_app)
    if (bearer_token() is None and cookie not in request.cookies) or _static_file():
        return response
    if "current_user" in g:
        signed_in = g.current_user is not None
    else:
        try:
            signed_in = current_user() is not None
        except SQLAlchemyError:
            signed_in = True  # cannot tell after a failed query: the safe answer
    if signed_in:
        response.headers["Cache-Control"] = "no-store"
        response.headers.pop("Expires", None)
    return response
