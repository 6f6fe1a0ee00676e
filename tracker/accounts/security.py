"""App-wide protections: CSRF on every form, session cookies, the signed-in user in templates."""

from flask import Flask, abort, current_app, request
from flask.sessions import SecureCookieSessionInterface
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, CSRFProtect

from tracker.accounts.access import bearer_token, current_user, unauthorized
from tracker.core.errors import error_response, wants_json
from tracker.serving.request_log import auth_event

csrf = CSRFProtect()


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, marked Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        """Return whether the session cookie needs the Secure flag."""
        # SESSION_COOKIE_SECURE forces it behind a TLS-terminating proxy; a direct
        # HTTPS request sets it on its own.
        return super().get_cookie_secure(app) or request.is_secure


def init_app(app: Flask) -> None:
    """Turn on CSRF checks, the session cookie settings and the sign-in template helpers."""
    # The default check runs for every request; ours skips requests that carry a bearer
    # token (no cookie is involved, so no cross-site forgery is possible).
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.config.setdefault("WTF_CSRF_ENABLED", True)
    csrf.init_app(app)
    app.before_request(_refuse_unknown_token)
    app.before_request(_check_csrf)
    app.register_error_handler(CSRFError, _csrf_error)
    app.session_interface = SessionInterface()
    app.context_processor(lambda: {"current_user": current_user()})

    from tracker.accounts.cli import register

    register(app)


WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _refuse_unknown_token() -> None:
    # A revoked token is told so, rather than answered as an anonymous visitor.
    if bearer_token() is not None and current_user() is None:
        abort(
            unauthorized(
                _("このトークンは登録されていないか、取り消されています。"), code="invalid_token"
            )
        )


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
