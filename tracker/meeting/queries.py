"""Reads for the meeting pages, all computed in SQL from the shared project filter."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import Row, Select, and_, case, func, literal, literal_column, or_, select
from sqlalchemy.orm import Session

from tracker.city.models import CityBoundary
from tracker.core.clock import JST
from tracker.geo.geometry import CITY_CODE
from tracker.plan.models import Indicator, PlanItem
from tracker.projects.history import StatusUpdate
from tracker.projects.models import (
    Project,
    project_indicators,
    project_plan_items,
    visible_works,
)
from tracker.projects.queries import ProjectFilter, end_of_day, filtered_projects, linked_codes
from tracker.projects.register import AMOUNT_FIELDS, REGISTER_FIELDS
from tracker.words.vocab import KINDS, STATUSES

POLICY1_MEASURES = ("p1.m1", "p1.m2")
LIST_LIMIT = 300
CHANGES_LIMIT = 500


def departments(session: Session) -> list[str]:
    """Return every department that owns a project or a plan item, in order."""
    names = select(Project.department).union(
        select(PlanItem.department).where(PlanItem.department.is_not(None))
    )
    return sorted(session.scalars(names))


def filter_plan_items(session: Session) -> Sequence[PlanItem]:
    """Return the measures, initiatives and 施策 one may filter by, in plan order."""
    return session.scalars(
        select(PlanItem)
        .where(PlanItem.level.in_(("measure", "initiative", "shisaku")))
        .order_by(PlanItem.code)
    ).all()


# Rows a streamed export reads from the database at a time.
STREAM_BATCH = 1000


def _rows_query(filt: ProjectFilter, *, limit: int | None, with_geometry: bool) -> Select:
    p = filtered_projects(filt).subquery("p")
    query = select(
        p.c.id,
        p.c.name,
        p.c.kind,
        p.c.status,
        p.c.progress,
        p.c.department,
        p.c.planned_start,
        p.c.planned_end,
        p.c.actual_start,
        p.c.actual_end,
        p.c.is_public,
        p.c.is_sample,
        p.c.external_id,
        p.c.facility_id,
        p.c.description,
        func.array_to_string(
            linked_codes(project_plan_items.c.plan_item_id, PlanItem, p.c.id), literal(" ")
        ).label("plan_items"),
        func.array_to_string(
            linked_codes(project_indicators.c.indicator_id, Indicator, p.c.id), literal(" ")
        ).label("indicators"),
        case(
            (func.ST_Dimension(p.c.geom) == 1, func.ST_Length(func.geography(p.c.geom))),
        ).label("length_m"),
        # Where the printed map puts the project's number.
        func.ST_X(func.ST_PointOnSurface(p.c.geom)).label("label_lon"),
        func.ST_Y(func.ST_PointOnSurface(p.c.geom)).label("label_lat"),
        *(p.c[name] for name in REGISTER_FIELDS),
    ).order_by(p.c.id)
    if with_geometry:
        query = query.add_columns(func.ST_AsBinary(p.c.geom).label("geom_wkb"))
    if limit is not None:
        query = query.limit(limit)
    return query


def project_rows(
    session: Session,
    filt: ProjectFilter,
    *,
    limit: int | None = LIST_LIMIT,
    with_geometry: bool = False,
) -> Sequence[Row[Any]]:
    """Return the filtered projects as rows for the list and the exports, ordered by id.

    Each row has every works-register field; readers of public projects only are shown
    the public ones (register.visible_register_fields). `with_geometry` adds each shape as
    WKB (`geom_wkb`), for the exports that carry it.
    """
    return session.execute(_rows_query(filt, limit=limit, with_geometry=with_geometry)).all()


def streamed_project_rows(
    session: Session, filt: ProjectFilter, *, with_geometry: bool = False
) -> Iterator[Row[Any]]:
    """Yield the rows project_rows returns (with no limit), read from a server-side cursor
    STREAM_BATCH at a time: a whole city's export never lies in memory at once."""
    query = _rows_query(filt, limit=None, with_geometry=with_geometry)
    yield from session.execute(query, execution_options={"yield_per": STREAM_BATCH})


