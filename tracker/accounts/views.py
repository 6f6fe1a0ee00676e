"""Sign in and out."""

from datetime import timedelta
from math import ceil

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired

from tracker.accounts.access import SESSION_KEY
from tracker.accounts.operations import (
    LoginThrottled,
    authenticate,
    end_login_session,
    start_login_session,
)
from tracker.db import get_session

bp = Blueprint("accounts", __name__)


class LoginForm(FlaskForm):
    """The sign-in form."""

    login = StringField(
        _l("ログイン名"), validators=[DataRequired(_l("ログイン名を入力してください"))]
    )
    password = PasswordField(
        _l("パスワード"), validators=[DataRequired(_l("パスワードを入力してください"))]
    )
    next = HiddenField()


def safe_next(target: str | None) -> str | None:
    """Return a redirect target only if it stays on this site (a path, not another host)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the sign-in form, and sign in with it."""
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    error = None
    status = 200
    headers = {}
    if form.validate_on_submit():
        db = get_session()
        try:
            user = authenticate(
                db, form.login.data, form.password.data, address=request.remote_addr or "unknown"
            )
        except LoginThrottled as exc:
            wait = exc.until - db.scalar(select(func.now()))
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
                error = _("ログイン名またはパスワードが違います。")
            else:
                sid = start_login_session(db, user)
                # A new session on sign-in: nothing from before (a planted id, an old CSRF
                # token) carries over.
                session.clear()
                session.permanent = True
                session[SESSION_KEY] = sid
                return redirect(safe_next(form.next.data) or url_for("web.city_map"))
    elif request.method == "POST":
        status = 400
    form.password.data = ""
    return render_template("accounts/login.html", form=form, error=error), status, headers


@bp.post("/logout")
def logout():
    """Sign out: end this browser's session so that its cookie is worthless from now on."""
    sid = session.get(SESSION_KEY)
    if sid:
        end_login_session(get_session(), sid)
    session.clear()
    return redirect(url_for("web.city_map"))
