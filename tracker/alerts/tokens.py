"""The secret link of a subscription: confirm, manage and unsubscribe all carry it.

It is the subscription's id signed with SECRET_KEY, so nothing secret is stored and the
sender can write it into every mail; a changed SECRET_KEY makes old links stop working.
"""

import hashlib
import hmac

from flask import current_app
from itsdangerous import BadData, URLSafeSerializer

SALT = "alert-subscription"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def subscription_token(subscription_id: int) -> str:
    """Return the token of a subscription's links."""
    return _serializer().dumps(subscription_id)


def subscription_id_from(token: str) -> int | None:
    """Return the subscription id a token names, or None when it is not one of ours."""
    try:
        value = _serializer().loads(token)
    except BadData:
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def address_key(email: str) -> str:
    """Return a keyed hash of an address: the rate limit counts it without keeping it."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"alert-address:" + email.lower().encode(), hashlib.sha256).hexdigest()
