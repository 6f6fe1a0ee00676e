"""The query parameters of the OGC API, read and checked by pydantic models.

Every refusal names the parameter at fault (`InvalidParameter.parameter`) and says what is
wrong in the reader's language. An empty value (`limit=`) means the default, as if absent.
"""

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic.functional_validators import AfterValidator, BeforeValidator, PlainValidator
from pydantic_core import ErrorDetails

from tracker.core.clock import JST
from tracker.core.errors import BadInput
from tracker.core.translate import gettext as _
from tracker.core.translate import lazy_gettext as _l
from tracker.ogc.crs import CRS84, Crs, parse_bbox, parse_crs
from tracker.ogc.refusals import InvalidParameter

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
# Beyond any page a layer holds, and within PostgreSQL's OFFSET.
MAX_OFFSET = 999_999_999

Format = Literal["json", "html"]
# Spellings of the formats that clients send besides json and html.
_FORMAT_ALIASES: dict[str, Format] = {
    "json": "json",
    "geojson": "json",
    "application/json": "json",
    "application/geo+json": "json",
    "html": "html",
    "text/html": "html",
}

Bbox = tuple[float, float, float, float]
Period = tuple[date | None, date | None]

# What each parameter takes, said when pydantic's own check refuses a value.
_EXPECTED = {
    "f": _l("json か html を指定してください"),
    "limit": _l("1 以上の整数で指定してください"),
    "offset": _l("0 以上の整数で指定してください"),
}


def _whole_number(raw: object) -> object:
    # Nine digits at most: a larger page or offset means nothing and would overflow the query.
    if isinstance(raw, str) and not re.fullmatch(r"\s*\d{1,9}\s*", raw):
        raise ValueError("not a whole number")
    return raw


def _at_most_served(limit: int) -> int:
    # A larger limit than served is answered with the most served, as the standard allows.
    return min(limit, MAX_LIMIT)


def _format(raw: object) -> Format:
    found = _FORMAT_ALIASES.get(str(raw).strip().lower())
    if found is None:
        raise InvalidParameter(
            "f",
            _("「%(value)s」は使えません。json か html を指定してください", value=str(raw)[:20]),
        )
    return found


def parse_datetime(raw: str | None) -> Period | None:
    """Read datetime= (an instant or an interval with '..' for open ends) as days in Japan."""
    if raw is None or not raw.strip():
        return None
    parts = raw.strip().split("/")
    if len(parts) > 2:
        raise InvalidParameter(
            "datetime", _("日時か、開始/終了の期間で指定してください（例：2024-04-01/..）")
        )
    days = [_day(p) for p in parts]
    start, end = (days[0], days[0]) if len(days) == 1 else (days[0], days[1])
    if start is None and end is None and len(days) == 1:
        raise InvalidParameter("datetime", _("「..」は期間の片方の端にだけ使えます"))
    if start and end and end < start:
        raise InvalidParameter("datetime", _("期間の終わりが始まりより前です"))
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
        raise InvalidParameter(
            "datetime", _("RFC 3339 の日付か日時ではありません（%(value)s）", value=part[:40])
        ) from None
    if moment.tzinfo is None:
        raise InvalidParameter(
            "datetime",
            _("日時には時間帯（Z や +09:00）が必要です（%(value)s）", value=part[:40]),
        )
    return moment.astimezone(JST).date()


FormatChoice = Annotated[Format, PlainValidator(_format)]
Limit = Annotated[int, BeforeValidator(_whole_number), Field(ge=1), AfterValidator(_at_most_served)]
Offset = Annotated[int, BeforeValidator(_whole_number), Field(ge=0, le=MAX_OFFSET)]


def _crs_of(name: str) -> PlainValidator:
    return PlainValidator(lambda raw: parse_crs(str(raw), name))


class FormatParameters(BaseModel):
    """The answer format every operation takes (f=json or f=html); other parameters pass."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    f: FormatChoice | None = None


class ItemParameters(BaseModel):
    """The parameters of one feature: its CRS, the format and the language, no others."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    crs: Annotated[Crs, _crs_of("crs")] = CRS84
    f: FormatChoice | None = None
    lang: str | None = None


class ItemsParameters(BaseModel):
    """The parameters every collection's items take; its own filters are read by the layer."""

    model_config = ConfigDict(extra="allow", frozen=True, arbitrary_types_allowed=True)

    limit: Limit = DEFAULT_LIMIT
    offset: Offset = 0
    # Before bbox: the box is read in the axis order of its CRS.
    bbox_crs: Annotated[Crs, _crs_of("bbox-crs")] = Field(CRS84, alias="bbox-crs")
    bbox: Bbox | None = None
    crs: Annotated[Crs, _crs_of("crs")] = CRS84
    period: Period | None = Field(None, alias="datetime")
    f: FormatChoice | None = None
    lang: str | None = None

    @field_validator("bbox", mode="plain")
    @classmethod
    def _read_bbox(cls, raw: object, info: ValidationInfo) -> Bbox | None:
        crs = info.data.get("bbox_crs", CRS84)
        return parse_bbox(str(raw), crs)

    @field_validator("period", mode="plain")
    @classmethod
    def _read_period(cls, raw: object) -> Period | None:
        return parse_datetime(str(raw))


COMMON_PARAMETERS = frozenset(
    field.alias or name for name, field in ItemsParameters.model_fields.items()
)

Model = TypeVar("Model", bound=BaseModel)


def read_parameters(model: type[Model], args: Mapping[str, str], refusal: str = "") -> Model:
    """Check the query parameters against a model; refuse the first bad one, naming it.

    `args` gives each parameter's first value (a MultiDict does); `refusal` says why a
    parameter the model does not know is refused.
    """
    given = {name: value for name, value in args.items() if value.strip()}
    try:
        return model.model_validate(given)
    except ValidationError as error:
        raise _refusal(error.errors()[0], refusal) from None


def _refusal(detail: ErrorDetails, unknown: str) -> BadInput:
    name = str(detail["loc"][0]) if detail["loc"] else "query"
    cause = detail.get("ctx", {}).get("error")
    if isinstance(cause, BadInput):
        return cause
    if detail["type"] == "extra_forbidden":
        return InvalidParameter(name, unknown or _("使えないパラメータです"))
    return InvalidParameter(name, str(_EXPECTED.get(name, _("値を読み取れません"))))
