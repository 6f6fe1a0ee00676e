"""What the projects and restrictions API takes and answers, declared once: the views are
checked against these models and `/api/openapi.json` is made from them."""

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool, StrictInt, StrictStr
from pydantic.json_schema import SkipJsonSchema
from werkzeug.datastructures import MultiDict

from tracker.core.errors import BadInput
from tracker.core.limits import DEPARTMENT_MAX, DESCRIPTION_MAX, NAME_MAX
from tracker.core.translate import gettext as _
from tracker.geo.geometry import GeometryRefused, parse_geometry
from tracker.projects.contract import Day, Kind, Progress, QueryDay, Status
from tracker.projects.queries import parse_bbox, parse_codes
from tracker.projects.register import MAX_AMOUNT, TEXT_MAX
from tracker.serving.contract import (
    GEOMETRY_SCHEMA,
    ID_MAX,
    Answer,
    Body,
    Geometry,
    OneOf,
    Parsed,
    Query,
    read_cursor,
)
from tracker.words.vocab import (
    FUNDING_SOURCES,
    KINDS,
    RESTRICTION_DAYS,
    RESTRICTION_KINDS,
    STATUSES,
)


def _geometry(value: Any, field: str) -> Any:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise GeometryRefused(
            _("GeoJSON のジオメトリ（オブジェクト）で送ってください"), reason="parse"
        )
    return parse_geometry(value)


def _codes_of(words: dict[str, Any]) -> Parsed:
    def read(value: Any, field: str) -> list[str]:
        values = value if isinstance(value, list) else [value]
        return parse_codes(MultiDict([(field, v) for v in values]), field, words)

    return Parsed(read, {"type": "string"})


def _bbox(value: Any, field: str) -> tuple[float, float, float, float] | None:
    return parse_bbox(value if isinstance(value, str) else ",".join(value))


BBOX = Parsed(_bbox, {"type": "string", "description": "minlon,minlat,maxlon,maxlat"})
Amount = Annotated[StrictInt | None, Field(ge=0, le=MAX_AMOUNT)]
RegisterText = Annotated[StrictStr | None, Field(max_length=TEXT_MAX)]
FacilityId = Annotated[StrictInt | None, Field(ge=1, le=ID_MAX)]
Funding = Annotated[StrictStr, OneOf(FUNDING_SOURCES)]


PAGE_DEFAULT = 1000
PAGE_MAX = 10_000


def _cursor(value: Any, field: str) -> int:
    """Read the opaque cursor of a Link: rel="next" (the last id of the page before)."""
    after = read_cursor(value) if isinstance(value, str) else None
    if after is None:
        raise BadInput(
            _(
                "ページの続きの指定（cursor）が読み取れません。前のページの Link ヘッダーの URL をそのまま使ってください"
            ),
            code="invalid_cursor",
            field=field,
        )
    return after


CURSOR = Parsed(
    _cursor, {"type": "string", "description": 'From the previous page\'s Link: rel="next".'}
)


class ProjectsQuery(Query):
    """GET /api/projects: filters, and the page (by id; follow Link: rel="next" for the rest)."""

    kind: Annotated[list[str], _codes_of(KINDS)] = Field(
        [], description="One or several kinds, comma-separated."
    )
    status: Annotated[list[str], _codes_of(STATUSES)] = Field(
        [], description="One or several statuses, comma-separated."
    )
    bbox: Annotated[tuple[float, float, float, float] | None, BBOX] = None
    limit: int = Field(
        PAGE_DEFAULT,
        ge=1,
        le=PAGE_MAX,
        description=f"Projects per page (default {PAGE_DEFAULT:,}, at most {PAGE_MAX:,}).",
    )
    cursor: Annotated[int | None, CURSOR] = None


class RestrictionsQuery(Query):
    """GET /api/restrictions: the day and the box."""

    active_on: QueryDay = Field(
        None,
        description="YYYY-MM-DD: those that hold that day, one of their days (default: in "
        "force or to come today).",
    )
    bbox: Annotated[tuple[float, float, float, float] | None, BBOX] = None


class EditHeaders(Query):
    """PATCH and DELETE /api/projects/{id}: the version the change was made at."""

    if_match: str | SkipJsonSchema[None] = Field(
        None,
        alias="If-Match",
        description="The ETag of GET /api/projects/{id}; required in effect (428).",
    )


# A kind's own fields by name: texts, numbers (≥ 0) and choices' codes.
KindDetails = dict[str, StrictStr | float] | None


