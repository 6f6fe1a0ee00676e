"""Send what is due: match new events, then hand each subscription's due mails to SMTP.

Every mail is one transaction: lock its subscription's row (FOR NO KEY UPDATE, SKIP LOCKED,
so another sender moves on to the next subscription), read what is still due, send one mail,
mark it sent, commit. Two senders running at once therefore never send the same event to the
same address twice, and a sender killed at any moment leaves at most one mail to be sent
again: the one the server accepted before its mark was committed.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from functools import partial
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tracker.alerts.changes import changes_for
from tracker.alerts.mails import alert_mail, confirmation_mail, manage_link_mail
from tracker.alerts.matching import handle_events
from tracker.alerts.models import AlertDelivery, AlertSubscription
from tracker.alerts.operations import purge_expired
from tracker.core import clock
from tracker.core.smtp import PermanentRefusal, ServerUnavailable, TemporaryRefusal

# After a temporary refusal: wait 5 minutes, then twice as long each time, at most 6 hours;
# after 8 tries (about 16 hours in all) the mail is given up.
FIRST_RETRY = timedelta(minutes=5)
LONGEST_WAIT = timedelta(hours=6)
MAX_ATTEMPTS = 8
CANDIDATES_PER_READ = 200


@dataclass
class SendReport:
    """What one run did."""

    events: int = 0
    queued: int = 0
    purged: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    cancelled: int = 0
    stopped: str | None = None  # why the run stopped early (the server could not be used)

    def lines(self) -> list[str]:
        """Say what happened, one fact per line."""
        said = [
            f"events matched: {self.events} (mails queued: {self.queued})",
            f"unconfirmed requests deleted after 48 hours: {self.purged}",
            f"mails sent: {self.sent}, to retry: {self.retrying}, failed: {self.failed}"
            f", dropped (no longer public): {self.cancelled}",
        ]
        if self.stopped:
            said.append(f"stopped: {self.stopped}")
        return said


def backoff(attempts: int) -> timedelta:
    """Return how long to wait after the n-th temporary refusal."""
    return min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_WAIT)


def prepare(sessions: sessionmaker, report: SendReport) -> None:
    """Forget expired requests and queue the alerts of every committed, unhandled event."""
    with sessions() as session:
        report.purged += purge_expired(session)
        session.commit()
    while True:
        with sessions() as session:
            events, queued = handle_events(session)
            session.commit()
        report.events += events
        report.queued += queued
        if not events:
            return


class MailTransport(Protocol):
    """What sends the mails: SmtpTransport, or a stand-in that keeps them."""

    def send(self, message: EmailMessage) -> None:
        """Send one mail, or raise one of the refusals of tracker.core.smtp."""

    def close(self) -> None:
        """Let go of the connection."""


def send_alerts(sessions: sessionmaker, transport: MailTransport | None) -> SendReport:
    """Match new events, then send every due mail through the transport (None: send nothing)."""
    report = SendReport()
    prepare(sessions, report)
    if transport is None:
        return report
    last_id = 0
    said: dict = {}  # changes already worded in this run, by (event, language)
    try:
        while report.stopped is None:
            with sessions() as session:
                candidates = session.execute(
                    select(AlertDelivery.id, AlertDelivery.subscription_id)
                    .where(
                        AlertDelivery.status == "waiting",
                        AlertDelivery.due_at <= clock.now(),
                        AlertDelivery.id > last_id,
                    )
                    .order_by(AlertDelivery.id)
                    .limit(CANDIDATES_PER_READ)
                ).all()
            if not candidates:
                break
            last_id = candidates[-1].id
            for subscription_id in dict.fromkeys(c.subscription_id for c in candidates):
                if subscription_id is not None:  # None: the subscription was deleted
                    _send_subscription(sessions, subscription_id, transport, report, said)
                if report.stopped:
                    break
    finally:
        transport.close()
    return report


def _send_subscription(
    sessions: sessionmaker,
    subscription_id: int,
    transport: MailTransport,
    report: SendReport,
    said: dict,
) -> None:
    """Send one subscription's due mails, each in a transaction of its own."""
    while report.stopped is None:
        with sessions() as session:
            sent_one = _send_next(session, subscription_id, transport, report, said)
            session.commit()
        if not sent_one:
            return


