"""The layers the OGC API serves: one entry per collection.

A collection says how to read its filter from the query string and which rows and properties
it answers; paging, bbox, datetime, CRS, tiles and formats are the same for every collection
(items.py, tiles.py). Adding a layer is one more `Collection(...)` in COLLECTIONS.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, FromClause, Select, and_, func, or_, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from tracker.core.errors import BadInput
from tracker.core.translate import lazy_gettext as _l
from tracker.facilities.queries import facility_query
from tracker.ogc.queryables import Queryable, queryable
from tracker.projects.queries import (
    ProjectFilter,
    filtered_projects,
    parse_codes,
    project_property_pairs,
)
from tracker.restrictions.queries import restriction_rows
from tracker.words.vocab import KINDS, RESTRICTION_DAYS, RESTRICTION_KINDS, STATUSES

GSI_SHELTER_CREDIT = "出典：国土地理院（指定緊急避難場所・指定避難所データ）"
SAMPLE_CREDIT = "阿蘇市（多くはサンプルデータ）"


@dataclass(frozen=True)
class Request:
    """Who asks, on which day and at which minute (restrictions in force depend on them)."""

    include_private: bool
    today: date
    # Not part of the key of a kept answer: only a `timed` layer's answers depend on it.
    at: datetime = field(compare=False)


@dataclass(frozen=True)
class Collection:
    """One layer: its metadata, how to read its filters and how to select its rows.

    `rows(filter, request)` returns a SELECT with an `id` and a `geom` (SRID 4326) column;
    `properties(p)` gives the GeoJSON properties of a row of it, aliased `p`, as alternating
    names and values; `tile_properties` are the columns a vector tile carries.
    """

    id: str
    title: str
    description: str
    attribution: str
    parse: Callable[[MultiDict[str, str], Request, Session | None], object]
    rows: Callable[[Any, Request], Select]  # takes the filter its own parse returned
    properties: Callable[[FromClause], list]
    tile_properties: tuple[str, ...]
    # The query parameters its own `parse` reads: name -> allowed values (None: any text).
    parameters: dict[str, dict | None] = field(default_factory=dict)
    # The properties CQL2 filters and plain query parameters may read (queryables.py).
    queryables: tuple[Queryable, ...] = ()
    # Pairs of (start, end) columns that `datetime=` is matched against: any may overlap.
    periods: tuple[tuple[str, str], ...] = ()
    # Small features of one kind that share a tile cell are drawn as one counted point.
    clustered_tiles: bool = False
    # Its rows change with the time of day (restrictions in force): answers are kept by minute.
    timed: bool = False
    # Points, lines and polygons in one layer: its first page opens with one feature of
    # each type, as GDAL and QGIS read a layer's type from its first page.
    mixed_geometry: bool = False
    # It also takes the meeting map's filters (plan_item, indicator, ..., as_of).
    meeting_filters: bool = False
    # Properties that are not queryables, with their JSON Schema type (the feature schema).
    more_properties: dict[str, str] = field(default_factory=dict)


def _public_only(args: MultiDict[str, str]) -> bool:
    raw = args.get("public")
    if raw in (None, ""):
        return False
    if raw not in ("true", "false"):
        raise BadInput("use true (public projects only) or false", field="public")
    if raw == "false":
        raise BadInput(
            "only public=true filters; leave it out for every visible project", field="public"
        )
    return True


# --- Projects -----------------------------------------------------------------------------


def _project_filter(
    args: MultiDict[str, str], request: Request, session: Session | None
) -> ProjectFilter:
    # The meeting map's filters too, so that its tiles show exactly its filtered list;
    # bbox is read by the API itself, in the CRS bbox-crs names.
    filt = ProjectFilter.from_meeting_args(
        _without(args, "bbox"),
        include_private=request.include_private and not _public_only(args),
    )
    filt.check_codes(session)
    return filt


def _project_rows(filt: ProjectFilter, request: Request) -> Select:
    return filtered_projects(filt)


def _project_properties(p: FromClause) -> list:
    pairs = project_property_pairs(p, full=True)
    # Lists travel as comma-separated text: a GIS attribute table (a GeoPackage, a
    # shapefile) has no list type, and GDAL would warn on converting one.
    found: list = []
    for name, value in zip(pairs[::2], pairs[1::2], strict=True):
        found += [name, text_list(value) if name in PROJECT_LISTS else value]
    return found


def text_list(values: ColumnElement[Any]) -> ColumnElement[Any]:
    """Return an SQL array as comma-separated text; none when empty."""
    return func.nullif(func.array_to_string(values, ","), "")


# The dimension (ST_Dimension) of each per-type layer of the works, and its Multi* type.
_DIMENSIONS = {"points": 0, "lines": 1, "polygons": 2}


def _typed_project_rows(dimension: int) -> Callable[[ProjectFilter, Request], Select]:
    def rows(filt: ProjectFilter, request: Request) -> Select:
        every = filtered_projects(filt).subquery("every")
        # One type per layer whatever a file imported: Point and MultiPoint both become
        # MultiPoint, so that a GeoPackage layer takes every row.
        columns = [c for c in every.c if c.name != "geom"]
        return select(*columns, func.ST_Multi(every.c.geom).label("geom")).where(
            func.ST_Dimension(every.c.geom) == dimension
        )

    return rows


def _without(args: MultiDict[str, str], name: str) -> MultiDict[str, str]:
    copy = args.copy()
    copy.pop(name, None)
    return copy


# --- Shelters ------------------------------------------------------------------------------


def _shelter_rows(filt: None, request: Request) -> Select:
    # The designated shelters are facilities (places, not works), all of them public.
    return facility_query()


def _shelter_properties(p: FromClause) -> list:
    return [
        "name", p.c.name, "address", p.c.address, "gsi_common_id", p.c.gsi_common_id,
        "designations", text_list(p.c.designations), "hazards", text_list(p.c.hazards),
        "capacity", p.c.capacity,
    ]  # fmt: skip


# --- Traffic restrictions ------------------------------------------------------------------


def _restriction_filter(
    args: MultiDict[str, str], request: Request, session: Session | None
) -> dict:
    return {"kinds": parse_codes(args, "kind", RESTRICTION_KINDS)}


def _restriction_rows(filt: dict, request: Request) -> Select:
    return restriction_rows(
        today=request.today,
        include_private=request.include_private,
        kinds=filt["kinds"],
        at=request.at,
    )


def _restriction_properties(p: FromClause) -> list:
    return [
        "project_id", p.c.project_id, "project_name", p.c.project_name, "sample", p.c.sample,
        "kind", p.c.kind, "starts_on", p.c.starts_on, "ends_on", p.c.ends_on,
        "days", p.c.days, "time_from", p.c.time_from, "time_until", p.c.time_until,
        "description", p.c.description, "reason", p.c.reason, "contact", p.c.contact,
        "in_force", p.c.in_force, "next_in_force_at", p.c.next_in_force_at,
        "section_drawn", p.c.section_drawn,
        "has_detour", p.c.has_detour,
    ]  # fmt: skip


def _geometry(title: str, geometry_format: str = "geometry-any") -> Queryable:
    return queryable("geometry", "geometry", title, column="geom", geometry_format=geometry_format)


# Every column of the layer's properties that is a single value, under its property name.
PROJECT_QUERYABLES = (
    queryable("id", "integer", _l("事業番号（この API の）")),
    queryable("name", "string", _l("事業名")),
    queryable("kind", "string", _l("種別"), values=tuple(KINDS)),
    queryable("status", "string", _l("状況"), values=tuple(STATUSES)),
    queryable("progress", "integer", _l("進捗（%）")),
    queryable("planned_start", "date", _l("予定開始日")),
    queryable("planned_end", "date", _l("予定終了日")),
    queryable("actual_start", "date", _l("着手日")),
    queryable("actual_end", "date", _l("完了日")),
    queryable("department", "string", _l("担当課")),
    queryable("public", "boolean", _l("公開"), column="is_public"),
    queryable("sample", "boolean", _l("サンプルデータ"), column="is_sample"),
    queryable("facility_id", "integer", _l("施設番号")),
    queryable("planned_cost", "integer", _l("事業費（円）"), large=True),
    queryable("contract_amount", "integer", _l("契約額（円）"), large=True),
    queryable("contractor", "string", _l("施工業者")),
    _geometry(_l("位置・区間・範囲")),
)

RESTRICTION_QUERYABLES = (
    queryable("id", "integer", _l("規制番号")),
    queryable("project_id", "integer", _l("事業番号")),
    queryable("project_name", "string", _l("事業名")),
    queryable("sample", "boolean", _l("サンプルデータ")),
    queryable("kind", "string", _l("規制の種類"), values=tuple(RESTRICTION_KINDS)),
    queryable("starts_on", "date", _l("開始日")),
    queryable("ends_on", "date", _l("終了日")),
    queryable("days", "string", _l("曜日"), values=tuple(RESTRICTION_DAYS)),
    queryable("description", "string", _l("内容")),
    queryable("reason", "string", _l("理由")),
    queryable("contact", "string", _l("問い合わせ先")),
    queryable("in_force", "boolean", _l("実施中")),
    queryable("section_drawn", "boolean", _l("区間の線あり")),
    queryable("has_detour", "boolean", _l("迂回路あり")),
    _geometry(_l("規制区間")),
)

PROJECT_PARAMETERS: dict[str, dict | None] = {
    "kind": KINDS, "status": STATUSES, "public": {"true": "true"},
}  # fmt: skip
PROJECT_TILE_PROPERTIES = ("id", "name", "kind", "status", "progress")
PROJECT_PERIODS = (("planned_start", "planned_end"), ("actual_start", "actual_end"))
# Plan item and indicator codes, comma-separated.
PROJECT_LISTS = {"plan_items": "string", "indicators": "string"}

SHELTER_QUERYABLES = (
    queryable("id", "integer", _l("施設番号")),
    queryable("name", "string", _l("名称")),
    queryable("address", "string", _l("住所")),
    queryable("gsi_common_id", "string", _l("共通ID")),
    queryable("capacity", "integer", _l("収容人数")),
    _geometry(_l("位置"), "geometry-point"),
)


def _no_filter(args: MultiDict[str, str], request: Request, session: Session | None) -> None:
    return None


COLLECTIONS = {
    c.id: c
    for c in (
        Collection(
            id="projects",
            title=_l("復旧・復興事業"),
            description=_l(
                "阿蘇市の復旧・復興・防災の事業（道路、橋梁、河川護岸、砂防、避難所など）。"
                "職員専用の事業は権限のある利用者にだけ含まれます。"
            ),
            attribution=SAMPLE_CREDIT,
            parse=_project_filter,
            rows=_project_rows,
            properties=_project_properties,
            tile_properties=PROJECT_TILE_PROPERTIES,
            parameters=PROJECT_PARAMETERS,
            queryables=PROJECT_QUERYABLES,
            periods=PROJECT_PERIODS,
            meeting_filters=True,
            clustered_tiles=True,
            mixed_geometry=True,
            more_properties=PROJECT_LISTS,
        ),
        *(
            Collection(
                id=f"projects_{shape}",
                title=title,
                description=_l(
                    "復旧・復興事業のうち%(shape)sで表すもの（projects と同じ事業・属性）。"
                    "GIS のレイヤは図形の種類が一つなので、GeoPackage などにはこちらを。",
                    shape=words,
                ),
                attribution=SAMPLE_CREDIT,
                parse=_project_filter,
                rows=_typed_project_rows(_DIMENSIONS[shape]),
                properties=_project_properties,
                tile_properties=PROJECT_TILE_PROPERTIES,
                parameters=PROJECT_PARAMETERS,
                queryables=(
                    *PROJECT_QUERYABLES[:-1],
                    _geometry(_l("図形"), f"geometry-multi{kind}"),
                ),
                periods=PROJECT_PERIODS,
                meeting_filters=True,
                more_properties=PROJECT_LISTS,
            )
            for shape, kind, title, words in (
                ("points", "point", _l("復旧・復興事業（点）"), _l("点")),
                ("lines", "linestring", _l("復旧・復興事業（線）"), _l("線")),
                ("polygons", "polygon", _l("復旧・復興事業（面）"), _l("面")),
            )
        ),
        Collection(
            id="restrictions",
            title=_l("交通規制"),
            description=_l(
                "工事による通行止め・片側交互通行などのうち、実施中と予定のもの。"
                "形は規制区間の線（描かれていなければ工事の位置）。"
            ),
            attribution=SAMPLE_CREDIT,
            parse=_restriction_filter,
            rows=_restriction_rows,
            properties=_restriction_properties,
            tile_properties=(
                "id",
                "project_id",
                "kind",
                "starts_on",
                "ends_on",
                "days",
                "time_from",
                "time_until",
                "in_force",
                "next_in_force_at",
                "section_drawn",
            ),  # fmt: skip
            parameters={"kind": RESTRICTION_KINDS},
            queryables=RESTRICTION_QUERYABLES,
            periods=(("starts_on", "ends_on"),),
            timed=True,
            mixed_geometry=True,
            more_properties={
                "time_from": "string",
                "time_until": "string",
                "next_in_force_at": "string",
            },
        ),
        Collection(
            id="shelters",
            title=_l("指定避難所"),
            description=_l(
                "国土地理院の指定緊急避難場所・指定避難所データによる阿蘇市の指定避難所。"
            ),
            attribution=GSI_SHELTER_CREDIT,
            parse=_no_filter,
            rows=_shelter_rows,
            properties=_shelter_properties,
            tile_properties=("id", "name"),
            queryables=SHELTER_QUERYABLES,
            more_properties={"designations": "string", "hazards": "string"},
        ),
    )
}


def overlaps_any(
    p: FromClause, periods: tuple[tuple[str, str], ...], start: date | None, end: date | None
) -> ColumnElement[bool]:
    """Return a condition: one of the row's periods overlaps [start, end] (None: open)."""
    conditions: list[ColumnElement[bool]] = []
    for start_name, end_name in periods:
        row_start, row_end = p.c[start_name], p.c[end_name]
        parts: list[ColumnElement[bool]] = [row_start.is_not(None)]
        if end is not None:
            parts.append(row_start <= end)
        if start is not None:
            # An open end: still running, or until further notice.
            parts.append(or_(row_end.is_(None), row_end >= start))
        conditions.append(and_(*parts))
    return or_(*conditions) if conditions else func.true()
