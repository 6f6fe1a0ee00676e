"""Writes to indicator figures; views and loaders call these, never the table."""

from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.accounts.models import User
from tracker.errors import BadInput
from tracker.formatting import YEAR_RANGE
from tracker.indicators.models import IndicatorFigure
from tracker.plan.models import Indicator

MAX_VALUE = Decimal("999999999")


def parse_value(raw) -> Decimal:
    """Read a figure's value as a finite decimal with at most three decimals."""
    try:
        value = Decimal(str(raw).strip().replace(",", ""))
    except InvalidOperation:
        raise BadInput(f"value: not a number: {str(raw)[:20]}") from None
    # copy_abs() needs no arithmetic context: abs() of 1e999999999 overflows it instead.
    if not value.is_finite() or value.copy_abs() > MAX_VALUE:
        raise BadInput("value: must be a finite number up to 999,999,999")
    return value.quantize(Decimal("0.001"))


def record_figure(
    session: Session,
    *,
    indicator_code: str,
    fiscal_year: int,
    value,
    source: str,
    note: str = "",
    recorded_by: User | None = None,
    recorded_at: datetime | None = None,
    is_sample: bool = False,
) -> IndicatorFigure:
    """Append an indicator's figure for a fiscal year; it supersedes earlier ones for that year."""
    indicator = session.scalar(select(Indicator).where(Indicator.code == indicator_code))
    if indicator is None:
        raise BadInput(f"indicator: unknown code {indicator_code}")
    if isinstance(fiscal_year, bool) or not isinstance(fiscal_year, int):
        raise BadInput("fiscal_year: must be a western year such as 2024")
    if fiscal_year not in YEAR_RANGE:
        raise BadInput("fiscal_year: a western year from 2000 to 2100")
    source = (source or "").strip()
    if not source:
        raise BadInput("source: say where the figure comes from")
    figure = IndicatorFigure(
        indicator=indicator,
        fiscal_year=fiscal_year,
        value=parse_value(value),
        source=source[:500],
        note=(note or "").strip()[:2000],
        recorded_by=recorded_by,
        is_sample=is_sample,
    )
    if recorded_at is not None:
        figure.recorded_at = recorded_at
    session.add(figure)
    session.flush()
    return figure
