"""Writes to accounts: users, API tokens, sign-in sessions and sign-in attempts."""

import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from tracker.accounts.access import hash_token
from tracker.accounts.models import ROLES, ApiToken, LoginAttempt, LoginSession, User
from tracker.accounts.passwords import (
    MIN_LENGTH,
    hash_password,
    needs_rehash,
    verify_password,
)
from tracker.errors import BadInput

# After MAX_FAILURES failed tries within FAILURE_WINDOW for one login or one address,
# every try for it is refused until LOCKOUT after the last of them.
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=1)
LOCKOUT = timedelta(minutes=5)
# Attempts are only needed for the throttle; a week is kept to look into an attack.
KEEP_ATTEMPTS = timedelta(days=7)


class LoginThrottled(Exception):
    """Too many failed sign-ins for this login or address; `until` says when tries resume."""

    def __init__(self, until: datetime):
        super().__init__(f"sign-in refused until {until.isoformat()}")
        self.until = until


def create_user(
    session: Session, login: str, *, role: str, password: str, display_name: str = ""
) -> User:
    """Create a user with a hashed password."""
    login = (login or "").strip()
    if not login:
        raise BadInput("login: a user needs a login name")
    if role not in ROLES:
        raise BadInput(f"role: must be one of {', '.join(ROLES)}, not {role!r}")
    if len(password) < MIN_LENGTH:
        raise BadInput(f"password: use at least {MIN_LENGTH} characters")
    if session.scalar(select(User.id).where(func.lower(User.login) == login.lower())):
        raise BadInput(f"login: {login!r} is already taken")
    user = User(
        login=login, role=role, password_hash=hash_password(password), display_name=display_name
    )
    session.add(user)
    session.flush()
    return user


def find_user(session: Session, login: str) -> User | None:
    """Return the user with this login (any letter case), if any."""
    return session.scalar(select(User).where(func.lower(User.login) == (login or "").lower()))


def create_token(session: Session, user: User) -> str:
    """Create an API token for the user and return it; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    session.add(ApiToken(user=user, token_hash=hash_token(token)))
    session.flush()
    return token


def revoke_token(session: Session, token: str) -> bool:
    """Revoke one API token given in full; tell whether a live token was revoked."""
    result = session.execute(
        update(ApiToken)
        .where(ApiToken.token_hash == hash_token(token.strip()), ApiToken.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )
    return result.rowcount > 0


def revoke_user_tokens(session: Session, user: User) -> int:
    """Revoke every live API token of a user; return how many."""
    result = session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )
    return result.rowcount


def start_login_session(session: Session, user: User) -> str:
    """Open a sign-in session for the user and return the id the cookie carries."""
    sid = secrets.token_urlsafe(32)
    session.add(LoginSession(user=user, token_hash=hash_token(sid)))
    session.flush()
    return sid


def end_login_session(session: Session, sid: str) -> None:
    """End a sign-in session, so that its cookie no longer signs anyone in."""
    session.execute(
        update(LoginSession)
        .where(LoginSession.token_hash == hash_token(sid), LoginSession.ended_at.is_(None))
        .values(ended_at=func.now())
    )


def locked_until(session: Session, login: str, address: str) -> datetime | None:
    """Return when sign-in tries resume for this login or address, if they are refused now."""
    # A window count over each failure finds any run of MAX_FAILURES within FAILURE_WINDOW;
    # the lockout runs from the last failure of such a run.
    query = text(
        """
        SELECT max(at) + :lockout FROM (
            SELECT at, count(*) OVER (
                ORDER BY at RANGE BETWEEN :window PRECEDING AND CURRENT ROW) AS n
            FROM login_attempts
            WHERE NOT succeeded AND {column} = :value AND at > now() - :lookback
        ) AS runs
        WHERE n >= :max_failures
        """
    )
    params = {
        "lockout": LOCKOUT,
        "window": FAILURE_WINDOW,
        "lookback": LOCKOUT + FAILURE_WINDOW,
        "max_failures": MAX_FAILURES,
    }
    now = session.scalar(select(func.now()))
    ends = [
        session.scalar(text(query.text.format(column=column)), params | {"value": value})
        for column, value in (("login", login.lower()), ("address", address))
    ]
    ends = [end for end in ends if end is not None and end > now]
    return max(ends) if ends else None


def authenticate(session: Session, login: str, password: str, *, address: str) -> User | None:
    """Check a sign-in: the user, None for a wrong login or password, or LoginThrottled."""
    login = (login or "").strip()
    until = locked_until(session, login, address)
    if until is not None:
        raise LoginThrottled(until)
    user = find_user(session, login)
    usable = user is not None and user.is_active
    ok = verify_password(user.password_hash if usable else None, password)
    session.add(LoginAttempt(login=login.lower(), address=address, succeeded=ok))
    session.execute(
        LoginAttempt.__table__.delete().where(LoginAttempt.at < func.now() - KEEP_ATTEMPTS)
    )
    if not ok:
        session.flush()
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    session.flush()
    return user


def set_password(session: Session, user: User, password: str) -> None:
    """Replace a user's password."""
    if len(password) < MIN_LENGTH:
        raise BadInput(f"password: use at least {MIN_LENGTH} characters")
    user.password_hash = hash_password(password)
    session.flush()
