"""The person's own account: password, sign-in sessions, API tokens; a forgotten password.

Pages under /account change the account of whoever is signed in, so they take the browser's
sign-in only: a request with a bearer token (which skips the CSRF check) is refused.
"""

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from sqlalchemy import select, update
from wtforms import PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]
from wtforms.validators import DataRequired, Length

from tracker.accounts.access import (
    bearer_token,
    current_login_session_id,
    current_user,
    idle_limit,
)
from tracker.accounts.forms import ChoosePasswordForm
from tracker.accounts.links import link_user
from tracker.accounts.models import ROLES, ApiToken, LoginSession, User
from tracker.accounts.operations import TOKEN_NAME_MAX, create_token, revoke_own_token
from tracker.accounts.own_account import (
    TooManyResets,
    change_password,
    end_other_sessions,
    live_sessions,
    request_reset,
    reset_password,
)
from tracker.core import clock
from tracker.core.db import get_session
from tracker.core.errors import BadInput
from tracker.core.translate import gettext as _
from tracker.core.translate import lazy_gettext as _l

bp = Blueprint(
    "account",
    __name__,
    url_prefix="/account",
    static_folder="static",
    static_url_path="/static",
)

# How long a new API token lasts, in days: a choice, at most a year (a forgotten token
# stops working on its own).
TOKEN_DAYS = (30, 90, 365)
NO_STORE = {"Cache-Control": "no-store"}


class ChangePasswordForm(ChoosePasswordForm):
    """The current password, and a new one typed twice."""

    current = PasswordField(
        _l("今のパスワード"), validators=[DataRequired(_l("今のパスワードを入力してください"))]
    )


class TokenForm(FlaskForm):
    """A new API token: what it is for, and how long it lasts."""

    name = StringField(
        _l("トークンの名前（用途）"),
        validators=[
            DataRequired(_l("名前を入力してください")),
            Length(max=TOKEN_NAME_MAX, message=_l("名前が長すぎます")),
        ],
    )
    days = SelectField(
        _l("有効期間"),
        choices=[SelectChoice(str(days), str(days)) for days in TOKEN_DAYS],
        default="90",
    )


class ForgotForm(FlaskForm):
    """The e-mail address or login of someone who forgot their password."""

    identifier = StringField(
        _l("メールアドレスまたはログイン名"),
        validators=[
            DataRequired(_l("メールアドレスまたはログイン名を入力してください")),
            Length(max=320, message=_l("長すぎます")),
        ],
    )


def browser_sign_in(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
    """Let through people signed in with this browser; send others to sign in."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        if bearer_token() is not None:
            abort(403, description=_("アカウントの設定は、ブラウザでログインして行ってください。"))
        if current_user() is None or current_login_session_id() is None:
            return redirect(url_for("accounts.login", next=request.full_path))
        return view(*args, **kwargs)

    return wrapped


def _me() -> User:
    user = current_user()
    if user is None:  # browser_sign_in let no one else through
        abort(401)
    return user


def _session_id() -> int:
    sid = current_login_session_id()
    if sid is None:  # browser_sign_in let no one else through
        abort(401)
    return sid


def _account_page(form: ChangePasswordForm, status: int = 200) -> Any:
    user = _me()
    sessions = live_sessions(get_session(), user, current_login_session_id())
    body = render_template(
        "accounts/account.html", user=user, roles=ROLES, form=form, sessions=sessions
    )
    return body, status


@bp.get("")
@browser_sign_in
def home() -> ResponseReturnValue:
    """Show the person's account: password, sign-in sessions, two factors, API tokens."""
    return _account_page(ChangePasswordForm())


@bp.post("/password")
@browser_sign_in
def password() -> ResponseReturnValue:
    """Change one's own password; the other devices are signed out."""
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return _account_page(_cleared(form), 400)
    try:
        change_password(
            get_session(),
            _me(),
            current=form.current.data or "",
            new=form.password.data or "",
            keep_session_id=_session_id(),
        )
    except BadInput as refusal:
        getattr(form, refusal.field or "password").errors.append(refusal.text)
        return _account_page(_cleared(form), 400)
    flash(_("パスワードを変更しました。ほかの端末はログアウトしました。"))
    return redirect(url_for(".home"), code=303)


def _cleared(form: ChangePasswordForm | ChoosePasswordForm) -> Any:
    """Return the form with no password in it: a page never sends one back."""
    for field in ("current", "password", "confirm"):
        if hasattr(form, field):
            getattr(form, field).data = ""
    return form


@bp.post("/sessions/end-others")
@browser_sign_in
def end_others() -> ResponseReturnValue:
    """Sign out every other device of the person."""
    ended = end_other_sessions(get_session(), _me(), keep=_session_id())
    flash(_("ほかの端末をログアウトしました（%(n)d台）。", n=ended))
    return redirect(url_for(".home"), code=303)


@bp.get("/ping")
def ping() -> ResponseReturnValue:
    """Keep the sign-in going ("continue" on the warning before it ends): 204, or 401 when
    it has ended already."""
    sid = current_login_session_id() if bearer_token() is None else None
    if sid is None:
        return Response(status=401, headers=NO_STORE)
    get_session().execute(
        update(LoginSession).where(LoginSession.id == sid).values(last_seen_at=clock.now())
    )
    # The whole idle time runs again from now: the page's countdown starts over with it.
    user = current_user()
    seconds = int(idle_limit(user).total_seconds()) if user is not None else 0
    return Response(status=204, headers={**NO_STORE, "X-Idle-Seconds": str(seconds)})


# --- API tokens ---------------------------------------------------------------------------


def _tokens_page(form: TokenForm, status: int = 200, new_token: str | None = None) -> Any:
    user = _me()
    tokens = get_session().scalars(
        select(ApiToken)
        .where(ApiToken.user_id == user.id)
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(), ApiToken.id)
    )
    body = render_template(
        "accounts/tokens.html",
        form=form,
        tokens=list(tokens),
        new_token=new_token,
        now=clock.now(),
        token_days=TOKEN_DAYS,
    )
    response = make_response(body, status)
    response.headers.update(NO_STORE)
    return response


