"""The links in alert mails: one signed token per purpose, each with its own lifetime.

- confirm: [subscription id, link nonce, when the mail was written]; works for 48 hours.
- manage: the same, under another salt; works for 30 days after the mail that carried it.
  It shows the address, so it must not live for ever: an expired one offers a new one,
  mailed to the subscription's address.
- unsubscribe: [subscription id, link nonce], no expiry. RFC 8058 wants the one-click link
  of every mail ever sent to keep working while the subscription exists; all it can do is
  delete the subscription, so a leaked one harms nobody's privacy.

Each purpose signs with its own salt, so a token made for one is refused for another (the
never-expiring unsubscribe token cannot open the manage page). The link nonce is a random
value kept in the subscription's row: a token names that row, not a bare id, and deleting
the row (unsubscribing) makes every link of it stop working at once. Tokens are signed with
SECRET_KEY; keys listed in SECRET_KEY_FALLBACKS are still accepted, so the key can be
changed without breaking the unsubscribe links in people's mailboxes.

Links mailed before tokens had purposes carry the subscription id alone under the salt
"alert-subscription"; they are honoured for unsubscribing only (see `legacy_subscription_id`).
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol

from flask import current_app
from itsdangerous import BadData, URLSafeSerializer

from tracker.core import clock

Purpose = Literal["confirm", "manage", "unsubscribe"]

SALTS: dict[str, str] = {
    "confirm": "alert-confirm",
    "manage": "alert-manage",
    "unsubscribe": "alert-unsubscribe",
}
# How long a link works after the mail that carried it was written (None: for ever).
LIFETIMES: dict[str, timedelta | None] = {
    "confirm": timedelta(hours=48),
    "manage": timedelta(days=30),
    "unsubscribe": None,
}
LEGACY_SALT = "alert-subscription"
NONCE_BYTES = 8


def new_link_nonce() -> str:
    """Return a fresh link nonce for a subscription."""
    return secrets.token_hex(NONCE_BYTES)


@dataclass(frozen=True)
class Link:
    """What a signed token says: which subscription, and when its mail was written."""

    purpose: str
    subscription_id: int
    nonce: str
    issued_at: datetime | None  # None for unsubscribe links, which do not expire

    def is_fresh(self, now: datetime) -> bool:
        """Tell whether the link is still within its lifetime at `now`."""
        lifetime = LIFETIMES[self.purpose]
        if lifetime is None or self.issued_at is None:
            return lifetime is None
        return now - self.issued_at <= lifetime


def _keys() -> list[str]:
    # itsdangerous signs with the last key and accepts any of them.
    fallbacks = current_app.config.get("SECRET_KEY_FALLBACKS") or []
    return [*fallbacks, current_app.config["SECRET_KEY"]]


def _serializer(salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(_keys(), salt=salt)


def make_token(purpose: Purpose, subscription_id: int, nonce: str, now: datetime) -> str:
    """Return the token of one of a subscription's links, as written into a mail at `now`."""
    payload: list[int | str] = [subscription_id, nonce]
    if LIFETIMES[purpose] is not None:
        payload.append(int(now.timestamp()))
    return _serializer(SALTS[purpose]).dumps(payload)


class HasLinks(Protocol):
    """A subscription, as far as its links are concerned."""

    @property
    def id(self) -> int:
        """The subscription's id."""

    @property
    def link_nonce(self) -> str:
        """The random value every link of the subscription carries."""


def token_for(purpose: Purpose, sub: HasLinks) -> str:
    """Return the token of a subscription's link for a mail written now."""
    return make_token(purpose, sub.id, sub.link_nonce, clock.now())


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def read_token(purpose: Purpose, token: str) -> Link | None:
    """Return what a token of this purpose says, expired or not; None when it is not one."""
    try:
        value = _serializer(SALTS[purpose]).loads(token)
    except BadData:
        return None
    expiring = LIFETIMES[purpose] is not None
    if not isinstance(value, list) or len(value) != (3 if expiring else 2):
        return None
    if not _is_int(value[0]) or not isinstance(value[1], str):
        return None
    issued_at = None
    if expiring:
        if not _is_int(value[2]):
            return None
        issued_at = datetime.fromtimestamp(value[2], UTC)
    return Link(purpose, value[0], value[1], issued_at)


def legacy_subscription_id(token: str) -> int | None:
    """Return the subscription id of a link from before tokens had purposes, or None."""
    try:
        value = _serializer(LEGACY_SALT).loads(token)
    except BadData:
        return None
    return value if _is_int(value) else None


def nonce_matches(link: Link, nonce: str) -> bool:
    """Tell whether a link was made for the subscription row that has this nonce."""
    return hmac.compare_digest(link.nonce.encode(), nonce.encode())


def address_key(canonical_email: str) -> str:
    """Return a keyed hash of an address's canonical form: the limits count it without
    keeping it."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"alert-address:" + canonical_email.encode(), hashlib.sha256).hexdigest()
