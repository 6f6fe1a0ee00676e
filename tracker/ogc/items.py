"""Items of a collection as GeoJSON built in SQL: paging, bbox, datetime and CRS for every layer."""

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    FromClause,
    Select,
    Subquery,
    Text,
    bindparam,
    cast,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from tracker.core.db import read_alone
from tracker.core.translate import gettext as _
from tracker.ogc.collections import COLLECTIONS, Collection, Request, overlaps_any
from tracker.ogc.cql import filter_where
from tracker.ogc.crs import Crs
from tracker.ogc.parameters import COMMON_PARAMETERS, ItemsParameters, read_parameters
from tracker.ogc.queryables import Where, equals, read_plain_value
from tracker.ogc.refusals import InvalidParameter

# The meeting map's filters, which the projects layer also reads (see collections.py).
PROJECT_EXTRA_PARAMETERS = {"plan_item", "indicator", "department", "fiscal_year", "q", "as_of"}
# OGC API – Features Part 3: a CQL2 filter, its encoding and the CRS of its geometries.
FILTER_PARAMETERS = {"filter", "filter-lang", "filter-crs"}


@dataclass(frozen=True)
class ItemsQuery:
    """One items request, read and checked."""

    limit: int
    offset: int
    bbox: tuple[float, float, float, float] | None
    bbox_crs: Crs
    crs: Crs
    period: tuple[date | None, date | None] | None
    filter: object
    # CQL2 and the queryables given as plain parameters, each a condition on the rows.
    where: tuple[Where, ...] = ()


def read_items_query(
    collection: Collection, args: MultiDict[str, str], request: Request, session: Session
) -> ItemsQuery:
    """Read and check the query string of an items request."""
    own = set(collection.parameters)
    if collection.meeting_filters:
        own |= PROJECT_EXTRA_PARAMETERS
    plain = {q.name: q for q in collection.queryables if q.type != "geometry" and q.name not in own}
    unknown = sorted(set(args) - COMMON_PARAMETERS - FILTER_PARAMETERS - own - set(plain))
    if unknown:
        raise InvalidParameter(unknown[0], _("このコレクションにはないパラメータです"))
    found = read_parameters(ItemsParameters, args)
    where = [
        equals(q, read_plain_value(q, args[name]))
        for name, q in plain.items()
        if args.get(name, "").strip()
    ]
    cql = filter_where(
        args.get("filter"), args.get("filter-lang"), args.get("filter-crs"), collection.queryables
    )
    if cql is not None:
        where.append(cql)
    return ItemsQuery(
        limit=found.limit,
        offset=found.offset,
        bbox=found.bbox,
        bbox_crs=found.bbox_crs,
        crs=found.crs,
        period=found.period,
        filter=collection.parse(args, request, session),
        where=tuple(where),
    )


def selected_rows(
    collection: Collection, query: ItemsQuery, request: Request
) -> tuple[Subquery, list[ColumnElement[bool]]]:
    """Return the collection's rows with bbox and datetime applied, as subquery `p`."""
    rows = collection.rows(query.filter, request)
    p = rows.subquery("p")
    conditions: list[ColumnElement[bool]] = []
    if query.bbox is not None:
        envelope = func.ST_MakeEnvelope(*query.bbox, query.bbox_crs.srid)
        if query.bbox_crs.srid != 4326:
            # Corners alone would cut the curved edges of a projected box.
            envelope = func.ST_Transform(func.ST_Segmentize(envelope, 100.0), 4326)
        conditions.append(func.ST_Intersects(p.c.geom, envelope))
    if query.period is not None:
        conditions.append(overlaps_any(p, collection.periods, *query.period))
    # The rows already leave out what the caller may not see: a filter only narrows them.
    conditions += [where(p) for where in query.where]
    return p, conditions


def geometry_json(geom: ColumnElement[Any], crs: Crs) -> ColumnElement[Any]:
    """Return the GeoJSON geometry of `geom` (SRID 4326) in `crs`, in its axis order."""
    out = geom
    if crs.srid != 4326:
        out = func.ST_Transform(out, crs.srid)
    if crs.north_first:
        out = func.ST_FlipCoordinates(out)
    # Options 0: no "crs" member, which RFC 7946 left out; Content-Crs names it instead.
    return cast(func.ST_AsGeoJSON(out, crs.decimals, 0), JSON)


