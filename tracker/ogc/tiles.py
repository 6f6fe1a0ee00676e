"""Mapbox Vector Tiles of a collection in WebMercatorQuad, built by PostGIS (ST_AsMVT).

Below CLUSTER_BELOW_ZOOM, the small features that share a cell of a tile (a quarter of its
width, 64 px) travel as one point at the cell's centre with their `count` and their `kinds`
("bridge:3,road:2"), as a marker cluster would draw them: a city view of 100,000 works is then
a few hundred points, not 100,000 shapes for the browser to hold. A cell holding one small
feature sends that feature, drawn at the cell's centre too: every marker then sits on the
grid, one per cell, and none covers another (a marker is narrower than a cell). Features
larger than half a cell (a long road) are always drawn as they are.

Up to SUMMARY_ZOOM, a tile of every work the reader may see reads its counts from the cells'
table (cells.py) instead of counting the works: a prefecture's million works cost a view of
the whole of it no more than a city's. A tile's numbers are bound parameters, and the
statement of such a whole-layer tile is built once per reader's visibility and day.
"""

from functools import lru_cache
from typing import Any

from sqlalchemy import (
    CTE,
    BindParameter,
    ColumnElement,
    Float,
    Integer,
    Select,
    Subquery,
    Text,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from tracker.core.translate import gettext as _
from tracker.ogc.cells import SUMMARY_ZOOM, WorkCell
from tracker.ogc.collections import COLLECTIONS, Collection, Request
from tracker.ogc.items import ItemsQuery, selected_rows
from tracker.ogc.refusals import InvalidParameter
from tracker.projects.queries import ProjectFilter

TMS_ID = "WebMercatorQuad"
TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
MIN_ZOOM = 0
MAX_ZOOM = 22
EXTENT = 4096
# Half a cluster pill (32 px of a 256 px tile): a pin at a tile's edge is drawn whole by both.
BUFFER = 512
CLUSTER_BELOW_ZOOM = 16
CELLS_PER_TILE = 4
WORLD = 20037508.342789244  # half the width of the Web Mercator world, in metres


def check_tile(z: int, x: int, y: int) -> None:
    """Refuse a tile outside the tile matrix set."""
    if not MIN_ZOOM <= z <= MAX_ZOOM:
        raise InvalidParameter(
            "tileMatrix",
            _("ズームレベルは %(low)s〜%(high)s です（%(z)s）", low=MIN_ZOOM, high=MAX_ZOOM, z=z),
        )
    for name, number in (("tileRow", y), ("tileCol", x)):
        if not 0 <= number < 2**z:
            raise InvalidParameter(
                name,
                _(
                    "ズームレベル %(z)s では 0〜%(last)s です（%(number)s）",
                    z=z,
                    last=2**z - 1,
                    number=number,
                ),
            )


def tile_bytes(
    session: Session,
    collection: Collection,
    query: ItemsQuery,
    request: Request,
    z: int,
    x: int,
    y: int,
) -> bytes:
    """Build one vector tile of the collection, with one layer named after it."""
    clustered = collection.clustered_tiles and z < CLUSTER_BELOW_ZOOM
    every = _every_work(query) if clustered and z <= SUMMARY_ZOOM and not collection.timed else None
    if every is not None:
        statement = _summed_tile_statement(collection.id, every.include_private, request)
    else:
        p, conditions = selected_rows(collection, query, request)
        if clustered:
            per_kind = _counted_cells(p, conditions)
            statement = _clustered_statement(collection, p, conditions, per_kind, summed=False)
        else:
            statement = _plain_statement(collection, p, conditions)
    return bytes(session.scalar(statement, _tile_numbers(z, x, y)) or b"")


def _every_work(query: ItemsQuery) -> ProjectFilter | None:
    """Return the filter when the tile holds every work the reader may see (the cells' table
    then counts them), else None."""
    filt = query.filter
    unnarrowed = query.bbox is None and query.period is None and not query.where
    if unnarrowed and isinstance(filt, ProjectFilter) and filt.narrows_only_visibility():
        return filt
    return None


# A tile's statement takes its numbers as parameters, so that one statement serves every
# tile: built and keyed by SQLAlchemy once, not for each tile (most of a tile's time).
def _number(name: str) -> BindParameter[float]:
    return bindparam(name, type_=Float)


def _whole(name: str) -> BindParameter[int]:
    return bindparam(name, type_=Integer)


def _tile_numbers(z: int, x: int, y: int) -> dict[str, float | int]:
    """Return the parameters of tile z/x/y: its square, its cells and the margins around."""
    width = 2 * WORLD / 2**z
    cell = width / CELLS_PER_TILE
    x0, y1 = -WORLD + x * width, WORLD - y * width
    # Half a cluster pill beyond the tile: what is drawn there is drawn by both tiles.
    buffer_m = width * BUFFER / EXTENT
    shift = max(SUMMARY_ZOOM - z, 0)
    rows_below = CELLS_PER_TILE * (2**z - y - 1)
    return {
        "tile_xmin": x0, "tile_ymin": y1 - width, "tile_xmax": x0 + width, "tile_ymax": y1,
        "drawn_xmin": x0 - buffer_m, "drawn_ymin": y1 - width - buffer_m,
        "drawn_xmax": x0 + width + buffer_m, "drawn_ymax": y1 + buffer_m,
        # Small features are counted from one cell beyond the tile.
        "counted_xmin": x0 - cell, "counted_ymin": y1 - width - cell,
        "counted_xmax": x0 + width + cell, "counted_ymax": y1 + cell,
        "cell": cell, "half_cell": cell / 2, "z": z,
        # The same cells in the cells' table's units: a zoom z cell is 2**shift of them across.
        "shift": shift,
        "first_col": (CELLS_PER_TILE * x - 1) << shift,
        "last_col": (CELLS_PER_TILE * (x + 1) + 1 << shift) - 1,
        "first_row": rows_below - 1 << shift,
        "last_row": (rows_below + CELLS_PER_TILE + 1 << shift) - 1,
    }  # fmt: skip


def _square(name: str) -> ColumnElement[Any]:
    """Return the square `name` (tile, drawn) of the tile's numbers, in Web Mercator."""
    corners = [_number(f"{name}_{corner}") for corner in ("xmin", "ymin", "xmax", "ymax")]
    return func.ST_MakeEnvelope(*corners, 3857)


def _mvt_geom(geom: ColumnElement[Any]) -> ColumnElement[Any]:
    return func.ST_AsMVTGeom(geom, _square("tile"), EXTENT, BUFFER, True)


def _as_mvt(layer: Subquery, name: str) -> Select:
    return select(func.ST_AsMVT(literal_column(layer.name), name, EXTENT, "geom")).select_from(
        layer
    )


def _plain_statement(
    collection: Collection, p: Subquery, conditions: list[ColumnElement[bool]]
) -> Select:
    search = func.ST_Transform(_square("drawn"), 4326)
    layer = (
        select(
            *[p.c[name] for name in collection.tile_properties],
            _mvt_geom(func.ST_Transform(p.c.geom, 3857)).label("geom"),
        )
        .where(p.c.geom.op("&&")(search), *conditions)
        .subquery("t")
    )
    return _as_mvt(layer, collection.id)


@lru_cache(maxsize=32)
def _summed_tile_statement(collection_id: str, include_private: bool, request: Request) -> Select:
    """The statement of every tile of a layer up to SUMMARY_ZOOM that holds every work the
    reader may see, kept: it depends on who reads and on the day, never on the tile."""
    collection = COLLECTIONS[collection_id]
    p = collection.rows(ProjectFilter(include_private=include_private), request).subquery("p")
    per_kind = _summed_cells(include_private)
    return _clustered_statement(collection, p, [], per_kind, summed=True)


def _cell_of(p: Subquery) -> tuple[ColumnElement[int], ColumnElement[int]]:
    """Return the column and row of the cell a row's position lies in."""
    cell = _number("cell")
    col = cast(func.floor((p.c.mercator_x + WORLD) / cell), Integer)
    row = cast(func.floor((p.c.mercator_y + WORLD) / cell), Integer)
    return col, row


def _clustered_statement(
    collection: Collection,
    p: Subquery,
    conditions: list[ColumnElement[bool]],
    per_kind: CTE,
    *,
    summed: bool,
) -> Select:
    # Cells are aligned on the world grid, so every tile agrees on which features a cluster
    # holds. Small features are counted from one cell beyond the tile: one seen at the tile's
    # edge may belong to a neighbouring cell, whose count decides whether it is drawn alone,
    # and a cluster of that cell may reach into this tile's buffer. Positions are the rows'
    # stored Web Mercator numbers; only the features drawn as they are get transformed.
    cell = _number("cell")
    geom = p.c.geom
    small = p.c.mercator_size <= _number("half_cell")
    col, row = _cell_of(p)
    # One group per cell across kinds; `kind` only when the cell holds one kind.
    cells = (
        select(
            per_kind.c.cx,
            per_kind.c.cy,
            cast(func.sum(per_kind.c.n), Integer).label("n"),
            func.min(per_kind.c.id).label("id"),
            case((func.count() == 1, func.min(per_kind.c.kind))).label("kind"),
            func.string_agg(
                per_kind.c.kind + ":" + cast(per_kind.c.n, Text),
                aggregate_order_by(literal_column("','"), per_kind.c.kind),
            ).label("kinds"),
        )
        .group_by(per_kind.c.cx, per_kind.c.cy)
        .cte("cells")
    )
    if not summed:
        the_one_work = p.c.id == cells.c.id
    else:
        # The counts name no work: the cell's one work is found by its position.
        the_one_work = and_(
            p.c.mercator_x.between(cells.c.cx * cell - WORLD, (cells.c.cx + 1) * cell - WORLD),
            p.c.mercator_y.between(cells.c.cy * cell - WORLD, (cells.c.cy + 1) * cell - WORLD),
            col == cells.c.cx,
            row == cells.c.cy,
            small,
        )
    centre = func.ST_SetSRID(
        func.ST_MakePoint((cells.c.cx + 0.5) * cell - WORLD, (cells.c.cy + 0.5) * cell - WORLD),
        3857,
    )
    drawn = func.ST_Transform(_square("drawn"), 4326)

    large = select(
        p.c.id, p.c.name, p.c.kind, p.c.status, p.c.progress,
        cast(null(), Integer).label("count"), cast(null(), Text).label("kinds"),
        p.c.position_only,
        _mvt_geom(func.ST_Transform(geom, 3857)).label("geom"),
    ).where(geom.op("&&")(drawn), *conditions, ~small)  # fmt: skip
    alone = (
        select(
            p.c.id,
            p.c.name,
            p.c.kind,
            p.c.status,
            p.c.progress,
            cast(null(), Integer),
            cast(null(), Text),
            p.c.position_only,
            _mvt_geom(centre),
        )  # fmt: skip
        .select_from(cells)
        .join(p, the_one_work)
        .where(cells.c.n == 1)
    )
    groups = select(
        null(), null(), cells.c.kind, null(), null(), cells.c.n, cells.c.kinds, null(),
        _mvt_geom(centre),
    ).where(cells.c.n > 1)  # fmt: skip
    features = union_all(large, alone, groups)
    return _as_mvt(features.subquery("features"), collection.id)


def _counted_cells(p: Subquery, conditions: list[ColumnElement[bool]]) -> CTE:
    """Count the small works of each cell and kind around the tile, with one id each."""
    col, row = _cell_of(p)
    placed = (
        select(p.c.id, p.c.kind, col.label("cx"), row.label("cy"))
        .where(
            p.c.mercator_x.between(_number("counted_xmin"), _number("counted_xmax")),
            p.c.mercator_y.between(_number("counted_ymin"), _number("counted_ymax")),
            p.c.mercator_size <= _number("half_cell"),
            *conditions,
        )
        .subquery("placed")
    )
    return (
        select(
            placed.c.kind,
            placed.c.cx,
            placed.c.cy,
            func.count().label("n"),
            func.min(placed.c.id).label("id"),
        )
        .group_by(placed.c.kind, placed.c.cx, placed.c.cy)
        .cte("per_kind")
    )


def _summed_cells(include_private: bool) -> CTE:
    """Sum the cells' table into the tile's cells (and one beyond), per kind, without ids."""
    shift = _whole("shift")
    cx = WorkCell.cx.op(">>")(shift)
    cy = WorkCell.cy.op(">>")(shift)
    return (
        select(
            WorkCell.kind,
            cx.label("cx"),
            cy.label("cy"),
            cast(func.sum(WorkCell.works), Integer).label("n"),
            cast(null(), Integer).label("id"),
        )
        .where(
            WorkCell.cx.between(_whole("first_col"), _whole("last_col")),
            WorkCell.cy.between(_whole("first_row"), _whole("last_row")),
            WorkCell.small_to_zoom >= _whole("z"),
            or_(literal(include_private), WorkCell.is_public.is_(True)),
        )
        .group_by(WorkCell.kind, cx, cy)
        .having(func.sum(WorkCell.works) > 0)
        .cte("per_kind")
    )


def tile_matrix_limits(z: int) -> dict:
    """Return the tile matrix limits of one zoom level (the whole world)."""
    return {"tileMatrix": str(z), "minTileRow": 0, "maxTileRow": 2**z - 1,
            "minTileCol": 0, "maxTileCol": 2**z - 1}  # fmt: skip
