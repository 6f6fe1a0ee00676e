"""When a traffic restriction is in force: the one rule, for one restriction (Python) and for
lists (SQL), and the next instant it comes into force.

A restriction holds on a day when it is not lifted, the day lies within starts_on..ends_on and
the day is of its `days` (毎日; 平日 = Monday to Friday except Japanese public holidays;
土日祝 = Saturdays, Sundays and public holidays). On such a day it holds from `time_from` to
`time_until` in Japan time (all day without hours); hours that cross midnight (20:00〜翌6:00)
hold into the next morning, which belongs to the day they started on.

The SQL side needs no holiday table: the instant is known when the query is built, so the
kinds of day of "today" and "yesterday" are worked out here and bound as parameters; the next
start reads the holidays of the days it looks at from a bound array.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from typing import Any

import jpholiday
from sqlalchemy import (
    ARRAY,
    Date,
    DateTime,
    Text,
    Time,
    and_,
    any_,
    bindparam,
    case,
    cast,
    func,
    literal,
    not_,
    or_,
    select,
    text,
)
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from tracker.core.clock import JST

# Starts looked for this many days ahead of the first day that can hold: far more than the
# longest run of days of one kind (土日祝 around Golden Week, 平日 between them).
LOOKAHEAD_DAYS = 14
# The holidays the SQL side knows of: from yesterday to this many days on. A restriction
# announced further ahead than this is judged without holidays until that day comes closer.
HOLIDAY_SPAN_DAYS = 3 * 366
MIDNIGHT = time(0, 0)


def is_public_holiday(day: date) -> bool:
    """Tell whether the day is a Japanese public holiday (祝日, 振替休日, 国民の休日)."""
    return bool(jpholiday.is_holiday(day))


def is_workday(day: date) -> bool:
    """Tell whether the day is a 平日: Monday to Friday and not a public holiday."""
    return day.weekday() < 5 and not is_public_holiday(day)


def day_kinds(day: date) -> tuple[str, str]:
    """Return the values of `days` that hold on the day: always 毎日, and 平日 or 土日祝."""
    return ("every_day", "weekdays" if is_workday(day) else "weekends")


def holidays_between(first: date, last: date) -> list[date]:
    """Return the public holidays from `first` to `last`, both included."""
    return [
        day
        for year in range(first.year, last.year + 1)
        for day in _holidays_of(year)
        if first <= day <= last
    ]


@cache
def _holidays_of(year: int) -> tuple[date, ...]:
    # A year at once, kept: jpholiday asks every rule about every day of a span (three
    # years took 0.6 s, paid anew each day by each worker's first request); a year's list
    # holds the same days (tests/test_restriction_schedule.py).
    return tuple(day for day, _name in jpholiday.year_holidays(year))


@dataclass(frozen=True)
class Schedule:
    """What the rule reads of a restriction: its dates, days and hours, and whether lifted."""

    starts_on: date
    ends_on: date | None
    days: str
    time_from: time | None
    time_until: time | None
    ended_at: datetime | None = None

    @classmethod
    def of(cls, restriction: Any) -> "Schedule":
        """Read the schedule of a restriction row or model (anything with those attributes)."""
        return cls(
            restriction.starts_on,
            restriction.ends_on,
            restriction.days,
            restriction.time_from,
            restriction.time_until,
            restriction.ended_at,
        )

    @property
    def all_day(self) -> bool:
        """Tell whether it holds the whole of each of its days."""
        return self.time_from is None or self.time_until is None

    @property
    def overnight(self) -> bool:
        """Tell whether its hours run past midnight into the next day."""
        start, end = self.time_from, self.time_until
        return start is not None and end is not None and end <= start

    def holds_on(self, day: date) -> bool:
        """Tell whether the day is one of its days: within its dates and of its kind of day."""
        return (
            self.starts_on <= day
            and (self.ends_on is None or day <= self.ends_on)
            and self.days in day_kinds(day)
        )

    def lifted_by(self, at: datetime) -> bool:
        """Tell whether staff had lifted it by the instant."""
        return self.ended_at is not None and self.ended_at <= at

    def windows_from(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        """Yield (start, end) instants, in UTC, of each period it holds from the day on."""
        last = day + timedelta(days=LOOKAHEAD_DAYS)
        if self.ends_on is not None:
            last = min(last, self.ends_on)
        current = max(day, self.starts_on)
        while current <= last:
            if self.holds_on(current):
                yield self._window(current)
            current += timedelta(days=1)

    def _window(self, day: date) -> tuple[datetime, datetime]:
        start_time, end_time = self.time_from or MIDNIGHT, self.time_until or MIDNIGHT
        if self.all_day:
            start_time = end_time = MIDNIGHT
        end_day = day + timedelta(days=1) if self.all_day or self.overnight else day
        start = datetime.combine(day, start_time, JST)
        end = datetime.combine(end_day, end_time, JST)
        return start.astimezone(UTC), end.astimezone(UTC)


def in_force_at(restriction: Any, at: datetime) -> bool:
    """Tell whether a restriction (model, row or Schedule) is in force at the instant."""
    schedule = restriction if isinstance(restriction, Schedule) else Schedule.of(restriction)
    if schedule.lifted_by(at):
        return False
    local = at.astimezone(JST)
    day, clock_time = local.date(), local.time()
    start, end = schedule.time_from, schedule.time_until
    if start is None or end is None:
        return schedule.holds_on(day)
    if end > start:
        return start <= clock_time < end and schedule.holds_on(day)
    # Hours past midnight: the evening of one of its days, or the morning after one.
    if clock_time >= start:
        return schedule.holds_on(day)
    return clock_time < end and schedule.holds_on(day - timedelta(days=1))


def applies_on(restriction: Any, day: date) -> bool:
    """Tell whether a restriction holds at some time of the day (not lifted, one of its days)."""
    schedule = restriction if isinstance(restriction, Schedule) else Schedule.of(restriction)
    lifted = schedule.ended_at is not None and schedule.ended_at.astimezone(JST).date() < day
    return not lifted and schedule.holds_on(day)


def next_in_force_at(restriction: Any, at: datetime) -> datetime | None:
    """Return the next instant after `at` when the restriction comes into force (a period of
    it begins after a time it did not hold), or None when none begins again: lifted, ended,
    or holding without a break to its end. Looks LOOKAHEAD_DAYS past its first possible day."""
    schedule = restriction if isinstance(restriction, Schedule) else Schedule.of(restriction)
    if schedule.lifted_by(at):
        return None
    previous_end: datetime | None = None
    first_day = at.astimezone(JST).date() - timedelta(days=1)
    for start, end in schedule.windows_from(first_day):
        # Days held back to back all day are one period: it begins on the first.
        begins = previous_end != start
        previous_end = end
        if begins and start > at:
            if schedule.ended_at is not None and schedule.ended_at <= start:
                return None
            return start
    return None


# --- SQL -----------------------------------------------------------------------------------


def sql_params(at: datetime) -> dict[str, Any]:
    """Return the bound values the SQL expressions below read, for the instant `at`."""
    local = at.astimezone(JST)
    return {
        "in_force_at": at,
        "in_force_time": local.time().replace(tzinfo=None),
        **_day_params(local.date()),
    }


@lru_cache(maxsize=4)
def _day_params(today: date) -> dict[str, Any]:
    # Worked out once a day, not per statement. The holidays go as one array literal: bound
    # as a list, psycopg wrote each date apart (0.14 ms of a nearby answer's Python).
    yesterday = today - timedelta(days=1)
    holidays = holidays_between(yesterday, yesterday + timedelta(days=HOLIDAY_SPAN_DAYS))
    return {
        "in_force_day": today,
        "in_force_yesterday": yesterday,
        "in_force_kinds": list(day_kinds(today)),
        "in_force_yesterday_kinds": list(day_kinds(yesterday)),
        "in_force_holidays": "{" + ",".join(day.isoformat() for day in holidays) + "}",
    }


_TYPES: dict[str, Any] = {
    "in_force_at": DateTime(timezone=True),
    "in_force_day": Date,
    "in_force_yesterday": Date,
    "in_force_time": Time,
    "in_force_kinds": ARRAY(Text),
    "in_force_yesterday_kinds": ARRAY(Text),
    "in_force_holidays": Text,  # an array literal, cast where it is read
}


def _bind(name: str, at: datetime | None) -> BindParameter[Any]:
    """A parameter of the rule: bound to the instant's value, or left for sql_params() to fill
    (statements built once and run at many instants)."""
    if at is None:
        return bindparam(name, type_=_TYPES[name])
    return bindparam(name, sql_params(at)[name], type_=_TYPES[name])


def _within_dates(r: Any, day: ColumnElement[Any]) -> ColumnElement[bool]:
    return and_(r.starts_on <= day, or_(r.ends_on.is_(None), r.ends_on >= day))


def _all_day(r: Any) -> ColumnElement[bool]:
    return or_(r.time_from.is_(None), r.time_until.is_(None))


def _overnight(r: Any) -> ColumnElement[bool]:
    return and_(not_(_all_day(r)), r.time_until <= r.time_from)


def _of_kind(r: Any, kinds: ColumnElement[Any]) -> ColumnElement[bool]:
    return r.days == any_(kinds)


def in_force_sql(r: Any, at: datetime | None = None) -> ColumnElement[bool]:
    """Return a SQL condition: the restriction (a table's columns, or the model, as `r`) is
    in force at the instant `at` (without it, at the one sql_params() binds)."""
    day = _bind("in_force_day", at)
    yesterday = _bind("in_force_yesterday", at)
    now = _bind("in_force_time", at)
    return and_(
        or_(r.ended_at.is_(None), r.ended_at > _bind("in_force_at", at)),
        or_(
            and_(
                _within_dates(r, day),
                _of_kind(r, _bind("in_force_kinds", at)),
                or_(
                    _all_day(r),
                    and_(r.time_from <= now, or_(_overnight(r), now < r.time_until)),
                ),
            ),
            and_(
                _overnight(r),
                now < r.time_until,
                _within_dates(r, yesterday),
                _of_kind(r, _bind("in_force_yesterday_kinds", at)),
            ),
        ),
    )


def _holds_sql(r: Any, day: ColumnElement[Any], at: datetime | None) -> ColumnElement[bool]:
    """The day (within the dates) is of the restriction's kind of day."""
    # Typed in the SQL too: a statement printed with its values inline still compares dates.
    holidays = cast(_bind("in_force_holidays", at), ARRAY(Date))
    workday = and_(func.extract("isodow", day) < 6, not_(day == any_(holidays)))
    return or_(r.days == "every_day", (r.days == "weekdays") == workday)


def next_in_force_sql(r: Any, at: datetime | None = None) -> ColumnElement[Any]:
    """Return a SQL scalar: the next instant after `at` (or the bound one) when the
    restriction comes into force, or NULL; the same as next_in_force_at."""
    yesterday = _bind("in_force_yesterday", at)
    instant = _bind("in_force_at", at)
    first = func.greatest(r.starts_on, yesterday)
    last = first + LOOKAHEAD_DAYS
    last = case((r.ends_on.is_(None), last), else_=func.least(r.ends_on, last))
    series = (
        func.generate_series(cast(first, DateTime), cast(last, DateTime), text("interval '1 day'"))
        .table_valued("d")
        .render_derived(name="held_days")
    )
    day = cast(series.c.d, Date)
    starts = case((_all_day(r), literal(MIDNIGHT, Time)), else_=r.time_from)
    start = func.timezone(JST.key, day + starts)
    begins = or_(not_(_all_day(r)), day == r.starts_on, not_(_holds_sql(r, day - 1, at)))
    return (
        select(func.min(start))
        .select_from(series)
        .where(
            or_(r.ended_at.is_(None), r.ended_at > instant),
            _holds_sql(r, day, at),
            begins,
            start > instant,
            or_(r.ended_at.is_(None), r.ended_at > start),
        )
        .scalar_subquery()
    )


def applies_on_sql(r: Any, day: date) -> ColumnElement[bool]:
    """Return a SQL condition: the day is one of the restriction's days (its dates and kind
    of day; whether lifted is for the caller, who knows which instant counts)."""
    return and_(_within_dates(r, literal(day, Date)), r.days.in_(day_kinds(day)))
