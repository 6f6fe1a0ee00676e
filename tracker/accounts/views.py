"""Sign in and out: the password, then the second factor (a code from the authenticator
app, a recovery code or a passkey), or a passkey alone.

A right password of a person with a second factor starts no session: the signed Flask
session keeps who it was for a few minutes (the pending sign-in), and /login/verify asks for
the second factor. A person whose role needs a second factor and who has none is sent to
set one up (/account/two-factor) in that pending state, and their session starts once it is
set up. Codes are tries of the sign-in throttle like passwords, under the same keys.
"""

import re
from dataclasses import dataclass
from datetime import timedelta
from math import ceil
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    after_this_request,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from tracker.accounts import passkeys, recovery_codes, totp
from tracker.accounts.access import SESSION_KEY
from tracker.accounts.models import User
from tracker.accounts.operations import (
    authenticate,
    end_login_session,
    start_login_session,
)
from tracker.accounts.throttle import (
    DEVICE_COOKIE,
    DEVICE_COOKIE_MAX_AGE,
    Keys,
    LoginThrottled,
    known_device,
    mark_succeeded,
    new_device_cookie,
    reserve_attempt,
)
from tracker.core import clock
from tracker.core.db import get_session
from tracker.core.errors import BadInput
from tracker.core.limits import LOGIN_MAX
from tracker.core.translate import gettext as _
from tracker.core.translate import lazy_gettext as _l
from tracker.serving.request_log import auth_event

bp = Blueprint("accounts", __name__)

CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f]")
PENDING_KEY = "pending_sign_in"
# Time to type a code after the password; setting up an app on a phone takes longer.
VERIFY_WITHIN = timedelta(minutes=5)
ENROL_WITHIN = timedelta(minutes=15)
CODE_MAX = 40
NO_STORE = {"Cache-Control": "no-store"}


class LoginForm(FlaskForm):
    """The sign-in form."""

    login = StringField(
        _l("ログイン名"),
        validators=[
            DataRequired(_l("ログイン名を入力してください")),
            Length(max=LOGIN_MAX, message=_l("ログイン名が長すぎます")),
        ],
    )
    password = PasswordField(
        _l("パスワード"), validators=[DataRequired(_l("パスワードを入力してください"))]
    )
    next = HiddenField()


class CodeForm(FlaskForm):
    """The second step: a code from the authenticator app or a recovery code."""

    code = StringField(
        _l("確認コード"),
        validators=[
            DataRequired(_l("コードを入力してください")),
            Length(max=CODE_MAX, message=_l("コードが長すぎます")),
        ],
    )


def safe_next(target: str | None) -> str | None:
    """Return a redirect target only if it stays on this site (a path, not another host)."""
    # Browsers drop tabs and line breaks from URLs, so "/\t/evil.example" is "//evil.example"
    # to them: remove every control character before judging what is left.
    target = CONTROL_CHARACTERS.sub("", target or "")
    if not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target:
        return None
    return target


def second_factor_required(user: User) -> bool:
    """Tell whether the person's role may only sign in with a second factor."""
    return user.role in current_app.config["SECOND_FACTOR_ROLES"]


def request_address() -> str:
    """Return the address the request came from, as the throttle counts it."""
    return request.remote_addr or "unknown"


# --- The pending sign-in ----------------------------------------------------------------


@dataclass(frozen=True)
class Pending:
    """A sign-in whose password was right, awaiting its second factor (or its set-up)."""

    user: User
    enrol: bool
    next: str | None
    device: str | None
    attempt_id: int | None


def begin_pending(
    user: User, *, enrol: bool, next_target: str | None, device: str | None, attempt_id: int
) -> None:
    """Keep a pending sign-in in the signed session (a fresh one: nothing from before)."""
    session.clear()
    session[PENDING_KEY] = {
        "user": user.id,
        "at": clock.now().timestamp(),
        "enrol": enrol,
        "next": next_target,
        "device": device,
        "attempt": attempt_id,
    }


def pending_sign_in(*, enrol: bool) -> Pending | None:
    """Return this browser's pending sign-in of the kind asked for, if it is still valid.

    A sign-in that awaits a code cannot be used to set up a factor, nor the other way round:
    only someone with no factor yet may set one up before their session starts.
    """
    kept = session.get(PENDING_KEY)
    if not isinstance(kept, dict) or bool(kept.get("enrol")) != enrol:
        return None
    within = ENROL_WITHIN if enrol else VERIFY_WITHIN
    if clock.now().timestamp() - float(kept.get("at", 0)) > within.total_seconds():
        return None
    user = get_session().get(User, kept.get("user"))
    if user is None or not user.is_active:
        return None
    if user.has_second_factor == enrol:
        return None
    return Pending(user, enrol, kept.get("next"), kept.get("device"), kept.get("attempt"))