class ProjectProperties(Body):
    """What a client may send of a project: the properties GET answers, and the description."""

    name: Annotated[StrictStr, Field(max_length=NAME_MAX)] = ""
    kind: Kind = ""
    status: Status = ""
    progress: Progress = 0
    planned_start: Day = None
    planned_end: Day = None
    actual_start: Day = None
    actual_end: Day = None
    department: Annotated[StrictStr, Field(max_length=DEPARTMENT_MAX)] = ""
    plan_items: list[StrictStr] = []
    indicators: list[StrictStr] = []
    public: StrictBool = True
    description: Annotated[StrictStr, Field(max_length=DESCRIPTION_MAX)] = ""
    facility_id: FacilityId = Field(
        None, description="The designated shelter (facility) the work is done on, if any."
    )
    planned_cost: Amount = None
    contract_amount: Amount = None
    contractor: RegisterText = None
    spent_amount: Amount = None
    funding: Funding | None = None
    responsible_section: RegisterText = None
    details: KindDetails = Field(
        None,
        description="The fields of the work's kind (a bridge's number and span, a revetment's "
        "length and bank: see KIND_DETAILS); one the kind does not have is refused.",
    )
    # Answered by GET and harmless to send back: a fetched Feature can be PATCHed as is.
    id: int | None = Field(None, description="read-only; ignored")
    sample: bool | None = Field(None, description="read-only; ignored")
    position_only: bool | None = Field(None, description="read-only; ignored")


class ProjectInput(Body, extra="ignore"):
    """A GeoJSON Feature; on PATCH only the properties to change."""

    type: Literal["Feature"] = "Feature"
    geometry: Annotated[Any, Parsed(_geometry, {"oneOf": [GEOMETRY_SCHEMA, {"type": "null"}]})] = (
        None
    )
    properties: ProjectProperties | None = None

    def sent(self) -> dict[str, Any]:
        """Return the properties the client sent (checked), without the read-only ones."""
        if self.properties is None:
            return {}
        return self.properties.model_dump(
            exclude_unset=True, exclude={"id", "sample", "position_only"}
        )


class ProjectPropertiesAnswer(Answer):
    """A project's properties; the register's private fields for signed-in users only."""

    id: int
    name: str
    kind: Kind
    status: Status
    progress: Progress
    planned_start: date | None = None
    planned_end: date | None = None
    actual_start: date | None = None
    actual_end: date | None = None
    sample: bool | None = None
    position_only: bool | None = Field(
        None,
        description="A road, pavement or revetment known by its position only: its point "
        "stands for a line not yet drawn.",
    )
    department: str | None = None
    plan_items: list[str] | None = None
    indicators: list[str] | None = None
    public: bool | None = None
    facility_id: FacilityId = None
    planned_cost: Amount = Field(None, description="Public.")
    contract_amount: Amount = Field(None, description="Public.")
    contractor: RegisterText = Field(None, description="Public.")
    spent_amount: Amount = Field(None, description="Signed-in users.")
    funding: Funding | None = Field(None, description="Signed-in users.")
    responsible_section: RegisterText = Field(None, description="Signed-in users.")
    details: KindDetails = Field(None, description="The fields of the work's kind.")


class Project(Answer):
    """A project as a GeoJSON Feature."""

    type: Literal["Feature"]
    id: int
    geometry: Geometry
    properties: ProjectPropertiesAnswer


class Projects(Answer):
    """One page of projects as a GeoJSON FeatureCollection, by id; when more follow, the
    `Link` header names the next page (rel="next")."""

    type: Literal["FeatureCollection"]
    numberReturned: int
    features: list[Project]


ClockTime = Annotated[str | None, Field(pattern="^[0-2][0-9]:[0-5][0-9]$")]


class RestrictionProperties(Answer):
    """A traffic restriction's properties."""

    id: int
    project_id: int
    project_name: str | None = None
    sample: bool | None = None
    kind: Annotated[str, OneOf(RESTRICTION_KINDS)]
    starts_on: date
    ends_on: date | None = None
    days: Annotated[str, OneOf(RESTRICTION_DAYS)] | None = None
    time_from: ClockTime = None
    time_until: ClockTime = None
    description: str | None = None
    reason: str | None = None
    contact: str | None = None
    section_drawn: bool
    detour: Geometry | None = None
    lifted_at: str | None = Field(None, json_schema_extra={"format": "date-time"})
    updated_at: str | None = Field(None, json_schema_extra={"format": "date-time"})
    in_force_now: bool = Field(
        description="In force at this instant: its dates, its days (平日 leave out Saturdays, "
        "Sundays and Japanese public holidays; 土日祝 are those) and its hours in Japan time."
    )
    next_in_force_at: str | None = Field(
        None,
        description="The next instant it comes into force; null when it holds without a break "
        "to its end, or does not begin again.",
        json_schema_extra={"format": "date-time"},
    )


class RestrictionFeature(Answer):
    """A restriction: its closed or narrowed section (a line), or the work's own geometry
    when none was drawn (section_drawn false)."""

    type: Literal["Feature"]
    id: int
    geometry: Geometry
    properties: RestrictionProperties


class Restrictions(Answer):
    """Traffic restrictions as a GeoJSON FeatureCollection."""

    type: Literal["FeatureCollection"]
    features: list[RestrictionFeature]


class EditConflict(Answer):
    """An edit made against an older version (412): the fields changed since."""

    error: str
    code: str | None = None
    changed: list[str] = []
