"""Writes to accounts: users, API tokens, sign-in sessions and sign-in attempts."""

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tracker.accounts import audit
from tracker.accounts.access import hash_token
from tracker.accounts.models import ROLES, ApiToken, LoginSession, User
from tracker.accounts.passwords import (
    check_new_password,
    hash_password,
    needs_rehash,
    verify_password,
)
from tracker.accounts.throttle import Keys, known_device, reserve_attempt
from tracker.core import clock
from tracker.core.db import rows_changed
from tracker.core.errors import BadInput
from tracker.core.limits import DISPLAY_NAME_MAX, LOGIN_MAX, check_name
from tracker.core.translate import gettext as _

# Every API token starts with this: it says what the string is, and a token never starts
# with "-", which a command line (revoke-token TOKEN) would read as an option.
TOKEN_PREFIX = "aso_"
# A token's name says what it is for ("QGIS on the works PC").
TOKEN_NAME_MAX = 100


def create_user(
    session: Session, login: str, *, role: str, password: str, display_name: str = ""
) -> User:
    """Create a user with a hashed password."""
    login = check_name("login", login, limit=LOGIN_MAX)
    display_name = check_name("display_name", display_name, limit=DISPLAY_NAME_MAX, required=False)
    if role not in ROLES:
        raise BadInput(f"must be one of {', '.join(ROLES)}, not {role!r}", field="role")
    if session.scalar(select(User.id).where(func.lower(User.login) == login.lower())):
        raise BadInput(f"{login!r} is already taken", field="login")
    check_new_password(password, personal=(login, display_name))
    user = User(
        login=login, role=role, password_hash=hash_password(password), display_name=display_name
    )
    session.add(user)
    session.flush()
    return user


def find_user(session: Session, login: str) -> User | None:
    """Return the user with this login (any letter case), if any."""
    return session.scalar(select(User).where(func.lower(User.login) == (login or "").lower()))


def create_token(
    session: Session,
    user: User,
    *,
    name: str = "",
    expires_at: datetime | None = None,
    actor: User | None = None,
) -> str:
    """Create an API token for the user and return it; only its hash is stored.

    Its text is returned once, here, and never written anywhere: not to the audit (which
    names the token's id and name), not to a log.
    """
    name = check_name("name", name, limit=TOKEN_NAME_MAX, required=False)
    if expires_at is not None and expires_at <= clock.now():
        raise BadInput(_("有効期限は未来の日時にしてください"), field="expires_at")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user=user, token_hash=hash_token(token), name=name, expires_at=expires_at)
    session.add(row)
    session.flush()
    audit.record(session, "token_created", user=user, actor=actor, token_id=row.id, name=name)
    return token


def revoke_token(session: Session, token: str) -> bool:
    """Revoke one API token given in full; tell whether a live token was revoked."""
    row = session.scalar(
        update(ApiToken)
        .where(ApiToken.token_hash == hash_token(token.strip()), ApiToken.revoked_at.is_(None))
        .values(revoked_at=clock.now())
        .returning(ApiToken)
    )
    if row is None:
        return False
    audit.record(session, "token_revoked", user=row.user, token_id=row.id, name=row.name)
    return True


def revoke_own_token(session: Session, user: User, token_id: int) -> ApiToken | None:
    """Revoke one of the user's own live tokens by its id; return it, or None if there is
    no such live token of theirs."""
    row = session.scalar(
        update(ApiToken)
        .where(
            ApiToken.id == token_id,
            ApiToken.user_id == user.id,
            ApiToken.revoked_at.is_(None),
        )
        .values(revoked_at=clock.now())
        .returning(ApiToken)
    )
    if row is not None:
        audit.record(session, "token_revoked", user=user, token_id=row.id, name=row.name)
    return row


def revoke_user_tokens(session: Session, user: User) -> int:
    """Revoke every live API token of a user; return how many."""
    rows = session.scalars(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=clock.now())
        .returning(ApiToken)
    ).all()
    for row in rows:
        audit.record(session, "token_revoked", user=user, token_id=row.id, name=row.name)
    return len(rows)


# What a sign-in session keeps of the browser: enough to tell devices apart.
USER_AGENT_MAX = 300
ADDRESS_MAX = 100


def start_login_session(
    session: Session, user: User, *, user_agent: str = "", address: str = ""
) -> str:
    """Open a sign-in session for the user and return the id the cookie carries.

    The browser's User-Agent and address are kept so that the person can tell their
    sessions apart; the person's last sign-in is stamped.
    """
    sid = secrets.token_urlsafe(32)
    session.add(
        LoginSession(
            user=user,
            token_hash=hash_token(sid),
            user_agent=(user_agent or "")[:USER_AGENT_MAX],
            address=(address or "")[:ADDRESS_MAX],
        )
    )
    user.last_sign_in_at = clock.now()
    session.flush()
    return sid


def end_login_session(session: Session, sid: str) -> None:
    """End a sign-in session, so that its cookie no longer signs anyone in."""
    session.execute(
        update(LoginSession)
        .where(LoginSession.token_hash == hash_token(sid), LoginSession.ended_at.is_(None))
        .values(ended_at=clock.now())
    )


@dataclass(frozen=True)
class PasswordCheck:
    """What a sign-in's password step found: the user (None: wrong login or password), the
    browser's known device id, and the try's row in the throttle, to be marked a success
    (mark_succeeded) once the whole sign-in is through."""

    user: User | None
    device: str | None
    attempt_id: int


def end_sessions(session: Session, user: User, *, keep: int | None = None) -> int:
    """End the person's sign-in sessions, all but `keep`; return how many ended."""
    result = session.execute(
        update(LoginSession)
        .where(
            LoginSession.user_id == user.id,
            LoginSession.ended_at.is_(None),
            LoginSession.id != (keep if keep is not None else -1),
        )
        .values(ended_at=clock.now())
    )
    return rows_changed(result)


def authenticate(
    session: Session,
    login: str | None,
    password: str,
    *,
    address: str,
    device_cookie: str | None = None,
) -> PasswordCheck:
    """Check a sign-in's login and password, or raise LoginThrottled.

    The try stays counted as failed: the caller marks it a success when the sign-in is
    complete, at once or after the second factor.
    """
    login = (login or "").strip()
    if len(login) > LOGIN_MAX:
        # No user has such a login; refused before anything is looked up or written down.
        raise BadInput(_("ログイン名は%(n)d文字までです", n=LOGIN_MAX), field="login")
    user = find_user(session, login)
    device = known_device(device_cookie, user)
    attempt = reserve_attempt(session, Keys(login=login.lower(), address=address, device=device))
    usable = user is not None and user.is_active
    if not verify_password(user.password_hash if user is not None and usable else None, password):
        return PasswordCheck(None, device, attempt.id)
    if user is None:  # verify_password refused the missing user's hash just above
        raise RuntimeError("a password was accepted for no user")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    session.flush()
    return PasswordCheck(user, device, attempt.id)
