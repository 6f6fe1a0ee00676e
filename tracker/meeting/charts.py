"""Year-by-year indicator charts as plain SVG geometry, drawn server-side."""

from dataclasses import dataclass
from decimal import Decimal

from tracker.indicators.queries import IndicatorValue
from tracker.words.formatting import era_abbreviation

WIDTH, HEIGHT = 440, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 62, 18, 36
LABEL_GAP = 14  # px between the baseline's and the target's names
STEPS = (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10))
# A change smaller than this share of the largest value would vanish on an axis from zero
# (426.9 → 429.4 km is 0.6 %): such a chart's axis starts near the values, marked as cut.
BREAK_SHARE = Decimal("0.2")


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
    # Where the two lines' names sit: apart, even when the lines nearly meet (426.9 → 429.4 km
    # on an axis from zero).
    baseline_label_y: float
    target_label_y: float
    axis_y: float
    left: int
    right: int
    # The axis starts near the values, not at zero: the template marks the cut on the axis
    # and on each bar.
    broken: bool = False


def axis_ticks(low: Decimal, high: Decimal, *, from_zero: bool = True) -> list[Decimal]:
    """Return round axis values from zero (or `low`, when below zero) to at least `high`;
    without `from_zero`, from a round value below `low`, so that the lowest bar still shows.

    About five steps; the steps are 1, 2, 2.5 or 5 times a power of ten.
    """
    if from_zero:
        low = min(Decimal(0), low)
    rough = (high - low or Decimal(1)) / 5
    magnitude = Decimal(1).scaleb(rough.adjusted())
    step = next(m * magnitude for m in STEPS if m * magnitude >= rough)
    first = (low / step).to_integral_value(rounding="ROUND_FLOOR") * step
    ticks = [first]
    if not from_zero and first >= low:
        ticks = [first - step]
    while ticks[-1] < high or len(ticks) < 2:
        ticks.append(ticks[-1] + step)
    return ticks


def needs_break(low: Decimal, high: Decimal) -> bool:
    """Tell whether values between `low` and `high` (all above zero) differ so little against
    their size that an axis from zero would draw them as equal bars."""
    return low > 0 and (high - low) < BREAK_SHARE * high


def year_chart(value: IndicatorValue, lang: str = "ja") -> Chart:
    """Lay out a bar per fiscal year with a valued axis, and the baseline and target lines;
    `lang` is the reader's language. The axis starts at zero, unless the change is small
    against the values (needs_break): then near them, marked as cut, so that the change shows."""
    amounts = [a for _, a, _ in value.series if a is not None]
    amounts += [o for _, _, o in value.series if o is not None]
    smallest = min([value.baseline, value.target, *amounts])
    largest = max([value.baseline, value.target, *amounts])
    broken = needs_break(smallest, largest)
    ticks = axis_ticks(smallest, largest, from_zero=not broken)
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
                # R2, H28 for Japanese readers; English ones read the western year below.
                label=era_abbreviation(year) if lang == "ja" else "",
                value=amount,
                official_y=y(official) if official is not None else None,
            )
        )
    baseline_label_y = y(value.baseline) + 4
    target_label_y = y(value.target) + 4
    if abs(baseline_label_y - target_label_y) < LABEL_GAP:
        middle = (baseline_label_y + target_label_y) / 2
        upper, lower = middle - LABEL_GAP / 2, middle + LABEL_GAP / 2
        above = value.target >= value.baseline
        target_label_y, baseline_label_y = (upper, lower) if above else (lower, upper)
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        bars=bars,
        ticks=[Tick(y(t), t) for t in ticks],
        baseline_y=y(value.baseline),
        target_y=y(value.target),
        baseline_label_y=baseline_label_y,
        target_label_y=target_label_y,
        axis_y=y(low),
        left=LEFT,
        right=WIDTH - RIGHT,
        broken=broken,
    )
