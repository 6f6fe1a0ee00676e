"""Writes to projects; views and loaders call these, never the table."""

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, TypeVar

import numpy as np
import shapely
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import column, select, text
from sqlalchemy.orm import Session

from tracker.accounts.models import User
from tracker.core import clock
from tracker.core.db import copy_rows
from tracker.core.errors import BadInput
from tracker.core.limits import DEPARTMENT_MAX, DESCRIPTION_MAX, NAME_MAX, check_name, check_text
from tracker.core.translate import gettext as _
from tracker.facilities.models import Facility
from tracker.geo.geometry import (
    GeometryRefused,
    check_geometry,
    check_inside_city,
    check_shape,
    farthest_outside_city_each,
    flat_geometry,
    is_position_only,
)
from tracker.plan.models import Indicator, PlanItem
from tracker.projects.audit import fields_changed_since, record_change, record_changes
from tracker.projects.departments import check_may_change, check_may_move, check_not_withdrawn
from tracker.projects.history import (
    REGISTERED_NOTE,
    announce_status,
    append_loaded_history,
    check_progress,
    check_state,
    register_status,
    stage_status,
)
from tracker.projects.models import Project, project_indicators, project_plan_items
from tracker.projects.register import REGISTER_FIELDS, check_register
from tracker.serving.input_guards import MAX_DB_INTEGER
from tracker.words.details import check_details, detail_names
from tracker.words.formatting import YEAR_RANGE
from tracker.words.vocab import DATE_FIELDS, KINDS, STATUSES

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
    "facility_id",
    *REGISTER_FIELDS,
    # The fields of the work's kind (words.vocab.KIND_DETAILS), as one mapping.
    "details",
)
# Every field the audit trail records (also what an edit form shows).
AUDITED_FIELDS = (*EDITABLE_FIELDS[:2], "status", "progress", *EDITABLE_FIELDS[2:])
# Coordinates that differ by less than this (degrees, about 10 cm) are the same shape:
# a geometry read from the API (6 decimals) and sent back unchanged is no change.
GEOMETRY_TOLERANCE = 1e-6


class StaleEdit(Exception):
    """An edit made against an older version of the project than the stored one."""

    def __init__(self, project: Project, expected_version: int, changed_fields: list[str]) -> None:
        super().__init__(
            f"project {project.id} is at version {project.version}, "
            f"the edit was made against version {expected_version}"
        )
        self.project = project
        self.expected_version = expected_version
        self.changed_fields = changed_fields


def find_plan_items(session: Session, codes: Sequence[str]) -> list[PlanItem]:
    """Return the plan items with these codes, refusing unknown ones."""
    return _find_by_code(session, PlanItem, codes, "plan_items")


def find_indicators(session: Session, codes: Sequence[str]) -> list[Indicator]:
    """Return the indicators with these codes, refusing unknown ones."""
    return _find_by_code(session, Indicator, codes, "indicators")


# The catalogue models found by their code.
_Coded = TypeVar("_Coded", PlanItem, Indicator)


def _find_by_code(
    session: Session, model: type[_Coded], codes: Sequence[str], field: str
) -> list[_Coded]:
    codes = list(dict.fromkeys(codes))
    if not codes:
        return []
    found = {row.code: row for row in session.scalars(select(model).where(model.code.in_(codes)))}
    unknown = [code for code in codes if code not in found]
    if unknown:
        raise _unknown_codes(field, unknown)
    return [found[code] for code in codes]


def _unknown_codes(field: str, unknown: list[str]) -> BadInput:
    return BadInput(
        _("「%(codes)s」は計画にありません", codes=_("」「").join(unknown)),
        code="unknown_value",
        field=field,
    )


@dataclass(frozen=True)
class NewProject:
    """The fields of a project to create (create_project's arguments)."""

    name: str
    kind: str
    geometry: BaseGeometry
    department: str
    status: str = "planned"
    progress: int = 0
    planned_start: date | None = None
    planned_end: date | None = None
    actual_start: date | None = None
    actual_end: date | None = None
    is_public: bool = True
    description: str = ""
    external_id: str | None = None
    plan_item_codes: tuple[str, ...] = ()
    indicator_codes: tuple[str, ...] = ()
    facility_id: int | None = None
    # The works-register fields (register.REGISTER_FIELDS) given, by name.
    register: tuple[tuple[str, Any], ...] = ()
    # A line kind given as one point is accepted (and marked so) only when this is asked for.
    position_only: bool = False


