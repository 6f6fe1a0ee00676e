"""The /api contract: every request and answer of the /api routes is declared once, as typed
pydantic models on the view (`@contract.validate(...)`, spectree); the same declarations
check each request and make `/api/openapi.json`.

A request the models refuse is answered like any other refusal (`{"error", "code", "field",
"allowed"}` in the reader's language, 400): `refusal()` turns pydantic's first complaint
into a `BadInput` naming the field.
"""

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeVar

from flask import Response as FlaskResponse
from flask import make_response, request
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    ValidationError,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import ErrorDetails, core_schema
from spectree import Response as SpecResponse
from spectree import SecurityScheme, SpecTree
from spectree.models import SecureType, SecuritySchemeData
from spectree.plugins.flask_plugin import FlaskPlugin

from tracker.core.errors import BadInput
from tracker.core.translate import gettext as _
from tracker.serving.input_guards import MAX_DB_INTEGER

JSON = "application/json"
GEOJSON = "application/geo+json"
GEOMETRY_TYPES = (
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
    "GeometryCollection",
)
GEOMETRY_SCHEMA = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {"type": "string", "enum": list(GEOMETRY_TYPES)},
        "coordinates": {"type": "array"},
        "geometries": {"type": "array"},
    },
}
# A database id in a path (`<int:project_id>`): PostgreSQL's integer.
ID_MAX = MAX_DB_INTEGER
# Anyone may read; a bearer token shows a signed-in user's view.
READ: list[dict[str, list[str]]] = [{}, {"bearerAuth": []}]
WRITE: list[dict[str, list[str]]] = [{"bearerAuth": []}]


class ApiError(BaseModel):
    """A refusal: `error` for people (in the reader's language), `code` for programs."""

    error: str
    code: str | None = None
    field: str | None = Field(None, description="The input at fault, if one is.")
    allowed: list[str] | None = Field(None, description="The codes the field allows.")


# What each refusal means on any route; a route adds its own (404, 409, 412, 428).
ERROR_MEANINGS = {
    400: "The request is refused; `field` names the input at fault and `error` says why.",
    401: "No credentials, or a bearer token that is unknown or revoked.",
    403: "The caller's role may not do this (viewers change nothing).",
    404: "No such resource (or not visible to the caller).",
    409: "The project changed since the form showed it.",
    412: "The project changed since that ETag; `changed` lists the fields.",
    413: "The body is too large (1 MB; photo uploads 102 MB).",
    428: "If-Match is missing or `*`.",
}


class Answers(SpecResponse):
    """The answers of one operation: its success (model and media type) and its refusals."""

    def __init__(
        self,
        status: int,
        model: type[BaseModel] | None,
        description: str,
        *,
        media_type: str = JSON,
        errors: tuple[int, ...] = (400, 401, 413),
        error_models: Mapping[int, type[BaseModel]] | None = None,
        error_meanings: Mapping[int, str] | None = None,
    ) -> None:
        # No model: an answer without a body (204).
        models: dict[str, Any] = {f"HTTP_{status}": (model, description)}
        for code in errors:
            error_model = (error_models or {}).get(code, ApiError)
            meaning = (error_meanings or {}).get(code, ERROR_MEANINGS[code])
            models[f"HTTP_{code}"] = (error_model, meaning)
        super().__init__(**models)
        self.success = f"HTTP_{status}"
        self.media_type = media_type

    def generate_spec(self, naming_strategy: Callable[[Any], str] = lambda m: m.__name__) -> dict:
        """Return the OpenAPI responses, the success in its own media type."""
        responses: dict[str, Any] = super().generate_spec(naming_strategy)
        success = responses[self.success.removeprefix("HTTP_")]
        if self.media_type != JSON and "content" in success:
            success["content"] = {self.media_type: success["content"][JSON]}
        return responses


