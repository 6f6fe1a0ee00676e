"""Read projects as GeoJSON built in SQL; the map, the API and the exports all read from here."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any

import numpy as np
from flask import abort
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ColumnElement,
    FromClause,
    Select,
    SQLColumnExpression,
    Subquery,
    Text,
    and_,
    bindparam,
    case,
    cast,
    exists,
    func,
    literal_column,
    or_,
    select,
    text,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from tracker.core.clock import JST
from tracker.core.db import read_row_binary
from tracker.core.errors import BadInput
from tracker.core.translate import gettext
from tracker.core.translate import gettext as _
from tracker.plan.models import Indicator, PlanItem
from tracker.projects.audit import ProjectChange
from tracker.projects.history import StatusUpdate
from tracker.projects.models import (
    Project,
    lock_project,
    project_indicators,
    project_plan_items,
    visible_works,
)
from tracker.projects.register import AMOUNT_FIELDS, PUBLIC_REGISTER_FIELDS, REGISTER_FIELDS
from tracker.words.formatting import YEAR_RANGE, parse_day
from tracker.words.vocab import KINDS, STATUSES

# Six decimals of a degree is about 10 cm: enough for any project and small on the wire.
COORDINATE_DECIMALS = 6
# A degree of longitude at Aso's latitude is cos 33° of a degree of latitude.
LON_SCALE = 0.839


@dataclass
class ProjectFilter:
    """Which projects to read."""

    kinds: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    bbox: tuple[float, float, float, float] | None = None
    include_private: bool = False
    # Withdrawn works are left out of every list; only a work's own page reads one.
    include_withdrawn: bool = False
    ids: list[int] | None = None
    # Plan item codes; a project matches when linked to the item or to one below it.
    plan_items: list[str] = field(default_factory=list)
    indicators: list[str] = field(default_factory=list)
    departments: list[str] = field(default_factory=list)
    # Fiscal years (named by their April's year) that the planned period overlaps.
    fiscal_years: list[int] = field(default_factory=list)
    name_search: str = ""
    # Read status and progress as they stood at the end of this day in Japan time.
    as_of: date | None = None

    def narrows_only_visibility(self) -> bool:
        """Tell whether the filter keeps every work the reader may see."""
        return self == ProjectFilter(include_private=self.include_private)

    @classmethod
    def from_args(
        cls, args: MultiDict[str, str], *, include_private: bool = False
    ) -> "ProjectFilter":
        """Read filters from query arguments, refusing malformed ones with a clear message."""
        return cls(
            kinds=parse_codes(args, "kind", KINDS),
            statuses=parse_codes(args, "status", STATUSES),
            bbox=parse_bbox(args.get("bbox")),
            include_private=include_private,
        )

    @classmethod
    def from_meeting_args(
        cls, args: MultiDict[str, str], *, include_private: bool = False
    ) -> "ProjectFilter":
        """Read the meeting map's filters as well; plan items and indicators are checked later."""
        filt = cls.from_args(args, include_private=include_private)
        filt.plan_items = _values(args, "plan_item")
        filt.indicators = _values(args, "indicator")
        filt.departments = _values(args, "department")
        filt.fiscal_years = [_fiscal_year(v) for v in _values(args, "fiscal_year")]
        filt.name_search = (args.get("q") or "").strip()[:100]
        filt.as_of = parse_day(args.get("as_of"), "as_of")
        return filt

    def check_codes(self, session: Session | None) -> None:
        """Refuse plan item and indicator codes that do not exist (None: there must be none)."""
        for model, codes, name in (
            (PlanItem, self.plan_items, "plan_item"),
            (Indicator, self.indicators, "indicator"),
        ):
            if not codes:
                continue
            if session is None:
                raise ValueError(f"{name} codes are checked in the database: give a session")
            found = set(session.scalars(select(model.code).where(model.code.in_(codes))))
            unknown = [c for c in codes if c not in found]
            if unknown:
                raise BadInput(
                    _("「%(codes)s」は計画にありません", codes=_("」「").join(unknown)),
                    code="unknown_value",
                    field=name,
                )

    def query_args(self) -> list[tuple[str, str]]:
        """Return the filter as query arguments, so that a view can be linked and reopened."""
        pairs = [("kind", v) for v in self.kinds] + [("status", v) for v in self.statuses]
        pairs += [("plan_item", v) for v in self.plan_items]
        pairs += [("indicator", v) for v in self.indicators]
        pairs += [("department", v) for v in self.departments]
        pairs += [("fiscal_year", str(v)) for v in self.fiscal_years]
        if self.name_search:
            pairs.append(("q", self.name_search))
        if self.bbox:
            pairs.append(("bbox", ",".join(str(n) for n in self.bbox)))
        if self.as_of:
            pairs.append(("as_of", self.as_of.isoformat()))
        return pairs


