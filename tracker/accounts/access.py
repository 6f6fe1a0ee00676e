"""Who is asking: the signed-in user or the API token's owner, and what they may do."""

import hashlib
from functools import wraps

from flask import abort, current_app, g, redirect, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from tracker.accounts.models import ROLES, ApiToken, LoginSession, User
from tracker.db import get_session
from tracker.errors import wants_json

SESSION_KEY = "sid"


def hash_token(token: str) -> str:
    """Return the stored form of an API token or a sign-in session id."""
    return hashlib.sha256(token.encode()).hexdigest()


def bearer_token() -> str | None:
    """Return the token of an `Authorization: Bearer` header, if the request has one."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    return header.removeprefix("Bearer ").strip()


def current_user() -> User | None:
    """Return the user behind this request (bearer token or session cookie), if any."""
    if "current_user" not in g:
        # A request that shows a token is judged by the token alone: a bad token must not
        # fall back to the cookie, since such requests skip the CSRF check.
        token = bearer_token()
        g.current_user = _user_from_token(token) if token is not None else _user_from_session()
    return g.current_user


def _user_from_session() -> User | None:
    sid = session.get(SESSION_KEY)
    if not sid:
        return None
    lifetime = current_app.permanent_session_lifetime
    return get_session().scalar(
        select(User)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(
            LoginSession.token_hash == hash_token(sid),
            LoginSession.ended_at.is_(None),
            LoginSession.created_at > func.now() - lifetime,
            User.is_active.is_(True),
        )
    )


def _user_from_token(token: str) -> User | None:
    if not token:
        return None
    return get_session().scalar(
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(
            ApiToken.token_hash == hash_token(token),
            ApiToken.revoked_at.is_(None),
            User.is_active.is_(True),
        )
    )


def can_see_private() -> bool:
    """Tell whether the caller may see staff-only projects and internal fields."""
    user = current_user()
    return user is not None and user.role in ROLES


def can_edit_projects() -> bool:
    """Tell whether the caller may create and edit projects."""
    user = current_user()
    return user is not None and user.can_write


def roles_required(*roles: str):
    """Let only signed-in users with one of these roles through: 401 anonymous, 403 others."""

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = current_user()
            if user is None:
                if wants_json() or bearer_token() is not None:
                    abort(
                        401,
                        description=_(
                            "ログインするか、Authorization: Bearer <トークン> を送ってください"
                        ),
                    )
                return redirect(url_for("accounts.login", next=request.full_path))
            if user.role not in roles:
                abort(
                    403,
                    description=_(
                        "この操作はできません（あなたの役割：%(role)s）", role=_(ROLES[user.role])
                    ),
                )
            return view(*args, **kwargs)

        return wrapped

    return decorate
