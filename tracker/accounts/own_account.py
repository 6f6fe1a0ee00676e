"""What people do to their own account: change or reset their password, see and end their
sign-in sessions, ask for a reset link when they forgot their password."""

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, and_, func, select, text, update
from sqlalchemy.orm import Session

from tracker.accounts import audit
from tracker.accounts.access import hash_token
from tracker.accounts.links import link_user, send_reset_link, use_link
from tracker.accounts.mail import account_mail, tell_account_changed
from tracker.accounts.models import AccountLink, LoginAttempt, LoginSession, User
from tracker.accounts.operations import end_sessions
from tracker.accounts.passwords import check_new_password, hash_password, verify_password
from tracker.core import clock
from tracker.core.errors import BadInput
from tracker.core.translate import gettext as _

# Reset mails asked for one e-mail address or login, and asks from one network address,
# within RESET_WINDOW: past these the same answer is given, but no mail goes (per person)
# or the asker is told to wait (per network address). Nobody can flood a mailbox.
RESET_PER_PERSON = 3
RESET_PER_ADDRESS = 10
RESET_WINDOW = timedelta(hours=1)
# Asks are counted in the sign-in throttle's table (login_attempts, kept a week), under keys
# of their own: "reset:" and a hash of what was typed (not the address itself), "reset:"
# and the network address.
RESET_KEY = "reset:"


class TooManyResets(Exception):
    """This network address asked for too many reset mails; it may ask again later."""


def change_password(
    session: Session, user: User, *, current: str, new: str, keep_session_id: int | None
) -> None:
    """Change the person's own password, after checking the current one; end their other
    sign-in sessions, write it down and tell them by mail."""
    if not verify_password(user.password_hash, current):
        raise BadInput(_("今のパスワードが違います"), field="current", code="wrong_password")
    if verify_password(user.password_hash, new):
        raise BadInput(
            _("今と同じパスワードです。別のパスワードにしてください"),
            field="password",
            code="password_unchanged",
        )
    check_new_password(new, personal=_personal(user))
    _set_password(session, user, new)
    end_sessions(session, user, keep=keep_session_id)
    audit.record(session, "password_changed", user=user)
    tell_account_changed(
        session, user, lambda: _("パスワードが変更されました。ほかの端末はログアウトしました。")
    )


def reset_password(session: Session, token: str, new: str) -> User | None:
    """Set a new password through a reset link, which is used up; every sign-in session of
    the person ends. Returns None when the link is unknown, used or expired."""
    user = _link_person(session, token)
    if user is None:
        return None
    # Checked before the link is used up: a refused password leaves the link working.
    check_new_password(new, personal=_personal(user))
    if use_link(session, token, "reset") is None:
        return None
    _set_password(session, user, new)
    end_sessions(session, user)
    audit.record(session, "password_reset", user=user)
    tell_account_changed(
        session, user, lambda: _("パスワードが再設定されました。すべての端末はログアウトしました。")
    )
    return user


def _link_person(session: Session, token: str) -> User | None:
    user = link_user(session, token, "reset")
    return user if user is not None and user.is_active else None


def _personal(user: User) -> tuple[str, ...]:
    return (user.login, user.display_name, user.email or "")


def _set_password(session: Session, user: User, new: str) -> None:
    user.password_hash = hash_password(new)
    user.password_changed_at = clock.now()
    session.flush()


def end_other_sessions(session: Session, user: User, keep: int) -> int:
    """Sign the person out on every other device ("sign out the others"); write it down."""
    ended = end_sessions(session, user, keep=keep)
    if ended:
        audit.record(session, "sessions_ended", user=user, count=ended)
    return ended


@dataclass(frozen=True)
class OwnSession:
    """One live sign-in of the person, as their sessions page shows it."""

    id: int
    device: str
    address: str
    started: datetime
    last_seen: datetime
    current: bool


