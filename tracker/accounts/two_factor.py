"""The person's own second factors (/account/two-factor): an authenticator app set up with a
QR code, recovery codes, passkeys.

Reached signed in, or — for a person whose role needs a second factor and who has none —
in the pending sign-in right after the password: setting up the first factor then starts
the session. A secret being set up waits in the signed session until a first code confirms
it; secrets and codes appear only on pages that are never stored (Cache-Control: no-store)
and never in a log line.
"""

from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
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
from wtforms import PasswordField
from wtforms.validators import DataRequired

from tracker.accounts import passkeys, recovery_codes, totp
from tracker.accounts.access import current_user
from tracker.accounts.audit import record
from tracker.accounts.mail import tell_account_changed
from tracker.accounts.models import User
from tracker.accounts.passwords import verify_password
from tracker.accounts.throttle import (
    DEVICE_COOKIE,
    Keys,
    LoginThrottled,
    known_device,
    mark_succeeded,
    reserve_attempt,
)
from tracker.accounts.views import (
    CodeForm,
    Pending,
    finish_sign_in,
    pending_sign_in,
    request_address,
    second_factor_required,
    throttled_words,
)
from tracker.core.db import get_session
from tracker.core.errors import BadInput
from tracker.core.translate import gettext as _
from tracker.core.translate import lazy_gettext as _l
from tracker.serving.request_log import auth_event

bp = Blueprint(
    "two_factor",
    __name__,
    static_folder="static",
    static_url_path="/static/accounts",
)

SETUP_KEY = "totp_setup"


class PasswordForm(FlaskForm):
    """The password again, before a factor is taken away."""

    password = PasswordField(
        _l("パスワード"), validators=[DataRequired(_l("パスワードを入力してください"))]
    )


class Person:
    """Whose factors a request manages: a signed-in person, or a pending first set-up."""

    def __init__(self, user: User, pending: Pending | None) -> None:
        self.user = user
        self.pending = pending


def _person() -> Person | None:
    user = current_user()
    if user is not None:
        return Person(user, None)
    pending = pending_sign_in(enrol=True)
    return Person(pending.user, pending) if pending is not None else None


