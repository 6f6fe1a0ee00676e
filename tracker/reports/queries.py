"""Reads of reports: the public's (accepted reports, public words only) and the staff queue."""

from datetime import datetime
from functools import cache

from flask import url_for
from geoalchemy2.shape import to_shape
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from tracker.accounts.models import User
from tracker.core.translate import gettext as _
from tracker.geo.geometry import in_circle, point_parameter
from tracker.reports.models import (
    OPEN_STATES,
    STATE_COLOURS,
    STATES,
    Report,
    ReportStateChange,
)
from tracker.reports.operations import visible_to

PUBLIC_LIMIT = 500
QUEUE_PAGE = 100


def public_where() -> Select:
    """Return the select of reports the public may see: accepted, not merged into another."""
    return select(Report).where(Report.is_public.is_(True), Report.duplicate_of.is_(None))


def public_reports(session: Session, *, state: str | None = None) -> list[Report]:
    """Return accepted reports, newest first."""
    query = public_where().order_by(Report.received_at.desc(), Report.id.desc()).limit(PUBLIC_LIMIT)
    if state in STATES:
        query = query.where(Report.state == state)
    return list(session.scalars(query))


def public_reports_near(session: Session, lon: float, lat: float, radius_m: int) -> list[Report]:
    """Return accepted reports within a circle, nearest first."""
    circle = {"lon": lon, "lat": lat, "radius": radius_m}
    return list(session.scalars(_public_near(), circle))


# Built once (a nearby page asks for every place): only its parameters change.
@cache
def _public_near() -> Select:
    place = func.geography(Report.geom)
    return (
        public_where()
        .where(in_circle(place))
        .order_by(func.ST_Distance(place, func.geography(point_parameter())))
        .limit(50)
    )


def lon_lat(session: Session, report: Report) -> tuple[float, float]:
    """Return a report's place."""
    row = session.execute(
        select(func.ST_X(Report.geom), func.ST_Y(Report.geom)).where(Report.id == report.id)
    ).one()
    return float(row[0]), float(row[1])


def point_of(report: Report) -> tuple[float, float]:
    """Return a report's (lon, lat), read from its row without a query."""
    shape = to_shape(report.geom)
    return float(shape.x), float(shape.y)  # type: ignore[attr-defined]


def public_summary(report: Report, lang: str) -> dict:
    """Return what the public may know of a report: words, state and photo only once it is
    accepted; never the address."""
    summary: dict = {
        "id": report.id,
        "category": report.category.label(lang),
        "state": report.state,
        "stateLabel": _(STATES[report.state]),
        "colour": STATE_COLOURS[report.state],
        "received": report.received_at.date().isoformat(),
        "url": url_for("reports.public_report", report_id=report.id),
    }
    if report.is_public:
        lon, lat = point_of(report)
        summary.update(
            {
                "lon": lon,
                "lat": lat,
                "description": report.description,
                "answer": report.public_answer,
                "photo": url_for("reports.photo", photo_id=report.photos[0].id, variant="thumb")
                if report.photos
                else None,
            }
        )
    return summary


def public_history(session: Session, report: Report) -> list[ReportStateChange]:
    """Return a report's state history, oldest first."""
    return list(
        session.scalars(
            select(ReportStateChange)
            .where(ReportStateChange.report_id == report.id)
            .order_by(ReportStateChange.at, ReportStateChange.id)
        )
    )


def staff_queue(
    session: Session,
    user: User,
    *,
    state: str = "open",
    near: tuple[float, float] | None = None,
    limit: int = QUEUE_PAGE,
) -> list[tuple[Report, float | None]]:
    """Return the reports a staff member's queue shows (unassigned ones and those of their
    departments), newest first or nearest a point first, with the distance in metres."""
    query = (
        select(Report)
        .where(visible_to(user), Report.duplicate_of.is_(None))
        .options(selectinload(Report.photos))
    )
    if state == "open":
        query = query.where(Report.state.in_(OPEN_STATES))
    elif state in STATES:
        query = query.where(Report.state == state)
    if near is not None:
        point = func.geography(func.ST_SetSRID(func.ST_MakePoint(*near), 4326))
        distance = func.ST_Distance(func.geography(Report.geom), point)
        # <-> walks ix_reports_geog nearest first instead of measuring every report.
        nearest = func.geography(Report.geom).op("<->")(point)
        rows = session.execute(
            query.add_columns(distance).order_by(nearest, Report.id).limit(limit)
        ).all()
        return [(r, float(d)) for r, d in rows]
    query = query.order_by(Report.received_at.desc(), Report.id.desc()).limit(limit)
    return [(r, None) for r in session.scalars(query)]


def count_open(session: Session, user: User) -> int:
    """Return how many open reports a staff member's queue holds."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Report)
            .where(visible_to(user), Report.duplicate_of.is_(None), Report.state.in_(OPEN_STATES))
        )
        or 0
    )


def merged_into(session: Session, report: Report) -> list[Report]:
    """Return the reports merged into this one."""
    return list(session.scalars(select(Report).where(Report.duplicate_of == report.id)))


def as_iso(value: datetime) -> str:
    """Return an aware instant in ISO 8601 with its offset."""
    return value.isoformat()
