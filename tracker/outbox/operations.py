"""The one writer of the outbox; the core's own operations call it inside their transaction."""

from sqlalchemy import insert
from sqlalchemy.orm import Session

from tracker.outbox.models import EVENT_KINDS, OutboxEvent


def record_event(
    session: Session,
    kind: str,
    *,
    project_id: int,
    status_update_id: int | None = None,
    restriction_id: int | None = None,
    restriction_change_id: int | None = None,
    details: dict | None = None,
) -> None:
    """Queue a public change in the caller's transaction: it is kept only if the change is."""
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown outbox event kind {kind!r}")
    session.execute(
        insert(OutboxEvent).values(
            kind=kind,
            project_id=project_id,
            status_update_id=status_update_id,
            restriction_id=restriction_id,
            restriction_change_id=restriction_change_id,
            details=details or {},
        )
    )
