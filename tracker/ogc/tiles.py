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
the whole of it no more than a city's.
"""

from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Integer,
    Subquery,
    Text,
    and_,
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
from tracker.ogc.collections import Collection, Request
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
    p, conditions = selected_rows(collection, query, request)
    if collection.clustered_tiles and z < CLUSTER_BELOW_ZOOM:
        filt = query.filter
        # Every work the reader may see: counted by the cells' table (None: count the works).
        summed_for = (
            filt.include_private
            if z <= SUMMARY_ZOOM
            and not conditions
            and isinstance(filt, ProjectFilter)
            and filt.narrows_only_visibility()
            else None
        )
        tile = _clustered_tile(session, collection, p, conditions, z, x, y, summed_for)
    else:
        tile = _plain_tile(session, collection, p, conditions, z, x, y)
    return bytes(tile or b"")


def _envelope(z: int, x: int, y: int, margin: float = 0.0) -> ColumnElement[Any]:
    """Return the tile's square in Web Mercator, grown by `margin` metres on every side."""
    width = 2 * WORLD / 2**z
    x0, y1 = -WORLD + x * width, WORLD - y * width
    return func.ST_MakeEnvelope(
        x0 - margin, y1 - width - margin, x0 + width + margin, y1 + margin, 3857
    )


def _mvt_geom(geom: ColumnElement[Any], z: int, x: int, y: int) -> ColumnElement[Any]:
    return func.ST_AsMVTGeom(geom, _envelope(z, x, y), EXTENT, BUFFER, True)


def _as_mvt(session: Session, layer: Subquery, name: str) -> bytes | None:
    return session.scalar(
        select(func.ST_AsMVT(literal_column(layer.name), name, EXTENT, "geom")).select_from(layer)
    )


def _plain_tile(
    session: Session,
    collection: Collection,
    p: Subquery,
    conditions: list[ColumnElement[bool]],
    z: int,
    x: int,
    y: int,
) -> bytes | None:
    buffer_m = 2 * WORLD / 2**z * BUFFER / EXTENT
    search = func.ST_Transform(_envelope(z, x, y, buffer_m), 4326)
    layer = (
        select(
            *[p.c[name] for name in collection.tile_properties],
            _mvt_geom(func.ST_Transform(p.c.geom, 3857), z, x, y).label("geom"),
        )
        .where(p.c.geom.op("&&")(search), *conditions)
        .subquery("t")
    )
    return _as_mvt(session, layer, collection.id)


def _clustered_tile(
    session: Session,
    collection: Collection,
    p: Subquery,
    conditions: list[ColumnElement[bool]],
    z: int,
    x: int,
    y: int,
    summed_for: bool | None,
) -> bytes | None:
    # Cells are aligned on the world grid, so every tile agrees on which features a cluster
    # holds. Small features are counted from one cell beyond the tile: one seen at the tile's
    # edge may belong to a neighbouring cell, whose count decides whether it is drawn alone,
    # and a cluster of that cell may reach into this tile's buffer. Positions are the rows'
    # stored Web Mercator numbers; only the features drawn as they are get transformed.
    width = 2 * WORLD / 2**z
    cell = width / CELLS_PER_TILE
    geom = p.c.geom
    small = p.c.mercator_size <= cell / 2
    col = cast(func.floor((p.c.mercator_x + WORLD) / cell), Integer)
    row = cast(func.floor((p.c.mercator_y + WORLD) / cell), Integer)
    if summed_for is None:
        per_kind = _counted_cells(p, conditions, small, col, row, z, x, y)
    else:
        per_kind = _summed_cells(summed_for, z, x, y)
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
    if summed_for is None:
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
    buffer_m = width * BUFFER / EXTENT
    drawn = func.ST_Transform(_envelope(z, x, y, buffer_m), 4326)

    large = select(
        p.c.id, p.c.name, p.c.kind, p.c.status, p.c.progress,
        cast(null(), Integer).label("count"), cast(null(), Text).label("kinds"),
        p.c.position_only,
        _mvt_geom(func.ST_Transform(geom, 3857), z, x, y).label("geom"),
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
            _mvt_geom(centre, z, x, y),
        )  # fmt: skip
        .select_from(cells)
        .join(p, the_one_work)
        .where(cells.c.n == 1)
    )
    groups = select(
        null(), null(), cells.c.kind, null(), null(), cells.c.n, cells.c.kinds, null(),
        _mvt_geom(centre, z, x, y),
    ).where(cells.c.n > 1)  # fmt: skip
    features = union_all(large, alone, groups)
    return _as_mvt(session, features.subquery("features"), collection.id)


def _counted_cells(
    p: Subquery,
    conditions: list[ColumnElement[bool]],
    small: ColumnElement[bool],
    col: ColumnElement[int],
    row: ColumnElement[int],
    z: int,
    x: int,
    y: int,
) -> CTE:
    """Count the small works of each cell and kind around the tile, with one id each."""
    width = 2 * WORLD / 2**z
    cell = width / CELLS_PER_TILE
    x0, y1 = -WORLD + x * width, WORLD - y * width
    placed = (
        select(p.c.id, p.c.kind, col.label("cx"), row.label("cy"))
        .where(
            p.c.mercator_x.between(x0 - cell, x0 + width + cell),
            p.c.mercator_y.between(y1 - width - cell, y1 + cell),
            small,
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


def _summed_cells(include_private: bool, z: int, x: int, y: int) -> CTE:
    """Sum the cells' table into the tile's cells (and one beyond), per kind, without ids."""
    shift = SUMMARY_ZOOM - z
    # The tile's cells in the table's units: a zoom z cell is 2**shift of them across.
    first_col, last_col = (
        (CELLS_PER_TILE * x - 1) << shift,
        (CELLS_PER_TILE * (x + 1) + 1 << shift) - 1,
    )
    rows_below = CELLS_PER_TILE * (2**z - y - 1)
    first_row, last_row = rows_below - 1 << shift, (rows_below + CELLS_PER_TILE + 1 << shift) - 1
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
            WorkCell.cx.between(first_col, last_col),
            WorkCell.cy.between(first_row, last_row),
            WorkCell.small_to_zoom >= z,
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