def _needs_person(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
    """Let through the signed-in person or a pending set-up; send anyone else to sign in."""

    def wrapped(**kwargs: Any) -> ResponseReturnValue:
        person = _person()
        if person is None:
            if request.is_json:
                abort(401)
            return redirect(url_for("accounts.login", next=url_for("two_factor.overview")))
        return view(person, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _signed_in(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
    """Let through the signed-in person only (taking a factor away, new recovery codes)."""

    def wrapped(**kwargs: Any) -> ResponseReturnValue:
        user = current_user()
        if user is None:
            return redirect(url_for("accounts.login", next=url_for("two_factor.overview")))
        return view(Person(user, None), **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


@bp.after_request
def _never_stored(response: Response) -> Response:
    # Secrets, QR codes and recovery codes: no cache keeps these pages.
    response.headers["Cache-Control"] = "no-store"
    return response


def _last_factor_refusal(user: User) -> str | None:
    """Say why the person may not take away this factor: it is their last and their role
    needs one."""
    factors = (1 if user.totp_secret else 0) + len(user.passkeys)
    if factors <= 1 and second_factor_required(user):
        return _(
            "あなたの役割では二段階認証が必要なため、最後の認証方法は削除できません。"
            "先に別の認証方法を登録してください。"
        )
    return None


def _overview(person: Person, error: str | None = None, status: int = 200) -> ResponseReturnValue:
    db = get_session()
    user = person.user
    return (
        render_template(
            "accounts/two_factor.html",
            user=user,
            pending=person.pending is not None,
            codes_left=recovery_codes.codes_left(db, user),
            passkey_list=sorted(user.passkeys, key=lambda p: p.created_at),
            required=second_factor_required(user),
            remove_form=PasswordForm(formdata=None),
            error=error,
        ),
        status,
    )


@bp.get("/account/two-factor")
@_needs_person
def overview(person: Person) -> ResponseReturnValue:
    """Show the person's second factors and what they can do with them."""
    return _overview(person)


def _setup_secret(user: User) -> str:
    """Return the secret being set up for this person, making one on the first visit."""
    kept = session.get(SETUP_KEY)
    if isinstance(kept, dict) and kept.get("user") == user.id and kept.get("secret"):
        return str(kept["secret"])
    secret = totp.new_secret()
    session[SETUP_KEY] = {"user": user.id, "secret": secret}
    return secret


@bp.route("/account/two-factor/app", methods=["GET", "POST"])
@_needs_person
def app_setup(person: Person) -> ResponseReturnValue:
    """Set up the authenticator app: its QR code and secret, confirmed with a first code."""
    user = person.user
    if user.totp_secret is not None:
        return redirect(url_for("two_factor.overview"))
    secret = _setup_secret(user)
    # The first code from the app, which proves it holds the new secret.
    form = CodeForm()
    error, status = None, 200
    if form.validate_on_submit():
        db = get_session()
        if totp.use_code(db, user, form.code.data or "", secret=secret):
            return _app_confirmed(db, person, secret)
        error, status = (
            _("コードが違います。アプリに表示されている最新のコードを入力してください。"),
            400,
        )
    elif request.method == "POST":
        status = 400
    form.code.data = ""
    return (
        render_template(
            "accounts/totp_setup.html",
            form=form,
            error=error,
            qr=totp.qr_data_uri(secret, user),
            secret=totp.grouped(secret),
            pending=person.pending is not None,
        ),
        status,
    )


def _app_confirmed(db: Session, person: Person, secret: str) -> ResponseReturnValue:
    user = person.user
    user.totp_secret = secret
    session.pop(SETUP_KEY, None)
    record(db, "totp_enabled", user=user)
    codes = recovery_codes.make_codes(db, user)
    tell_account_changed(db, user, lambda: _("認証アプリを登録しました。"))
    auth_event("second factor set up", user=user.id, kind="app")
    return _show_codes(db, person, codes)


def _show_codes(db: Session, person: Person, codes: list[str]) -> ResponseReturnValue:
    """Show new recovery codes once; a pending sign-in is complete from here on."""
    next_url = url_for("two_factor.overview")
    if person.pending is not None:
        next_url = _finish_pending(db, person.pending)
    return render_template("accounts/recovery_codes.html", codes=codes, next_url=next_url)


def _finish_pending(db: Session, pending: Pending) -> str:
    return finish_sign_in(
        db,
        pending.user,
        device=pending.device,
        attempts=[pending.attempt_id],
        next_target=pending.next,
    )


@bp.post("/account/two-factor/app/remove")
@_signed_in
def app_remove(person: Person) -> ResponseReturnValue:
    """Take the authenticator app away, after the password is given again."""
    user = person.user
    if user.totp_secret is None:
        return redirect(url_for("two_factor.overview"))
    refusal = _last_factor_refusal(user) or _password_refusal(user)
    if refusal is not None:
        return _overview(person, refusal, 400)
    db = get_session()
    user.totp_secret = None
    user.totp_last_step = None
    if not user.has_second_factor:
        recovery_codes.forget_codes(db, user)
    record(db, "totp_removed", user=user)
    tell_account_changed(db, user, lambda: _("認証アプリの登録を削除しました。"))
    return redirect(url_for("two_factor.overview"))


def _password_refusal(user: User) -> str | None:
    """Check the password given again, as a try of the sign-in throttle; say why not, if not."""
    form = PasswordForm()
    db = get_session()
    device = known_device(request.cookies.get(DEVICE_COOKIE), user)
    keys = Keys(login=user.login.lower(), address=request_address(), device=device)
    try:
        attempt = reserve_attempt(db, keys)
    except LoginThrottled as exc:
        return throttled_words(exc)[0]
    if not form.validate_on_submit() or not verify_password(
        user.password_hash, form.password.data or ""
    ):
        return _("パスワードが違います。認証方法は削除していません。")
    mark_succeeded(db, attempt.id)
    return None


@bp.post("/account/two-factor/recovery-codes")
@_signed_in
def new_recovery_codes(person: Person) -> ResponseReturnValue:
    """Replace the person's recovery codes with ten new ones, shown once."""
    if not person.user.has_second_factor:
        return redirect(url_for("two_factor.overview"))
    db = get_session()
    return _show_codes(db, person, recovery_codes.make_codes(db, person.user))


@bp.post("/account/passkeys/options")
@_needs_person
def passkey_options(person: Person) -> ResponseReturnValue:
    """Return the options for registering a new passkey."""
    return jsonify(passkeys.registration_options(person.user))


@bp.post("/account/passkeys")
@_needs_person
def passkey_add(person: Person) -> ResponseReturnValue:
    """Check and keep a new passkey: {"next": where to go}."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadInput(_("送られた内容を読み取れませんでした。"), code="bad_request")
    db = get_session()
    user = person.user
    name = body.get("name") if isinstance(body.get("name"), str) else ""
    passkeys.register(db, user, body.get("credential"), name or "")
    tell_account_changed(db, user, lambda: _("パスキーを登録しました。"))
    auth_event("second factor set up", user=user.id, kind="passkey")
    next_url = url_for("two_factor.overview")
    if person.pending is not None:
        next_url = _finish_pending(db, person.pending)
    return jsonify(next=next_url)


@bp.post("/account/passkeys/<int:passkey_id>/remove")
@_signed_in
def passkey_remove(person: Person, passkey_id: int) -> ResponseReturnValue:
    """Take one of the person's passkeys away."""
    user = person.user
    refusal = _last_factor_refusal(user)
    if refusal is not None:
        return _overview(person, refusal, 400)
    db = get_session()
    if passkeys.remove(db, user, passkey_id) is None:
        abort(404)
    if not user.has_second_factor:
        recovery_codes.forget_codes(db, user)
    tell_account_changed(db, user, lambda: _("パスキーの登録を削除しました。"))
    return redirect(url_for("two_factor.overview"))