@bp.get("/tokens")
@browser_sign_in
def tokens() -> ResponseReturnValue:
    """List the person's API tokens, with a form for a new one."""
    return _tokens_page(TokenForm())


@bp.post("/tokens")
@browser_sign_in
def new_token() -> ResponseReturnValue:
    """Make an API token and show it, this once."""
    form = TokenForm()
    if not form.validate_on_submit():
        return _tokens_page(form, 400)
    try:
        token = create_token(
            get_session(),
            _me(),
            name=form.name.data or "",
            expires_at=clock.now() + timedelta(days=int(form.days.data or 0)),
        )
    except BadInput as refusal:
        form.name.errors = [*form.name.errors, refusal.text]
        return _tokens_page(form, 400)
    # Shown on this answer only (no redirect: the token is never kept to show it again).
    return _tokens_page(TokenForm(formdata=None), new_token=token)


@bp.post("/tokens/<int:token_id>/revoke")
@browser_sign_in
def revoke(token_id: int) -> ResponseReturnValue:
    """Revoke one of the person's own tokens."""
    row = revoke_own_token(get_session(), _me(), token_id)
    if row is None:
        abort(404, description=_("このトークンは見つからないか、取り消し済みです。"))
    flash(_("トークン「%(name)s」を取り消しました。", name=row.name))
    return redirect(url_for(".tokens"), code=303)


# --- A forgotten password -------------------------------------------------------------------


@bp.route("/forgot", methods=["GET", "POST"])
def forgot() -> ResponseReturnValue:
    """Ask for a reset link. The answer is the same whether the person exists or not."""
    form = ForgotForm()
    if request.method == "GET":
        return render_template("accounts/forgot.html", form=form, sent=False)
    if not form.validate_on_submit():
        return render_template("accounts/forgot.html", form=form, sent=False), 400
    try:
        request_reset(
            get_session(), form.identifier.data or "", address=request.remote_addr or "unknown"
        )
    except TooManyResets:
        body = render_template("accounts/forgot.html", form=form, sent=False, too_many=True)
        return body, 429, {"Retry-After": "3600"}
    return render_template("accounts/forgot.html", form=None, sent=True)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset(token: str) -> ResponseReturnValue:
    """Choose a new password through a one-hour, one-time link from a reset mail."""
    session = get_session()
    person = link_user(session, token, "reset")
    if person is None or not person.is_active:
        return _reset_gone()
    form = ChoosePasswordForm()
    if form.validate_on_submit():
        try:
            done = reset_password(session, token, form.password.data or "")
        except BadInput as refusal:
            form.password.errors = [*form.password.errors, refusal.text]
        else:
            if done is None:  # used in another tab meanwhile
                return _reset_gone()
            flash(_("新しいパスワードを設定しました。新しいパスワードでログインしてください。"))
            return redirect(url_for("accounts.login"), code=303)
    status = 400 if request.method == "POST" else 200
    body = render_template("accounts/reset.html", form=_cleared(form), person=person)
    return body, status, NO_STORE


def _reset_gone() -> ResponseReturnValue:
    body = render_template("accounts/reset.html", form=None, person=None)
    return body, 410, NO_STORE
