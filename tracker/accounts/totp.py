"""Codes from an authenticator app (TOTP, RFC 6238): the secret, its QR code, and the check.

A code is accepted for the time-step it belongs to or one step either side (a phone's clock
a little off), and once only: the step of the last accepted code is stored with the person,
and a code of that step or an earlier one is refused. The secret and the codes are never
logged.
"""

import hmac
import re

import pyotp
import segno
from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from tracker.accounts.models import User
from tracker.core import clock
from tracker.core.db import rows_changed

STEP_SECONDS = 30
# Steps either side of now whose code is still accepted.
VALID_WINDOW = 1
ISSUER = "Aso City recovery works"
CODE = re.compile(r"\d{6}")


def new_secret() -> str:
    """Return a new random secret (base32), to be confirmed with a first code before it is kept."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, user: User) -> str:
    """Return the otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.login, issuer_name=ISSUER)


def qr_data_uri(secret: str, user: User) -> str:
    """Return the QR code of the secret as an SVG data: URL (the page's CSP allows data: images)."""
    return segno.make(provisioning_uri(secret, user), error="m").svg_data_uri(
        scale=5, border=4, dark="#000", light="#fff"
    )


def grouped(secret: str) -> str:
    """Return the secret in groups of four letters, easier to type into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def looks_like_code(text: str) -> bool:
    """Tell whether what someone typed has the shape of an app's code (six digits)."""
    return CODE.fullmatch(normalized(text)) is not None


def normalized(text: str) -> str:
    """Return a typed code without the spaces some apps show in the middle."""
    return re.sub(r"\s", "", text or "")


def matching_step(secret: str, code: str) -> int | None:
    """Return the time-step, within the window around now, whose code this is; or None."""
    code = normalized(code)
    if CODE.fullmatch(code) is None:
        return None
    totp = pyotp.TOTP(secret)
    now_step = int(clock.now().timestamp()) // STEP_SECONDS
    found = None
    # Every step is compared (no early exit), in constant time each.
    for step in range(now_step - VALID_WINDOW, now_step + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


def use_code(session: Session, user: User, code: str, secret: str | None = None) -> bool:
    """Check a code against the person's secret (or a new one being confirmed) and spend it.

    True only if the code is right and of a later step than any accepted before; the step
    is recorded in the same atomic UPDATE, so two requests with one code cannot both pass.
    """
    secret = secret or user.totp_secret
    if not secret:
        return False
    step = matching_step(secret, code)
    if step is None:
        return False
    result = session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(result) != 1:
        return False
    session.refresh(user, ["totp_last_step"])
    return True