def end_of_day(day: date) -> datetime:
    """Return the first instant after the day ends in Japan time."""
    return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=JST)


def _values(args: MultiDict[str, str], name: str) -> list[str]:
    return list(
        dict.fromkeys(v.strip() for raw in args.getlist(name) for v in raw.split(",") if v.strip())
    )


def _fiscal_year(raw: str) -> int:
    try:
        year = int(raw)
    except ValueError:
        year = None
    if year is None or year not in YEAR_RANGE:
        raise BadInput(
            _("2000〜2100 の西暦の年で指定してください（%(value)s）", value=raw[:20]),
            code="out_of_range",
            field="fiscal_year",
        )
    return year


def parse_codes(args: MultiDict[str, str], name: str, allowed: dict[str, Any]) -> list[str]:
    """Read one or several codes (repeated or comma-separated), refusing unknown ones."""
    values = [v.strip() for raw in args.getlist(name) for v in raw.split(",") if v.strip()]
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise BadInput(
            _(
                "「%(values)s」は選べません。%(allowed)s のどれかを指定してください",
                values=_("」「").join(unknown),
                allowed=_("、").join(gettext(word) for word in allowed.values()),
            ),
            code="unknown_value",
            # Programs get the codes to send; people read the words above.
            extra={"allowed": list(allowed)},
            field=name,
        )
    return values


def parse_bbox(raw: str | None) -> tuple[float, float, float, float] | None:
    """Read ?bbox=minlon,minlat,maxlon,maxlat, refusing anything else with a clear message."""
    if raw is None:
        return None
    parts = raw.split(",")
    try:
        numbers = tuple(float(p) for p in parts)
    except ValueError:
        numbers = ()
    if len(numbers) != 4 or any(n != n or n in (float("inf"), float("-inf")) for n in numbers):
        raise BadInput(
            _("4つの数値 minlon,minlat,maxlon,maxlat で指定してください"),
            code="invalid_format",
            field="bbox",
        )
    min_lon, min_lat, max_lon, max_lat = numbers
    if not (-180 <= min_lon < max_lon <= 180 and -90 <= min_lat < max_lat <= 90):
        raise BadInput(
            _("minlon < maxlon（±180以内）、minlat < maxlat（±90以内）で指定してください"),
            code="out_of_range",
            field="bbox",
        )
    return numbers


def history_as_of(day: date) -> Subquery:
    """Return a subquery of each project's latest status and progress at the end of `day`."""
    return status_at(end_of_day(day))


def status_at(instant: datetime | None, project_ids: Select | None = None) -> Subquery:
    """Return a subquery of each project's status and progress just before `instant` (or now).

    Read by the time things happened on site; `project_ids` limits it to the projects that
    select names.
    """
    # One ordered pass over the history (its index holds status and progress) beats a
    # lookup per project once the whole city is counted.
    query = (
        select(StatusUpdate.project_id, StatusUpdate.status, StatusUpdate.progress)
        .distinct(StatusUpdate.project_id)
        .order_by(StatusUpdate.project_id, StatusUpdate.observed_at.desc(), StatusUpdate.id.desc())
    )
    if instant is not None:
        query = query.where(StatusUpdate.observed_at < instant)
    if project_ids is not None:
        query = query.where(StatusUpdate.project_id.in_(project_ids))
    return query.subquery("h")