def _check_new(spec: NewProject, *, entered: bool) -> NewProject:
    """Check a new project's own fields and shape (not yet against the boundary or codes)."""
    name = _check_name(spec.name)
    if spec.status not in STATUSES:
        raise BadInput(
            _("不明な状況です: %(status)s", status=spec.status),
            code="unknown_value",
            field="status",
        )
    department = _check_department(spec.department)
    _check_dates(
        {
            "planned_start": spec.planned_start,
            "planned_end": spec.planned_end,
            "actual_start": spec.actual_start,
            "actual_end": spec.actual_end,
        }
    )
    if entered:
        # What people enter follows the status rules; loaded records are taken as they
        # stand (works completed before any record was kept may have no end date).
        check_state(
            status=spec.status,
            progress=spec.progress,
            actual_start=spec.actual_start,
            actual_end=spec.actual_end,
        )
    check_progress(spec.progress)
    unknown = [f for f, _value in spec.register if f not in REGISTER_FIELDS]
    if unknown:
        raise BadInput("not a field of a project", field=unknown[0])
    register = check_register(dict(spec.register))
    geometry = check_shape(
        flat_geometry(spec.geometry), spec.kind, point_allowed=spec.position_only
    )
    return replace(
        spec,
        position_only=is_position_only(geometry, spec.kind),
        name=name,
        department=department.strip(),
        description=check_text("description", spec.description, limit=DESCRIPTION_MAX),
        geometry=geometry,
        register=tuple(register.items()),
    )


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
    facility_id: int | None = None,
    external_id: str | None = None,
    is_sample: bool = False,
    plan_item_codes: Sequence[str] = (),
    indicator_codes: Sequence[str] = (),
    created_at: datetime | None = None,
    user: User | None = None,
    details: dict[str, Any] | None = None,
    position_only: bool = False,
    **register: Any,
) -> Project:
    """Create a project after checking its fields and geometry, with its first history entry.

    `register` takes the works-register fields (register.REGISTER_FIELDS) by name;
    `details` the fields of its kind (checked by words.details.check_details);
    `position_only` lets a line kind be given as a point (marked so until a line is drawn).
    """
    spec = _check_new(
        NewProject(
            name=name,
            kind=kind,
            geometry=geometry,
            department=department,
            status=status,
            progress=progress,
            planned_start=planned_start,
            planned_end=planned_end,
            actual_start=actual_start,
            actual_end=actual_end,
            is_public=is_public,
            description=description,
            external_id=external_id,
            register=tuple(register.items()),
            position_only=position_only,
        ),
        entered=user is not None,
    )
    check_may_change(user, spec.department)
    check_geometry(session, spec.geometry, kind, point_allowed=spec.position_only)
    project = Project(
        **_row_values(spec),
        address=address,
        facility_id=check_facility(session, facility_id),
        is_sample=is_sample,
        details=check_details(kind, details),
        plan_items=find_plan_items(session, plan_item_codes),
        indicators=find_indicators(session, indicator_codes),
    )
    if created_at is not None:
        project.created_at = created_at
        project.updated_at = created_at
    session.add(project)
    session.flush()
    register_status(session, project, status=status, progress=project.progress)
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


def _row_values(spec: NewProject) -> dict[str, Any]:
    """Return the projects table's values for a checked new project."""
    return {
        "name": spec.name,
        "kind": spec.kind,
        "status": spec.status,
        "progress": spec.progress,
        "planned_start": spec.planned_start,
        "planned_end": spec.planned_end,
        "actual_start": spec.actual_start,
        "actual_end": spec.actual_end,
        "department": spec.department,
        "is_public": spec.is_public,
        "description": spec.description,
        "external_id": spec.external_id,
        "geom": from_shape(spec.geometry, srid=4326),
        "position_only": spec.position_only,
        **dict(spec.register),
    }