def live_sessions(session: Session, user: User, current_id: int | None) -> list[OwnSession]:
    """Return the person's sign-in sessions that still sign them in, latest used first."""
    config = current_app.config
    now = clock.now()
    if user.role == "admin":
        alive = and_(
            LoginSession.created_at > now - config["ADMIN_SESSION_LIFETIME"],
            LoginSession.last_seen_at > now - config["ADMIN_SESSION_IDLE"],
        )
    else:
        alive = and_(
            LoginSession.created_at > now - current_app.permanent_session_lifetime,
            LoginSession.last_seen_at > now - config["STAFF_SESSION_IDLE"],
        )
    rows = session.scalars(
        select(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None), alive)
        .order_by(LoginSession.last_seen_at.desc(), LoginSession.id.desc())
    )
    return [
        OwnSession(
            id=row.id,
            device=describe_device(row.user_agent),
            address=row.address,
            started=row.created_at,
            last_seen=row.last_seen_at,
            current=row.id == current_id,
        )
        for row in rows
    ]


# (pattern, name), the first that matches wins: Edge and Opera also say "Chrome", Chrome
# also says "Safari", and every iPhone browser is Safari underneath but says its own name.
BROWSERS = (
    (r"Edg(e|A|iOS)?/", "Edge"),
    (r"OPR/|Opera", "Opera"),
    (r"SamsungBrowser/", "Samsung Internet"),
    (r"Firefox/|FxiOS/", "Firefox"),
    (r"Chrome/|CriOS/|Chromium/", "Chrome"),
    (r"Safari/", "Safari"),
)
SYSTEMS = (
    (r"iPhone", "iPhone"),
    (r"iPad", "iPad"),
    (r"Android", "Android"),
    (r"Windows", "Windows"),
    (r"CrOS", "ChromeOS"),
    (r"Mac OS X|Macintosh", "macOS"),
    (r"Linux", "Linux"),
)


def describe_device(user_agent: str) -> str:
    """Name a browser and its system in words people know ("Chrome, Android") from its
    User-Agent; an empty or unknown one is told as such."""
    browser = next((name for pattern, name in BROWSERS if re.search(pattern, user_agent)), None)
    system = next((name for pattern, name in SYSTEMS if re.search(pattern, user_agent)), None)
    if browser is None and system is None:
        return _("不明な端末")
    return ", ".join(part for part in (browser, system) if part)


def _find_for_reset(session: Session, identifier: str) -> User | None:
    column = User.email if "@" in identifier else User.login
    user = session.scalar(select(User).where(func.lower(column) == identifier.lower()))
    return user if user is not None and user.is_active and user.email else None


def request_reset(session: Session, identifier: str, *, address: str) -> None:
    """Mail a reset link to the active person with this e-mail address or login, if there is
    one with an address; do about the same work when there is none.

    Says nothing of whether the person exists: the caller answers the same either way.
    Raises TooManyResets when this network address asked too often (for any identifier).
    """
    identifier = identifier.strip()[:320]
    person_key = RESET_KEY + hashlib.sha256(identifier.lower().encode()).hexdigest()
    address_key = RESET_KEY + address
    # One lock per network address: asks sent together are counted one after another.
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": address_key}
    )
    since = clock.now() - RESET_WINDOW
    if _asks(session, LoginAttempt.address == address_key, since) >= RESET_PER_ADDRESS:
        raise TooManyResets()
    session.add(LoginAttempt(login=person_key, address=address_key, succeeded=False))
    session.flush()
    within_limit = _asks(session, LoginAttempt.login == person_key, since) <= RESET_PER_PERSON
    user = _find_for_reset(session, identifier)
    if user is not None and within_limit:
        send_reset_link(session, user)
    else:
        _same_work_as_a_link(session, identifier)


def _asks(session: Session, where: ColumnElement[bool], since: datetime) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(LoginAttempt).where(where, LoginAttempt.at > since)
        )
        or 0
    )


def _same_work_as_a_link(session: Session, identifier: str) -> None:
    """Do what sending a link does, to no effect: a token made and hashed, the statement
    that voids earlier links run (for nobody), the mail written (and dropped)."""
    hash_token(secrets.token_urlsafe(32))
    session.execute(
        update(AccountLink)
        .where(AccountLink.user_id == -1, AccountLink.used_at.is_(None))
        .values(used_at=clock.now())
    )
    account_mail(
        User(login=identifier, display_name="", language="ja"),
        "reset",
        url="",
        hours=int(RESET_WINDOW.total_seconds() // 3600),
    )
