"""Refuse input the database cannot hold before any view sees it."""

from flask import Flask, abort, request
from flask_babel import gettext as _
from werkzeug.routing import IntegerConverter


def init_app(app: Flask) -> None:
    """Bound every `<int:...>` in routes and refuse text with NUL characters."""
    # Set before the blueprints add their routes, so that every `<int:...>` is bounded.
    app.url_map.converters["int"] = IdConverter
    app.before_request(_refuse_nul_characters)


# The largest PostgreSQL integer: an id or version beyond it names nothing (404, stale),
# rather than reaching the database and failing there.
MAX_DB_INTEGER = 2**31 - 1


class IdConverter(IntegerConverter):
    """`<int:...>` in routes, bounded to what the database can store."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_DB_INTEGER)
        super().__init__(map, *args, **kwargs)


def _refuse_nul_characters() -> None:
    # PostgreSQL text cannot hold U+0000: refuse it here, naming the field, rather than
    # fail on the insert.
    fields = [*request.args.items(multi=True), *request.form.items(multi=True)]
    if request.is_json:
        fields += _json_fields(request.get_json(silent=True))
    for name, value in fields:
        if "\x00" in name or "\x00" in value:
            name = name.replace("\x00", "")
            abort(400, description=f"{name}: " + _("使えない文字（NUL）が含まれています"))


def _json_fields(data, name: str = "body"):
    """Yield (nearest key, text) for every string in a parsed JSON value, keys included."""
    if isinstance(data, str):
        yield name, data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield key, key
            yield from _json_fields(value, key)
    elif isinstance(data, list):
        for value in data:
            yield from _json_fields(value, name)
