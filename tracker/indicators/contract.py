"""What GET /api/indicators takes and answers, declared once: the view is checked against
these models and `/api/openapi.json` is made from them."""

from datetime import date

from pydantic import Field

from tracker.projects.contract import QueryDay
from tracker.serving.contract import Answer, Query


class IndicatorsQuery(Query):
    """The day to count at the end of (default: now)."""

    as_of: QueryDay = Field(None, description="YYYY-MM-DD")


class Official(Answer):
    """The figure the city published for a fiscal year."""

    fiscal_year: int
    value: float
    source: str
    sample: bool
    from_plan: bool = Field(
        False, description="the baseline as the plan prints it, until a figure is recorded"
    )


class IndicatorValue(Answer):
    """One indicator: where it started, where it should reach, where it stands."""

    code: str
    name: str
    unit: str
    baseline: float | None
    baseline_year: int | None = None
    target: float | None
    target_year: int | None = None
    current: float | None
    method: str | None = None
    derived: float | None = None
    official: Official | None = None
    difference: float | None = None
    progress_percent: float | None = None
    remaining: float | None = None
    target_year_over: bool | None = None
    target_met: bool | None = None
    projects_counted: int | None = None
    project_ids: list[int] | None = None
    projects_url: str | None = None


class Indicators(Answer):
    """Measure 13's indicators, now or at the end of `as_of`."""

    as_of: date | None
    indicators: list[IndicatorValue]
