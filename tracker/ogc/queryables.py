"""The properties of a layer one may filter on: OGC API – Features Part 3 queryables.

Two filters read them: CQL2 (`filter=`, cql.py) and the queryables as plain query
parameters (`?progress=100`), which compare for equality. They are an allow-list: only the
columns named here ever reach SQL, and the values always travel as bound parameters.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import BigInteger, Boolean, ColumnElement, Date, FromClause, Numeric, Text, literal
from sqlalchemy.types import TypeEngine

from tracker.core.translate import gettext as _
from tracker.ogc.refusals import InvalidParameter

QueryableType = Literal["string", "integer", "number", "boolean", "date", "geometry"]

# A condition on the rows of a layer, built once the rows' subquery `p` is known.
Where = Callable[[FromClause], ColumnElement[bool]]

JSON_SCHEMA = "application/schema+json"
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"

BIGINT_MAX = 2**63 - 1
_SQL_TYPES: dict[str, TypeEngine[Any]] = {
    "string": Text(),
    # Wider than any integer column: a number beyond a column's range matches nothing rather
    # than failing the query.
    "integer": BigInteger(),
    "number": Numeric(),
    "boolean": Boolean(),
    "date": Date(),
}


@dataclass(frozen=True)
class Queryable:
    """One property a filter may read: its name, type and the column of the layer's rows."""

    name: str
    type: QueryableType
    # The property's name for people (a lazy string, read in the reader's language).
    title: object
    # The column of the layer's rows, when it is named otherwise than the property.
    column: str = ""
    # The codes a text property takes, when it is a code.
    values: tuple[str, ...] = ()
    # The geometry's JSON Schema format: geometry-any, geometry-point, ...
    geometry_format: str = "geometry-any"
    # Whole numbers beyond 32 bits (yen): a GIS field for them must be wider than GDAL's
    # integer, which it makes of a JSON Schema integer.
    large: bool = False

    def of(self, p: FromClause) -> ColumnElement[Any]:
        """Return the property's column in the layer's rows `p`."""
        return p.c[self.column or self.name]

    def bound(self, value: object) -> ColumnElement[Any]:
        """Return `value` as a bound parameter of the property's SQL type."""
        if self.type == "integer" and isinstance(value, int) and abs(value) > BIGINT_MAX:
            raise InvalidParameter(self.name, _expected(self))
        return literal(value, _SQL_TYPES[self.type])

    def schema(self) -> dict[str, Any]:
        """Return the property's JSON Schema, as the queryables document gives it."""
        found: dict[str, Any] = {"title": str(self.title)}
        if self.type == "geometry":
            found |= {"format": self.geometry_format, "x-ogc-role": "primary-geometry"}
        elif self.type == "date":
            found |= {"type": "string", "format": "date"}
        else:
            found["type"] = self.type
        if self.values:
            found["enum"] = list(self.values)
        return found


def queryable(name: str, type_: QueryableType, title: object, **more: Any) -> Queryable:
    """Return a Queryable; `title` is the property's name for people (a lazy string)."""
    return Queryable(name=name, type=type_, title=title, **more)


def queryables_document(
    url: str, title: object, queryables: tuple[Queryable, ...]
) -> dict[str, Any]:
    """Return the queryables of a layer as a JSON Schema (Part 3, /queryables)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": url,
        "type": "object",
        "title": str(title),
        # Only these: a filter on any other property is refused.
        "additionalProperties": False,
        "properties": {q.name: q.schema() for q in queryables},
    }


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def read_plain_value(q: Queryable, raw: str) -> object:
    """Read the value of a queryable given as a plain query parameter, by its type."""
    text = raw.strip()
    try:
        if q.type == "integer":
            return int(text)
        if q.type == "number":
            return float(text)
        if q.type == "date" and _DATE.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    else:
        if q.type == "string":
            return raw
        if q.type == "boolean" and text in ("true", "false"):
            return text == "true"
    raise InvalidParameter(q.name, _expected(q))


def _expected(q: Queryable) -> str:
    words = {
        "integer": _("整数で指定してください"),
        "number": _("数値で指定してください"),
        "boolean": _("true か false で指定してください"),
        "date": _("YYYY-MM-DD の日付で指定してください"),
    }
    return words.get(q.type, _("この値は使えません"))


def equals(q: Queryable, value: object) -> Where:
    """Return the condition: the property equals `value` (a plain query parameter)."""
    return lambda p: q.of(p) == q.bound(value)