def check_new_projects(
    session: Session, specs: list[NewProject], *, user: User | None
) -> list[NewProject | BadInput]:
    """Check many new projects as create_project would: each checked spec, or why it is refused.

    One boundary query and one code lookup serve them all, so a file of thousands is quick.
    """
    checked: list[NewProject | BadInput] = []
    for given in specs:
        try:
            new = _check_new(given, entered=user is not None)
            check_may_change(user, new.department)
            checked.append(new)
        except BadInput as exc:
            checked.append(exc)
    shapes = [(i, c.geometry) for i, c in enumerate(checked) if isinstance(c, NewProject)]
    farthest = farthest_outside_city_each(session, [g for _i, g in shapes])
    for (i, _geom), outside in zip(shapes, farthest, strict=True):
        try:
            check_inside_city(outside)
        except GeometryRefused as exc:
            checked[i] = exc
    facilities = _facilities_in_force(session, checked)
    plan_ids = _ids_by_code(session, PlanItem, specs, "plan_item_codes")
    indicator_ids = _ids_by_code(session, Indicator, specs, "indicator_codes")
    for i, spec in enumerate(checked):
        if not isinstance(spec, NewProject):
            continue
        if spec.facility_id is not None and spec.facility_id not in facilities:
            checked[i] = BadInput(
                _("この施設はありません（ID %(id)s）", id=spec.facility_id), field="facility_id"
            )
            continue
        for codes, known, field in (
            (spec.plan_item_codes, plan_ids, "plan_items"),
            (spec.indicator_codes, indicator_ids, "indicators"),
        ):
            unknown = [code for code in codes if code not in known]
            if unknown:
                checked[i] = _unknown_codes(field, unknown)
                break
    return checked


def _facilities_in_force(session: Session, checked: list) -> set[int]:
    ids = {
        c.facility_id
        for c in checked
        if isinstance(c, NewProject) and c.facility_id and 0 < c.facility_id <= MAX_DB_INTEGER
    }
    if not ids:
        return set()
    return set(
        session.scalars(
            select(Facility.id).where(Facility.id.in_(ids), Facility.withdrawn_at.is_(None))
        )
    )


def _ids_by_code(
    session: Session,
    model: type[PlanItem] | type[Indicator],
    specs: list[NewProject],
    attr: str,
) -> dict[str, int]:
    codes = {code for spec in specs for code in getattr(spec, attr)}
    if not codes:
        return {}
    return dict(
        session.execute(select(model.code, model.id).where(model.code.in_(codes))).tuples().all()
    )


def create_projects(
    session: Session, specs: list[NewProject], *, user: User | None, note: str = REGISTERED_NOTE
) -> list[int | BadInput]:
    """Create many projects at once, each checked as create_project checks one.

    Returns each new id, or why that project was refused (the others are still created:
    a caller that wants all or nothing rolls back when any is refused).
    """
    checked = check_new_projects(session, specs, user=user)
    good = [(i, spec) for i, spec in enumerate(checked) if isinstance(spec, NewProject)]
    if not good:
        return [exc for exc in checked if isinstance(exc, BadInput)]  # every one refused
    ids = _insert_projects(session, [spec for _i, spec in good])
    for table, model, attr, target in (
        (project_plan_items, PlanItem, "plan_item_codes", "plan_item_id"),
        (project_indicators, Indicator, "indicator_codes", "indicator_id"),
    ):
        known = _ids_by_code(session, model, [spec for _i, spec in good], attr)
        links = [
            (pid, known[code])
            for pid, (_i, spec) in zip(ids, good, strict=True)
            for code in dict.fromkeys(getattr(spec, attr))
        ]
        if links:
            copy_rows(session, table.name, ("project_id", target), links)
    # Registered when the projects were, each with the status and progress it was made with.
    append_loaded_history(
        session,
        text(
            "SELECT id AS project_id, created_at AS recorded_at, NULL AS previous_status,"
            " status, progress, :note AS note FROM projects WHERE id = ANY(:ids)"
        )
        .bindparams(ids=ids, note=note)
        .columns(
            *(column(name) for name in ("project_id", "recorded_at", "previous_status", "status",
                                       "progress", "note"))
        ),
    )  # fmt: skip
    record_changes(
        session,
        [
            (pid, {f: {"old": None, "new": v} for f, v in _spec_values(spec).items()})
            for pid, (_i, spec) in zip(ids, good, strict=True)
        ],
        action="create",
        user=user,
    )
    new_ids = {i: pid for pid, (i, _spec) in zip(ids, good, strict=True)}
    return [new_ids[i] if isinstance(c, NewProject) else c for i, c in enumerate(checked)]


