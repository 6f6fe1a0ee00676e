"""Writes to traffic restrictions; views and loaders call these, never the table."""

import csv
from datetime import date
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from tracker.errors import BadInput
from tracker.projects.models import Project
from tracker.restrictions.models import DESCRIPTION_MAX, TrafficRestriction
from tracker.vocab import RESTRICTION_KINDS


def add_restriction(
    session: Session,
    project: Project,
    *,
    kind: str,
    starts_on: date,
    ends_on: date | None = None,
    description: str,
) -> TrafficRestriction:
    """Record a traffic restriction on a project after checking its kind, dates and text."""
    if kind not in RESTRICTION_KINDS:
        raise BadInput("kind: " + _("規制の種類を選んでください"))
    if starts_on is None:
        raise BadInput("starts_on: " + _("開始日を入れてください"))
    if ends_on is not None and ends_on < starts_on:
        raise BadInput("ends_on: " + _("終了日が開始日より前になっています"))
    description = (description or "").strip()
    if not description:
        raise BadInput("description: " + _("通行する人に何が変わるかを短く書いてください"))
    if len(description) > DESCRIPTION_MAX:
        raise BadInput("description: " + _("%(n)d文字以内で書いてください", n=DESCRIPTION_MAX))
    restriction = TrafficRestriction(
        project=project,
        kind=kind,
        starts_on=starts_on,
        ends_on=ends_on,
        description=description,
    )
    session.add(restriction)
    session.flush()
    return restriction


def end_restriction(session: Session, restriction: TrafficRestriction) -> TrafficRestriction:
    """Lift a restriction now; ending one that has already ended changes nothing."""
    if restriction.ended_at is None:
        restriction.ended_at = func.now()
        session.flush()
        session.refresh(restriction, ["ended_at"])
    return restriction


def load_sample_restrictions(session: Session, path: Path) -> str:
    """Add the sample restrictions to the sample projects they name, once."""
    if session.scalar(select(exists().where(TrafficRestriction.id.is_not(None)))):
        return "sample restrictions: already loaded"
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    names = {row["project_name"] for row in rows}
    projects = {
        p.name: p
        for p in session.scalars(
            select(Project).where(Project.name.in_(names), Project.is_sample.is_(True))
        )
    }
    added = 0
    for row in rows:
        project = projects.get(row["project_name"])
        if project is None:  # the sample projects were not loaded
            continue
        add_restriction(
            session,
            project,
            kind=row["kind"],
            starts_on=date.fromisoformat(row["starts_on"]),
            ends_on=date.fromisoformat(row["ends_on"]) if row["ends_on"] else None,
            description=row["description"],
        )
        added += 1
    return f"sample restrictions: loaded {added}"
