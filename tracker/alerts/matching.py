"""Turn the outbox's public changes into mails queued for the subscriptions they concern.

Each event is taken by one sender only (row lock, SKIP LOCKED) and marked handled in the
same transaction as the mails it queues; the unique (subscription, event) pair makes a
second queueing impossible even so.
"""

from datetime import datetime, time, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from tracker.city.places import RADIUS_CHOICES
from tracker.formatting import JST
from tracker.outbox.models import OutboxEvent

# Daily digests leave at seven in the morning, Japan time, before people set out.
DIGEST_HOUR = 7
EVENTS_PER_TRANSACTION = 20

# The geometry a change happens at: the project's for now.
_MATCH = text(
    f"""
    WITH event AS (
        SELECT e.id, e.kind, e.project_id, e.occurred_at, e.details ->> 'status' AS status,
               p.geom::geography AS geog
        FROM outbox_events e
        JOIN projects p ON p.id = e.project_id AND p.is_public
        WHERE e.id = :event_id
    ),
    matched AS (
        SELECT s.*, event.id AS event_id, event.kind, event.status
        FROM event JOIN alert_subscriptions s ON s.project_id = event.project_id
        UNION ALL
        SELECT s.*, event.id, event.kind, event.status
        FROM event JOIN alert_subscriptions s
          ON s.project_id IS NULL
         AND ST_DWithin(s.geom::geography, event.geog, {max(RADIUS_CHOICES)})
         AND ST_DWithin(s.geom::geography, event.geog, s.radius_m)
    ),
    wanted AS (
        SELECT m.id, m.event_id,
               CASE WHEN m.kind <> 'status' THEN m.frequency = 'daily'
                    ELSE m.frequency <> 'immediate' END AS digest
        FROM matched m, event
        WHERE m.confirmed_at IS NOT NULL AND m.confirmed_at <= event.occurred_at
          AND CASE WHEN m.kind <> 'status' THEN m.wants_restrictions
                   ELSE m.wants_status
                        OR (m.wants_start_finish AND m.status IN ('construction', 'completed'))
              END
    )
    INSERT INTO alert_deliveries (subscription_id, event_id, kind, digest, due_at)
    SELECT id, event_id, 'alert', digest, CASE WHEN digest THEN :digest_at ELSE now() END
    FROM wanted
    ON CONFLICT (subscription_id, event_id) DO NOTHING
    """
)


def next_digest_at(moment: datetime) -> datetime:
    """Return the first digest time (07:00 in Japan) after a moment."""
    local = moment.astimezone(JST)
    at = datetime.combine(local.date(), time(DIGEST_HOUR), tzinfo=JST)
    return at if at > local else at + timedelta(days=1)


def queue_alerts(session: Session, event: OutboxEvent) -> int:
    """Queue one event for every confirmed subscription it concerns; return how many.

    Only public projects reach anyone, and only subscriptions confirmed before the change.
    """
    result = session.execute(
        _MATCH, {"event_id": event.id, "digest_at": next_digest_at(event.occurred_at)}
    )
    return result.rowcount


def handle_events(session: Session, limit: int = EVENTS_PER_TRANSACTION) -> tuple[int, int]:
    """Queue the alerts of up to `limit` unhandled events; return (events, mails queued).

    Events another sender is handling are skipped, not waited for.
    """
    events = session.scalars(
        select(OutboxEvent)
        .where(OutboxEvent.handled_at.is_(None))
        .order_by(OutboxEvent.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    queued = 0
    for event in events:
        queued += queue_alerts(session, event)
        event.handled_at = func.now()
    session.flush()
    return len(events), queued
