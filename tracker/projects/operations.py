"""Writes to projects; views and loaders call these, never the table."""

import json
from datetime import date, datetime
from typing import Any

import shapely
from flask_babel import gettext as _
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.accounts.models import User
from tracker.errors import BadInput
from tracker.geometry import check_geometry, flat_geometry
from tracker.plan.models import Indicator, PlanItem
from tracker.projects.audit import fields_changed_since, record_change
from tracker.projects.history import REGISTERED_NOTE, append_status, check_progress, check_state
from tracker.projects.models import Project
from tracker.vocab import DATE_FIELDS, KINDS, STATUSES

# The fields an edit may change, by the names the API uses. Status and progress are not
# among them: they change through status updates, which keep their own history and rules.
EDITABLE_FIELDS = (
    "name",
    "kind",
    "planned_start",
    "planned_end",
    "actual_start",
    "actual_end",
    "department",
    "public",
    "description",
    "geometry",
    "plan_items",
    "indicators",
)
# Every field the audit trail records (also what an edit form shows).
AUDITED_FIELDS = (*EDITABLE_FIELDS[:2], "status", "progress", *EDITABLE_FIELDS[2:])
# Coordinates that differ by less than this (degrees, about 10 cm) are the same shape:
# a geometry read from the API (6 decimals) and sent back unchanged is no change.
GEOMETRY_TOLERANCE = 1e-6


class StaleEdit(Exception):
    """An edit made against an older version of the project than the stored one."""

    def __init__(self, project: Project, expected_version: int, changed_fields: list[str]):
        super().__init__(
            f"project {project.id} is at version {project.version}, "
            f"the edit was made against version {expected_version}"
        )
        self.project = project
        self.expected_version = expected_version
        self.changed_fields = changed_fields


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
        raise BadInput(
            f"{field}: " + _("「%(codes)s」は計画にありません", codes=_("」「").join(unknown)),
            code="unknown_value",
        )
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
    user: User | None = None,
) -> Project:
    """Create a project after checking its fields and geometry, with its first history entry."""
    name = _check_name(name)
    if status not in STATUSES:
        raise BadInput(
            "status: " + _("不明な状況です: %(status)s", status=status), code="unknown_value"
        )
    department = _check_department(department)
    _check_dates(
        {
            "planned_start": planned_start,
            "planned_end": planned_end,
            "actual_start": actual_start,
            "actual_end": actual_end,
        }
    )
    if user is not None:
        # What people enter follows the status rules; loaded records are taken as they
        # stand (shelters completed before any record was kept have no end date).
        check_state(
            status=status, progress=progress, actual_start=actual_start, actual_end=actual_end
        )
    geometry = check_geometry(session, flat_geometry(geometry), kind)
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
    append_status(
        session,
        project.id,
        status=status,
        progress=project.progress,
        note=REGISTERED_NOTE,
        recorded_at=created_at,
    )
    values = project_values(project)
    record_change(
        session,
        project,
        action="create",
        changes={f: {"old": None, "new": values[f]} for f in AUDITED_FIELDS},
        user=user,
        recorded_at=created_at,
    )
    session.flush()
    return project


