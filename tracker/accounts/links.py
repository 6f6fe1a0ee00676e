"""One-time links sent by mail: an invitation to join (72 hours) and a password reset (1 hour).

The link carries 256 random bits; only their hash is kept. A link is used up by one
UPDATE that also checks it is unused and unexpired, so two tabs cannot both use it; a new
link of the same kind voids the person's earlier ones.
"""

import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tracker.accounts import audit
from tracker.accounts.access import hash_token
from tracker.accounts.mail import account_mail, send_after_commit
from tracker.accounts.models import AccountLink, User
from tracker.core import clock
from tracker.serving.links import external_url

LIFETIMES = {"invite": timedelta(hours=72), "reset": timedelta(hours=1)}
# Where each kind of link leads: the pages that take the token.
ENDPOINTS = {"invite": "joining.join", "reset": "account.reset"}


def issue_link(session: Session, user: User, purpose: str) -> str:
    """Return a new one-time token for the user; earlier unused ones of this kind stop working."""
    now = clock.now()
    session.execute(
        update(AccountLink)
        .where(
            AccountLink.user_id == user.id,
            AccountLink.purpose == purpose,
            AccountLink.used_at.is_(None),
        )
        .values(used_at=now)
    )
    token = secrets.token_urlsafe(32)
    session.add(
        AccountLink(
            user_id=user.id,
            purpose=purpose,
            token_hash=hash_token(token),
            expires_at=now + LIFETIMES[purpose],
        )
    )
    session.flush()
    return token


def _live(token: str, purpose: str) -> list:
    return [
        AccountLink.token_hash == hash_token(token),
        AccountLink.purpose == purpose,
        AccountLink.used_at.is_(None),
        AccountLink.expires_at > clock.now(),
    ]


def link_user(session: Session, token: str, purpose: str) -> User | None:
    """Return the person a live link is for, without using it up (to show its form)."""
    return session.scalar(
        select(User).join(AccountLink, AccountLink.user_id == User.id).where(*_live(token, purpose))
    )


def use_link(session: Session, token: str, purpose: str) -> User | None:
    """Use a live link up and return its person; None when it is unknown, used or expired."""
    user_id = session.scalar(
        update(AccountLink)
        .where(*_live(token, purpose))
        .values(used_at=clock.now())
        .returning(AccountLink.user_id)
    )
    return session.get(User, user_id) if user_id is not None else None


def link_url(purpose: str, token: str) -> str:
    """Return the absolute address of a one-time link (from PUBLIC_URL when set: a reset
    link built from a forged Host header would hand the token to whoever forged it)."""
    return external_url(ENDPOINTS[purpose], token=token)


def send_reset_link(session: Session, user: User, *, actor: User | None = None) -> None:
    """Mail the person a one-hour link to choose a new password (after commit)."""
    token = issue_link(session, user, "reset")
    if actor is not None:
        audit.record(session, "reset_sent", user=user, actor=actor)
    message = account_mail(
        user,
        "reset",
        url=link_url("reset", token),
        hours=int(LIFETIMES["reset"].total_seconds() // 3600),
    )
    send_after_commit(session, message)
