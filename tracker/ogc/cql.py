"""CQL2 filters (OGC API – Features Part 3): parsed by pygeofilter, translated here into SQL.

The translation walks pygeofilter's syntax tree itself, over the layer's queryables only
(queryables.py): a property that is not one is refused, as is a value of the wrong type or
an operator this API does not offer, each with a sentence saying so. Every value reaches
SQL as a bound parameter. The filter only narrows the layer's rows, which already leave out
what the caller may not see, so staff-only works stay hidden whatever it says.

Offered: Basic CQL2 (comparisons, AND/OR/NOT, IS NULL, dates), the advanced comparison
operators (LIKE, BETWEEN, IN), comparisons of two properties, and the spatial functions
(S_INTERSECTS and the seven others) with any geometry literal or BBOX.
"""

import json
import math
import operator
import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import shapely
from lark.exceptions import UnexpectedInput
from pygeofilter import ast, values
from shapely.geometry import box, shape
from sqlalchemy import ColumnElement, FromClause, and_, false, func, literal, not_, or_, true

from tracker.core.translate import gettext as _
from tracker.ogc.crs import CRS84, Crs, filter_crs
from tracker.ogc.queryables import Queryable, Where
from tracker.ogc.refusals import InvalidParameter

CQL2_TEXT = "cql2-text"
CQL2_JSON = "cql2-json"
# The draft's name, which GDAL before 3.7 sends for the same text encoding.
CQL_TEXT_DRAFT = "cql-text"
FILTER_LANGS = (CQL2_TEXT, CQL2_JSON, CQL_TEXT_DRAFT)

# Longer filters are not what people or GIS programs send; parsing them costs.
MAX_FILTER_LENGTH = 20_000
# Parentheses and NOTs nested deeper than this are refused.
MAX_DEPTH = 50

_COMPARISONS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Equal: operator.eq,
    ast.NotEqual: operator.ne,
    ast.LessThan: operator.lt,
    ast.LessEqual: operator.le,
    ast.GreaterThan: operator.gt,
    ast.GreaterEqual: operator.ge,
}

_SPATIAL: dict[type, Any] = {
    ast.GeometryIntersects: func.ST_Intersects,
    ast.GeometryDisjoint: func.ST_Disjoint,
    ast.GeometryContains: func.ST_Contains,
    ast.GeometryWithin: func.ST_Within,
    ast.GeometryTouches: func.ST_Touches,
    ast.GeometryCrosses: func.ST_Crosses,
    ast.GeometryOverlaps: func.ST_Overlaps,
    ast.GeometryEquals: func.ST_Equals,
}

_TEXT_DATE = re.compile(r"\d{4}-\d{2}-\d{2}T?")

# Scalar types that compare with one another.
_NUMERIC = {"integer", "number"}


def filter_where(
    raw: str | None, lang: str | None, crs_name: str | None, queryables: tuple[Queryable, ...]
) -> Where | None:
    """Read filter=, filter-lang= and filter-crs=; return the condition, or None without one.

    Everything is checked here, before any SQL is built: a refusal names `filter` (or the
    parameter at fault) and says what is wrong.
    """
    lang = (lang or "").strip() or CQL2_TEXT
    if lang not in FILTER_LANGS:
        raise InvalidParameter(
            "filter-lang",
            _("%(value)s は使えません。cql2-text か cql2-json を指定してください", value=lang[:40]),
        )
    crs = filter_crs(crs_name)
    if raw is None or not raw.strip():
        return None
    if len(raw) > MAX_FILTER_LENGTH:
        raise InvalidParameter(
            "filter", _("filter が長すぎます（%(most)s 文字まで）", most=MAX_FILTER_LENGTH)
        )
    node = _parse(raw, lang)
    return _Translator({q.name: q for q in queryables}, crs, lang == CQL2_JSON).condition(node)


