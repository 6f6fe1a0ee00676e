"""Indicator values computed in SQL: baseline plus completed linked projects, or recorded figures.

`current` follows the plan's unit: 橋 counts completed linked projects; km and m add the
length of completed linked lines, measured on the geography (metres on the ellipsoid, not
degrees); % (ratios of building stock) cannot be derived from projects, so it is the latest
figure staff recorded. An official figure recorded for any indicator is shown beside it.

Only works completed after the baseline year count: the plan's baseline (R2) already holds
what was finished by the end of fiscal 2020, so the R2 value is the baseline itself.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from itertools import pairwise

from sqlalchemy import NUMERIC, and_, bindparam, case, cast, func, literal, null, select, text
from sqlalchemy.dialects.postgresql import ARRAY, TIMESTAMP
from sqlalchemy.orm import Session

from tracker.core import clock
from tracker.indicators.models import IndicatorFigure
from tracker.indicators.units import rounded
from tracker.plan.models import Indicator, PlanItem
from tracker.projects.history import CompletedSpan
from tracker.projects.models import Project, project_indicators, visible_works
from tracker.projects.queries import end_of_day
from tracker.words.formatting import fiscal_year

MEASURE_CODE = "p5.m13"
# How a unit turns completed projects into an amount; units not listed are recorded by staff.
METHODS = {"橋": "count", "km": "length", "m": "length"}
METRES_PER_UNIT = {"km": Decimal(1000), "m": Decimal(1)}


@dataclass
class Figure:
    """A recorded yearly figure as it stood."""

    fiscal_year: int
    value: Decimal
    source: str
    is_sample: bool
    # The plan's own printed baseline, standing in until a figure is recorded.
    from_plan: bool = False


# The published figure every indicator has: its baseline, as the plan prints it.
PLAN_SOURCE = "第2次阿蘇市総合計画 後期基本計画（基準値）"


@dataclass
class IndicatorValue:
    """One indicator with its baseline, target and value at a date."""

    code: str
    name: str
    unit: str
    baseline: Decimal
    baseline_label: str
    baseline_year: int
    target: Decimal
    target_label: str
    target_year: int
    method: str
    current: Decimal | None = None
    derived: Decimal | None = None
    official: Figure | None = None
    # The derived value for the official figure's fiscal year, which the official one checks.
    derived_for_official: Decimal | None = None
    project_ids: list[int] = field(default_factory=list)
    # (fiscal year, value or None, official value or None), oldest first.
    series: list[tuple[int, Decimal | None, Decimal | None]] = field(default_factory=list)
    # Whether the target year had ended by the date read, and the value it ended with: the
    # official figure for that year if one is recorded, else the derived or recorded one.
    target_year_over: bool = False
    target_year_value: Decimal | None = None
    # The recorded figures by fiscal year, as they stood at the date read.
    figures: dict[int, Figure] = field(default_factory=dict)

    @property
    def target_met(self) -> bool | None:
        """Tell whether the target was reached by the end of its year; None if not yet known."""
        if not self.target_year_over or self.target_year_value is None:
            return None
        return rounded(self.target_year_value, self.unit) >= rounded(self.target, self.unit)

    @property
    def target_shortfall(self) -> Decimal | None:
        """Return how far the target year's value fell short of the target (None if met)."""
        if not self.target_met and self.target_met is not None:
            if self.target_year_value is None:
                raise ValueError(f"indicator {self.code}: a target judged unmet has no values")
            return self.target - self.target_year_value
        return None

    @property
    def difference(self) -> Decimal | None:
        """Return derived minus official for the official figure's year, when both exist."""
        if self.derived_for_official is None or self.official is None:
            return None
        return self.derived_for_official - self.official.value

    @property
    def remaining(self) -> Decimal | None:
        """Return how much is still to do to reach the target (zero once reached)."""
        if self.current is None:
            return None
        return max(Decimal(0), self.target - self.current)

    @property
    def share(self) -> float | None:
        """Return how far current has come from baseline toward target, in percent."""
        if self.current is None or self.target == self.baseline:
            return None
        return float((self.current - self.baseline) / (self.target - self.baseline) * 100)