@dataclass
class CostTotal:
    """The works of one group and what they cost: planned, contracted and spent, in yen."""

    key: str
    label: str
    count: int
    planned_cost: int
    contract_amount: int
    spent_amount: int
    # How many of the works have a planned cost at all.
    costed: int

    SUMS = ("count", "planned_cost", "contract_amount", "spent_amount", "costed")


@dataclass
class CostTotals:
    """The filtered works' sums: in all, and by whichever groups were asked for."""

    total: CostTotal
    by_status: list[CostTotal]
    by_kind: list[CostTotal] = field(default_factory=list)
    by_plan_item: list[CostTotal] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Return how many works are in each status, every status present."""
        counts = dict.fromkeys(STATUSES, 0)
        counts.update({row.key: row.count for row in self.by_status})
        return counts


COST_GROUPS = ("status", "kind", "plan_item")


def cost_totals(
    session: Session, filt: ProjectFilter, *, by: tuple[str, ...] = ("status",)
) -> CostTotals:
    """Sum the filtered projects' amounts in all and by status, and by kind and plan item
    when `by` names them.

    The total adds up the statuses, so the list, the counts and the sums need one pass.
    A work linked to several plan items counts under each; the total counts it once.
    """
    p = filtered_projects(filt).subquery("p")
    sums = [
        func.count(p.c.id),
        *(func.coalesce(func.sum(p.c[name]), 0) for name in AMOUNT_FIELDS),
        func.count(p.c.planned_cost),
    ]

    def grouped(query: Select) -> list[CostTotal]:
        # Each query selects (key, label); the sums follow.
        return [CostTotal(str(row[0]), str(row[1]), *row[2:]) for row in session.execute(query)]

    by_status = {
        t.key: t for t in grouped(select(p.c.status, p.c.status, *sums).group_by(p.c.status))
    }
    statuses = [by_status[s] for s in STATUSES if s in by_status]
    total = CostTotal("total", "", *(sum(getattr(t, f) for t in statuses) for f in CostTotal.SUMS))
    totals = CostTotals(total, statuses)
    if "kind" in by:
        by_kind = {t.key: t for t in grouped(select(p.c.kind, p.c.kind, *sums).group_by(p.c.kind))}
        totals.by_kind = [by_kind[k] for k in KINDS if k in by_kind]
    if "plan_item" in by:
        totals.by_plan_item = grouped(
            select(PlanItem.code, PlanItem.name, *sums)
            .select_from(p)
            .join(project_plan_items, project_plan_items.c.project_id == p.c.id)
            .join(PlanItem, PlanItem.id == project_plan_items.c.plan_item_id)
            .group_by(PlanItem.code, PlanItem.name)
            .order_by(PlanItem.code)
        )
    return totals


@dataclass
class CoverageRow:
    """One initiative of Policy 1 with its projects' status counts."""

    code: str
    measure_name: str
    name: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        """Return how many projects are linked."""
        return sum(self.counts.values())


def policy1_coverage(
    session: Session, *, include_private: bool, as_of: date | None = None
) -> list[CoverageRow]:
    """Count each Policy 1 initiative's linked projects by status; zero rows are the gaps."""
    p = filtered_projects(ProjectFilter(include_private=include_private, as_of=as_of)).subquery("p")
    measure = PlanItem.__table__.alias("measure")
    item = PlanItem.__table__.alias("item")
    counts = [func.count(p.c.id).filter(p.c.status == status).label(status) for status in STATUSES]
    rows = session.execute(
        select(item.c.code, measure.c.name.label("measure_name"), item.c.name, *counts)
        .select_from(item)
        .join(measure, measure.c.id == item.c.parent_id)
        .outerjoin(project_plan_items, project_plan_items.c.plan_item_id == item.c.id)
        .outerjoin(p, p.c.id == project_plan_items.c.project_id)
        .where(measure.c.code.in_(POLICY1_MEASURES), item.c.level == "initiative")
        .group_by(item.c.id, item.c.code, measure.c.name, item.c.name, measure.c.code)
        .order_by(measure.c.code, item.c.number)
    )
    return [
        CoverageRow(r.code, r.measure_name, r.name, {s: getattr(r, s) for s in STATUSES})
        for r in rows
    ]


