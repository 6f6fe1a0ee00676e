"""The instant a test run starts at: TEST_NOW if given, else one chosen among the hard cases.

`python -m tests.instants` prints a chosen instant in TEST_NOW's form, for a second run;
`python -m tests.instants evening` one between 15:00 and 24:00 UTC, already the next day in Japan.
"""

import os
import random
import sys
from calendar import isleap
from datetime import UTC, datetime, timedelta

from tracker.core import clock

# time-machine is not travelling yet when this module is read: this is the real time.
REAL_START = clock.now()
LAST_YEAR = 2030


def parse(raw: str) -> datetime:
    """Read an ISO 8601 instant with its offset, e.g. 2028-02-29T23:30:00Z."""
    instant = datetime.fromisoformat(raw.strip())
    if instant.tzinfo is None:
        raise ValueError(f"TEST_NOW must say its offset (e.g. 2028-02-29T23:30:00Z): {raw!r}")
    return instant.astimezone(UTC)


def show(instant: datetime) -> str:
    """Write an instant as TEST_NOW takes it."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _evening_utc(day: datetime, rng: random.Random) -> datetime:
    """15:00–24:00 UTC of a day: already the next day in Japan."""
    return day.replace(hour=15, minute=0, second=0, microsecond=0) + timedelta(
        seconds=rng.randrange(9 * 3600)
    )


CASES = ("evening", "fiscal_year", "new_year", "leap_day", "any")


def choose(rng: random.Random | None = None, case: str | None = None) -> datetime:
    """Pick an instant from now to 2030, mostly where dates are easy to get wrong."""
    rng = rng or random.Random()
    years = range(REAL_START.year + 1, max(LAST_YEAR, REAL_START.year + 1) + 1)
    leap_year = next(y for y in range(REAL_START.year + 1, REAL_START.year + 6) if isleap(y))
    case = case or rng.choice(CASES)
    if case == "fiscal_year":  # 31 March evening in UTC: 1 April, a new fiscal year, in Japan
        instant = _evening_utc(datetime(rng.choice(years), 3, 31, tzinfo=UTC), rng)
    elif case == "new_year":  # 31 December evening in UTC: New Year's Day in Japan
        instant = _evening_utc(datetime(rng.choice(years), 12, 31, tzinfo=UTC), rng)
    elif case == "leap_day":  # 29 February in Japan, or the day after it
        day = datetime(leap_year, 2, rng.choice([28, 29]), tzinfo=UTC)
        instant = day + timedelta(seconds=rng.randrange(24 * 3600))
    else:
        span = (datetime(years[-1], 12, 31, tzinfo=UTC) - REAL_START).total_seconds()
        instant = REAL_START + timedelta(seconds=rng.randrange(int(span)))
        if case == "evening":
            instant = _evening_utc(instant, rng)
    return max(instant, REAL_START).replace(microsecond=0)


def start_instant() -> datetime:
    """The instant this run starts at: TEST_NOW, else a chosen one, kept in TEST_NOW so that
    every later reading in this process (and its children) gets the same."""
    raw = os.environ.get("TEST_NOW", "")
    if not raw.strip():
        raw = os.environ["TEST_NOW"] = show(choose())
    return parse(raw)


if __name__ == "__main__":
    wanted = sys.argv[1] if len(sys.argv) > 1 else None
    if wanted not in (None, *CASES):
        sys.exit(f"usage: python -m tests.instants [{'|'.join(CASES)}]")
    print(show(choose(case=wanted)))
