"""Reads of the plan catalogue shared by the pages."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.plan.models import Indicator, PlanItem
from tracker.plan.names import plan_name


def names_by_code(session: Session) -> dict[str, str]:
    """Return every plan item's and indicator's name by its code, in the reader's language."""
    rows = list(session.execute(select(PlanItem.code, PlanItem.name)).tuples().all())
    rows += session.execute(select(Indicator.code, Indicator.name)).tuples().all()
    return {code: plan_name(code, name) for code, name in rows}
