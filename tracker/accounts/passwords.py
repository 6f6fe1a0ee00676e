"""Password hashing with Argon2id (argon2-cffi's RFC 9106 defaults)."""

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified against when the login is unknown, so that a wrong login costs as long as a
# wrong password and the answer time does not tell which logins exist.
_DUMMY_HASH = _hasher.hash("no such user")

MIN_LENGTH = 10


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


def generate_password() -> str:
    """Return a new random password that is easy to type from a printout (16 characters)."""
    return secrets.token_urlsafe(12)
