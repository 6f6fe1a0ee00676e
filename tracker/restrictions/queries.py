"""Reads of traffic restrictions that other queries attach to their projects."""

from datetime import date

from sqlalchemy import func, or_, select, text
from sqlalchemy.dialects.postgresql import aggregate_order_by

from tracker.restrictions.models import TrafficRestriction


def coming_restrictions_json(project_id, today: date):
    """Return a correlated JSON array of a project's restrictions in force or still to come.

    Lifted or past ones stay out; each says whether it is in force today.
    """
    r = TrafficRestriction
    entry = func.json_build_object(
        "kind", r.kind,
        "starts_on", r.starts_on,
        "ends_on", r.ends_on,
        "description", r.description,
        "in_force", r.starts_on <= today,
    )  # fmt: skip
    return (
        select(
            func.coalesce(
                func.json_agg(aggregate_order_by(entry, r.starts_on, r.id)), text("'[]'::json")
            )
        )
        .where(
            r.project_id == project_id,
            r.ended_at.is_(None),
            or_(r.ends_on.is_(None), r.ends_on >= today),
        )
        .scalar_subquery()
    )