def _feature(collection: Collection, p: FromClause, crs: Crs) -> ColumnElement[Any]:
    return func.json_build_object(
        "type", "Feature",
        "id", p.c.id,
        "geometry", geometry_json(p.c.geom, crs),
        "properties", func.json_build_object(*collection.properties(p)),
    )  # fmt: skip


@dataclass(frozen=True)
class ItemsPage:
    """One page of features: the features array as JSON text and the counts."""

    features: str
    matched: int
    returned: int


def items_page(
    session: Session, collection: Collection, query: ItemsQuery, request: Request
) -> ItemsPage:
    """Read one page of the collection's features, ordered by id."""
    p, conditions = selected_rows(collection, query, request)
    matched = session.execute(select(func.count()).select_from(p).where(*conditions)).scalar_one()
    rows, where, first = _ranked(collection, p, conditions)
    page = (
        select(rows.c.id, _feature(collection, rows, query.crs).label("feature"), *first)
        .where(*where)
        .order_by(*[f.desc() for f in first], rows.c.id)
        .limit(query.limit)
        .offset(query.offset)
        .subquery("page")
    )
    in_order = aggregate_order_by(
        page.c.feature, *[page.c[f.name].desc() for f in first], page.c.id
    )
    features, returned = session.execute(
        select(
            cast(func.coalesce(func.json_agg(in_order), text("'[]'::json")), Text),
            func.count(),
        ).select_from(page)
    ).one()
    return ItemsPage(features=features, matched=matched, returned=returned)


def _ranked(
    collection: Collection, p: Subquery, conditions: list[ColumnElement[bool]]
) -> tuple[Subquery, list[ColumnElement[bool]], list[Any]]:
    """Return the rows, the conditions left to apply and the column saying a row comes first.

    Features go by id, but in a layer of points, lines and polygons one feature of each
    type comes first: GDAL and QGIS read a layer's geometry type from its first page, and
    a first page of lines only would type the layer as lines, which a GeoPackage layer
    would then refuse points and polygons into. With every type on it, they type the
    layer as generic geometry instead.
    """
    if not collection.mixed_geometry:
        return p, conditions, []
    first = func.row_number().over(partition_by=func.ST_GeometryType(p.c.geom), order_by=p.c.id)
    ranked = select(p, (first == 1).label("first_of_type")).where(*conditions).subquery("ranked")
    return ranked, [], [ranked.c.first_of_type]


def one_item(collection: Collection, feature_id: int, crs: Crs, request: Request) -> str | None:
    """Return one feature of the collection as GeoJSON text, or None if it is not visible."""
    statement = _item_statement(collection.id, crs, request)
    return read_alone(statement, {"feature_id": feature_id})


@lru_cache(maxsize=64)
def _item_statement(cid: str, crs: Crs, request: Request) -> Select:
    # Built once per layer, CRS and caller's rights: putting the expression together took
    # longer than running it. With no arguments, no filter needs the database to be read.
    collection = COLLECTIONS[cid]
    rows = collection.rows(collection.parse(_NO_ARGS, request, None), request)
    p = rows.subquery("p")
    return select(cast(_feature(collection, p, crs), Text)).where(p.c.id == bindparam("feature_id"))


# A single item or the extent is read with no filter beyond the caller's rights.
_NO_ARGS: MultiDict[str, str] = MultiDict()


def spatial_extent(session: Session, collection: Collection, request: Request) -> list | None:
    """Return the CRS84 bounding box of the collection's visible rows, if it has any."""
    rows = collection.rows(collection.parse(_NO_ARGS, request, session), request).subquery("p")
    box = session.execute(
        select(
            func.ST_XMin(func.ST_Extent(rows.c.geom)),
            func.ST_YMin(func.ST_Extent(rows.c.geom)),
            func.ST_XMax(func.ST_Extent(rows.c.geom)),
            func.ST_YMax(func.ST_Extent(rows.c.geom)),
        )
    ).one()
    return None if box[0] is None else [round(v, 6) for v in box]