def _parse(raw: str, lang: str) -> Any:
    # Imported at the first filter: building the text grammar takes half a second, which
    # every app process would otherwise spend starting.
    from pygeofilter.parsers.cql2_json import parse as parse_cql2_json
    from pygeofilter.parsers.cql2_text import parse as parse_cql2_text

    try:
        if lang == CQL2_JSON:
            return parse_cql2_json(json.loads(raw))
        return parse_cql2_text(raw)
    except UnexpectedInput as error:
        near = raw[max(0, error.pos_in_stream or 0) :][:20] if error.pos_in_stream else ""
        raise InvalidParameter(
            "filter",
            _(
                "CQL2 として読み取れません（%(column)s 文字目「%(near)s」のあたり）",
                column=error.column,
                near=near,
            ),
        ) from None
    except RecursionError:
        raise InvalidParameter("filter", _("filter の入れ子が深すぎます")) from None
    except Exception:  # noqa: BLE001 - pygeofilter refuses malformed documents with bare exceptions
        raise InvalidParameter(
            "filter",
            _("%(lang)s として読み取れません。書き方を確かめてください", lang=lang),
        ) from None


def _chain(node: Any, kind: type) -> list[Any]:
    """Return the operands of a chain of one logical operator, in order, without recursion."""
    found: list[Any] = []
    pending: list[Any] = [node]
    while pending:
        current = pending.pop()
        same_operator = type(current) is kind
        if same_operator:
            pending += [current.rhs, current.lhs]
        else:
            found.append(current)
    return found


