"""Reads of the plan catalogue shared by the pages."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.plan.models import Indicator, PlanItem


def names_by_code(session: Session) -> dict[str, str]:
    """Return every plan item's and indicator's printed name by its code."""
    rows = list(session.execute(select(PlanItem.code, PlanItem.name)).tuples().all())
    rows += session.execute(select(Indicator.code, Indicator.name)).tuples().all()
    return dict(rows)
