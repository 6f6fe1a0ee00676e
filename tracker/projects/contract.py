"""A project's codes, numbers and dates as every API declares them."""

from datetime import date
from typing import Annotated, Any

from pydantic import Field, StrictInt, StrictStr

from tracker.core.errors import BadInput
from tracker.core.translate import gettext as _
from tracker.serving.contract import Answer, OneOf, Parsed
from tracker.words.formatting import parse_day
from tracker.words.vocab import KINDS, STATUSES


def _day(value: Any, field: str) -> date | None:
    if value is not None and not isinstance(value, str):
        raise BadInput(
            _("日付（YYYY-MM-DD）か null で指定してください"), code="invalid_date", field=field
        )
    return parse_day(value, field)


DATE_SCHEMA = {"type": ["string", "null"], "format": "date"}
# A day as YYYY-MM-DD (2000–2100), or null.
Day = Annotated[date | None, Parsed(_day, DATE_SCHEMA)]
# A day in a query string, as YYYY-MM-DD.
QueryDay = Annotated[date | None, Parsed(parse_day, {"type": "string", "format": "date"})]

Kind = Annotated[StrictStr, OneOf(KINDS)]
Status = Annotated[StrictStr, OneOf(STATUSES)]
Progress = Annotated[StrictInt, Field(ge=0, le=100)]


class ChangeRefused(Answer):
    """403: the caller may not change this work. Viewers change nothing (`forbidden`); staff
    change only the works of their own departments (担当課): any other answers
    `other_department`, `error` saying which department may and `department` naming it."""

    error: str
    code: str | None = Field(None, examples=["other_department", "forbidden"])
    department: str | None = Field(None, description="The work's department (担当課).")
    message: str | None = None