class _Translator:
    """Turn a pygeofilter tree into a condition on the layer's rows, checking as it goes."""

    def __init__(self, queryables: dict[str, Queryable], crs: Crs, from_json: bool) -> None:
        self.queryables = queryables
        self.crs = crs
        # CQL2 JSON writes a bbox as [minx, miny, maxx, maxy], which pygeofilter reads
        # into its Envelope in that order; text has BBOX(...) for the same.
        self.from_json = from_json

    def condition(self, node: Any, depth: int = 0) -> Where:
        """Return the condition a predicate or a combination of predicates makes."""
        if depth > MAX_DEPTH:
            raise InvalidParameter("filter", _("filter の入れ子が深すぎます"))
        if isinstance(node, ast.And | ast.Or):
            # A chain of ANDs (or ORs) is one flat list, however long.
            parts = [self.condition(n, depth + 1) for n in _chain(node, type(node))]
            join = and_ if isinstance(node, ast.And) else or_
            return lambda p: join(*(part(p) for part in parts))
        if isinstance(node, ast.Not):
            inner = self.condition(node.sub_node, depth + 1)
            return lambda p: not_(inner(p))
        if isinstance(node, ast.Include):
            return lambda p: false() if node.not_ else true()
        if type(node) in _COMPARISONS:
            return self._comparison(_COMPARISONS[type(node)], node.lhs, node.rhs)
        if isinstance(node, ast.Between):
            return self._between(node)
        if isinstance(node, ast.Like):
            return self._like(node)
        if isinstance(node, ast.In):
            return self._in(node)
        if isinstance(node, ast.IsNull):
            q = self._property(node.lhs)
            return lambda p: q.of(p).is_not(None) if node.not_ else q.of(p).is_(None)
        if type(node) in _SPATIAL:
            return self._spatial(_SPATIAL[type(node)], node.lhs, node.rhs)
        if isinstance(node, ast.BBox):
            corners = (node.minx, node.miny, node.maxx, node.maxy)
            envelope = self._envelope(corners, node.crs)
            return self._spatial(func.ST_Intersects, node.lhs, envelope)
        raise InvalidParameter("filter", _unsupported(node))

    # --- Comparisons ------------------------------------------------------------------

    def _comparison(self, compare: Callable[[Any, Any], Any], lhs: Any, rhs: Any) -> Where:
        if isinstance(lhs, ast.Attribute) and isinstance(rhs, ast.Attribute):
            a, b = self._property(lhs), self._property(rhs)
            if not _comparable(a, b):
                raise InvalidParameter(
                    "filter",
                    _(
                        "%(a)s と %(b)s は型が違うため比べられません",
                        a=a.name,
                        b=b.name,
                    ),
                )
            return lambda p: compare(a.of(p), b.of(p))
        if isinstance(lhs, ast.Attribute):
            q = self._property(lhs)
            value = self._scalar(q, rhs)
            return lambda p: compare(q.of(p), q.bound(value))
        if isinstance(rhs, ast.Attribute):
            q = self._property(rhs)
            value = self._scalar(q, lhs)
            return lambda p: compare(q.bound(value), q.of(p))
        raise InvalidParameter("filter", _("比較の片方はプロパティにしてください"))

    def _between(self, node: ast.Between) -> Where:
        q = self._property(node.lhs)
        low, high = self._scalar(q, node.low), self._scalar(q, node.high)

        def where(p: FromClause) -> ColumnElement[bool]:
            inside = q.of(p).between(q.bound(low), q.bound(high))
            return not_(inside) if node.not_ else inside

        return where

    def _like(self, node: ast.Like) -> Where:
        q = self._property(node.lhs)
        if q.type != "string" or not isinstance(node.pattern, str):
            raise InvalidParameter(
                "filter", _("LIKE は文字列のプロパティと文字列のパターンに使えます")
            )
        pattern = node.pattern

        def where(p: FromClause) -> ColumnElement[bool]:
            # CQL2's wildcards and escape are SQL's: % any run, _ one character, \ escape.
            column = q.of(p)
            found = (
                column.ilike(q.bound(pattern), escape="\\")
                if node.nocase
                else column.like(q.bound(pattern), escape="\\")
            )
            return not_(found) if node.not_ else found

        return where

    def _in(self, node: ast.In) -> Where:
        q = self._property(node.lhs)
        if not isinstance(node.sub_nodes, list) or not node.sub_nodes:
            raise InvalidParameter("filter", _("IN には値を一つ以上並べてください"))
        choices = [self._scalar(q, v) for v in node.sub_nodes]

        def where(p: FromClause) -> ColumnElement[bool]:
            found = q.of(p).in_([q.bound(v) for v in choices])
            return not_(found) if node.not_ else found

        return where

    def _property(self, node: Any) -> Queryable:
        if not isinstance(node, ast.Attribute):
            raise InvalidParameter("filter", _unsupported(node))
        q = self.queryables.get(node.name)
        if q is None:
            raise InvalidParameter(
                "filter",
                _(
                    "「%(name)s」では絞り込めません。使えるプロパティは %(known)s です",
                    name=node.name[:40],
                    known=_("、").join(self.queryables),
                ),
            )
        return q

    def _scalar(self, q: Queryable, node: Any) -> object:
        """Return a literal as a value of the property's type, or refuse it."""
        if q.type == "geometry":
            raise InvalidParameter(
                "filter", _("図形は S_INTERSECTS などの空間関数で比べてください")
            )
        found = _typed(q, node)
        if found is None:
            raise InvalidParameter(
                "filter",
                _(
                    "%(name)s には %(type)s の値を指定してください（%(value)s）",
                    name=q.name,
                    type=_type_words(q),
                    value=str(node)[:40],
                ),
            )
        return found

    # --- Geometry ---------------------------------------------------------------------

    def _spatial(self, predicate: Any, lhs: Any, rhs: Any) -> Where:
        left, right = self._geometry_operand(lhs), self._geometry_operand(rhs)
        return lambda p: predicate(left(p), right(p))

    def _geometry_operand(self, node: Any) -> Where:
        if isinstance(node, ast.Attribute):
            q = self._property(node)
            if q.type != "geometry":
                raise InvalidParameter("filter", _("%(name)s は図形ではありません", name=q.name))
            return lambda p: q.of(p)
        if isinstance(node, values.Envelope):
            if not self.from_json:
                raise InvalidParameter(
                    "filter", _("範囲は BBOX(最小x, 最小y, 最大x, 最大y) で指定してください")
                )
            # Read in pygeofilter's field order, which holds [minx, miny, maxx, maxy] here.
            node = self._envelope((node.x1, node.x2, node.y1, node.y2), None)
        elif isinstance(node, ast.Function) and node.name.lower() == "bbox":
            node = self._envelope(tuple(node.arguments), None)
        if isinstance(node, values.Geometry):
            wkt = self._checked_wkt(node.geometry)
            crs = self.crs
            return lambda p: _in_storage_crs(wkt, crs)
        raise InvalidParameter("filter", _("空間関数には図形のプロパティと図形を指定してください"))

    def _envelope(self, corners: tuple[Any, ...], crs_name: str | None) -> values.Geometry:
        if crs_name:
            raise InvalidParameter("filter", _("座標参照系は filter-crs で指定してください"))
        if len(corners) == 6:  # with heights, which 2D data ignores
            corners = (corners[0], corners[1], corners[3], corners[4])
        numbers = [c for c in corners if _is_number(c)]
        if len(numbers) != 4 or len(corners) != 4:
            raise InvalidParameter("filter", _("BBOX には数値を4つ指定してください"))
        min_x, min_y, max_x, max_y = (float(n) for n in numbers)
        if min_x > max_x or min_y > max_y:
            raise InvalidParameter("filter", _("BBOX は小さいほうの角を先に指定してください"))
        return values.Geometry(box(min_x, min_y, max_x, max_y).__geo_interface__)

    def _checked_wkt(self, geometry: dict) -> str:
        """Return the geometry literal as WKT, refusing what PostGIS could not use."""
        if "crs" in geometry:
            raise InvalidParameter("filter", _("座標参照系は filter-crs で指定してください"))
        try:
            found = shape(geometry)
        except Exception:  # noqa: BLE001 - shapely says nothing more useful for a reader
            found = None
        if found is None or found.is_empty:
            raise InvalidParameter("filter", _("図形を読み取れません"))
        coordinates = shapely.get_coordinates(found)
        if not all(math.isfinite(float(n)) for n in coordinates.flat):
            raise InvalidParameter("filter", _("図形の座標が数値ではありません"))
        if not found.is_valid:
            raise InvalidParameter(
                "filter", _("図形が正しくありません（%(why)s）", why=shapely.is_valid_reason(found))
            )
        if self.crs.srid == 4326:
            lons, lats = (coordinates[:, 1], coordinates[:, 0]) if self.crs.north_first else (
                coordinates[:, 0], coordinates[:, 1])  # fmt: skip
            if abs(lons).max() > 180 or abs(lats).max() > 90:
                raise InvalidParameter(
                    "filter", _("経度は ±180、緯度は ±90 の範囲で指定してください")
                )
        return str(found.wkt)