def register_at(instant: datetime) -> Subquery:
    """Return a subquery of each project's works-register values just before `instant`,
    read from the audit trail (the newest recorded value of each field)."""
    c = ProjectChange
    columns = []
    for name in REGISTER_FIELDS:
        values = func.array_agg(
            aggregate_order_by(c.changes[name]["new"].astext, c.recorded_at.desc(), c.id.desc())
        ).filter(c.changes.has_key(name))
        newest = type_coerce(values, ARRAY(Text))[1]
        if name in AMOUNT_FIELDS:
            newest = cast(newest, BigInteger)
        columns.append(newest.label(name))
    return (
        select(c.project_id, *columns)
        .where(c.recorded_at < instant)
        .group_by(c.project_id)
        .subquery("register")
    )


def filtered_projects(filt: ProjectFilter) -> Select:
    """Return a SELECT of the projects table limited by the filter.

    With `as_of`, status and progress come from the history and the works-register
    values from the audit trail, as they stood at the end of that day.
    """
    table = Project.__table__
    status: SQLColumnExpression[str] = Project.status
    if filt.as_of is None:
        query = select(table)
    else:
        # Same columns, but status and progress read from the history, the register from the
        # audit trail, and work dates not yet reached left blank: every column shows that day.
        # Projects created later have no history row yet, so the inner join leaves them out.
        # Grouped by project, the register subquery is dropped by the planner when nothing
        # reads it.
        h = history_as_of(filt.as_of)
        r = register_at(end_of_day(filt.as_of))
        status = h.c.status
        query = (
            select(*(_as_of_column(c, h, r, filt.as_of) for c in table.columns))
            .select_from(table)
            .join(h, h.c.project_id == Project.id)
            .outerjoin(r, r.c.project_id == Project.id)
            .where(Project.created_at < end_of_day(filt.as_of))
        )
    if not filt.include_withdrawn:
        query = query.where(visible_works(Project, include_private=filt.include_private))
    elif not filt.include_private:
        query = query.where(Project.is_public.is_(True))
    if filt.kinds:
        query = query.where(Project.kind.in_(filt.kinds))
    if filt.statuses:
        query = query.where(status.in_(filt.statuses))
    if filt.plan_items:
        matches = [
            or_(PlanItem.code == code, PlanItem.code.startswith(code + ".", autoescape=True))
            for code in filt.plan_items
        ]
        query = query.where(
            exists()
            .where(project_plan_items.c.project_id == Project.id)
            .where(project_plan_items.c.plan_item_id == PlanItem.id)
            .where(or_(*matches))
        )
    if filt.indicators:
        query = query.where(
            exists()
            .where(project_indicators.c.project_id == Project.id)
            .where(project_indicators.c.indicator_id == Indicator.id)
            .where(Indicator.code.in_(filt.indicators))
        )
    if filt.departments:
        query = query.where(Project.department.in_(filt.departments))
    if filt.fiscal_years:
        query = query.where(
            or_(
                *[
                    and_(
                        Project.planned_start <= date(year + 1, 3, 31),
                        func.coalesce(Project.planned_end, Project.planned_start)
                        >= date(year, 4, 1),
                    )
                    for year in filt.fiscal_years
                ]
            )
        )
    if filt.name_search:
        query = query.where(Project.name.contains(filt.name_search, autoescape=True))
    if filt.bbox:
        query = query.where(Project.geom.intersects(func.ST_MakeEnvelope(*filt.bbox, 4326)))
    if filt.ids is not None:
        query = query.where(Project.id.in_(filt.ids))
    return query


def _as_of_column(
    column: Column[Any], history: Subquery, register: Subquery, day: date
) -> ColumnElement[Any]:
    """Return a projects column as it read at the end of `day`."""
    if column.name in ("status", "progress"):
        return history.c[column.name]
    if column.name in REGISTER_FIELDS:
        return register.c[column.name]
    if column.name in ("actual_start", "actual_end"):
        # A work date after the day had not happened yet.
        return case((column <= day, column)).label(column.name)
    return column


