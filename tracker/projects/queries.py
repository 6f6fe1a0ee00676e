"""Read projects as GeoJSON built in SQL; the map, the API and the exports all read from here."""

from dataclasses import dataclass, field

from sqlalchemy import JSON, Select, Text, cast, func, literal_column, select, text
from sqlalchemy.orm import Session

from tracker.errors import BadInput
from tracker.plan.models import Indicator, PlanItem
from tracker.projects.models import Project, project_indicators, project_plan_items
from tracker.projects.vocab import KINDS, STATUSES

# Six decimals of a degree is about 10 cm: enough for any project and small on the wire.
COORDINATE_DECIMALS = 6


@dataclass
class ProjectFilter:
    """Which projects to read."""

    kinds: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    bbox: tuple[float, float, float, float] | None = None
    include_private: bool = False
    ids: list[int] | None = None

    @classmethod
    def from_args(cls, args, *, include_private: bool = False) -> "ProjectFilter":
        """Read filters from query arguments, refusing malformed ones with a clear message."""
        return cls(
            kinds=_codes(args, "kind", KINDS),
            statuses=_codes(args, "status", STATUSES),
            bbox=_bbox(args.get("bbox")),
            include_private=include_private,
        )


def _codes(args, name: str, allowed: dict) -> list[str]:
    values = [v.strip() for raw in args.getlist(name) for v in raw.split(",") if v.strip()]
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise BadInput(
            f"{name}: unknown value(s) {', '.join(unknown)}; use one of {', '.join(allowed)}"
        )
    return values


def _bbox(raw: str | None) -> tuple[float, float, float, float] | None:
    if raw is None:
        return None
    parts = raw.split(",")
    try:
        numbers = tuple(float(p) for p in parts)
    except ValueError:
        numbers = ()
    if len(numbers) != 4 or any(n != n or n in (float("inf"), float("-inf")) for n in numbers):
        raise BadInput("bbox: must be four numbers minlon,minlat,maxlon,maxlat")
    min_lon, min_lat, max_lon, max_lat = numbers
    if not (-180 <= min_lon < max_lon <= 180 and -90 <= min_lat < max_lat <= 90):
        raise BadInput("bbox: expected minlon < maxlon within ±180 and minlat < maxlat within ±90")
    return numbers


def filtered_projects(filt: ProjectFilter) -> Select:
    """Return a SELECT of the projects table limited by the filter."""
    query = select(Project.__table__)
    if not filt.include_private:
        query = query.where(Project.is_public.is_(True))
    if filt.kinds:
        query = query.where(Project.kind.in_(filt.kinds))
    if filt.statuses:
        query = query.where(Project.status.in_(filt.statuses))
    if filt.bbox:
        query = query.where(Project.geom.intersects(func.ST_MakeEnvelope(*filt.bbox, 4326)))
    if filt.ids is not None:
        query = query.where(Project.id.in_(filt.ids))
    return query


def _code_list(link_column, target):
    """Correlated ARRAY of the codes one project links to through `link_column`."""
    link_table = link_column.table
    return func.array(
        select(target.code)
        .join(link_table, link_column == target.id)
        .where(link_table.c.project_id == literal_column("p.id"))
        .order_by(target.code)
        .scalar_subquery()
    )


def _properties(p, *, full: bool):
    pairs = [
        "id", p.c.id, "name", p.c.name, "kind", p.c.kind, "status", p.c.status,
        "progress", p.c.progress, "planned_start", p.c.planned_start,
        "planned_end", p.c.planned_end, "actual_start", p.c.actual_start,
        "actual_end", p.c.actual_end, "sample", p.c.is_sample,
    ]  # fmt: skip
    if full:
        pairs += [
            "department", p.c.department,
            "plan_items", _code_list(project_plan_items.c.plan_item_id, PlanItem),
            "indicators", _code_list(project_indicators.c.indicator_id, Indicator),
            "public", p.c.is_public,
        ]  # fmt: skip
    return func.json_build_object(*pairs)


def _features(filt: ProjectFilter, *, full: bool):
    p = filtered_projects(filt).subquery("p")
    feature = func.json_build_object(
        "type", "Feature",
        "id", p.c.id,
        "geometry", cast(func.ST_AsGeoJSON(p.c.geom, COORDINATE_DECIMALS), JSON),
        "properties", _properties(p, full=full),
    )  # fmt: skip
    return p, feature


def feature_collection(session: Session, filt: ProjectFilter, *, full: bool = True) -> str:
    """Return the filtered projects as GeoJSON FeatureCollection text, ordered by id."""
    p, feature = _features(filt, full=full)
    rows = select(feature.label("feature")).select_from(p).order_by(p.c.id).subquery("f")
    features = func.coalesce(func.json_agg(rows.c.feature), text("'[]'::json"))
    collection = func.json_build_object("type", "FeatureCollection", "features", features)
    return session.scalar(select(cast(collection, Text)))


def project_feature(session: Session, project_id: int, *, include_private: bool) -> str | None:
    """Return one project as GeoJSON Feature text, or None if it is not visible."""
    filt = ProjectFilter(include_private=include_private, ids=[project_id])
    p, feature = _features(filt, full=True)
    return session.scalar(select(cast(feature, Text)).select_from(p))