class _ContractPlugin(FlaskPlugin):
    """Spectree's Flask plugin, checking requests only.

    Answers are declared for the document and checked against it by the contract tests;
    serving them untouched keeps their media type (GeoJSON), headers and speed.
    """

    def request_validation(
        self, request: Any, query: Any, json: Any, form: Any, headers: Any, cookies: Any
    ) -> None:
        try:
            super().request_validation(request, query, json, form, headers, cookies)
        except ValidationError as error:
            # Said like every other refusal, by the app's one handler of BadInput.
            raise refusal(error) from None

    def validate_response(
        self, resp: Any, resp_model: Any, skip_validation: bool, force_resp_serialize: bool
    ) -> tuple[FlaskResponse, None]:
        return make_response(resp), None

    def parse_path(self, route: Any, path_parameter_descriptions: Any) -> tuple[str, list]:
        path, parameters = super().parse_path(route, path_parameter_descriptions)
        for parameter in parameters:
            if parameter["schema"].get("type") == "integer":
                parameter["schema"] = {"type": "integer", "minimum": 0, "maximum": ID_MAX}
        return path, parameters


contract = SpecTree(
    backend=_ContractPlugin,
    mode="strict",
    title="阿蘇市 復旧・復興事業マップ API",
    version="1",
    description="Projects as GeoJSON (RFC 7946, lon/lat), status updates, nearby works, "
    'traffic restrictions and measure 13\'s indicators. Errors answer {"error": ..., '
    '"code": ...}.',
    openapi_version="3.1.0",
    page_templates={},
    annotations=False,
    security_schemes=[
        SecurityScheme(
            name="bearerAuth",
            data=SecuritySchemeData(
                type=SecureType.HTTP,
                scheme="bearer",
                description="A token from `flask create-token LOGIN`.",
            ),
        )
    ],
    validation_error_status=400,
    validation_error_model=ApiError,
    naming_strategy=lambda model: model.__name__,
    nested_naming_strategy=lambda _parent, child: child,
)


def _without_defaults(schema: dict[str, Any]) -> None:
    # Defaults here stand for "not sent" (an edit changes only what is sent, a filter left
    # out filters nothing): no value a client should send, so the document shows none.
    for member in schema.get("properties", {}).values():
        member.pop("default", None)


class Body(BaseModel):
    """A request body: unknown members refused (fields say `Strict…` for exact JSON types)."""

    model_config: ClassVar[ConfigDict] = ConfigDict(
        extra="forbid", json_schema_extra=_without_defaults
    )


class Query(BaseModel):
    """Query parameters: unknown ones (such as `lang`) are left to others."""

    model_config: ClassVar[ConfigDict] = ConfigDict(
        extra="ignore", json_schema_extra=_without_defaults
    )


class Answer(BaseModel):
    """An answer: more members may come."""

    model_config: ClassVar[ConfigDict] = ConfigDict(
        extra="allow", json_schema_extra=_without_defaults
    )


Checked = TypeVar("Checked", bound=BaseModel)


def checked(part: Literal["query", "json", "form"], model: type[Checked]) -> Checked | None:
    """Return the request's query, JSON or form as the contract checked it; None if not sent."""
    value = getattr(request.context, part, None)  # type: ignore[attr-defined]  # spectree's
    if value is None or isinstance(value, model):
        return value
    raise TypeError(f"the contract read the {part} as {type(value).__name__}, not {model.__name__}")


def checked_query(model: type[Checked]) -> Checked:
    """Return the query string as the contract checked it (a view that declares one has one)."""
    query = checked("query", model)
    if query is None:
        raise TypeError(f"the view declares no query model {model.__name__}")
    return query


def refusal(error: ValidationError) -> BadInput:
    """Return the first complaint of a request's validation as a refusal naming its field."""
    detail = error.errors(include_url=False)[0]
    context = detail.get("ctx") or {}
    field = _field_of(detail["loc"])
    cause = context.get("error")
    if isinstance(cause, BadInput):
        # A check of the domain's own (a date, a bounding box, a geometry) said it in words.
        if cause.field is None:
            cause.field = field
        return cause
    return _words(detail, field or "body")


def _field_of(location: tuple[int | str, ...]) -> str | None:
    # A Feature's members sit under "properties": the field is the property's name.
    names = [str(part) for part in location if isinstance(part, str)]
    if names[:1] == ["properties"] and len(names) > 1:
        names = names[1:]
    return names[0] if names else None


