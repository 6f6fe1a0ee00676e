"""Password hashing with Argon2id (argon2-cffi's RFC 9106 defaults), and the rule for new ones."""

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from tracker.core.errors import BadInput
from tracker.core.translate import gettext as _

_hasher = PasswordHasher()
# Verified against when the login is unknown, so that a wrong login costs as long as a
# wrong password and the answer time does not tell which logins exist.
_DUMMY_HASH = _hasher.hash("no such user")

# OWASP ASVS 4.0.3 V2.1: at least 12 characters; long passphrases welcome.
MIN_LENGTH = 12
MAX_LENGTH = 256
# zxcvbn's score from 0 (guessed at once) to 4; 3 is "safely unguessable" for an online attack.
MIN_STRENGTH = 3
# zxcvbn's time grows with the length; what lies past this many characters only adds strength.
STRENGTH_CHECKED_LENGTH = 100


def hash_password(password: str) -> str:
    """Return the Argon2id hash of a password."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Tell whether the password matches the hash; a missing or unusable hash never matches."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Tell whether the hash was made with weaker parameters than today's."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def check_new_password(password: str, *, personal: tuple[str, ...] = ()) -> str:
    """Return a new password if it is long and strong enough, or say what is wrong with it.

    `personal` holds the person's own words (login, name, e-mail address): a password built
    on them is weak whatever its length.
    """
    if len(password) < MIN_LENGTH:
        raise BadInput(
            _("パスワードは%(n)d文字以上にしてください", n=MIN_LENGTH), field="password",
            code="password_too_short",
        )  # fmt: skip
    if len(password) > MAX_LENGTH:
        raise BadInput(
            _("パスワードは%(n)d文字までです", n=MAX_LENGTH), field="password",
            code="password_too_long",
        )  # fmt: skip
    words = [w for w in personal if w]
    words += [part for w in words if "@" in w for part in w.split("@")]
    strength = zxcvbn(password[:STRENGTH_CHECKED_LENGTH], user_inputs=words)
    if strength["score"] < MIN_STRENGTH:
        raise BadInput(
            _(
                "推測されやすいパスワードです（よく使われる語や並び、ログイン名や名前を含むなど）。"
                "無関係な語をいくつか並べるなど、別のパスワードにしてください"
            ),
            field="password",
            code="password_weak",
        )
    return password


def generate_password() -> str:
    """Return a new random password that is easy to type from a printout (16 characters)."""
    return secrets.token_urlsafe(12)
