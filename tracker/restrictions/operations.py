"""Writes to traffic restrictions; views and loaders call these, never the tables.

Each event has one function, which also appends it to the restriction's history and queues
it in the outbox for the residents near it:
add_restriction (a restriction was added), change_restriction (changed) and
end_restriction (lifted).
"""

import csv
import json
import re
from datetime import date, time
from pathlib import Path
from typing import Any

import shapely
from geoalchemy2 import WKBElement
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from tracker.accounts.models import User
from tracker.core import clock
from tracker.core.errors import BadInput
from tracker.core.translate import gettext as _
from tracker.geo.geometry import LINE_TYPES, check_placed, flat_geometry, parse_geometry
from tracker.outbox.operations import record_event
from tracker.projects.departments import check_may_change, check_not_withdrawn
from tracker.projects.models import Project
from tracker.restrictions.models import (
    DESCRIPTION_MAX,
    TEXT_MAX,
    RestrictionChange,
    TrafficRestriction,
)
from tracker.words.vocab import RESTRICTION_DAYS, RESTRICTION_KINDS

# The fields of a restriction people set, by the names the forms and the API share.
FIELDS = (
    "kind",
    "starts_on",
    "ends_on",
    "days",
    "time_from",
    "time_until",
    "description",
    "reason",
    "contact",
    "section",
    "detour",
)
# The outbox event each kind of history entry is announced as.
OUTBOX_EVENTS = {
    "create": "restriction_added",
    "update": "restriction_changed",
    "lift": "restriction_lifted",
}
# Coordinates closer than this (degrees, about 10 cm) are the same line.
GEOMETRY_TOLERANCE = 1e-6


class StaleRestriction(Exception):
    """A change made on a form that showed an older version of the restriction."""

    def __init__(self, restriction: TrafficRestriction, changed_fields: list[str]) -> None:
        super().__init__(f"restriction {restriction.id} changed since the form was opened")
        self.restriction = restriction
        self.changed_fields = changed_fields


def parse_time(raw: object, field: str) -> time | None:
    """Read a time of day HH:MM given for `field`; empty means none."""
    if isinstance(raw, time):
        return raw
    raw = "" if raw is None else str(raw).strip()
    if not raw:
        return None
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", raw)
    if match and int(match.group(1)) < 24 and int(match.group(2)) < 60:
        return time(int(match.group(1)), int(match.group(2)))
    raise BadInput(
        _("時刻は 8:30 のように入れてください（%(value)s）", value=raw[:10]), field=field
    )


def check_restriction(session: Session, values: dict[str, Any]) -> dict[str, Any]:
    """Return the fields of a restriction checked, or refuse the first wrong one, saying why.

    `section` and `detour` are shapely lines (or None), refused as project geometries are.
    """
    checked = dict(values)
    if checked.get("kind") not in RESTRICTION_KINDS:
        raise BadInput(_("規制の種類を選んでください"), field="kind")
    starts_on, ends_on = checked.get("starts_on"), checked.get("ends_on")
    if starts_on is None:
        raise BadInput(_("開始日を入れてください"), field="starts_on")
    if ends_on is not None and ends_on < starts_on:
        raise BadInput(_("終了日が開始日より前になっています"), field="ends_on")
    if checked.get("days") not in RESTRICTION_DAYS:
        raise BadInput(_("規制する日（毎日・平日・土日祝）を選んでください"), field="days")
    time_from = parse_time(checked.get("time_from"), "time_from")
    time_until = parse_time(checked.get("time_until"), "time_until")
    if (time_from is None) != (time_until is None):
        field = "time_until" if time_until is None else "time_from"
        raise BadInput(
            _("時間帯は始まりと終わりの両方を入れてください（終日なら両方空欄）"), field=field
        )
    if time_from is not None and time_from == time_until:
        raise BadInput(_("時間帯の始まりと終わりが同じです"), field="time_until")
    checked["time_from"], checked["time_until"] = time_from, time_until
    description = (checked.get("description") or "").strip()
    if not description:
        raise BadInput(_("通行する人に何が変わるかを短く書いてください"), field="description")
    if len(description) > DESCRIPTION_MAX:
        raise BadInput(_("%(n)d文字以内で書いてください", n=DESCRIPTION_MAX), field="description")
    checked["description"] = description
    for field in ("reason", "contact"):
        text = (checked.get(field) or "").strip()
        if len(text) > TEXT_MAX:
            raise BadInput(_("%(n)d文字以内で書いてください", n=TEXT_MAX), field=field)
        checked[field] = text
    for field, subject in (("section", "restriction"), ("detour", "detour")):
        shape = checked.get(field)
        if shape is not None:
            shape = flat_geometry(shape)
            checked[field] = check_placed(session, shape, LINE_TYPES, subject=subject)
    return checked


def add_restriction(
    session: Session,
    project: Project,
    *,
    kind: str,
    starts_on: date,
    ends_on: date | None = None,
    description: str,
    days: str = "every_day",
    time_from: time | str | None = None,
    time_until: time | str | None = None,
    reason: str = "",
    contact: str = "",
    section: BaseGeometry | None = None,
    detour: BaseGeometry | None = None,
    user: User | None = None,
) -> TrafficRestriction:
    """Record a traffic restriction on a project after checking every field, with its history.

    Only who may change the work's department restricts traffic for it (OtherDepartment).
    """
    check_may_change(user, project.department)
    check_not_withdrawn(project)
    values = check_restriction(
        session,
        {
            "kind": kind,
            "starts_on": starts_on,
            "ends_on": ends_on,
            "days": days,
            "time_from": time_from,
            "time_until": time_until,
            "description": description,
            "reason": reason,
            "contact": contact,
            "section": section,
            "detour": detour,
        },
    )
    restriction = TrafficRestriction(project=project)
    _apply(restriction, values)
    session.add(restriction)
    session.flush()
    _record(
        session,
        restriction,
        "create",
        {field: {"old": None, "new": _jsonable(values[field])} for field in FIELDS},
        user,
    )
    return restriction