def _send_next(
    session: Session,
    subscription_id: int,
    transport: MailTransport,
    report: SendReport,
    said: dict,
) -> bool:
    """Lock a subscription, send its next due mail and mark it; False when none was sent.

    Returns False too when another sender holds the subscription (it sends them instead).
    """
    sub = session.scalars(
        select(AlertSubscription)
        .where(AlertSubscription.id == subscription_id)
        .with_for_update(key_share=True, skip_locked=True)  # FOR NO KEY UPDATE
    ).one_or_none()
    if sub is None:
        return False  # another sender has it, or it was deleted meanwhile
    due = session.scalars(
        select(AlertDelivery)
        .where(
            AlertDelivery.subscription_id == sub.id,
            AlertDelivery.status == "waiting",
            AlertDelivery.due_at <= clock.now(),
        )
        .order_by(AlertDelivery.id)
    ).all()
    for deliveries, build in _mails(session, sub, list(due), report, said):
        try:
            message = build()
            transport.send(message)
        except TemporaryRefusal as refusal:
            _retry_or_fail(deliveries, str(refusal), report)
        except PermanentRefusal as refusal:
            _finish(deliveries, "failed", str(refusal), message["Message-ID"])
            report.failed += 1
        except ServerUnavailable as problem:
            report.stopped = str(problem)
            return False
        else:
            _finish(deliveries, "sent", None, message["Message-ID"])
            report.sent += 1
        return True  # one mail per transaction: its mark is committed before the next leaves
    return False


def _mails(
    session: Session,
    sub: AlertSubscription,
    due: list[AlertDelivery],
    report: SendReport,
    said: dict,
) -> Iterator[tuple[list[AlertDelivery], Callable[[], EmailMessage]]]:
    """Group due deliveries into mails: confirmation, new manage link and at-once alerts
    alone, digests together."""
    confirm = [d for d in due if d.kind == "confirm"]
    manage = [d for d in due if d.kind == "manage"]
    alerts = [d for d in due if d.kind == "alert"]
    if sub.confirmed_at is None:
        # Nothing but the confirmation request goes to an address not yet confirmed.
        for d in confirm:
            yield [d], lambda: confirmation_mail(session, sub)
        for d in manage:
            _finish([d], "cancelled", None, None)
        return
    for d in confirm:  # confirmed meanwhile: the request is moot
        _finish([d], "cancelled", None, None)
    for d in manage:
        yield [d], lambda: manage_link_mail(session, sub)
    if not alerts:
        return
    changes = changes_for(session, [_event_of(d) for d in alerts], sub.lang, said)
    told = []
    for d, change in zip(alerts, changes, strict=True):
        if change is None:
            _finish([d], "cancelled", None, None)
            report.cancelled += 1
        else:
            told.append((d, change))
    at_once = [(d, c) for d, c in told if not d.digest]
    digest = [(d, c) for d, c in told if d.digest]
    for d, change in at_once:
        yield [d], partial(alert_mail, session, sub, [change], digest=False)
    if digest:
        yield (
            [d for d, _ in digest],
            lambda: alert_mail(session, sub, [c for _, c in digest], digest=True),
        )


def _event_of(delivery: AlertDelivery) -> int:
    """Return the event an alert tells of (the table's check keeps one there)."""
    if delivery.event_id is None:
        raise ValueError(f"alert delivery {delivery.id} tells of no event")
    return delivery.event_id


def _finish(
    deliveries: list[AlertDelivery], status: str, error: str | None, message_id: str | None
) -> None:
    for d in deliveries:
        d.status = status
        d.finished_at = clock.now()
        d.message_id = message_id
        if status != "cancelled":
            d.attempts += 1
        if error:
            d.last_error = error[:500]


def _retry_or_fail(deliveries: list[AlertDelivery], error: str, report: SendReport) -> None:
    attempts = deliveries[0].attempts + 1
    if attempts >= MAX_ATTEMPTS:
        _finish(deliveries, "failed", error, None)
        report.failed += 1
        return
    for d in deliveries:
        d.attempts = attempts
        d.last_error = error[:500]
        d.due_at = clock.now() + backoff(attempts)
    report.retrying += 1
