"""Reads for the field update flow: projects near a phone, an update as JSON."""

from geoalchemy2.shape import to_shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.projects.models import Project, StatusUpdate
from tracker.projects.vocab import kind_label, status_label

NEAR_RADIUS_M = 10_000
NEAR_LIMIT = 10  # a phone screen or two; the search and the map find the rest


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
    columns = [
        Project.id,
        Project.name,
        Project.kind,
        Project.status,
        Project.progress,
        Project.is_public,
    ]
    stmt = select(*columns)
    if name:
        pattern = "%" + name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(Project.name.ilike(pattern, escape="\\"))
    near = lon is not None and lat is not None
    if near:
        # geography(...) rather than CAST(... AS Geography): GeoAlchemy2 renders the
        # cast with a typmod, which no longer matches the index expression geom::geography.
        here = func.geography(func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326))
        there = func.geography(Project.geom)
        # Nearest first straight from the geography index (ix_projects_geog), which stops
        # after `limit` rows; an ST_DWithin filter in the same query made the planner read
        # every project within the radius instead (a third of the city at 100,000).
        distance = func.ST_Distance(there, here).label("distance_m")
        if name:
            # Few projects match a name: sort those, rather than walk the index from
            # the nearest until enough match (all of it, for a name that matches none).
            stmt = stmt.add_columns(distance).order_by(distance, Project.id).limit(limit)
        else:
            inner = (
                stmt.add_columns(distance).order_by(there.op("<->")(here)).limit(limit).subquery()
            )
            stmt = (
                select(inner)
                .where(inner.c.distance_m <= radius_m)
                .order_by(inner.c.distance_m, inner.c.id)
            )
    else:
        stmt = stmt.order_by(Project.name, Project.id).limit(limit)
    return [
        {
            "id": row["id"],
            "name": row["name"],
            "kind": row["kind"],
            "kind_label": kind_label(row["kind"]),
            "status": row["status"],
            "status_label": status_label(row["status"]),
            "progress": row["progress"],
            "public": row["is_public"],
            "distance_m": round(row["distance_m"]) if near else None,
        }
        for row in session.execute(stmt).mappings()
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