def _in_storage_crs(wkt: str, crs: Crs) -> ColumnElement[Any]:
    """Return the literal geometry (bound WKT in `crs`) in the layers' SRID 4326."""
    geometry = func.ST_GeomFromText(literal(wkt), crs.srid)
    if crs.north_first:
        geometry = func.ST_FlipCoordinates(geometry)
    if crs.srid != CRS84.srid:
        geometry = func.ST_Transform(geometry, CRS84.srid)
    return geometry


# --- Values ---------------------------------------------------------------------------


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _typed(q: Queryable, value: object) -> object | None:
    """Return `value` as the property's type, or None when it is not one."""
    if q.type == "string":
        return value if isinstance(value, str) else None
    if q.type in _NUMERIC:
        if not _is_number(value) or not math.isfinite(float(value)):  # type: ignore[arg-type]
            return None
        return value
    if q.type == "boolean":
        return value if isinstance(value, bool) else None
    if q.type == "date":
        if isinstance(value, datetime):
            return None  # a date property takes DATE('…'), not an instant
        if isinstance(value, date):
            return value
        # Text in the form of a date, as clients that know no DATE() send it; GDAL 3.6
        # writes a date field's value with a bare T after it ('2024-04-01T').
        if isinstance(value, str) and _TEXT_DATE.fullmatch(value):
            try:
                return date.fromisoformat(value[:10])
            except ValueError:
                return None
    return None


def _comparable(a: Queryable, b: Queryable) -> bool:
    if a.type == "geometry" or b.type == "geometry":
        return False
    return a.type == b.type or {a.type, b.type} <= _NUMERIC


def _type_words(q: Queryable) -> str:
    words = {
        "string": _("文字列"),
        "integer": _("整数"),
        "number": _("数値"),
        "boolean": _("true か false"),
        "date": _("日付（DATE('YYYY-MM-DD')）"),
    }
    return words[q.type]


def _unsupported(node: Any) -> str:
    name = getattr(node, "op", None)
    label = getattr(name, "value", None) or type(node).__name__
    return _("この API の CQL2 では使えない書き方です（%(what)s）", what=str(label)[:40])
