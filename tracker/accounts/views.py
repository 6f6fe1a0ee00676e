"""Sign in and out."""

import re
from datetime import timedelta
from math import ceil
from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from tracker.accounts.access import SESSION_KEY
from tracker.accounts.operations import (
    authenticate,
    end_login_session,
    start_login_session,
)
from tracker.accounts.throttle import (
    DEVICE_COOKIE,
    DEVICE_COOKIE_MAX_AGE,
    LoginThrottled,
    new_device_cookie,
)
from tracker.core import clock
from tracker.core.db import get_session
from tracker.core.errors import BadInput
from tracker.core.limits import LOGIN_MAX
from tracker.serving.request_log import auth_event

bp = Blueprint("accounts", __name__)

CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f]")


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


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Show the sign-in form, and sign in with it."""
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    error = None
    status = 200
    headers = {}
    if form.validate_on_submit():
        db = get_session()
        address = request.remote_addr or "unknown"
        try:
            user, device = authenticate(
                db,
                form.login.data,
                form.password.data or "",
                address=address,
                device_cookie=request.cookies.get(DEVICE_COOKIE),
            )
        except BadInput as exc:
            error, status = exc.text, 400
        except LoginThrottled as exc:
            auth_event("sign-in refused (throttled)", login=form.login.data, address=address)
            wait = exc.until - clock.now()
            minutes = max(1, ceil(wait / timedelta(minutes=1)))
            error = _(
                "ログインの失敗が続いたため、しばらくログインできません。"
                "約%(minutes)d分後にもう一度お試しください。",
                minutes=minutes,
            )
            status = 429
            headers["Retry-After"] = str(max(1, ceil(wait.total_seconds())))
        else:
            if user is None:
                auth_event("sign-in failed", login=form.login.data, address=address)
                error = _("ログイン名またはパスワードが違います。")
            else:
                auth_event("sign-in", login=user.login, user=user.id, address=address)
                sid = start_login_session(db, user)
                # A new session on sign-in: nothing from before (a planted id, an old CSRF
                # token) carries over.
                session.clear()
                session.permanent = True
                session[SESSION_KEY] = sid
                response = redirect(safe_next(form.next.data) or url_for("web.city_map"))
                # This browser is known from now on: guesses sent from elsewhere never
                # hold up its owner's next sign-in.
                response.set_cookie(
                    DEVICE_COOKIE,
                    new_device_cookie(user, device),
                    max_age=DEVICE_COOKIE_MAX_AGE,
                    httponly=True,
                    samesite="Lax",
                    secure=request.is_secure or current_app.config["SESSION_COOKIE_SECURE"],
                )
                return response
    elif request.method == "POST":
        status = 400
    form.password.data = ""
    return render_template("accounts/login.html", form=form, error=error), status, headers


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Sign out: end this browser's session so that its cookie is worthless from now on."""
    sid = session.get(SESSION_KEY)
    if sid:
        end_login_session(get_session(), sid)
    session.clear()
    return redirect(url_for("web.city_map"))
