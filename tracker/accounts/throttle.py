"""The sign-in throttle: counted in the database, race-free, progressive, and never a lock-out
of a browser its owner signed in with before.

Every try is written down as a failure *before* the password is checked, under a lock per
counted key, and committed at once: thirty tries sent together are counted one after another,
so only as many passwords are checked as the limit allows. A right password turns its row
into a success afterwards — or, for a person with a second factor, the right code does. A
code from the authenticator app or a recovery code is a try of its own, counted under the
same keys: wrong codes and wrong passwords add up.

Tries are counted per login and per address. A browser that signed in before carries a
signed device cookie; its tries are counted per device instead, so guesses sent from
elsewhere slow the guesser down, never the person who owns the account.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, text, update
from sqlalchemy.orm import Session

from tracker.accounts.models import LoginAttempt, User
from tracker.core import clock

# MAX_FAILURES failed tries within FAILURE_WINDOW for one key refuse its tries for LOCKOUT
# after the last of them; each further MAX_FAILURES failures since the key's last success
# (within a day) double that time, up to MAX_LOCKOUT.
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=1)
LOCKOUT = timedelta(minutes=5)
MAX_LOCKOUT = timedelta(hours=1)
PROGRESSION_PERIOD = timedelta(days=1)
# Attempts are only needed for the throttle; a week is kept to look into an attack.
KEEP_ATTEMPTS = timedelta(days=7)

DEVICE_COOKIE = "device"
DEVICE_COOKIE_MAX_AGE = 365 * 24 * 3600


class LoginThrottled(Exception):
    """Too many failed sign-ins for this login, address or device; `until` says when tries resume."""

    def __init__(self, until: datetime) -> None:
        super().__init__(f"sign-in refused until {until.isoformat()}")
        self.until = until


@dataclass(frozen=True)
class Keys:
    """What one try is counted under: (column, value) pairs of login_attempts."""

    login: str
    address: str
    device: str | None

    def counted(self) -> list[tuple[str, str]]:
        """Return the keys whose counts decide: the device alone when it is a known one."""
        if self.device is not None:
            return [("device", self.device)]
        return [("address", self.address), ("login", self.login)]


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="sign-in-device")


def new_device_cookie(user: User, device: str | None) -> str:
    """Return a signed device cookie value for a user who just signed in (keeping its id)."""
    return _serializer().dumps({"d": device or secrets.token_urlsafe(16), "u": user.id})


def known_device(cookie: str | None, user: User | None) -> str | None:
    """Return the device id of a cookie this user's browser got at an earlier sign-in, if valid."""
    if not cookie or user is None:
        return None
    try:
        data = _serializer().loads(cookie)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("u") != user.id or not isinstance(data.get("d"), str):
        return None
    return data["d"]


_FAILURES = """
    WITH last_success AS (
        SELECT coalesce(max(at), '-infinity') AS since FROM login_attempts
        WHERE succeeded AND {column} = :value AND at > :now - :period
    ), failures AS (
        SELECT a.at FROM login_attempts a, last_success
        WHERE NOT a.succeeded AND a.{column} = :value AND a.at > :now - :period
          AND a.at > last_success.since
    ), runs AS (
        SELECT at, count(*) OVER (
            ORDER BY at RANGE BETWEEN :window PRECEDING AND CURRENT ROW) AS n
        FROM failures
    )
    SELECT (SELECT max(at) FROM runs WHERE n >= :max_failures),
           (SELECT count(*) FROM failures)
"""


def _lockout(failures: int) -> timedelta:
    doublings = max(0, failures - MAX_FAILURES) // MAX_FAILURES
    return min(LOCKOUT * 2 ** min(doublings, 10), MAX_LOCKOUT)


def refused_until(session: Session, keys: Keys) -> datetime | None:
    """Return when tries resume for these keys, if they are refused now."""
    # A window count over each failure finds any run of MAX_FAILURES within FAILURE_WINDOW;
    # the lock-out runs from the last failure of such a run.
    params = {
        "period": PROGRESSION_PERIOD,
        "window": FAILURE_WINDOW,
        "max_failures": MAX_FAILURES,
        "now": clock.now(),
    }
    ends = []
    for column, value in keys.counted():
        run_end, failures = session.execute(
            text(_FAILURES.format(column=column)), params | {"value": value}
        ).one()
        if run_end is not None and run_end + _lockout(failures) > params["now"]:
            ends.append(run_end + _lockout(failures))
    return max(ends) if ends else None


def reserve_attempt(session: Session, keys: Keys) -> LoginAttempt:
    """Count a try as failed before its password is checked, or raise LoginThrottled.

    Commits: the count must hold for every other worker before any password is checked,
    whatever happens to this request afterwards.
    """
    # One lock per key, taken in a fixed order, makes tries for the same key queue up
    # here; the lock is held only until the commit below.
    for column, value in sorted(keys.counted()):
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": f"sign-in:{column}:{value}"},
        )
    until = refused_until(session, keys)
    if until is not None:
        session.commit()  # releases the locks
        raise LoginThrottled(until)
    attempt = LoginAttempt(
        login=keys.login,
        address=keys.address,
        device=keys.device,
        succeeded=False,
        # The moment of the try, not of its transaction's start: tries keep their order.
        at=clock.now(),
    )
    session.add(attempt)
    session.execute(
        delete(LoginAttempt)
        .where(LoginAttempt.at < clock.now() - KEEP_ATTEMPTS)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return attempt


def mark_succeeded(session: Session, attempt_id: int) -> None:
    """Record that a reserved try signed the person in (password, and second factor if any).

    A right password whose second factor is still awaited stays counted as a failure: five
    right passwords without a right code throttle like five wrong ones.
    """
    session.execute(
        update(LoginAttempt).where(LoginAttempt.id == attempt_id).values(succeeded=True)
    )