def _amount(unit: str, method: str, n: int, metres: object) -> Decimal:
    if method == "count":
        return Decimal(n)
    return (Decimal(str(metres)) / METRES_PER_UNIT[unit]).quantize(Decimal("0.001"))


# The instants at which to count, oldest first; NULL (now) becomes 'infinity'.
CUTOFFS = func.array_replace(
    bindparam("cutoffs", type_=ARRAY(TIMESTAMP(timezone=True))),
    null(),
    literal("infinity", TIMESTAMP(timezone=True)),
)


def _counting_session(session: Session) -> None:
    # The estimate for a million works starts PostgreSQL's JIT compiler, which took longer
    # (0.4 s) than it saved. For this transaction.
    session.execute(text("SET LOCAL jit = off"))


def _completed(
    session: Session, cutoffs: list[datetime | None], include_private: bool
) -> dict[tuple[int, int], tuple[int, Decimal, list[int]]]:
    """Return {(cutoff index, indicator id): (count, metres, ids)}; a None cutoff means now.

    A linked project counts at a cutoff when its status then is completed (one of its
    completed spans holds it) and it was last completed after its indicator's baseline year,
    since the baseline already holds what was finished before. Only the last cutoff lists its
    projects.

    Each completed span counts at a run of consecutive cutoffs (they are in order), found
    with width_bucket; the database sums the spans by indicator and run, a few dozen rows,
    and the runs are added up here: no row per span and cutoff is ever made or sorted.
    """
    if any(a is not None and b is not None and a >= b for a, b in pairwise(cutoffs)) or (
        None in cutoffs[:-1]
    ):
        raise ValueError("cutoffs must be in order, with now (None) last")
    ever_completed = select(CompletedSpan.project_id)
    linked_query = (
        select(
            project_indicators.c.indicator_id,
            Project.id,
            Project.created_at,
            # The first instant after the baseline fiscal year, in Japan time.
            func.timezone(
                "Asia/Tokyo",
                cast(func.make_date(Indicator.baseline_year + 1, 4, 1), TIMESTAMP),
            ).label("baseline_end"),
            # Measured on the ellipsoid only where a length is counted (km, m), not for
            # indicators that count works.
            case(
                (
                    and_(
                        Indicator.unit.in_(list(METRES_PER_UNIT)),
                        func.ST_Dimension(Project.geom) == 1,
                    ),
                    cast(func.ST_Length(func.geography(Project.geom)), NUMERIC),
                ),
                else_=0,
            ).label("metres"),
        )
        .join(Project, Project.id == project_indicators.c.project_id)
        .join(Indicator, Indicator.id == project_indicators.c.indicator_id)
        .where(Project.id.in_(ever_completed))
    )
    linked_query = linked_query.where(visible_works(Project, include_private=include_private))
    # Measured once, then joined to the spans.
    linked = linked_query.cte("linked").prefix_with("MATERIALIZED")
    spans = select(CompletedSpan).subquery("spans")
    last = len(cutoffs)
    # Counted at cutoff n when since < at and created_at < at and (until IS NULL or
    # until >= at): n runs from the number of cutoffs at or before the later of since and
    # created_at, plus one, to the number at or before until (all of them while it holds).
    first_n = func.width_bucket(func.greatest(spans.c.since, linked.c.created_at), CUTOFFS) + 1
    last_n = func.coalesce(func.width_bucket(spans.c.until, CUTOFFS), last)
    query = (
        select(
            linked.c.indicator_id,
            first_n.label("first_n"),
            last_n.label("last_n"),
            func.count().label("projects"),
            func.coalesce(func.sum(linked.c.metres), 0).label("metres"),
            # Sorted here: an ordered aggregate would sort each group in the database.
            func.array_agg(linked.c.id).filter(last_n == last).label("ids"),
        )
        .select_from(spans)
        .join(
            linked,
            and_(linked.c.id == spans.c.project_id, spans.c.since >= linked.c.baseline_end),
        )
        .where(first_n <= last_n)
        .group_by(linked.c.indicator_id, first_n, last_n)
    )
    _counting_session(session)
    totals: dict[tuple[int, int], tuple[int, Decimal, list[int]]] = {}
    for row in session.execute(query, {"cutoffs": cutoffs}):
        for n in range(row.first_n, row.last_n + 1):
            count, metres, ids = totals.get((n - 1, row.indicator_id), (0, Decimal(0), []))
            if n == last:
                ids = sorted(ids + row.ids)
            totals[(n - 1, row.indicator_id)] = (count + row.projects, metres + row.metres, ids)
    return totals


