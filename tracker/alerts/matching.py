"""Turn the outbox's public changes into mails queued for the subscriptions they concern.

Each event is taken by one sender only (row lock, SKIP LOCKED) and marked handled in the
same transaction as the mails it queues; the unique (subscription, event) pair makes a
second queueing impossible even so.
"""

from datetime import datetime, time, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tracker.city.places import RADIUS_CHOICES
from tracker.core import clock
from tracker.core.clock import JST
from tracker.core.db import rows_changed
from tracker.outbox.models import OutboxEvent

# Daily digests leave at seven in the morning, Japan time, before people set out.
DIGEST_HOUR = 7
EVENTS_PER_TRANSACTION = 20

_MATCH = text(
    f"""
    WITH event AS (
        SELECT e.id, e.kind, e.project_id, e.occurred_at, e.restriction_id,
               e.restriction_change_id, e.details ->> 'status' AS status, p.geom
        FROM outbox_events e
        -- Only a work anyone may see (projects.models.visible_works: public, not withdrawn).
        JOIN projects p ON p.id = e.project_id AND p.is_public AND p.withdrawn_at IS NULL
        WHERE e.id = :event_id
    ),
    -- A restriction's own line as it stood at this event: the last one its history drew.
    line_then AS (
        SELECT ST_GeomFromGeoJSON(h.changes -> 'section' ->> 'new') AS geom
        FROM event JOIN restriction_changes h
          ON h.restriction_id = event.restriction_id AND h.id <= event.restriction_change_id
         AND h.changes ? 'section'
        ORDER BY h.id DESC
        LIMIT 1
    ),
    -- Where the change happens: the work, or the restriction's line (the work's place when it
    -- has none of its own) and, when a change moved the line, where it was before as well.
    spots AS (
        SELECT COALESCE((SELECT geom FROM line_then), event.geom)::geography AS geog
        FROM event
        UNION ALL
        SELECT COALESCE(ST_GeomFromGeoJSON(c.changes -> 'section' ->> 'old'), event.geom)
               ::geography
        FROM event JOIN restriction_changes c ON c.id = event.restriction_change_id
        WHERE c.action = 'update' AND c.changes ? 'section'
    ),
    matched AS (
        SELECT s.*, event.id AS event_id, event.kind, event.status
        FROM event JOIN alert_subscriptions s ON s.project_id = event.project_id
        UNION ALL
        SELECT DISTINCT ON (s.id) s.*, event.id, event.kind, event.status
        FROM event, spots JOIN alert_subscriptions s
          ON s.project_id IS NULL
         AND ST_DWithin(s.geom::geography, spots.geog, {max(RADIUS_CHOICES)})
         AND ST_DWithin(s.geom::geography, spots.geog, s.radius_m)
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
    INSERT INTO alert_deliveries (subscription_id, event_id, kind, digest, due_at, created_at)
    SELECT id, event_id, 'alert', digest, CASE WHEN digest THEN :digest_at ELSE :now END, :now
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
        _MATCH,
        {"event_id": event.id, "digest_at": next_digest_at(event.occurred_at), "now": clock.now()},
    )
    return rows_changed(result)


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
        event.handled_at = clock.now()
    session.flush()
    return len(events), queued
