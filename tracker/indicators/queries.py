"""Indicator values computed in SQL: baseline plus completed linked projects, or recorded figures.

`current` follows the plan's unit: 橋 counts completed linked projects; km and m add the
length of completed linked lines, measured on the geography (metres on the ellipsoid, not
degrees); % (ratios of building stock) cannot be derived from projects, so it is the latest
figure staff recorded. An official figure recorded for any indicator is shown beside it.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY, TIMESTAMP
from sqlalchemy.orm import Session

from tracker.formatting import JST, fiscal_year
from tracker.indicators.models import IndicatorFigure
from tracker.plan.models import Indicator, PlanItem
from tracker.projects.queries import end_of_day

MEASURE_CODE = "p5.m13"
# How a unit turns completed projects into an amount; units not listed are recorded by staff.
METHODS = {"橋": "count", "km": "length", "m": "length"}
METRES_PER_UNIT = {"km": Decimal(1000), "m": Decimal(1)}

# Completed linked projects now: the status column is the current truth.
_CURRENT_SQL = text(
    """
    SELECT l.indicator_id, count(*) AS n,
           coalesce(sum(CASE WHEN ST_Dimension(p.geom) = 1
                             THEN ST_Length(p.geom::geography) END), 0) AS metres,
           array_agg(p.id ORDER BY p.id) AS ids
    FROM project_indicators l
    JOIN projects p ON p.id = l.project_id
    WHERE p.status = 'completed' AND (:private OR p.is_public)
    GROUP BY l.indicator_id
    """
)

# Completed linked projects at each cutoff, read from the status history: a history row
# holds from its recorded_at until the next row of the same project.
_HISTORY_SQL = text(
    """
    WITH cutoffs AS (
        SELECT c.at, c.n FROM unnest(:cutoffs) WITH ORDINALITY AS c(at, n)
    ), linked AS MATERIALIZED (
        SELECT l.indicator_id, p.id, p.created_at, p.status,
               CASE WHEN ST_Dimension(p.geom) = 1 THEN ST_Length(p.geom::geography)
                    ELSE 0 END AS metres
        FROM project_indicators l
        JOIN projects p ON p.id = l.project_id
        WHERE (:private OR p.is_public)
          AND (p.status = 'completed'
               OR EXISTS (SELECT 1 FROM status_updates s
                          WHERE s.project_id = p.id AND s.status = 'completed'))
    ), spans AS (
        SELECT s.project_id, s.status, s.recorded_at AS since,
               lead(s.recorded_at) OVER (PARTITION BY s.project_id
                                         ORDER BY s.recorded_at, s.id) AS until
        FROM status_updates s
        WHERE s.project_id IN (SELECT id FROM linked)
    )
    SELECT c.n, l.indicator_id, count(*) AS n_projects, coalesce(sum(l.metres), 0) AS metres,
           array_agg(l.id ORDER BY l.id) FILTER (WHERE c.n = :ids_for) AS ids
    FROM cutoffs c
    JOIN spans s ON s.status = 'completed' AND s.since < c.at
                AND (s.until IS NULL OR s.until >= c.at)
    JOIN linked l ON l.id = s.project_id AND l.created_at < c.at
    GROUP BY c.n, l.indicator_id
    UNION ALL
    -- Now, from the status column; sharing `linked` measures each line only once.
    SELECT 0, l.indicator_id, count(*), coalesce(sum(l.metres), 0),
           array_agg(l.id ORDER BY l.id)
    FROM linked l
    WHERE :with_now AND l.status = 'completed'
    GROUP BY l.indicator_id
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
    project_ids: list[int] = field(default_factory=list)
    # (fiscal year, value or None, official value or None), oldest first.
    series: list[tuple[int, Decimal | None, Decimal | None]] = field(default_factory=list)

    @property
    def difference(self) -> Decimal | None:
        """Return derived minus official, when both exist."""
        if self.derived is None or self.official is None:
            return None
        return self.derived - self.official.value

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
    session: Session, cutoffs: list[datetime | None], include_private: bool, *, with_ids: bool
) -> dict[tuple[int, int], tuple[int, float, list[int]]]:
    """Return {(cutoff index, indicator id): (count, metres, ids)}; None means now."""
    totals = {}
    past = [(i, c) for i, c in enumerate(cutoffs) if c is not None]
    now = cutoffs.index(None) if None in cutoffs else None
    if not past:
        if now is not None:
            for row in session.execute(_CURRENT_SQL, {"private": include_private}):
                totals[(now, row.indicator_id)] = (row.n, row.metres, row.ids)
        return totals
    rows = session.execute(
        _HISTORY_SQL,
        {
            "cutoffs": [c for _, c in past],
            "private": include_private,
            "with_now": now is not None,
            # Only the latest value lists its projects; the yearly ones are only counted.
            "ids_for": len(past) if with_ids and now is None else -1,
        },
    )
    for row in rows:
        index = now if row.n == 0 else past[row.n - 1][0]
        totals[(index, row.indicator_id)] = (row.n_projects, row.metres, row.ids or [])
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
    session: Session,
    *,
    as_of: date | None = None,
    include_private: bool = False,
    with_series: bool = True,
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
    today = as_of or datetime.now(JST).date()
    first_year = min(i.baseline_year for i in indicators)
    last_year = fiscal_year(today)
    years = list(range(first_year, last_year + 1)) if with_series else []
    # The year-end of every earlier year, then the date asked for (or now) for the last one.
    cutoffs: list[datetime | None] = [end_of_day(date(y + 1, 3, 31)) for y in years[:-1]]
    cutoffs.append(cutoff)
    totals = _completed(session, cutoffs, include_private, with_ids=True)
    last = len(cutoffs) - 1
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
            latest = recorded[max(recorded)]
            value.official = latest
        if method == "recorded":
            # Before the first recorded year the plan's own baseline is the latest known value.
            value.current = value.official.value if value.official else ind.baseline
        else:
            n, metres, ids = totals.get((last, ind.id), (0, 0, []))
            value.derived = ind.baseline + _amount(ind.unit, method, n, metres)
            value.current = value.derived
            value.project_ids = list(ids)
        for index, year in enumerate(years):
            official = recorded.get(year)
            if method == "recorded":
                amount = official.value if official else None
                if amount is None and year == ind.baseline_year:
                    amount = ind.baseline
                value.series.append((year, amount, None))
            else:
                n, metres, _ids = totals.get((index, ind.id), (0, 0, []))
                amount = ind.baseline + _amount(ind.unit, method, n, metres)
                value.series.append((year, amount, official.value if official else None))
        values.append(value)
    return values
