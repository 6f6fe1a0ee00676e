"""Who is asking: the signed-in user or the API token's owner, and what they may do."""

import hashlib
from functools import wraps

from flask import abort, g, redirect, request, session, url_for
from sqlalchemy import select

from tracker.accounts.models import ApiToken, User
from tracker.db import get_session
from tracker.errors import wants_json


def hash_token(token: str) -> str:
    """Return the stored form of an API token."""
    return hashlib.sha256(token.encode()).hexdigest()


def current_user() -> User | None:
    """Return the user behind this request (session cookie or bearer token), if any."""
    if "current_user" not in g:
        g.current_user = _user_from_token() or _user_from_session()
    return g.current_user


def _user_from_session() -> User | None:
    user_id = session.get("user_id")
    if user_id is None:
        return None
    user = get_session().get(User, user_id)
    return user if user is not None and user.is_active else None


def _user_from_token() -> User | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    token = get_session().scalar(
        select(ApiToken).where(
            ApiToken.token_hash == hash_token(header.removeprefix("Bearer ").strip()),
            ApiToken.revoked_at.is_(None),
        )
    )
    return token.user if token is not None and token.user.is_active else None


def can_see_private() -> bool:
    """Tell whether the caller may see staff-only projects and internal fields."""
    return current_user() is not None


def roles_required(*roles: str):
    """Let only signed-in users with one of these roles through: 401 anonymous, 403 others."""

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = current_user()
            if user is None:
                if wants_json():
                    abort(401, description="sign in or send Authorization: Bearer <token>")
                return redirect(url_for("accounts.login", next=request.full_path))
            if user.role not in roles:
                abort(403, description=f"role {user.role} may not do this")
            return view(*args, **kwargs)

        return wrapped

    return decorate