def linked_codes(
    link_column: Column[int],
    target: type[PlanItem] | type[Indicator],
    project_id: ColumnElement[int],
) -> ColumnElement[Any]:
    """Return a correlated ARRAY of the codes a project links to through `link_column`."""
    link_table = link_column.table
    return func.array(
        select(target.code)
        .join(link_table, link_column == target.id)
        .where(link_table.c.project_id == project_id)
        .order_by(target.code)
        .scalar_subquery()
    )


def project_property_pairs(
    p: FromClause, *, full: bool, internal: bool = False, details: bool = False
) -> list:
    """Return the GeoJSON properties of a project row of `p` as alternating names and values.

    `full` adds the fields beyond the map's; `internal` the register fields only staff and
    viewers read; `details` the fields of the work's kind (one object, words.vocab.KIND_DETAILS).
    """
    pairs = [
        "id", p.c.id, "name", p.c.name, "kind", p.c.kind, "status", p.c.status,
        "progress", p.c.progress, "planned_start", p.c.planned_start,
        "planned_end", p.c.planned_end, "actual_start", p.c.actual_start,
        "actual_end", p.c.actual_end, "sample", p.c.is_sample,
        "position_only", p.c.position_only,
    ]  # fmt: skip
    if full:
        pairs += [
            "department", p.c.department,
            "plan_items", linked_codes(project_plan_items.c.plan_item_id, PlanItem, p.c.id),
            "indicators", linked_codes(project_indicators.c.indicator_id, Indicator, p.c.id),
            "public", p.c.is_public,
            "facility_id", p.c.facility_id,
        ]  # fmt: skip
        for name in REGISTER_FIELDS if internal else PUBLIC_REGISTER_FIELDS:
            pairs += [name, p.c[name]]
    if details:
        pairs += ["details", p.c.details]
    return pairs


def feature_json(
    p: FromClause, *, full: bool, internal: bool = False, extra: Sequence = ()
) -> ColumnElement[Any]:
    """Return a GeoJSON Feature (json) of each row of `p`, a subquery of projects.

    Public fields only unless `full`; `internal` adds the register fields for staff and
    viewers; `extra` adds (name, value, name, value, ...) properties.
    """
    # The OGC layers keep flat properties; the API and GeoJSON carry the kind's fields too.
    pairs = project_property_pairs(p, full=full, internal=internal, details=full)
    return func.json_build_object(
        "type", "Feature",
        "id", p.c.id,
        "geometry", cast(func.ST_AsGeoJSON(p.c.geom, COORDINATE_DECIMALS), JSON),
        "properties", func.json_build_object(*pairs, *extra),
    )  # fmt: skip


def _features(
    filt: ProjectFilter, *, full: bool, internal: bool = False
) -> tuple[Subquery, ColumnElement[Any]]:
    p = filtered_projects(filt).subquery("p")
    return p, feature_json(p, full=full, internal=internal)


def feature_collection(session: Session, filt: ProjectFilter, *, full: bool = True) -> str:
    """Return the filtered projects as GeoJSON FeatureCollection text, ordered by id.

    Staff and viewers (the filter includes private projects) also read the internal
    register fields.
    """
    p, feature = _features(filt, full=full, internal=filt.include_private)
    rows = select(feature.label("feature")).select_from(p).order_by(p.c.id).subquery("f")
    features = func.coalesce(func.json_agg(rows.c.feature), text("'[]'::json"))
    members = ["type", "FeatureCollection"]
    if filt.as_of is not None:
        # A foreign member (RFC 7946, 6.1): the file says which day its features show.
        members += ["as_of", filt.as_of.isoformat()]
    collection = func.json_build_object(*members, "features", features)
    return session.execute(select(cast(collection, Text))).scalar_one()


