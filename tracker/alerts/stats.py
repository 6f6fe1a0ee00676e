"""Counts for admins: subscriptions, and mails sent, waiting and failed per day; the failed
mails with the server's reason. No addresses: any in a reason are masked."""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import (
    ColumnElement,
    Date,
    SQLColumnExpression,
    case,
    cast,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from tracker.alerts.models import AlertDelivery, AlertSubscription
from tracker.core import clock

DAYS_SHOWN = 30
FAILED_SHOWN = 50
# An address inside a mail server's answer ("550 5.1.1 <someone@example.jp>: unknown").
ADDRESS = re.compile(r"[^\s<>\"']+@[^\s<>\"']+")


@dataclass(frozen=True)
class FailedMail:
    """One mail given up, and why; `subscription_gone` when it can no longer be sent again."""

    id: int
    finished_at: datetime
    kind: str
    attempts: int
    reason: str
    subscription_gone: bool


def failed_mails(session: Session, limit: int = FAILED_SHOWN) -> list[FailedMail]:
    """Return the latest mails given up, newest first, with the addresses in reasons masked."""
    rows = session.execute(
        select(
            AlertDelivery.id,
            AlertDelivery.subscription_id,
            AlertDelivery.finished_at,
            AlertDelivery.kind,
            AlertDelivery.attempts,
            AlertDelivery.last_error,
        )
        .where(AlertDelivery.status == "failed")
        .order_by(AlertDelivery.finished_at.desc(), AlertDelivery.id.desc())
        .limit(limit)
    ).all()
    return [
        FailedMail(
            id=row.id,
            finished_at=row.finished_at,
            kind=row.kind,
            attempts=row.attempts,
            reason=mask_addresses(row.last_error or ""),
            subscription_gone=row.subscription_id is None,
        )
        for row in rows
    ]


def mask_addresses(text: str) -> str:
    """Replace every e-mail address in text by "…@domain"."""
    return ADDRESS.sub(lambda m: "…@" + m.group(0).rpartition("@")[2], text)


@dataclass(frozen=True)
class SubscriptionCounts:
    """How many subscriptions there are, of which kind and language."""

    confirmed: int
    waiting_confirmation: int
    areas: int
    projects: int
    japanese: int
    english: int


def subscription_counts(session: Session) -> SubscriptionCounts:
    """Count subscriptions; confirmed ones by kind and language."""
    s = AlertSubscription
    confirmed = s.confirmed_at.is_not(None)
    row = session.execute(
        select(
            func.count().filter(confirmed),
            func.count().filter(~confirmed),
            func.count().filter(confirmed, s.project_id.is_(None)),
            func.count().filter(confirmed, s.project_id.is_not(None)),
            func.count().filter(confirmed, s.lang == "ja"),
            func.count().filter(confirmed, s.lang == "en"),
        )
    ).one()
    return SubscriptionCounts(*row)


@dataclass(frozen=True)
class DayCounts:
    """Mails of one day (Japan time): sent and failed that day, waiting to go out that day."""

    day: date
    sent: int
    waiting: int
    failed: int


def _day(column: SQLColumnExpression[datetime | None]) -> ColumnElement[date]:
    return cast(func.timezone("Asia/Tokyo", column), Date)


def mails_by_day(session: Session, days: int = DAYS_SHOWN) -> list[DayCounts]:
    """Count mails per day, newest first: a digest is one mail, however many changes it has."""
    d = AlertDelivery
    # From the start of that day in Japan, the days the table shows.
    since = datetime.combine(clock.today() - timedelta(days=days), time(), clock.JST)
    # A sent or failed mail is its Message-ID; a waiting one is one delivery, or one digest
    # per subscription and due time.
    finished = select(
        _day(d.finished_at).label("day"),
        d.status.label("status"),
        func.coalesce(d.message_id, func.concat("x", d.id)).label("mail"),
    ).where(d.status.in_(("sent", "failed")), d.finished_at >= since)
    waiting = select(
        _day(d.due_at).label("day"),
        literal("waiting").label("status"),
        case(
            (d.digest, func.concat("d", d.subscription_id, "@", d.due_at)),
            else_=func.concat("i", d.id),
        ).label("mail"),
    ).where(d.status == "waiting")
    mails = union_all(finished, waiting).subquery("mails")
    rows = session.execute(
        select(
            mails.c.day,
            func.count(func.distinct(mails.c.mail)).filter(mails.c.status == "sent"),
            func.count(func.distinct(mails.c.mail)).filter(mails.c.status == "waiting"),
            func.count(func.distinct(mails.c.mail)).filter(mails.c.status == "failed"),
        )
        .group_by(mails.c.day)
        .order_by(mails.c.day.desc())
    )
    return [DayCounts(*row) for row in rows]
