"""Year-by-year indicator charts as plain SVG geometry, drawn server-side."""

from dataclasses import dataclass
from decimal import Decimal

from tracker.formatting import reiwa_label
from tracker.indicators.queries import IndicatorValue

WIDTH, HEIGHT = 440, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 34, 18, 36
STEPS = (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10))


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
class Tick:
    """One value on the vertical axis, with its gridline."""

    y: float
    value: Decimal


@dataclass
class Chart:
    """Everything the SVG template needs."""

    width: int
    height: int
    bars: list[Bar]
    ticks: list[Tick]
    baseline_y: float
    target_y: float
    axis_y: float
    left: int
    right: int


def axis_ticks(low: Decimal, high: Decimal) -> list[Decimal]:
    """Return round axis values from at or below `low` to at or above `high`, four or so apart.

    The axis starts at zero when zero is near; otherwise it is cut so that 426.9 → 429.4 km
    does not look flat, and the tick values say where it starts.
    """
    if Decimal(0) <= low <= high - low:
        low = Decimal(0)
    rough = (high - low or Decimal(1)) / 4
    magnitude = Decimal(1).scaleb(rough.adjusted())
    step = next(m * magnitude for m in STEPS if m * magnitude >= rough)
    first = (low / step).to_integral_value(rounding="ROUND_FLOOR") * step
    ticks = [first]
    while ticks[-1] < high or len(ticks) < 2:
        ticks.append(ticks[-1] + step)
    return ticks


def year_chart(value: IndicatorValue) -> Chart:
    """Lay out a bar per fiscal year with a valued axis, and the baseline and target lines."""
    amounts = [a for _, a, _ in value.series if a is not None]
    amounts += [o for _, _, o in value.series if o is not None]
    ticks = axis_ticks(
        min([value.baseline, value.target, *amounts]), max([value.baseline, value.target, *amounts])
    )
    low, high = ticks[0], ticks[-1]
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
        ticks=[Tick(y(t), t) for t in ticks],
        baseline_y=y(value.baseline),
        target_y=y(value.target),
        axis_y=y(low),
        left=LEFT,
        right=WIDTH - RIGHT,
    )