def _words(detail: ErrorDetails, field: str) -> BadInput:
    """Say one pydantic complaint in the reader's language, with a stable code."""
    kind = detail["type"]
    context = detail.get("ctx") or {}
    if kind == "missing":
        return BadInput(_("必要です"), field=field, code="required")
    if kind == "extra_forbidden":
        return BadInput(_("この項目は受け付けていません"), field=field, code="unknown_field")
    if kind in ("literal_error", "enum"):
        allowed = _allowed(context)
        return BadInput(
            _("一覧から選んでください（%(codes)s）", codes=", ".join(allowed)),
            field=field,
            code="unknown_value",
            extra={"allowed": allowed},
        )
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        limit = next(iter(context.values()), "")
        said = {
            "greater_than_equal": _("%(limit)s 以上で指定してください", limit=limit),
            "less_than_equal": _("%(limit)s 以下で指定してください", limit=limit),
            "greater_than": _("%(limit)s より大きい値で指定してください", limit=limit),
            "less_than": _("%(limit)s より小さい値で指定してください", limit=limit),
        }[kind]
        return BadInput(said, field=field, code="out_of_range")
    if kind in ("string_too_long", "too_long"):
        limit = context.get("max_length", "")
        return BadInput(
            _("長すぎます（%(limit)s まで）", limit=limit), field=field, code="too_long"
        )
    if kind in ("string_too_short", "too_short"):
        return BadInput(_("空にはできません"), field=field, code="required")
    return BadInput(_TYPE_WORDS.get(kind, _unreadable)(), field=field, code="invalid_format")


def _allowed(context: Mapping[str, Any]) -> list[str]:
    expected = str(context.get("expected", ""))
    return [part.strip(" '") for part in expected.replace(" or ", ",").split(",") if part.strip()]


def _unreadable() -> str:
    return _("値を読み取れません。型を確かめてください")


_TYPE_WORDS: dict[str, Callable[[], str]] = {
    "string_type": lambda: _("文字列で指定してください"),
    "bool_type": lambda: _("true か false で指定してください"),
    "int_type": lambda: _("整数で指定してください"),
    "int_parsing": lambda: _("整数で指定してください"),
    "int_from_float": lambda: _("整数で指定してください"),
    "float_type": lambda: _("数値で指定してください"),
    "float_parsing": lambda: _("数値で指定してください"),
    "finite_number": lambda: _("有限の数値で指定してください"),
    "list_type": lambda: _("配列で指定してください"),
    "dict_type": lambda: _("オブジェクトで送ってください"),
    "model_type": lambda: _("オブジェクトで送ってください"),
    "model_attributes_type": lambda: _("オブジェクトで送ってください"),
    "uuid_type": lambda: _("UUIDの形式ではありません"),
    "uuid_parsing": lambda: _("UUIDの形式ではありません"),
    "string_pattern_mismatch": lambda: _("形式が正しくありません"),
}


@dataclass(frozen=True, eq=False)
class OneOf:
    """A code from a vocabulary (`Annotated[str, OneOf(KINDS)]`): an unknown one is refused
    with the codes allowed."""

    words: Mapping[str, Any]

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "enum": list(self.words)}

    def _check(self, value: str) -> str:
        if value not in self.words:
            allowed = list(self.words)
            raise BadInput(
                _("一覧から選んでください（%(codes)s）", codes=", ".join(allowed)),
                code="unknown_value",
                extra={"allowed": allowed},
            )
        return value


@dataclass(frozen=True, eq=False)
class Parsed:
    """A value the domain reads itself (`Annotated[date | None, Parsed(read, schema)]`): the
    document shows `schema`, and `read(value, field)` turns what was sent into the value,
    refusing it in its own words."""

    read: Callable[[Any, str], Any]
    schema: JsonSchemaValue

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.with_info_plain_validator_function(self._read)

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return dict(self.schema)

    def _read(self, value: Any, info: core_schema.ValidationInfo) -> Any:
        return self.read(value, info.field_name or "body")


class Geometry(Answer):
    """A GeoJSON geometry (lon/lat)."""

    type: Literal[GEOMETRY_TYPES]  # type: ignore[valid-type]
    coordinates: list[Any] | None = None
    geometries: list[Any] | None = None


def page_cursor(after: int) -> str:
    """Return the opaque cursor of the page that follows the id `after`."""
    return base64.urlsafe_b64encode(f"after:{after}".encode()).decode().rstrip("=")


def read_cursor(cursor: str) -> int | None:
    """Return the id a cursor of page_cursor names, or None if it is not one."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    prefix, _, number = text.partition(":")
    if prefix != "after" or not number.isdigit() or len(number) > 18:
        return None
    return int(number)
