"""Who is asking: the signed-in user or the API token's owner, and what they may do."""

import hashlib
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from flask import Response, abort, current_app, g, jsonify, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import Update, and_, or_, select, update

from tracker.accounts.models import ROLES, ApiToken, LoginSession, User
from tracker.core import clock
from tracker.core.db import get_session, reads_from_replica
from tracker.core.errors import wants_json
from tracker.core.translate import gettext as _
from tracker.serving.request_log import auth_event

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


def signed_in() -> bool:
    """Tell whether a staff member or a token is behind this request."""
    return current_user() is not None


def idle_limit(user: User) -> timedelta:
    """Return how long this person's sign-in lasts without a request."""
    config = current_app.config
    return config["ADMIN_SESSION_IDLE"] if user.role == "admin" else config["STAFF_SESSION_IDLE"]


def current_login_session_id() -> int | None:
    """Return the id of the sign-in session (login_sessions row) this request came with."""
    current_user()
    return g.get("login_session_id")


def _user_from_session() -> User | None:
    sid = session.get(SESSION_KEY)
    if not sid:
        return None
    config = current_app.config
    admin = User.role == "admin"
    # Admins can change everything, so their sign-in ends sooner: after ADMIN_SESSION_LIFETIME,
    # or ADMIN_SESSION_IDLE without a request. Others keep theirs for two weeks (a phone on
    # site stays signed in between visits), unless unused for STAFF_SESSION_IDLE (OWASP
    # ASVS V3.3: every session has an idle timeout).
    now = clock.now()
    alive = or_(
        and_(
            ~admin,
            LoginSession.created_at > now - current_app.permanent_session_lifetime,
            LoginSession.last_seen_at > now - config["STAFF_SESSION_IDLE"],
        ),
        and_(
            admin,
            LoginSession.created_at > now - config["ADMIN_SESSION_LIFETIME"],
            LoginSession.last_seen_at > now - config["ADMIN_SESSION_IDLE"],
        ),
    )
    row = (
        get_session()
        .execute(
            select(User, LoginSession.id, LoginSession.last_seen_at)
            .join(LoginSession, LoginSession.user_id == User.id)
            .where(
                LoginSession.token_hash == hash_token(sid),
                LoginSession.ended_at.is_(None),
                User.is_active.is_(True),
                alive,
            )
        )
        .first()
    )
    if row is None:
        return None
    g.login_session_id = row[1]
    # At most one write a minute per session, not one per request: the idle time runs from
    # the last use written down, which the page's warning is told (see security.py).
    refreshed = row[2] < now - timedelta(minutes=1)
    g.login_session_last_use = now if refreshed else row[2]
    _note_use(
        update(LoginSession)
        .where(
            LoginSession.id == row[1],
            LoginSession.last_seen_at < now - timedelta(minutes=1),
        )
        .values(last_seen_at=now)
    )
    return row[0]


def _user_from_token(token: str) -> User | None:
    if not token:
        return None
    row = (
        get_session()
        .execute(
            select(User, ApiToken.id, ApiToken.expires_at)
            .join(ApiToken, ApiToken.user_id == User.id)
            .where(
                ApiToken.token_hash == hash_token(token),
                ApiToken.revoked_at.is_(None),
                User.is_active.is_(True),
            )
        )
        .first()
    )
    if row is None:
        auth_event("token refused", path=request.path)
        return None
    user, token_id, expires_at = row
    now = clock.now()
    if expires_at is not None and expires_at <= now:
        g.token_expired = True
        auth_event("token refused (expired)", user=user.id, token=token_id, path=request.path)
        return None
    auth_event("token used", user=user.id, token=token_id, path=request.path)
    # At most one write a minute per token, as for sessions.
    _note_use(
        update(ApiToken)
        .where(
            ApiToken.id == token_id,
            or_(
                ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - timedelta(minutes=1)
            ),
        )
        .values(last_used_at=now)
    )
    return user


def _note_use(statement: Update) -> None:
    """Write when a session or token was last used: on the primary, also for a request that
    reads the read-only replica (its session cannot write)."""
    if not reads_from_replica():
        get_session().execute(statement)
        return
    with current_app.extensions["db_sessionmaker"]() as primary:
        primary.execute(statement)
        primary.commit()


def unauthorized(message: str, code: str = "unauthorized") -> Response:
    """Return a 401 answer that names the scheme to use (RFC 6750) and says what is missing.

    `code` is the stable word for programs; "invalid_token" is also RFC 6750's error code,
    told in the WWW-Authenticate header.
    """
    response = jsonify(error=message, code=code)
    response.status_code = 401
    challenge = 'Bearer realm="aso-tracker"'
    if code == "invalid_token":
        challenge += ', error="invalid_token"'
    response.headers["WWW-Authenticate"] = challenge
    return response


def can_see_private() -> bool:
    """Tell whether the caller may see staff-only projects and internal fields."""
    user = current_user()
    return user is not None and user.role in ROLES


def can_see_withdrawn() -> bool:
    """Tell whether the caller may open a withdrawn work's own page: those who may restore
    it (staff and admins). Lists never show one, to anyone."""
    user = current_user()
    return user is not None and user.role in ("staff", "admin")


def roles_required(
    *roles: str,
) -> Callable[[Callable[..., ResponseReturnValue]], Callable[..., ResponseReturnValue]]:
    """Let only signed-in users with one of these roles through: 401 anonymous, 403 others."""

    def decorate(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> ResponseReturnValue:
            user = current_user()
            if user is None:
                auth_event("permission refused", status=401, path=request.path)
                if wants_json() or bearer_token() is not None:
                    abort(
                        unauthorized(
                            _("ログインするか、Authorization: Bearer <トークン> を送ってください")
                        )
                    )
                return redirect(url_for("accounts.login", next=request.full_path))
            if user.role not in roles:
                auth_event(
                    "permission refused",
                    status=403,
                    path=request.path,
                    user=user.id,
                    role=user.role,
                )
                abort(
                    403,
                    description=_(
                        "この操作はできません（あなたの役割：%(role)s）", role=_(ROLES[user.role])
                    ),
                )
            return view(*args, **kwargs)

        return wrapped

    return decorate
