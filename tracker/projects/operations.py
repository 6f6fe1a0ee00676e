"""Writes to projects and their history; views and loaders call these, never the tables."""

from datetime import date, datetime

from geoalchemy2.shape import from_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.errors import BadInput
from tracker.geometry import check_geometry
from tracker.plan.models import Indicator, PlanItem
from tracker.projects.models import Project, StatusUpdate
from tracker.projects.vocab import STATUSES


def check_progress(progress) -> int:
    """Return progress as an int in 0–100, or refuse it."""
    if isinstance(progress, bool) or not isinstance(progress, int) or not 0 <= progress <= 100:
        raise BadInput(f"progress: must be a whole number from 0 to 100, not {progress!r}")
    return progress


def find_plan_items(session: Session, codes) -> list[PlanItem]:
    """Return the plan items with these codes, refusing unknown ones."""
    return _find_by_code(session, PlanItem, codes, "plan_items")


def find_indicators(session: Session, codes) -> list[Indicator]:
    """Return the indicators with these codes, refusing unknown ones."""
    return _find_by_code(session, Indicator, codes, "indicators")


def _find_by_code(session: Session, model, codes, field: str) -> list:
    codes = list(dict.fromkeys(codes))
    if not codes:
        return []
    found = {row.code: row for row in session.scalars(select(model).where(model.code.in_(codes)))}
    unknown = [code for code in codes if code not in found]
    if unknown:
        raise BadInput(f"{field}: unknown code(s) {', '.join(unknown)}")
    return [found[code] for code in codes]


def create_project(
    session: Session,
    *,
    name: str,
    kind: str,
    geometry: BaseGeometry,
    department: str,
    status: str = "planned",
    progress: int = 0,
    planned_start: date | None = None,
    planned_end: date | None = None,
    actual_start: date | None = None,
    actual_end: date | None = None,
    is_public: bool = True,
    description: str = "",
    address: str | None = None,
    gsi_common_id: str | None = None,
    is_sample: bool = False,
    plan_item_codes=(),
    indicator_codes=(),
    created_at: datetime | None = None,
) -> Project:
    """Create a project after checking its fields and geometry, with its first history entry."""
    name = (name or "").strip()
    if not name:
        raise BadInput("name: a project needs a name")
    if status not in STATUSES:
        raise BadInput(f"status: unknown status {status!r}")
    if not (department or "").strip():
        raise BadInput("department: the responsible department is missing")
    for start, end, label in (
        (planned_start, planned_end, "planned"),
        (actual_start, actual_end, "actual"),
    ):
        if start and end and end < start:
            raise BadInput(f"{label}_end: ends before {label}_start")
    check_geometry(session, geometry, kind)
    project = Project(
        name=name,
        kind=kind,
        status=status,
        progress=check_progress(progress),
        planned_start=planned_start,
        planned_end=planned_end,
        actual_start=actual_start,
        actual_end=actual_end,
        department=department.strip(),
        is_public=is_public,
        description=description or "",
        address=address,
        gsi_common_id=gsi_common_id,
        is_sample=is_sample,
        geom=from_shape(geometry, srid=4326),
        plan_items=find_plan_items(session, plan_item_codes),
        indicators=find_indicators(session, indicator_codes),
    )
    if created_at is not None:
        project.created_at = created_at
        project.updated_at = created_at
    session.add(project)
    session.flush()
    append_history(
        session,
        project,
        status=status,
        progress=project.progress,
        note="登録",
        recorded_at=created_at,
        previous_status=None,
    )
    return project


def append_history(
    session: Session,
    project: Project,
    *,
    status: str,
    progress: int,
    note: str = "",
    recorded_at: datetime | None = None,
    previous_status: str | None = "",
) -> StatusUpdate:
    """Append a history entry and make it the project's current status."""
    update = StatusUpdate(
        project=project,
        previous_status=project.status if previous_status == "" else previous_status,
        status=status,
        progress=check_progress(progress),
        note=note,
    )
    if recorded_at is not None:
        update.recorded_at = recorded_at
    project.status = status
    project.progress = progress
    session.add(update)
    session.flush()
    return update
