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

from sqlalchemy import bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY, TIMESTAMP
from sqlalchemy.orm import Session

from tracker.formatting import fiscal_year, today_jst
from tracker.indicators.models import IndicatorFigure
from tracker.plan.models import Indicator, PlanItem
from tracker.projects.queries import end_of_day

MEASURE_CODE = "p5.m13"
# How a unit turns completed projects into an amount; units not listed are recorded by staff.
METHODS = {"橋": "count", "km": "length", "m": "length"}
METRES_PER_UNIT = {"km": Decimal(1000), "m": Decimal(1)}

# Completed linked projects at each cutoff (NULL: now), read from the status history. A
# status holds from the entry that changed to it until the next change; only completions
# after the indicator's baseline year count, since the baseline already holds earlier ones.
_COMPLETED_SQL = text(
    """
    WITH cutoffs AS (
        SELECT coalesce(c.at, 'infinity') AS at, c.n
        FROM unnest(:cutoffs) WITH ORDINALITY AS c(at, n)
    ), linked AS MATERIALIZED (
        SELECT l.indicator_id, p.id, p.created_at,
               make_date(i.baseline_year + 1, 4, 1)::timestamp AT TIME ZONE 'Asia/Tokyo'
                   AS baseline_end,
               CASE WHEN ST_Dimension(p.geom) = 1 THEN ST_Length(p.geom::geography)
                    ELSE 0 END AS metres
        FROM project_indicators l
        JOIN indicators i ON i.id = l.indicator_id
        JOIN projects p ON p.id = l.project_id
        WHERE (:private OR p.is_public)
          AND p.id IN (SELECT project_id FROM status_updates WHERE status = 'completed')
    ), history AS (
        SELECT s.id, s.project_id, s.status, s.recorded_at,
               lag(s.status) OVER (PARTITION BY s.project_id
                                   ORDER BY s.recorded_at, s.id) AS before
        FROM status_updates s
        WHERE s.project_id IN (SELECT id FROM linked)
    ), spans AS (
        SELECT h.project_id, h.status, h.recorded_at AS since,
               lead(h.recorded_at) OVER (PARTITION BY h.project_id
                                         ORDER BY h.recorded_at, h.id) AS until
        FROM history h
        WHERE h.before IS DISTINCT FROM h.status
    )
    SELECT c.n, l.indicator_id, count(*) AS n_projects, coalesce(sum(l.metres), 0) AS metres,
           array_agg(l.id ORDER BY l.id) FILTER (WHERE c.n = :ids_for) AS ids
    FROM cutoffs c
    JOIN spans s ON s.status = 'completed' AND s.since < c.at
                AND (s.until IS NULL OR s.until >= c.at)
    JOIN linked l ON l.id = s.project_id AND l.created_at < c.at AND s.since >= l.baseline_end
    GROUP BY c.n, l.indicator_id
    """
).bindparams(bindparam("cutoffs", type_=ARRAY(TIMESTAMP(timezone=True))))


@dataclass
class Figure:
    """A recorded yearly figure as it stood."""

    fiscal_year: int
    value: Decimal
    source: str
    is_sample: bool


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


def _amount(unit: str, method: str, n: int, metres) -> Decimal:
    if method == "count":
        return Decimal(n)
    return (Decimal(str(metres)) / METRES_PER_UNIT[unit]).quantize(Decimal("0.001"))


def _completed(
    session: Session, cutoffs: list[datetime | None], include_private: bool
) -> dict[tuple[int, int], tuple[int, float, list[int]]]:
    """Return {(cutoff index, indicator id): (count, metres, ids)}; a None cutoff means now.

    Only the last cutoff lists its projects; the earlier ones are only counted.
    """
    rows = session.execute(
        _COMPLETED_SQL,
        {"cutoffs": cutoffs, "private": include_private, "ids_for": len(cutoffs)},
    )
    return {
        (row.n - 1, row.indicator_id): (row.n_projects, row.metres, row.ids or []) for row in rows
    }


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
    first_year = min(i.baseline_year for i in indicators)
    last_year = max(first_year, fiscal_year(as_of or today_jst()))
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
        if recorded:
            value.official = recorded[max(recorded)]
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
                value.series.append(
                    (year, derived_by_year[year], official.value if official else None)
                )
        if method == "recorded":
            # Before the first recorded year the plan's own baseline is the latest known value.
            value.current = value.official.value if value.official else ind.baseline
        else:
            value.derived = value.current = derived_by_year[last_year]
            value.project_ids = list(totals.get((len(years) - 1, ind.id), (0, 0, []))[2])
            if value.official:
                # A figure for a year not yet over is checked against the latest value.
                year = min(value.official.fiscal_year, last_year)
                value.derived_for_official = derived_by_year.get(year)
        values.append(value)
    return values