def _insert_projects(session: Session, specs: list[NewProject]) -> list[int]:
    """Insert checked new projects; return their ids in the same order."""
    ids = list(
        session.scalars(
            text(
                "SELECT nextval(pg_get_serial_sequence('projects', 'id')) FROM generate_series(1, :n)"
            ),
            {"n": len(specs)},
        )
    )
    columns = ("name", "kind", "status", "progress", *DATE_FIELDS, "department", "is_public",
               "description", "external_id", "facility_id", "position_only",
               *REGISTER_FIELDS)  # fmt: skip
    # Hex EWKB with its SRID: what PostGIS reads for a geometry column in COPY.
    shapes = shapely.set_srid(np.array([spec.geometry for spec in specs], dtype=object), 4326)
    ewkb = shapely.to_wkb(shapes, hex=True, include_srid=True)
    now = clock.now()
    copy_rows(
        session,
        "projects",
        ("id", *columns, "geom", "created_at", "updated_at"),
        (
            (pid, *(_column_value(spec, c) for c in columns), wkb, now, now)
            for pid, spec, wkb in zip(ids, specs, ewkb, strict=True)
        ),
    )
    return ids


def _column_value(spec: NewProject, column_name: str) -> Any:
    if column_name in REGISTER_FIELDS:
        return dict(spec.register).get(column_name)
    return getattr(spec, column_name)


def _spec_values(spec: NewProject) -> dict[str, Any]:
    """Return a new project's audited fields as project_values gives them."""
    values = {
        "name": spec.name,
        "kind": spec.kind,
        "status": spec.status,
        "progress": spec.progress,
        "department": spec.department,
        "public": spec.is_public,
        "description": spec.description,
        "geometry": _geojson(spec.geometry),
        "plan_items": sorted(set(spec.plan_item_codes)),
        "indicators": sorted(set(spec.indicator_codes)),
        "facility_id": spec.facility_id,
        # Works imported in bulk start without their kind's fields.
        "details": {},
    }
    values |= {f: _jsonable(getattr(spec, f)) for f in DATE_FIELDS}
    values |= {f: dict(spec.register).get(f) for f in REGISTER_FIELDS}
    return {f: values[f] for f in AUDITED_FIELDS}