def change_restriction(
    session: Session,
    restriction: TrafficRestriction,
    changes: dict[str, Any],
    *,
    expected_version: int,
    user: User | None,
) -> TrafficRestriction:
    """Apply changed fields to a restriction edited at `expected_version`, with its history.

    Refuses a change made on an older version (StaleRestriction), and one to a lifted
    restriction. Changing nothing changes nothing. Only who may change the work's department
    changes its restrictions (OtherDepartment).
    """
    check_may_change(user, restriction.project.department)
    check_not_withdrawn(restriction.project)
    if restriction.version != expected_version:
        raise StaleRestriction(
            restriction, _fields_changed_since(session, restriction, expected_version)
        )
    if restriction.ended_at is not None:
        raise BadInput(
            _("解除済みの規制は変更できません。新しく登録してください"), field="restriction"
        )
    unknown = [f for f in changes if f not in FIELDS]
    if unknown:
        raise BadInput("not a field of a traffic restriction", field=unknown[0])
    old = restriction_values(restriction)
    new = check_restriction(session, old | changes)
    diff = {
        field: {"old": _jsonable(old[field]), "new": _jsonable(new[field])}
        for field in FIELDS
        if not _same(old[field], new[field])
    }
    if not diff:
        return restriction
    _apply(restriction, new)
    restriction.updated_at = clock.now()
    session.flush()
    _record(session, restriction, "update", diff, user)
    return restriction


def end_restriction(
    session: Session, restriction: TrafficRestriction, *, user: User | None = None
) -> TrafficRestriction:
    """Lift a restriction now, with its history; lifting one already lifted changes nothing.

    Only who may change the work's department lifts its restrictions (OtherDepartment).
    """
    check_may_change(user, restriction.project.department)
    if restriction.ended_at is None:
        restriction.ended_at = clock.now()
        restriction.updated_at = clock.now()
        session.flush()
        session.refresh(restriction, ["ended_at"])
        if restriction.ended_at is None:
            raise RuntimeError(f"restriction {restriction.id} was lifted but has no lifting time")
        _record(
            session,
            restriction,
            "lift",
            {"ended_at": {"old": None, "new": restriction.ended_at.isoformat()}},
            user,
        )
    return restriction


def restriction_values(restriction: TrafficRestriction) -> dict[str, Any]:
    """Return a restriction's fields by their form names (lines as shapely geometries)."""
    return {
        "kind": restriction.kind,
        "starts_on": restriction.starts_on,
        "ends_on": restriction.ends_on,
        "days": restriction.days,
        "time_from": restriction.time_from,
        "time_until": restriction.time_until,
        "description": restriction.description,
        "reason": restriction.reason,
        "contact": restriction.contact,
        "section": to_shape(restriction.geom) if restriction.geom is not None else None,
        "detour": to_shape(restriction.detour_geom)
        if restriction.detour_geom is not None
        else None,
    }


def _apply(restriction: TrafficRestriction, values: dict[str, Any]) -> None:
    for field in ("kind", "starts_on", "ends_on", "days", "time_from", "time_until"):
        setattr(restriction, field, values[field])
    for field in ("description", "reason", "contact"):
        setattr(restriction, field, values[field])
    restriction.geom = _stored(values["section"])
    restriction.detour_geom = _stored(values["detour"])


def _stored(shape: BaseGeometry | None) -> WKBElement | None:
    return None if shape is None else from_shape(shape, srid=4326)


def _record(
    session: Session,
    restriction: TrafficRestriction,
    action: str,
    changes: dict,
    user: User | None,
) -> None:
    change = RestrictionChange(
        restriction_id=restriction.id,
        user_id=user.id if user is not None else None,
        action=action,
        changes=changes,
        version=restriction.version,
        # The moment itself, not the transaction's start: events read in their order.
        recorded_at=clock.now(),
    )
    session.add(change)
    session.flush()
    # Residents near it are told; queued here, the news is kept exactly when the change is.
    record_event(
        session,
        OUTBOX_EVENTS[action],
        project_id=restriction.project_id,
        restriction_id=restriction.id,
        restriction_change_id=change.id,
    )


def _fields_changed_since(
    session: Session, restriction: TrafficRestriction, version: int
) -> list[str]:
    fields: dict[str, None] = {}
    for changes in session.scalars(
        select(RestrictionChange.changes)
        .where(
            RestrictionChange.restriction_id == restriction.id,
            RestrictionChange.version > version,
        )
        .order_by(RestrictionChange.id)
    ):
        fields.update(dict.fromkeys(changes))
    return list(fields)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, BaseGeometry) or isinstance(b, BaseGeometry):
        if a is None or b is None:
            return a is b
        return a.geom_type == b.geom_type and a.equals_exact(b, GEOMETRY_TOLERANCE)
    return a == b


def _jsonable(value: object) -> object:
    if isinstance(value, BaseGeometry):
        return json.loads(shapely.to_geojson(value))
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return value


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
            days=row["days"] or "every_day",
            time_from=row["time_from"],
            time_until=row["time_until"],
            section=parse_geometry(row["section"]) if row["section"] else None,
            detour=parse_geometry(row["detour"]) if row["detour"] else None,
            reason=row["reason"],
            contact=row["contact"],
            description=row["description"],
        )
        added += 1
    return f"sample restrictions: loaded {added}"
