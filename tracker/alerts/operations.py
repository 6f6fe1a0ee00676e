"""Writes to alert subscriptions and their queue; views and the sender call these."""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from geoalchemy2.elements import WKTElement
from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from tracker.alerts.models import (
    FREQUENCIES,
    MAX_EMAIL_LENGTH,
    TOPICS,
    AlertDelivery,
    AlertRequest,
    AlertSubscription,
)
from tracker.alerts.tokens import address_key
from tracker.city.places import RADIUS_CHOICES
from tracker.core import clock
from tracker.core.errors import BadInput
from tracker.words.i18n import LANGUAGES

# An unconfirmed request is forgotten, address and all, after this.
CONFIRM_WITHIN = timedelta(hours=48)
# One address gets at most this many confirmation mails a day, whoever asks: nobody can
# flood someone else's mailbox through the form.
ADDRESS_LIMIT, ADDRESS_WINDOW = 5, timedelta(days=1)
# One client may ask this often; more is refused with a message.
CLIENT_LIMIT, CLIENT_WINDOW = 10, timedelta(hours=1)
REQUEST_LOG_KEPT = timedelta(days=1)

# Plain ASCII addresses with a dotted domain: what the city's mail server can deliver.
EMAIL_PATTERN = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


class TooManyRequests(Exception):
    """This client asked for more subscriptions than the limit allows; try again later."""


class ConfirmationExpired(Exception):
    """The confirmation link was followed more than 48 hours after the request."""


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
    key = address_key(email)
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
    if session.execute(for_address).scalar_one() > ADDRESS_LIMIT:
        return
    point = None
    if target.project_id is None:
        point = WKTElement(f"POINT({target.lon!r} {target.lat!r})", srid=4326)
    subscription = AlertSubscription(
        email=email,
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


def is_expired(subscription: AlertSubscription, now: datetime) -> bool:
    """Tell whether an unconfirmed subscription is past its 48 hours."""
    return subscription.confirmed_at is None and subscription.created_at < now - CONFIRM_WITHIN


def confirm_subscription(session: Session, subscription: AlertSubscription) -> None:
    """Make a subscription live; the same address's older one for the same target goes."""
    if subscription.confirmed_at is not None:
        return
    if is_expired(subscription, clock.now()):
        raise ConfirmationExpired()
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
        func.lower(s.email) == subscription.email.lower(),
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
    """Forget unconfirmed requests older than 48 hours and the request log older than a day."""
    s = AlertSubscription
    gone = delete_subscriptions(
        session, s.confirmed_at.is_(None) & (s.created_at < clock.now() - CONFIRM_WITHIN)
    )
    session.execute(delete(AlertRequest).where(AlertRequest.at < clock.now() - REQUEST_LOG_KEPT))
    return gone