def update_project(
    session: Session,
    project: Project,
    changes: dict[str, Any],
    *,
    expected_version: int,
    user: User | None,
    also_changed: dict[str, dict[str, Any]] | None = None,
    point_allowed: bool = False,
) -> Project:
    """Apply changed fields (API names) to a project made at `expected_version`, and audit them.

    Refuses an edit made against an older version (StaleEdit) rather than overwrite what
    someone else saved in between. Changing nothing changes nothing: no new version, no audit.
    `also_changed` names fields the same operation has already set on the project (a status
    update, the city's number): they share this edit's one version step and audit entry.
    Only who may change the work's department may edit it (OtherDepartment), and moving it
    to another department also needs the right to change that one's works.
    A road, pavement or revetment may be given one point (its position only) when
    `point_allowed` says so or when it is already position only.
    """
    check_may_change(user, project.department)
    if project.version != expected_version:
        raise StaleEdit(
            project,
            expected_version,
            fields_changed_since(session, project.id, expected_version),
        )
    unknown = [f for f in changes if f not in EDITABLE_FIELDS and f not in ("status", "progress")]
    if unknown:
        raise BadInput(
            _("編集できる事業の項目ではありません"), code="unknown_field", field=unknown[0]
        )
    for field in ("status", "progress"):
        if field in changes and changes[field] != getattr(project, field):
            raise BadInput(
                _(
                    "編集では変えられません。状況の更新（POST /api/projects/%(id)s/updates）で変えてください",
                    id=project.id,
                ),
                code="status_through_updates",
                field=field,
            )
    old = project_values(project, geometry_as_shape=True)
    new = old | {f: changes[f] for f in EDITABLE_FIELDS if f in changes}

    new["name"] = _check_name(new["name"])
    new["department"] = _check_department(new["department"])
    check_may_move(user, old["department"], new["department"])
    new["description"] = check_text("description", new["description"], limit=DESCRIPTION_MAX)
    if not isinstance(new["public"], bool):
        raise BadInput(_("true か false で指定してください"), code="invalid_format", field="public")
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
            _("不明な種別です: %(kind)s", kind=new["kind"]), code="unknown_value", field="kind"
        )
    if new["facility_id"] != old["facility_id"]:
        check_facility(session, new["facility_id"])
    if "details" in changes:
        new["details"] = check_details(new["kind"], new["details"])
    elif new["kind"] != old["kind"]:
        # Another kind keeps the fields it shares with the old one (a road's length for a
        # revetment) and drops the others.
        new["details"] = {k: v for k, v in old["details"].items() if k in detail_names(new["kind"])}
    new.update(check_register({field: new[field] for field in REGISTER_FIELDS}))
    if not isinstance(new["geometry"], BaseGeometry):
        raise BadInput(
            _("位置・形状として読み取れません"), code="geometry_unreadable", field="geometry"
        )
    new["geometry"] = flat_geometry(new["geometry"])
    point_allowed = point_allowed or project.position_only
    if new["kind"] != old["kind"] or not _same_shape(new["geometry"], old["geometry"]):
        check_geometry(session, new["geometry"], new["kind"], point_allowed=point_allowed)
    plan_items = find_plan_items(session, new["plan_items"])
    indicators = find_indicators(session, new["indicators"])
    new["plan_items"] = sorted(item.code for item in plan_items)
    new["indicators"] = sorted(item.code for item in indicators)

    diff: dict[str, dict[str, object]] = {}
    for field in EDITABLE_FIELDS:
        if field == "geometry":
            if not _same_shape(new[field], old[field]):
                diff[field] = {"old": _geojson(old[field]), "new": _geojson(new[field])}
        elif new[field] != old[field]:
            diff[field] = {"old": _jsonable(old[field]), "new": _jsonable(new[field])}
    audited = _after(also_changed or {}, diff)
    if not audited:
        return project
    # Changing nothing changes nothing, also of a withdrawn work (a works list read again).
    check_not_withdrawn(project)

    for field in (
        "name",
        "kind",
        "department",
        "description",
        "facility_id",
        "details",
        *DATE_FIELDS,
        *REGISTER_FIELDS,
    ):
        if field in diff:
            setattr(project, field, new[field])
    if "public" in diff:
        project.is_public = new["public"]
    if "geometry" in diff:
        project.geom = from_shape(new["geometry"], srid=4326)
    if "geometry" in diff or "kind" in diff:
        # A line drawn (or a kind not measured along its length) ends "position only".
        project.position_only = point_allowed and is_position_only(new["geometry"], new["kind"])
    if "plan_items" in diff:
        project.plan_items = plan_items
    if "indicators" in diff:
        project.indicators = indicators
    # Also makes sure the row itself is updated, so the version moves even when only
    # the plan links changed.
    project.updated_at = clock.now()
    session.flush()
    record_change(session, project, action="update", changes=audited, user=user)
    session.flush()
    return project


