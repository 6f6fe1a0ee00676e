"""Items of a collection as GeoJSON built in SQL: paging, bbox, datetime and CRS for every layer."""

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from sqlalchemy import JSON, Text, bindparam, cast, func, select, text
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from tracker.core.errors import BadInput
from tracker.ogc.collections import COLLECTIONS, Collection, Request, overlaps_any
from tracker.ogc.crs import Crs, parse_bbox, parse_crs
from tracker.words.formatting import JST

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
# Parameters every items request may carry; a collection's queryables and filters come on top.
COMMON_PARAMETERS = {"limit", "offset", "bbox", "bbox-crs", "crs", "datetime", "f", "lang"}
# The meeting map's filters, which the projects layer also reads (see collections.py).
PROJECT_EXTRA_PARAMETERS = {"plan_item", "indicator", "department", "fiscal_year", "q", "as_of"}


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


def read_items_query(
    collection: Collection, args, request: Request, session: Session
) -> ItemsQuery:
    """Read and check the query string of an items request."""
    known = COMMON_PARAMETERS | set(collection.queryables)
    if collection.id == "projects":
        known |= PROJECT_EXTRA_PARAMETERS
    unknown = sorted(set(args) - known)
    if unknown:
        raise BadInput("not a parameter of this collection", field=unknown[0])
    bbox_crs = parse_crs(args.get("bbox-crs"), "bbox-crs")
    return ItemsQuery(
        limit=_whole(args.get("limit"), "limit", DEFAULT_LIMIT, 1, clamp=MAX_LIMIT),
        offset=_whole(args.get("offset"), "offset", 0, 0),
        bbox=parse_bbox(args.get("bbox"), bbox_crs),
        bbox_crs=bbox_crs,
        crs=parse_crs(args.get("crs"), "crs"),
        period=parse_datetime(args.get("datetime")),
        filter=collection.parse(args, request, session),
    )


def _whole(raw, name: str, default: int, minimum: int, clamp: int | None = None) -> int:
    if raw is None or raw == "":
        return default
    if not re.fullmatch(r"\d{1,9}", raw.strip()):
        raise BadInput(f"must be a whole number of at least {minimum}", field=name)
    value = int(raw)
    if value < minimum:
        raise BadInput(f"must be at least {minimum}", field=name)
    # A larger limit than served is answered with the most served, as the standard allows.
    return min(value, clamp) if clamp else value


def parse_datetime(raw: str | None) -> tuple[date | None, date | None] | None:
    """Read datetime= (an instant or an interval with '..' for open ends) as days in Japan."""
    if raw is None or not raw.strip():
        return None
    parts = raw.strip().split("/")
    if len(parts) > 2:
        raise BadInput(
            "an instant or an interval start/end, such as 2024-04-01/..", field="datetime"
        )
    days = [_day(p) for p in parts]
    start, end = (days[0], days[0]) if len(days) == 1 else days
    if start is None and end is None and len(days) == 1:
        raise BadInput("'..' needs the other end of an interval", field="datetime")
    if start and end and end < start:
        raise BadInput("the interval ends before it starts", field="datetime")
    return start, end


def _day(part: str) -> date | None:
    part = part.strip()
    if part in ("", ".."):
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", part):
            return date.fromisoformat(part)
        moment = datetime.fromisoformat(part.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise BadInput(
            f"not an RFC 3339 date or date-time: {part[:40]!r}", field="datetime"
        ) from None
    if moment.tzinfo is None:
        raise BadInput(
            f"a date-time needs its time zone (Z or +09:00): {part[:40]!r}", field="datetime"
        )
    return moment.astimezone(JST).date()


def selected_rows(collection: Collection, query: ItemsQuery, request: Request):
    """Return the collection's rows with bbox and datetime applied, as subquery `p`."""
    rows = collection.rows(query.filter, request)
    p = rows.subquery("p")
    conditions = []
    if query.bbox is not None:
        envelope = func.ST_MakeEnvelope(*query.bbox, query.bbox_crs.srid)
        if query.bbox_crs.srid != 4326:
            # Corners alone would cut the curved edges of a projected box.
            envelope = func.ST_Transform(func.ST_Segmentize(envelope, 100.0), 4326)
        conditions.append(func.ST_Intersects(p.c.geom, envelope))
    if query.period is not None:
        conditions.append(overlaps_any(p, collection.periods, *query.period))
    return p, conditions


def geometry_json(geom, crs: Crs):
    """Return the GeoJSON geometry of `geom` (SRID 4326) in `crs`, in its axis order."""
    out = geom
    if crs.srid != 4326:
        out = func.ST_Transform(out, crs.srid)
    if crs.north_first:
        out = func.ST_FlipCoordinates(out)
    # Options 0: no "crs" member, which RFC 7946 left out; Content-Crs names it instead.
    return cast(func.ST_AsGeoJSON(out, crs.decimals, 0), JSON)


def _feature(collection: Collection, p, crs: Crs):
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
    matched = session.scalar(select(func.count()).select_from(p).where(*conditions))
    page = (
        select(p.c.id, _feature(collection, p, query.crs).label("feature"))
        .where(*conditions)
        .order_by(p.c.id)
        .limit(query.limit)
        .offset(query.offset)
        .subquery("page")
    )
    features, returned = session.execute(
        select(
            cast(
                func.coalesce(
                    func.json_agg(aggregate_order_by(page.c.feature, page.c.id)),
                    text("'[]'::json"),
                ),
                Text,
            ),
            func.count(),
        ).select_from(page)
    ).one()
    return ItemsPage(features=features, matched=matched, returned=returned)


def one_item(
    session: Session, collection: Collection, feature_id: int, crs: Crs, request: Request
) -> str | None:
    """Return one feature of the collection as GeoJSON text, or None if it is not visible."""
    statement = _item_statement(collection.id, crs, request)
    return session.scalar(statement, {"feature_id": feature_id})


@lru_cache(maxsize=64)
def _item_statement(cid: str, crs: Crs, request: Request):
    # Built once per layer, CRS and caller's rights: putting the expression together took
    # longer than running it. With no arguments, no filter needs the database to be read.
    collection = COLLECTIONS[cid]
    rows = collection.rows(collection.parse(_NO_ARGS, request, None), request)
    p = rows.subquery("p")
    return select(cast(_feature(collection, p, crs), Text)).where(p.c.id == bindparam("feature_id"))


# A single item or the extent is read with no filter beyond the caller's rights.
_NO_ARGS = MultiDict()


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