def streamed_collection(
    session: Session, filt: ProjectFilter, *, batch: int = 1000
) -> Iterator[str]:
    """Yield the text of feature_collection a piece at a time: its opening, then `batch`
    features a piece (read from a server-side cursor), then its close. A whole city's
    GeoJSON never lies in memory at once; the first piece leaves before any row is read."""
    opening = '{"type": "FeatureCollection", '
    if filt.as_of is not None:
        opening += f'"as_of": "{filt.as_of.isoformat()}", '
    yield opening + '"features": ['
    for n, part in enumerate(_feature_batches(session, filt, batch=batch)):
        yield ("," if n else "") + ",".join(part)
    yield "]}"


def _feature_batches(
    session: Session, filt: ProjectFilter, *, batch: int, ids: tuple[int, int] | None = None
) -> Iterator[Sequence[str]]:
    """Yield the filtered features' GeoJSON texts by id, `batch` at a time, from a
    server-side cursor; with `ids` = (after, last), those with after < id <= last."""
    p, feature = _features(filt, full=True, internal=filt.include_private)
    query = select(cast(feature, Text)).select_from(p).order_by(p.c.id)
    if ids is not None:
        query = query.where(p.c.id > ids[0], p.c.id <= ids[1])
    yield from session.execute(query, execution_options={"yield_per": batch}).scalars().partitions()


@dataclass(frozen=True)
class PageEnd:
    """The last id a page shows (None when it is empty) and whether another page follows."""

    last: int | None
    more: bool


def page_end(session: Session, filt: ProjectFilter, *, after: int, limit: int) -> PageEnd:
    """Find where the page of the first `limit` filtered projects by id after `after` ends.

    One id more than the limit is read, straight off the primary key in order, which tells
    whether another page follows; a page costs its own size, wherever it starts.
    """
    p = filtered_projects(filt).subquery("p")
    ids = list(
        session.scalars(select(p.c.id).where(p.c.id > after).order_by(p.c.id).limit(limit + 1))
    )
    shown = ids[:limit]
    return PageEnd(last=shown[-1] if shown else None, more=len(ids) > limit)


def streamed_page(
    session: Session, filt: ProjectFilter, *, after: int, end: PageEnd, batch: int = 500
) -> Iterator[str]:
    """Yield one page (the projects after `after` up to `end.last`) as GeoJSON text a piece
    at a time, read from a server-side cursor: a page of 10,000 never lies in memory at once.
    `numberReturned` comes last, counting what was sent."""
    yield '{"type": "FeatureCollection", "features": ['
    sent = 0
    if end.last is not None:
        for part in _feature_batches(session, filt, batch=batch, ids=(after, end.last)):
            yield ("," if sent else "") + ",".join(part)
            sent += len(part)
    yield f'], "numberReturned": {sent}}}'


def status_counts(session: Session, filt: ProjectFilter) -> dict[str, int]:
    """Count the filtered projects by status, every status present (zero when none)."""
    p = filtered_projects(filt).subquery("p")
    rows = session.execute(select(p.c.status, func.count()).group_by(p.c.status))
    counts = dict.fromkeys(STATUSES, 0)
    counts.update({status: n for status, n in rows})
    return counts


def project_feature(
    session: Session,
    project_id: int,
    *,
    include_private: bool,
    internal: bool = False,
    include_withdrawn: bool = False,
) -> str | None:
    """Return one project as GeoJSON Feature text, or None if it is not visible.

    `internal` adds the register fields only staff and viewers read.
    """
    statement = _feature_statement(include_private, include_withdrawn, internal)
    return session.scalar(statement, {"project_id": project_id})


# Built once per kind of reader: putting the expression together took longer than running it
# (a work's page, the API's one project).
@cache
def _feature_statement(include_private: bool, include_withdrawn: bool, internal: bool) -> Select:
    filt = ProjectFilter(include_private=include_private, include_withdrawn=include_withdrawn)
    p = filtered_projects(filt).where(Project.id == bindparam("project_id")).subquery("p")
    return select(cast(feature_json(p, full=True, internal=internal), Text)).select_from(p)