def finish_sign_in(
    db: Session,
    user: User,
    *,
    device: str | None,
    attempts: list[int | None],
    next_target: str | None,
) -> str:
    """Start the person's session now that every factor is right; return where to go next."""
    for attempt_id in attempts:
        if attempt_id is not None:
            mark_succeeded(db, attempt_id)
    address = request_address()
    auth_event("sign-in", login=user.login, user=user.id, address=address)
    sid = start_login_session(
        db, user, user_agent=request.headers.get("User-Agent", ""), address=address
    )
    # A new session on sign-in: nothing from before (a planted id, an old CSRF token, the
    # pending state) carries over.
    session.clear()
    session.permanent = True
    session[SESSION_KEY] = sid
    g.pop("current_user", None)  # a page shown from here on shows the person signed in
    cookie = new_device_cookie(user, device)

    @after_this_request
    def remember_device(response: Response) -> Response:
        # This browser is known from now on: guesses sent from elsewhere never hold up its
        # owner's next sign-in.
        response.set_cookie(
            DEVICE_COOKIE,
            cookie,
            max_age=DEVICE_COOKIE_MAX_AGE,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure or current_app.config["SESSION_COOKIE_SECURE"],
        )
        return response

    return safe_next(next_target) or landing_page(user)


# Those who record and change the works start where they do it; anyone else on the map.
WORKS_ROLES = ("staff", "admin")


def landing_page(user: User) -> str:
    """Return where a person lands after signing in when no page asked for the sign-in."""
    return url_for("staff.home") if user.role in WORKS_ROLES else url_for("web.city_map")


def throttled_words(error: LoginThrottled) -> tuple[str, dict[str, str]]:
    """Return what a throttled sign-in is told, and its Retry-After header."""
    wait = error.until - clock.now()
    minutes = max(1, ceil(wait / timedelta(minutes=1)))
    message = _(
        "ログインの失敗が続いたため、しばらくログインできません。"
        "約%(minutes)d分後にもう一度お試しください。",
        minutes=minutes,
    )
    return message, {"Retry-After": str(max(1, ceil(wait.total_seconds())))}


def _login_page(
    form: LoginForm, error: str | None, status: int, headers: dict[str, str] | None = None
) -> ResponseReturnValue:
    form.password.data = ""
    return render_template("accounts/login.html", form=form, error=error), status, headers or {}


# --- Routes ---------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Show the sign-in form, and sign in with it."""
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if not form.validate_on_submit():
        return _login_page(form, None, 400 if request.method == "POST" else 200)
    db = get_session()
    address = request_address()
    try:
        check = authenticate(
            db,
            form.login.data,
            form.password.data or "",
            address=address,
            device_cookie=request.cookies.get(DEVICE_COOKIE),
        )
    except BadInput as exc:
        return _login_page(form, exc.text, 400)
    except LoginThrottled as exc:
        auth_event("sign-in refused (throttled)", login=form.login.data, address=address)
        return _login_page(form, *_throttled(exc))
    user = check.user
    if user is None:
        auth_event("sign-in failed", login=form.login.data, address=address)
        return _login_page(form, _("ログイン名またはパスワードが違います。"), 200)
    target = safe_next(form.next.data)
    if user.has_second_factor or second_factor_required(user):
        enrol = not user.has_second_factor
        auth_event(
            "sign-in password accepted, second factor " + ("to set up" if enrol else "asked"),
            login=user.login,
            user=user.id,
            address=address,
        )
        begin_pending(
            user, enrol=enrol, next_target=target, device=check.device, attempt_id=check.attempt_id
        )
        return redirect(url_for("two_factor.overview" if enrol else "accounts.verify"))
    return redirect(
        finish_sign_in(
            db, user, device=check.device, attempts=[check.attempt_id], next_target=target
        )
    )


def _throttled(error: LoginThrottled) -> tuple[str, int, dict[str, str]]:
    message, headers = throttled_words(error)
    return message, 429, headers


def _expired_answer() -> ResponseReturnValue:
    """The login page, saying the pending sign-in is over (or there never was one)."""
    session.pop(PENDING_KEY, None)
    status = 400 if request.method == "POST" else 200
    return _login_page(
        LoginForm(formdata=None),
        _("確認の有効期限が切れました。もう一度ログインしてください。"),
        status,
    )


