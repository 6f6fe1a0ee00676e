"""Refuse input the app cannot use before any view sees it: sizes, nesting, characters, ids."""

from collections.abc import Iterator

from flask import Flask, request
from werkzeug.routing import IntegerConverter

from tracker.core.errors import BadInput
from tracker.core.limits import CONTROL, JSON_BODY_MAX, NESTING_MAX, nesting_depth
from tracker.core.translate import gettext as _


def init_app(app: Flask) -> None:
    """Bound every `<int:...>` in routes, body sizes, JSON nesting, and refuse control characters."""
    # Set before the blueprints add their routes, so that every `<int:...>` is bounded.
    app.url_map.converters["int"] = IdConverter
    app.before_request(_limit_body)
    app.before_request(_refuse_control_characters)


# The largest PostgreSQL integer: an id or version beyond it names nothing (404, stale),
# rather than reaching the database and failing there.
MAX_DB_INTEGER = 2**31 - 1


class IdConverter(IntegerConverter):
    """`<int:...>` in routes, bounded to what the database can store."""

    # An id beyond the database's integers names nothing. It becomes -1, which no row has
    # (and no URL can spell), rather than a routing failure: werkzeug then answers 405
    # when the same path takes another method.
    NOTHING = -1

    def to_python(self, value: str) -> int:
        """Return the id, or NOTHING when it is too large to be stored."""
        number = super().to_python(value)
        return number if number <= MAX_DB_INTEGER else self.NOTHING


def _limit_body() -> None:
    # Photo uploads (multipart) keep the app-wide MAX_CONTENT_LENGTH; everything else is
    # text a person typed or a program built, and 1 MB is far beyond any of it.
    if request.mimetype != "multipart/form-data":
        request.max_content_length = min(JSON_BODY_MAX, request.max_content_length or JSON_BODY_MAX)
    if request.is_json and nesting_depth(request.get_data(cache=True)) > NESTING_MAX:
        # Python's JSON parser recurses: thousands of brackets would crash it, not refuse.
        raise BadInput(
            _("入れ子が深すぎます（%(limit)d段まで）", limit=NESTING_MAX),
            field="body",
            code="too_deep",
        )


def _refuse_control_characters() -> None:
    # PostgreSQL text cannot hold U+0000, XML (the feed) cannot hold the other C0 controls:
    # refuse them here, naming the field, rather than fail on the insert or in a reader.
    fields = [*request.args.items(multi=True), *request.form.items(multi=True)]
    if request.is_json:
        fields += _json_fields(request.get_json(silent=True))
    for name, value in fields:
        # A multipart part with a malformed name (name="c\\") comes back named None.
        name, value = name or "", value or ""
        found = CONTROL.search(name) or CONTROL.search(value)
        if found:
            name = CONTROL.sub("", name)
            char = "NUL" if found.group() == "\x00" else f"U+{ord(found.group()):04X}"
            raise BadInput(
                _("使えない文字（%(char)s）が含まれています", char=char),
                field=name or None,
                code="control_character",
            )


def _json_fields(data: object, name: str = "body") -> Iterator[tuple[str, str]]:
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
