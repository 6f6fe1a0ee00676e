"""Writes to indicator figures; views and loaders call these, never the table."""

from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.accounts.models import User
from tracker.core.errors import BadInput
from tracker.core.translate import gettext as _
from tracker.indicators.models import IndicatorFigure
from tracker.plan.models import Indicator
from tracker.words.formatting import YEAR_RANGE

MAX_VALUE = Decimal("999999999")


def parse_value(raw: object) -> Decimal:
    """Read a figure's value as a finite decimal with at most three decimals."""
    try:
        value = Decimal(str(raw).strip().replace(",", ""))
    except InvalidOperation:
        raise BadInput(
            _("数値ではありません（%(value)s）", value=str(raw)[:20]),
            code="not_a_number",
            field="value",
        ) from None
    # copy_abs() needs no arithmetic context: abs() of 1e999999999 overflows it instead.
    if not value.is_finite() or value.copy_abs() > MAX_VALUE:
        raise BadInput(_("有限の数値で指定してください"), code="not_a_number", field="value")
    return value.quantize(Decimal("0.001"))


def record_figure(
    session: Session,
    *,
    indicator_code: str,
    fiscal_year: int,
    value: object,
    source: str,
    note: str = "",
    recorded_by: User | None = None,
    recorded_at: datetime | None = None,
    is_sample: bool = False,
) -> IndicatorFigure:
    """Append an indicator's figure for a fiscal year; it supersedes earlier ones for that year."""
    indicator = session.scalar(select(Indicator).where(Indicator.code == indicator_code))
    if indicator is None:
        raise BadInput(_("この成果指標は計画にありません"), code="unknown_value", field="indicator")
    if isinstance(fiscal_year, bool) or not isinstance(fiscal_year, int):
        raise BadInput(
            _("年度を西暦で選んでください（例: 2024）"), code="invalid_format", field="fiscal_year"
        )
    if fiscal_year not in YEAR_RANGE:
        raise BadInput(
            _("2000〜2100 の西暦の年で指定してください（%(value)s）", value=fiscal_year),
            code="out_of_range",
            field="fiscal_year",
        )
    source = (source or "").strip()
    if not source:
        raise BadInput(_("値の出典を書いてください"), code="required", field="source")
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
