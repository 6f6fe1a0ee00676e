"""Reads for the field update flow: projects near a phone, an update as JSON."""

from geoalchemy2 import Geography
from geoalchemy2.shape import to_shape
from sqlalchemy import cast, func, select
from sqlalchemy.orm import Session

from tracker.projects.models import Project, StatusUpdate
from tracker.projects.vocab import KINDS, STATUSES

NEAR_RADIUS_M = 10_000
NEAR_LIMIT = 10  # a phone screen or two; the search and the map find the rest
# Degrees that surely cover a metre at Aso's latitude (1° of longitude ≈ 93 km there):
# a cheap box that lets the geometry index pick candidates before the exact test.
_DEGREES_PER_METRE = 1 / 80_000


def projects_near(
    session: Session,
    *,
    lon: float | None = None,
    lat: float | None = None,
    name: str = "",
    radius_m: float = NEAR_RADIUS_M,
    limit: int = NEAR_LIMIT,
) -> list[dict]:
    """Return projects near a point (nearest first) and/or whose name contains a text."""
    distance = None
    stmt = select(
        Project.id, Project.name, Project.kind, Project.status, Project.progress, Project.is_public
    )
    if lon is not None and lat is not None:
        point = func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326)
        here = cast(point, Geography)
        there = cast(Project.geom, Geography)
        distance = func.ST_Distance(there, here)
        stmt = stmt.add_columns(distance.label("distance_m"))
        if not name:
            stmt = stmt.where(
                Project.geom.op("&&")(func.ST_Expand(point, radius_m * _DEGREES_PER_METRE)),
                func.ST_DWithin(there, here, radius_m),
            )
        stmt = stmt.order_by(there.op("<->")(here), Project.id)
    else:
        stmt = stmt.order_by(Project.name, Project.id)
    if name:
        pattern = "%" + name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(Project.name.ilike(pattern, escape="\\"))
    rows = session.execute(stmt.limit(limit)).mappings()
    return [
        {
            "id": row["id"],
            "name": row["name"],
            "kind": row["kind"],
            "kind_label": KINDS[row["kind"]],
            "status": row["status"],
            "status_label": STATUSES[row["status"]],
            "progress": row["progress"],
            "public": row["is_public"],
            "distance_m": round(row["distance_m"]) if distance is not None else None,
        }
        for row in rows
    ]


def update_json(update: StatusUpdate, *, full: bool, photo_url=None) -> dict:
    """Return an update as JSON: dates, statuses and progress, plus everything else when full."""
    data = {
        "recorded_at": update.recorded_at.isoformat(),
        "previous_status": update.previous_status,
        "status": update.status,
        "progress": update.progress,
    }
    if not full:
        return data
    position = None
    if update.position is not None:
        point = to_shape(update.position)
        position = {"lat": point.y, "lon": point.x}
    author = update.author
    return {
        "id": update.id,
        "project_id": update.project_id,
        **data,
        "note": update.note,
        "client_id": str(update.client_id) if update.client_id else None,
        "author": None
        if author is None
        else {"id": author.id, "name": author.display_name or author.login},
        "position": position,
        "photos": [
            {
                "id": photo.id,
                "width": photo.width,
                "height": photo.height,
                "thumb_url": photo_url(photo, "thumb") if photo_url else None,
                "display_url": photo_url(photo, "display") if photo_url else None,
            }
            for photo in update.photos
        ],
    }
