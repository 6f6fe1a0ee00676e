"""The links in a reporter's mails, signed like the alerts' (one salt per purpose):
confirm works for 48 hours after its mail; unsubscribe never expires (RFC 8058's one-click
link must keep working) and can only forget the address. Both name the report's row by its
random link nonce, so forgetting the address revokes them."""

import hmac
import secrets
from datetime import UTC, datetime, timedelta

from flask import current_app
from itsdangerous import BadData, URLSafeSerializer

from tracker.core import clock

SALTS = {"confirm": "report-confirm", "unsubscribe": "report-unsubscribe"}
CONFIRM_LIFETIME = timedelta(hours=48)


def new_link_nonce() -> str:
    """Return a fresh random value for a report's links."""
    return secrets.token_hex(8)


def _serializer(purpose: str) -> URLSafeSerializer:
    fallbacks = current_app.config.get("SECRET_KEY_FALLBACKS") or []
    return URLSafeSerializer([*fallbacks, current_app.config["SECRET_KEY"]], salt=SALTS[purpose])


def make_link_token(purpose: str, report_id: int, nonce: str) -> str:
    """Return the token of one of a report's links, for a mail written now."""
    payload: list[int | str] = [report_id, nonce]
    if purpose == "confirm":
        payload.append(int(clock.now().timestamp()))
    return _serializer(purpose).dumps(payload)


def read_link_token(purpose: str, token: str) -> int | None:
    """Return the report id a token of this purpose names, when it is one and still fresh."""
    try:
        value = _serializer(purpose).loads(token)
    except BadData:
        return None
    if not isinstance(value, list) or len(value) != (3 if purpose == "confirm" else 2):
        return None
    if not isinstance(value[0], int) or not isinstance(value[1], str):
        return None
    if purpose == "confirm":
        if not isinstance(value[2], int):
            return None
        if clock.now() - datetime.fromtimestamp(value[2], UTC) > CONFIRM_LIFETIME:
            return None
    return value[0]


def token_nonce(purpose: str, token: str) -> str:
    """Return the nonce a token carries ("" when it is not one)."""
    try:
        value = _serializer(purpose).loads(token)
    except BadData:
        return ""
    return (
        value[1] if isinstance(value, list) and len(value) > 1 and isinstance(value[1], str) else ""
    )


def nonce_matches(token: str, purpose: str, nonce: str) -> bool:
    """Tell whether the token was made for the row that has this nonce."""
    return hmac.compare_digest(token_nonce(purpose, token).encode(), nonce.encode())