@bp.route("/login/verify", methods=["GET", "POST"])
def verify() -> ResponseReturnValue:
    """Ask for the second factor of a pending sign-in, and finish the sign-in with it."""
    pending = pending_sign_in(enrol=False)
    if pending is None:
        return _expired_answer()
    user = pending.user
    form = CodeForm()
    error, status, headers = None, 200, dict(NO_STORE)
    if form.validate_on_submit():
        db = get_session()
        address = request_address()
        try:
            attempt = reserve_attempt(db, _keys(user, pending.device))
        except LoginThrottled as exc:
            auth_event("second factor refused (throttled)", login=user.login, address=address)
            error, status, more = _throttled(exc)
            headers |= more
        else:
            code = form.code.data or ""
            if _code_is_right(db, user, code):
                return redirect(
                    finish_sign_in(
                        db,
                        user,
                        device=pending.device,
                        attempts=[pending.attempt_id, attempt.id],
                        next_target=pending.next,
                    )
                )
            auth_event("second factor failed", login=user.login, user=user.id, address=address)
            error = _("コードが違います。")
    elif request.method == "POST":
        status = 400
    form.code.data = ""
    return (
        render_template(
            "accounts/verify.html",
            form=form,
            error=error,
            has_app=user.totp_secret is not None,
            has_passkey=bool(user.passkeys),
        ),
        status,
        headers,
    )


def _keys(user: User, device: str | None) -> Keys:
    return Keys(login=user.login.lower(), address=request_address(), device=device)


def _code_is_right(db: Session, user: User, code: str) -> bool:
    if totp.looks_like_code(code):
        return totp.use_code(db, user, code)
    return recovery_codes.use_code(db, user, code)


@bp.post("/login/passkey/options")
def passkey_options() -> ResponseReturnValue:
    """Return the options for signing in with a passkey: as the second factor of a pending
    sign-in, or without a password."""
    if _mode() == "second":
        pending = pending_sign_in(enrol=False)
        if pending is None:
            raise BadInput(_expired_text(), code="sign_in_expired")
        return jsonify(passkeys.authentication_options(pending.user)), 200, NO_STORE
    return jsonify(passkeys.authentication_options(None)), 200, NO_STORE


@bp.post("/login/passkey")
def passkey_sign_in() -> ResponseReturnValue:
    """Check a passkey's answer and sign the person in: {"next": where to go}."""
    body = _json_body()
    db = get_session()
    passkey = passkeys.credential_owner(db, body.get("credential"))
    refused = _("このパスキーは登録されていません。")
    pending = None
    if _mode() == "second":
        pending = pending_sign_in(enrol=False)
        if pending is None:
            raise BadInput(_expired_text(), code="sign_in_expired")
        if passkey is None or passkey.user_id != pending.user.id:
            raise BadInput(refused, code="passkey_unknown")
        user, device = pending.user, pending.device
    else:
        if passkey is None or not passkey.user.is_active:
            raise BadInput(refused, code="passkey_unknown")
        user = passkey.user
        device = known_device(request.cookies.get(DEVICE_COOKIE), user)
    try:
        attempt = reserve_attempt(db, _keys(user, device))
    except LoginThrottled as exc:
        auth_event("passkey sign-in refused (throttled)", login=user.login)
        message, headers = throttled_words(exc)
        return jsonify(error=message, code="too_many_requests"), 429, headers
    try:
        passkeys.authenticate(db, passkey, body.get("credential"), passwordless=pending is None)
    except BadInput:
        # The try stays counted (reserve_attempt committed it) and the challenge is spent.
        auth_event("passkey sign-in failed", login=user.login, user=user.id)
        raise
    target = finish_sign_in(
        db,
        user,
        device=device,
        attempts=[pending.attempt_id if pending else None, attempt.id],
        next_target=pending.next if pending else _json_next(body),
    )
    return jsonify(next=target), 200, NO_STORE


def _expired_text() -> str:
    return _("確認の有効期限が切れました。もう一度ログインしてください。")


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadInput(_("送られた内容を読み取れませんでした。"), code="bad_request")
    return body


def _mode() -> str:
    return "second" if _json_body().get("mode") == "second" else "passwordless"


def _json_next(body: dict[str, Any]) -> str | None:
    value = body.get("next")
    return safe_next(value) if isinstance(value, str) else None


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Sign out: end this browser's session so that its cookie is worthless from now on."""
    sid = session.get(SESSION_KEY)
    if sid:
        end_login_session(get_session(), sid)
    session.clear()
    return redirect(url_for("web.city_map"))