@dataclass
class Change:
    """One entry of the "changes since" list, at its time on site."""

    observed_at: datetime
    project_id: int
    name: str
    kind: str
    category: str  # new / completed / status
    previous_status: str | None
    status: str
    note: str


def changes_since(
    session: Session, since: date, *, until: date | None, include_private: bool
) -> tuple[list[Change], dict[str, int]]:
    """Return new projects, status changes and completed works from the start of `since`."""
    start = datetime.combine(since, time(0, 0), tzinfo=JST)
    category = case(
        (StatusUpdate.previous_status.is_(None), "new"),
        (StatusUpdate.status == "completed", "completed"),
        else_="status",
    ).label("category")
    conditions = [
        StatusUpdate.observed_at >= start,
        or_(
            StatusUpdate.previous_status.is_(None),
            StatusUpdate.previous_status != StatusUpdate.status,
        ),
    ]
    if until is not None:
        conditions.append(StatusUpdate.observed_at < end_of_day(until))
    conditions.append(visible_works(Project, include_private=include_private))
    base = (
        select(StatusUpdate, Project.name, Project.kind, category)
        .join(Project)
        .where(and_(*conditions))
    )
    totals = dict.fromkeys(("new", "status", "completed"), 0)
    sub = base.subquery()
    for name, n in session.execute(select(sub.c.category, func.count()).group_by(sub.c.category)):
        totals[name] = n
    rows = session.execute(
        base.order_by(StatusUpdate.observed_at.desc(), StatusUpdate.id.desc()).limit(CHANGES_LIMIT)
    )
    changes = [
        Change(u.observed_at, u.project_id, name, kind, cat, u.previous_status, u.status, u.note)
        for u, name, kind, cat in rows
    ]
    return changes, totals


def map_svg_parts(session: Session, filt: ProjectFilter) -> dict | None:
    """Return the boundary and one SVG path per status for a printable map picture."""
    b = session.execute(
        select(
            func.ST_AsSVG(func.ST_Simplify(CityBoundary.geom, 0.0003), 0, 4).label("d"),
            func.ST_XMin(CityBoundary.geom).label("xmin"),
            func.ST_YMax(CityBoundary.geom).label("ymax"),
            (func.ST_XMax(CityBoundary.geom) - func.ST_XMin(CityBoundary.geom)).label("width"),
            (func.ST_YMax(CityBoundary.geom) - func.ST_YMin(CityBoundary.geom)).label("height"),
        ).where(CityBoundary.code == CITY_CODE)
    ).one_or_none()
    if b is None:
        return None
    # Points become zero-length round-capped strokes and areas their outlines, so each
    # status is one path: the picture costs the same for ten projects or a hundred thousand.
    p = filtered_projects(filt).subquery("p")
    dim = func.ST_Dimension(p.c.geom)
    point = func.ST_PointOnSurface(p.c.geom)
    shape = case(
        (dim == 0, func.ST_MakeLine(point, func.ST_Translate(point, 0.00001, 0))),
        (dim == 2, func.ST_Boundary(p.c.geom)),
        else_=p.c.geom,
    )
    shapes = select(p.c.status, shape.label("geom")).subquery("shapes")
    parts = select(
        shapes.c.status, literal_column("(ST_Dump(shapes.geom)).geom").label("g")
    ).subquery("parts")
    paths = dict(
        session.execute(
            select(parts.c.status, func.ST_AsSVG(func.ST_Collect(parts.c.g), 0, 4)).group_by(
                parts.c.status
            )
        )
        .tuples()
        .all()
    )
    return {
        "boundary": b.d,
        "xmin": b.xmin,
        "ymax": b.ymax,
        "width": b.width,
        "height": b.height,
        "paths": {status: paths[status] for status in STATUSES if paths.get(status)},
    }


def boundary_exists(session: Session) -> bool:
    """Tell whether the city boundary is loaded."""
    return (
        session.execute(select(func.count()).where(CityBoundary.code == CITY_CODE)).scalar_one() > 0
    )
