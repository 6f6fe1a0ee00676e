"""One rule for "in force": the dates, the days (平日 without public holidays), the hours in
Japan time, read alike in Python and in SQL, on every page and answer that says it."""

from datetime import date, datetime, time, timedelta

import jpholiday
import pytest
import time_machine
from sqlalchemy import select

from tests.conftest import MIYAJI_STATION
from tracker.core import clock
from tracker.restrictions.models import TrafficRestriction
from tracker.restrictions.operations import add_restriction
from tracker.restrictions.schedule import (
    Schedule,
    holidays_between,
    in_force_at,
    in_force_sql,
    is_public_holiday,
    next_in_force_at,
    next_in_force_sql,
    sql_params,
)

JST = clock.JST
# November 2028: the 3rd (文化の日) is a Friday, the 5th a Sunday, the 6th a Monday.
HOLIDAY = date(2028, 11, 3)
SUNDAY = date(2028, 11, 5)
MONDAY = date(2028, 11, 6)
WEEKDAY_HOURS = Schedule(
    starts_on=date(2028, 10, 1),
    ends_on=date(2028, 12, 28),
    days="weekdays",
    time_from=time(8, 30),
    time_until=time(17, 0),
)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=JST)


def test_the_calendar_knows_the_public_holidays():
    assert HOLIDAY.weekday() == 4 and is_public_holiday(HOLIDAY)
    assert SUNDAY.weekday() == 6 and MONDAY.weekday() == 0
    assert not is_public_holiday(MONDAY)


@pytest.mark.parametrize(
    ("first", "last"),
    [
        (date(2028, 11, 2), date(2028, 11, 3)),  # a span of two days, ending on a holiday
        (date(2026, 12, 31), date(2030, 1, 1)),  # across years, as the SQL side asks
        (date(2019, 4, 1), date(2021, 12, 31)),  # the moved holidays of 2019-2021
        (date(2028, 11, 4), date(2028, 11, 4)),  # none
    ],
)
def test_the_holidays_of_a_span_are_the_calendars_own(first, last):
    expected = [day for day, _name in jpholiday.between(first, last)]
    assert holidays_between(first, last) == expected
    assert expected or first == last


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (at(SUNDAY, 8, 7), False),
        (at(SUNDAY, 10), False),
        (at(HOLIDAY, 10), False),
        (at(MONDAY, 8, 7), False),
        (at(MONDAY, 17, 30), False),
        (at(MONDAY, 17, 0), False),
        (at(MONDAY, 8, 30), True),
        (at(MONDAY, 10), True),
        (at(date(2028, 9, 29), 10), False),  # a weekday before it starts
        (at(date(2028, 12, 29), 10), False),  # a weekday after it ends
    ],
)
def test_a_weekday_restriction_holds_on_weekdays_within_its_hours(instant, expected):
    assert in_force_at(WEEKDAY_HOURS, instant) is expected


def test_its_next_start_skips_weekends_and_holidays():
    assert next_in_force_at(WEEKDAY_HOURS, at(HOLIDAY, 10)) == at(MONDAY, 8, 30)
    assert next_in_force_at(WEEKDAY_HOURS, at(SUNDAY, 8, 7)) == at(MONDAY, 8, 30)
    assert next_in_force_at(WEEKDAY_HOURS, at(MONDAY, 8, 7)) == at(MONDAY, 8, 30)
    # In force now: the next period is tomorrow's.
    assert next_in_force_at(WEEKDAY_HOURS, at(MONDAY, 10)) == at(MONDAY + timedelta(1), 8, 30)
    assert next_in_force_at(WEEKDAY_HOURS, at(date(2028, 12, 28), 18)) is None


def test_night_hours_run_into_the_next_morning_of_their_day():
    nights = Schedule(date(2028, 10, 1), None, "weekdays", time(20, 0), time(6, 0))
    friday, saturday = HOLIDAY - timedelta(days=7), HOLIDAY - timedelta(days=6)
    assert in_force_at(nights, at(friday, 23))
    assert in_force_at(nights, at(saturday, 3))  # Friday night's
    assert not in_force_at(nights, at(saturday, 6, 30))
    assert not in_force_at(nights, at(saturday, 21))
    assert next_in_force_at(nights, at(saturday, 3)) == at(saturday + timedelta(days=2), 20)


def test_all_day_restrictions_begin_once_over_days_held_back_to_back():
    every_day = Schedule(date(2028, 11, 10), date(2028, 11, 20), "every_day", None, None)
    assert next_in_force_at(every_day, at(MONDAY, 10)) == at(date(2028, 11, 10), 0)
    assert in_force_at(every_day, at(date(2028, 11, 12), 3))
    assert next_in_force_at(every_day, at(date(2028, 11, 12), 3)) is None
    weekdays = Schedule(date(2028, 10, 1), None, "weekdays", None, None)
    assert next_in_force_at(weekdays, at(MONDAY, 10)) == at(date(2028, 11, 13), 0)
    weekends = Schedule(date(2028, 10, 1), None, "weekends", None, None)
    assert in_force_at(weekends, at(HOLIDAY, 10)) and in_force_at(weekends, at(SUNDAY, 23))
    assert not in_force_at(weekends, at(MONDAY, 0, 1))
    assert next_in_force_at(weekends, at(MONDAY, 10)) == at(date(2028, 11, 11), 0)


