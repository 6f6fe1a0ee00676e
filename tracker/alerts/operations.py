"""Writes to alert subscriptions and their queue; views and the sender call these."""

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from geoalchemy2.elements import WKTElement
from sqlalchemy import ColumnElement, delete, exists, func, select
from sqlalchemy.orm import Session

from tracker.alerts.addresses import canonical_address
from tracker.alerts.models import (
    FREQUENCIES,
    MAX_EMAIL_LENGTH,
    TOPICS,
    AlertDelivery,
    AlertRequest,
    AlertSubscription,
)
from tracker.alerts.tokens import LIFETIMES, address_key
from tracker.city.places import RADIUS_CHOICES
from tracker.core import clock
from tracker.core.errors import BadInput
from tracker.core.translate import gettext as _
from tracker.words.i18n import LANGUAGES

# An unconfirmed request is forgotten, address and all, once its confirmation link has
# expired: 48 hours after the mail (or the request, when no mail went).
CONFIRM_WITHIN = LIFETIMES["confirm"] or timedelta(hours=48)
# One address (in its canonical form: victim+1@ and victim+2@ are one) gets at most this many
# mails a day that the forms ask for (confirmations, new manage links), whoever asks: nobody
# can flood someone else's mailbox through the forms.
ADDRESS_LIMIT, ADDRESS_WINDOW = 5, timedelta(days=1)
# One client may ask this often (subscriptions and new links together); more is refused
# with a message.
CLIENT_LIMIT, CLIENT_WINDOW = 10, timedelta(hours=1)
REQUEST_LOG_KEPT = timedelta(days=1)

# Plain ASCII addresses with a dotted domain: what the city's mail server can deliver.
EMAIL_PATTERN = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


class TooManyRequests(Exception):
    """This client asked for more subscriptions than the limit allows; try again later."""


@dataclass(frozen=True)
class Target:
    """What a subscription is about: one project, or a circle around a point."""

    project_id: int | None = None
    lon: float | None = None
    lat: float | None = None
    radius_m: int | None = None
    place_key: str | None = None


@dataclass(frozen=True)
class Choices:
    """What to hear about, how often and in which language."""

    topics: tuple[str, ...]
    frequency: str
    lang: str


def check_email(raw: object) -> str:
    """Return the address as given (trimmed, domain in lower case), or refuse it."""
    email = (raw or "").strip() if isinstance(raw, str) else ""
    if not email:
        raise BadInput(_("メールアドレスを入力してください"), field="email")
    if len(email) > MAX_EMAIL_LENGTH or not EMAIL_PATTERN.fullmatch(email):
        raise BadInput(
            _("メールアドレスの形式ではありません（半角英数字で、例: name@example.jp）"),
            field="email",
        )
    local, _at, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def check_choices(topics: Any, frequency: object, lang: object) -> Choices:
    """Return the chosen topics, frequency and language, or refuse them."""
    topics = tuple(t for t in TOPICS if t in set(topics or ()))
    if not topics:
        raise BadInput(_("受け取るお知らせを1つ以上選んでください"), field="topics")
    if frequency not in FREQUENCIES:
        raise BadInput(_("配信の頻度を選んでください"), field="frequency")
    if lang not in LANGUAGES:
        raise BadInput(_("メールの言語を選んでください"), field="lang")
    return Choices(topics, frequency, lang)


def check_radius(raw: Any) -> int:
    """Return a radius in metres that a subscription may have, or refuse it."""
    try:
        radius = int(float(raw))
    except (TypeError, ValueError):
        radius = None
    if radius not in RADIUS_CHOICES:
        raise BadInput(_("範囲を選んでください"), field="radius")
    return radius


def request_subscription(
    session: Session, *, email: str, target: Target, choices: Choices, client: str
) -> None:
    """Record a subscription waiting for confirmation and queue its one confirmation mail.

    The caller answers the same whatever happens here past the checks: whether the address
    is subscribed already, or has had its share of confirmation mails today, stays unknown.
    Raises TooManyRequests when this client has asked too often.
    """
    email = check_email(email)
    canonical = canonical_address(email)
    if not _log_request(session, canonical, client):
        return
    point = None
    if target.project_id is None:
        point = WKTElement(f"POINT({target.lon!r} {target.lat!r})", srid=4326)
    subscription = AlertSubscription(
        email=email,
        email_canonical=canonical,
        lang=choices.lang,
        project_id=target.project_id,
        geom=point,
        radius_m=target.radius_m if target.project_id is None else None,
        place_key=target.place_key if target.project_id is None else None,
        wants_restrictions="restrictions" in choices.topics,
        wants_start_finish="start_finish" in choices.topics,
        wants_status="status" in choices.topics,
        frequency=choices.frequency,
    )
    session.add(subscription)
    session.flush()
    session.add(AlertDelivery(subscription_id=subscription.id, kind="confirm"))
    session.flush()


