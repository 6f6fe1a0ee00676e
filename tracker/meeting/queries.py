"""Reads for the meeting pages, all computed in SQL from the shared project filter."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    Row,
    Select,
    and_,
    case,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
)
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
from tracker.restrictions.models import RestrictionChange, TrafficRestriction
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
        p.c.details,
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


# The categories of the changes list, in the order their totals are shown.
CHANGE_CATEGORIES = (
    "new", "status", "completed", "progress",
    "restriction_added", "restriction_changed", "restriction_lifted",
)  # fmt: skip
RESTRICTION_CATEGORIES = {
    "create": "restriction_added",
    "update": "restriction_changed",
    "lift": "restriction_lifted",
}


@dataclass
class Change:
    """One entry of the "changes since" list, at its time on site (a restriction's change:
    when it was recorded)."""

    observed_at: datetime
    project_id: int
    name: str
    kind: str
    category: str  # one of CHANGE_CATEGORIES
    previous_status: str | None
    status: str
    note: str
    progress: int | None = None
    previous_progress: int | None = None
    restriction_kind: str | None = None


def changes_since(
    session: Session, since: date, *, until: date | None, include_private: bool
) -> tuple[list[Change], dict[str, int]]:
    """Return, from the start of `since`, every change a meeting asks about: new projects,
    status changes, completed works, progress reports (a new figure or a note), and
    restrictions added, changed or lifted; newest first, with the totals by category."""
    start = datetime.combine(since, time(0, 0), tzinfo=JST)
    end = end_of_day(until) if until is not None else None
    status_rows = _status_changes(session, start, end, include_private)
    restriction_rows = _restriction_changes(session, start, end, include_private)
    every = sorted(
        status_rows + restriction_rows, key=lambda c: (c.observed_at, c.project_id), reverse=True
    )
    totals = dict.fromkeys(CHANGE_CATEGORIES, 0)
    for change in every:
        totals[change.category] += 1
    return every[:CHANGES_LIMIT], totals


def _status_changes(
    session: Session, start: datetime, end: datetime | None, include_private: bool
) -> list[Change]:
    u = StatusUpdate
    # Each report beside the one before it: a progress report counts when its figure moved
    # or it says something.
    history = select(
        u.id,
        u.project_id,
        u.observed_at,
        u.previous_status,
        u.status,
        u.progress,
        u.note,
        func.lag(u.progress)
        .over(partition_by=u.project_id, order_by=(u.observed_at, u.id))
        .label("previous_progress"),
    ).subquery("history")
    h = history.c
    same_status = h.previous_status == h.status
    category = case(
        (h.previous_status.is_(None), "new"),
        (not_(same_status) & (h.status == "completed"), "completed"),
        (not_(same_status), "status"),
        else_="progress",
    ).label("category")
    conditions = [
        h.observed_at >= start,
        or_(
            h.previous_status.is_(None),
            not_(same_status),
            h.note != "",
            h.previous_progress.is_distinct_from(h.progress),
        ),
        visible_works(Project, include_private=include_private),
    ]
    if end is not None:
        conditions.append(h.observed_at < end)
    rows = session.execute(
        select(
            h.observed_at,
            h.project_id,
            Project.name,
            Project.kind,
            category,
            h.previous_status,
            h.status,
            h.note,
            h.progress,
            h.previous_progress,
        )  # fmt: skip
        .join(Project, Project.id == h.project_id)
        .where(and_(*conditions))
        .order_by(h.observed_at.desc(), h.id.desc())
        .limit(CHANGES_LIMIT)
    )
    return [Change(*row) for row in rows]


def _restriction_changes(
    session: Session, start: datetime, end: datetime | None, include_private: bool
) -> list[Change]:
    c, r = RestrictionChange, TrafficRestriction
    conditions = [c.recorded_at >= start, visible_works(Project, include_private=include_private)]
    if end is not None:
        conditions.append(c.recorded_at < end)
    rows = session.execute(
        select(
            c.recorded_at,
            r.project_id,
            Project.name,
            Project.kind,
            c.action,
            Project.status,
            r.description,
            r.kind,
        )  # fmt: skip
        .join(r, r.id == c.restriction_id)
        .join(Project, Project.id == r.project_id)
        .where(and_(*conditions))
        .order_by(c.recorded_at.desc(), c.id.desc())
        .limit(CHANGES_LIMIT)
    )
    return [
        Change(
            at,
            project_id,
            name,
            kind,
            RESTRICTION_CATEGORIES[action],
            None,
            status,
            description,
            restriction_kind=restriction_kind,
        )  # fmt: skip
        for at, project_id, name, kind, action, status, description, restriction_kind in rows
    ]


# The print sheet's map is about 700 CSS pixels wide and a work's dot 4 pixels across.
PRINT_DOTS_ACROSS = 175


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
    # Each status is one path. Works are drawn on a grid whose cell is about a printed dot:
    # a point is a dot in its cell, a line the steps between the cells it passes through
    # (areas by their outlines), and each dot or step is drawn once. So the picture costs
    # the same for a hundred works or a million, and coordinates are small whole numbers
    # of cells from the top left corner (the template scales them back).
    grid = b.width / PRINT_DOTS_ACROSS
    p = filtered_projects(filt).subquery("p")
    shape = case((func.ST_Dimension(p.c.geom) == 2, func.ST_Boundary(p.c.geom)), else_=p.c.geom)
    in_cells = func.ST_Affine(shape, 1 / grid, 0, 0, 1 / grid, -b.xmin / grid, -b.ymax / grid)
    shapes = select(p.c.status, in_cells.label("geom")).subquery("shapes")
    parts = select(
        shapes.c.status, literal_column("(ST_Dump(shapes.geom)).geom").label("g")
    ).subquery("parts")
    snapped = func.ST_SnapToGrid(func.ST_Segmentize(parts.c.g, 1), 1)
    dot = func.ST_SnapToGrid(func.ST_PointOnSurface(parts.c.g), 1)
    # A point, or a line within one cell (which snapping empties), is a zero-length stroke.
    drawn = case(
        (and_(func.ST_Dimension(snapped) == 1, ~func.ST_IsEmpty(snapped)), snapped),
        else_=func.ST_MakeLine(dot, dot),
    )
    lines = select(parts.c.status, drawn.label("g")).subquery("lines")
    steps = select(
        lines.c.status, literal_column("(ST_DumpSegments(lines.g)).geom").label("g")
    ).subquery("steps")
    # A step is the same whichever way it was walked.
    cells = (
        select(steps.c.status, func.ST_Normalize(steps.c.g).label("g")).distinct().subquery("cells")
    )
    paths = dict(
        session.execute(
            select(cells.c.status, func.ST_AsSVG(func.ST_Collect(cells.c.g), 1, 0)).group_by(
                cells.c.status
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
        "cell": grid,
        "paths": {status: paths[status] for status in STATUSES if paths.get(status)},
    }


def boundary_exists(session: Session) -> bool:
    """Tell whether the city boundary is loaded."""
    return (
        session.execute(select(func.count()).where(CityBoundary.code == CITY_CODE)).scalar_one() > 0
    )
