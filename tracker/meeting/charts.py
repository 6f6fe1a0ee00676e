"""Year-by-year indicator charts as plain SVG geometry, drawn server-side."""

from dataclasses import dataclass
from decimal import Decimal

from tracker.formatting import reiwa_label
from tracker.indicators.queries import IndicatorValue

WIDTH, HEIGHT = 360, 170
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 10, 34


@dataclass
class Bar:
    """One year's bar."""

    x: float
    y: float
    width: float
    height: float
    year: int
    label: str
    value: Decimal | None
    official_y: float | None


@dataclass
class Chart:
    """Everything the SVG template needs."""

    width: int
    height: int
    bars: list[Bar]
    baseline_y: float
    target_y: float
    axis_y: float
    low: Decimal
    high: Decimal
    left: int
    right: int


def year_chart(value: IndicatorValue) -> Chart:
    """Lay out a bar per fiscal year from the baseline year, with baseline and target lines."""
    amounts = [a for _, a, _ in value.series if a is not None]
    amounts += [o for _, _, o in value.series if o is not None]
    low = min([value.baseline, value.target, *amounts])
    high = max([value.baseline, value.target, *amounts])
    span = high - low or Decimal(1)
    # Bars start a little below the smallest value: 426.9 → 429.4 km must not look flat.
    low = (
        max(Decimal(0), low - span * Decimal("0.25")) if low >= 0 else low - span * Decimal("0.25")
    )
    high = high + span * Decimal("0.1")
    plot_h = HEIGHT - TOP - BOTTOM
    plot_w = WIDTH - LEFT - RIGHT

    def y(amount: Decimal) -> float:
        return round(TOP + plot_h * float((high - amount) / (high - low)), 1)

    slot = plot_w / max(1, len(value.series))
    bars = []
    for index, (year, amount, official) in enumerate(value.series):
        top = y(amount) if amount is not None else y(low)
        bars.append(
            Bar(
                x=round(LEFT + slot * index + slot * 0.15, 1),
                y=top,
                width=round(slot * 0.7, 1),
                height=round(y(low) - top, 1),
                year=year,
                label=reiwa_label(year).removesuffix("年度").replace("令和", "R"),
                value=amount,
                official_y=y(official) if official is not None else None,
            )
        )
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        bars=bars,
        baseline_y=y(value.baseline),
        target_y=y(value.target),
        axis_y=y(low),
        low=low,
        high=high,
        left=LEFT,
        right=WIDTH - RIGHT,
    )