def _log_request(session: Session, canonical: str, client: str) -> bool:
    """Log one request that would mail this address, and tell whether the address may still
    be mailed today. Raises TooManyRequests when the client has asked too often."""
    key = address_key(canonical)
    recent = (
        select(func.count())
        .select_from(AlertRequest)
        .where(AlertRequest.at > clock.now() - CLIENT_WINDOW, AlertRequest.client == client)
    )
    if session.execute(recent).scalar_one() >= CLIENT_LIMIT:
        raise TooManyRequests()
    session.add(AlertRequest(address_key=key, client=client))
    for_address = (
        select(func.count())
        .select_from(AlertRequest)
        .where(AlertRequest.at > clock.now() - ADDRESS_WINDOW, AlertRequest.address_key == key)
    )
    return session.execute(for_address).scalar_one() <= ADDRESS_LIMIT


def request_manage_link(
    session: Session, subscription: AlertSubscription | None, *, client: str
) -> None:
    """Queue a mail with a new manage link to a confirmed subscription's own address.

    The caller answers the same whether the subscription is gone, unconfirmed, over its
    address's daily limit or mailed: the request is logged and counted in every case.
    Raises TooManyRequests when this client has asked too often.
    """
    if subscription is None or subscription.confirmed_at is None:
        # Counted under a key no address has: the client's limit still holds.
        _log_request(session, "-", client)
        session.flush()
        return
    if not _log_request(session, subscription.email_canonical, client):
        session.flush()
        return
    already = exists().where(
        AlertDelivery.subscription_id == subscription.id,
        AlertDelivery.kind == "manage",
        AlertDelivery.status == "waiting",
    )
    if not session.scalar(select(already)):
        session.add(AlertDelivery(subscription_id=subscription.id, kind="manage"))
    session.flush()


def confirm_subscription(session: Session, subscription: AlertSubscription) -> None:
    """Make a subscription live; the same address's older one for the same target goes.

    Whether the confirmation link is still within its 48 hours is the caller's check (the
    link carries when its mail was written)."""
    if subscription.confirmed_at is not None:
        return
    subscription.confirmed_at = clock.now()
    session.flush()
    s = AlertSubscription
    same_target = (
        s.project_id == subscription.project_id
        if subscription.project_id is not None
        else (s.radius_m == subscription.radius_m) & func.ST_Equals(s.geom, subscription.geom)
    )
    older = select(s.id).where(
        s.id != subscription.id,
        s.confirmed_at.is_not(None),
        s.email_canonical == subscription.email_canonical,
        same_target,
    )
    delete_subscriptions(session, s.id.in_(older))
    session.refresh(subscription)


def change_subscription(
    session: Session, subscription: AlertSubscription, choices: Choices
) -> None:
    """Change what a subscription hears about, how often and in which language."""
    subscription.wants_restrictions = "restrictions" in choices.topics
    subscription.wants_start_finish = "start_finish" in choices.topics
    subscription.wants_status = "status" in choices.topics
    subscription.frequency = choices.frequency
    subscription.lang = choices.lang
    session.flush()


def delete_subscriptions(session: Session, where: ColumnElement[bool]) -> int:
    """Delete subscriptions, their address with them, and every mail still waiting for them."""
    ids = list(session.scalars(select(AlertSubscription.id).where(where)))
    if not ids:
        return 0
    session.execute(
        delete(AlertDelivery).where(
            AlertDelivery.subscription_id.in_(ids), AlertDelivery.status == "waiting"
        )
    )
    session.execute(delete(AlertSubscription).where(AlertSubscription.id.in_(ids)))
    session.expire_all()
    return len(ids)


def purge_expired(session: Session) -> int:
    """Forget unconfirmed requests whose confirmation link has expired (48 hours after its
    mail was sent, or after the request when none was), and the request log older than a day."""
    s, d = AlertSubscription, AlertDelivery
    since = clock.now() - CONFIRM_WITHIN
    # A mail that left late (after retries) gives its link its full 48 hours.
    mailed_lately = exists().where(
        d.subscription_id == s.id, d.kind == "confirm", d.status == "sent", d.finished_at >= since
    )
    gone = delete_subscriptions(
        session, s.confirmed_at.is_(None) & (s.created_at < since) & ~mailed_lately
    )
    session.execute(delete(AlertRequest).where(AlertRequest.at < clock.now() - REQUEST_LOG_KEPT))
    return gone