def project_or_404(
    session: Session,
    project_id: int,
    *,
    include_private: bool,
    include_withdrawn: bool = False,
    lock: bool = False,
) -> Project:
    """Return the project, or answer 404 when there is none or the caller may not see it.

    A withdrawn work is not found unless `include_withdrawn` (its own page for those who
    may restore it, and the writes that refuse it in words). With `lock`, its row stays
    locked until the transaction ends, so that changes queue up.
    """
    project = lock_project(session, project_id) if lock else session.get(Project, project_id)
    if (
        project is None
        or not (project.is_public or include_private)
        or (project.withdrawn_at is not None and not include_withdrawn)
    ):
        abort(404, description=_("この事業は見つかりません（ID %(id)s）", id=project_id))
    return project


def projects_at_facility(
    session: Session, facility_id: int, *, include_private: bool
) -> list[Project]:
    """Return the works done on a facility, newest registration first."""
    query = select(Project).where(
        Project.facility_id == facility_id, visible_works(Project, include_private=include_private)
    )
    return list(session.scalars(query.order_by(Project.created_at.desc(), Project.id.desc())))


@dataclass(frozen=True)
class Circle:
    """Where to look: a point (WGS84) and a radius in metres."""

    lat: float
    lon: float
    radius_m: float


def nearest_projects(
    point: tuple[float, float] | tuple[ColumnElement[float], ColumnElement[float]] | None,
    *,
    radius_m: float | ColumnElement[float] | None = None,
    limit: int | ColumnElement[int] | None = None,
    name: str = "",
    include_private: bool = False,
    where: Sequence = (),
) -> Select:
    """Select projects with their distance_m from `point` (lon, lat), nearest first.

    With a limit, at most that many, read off the geography index in distance order; without
    one, every project within `radius_m`. `name` keeps those whose name contains it; with no
    point, those are listed by name (distance_m is then NULL).
    """
    table = Project.__table__
    query = select(table).where(visible_works(Project, include_private=include_private))
    if name:
        query = query.where(Project.name.icontains(name, autoescape=True))
    query = query.where(*where)
    if point is None:
        query = query.add_columns(literal_column("NULL::float").label("distance_m"))
        return query.order_by(Project.name, Project.id).limit(limit)
    # geography(...) rather than CAST(... AS Geography): GeoAlchemy2 renders the cast with a
    # typmod, which no longer matches the index expression geom::geography (ix_projects_geog).
    here = func.geography(func.ST_SetSRID(func.ST_MakePoint(*point), 4326))
    there = func.geography(Project.geom)
    distance = func.ST_Distance(there, here).label("distance_m")
    query = query.add_columns(distance)
    if limit is None:
        return query.where(func.ST_DWithin(there, here, radius_m)).order_by(distance, Project.id)
    if name:
        # Few projects match a name: sort those, rather than walk the index from the
        # nearest until enough match (all of it, for a name that matches none).
        query = query.order_by(distance, Project.id).limit(limit)
    else:
        # Nearest first straight from the index, which stops after `limit` rows: the cost
        # follows the limit, not the radius (a 3 km circle in a dense city holds thousands).
        query = query.order_by(there.op("<->")(here)).limit(limit)
        if radius_m is not None:
            # Within the circle's box too, the index's own test (what ST_DWithin asks of it):
            # the planner, which counts the box's works from the column's statistics, reads
            # a box of few works whole and sorts them, instead of walking `limit` works out
            # beyond the radius (500 m at 10,000 works: 1.9 → 0.5 ms), and still walks a box
            # of thousands nearest first. ST_DWithin itself it counted as holding one work,
            # and read every work within a 3 km radius to sort them.
            query = query.where(there.op("&&")(func._ST_Expand(here, radius_m)))
    nearest = query.subquery("nearest")
    outer = select(nearest)
    if radius_m is not None:
        outer = outer.where(nearest.c.distance_m <= radius_m)
    return outer.order_by(nearest.c.distance_m, nearest.c.id)