def _after(
    first: dict[str, dict[str, Any]], then: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Return two successive changes as one: each field from its first old to its last new."""
    merged = dict(first)
    for field, change in then.items():
        old = first[field]["old"] if field in first else change["old"]
        merged[field] = {"old": old, "new": change["new"]}
    return {f: c for f, c in merged.items() if c["old"] != c["new"]}


def update_with_status(
    session: Session,
    project: Project,
    changes: dict[str, Any],
    *,
    status: str,
    progress: int,
    note: str = "",
    fallback_note: str = "",
    actual_end: date | None = None,
    user: User | None,
    point_allowed: bool = False,
) -> Project:
    """Change a project's status (under the rules), its fields and its number as one edit.

    `changes` holds edited fields as update_project takes them, and the city's number as
    `external_id` when it is to change. One version step and one audit entry, as any edit;
    a change of status is still news for residents.
    """
    changes = dict(changes)
    staged = stage_status(
        session,
        project.id,
        status=status,
        progress=progress,
        note=note,
        fallback_note=fallback_note,
        actual_end=actual_end,
        user=user,
    )
    moved = dict(staged.changed)
    # The project holds the staged state until update_project writes it all at once.
    with session.no_autoflush:
        if "external_id" in changes:
            number = check_external_id(session, project, changes.pop("external_id"))
            if number != project.external_id:
                moved["external_id"] = {"old": project.external_id, "new": number}
                project.external_id = number
        update_project(
            session,
            project,
            changes,
            expected_version=project.version,
            user=user,
            also_changed=moved,
            point_allowed=point_allowed,
        )
    announce_status(session, staged)
    return project


def set_external_id(
    session: Session, project: Project, external_id: str | None, *, user: User | None
) -> bool:
    """Give a project the city's own number (事業番号), audited; tell whether it changed."""
    check_may_change(user, project.department)
    external_id = check_external_id(session, project, external_id)
    if external_id == project.external_id:
        return False
    check_not_withdrawn(project)
    old, project.external_id = project.external_id, external_id
    project.updated_at = clock.now()
    session.flush()
    record_change(
        session,
        project,
        action="update",
        changes={"external_id": {"old": old, "new": external_id}},
        user=user,
    )
    session.flush()
    return True


def check_external_id(session: Session, project: Project, external_id: str | None) -> str | None:
    """Return the city's number tidied (None for none), or refuse one another project has."""
    external_id = (external_id or "").strip() or None
    if external_id is None or external_id == project.external_id:
        return external_id
    taken = session.scalar(
        select(Project.id).where(Project.external_id == external_id, Project.id != project.id)
    )
    if taken is not None:
        raise BadInput(
            _(
                "%(number)s は既に事業 %(project)d の番号です",
                number=external_id,
                project=taken,
            ),
            code="taken",
            field="external_id",
        )
    return external_id


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
        "facility_id": project.facility_id,
        "details": dict(project.details or {}),
    }
    for field in REGISTER_FIELDS:
        values[field] = getattr(project, field)
    for field in DATE_FIELDS:
        value = getattr(project, field)
        values[field] = value if geometry_as_shape else _jsonable(value)
    return values


def check_facility(session: Session, facility_id: object) -> int | None:
    """Return the id of a facility in force that a work may link to, or refuse it."""
    if facility_id is None:
        return None
    if isinstance(facility_id, bool) or not isinstance(facility_id, int):
        raise BadInput(_("施設は番号で指定してください"), field="facility_id")
    # A number the database cannot hold names no facility (rather than failing the query).
    facility = session.get(Facility, facility_id) if 0 < facility_id <= MAX_DB_INTEGER else None
    if facility is None or facility.withdrawn_at is not None:
        raise BadInput(_("この施設はありません（ID %(id)s）", id=facility_id), field="facility_id")
    return facility.id


def _check_name(name: object) -> str:
    name = (name or "").strip() if isinstance(name, str | None) else None
    if not name:
        raise BadInput(_("事業名を入力してください"), code="required", field="name")
    return check_name("name", name, limit=NAME_MAX)


def _check_department(department: object) -> str:
    department = (department or "").strip() if isinstance(department, str | None) else None
    if not department:
        raise BadInput(_("担当課を入力してください"), code="required", field="department")
    return check_name("department", department, limit=DEPARTMENT_MAX)


def _check_dates(values: dict) -> None:
    for label in ("planned", "actual"):
        start, end = values.get(f"{label}_start"), values.get(f"{label}_end")
        for field, value in ((f"{label}_start", start), (f"{label}_end", end)):
            if value is not None and not isinstance(value, date):
                raise BadInput(_("日付で指定してください"), code="invalid_date", field=field)
            if value is not None and value.year not in YEAR_RANGE:
                # The same range the API's date parser holds the form to.
                raise BadInput(
                    _("2000〜2100年の日付を入れてください"), code="out_of_range", field=field
                )
        if start and end and end < start:
            raise BadInput(
                _("開始日より前の日付です"), code="ends_before_start", field=f"{label}_end"
            )


def _same_shape(a: BaseGeometry | None, b: BaseGeometry | None) -> bool:
    if a is None or b is None:
        return a is b
    # Normalised first: a ring written the other way round (Shapefiles turn outer rings
    # clockwise) or starting at another vertex is the same shape.
    return a.geom_type == b.geom_type and a.normalize().equals_exact(
        b.normalize(), GEOMETRY_TOLERANCE
    )


def _geojson(geom: BaseGeometry | None) -> dict | None:
    return None if geom is None else json.loads(shapely.to_geojson(geom))


def _jsonable(value: object) -> object:
    return value.isoformat() if isinstance(value, date) else value