def update_project(
    session: Session,
    project: Project,
    changes: dict[str, Any],
    *,
    expected_version: int,
    user: User | None,
) -> Project:
    """Apply changed fields (API names) to a project made at `expected_version`, and audit them.

    Refuses an edit made against an older version (StaleEdit) rather than overwrite what
    someone else saved in between. Changing nothing changes nothing: no new version, no audit.
    """
    if project.version != expected_version:
        raise StaleEdit(
            project,
            expected_version,
            fields_changed_since(session, project.id, expected_version),
        )
    unknown = [f for f in changes if f not in EDITABLE_FIELDS and f not in ("status", "progress")]
    if unknown:
        raise BadInput(
            f"{unknown[0]}: " + _("編集できる事業の項目ではありません"), code="unknown_field"
        )
    for field in ("status", "progress"):
        if field in changes and changes[field] != getattr(project, field):
            raise BadInput(
                f"{field}: "
                + _(
                    "編集では変えられません。状況の更新（POST /api/projects/%(id)s/updates）で変えてください",
                    id=project.id,
                ),
                code="status_through_updates",
            )
    old = project_values(project, geometry_as_shape=True)
    new = old | {f: changes[f] for f in EDITABLE_FIELDS if f in changes}

    new["name"] = _check_name(new["name"])
    new["department"] = _check_department(new["department"])
    new["description"] = (new["description"] or "").strip()
    if not isinstance(new["public"], bool):
        raise BadInput("public: " + _("true か false で指定してください"), code="invalid_format")
    _check_dates(new)
    if new["actual_start"] != old["actual_start"] or new["actual_end"] != old["actual_end"]:
        # A completed project keeps its end date: an edit cannot clear it.
        check_state(
            status=project.status,
            progress=project.progress,
            actual_start=new["actual_start"],
            actual_end=new["actual_end"],
        )
    if new["kind"] not in KINDS:
        raise BadInput(
            "kind: " + _("不明な種別です: %(kind)s", kind=new["kind"]), code="unknown_value"
        )
    if not isinstance(new["geometry"], BaseGeometry):
        raise BadInput(
            "geometry: " + _("位置・形状として読み取れません"), code="geometry_unreadable"
        )
    new["geometry"] = flat_geometry(new["geometry"])
    if new["kind"] != old["kind"] or not _same_shape(new["geometry"], old["geometry"]):
        check_geometry(session, new["geometry"], new["kind"])
    plan_items = find_plan_items(session, new["plan_items"])
    indicators = find_indicators(session, new["indicators"])
    new["plan_items"] = sorted(item.code for item in plan_items)
    new["indicators"] = sorted(item.code for item in indicators)

    diff = {}
    for field in EDITABLE_FIELDS:
        if field == "geometry":
            if not _same_shape(new[field], old[field]):
                diff[field] = {"old": _geojson(old[field]), "new": _geojson(new[field])}
        elif new[field] != old[field]:
            diff[field] = {"old": _jsonable(old[field]), "new": _jsonable(new[field])}
    if not diff:
        return project

    for field in ("name", "kind", "department", "description", *DATE_FIELDS):
        if field in diff:
            setattr(project, field, new[field])
    if "public" in diff:
        project.is_public = new["public"]
    if "geometry" in diff:
        project.geom = from_shape(new["geometry"], srid=4326)
    if "plan_items" in diff:
        project.plan_items = plan_items
    if "indicators" in diff:
        project.indicators = indicators
    # Also makes sure the row itself is updated, so the version moves even when only
    # the plan links changed.
    project.updated_at = func.now()
    session.flush()
    record_change(session, project, action="update", changes=diff, user=user)
    session.flush()
    return project


def project_values(project: Project, *, geometry_as_shape: bool = False) -> dict[str, Any]:
    """Return the audited fields of a project by their API names (JSON values by default)."""
    geometry = to_shape(project.geom) if project.geom is not None else None
    values: dict[str, Any] = {
        "name": project.name,
        "kind": project.kind,
        "status": project.status,
        "progress": project.progress,
        "department": project.department,
        "public": project.is_public,
        "description": project.description or "",
        "geometry": geometry if geometry_as_shape else _geojson(geometry),
        "plan_items": sorted(item.code for item in project.plan_items),
        "indicators": sorted(item.code for item in project.indicators),
    }
    for field in DATE_FIELDS:
        value = getattr(project, field)
        values[field] = value if geometry_as_shape else _jsonable(value)
    return values


def _check_name(name) -> str:
    name = (name or "").strip() if isinstance(name, str | None) else None
    if not name:
        raise BadInput("name: " + _("事業名を入力してください"), code="required")
    return name


def _check_department(department) -> str:
    department = (department or "").strip() if isinstance(department, str | None) else None
    if not department:
        raise BadInput("department: " + _("担当課を入力してください"), code="required")
    return department


def _check_dates(values: dict) -> None:
    for label in ("planned", "actual"):
        start, end = values.get(f"{label}_start"), values.get(f"{label}_end")
        for field, value in ((f"{label}_start", start), (f"{label}_end", end)):
            if value is not None and not isinstance(value, date):
                raise BadInput(f"{field}: " + _("日付で指定してください"), code="invalid_date")
        if start and end and end < start:
            raise BadInput(f"{label}_end: " + _("開始日より前の日付です"), code="ends_before_start")


def _same_shape(a: BaseGeometry | None, b: BaseGeometry | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.geom_type == b.geom_type and a.equals_exact(b, GEOMETRY_TOLERANCE)


def _geojson(geom: BaseGeometry | None) -> dict | None:
    return None if geom is None else json.loads(shapely.to_geojson(geom))


def _jsonable(value):
    return value.isoformat() if isinstance(value, date) else value