def test_a_lifted_restriction_is_never_in_force_again():
    lifted = Schedule(
        date(2028, 10, 1), None, "every_day", None, None, ended_at=at(SUNDAY, 9).astimezone()
    )
    assert in_force_at(lifted, at(SUNDAY, 8))
    assert not in_force_at(lifted, at(SUNDAY, 10))
    assert next_in_force_at(lifted, at(SUNDAY, 10)) is None


SCHEDULES = [
    ("weekdays", time(8, 30), time(17, 0)),
    ("weekdays", time(20, 0), time(6, 0)),
    ("weekends", None, None),
    ("weekdays", None, None),
    ("every_day", time(22, 0), time(5, 0)),
    ("every_day", None, None),
]


def test_python_and_sql_read_the_rule_alike(session, make_project):
    project = make_project(name="規則を確かめる道路", kind="road")
    made = [
        add_restriction(
            session,
            project,
            kind="alternating",
            starts_on=date(2028, 11, 2),
            ends_on=date(2028, 11, 9) if n % 2 else None,
            days=days,
            time_from=start,
            time_until=end,
            description=f"規則 {n}",
        )  # fmt: skip
        for n, (days, start, end) in enumerate(SCHEDULES)
    ]
    r = TrafficRestriction
    for hours in range(0, 24 * 10, 3):
        instant = at(date(2028, 11, 1), 1) + timedelta(hours=hours, minutes=17 * (hours % 4))
        rows = session.execute(
            select(r.id, in_force_sql(r), next_in_force_sql(r))
            .where(r.id.in_([m.id for m in made]))
            .order_by(r.id),
            sql_params(instant),
        ).all()
        for restriction, (_id, now, upcoming) in zip(made, rows, strict=True):
            assert now is in_force_at(restriction, instant), (restriction.description, instant)
            assert upcoming == next_in_force_at(restriction, instant), (
                restriction.description,
                instant,
            )


def weekday_restriction(session, make_project):
    project = make_project(name="平日昼間の道路", kind="road", status="construction")
    return add_restriction(
        session, project, kind="alternating", starts_on=WEEKDAY_HOURS.starts_on,
        ends_on=WEEKDAY_HOURS.ends_on, days="weekdays", time_from="08:30",
        time_until="17:00", description="平日昼間の片側交互通行",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (at(SUNDAY, 8, 7), False),
        (at(HOLIDAY, 10), False),
        (at(MONDAY, 8, 7), False),
        (at(MONDAY, 17, 30), False),
        (at(MONDAY, 10), True),
    ],
)
def test_the_api_the_ogc_layer_and_near_page_agree(
    client, session, make_project, instant, expected
):
    restriction = weekday_restriction(session, make_project)
    lon, lat = MIYAJI_STATION
    with time_machine.travel(instant, tick=False):
        api = client.get("/api/restrictions").get_json()["features"]
        ogc = client.get("/ogc/collections/restrictions/items?f=json").get_json()["features"]
        near = client.get(f"/near?lat={lat}&lon={lon}&radius=1000").get_data(as_text=True)
        nearby = client.get(f"/api/projects/nearby?lat={lat}&lon={lon}&radius=1000").get_json()
    (props,) = [f["properties"] for f in api if f["id"] == restriction.id]
    assert props["in_force_now"] is expected
    expected_next = next_in_force_at(restriction, instant)
    assert expected_next is not None
    assert datetime.fromisoformat(props["next_in_force_at"]) == expected_next
    (layer,) = [f["properties"] for f in ogc if f["id"] == restriction.id]
    assert layer["in_force"] is expected
    (entry,) = nearby["features"][0]["properties"]["restrictions"]
    assert entry["in_force_now"] is expected and entry["in_force"] is expected
    assert ("いま実施中の通行規制" in near) is expected
    if not expected:
        assert "いまは時間外" in near and "次は 11月" in near


def test_a_day_on_the_map_holds_only_restrictions_of_that_kind_of_day(
    client, session, make_project
):
    restriction = weekday_restriction(session, make_project)
    on = client.get(f"/map/restrictions.geojson?active_on={MONDAY}").get_json()["features"]
    off = client.get(f"/map/restrictions.geojson?active_on={SUNDAY}").get_json()["features"]
    holiday = client.get(f"/map/restrictions.geojson?active_on={HOLIDAY}").get_json()
    assert [f["id"] for f in on] == [restriction.id]
    assert off == [] and holiday["features"] == []
    assert restriction.applies_on(MONDAY) and not restriction.applies_on(HOLIDAY)
