"""New works recorded from the site (the phone's /staff/works/new), online or queued offline.

One request makes the work and its first status update (status, note, photos, the time on
site) as one transaction. The phone sends a client_id with it; the first update keeps it,
so a create sent again (a retry after a lost answer) returns the work it made: once only.
"""

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shapely.geometry import LineString, MultiLineString, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from tracker.accounts.models import User
from tracker.core import clock
from tracker.core.errors import BadInput
from tracker.core.translate import gettext as _
from tracker.projects.history import (
    StatusUpdate,
    append_status,
    check_client_id,
    check_observed_at,
)
from tracker.projects.models import Project
from tracker.projects.operations import create_project
from tracker.updates.parsing import read_instant, read_photos
from tracker.updates.photos import PreparedPhoto, attach_photos_once
from tracker.words.details import check_details


@dataclass
class NewFieldWork:
    """A work as the phone sent it, read but not yet checked against the rules."""

    client_id: uuid.UUID
    kind: str
    name: str
    department: str
    geometry: BaseGeometry
    status: str
    progress: int
    note: str
    observed_at: datetime | None
    photos: list[PreparedPhoto]
    details: dict[str, Any]


def read_field_work(form: dict[str, Any], photos: list) -> NewFieldWork:
    """Read a new work from the phone's form fields, naming the field that is wrong."""
    client_id = check_client_id(form.get("client_id"))
    if client_id is None:
        raise BadInput(_("client_id がありません"), field="client_id")
    progress_text = str(form.get("progress") or "0").strip()
    if not progress_text.isdigit():
        raise BadInput(_("進捗は0〜100の整数で入れてください"), field="progress")
    kind = str(form.get("kind") or "").strip()
    return NewFieldWork(
        client_id=client_id,
        kind=kind,
        name=str(form.get("name") or ""),
        department=str(form.get("department") or "").strip(),
        geometry=read_geometry(form.get("geometry")),
        status=str(form.get("status") or "planned").strip(),
        progress=int(progress_text),
        note=str(form.get("note") or ""),
        observed_at=read_instant(form.get("observed_at")),
        photos=read_photos(photos),
        details=check_details(kind, form.get("details")),
    )


def read_geometry(text: Any) -> BaseGeometry:
    """Read the work's place (a GeoJSON geometry as text); a line may not cross itself."""
    if not isinstance(text, str) or not text.strip():
        raise BadInput(
            _("位置がありません。現在地か地図のタップ、または線で示してください"),
            field="geometry",
            code="required",
        )
    try:
        geometry = shape(json.loads(text))
    except (ValueError, TypeError, KeyError, AttributeError):
        raise BadInput(_("位置を読み取れませんでした"), field="geometry") from None
    # A traced walk that crosses its own path is no road's line; is_simple tells.
    if isinstance(geometry, LineString | MultiLineString) and not geometry.is_simple:
        raise BadInput(
            _("線が自分と交差しています。交差しないように引き直してください"),
            field="geometry",
            code="self_crossing",
        )
    return geometry


def created_before(session: Session, client_id: uuid.UUID) -> Project | None:
    """Return the work a create with this client_id already made, if any."""
    update = session.scalar(select(StatusUpdate).where(StatusUpdate.client_id == client_id))
    return None if update is None else session.get(Project, update.project_id)


def create_field_work(session: Session, work: NewFieldWork, user: User) -> tuple[Project, bool]:
    """Create the work and its first update; return it and whether it is new.

    The rules are those of any new work (kind, name, department the person belongs to,
    inside the city, shape of its kind), then those of a status update (from 未着手).
    """
    existing = created_before(session, work.client_id)
    if existing is not None:
        return existing, False
    # The work exists from when it was found on site, so its first update, seen then,
    # is not earlier than the work; a time on site too old or ahead is refused as ever.
    found_at = None
    if work.observed_at is not None:
        found_at = min(check_observed_at(work.observed_at, clock.now()), clock.now())
    project = create_project(
        session,
        name=work.name,
        kind=work.kind,
        geometry=work.geometry,
        department=work.department,
        user=user,
        created_at=found_at,
        details=work.details,
    )
    update = append_status(
        session,
        project.id,
        status=work.status,
        progress=work.progress,
        note=work.note,
        user=user,
        client_id=work.client_id,
        observed_at=work.observed_at,
    )
    attach_photos_once(session, update, work.photos)
    return project, True


def read_bbox(text: str) -> tuple[float, float, float, float]:
    """Read west,south,east,north in degrees."""
    try:
        west, south, east, north = (float(part) for part in text.split(","))
    except ValueError:
        raise BadInput(_("bbox は 西,南,東,北 の4つの数で指定してください"), field="bbox") from None
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise BadInput(_("bbox は 西,南,東,北 の4つの数で指定してください"), field="bbox")
    return west, south, east, north


CHANGED_LIMIT = 200


def changed_works(
    session: Session, since: datetime, boxes: list[tuple[float, float, float, float]]
) -> list[Project]:
    """Return the works changed after `since` that touch one of the boxes (any, if none)."""
    query = select(Project).where(Project.updated_at > since, Project.withdrawn_at.is_(None))
    if boxes:
        query = query.where(
            or_(*(Project.geom.ST_Intersects(func.ST_MakeEnvelope(*box, 4326)) for box in boxes))
        )
    return list(session.scalars(query.order_by(Project.updated_at.desc()).limit(CHANGED_LIMIT)))
