"""Recovery codes: ten single-use codes that stand in for the second factor when the phone
or the passkey is lost.

A code is ten random characters (50 bits) shown once, in two groups of five; only a hash is
kept. Such a code cannot be guessed through the sign-in throttle, so a fast hash (SHA-256,
with the person's id) is enough, and a sign-in checks all ten in one query. A code is spent
by one atomic UPDATE ... WHERE used_at IS NULL: two requests with one code cannot both pass.
"""

import hashlib
import re
import secrets

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from tracker.accounts.audit import record
from tracker.accounts.models import RecoveryCode, User
from tracker.core import clock

HOW_MANY = 10
# No 0/o, 1/l/i: letters people mistake for one another when they copy a code from paper.
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
LENGTH = 10
GROUP = 5


def _hash(user: User, code: str) -> str:
    return hashlib.sha256(f"{user.id}:{normalized(code)}".encode()).hexdigest()


def normalized(code: str) -> str:
    """Return a typed code in the stored form: lower case, no spaces or hyphens."""
    return re.sub(r"[\s-]", "", code or "").lower()


def make_codes(session: Session, user: User) -> list[str]:
    """Replace the person's recovery codes with ten new ones and return them (shown once)."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(HOW_MANY):
        raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        codes.append(f"{raw[:GROUP]}-{raw[GROUP:]}")
    session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash(user, code)) for code in codes)
    record(session, "recovery_codes_made", user=user)
    return codes


def forget_codes(session: Session, user: User) -> None:
    """Delete the person's recovery codes (no second factor is left for them to stand in for)."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def codes_left(session: Session, user: User) -> int:
    """Return how many of the person's recovery codes are still unused."""
    return (
        session.scalar(
            select(func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )


def looks_like_code(text: str) -> bool:
    """Tell whether what someone typed has the shape of a recovery code."""
    code = normalized(text)
    return len(code) == LENGTH and all(c in ALPHABET for c in code)


def use_code(session: Session, user: User, code: str) -> bool:
    """Spend one of the person's unused recovery codes; tell whether it was one."""
    if not looks_like_code(code):
        return False
    spent = session.scalar(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hash(user, code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=clock.now())
        .returning(RecoveryCode.id)
    )
    if spent is None:
        return False
    record(session, "recovery_code_used", user=user)
    return True