def _figures(session: Session, cutoff: datetime | None) -> dict[int, dict[int, Figure]]:
    """Return {indicator id: {fiscal year: latest figure recorded before the cutoff}}."""
    query = select(IndicatorFigure).order_by(IndicatorFigure.recorded_at, IndicatorFigure.id)
    if cutoff is not None:
        query = query.where(IndicatorFigure.recorded_at < cutoff)
    figures: dict[int, dict[int, Figure]] = {}
    for f in session.scalars(query):
        # Later rows overwrite earlier ones: the newest entry for a year wins.
        figures.setdefault(f.indicator_id, {})[f.fiscal_year] = Figure(
            f.fiscal_year, f.value, f.source, f.is_sample
        )
    return figures


def indicator_values(
    session: Session, *, as_of: date | None = None, include_private: bool = False
) -> list[IndicatorValue]:
    """Return measure 13's indicators as they stood at the end of `as_of` (default: now)."""
    indicators = session.scalars(
        select(Indicator)
        .join(PlanItem, Indicator.measure_id == PlanItem.id)
        .where(PlanItem.code == MEASURE_CODE)
        .order_by(Indicator.number)
    ).all()
    if not indicators:
        return []
    cutoff = end_of_day(as_of) if as_of else None
    reference = as_of or clock.today()
    first_year = min(i.baseline_year for i in indicators)
    last_year = max(first_year, fiscal_year(reference))
    years = list(range(first_year, last_year + 1))
    # The year-end of every earlier year, then the date asked for (or now) for the last one.
    cutoffs: list[datetime | None] = [end_of_day(date(y + 1, 3, 31)) for y in years[:-1]]
    cutoffs.append(cutoff)
    totals = _completed(session, cutoffs, include_private)
    figures = _figures(session, cutoff)

    values = []
    for ind in indicators:
        method = METHODS.get(ind.unit, "recorded")
        value = IndicatorValue(
            code=ind.code,
            name=ind.name,
            unit=ind.unit,
            baseline=ind.baseline,
            baseline_label=ind.baseline_label,
            baseline_year=ind.baseline_year,
            target=ind.target,
            target_label=ind.target_label,
            target_year=ind.target_year,
            method=method,
        )
        recorded = figures.get(ind.id, {})
        value.figures = recorded
        # The plan publishes the baseline year's value: the official figure until another.
        official_figure = (
            recorded[max(recorded)]
            if recorded
            else Figure(ind.baseline_year, ind.baseline, PLAN_SOURCE, False, True)
        )
        value.official = official_figure
        derived_by_year = {}
        for index, year in enumerate(years):
            official = recorded.get(year)
            if method == "recorded":
                amount = official.value if official else None
                if amount is None and year == ind.baseline_year:
                    amount = ind.baseline
                value.series.append((year, amount, None))
            else:
                n, metres, _ids = totals.get((index, ind.id), (0, 0, []))
                derived_by_year[year] = ind.baseline + _amount(ind.unit, method, n, metres)
                if official is None and year == ind.baseline_year:
                    official = Figure(year, ind.baseline, PLAN_SOURCE, False, True)
                value.series.append(
                    (year, derived_by_year[year], official.value if official else None)
                )
        if reference > date(ind.target_year + 1, 3, 31):
            value.target_year_over = True
            at_target = recorded.get(ind.target_year)
            value.target_year_value = (
                at_target.value if at_target else derived_by_year.get(ind.target_year)
            )
        if method == "recorded":
            # Before the first recorded year the plan's own baseline is the latest known value.
            value.current = official_figure.value
        else:
            value.derived = value.current = derived_by_year[last_year]
            value.project_ids = list(totals.get((len(years) - 1, ind.id), (0, 0, []))[2])
            if not official_figure.from_plan:
                # A figure for a year not yet over is checked against the latest value; the
                # baseline is where the derived values start, so it needs no check.
                year = min(official_figure.fiscal_year, last_year)
                value.derived_for_official = derived_by_year.get(year)
        values.append(value)
    return values