@dataclass
class AreaWorks:
    """The works nearest one area's centre: the first few by name, and how many in all."""

    key: str
    works: list = field(default_factory=list)
    total: int = 0


# Each area's key: the ids of all its works, in name order.
Placement = dict[str, np.ndarray]


def place_works(
    session: Session, filt: ProjectFilter, centres: Sequence[tuple[str, float, float]]
) -> Placement:
    """Group the filtered projects by the nearest of `centres` (key, lon, lat), each area's
    ids in name order; areas with no work are left out.

    Reads no more than each work's name, place and visibility. Every page that lists works
    by area takes its slice of the same placement (area_works).
    """
    if not centres:
        return {}
    p = filtered_projects(filt).subquery("p")
    # Where every work is, as three arrays in name order (one row, read in binary: the
    # database hands over arrays far faster than rows): the middle of its bounding box, which
    # PostGIS keeps with the shape, costs a tenth of a point on the shape. Names sort in code
    # point order ("C"): the database's collation sorts Japanese no better, at six times the
    # cost. Sorted once, in a subquery whose order the arrays take (an ORDER BY in each
    # aggregate sorts the works once per array: 2.1 s instead of 0.8 at 1,000,000).
    box = func.box2d(p.c.geom)
    placed = (
        select(
            p.c.id,
            ((func.ST_XMin(box) + func.ST_XMax(box)) / 2).label("x"),
            ((func.ST_YMin(box) + func.ST_YMax(box)) / 2).label("y"),
        )
        .order_by(p.c.name.collate("C"), p.c.id)
        .subquery("placed")
    )
    ids, xs, ys = read_row_binary(
        session,
        select(func.array_agg(placed.c.id), func.array_agg(placed.c.x), func.array_agg(placed.c.y)),
    )
    if not ids:
        return {}
    # The nearest centre of every work at once. Degrees (longitudes shrunk by cos 33°) tell
    # the nearest of a few centres well enough at the size of one city.
    centre_x = np.array([c[1] for c in centres]) * LON_SCALE
    centre_y = np.array([c[2] for c in centres])
    x = np.array(xs, dtype=float)[:, None] * LON_SCALE
    y = np.array(ys, dtype=float)[:, None]
    nearest = np.argmin((x - centre_x) ** 2 + (y - centre_y) ** 2, axis=1)
    all_ids = np.array(ids, dtype=np.int64)
    members = {key: all_ids[nearest == index] for index, (key, _, _) in enumerate(centres)}
    return {key: area_ids for key, area_ids in members.items() if len(area_ids)}


def area_works(
    session: Session,
    filt: ProjectFilter,
    placement: Placement,
    *,
    per_area: int | None = None,
    only: str | None = None,
) -> dict[str, AreaWorks]:
    """Return each area's first `per_area` works of a placement (all without it), with their
    names and states as they are now, and how many the area holds; `only` keeps one area."""
    shown = {
        key: area_ids[:per_area].tolist()
        for key, area_ids in placement.items()
        if only is None or key == only
    }
    p = filtered_projects(filt).subquery("p")
    wanted = [i for ids in shown.values() for i in ids]
    rows = {
        row.id: row
        for row in session.execute(
            select(p.c.id, p.c.name, p.c.kind, p.c.status, p.c.is_sample).where(p.c.id.in_(wanted))
        )
    }
    # A work the placement shows that is no longer visible has changed the placement too:
    # left out rather than shown.
    return {
        key: AreaWorks(key, [rows[i] for i in ids if i in rows], len(placement[key]))
        for key, ids in shown.items()
    }


def works_by_area(
    session: Session,
    filt: ProjectFilter,
    centres: Sequence[tuple[str, float, float]],
    *,
    per_area: int | None = None,
    only: str | None = None,
) -> dict[str, AreaWorks]:
    """Group the filtered projects by the nearest of `centres` (key, lon, lat), each area's
    works by name, at most `per_area` of them; `only` keeps one area."""
    placement = place_works(session, filt, centres)
    return area_works(session, filt, placement, per_area=per_area, only=only)
