"""Measure 13's indicators: arithmetic against hand-computed fixtures, as_of, official figures."""

import math
import re
from datetime import date, datetime
from decimal import Decimal

import pytest
from shapely.geometry import LineString, Point

from tracker.core import clock
from tracker.core.clock import JST
from tracker.indicators.operations import record_figure
from tracker.indicators.queries import indicator_values
from tracker.meeting.charts import axis_ticks, needs_break
from tracker.projects.history import append_past_status
from tracker.words.formatting import fiscal_year

LON = 131.10  # a meridian inside the city


def meridian_metres(lat1: float, lat2: float) -> float:
    """Length of a short meridian arc on the GRS80 ellipsoid, by the textbook formula."""
    a, e2 = 6378137.0, 0.0066943800229
    phi = math.radians((lat1 + lat2) / 2)
    radius = a * (1 - e2) / (1 - e2 * math.sin(phi) ** 2) ** 1.5
    return radius * math.radians(abs(lat2 - lat1))


def north_line(lat: float, dlat: float) -> LineString:
    return LineString([(LON, lat), (LON, lat + dlat)])


def by_code(values):
    return {v.code: v for v in values}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=JST)


def test_revetment_length_adds_completed_lines_measured_in_metres(session, make_project):
    first = make_project(
        kind="revetment",
        status="completed",
        progress=100,
        geometry=north_line(32.940, 0.005),
        indicator_codes=["m13_revetment"],
    )
    second = make_project(
        kind="revetment",
        status="completed",
        progress=100,
        geometry=north_line(32.950, 0.002),
        indicator_codes=["m13_revetment"],
    )
    make_project(
        kind="revetment",
        status="construction",
        progress=60,
        geometry=north_line(32.960, 0.004),
        indicator_codes=["m13_revetment"],
    )
    make_project(
        kind="revetment", status="completed", progress=100, geometry=north_line(32.970, 0.003)
    )  # not linked to the indicator

    revetment = by_code(indicator_values(session))["m13_revetment"]

    expected = meridian_metres(32.940, 32.945) + meridian_metres(32.950, 32.952)
    assert expected == pytest.approx(776.3, abs=0.1)  # about 111 m per 0.001°
    assert float(revetment.current) == pytest.approx(expected, abs=0.5)
    assert revetment.baseline == 0 and revetment.target == 160
    assert sorted(revetment.project_ids) == sorted([first.id, second.id])
    assert revetment.share == pytest.approx(expected / 160 * 100, abs=0.5)


def test_kilometre_indicators_convert_metres_to_km(session, make_project):
    make_project(
        kind="pavement",
        status="completed",
        progress=100,
        geometry=north_line(32.940, 0.010),
        indicator_codes=["m13_pavement_renewed"],
    )
    pavement = by_code(indicator_values(session))["m13_pavement_renewed"]
    expected_km = 4.3 + meridian_metres(32.940, 32.950) / 1000
    assert float(pavement.current) == pytest.approx(expected_km, abs=0.001)


def test_bridges_count_completed_linked_projects(session, make_project):
    for status in ("completed", "completed", "construction"):
        make_project(
            kind="bridge",
            status=status,
            progress=100 if status == "completed" else 40,
            indicator_codes=["m13_bridges_repaired"],
        )
    bridges = by_code(indicator_values(session))["m13_bridges_repaired"]
    assert bridges.current == 18 + 2
    assert len(bridges.project_ids) == 2
    assert bridges.share == pytest.approx((20 - 18) / (40 - 18) * 100)


def test_indicator_values_follow_the_status_history(session, make_project):
    bridge = make_project(
        kind="bridge", indicator_codes=["m13_bridges_repaired"], created_at=at("2021-05-01 10:00")
    )
    append_past_status(
        session,
        bridge.id,
        status="construction",
        progress=20,
        recorded_at=at("2022-06-01 09:00"),
    )
    # 23:30 in Japan on 31 March still belongs to that day (14:30 UTC).
    append_past_status(
        session,
        bridge.id,
        status="completed",
        progress=100,
        recorded_at=at("2023-03-31 23:30"),
    )
    append_past_status(
        session,
        bridge.id,
        status="suspended",
        progress=100,
        recorded_at=at("2024-07-01 09:00"),
    )

    def bridges(day):
        return by_code(indicator_values(session, as_of=day))["m13_bridges_repaired"]

    assert bridges(date(2023, 3, 30)).current == 18
    assert bridges(date(2023, 3, 31)).current == 19
    assert bridges(date(2023, 3, 31)).project_ids == [bridge.id]
    assert bridges(date(2024, 6, 30)).current == 19
    assert bridges(date(2024, 7, 1)).current == 18  # suspended again
    assert bridges(None).current == 18
    series = dict((year, value) for year, value, _ in bridges(date(2024, 6, 30)).series)
    # Year-ends: FY2022 ends 2023-03-31, the day it was completed; FY2021 did not have it.
    assert series[2021] == 18 and series[2022] == 19 and series[2024] == 19


def test_a_work_completed_twice_counts_in_each_year_it_stood_completed(session, make_project):
    first = make_project(
        kind="bridge", indicator_codes=["m13_bridges_repaired"], created_at=at("2021-05-01 10:00")
    )
    second = make_project(
        kind="bridge", indicator_codes=["m13_bridges_repaired"], created_at=at("2021-05-01 10:00")
    )
    for status, when in (
        ("completed", "2021-10-01 09:00"),
        ("construction", "2022-06-01 09:00"),  # reopened for repairs
        ("completed", "2023-06-01 09:00"),
    ):
        append_past_status(session, first.id, status=status, progress=100, recorded_at=at(when))
    append_past_status(
        session, second.id, status="completed", progress=100, recorded_at=at("2022-08-01 09:00")
    )

    def bridges(day):
        return by_code(indicator_values(session, as_of=day))["m13_bridges_repaired"]

    reopened = bridges(date(2022, 7, 1))
    assert reopened.current == 18 and reopened.project_ids == []
    later = bridges(date(2024, 6, 30))
    series = dict((year, value) for year, value, _ in later.series)
    # FY2021 ends with the first done; FY2022 with it reopened and the second done.
    assert series[2021] == 19 and series[2022] == 19 and series[2023] == 20
    assert later.current == 20
    assert later.project_ids == sorted([first.id, second.id])


def test_seismic_rates_show_the_latest_recorded_year(session):
    record_figure(
        session,
        indicator_code="m13_seismic_wooden_houses",
        fiscal_year=2022,
        value="48.1",
        source="住宅・土地統計調査",
        recorded_at=at("2023-06-30 09:00"),
    )
    record_figure(
        session,
        indicator_code="m13_seismic_wooden_houses",
        fiscal_year=2023,
        value="48.9",
        source="住宅・土地統計調査",
        recorded_at=at("2024-06-30 09:00"),
    )

    def rate(day):
        return by_code(indicator_values(session, as_of=day))["m13_seismic_wooden_houses"]

    assert float(rate(None).current) == 48.9
    assert rate(None).official.source == "住宅・土地統計調査"
    assert float(rate(date(2024, 1, 1)).current) == 48.1
    # Before anything was recorded the plan's baseline is the latest known value.
    assert float(rate(date(2022, 1, 1)).current) == 47.3


def test_api_answers_indicators_with_projects_and_official_difference(
    client, session, make_project
):
    bridge = make_project(
        kind="bridge", status="completed", progress=100, indicator_codes=["m13_bridges_repaired"]
    )
    record_figure(
        session,
        indicator_code="m13_bridges_repaired",
        fiscal_year=fiscal_year(clock.today()),  # this year: compared with now
        value=21,
        source="道路施設点検結果",
    )

    body = client.get("/api/indicators").get_json()

    items = {i["code"]: i for i in body["indicators"]}
    assert len(items) == 7
    b = items["m13_bridges_repaired"]
    assert (b["name"], b["unit"], b["baseline"], b["baseline_year"]) == (
        "補修済橋梁数",
        "橋",
        18,
        2020,
    )
    assert (b["target"], b["target_year"], b["current"]) == (40, 2024, 19)
    assert b["project_ids"] == [bridge.id] and b["projects_counted"] == 1
    assert b["official"]["value"] == 21 and b["difference"] == -2
    assert b["remaining"] == 21  # 40 - 19
    assert "indicator=m13_bridges_repaired" in b["projects_url"]


def test_official_figure_is_compared_with_the_value_for_its_own_year(client, session, make_project):
    for completed_at in ("2024-09-01 10:00", "2025-05-01 10:00"):
        bridge = make_project(
            kind="bridge",
            indicator_codes=["m13_bridges_repaired"],
            created_at=at("2024-06-01 09:00"),
        )
        append_past_status(
            session,
            bridge.id,
            status="completed",
            progress=100,
            recorded_at=at(completed_at),
        )
    # The official count for fiscal 2024 (to 2025-03-31), published in the summer after.
    record_figure(
        session,
        indicator_code="m13_bridges_repaired",
        fiscal_year=2024,
        value=21,
        source="令和6年度 道路施設点検結果",
        recorded_at=at("2025-07-01 09:00"),
    )

    body = client.get("/api/indicators?as_of=2025-08-01").get_json()

    b = next(i for i in body["indicators"] if i["code"] == "m13_bridges_repaired")
    assert b["current"] == 18 + 2
    # Fiscal 2024 ended with one of the two: 19 derived against 21 official.
    assert b["official"]["fiscal_year"] == 2024 and b["difference"] == 19 - 21


def test_works_finished_by_the_baseline_year_are_already_in_the_baseline(session, make_project):
    # River revetment was 0 m at the end of fiscal 2020 (R2), so a line finished on
    # 2021-03-31 is part of that figure; one finished the next day adds to it.
    for day, lat, dlat in (
        ("2021-03-31 23:30", 32.960, 0.004),
        ("2021-04-01 00:30", 32.950, 0.001),
    ):
        line = make_project(
            kind="revetment",
            geometry=north_line(lat, dlat),
            indicator_codes=["m13_revetment"],
            created_at=at("2020-10-01 09:00"),
        )
        append_past_status(session, line.id, status="completed", progress=100, recorded_at=at(day))

    revetment = by_code(indicator_values(session))["m13_revetment"]

    later = meridian_metres(32.950, 32.951)
    assert later == pytest.approx(110.9, abs=0.1)
    assert float(revetment.current) == pytest.approx(later, abs=0.5)
    assert len(revetment.project_ids) == 1
    series = {year: amount for year, amount, _ in revetment.series}
    assert series[2020] == 0  # R2 is the plan's baseline, not baseline plus its own works
    assert float(series[2021]) == pytest.approx(later, abs=0.5)


def test_api_as_of_gives_values_as_they_stood(client, session, make_project):
    bridge = make_project(
        kind="bridge", indicator_codes=["m13_bridges_repaired"], created_at=at("2022-01-10 09:00")
    )
    append_past_status(
        session,
        bridge.id,
        status="completed",
        progress=100,
        recorded_at=at("2023-05-01 09:00"),
    )
    before = client.get("/api/indicators?as_of=2023-04-30").get_json()
    after = client.get("/api/indicators?as_of=2023-05-01").get_json()
    assert before["as_of"] == "2023-04-30"
    current = {
        b["as_of"]: {i["code"]: i["current"] for i in b["indicators"]} for b in (before, after)
    }
    assert current["2023-04-30"]["m13_bridges_repaired"] == 18
    assert current["2023-05-01"]["m13_bridges_repaired"] == 19


@pytest.mark.parametrize(
    "as_of", ["2023-02-30", "2023-13-01", "yesterday", "2023-1-5", "9999-12-31", "1999-12-31"]
)
def test_api_refuses_impossible_dates_with_a_message(client, as_of):
    response = client.get(f"/api/indicators?as_of={as_of}")
    assert response.status_code == 400
    assert "as_of" in response.get_json()["error"]


def test_staff_only_works_count_only_for_signed_in_users(client, make_project, make_user, login_as):
    make_project(
        kind="bridge",
        status="completed",
        progress=100,
        is_public=False,
        indicator_codes=["m13_bridges_repaired"],
    )

    def bridges():
        items = client.get("/api/indicators").get_json()["indicators"]
        return next(i["current"] for i in items if i["code"] == "m13_bridges_repaired")

    assert bridges() == 18
    login_as(make_user(role="viewer"))
    assert bridges() == 19


def test_staff_record_an_official_figure_shown_beside_the_derived_one(
    client, make_project, make_user, login_as
):
    make_project(
        kind="bridge", status="completed", progress=100, indicator_codes=["m13_bridges_repaired"]
    )
    this_year = fiscal_year(clock.today())
    login_as(make_user(role="staff"))
    response = client.post(
        "/plan/indicators/figures",
        data={
            "indicator": "m13_bridges_repaired",
            "fiscal_year": str(this_year),
            "value": "22",
            "source": "道路施設点検結果",
        },
    )
    assert response.status_code == 201
    assert "記録しました" in response.get_data(as_text=True)

    page = client.get("/plan/indicators").get_data(as_text=True)
    row = page.split('data-code="m13_bridges_repaired"')[1].split("</tr>")[0]
    assert "19 橋" in row and "22 橋" in row and "-3" in row
    assert "あと 21 橋" in row  # 40 - 19


@pytest.mark.parametrize(
    "form, message",
    [
        ({"indicator": "nope", "fiscal_year": "2024", "value": "1", "source": "x"}, "indicator"),
        (
            {"indicator": "m13_revetment", "fiscal_year": "R6", "value": "1", "source": "x"},
            "fiscal_year",
        ),
        (
            {"indicator": "m13_revetment", "fiscal_year": "2024", "value": "many", "source": "x"},
            "value",
        ),
        (
            {"indicator": "m13_revetment", "fiscal_year": "2024", "value": "1", "source": " "},
            "source",
        ),
    ],
)
def test_bad_figures_are_refused_with_a_message(client, make_user, login_as, form, message):
    login_as(make_user(role="admin"))
    response = client.post("/plan/indicators/figures", data=form)
    assert response.status_code == 400
    # The page names the field in words; the refused field travels in data-field.
    assert f'data-field="{message}"' in response.get_data(as_text=True)
    label = {"indicator": "成果指標", "fiscal_year": "年度", "value": "値", "source": "出典"}
    assert f"{label[message]}：" in response.get_data(as_text=True)


def test_only_staff_and_admins_may_record_figures(client, make_user, login_as):
    form = {"indicator": "m13_revetment", "fiscal_year": "2024", "value": "1", "source": "x"}
    assert client.post("/plan/indicators/figures", data=form).status_code == 302
    login_as(make_user(role="viewer"))
    assert client.post("/plan/indicators/figures", data=form).status_code == 403
    assert "年度値・公式値を記録する" not in client.get("/plan/indicators").get_data(as_text=True)


def test_dashboard_draws_a_chart_per_indicator_and_links_projects(client, make_project):
    make_project(
        kind="bridge",
        status="completed",
        progress=100,
        indicator_codes=["m13_bridges_repaired"],
        geometry=Point(LON, 32.95),
    )
    html = client.get("/plan/indicators?as_of=2026-01-15").get_data(as_text=True)
    assert html.count('<svg class="year-chart"') == 7
    assert "令和7年度" in html  # the fiscal year of the chosen date
    assert "/plan?indicator=m13_bridges_repaired&amp;status=completed&amp;as_of=2026-01-15" in html


def test_year_charts_give_their_axis_values(client, make_project):
    make_project(
        kind="bridge", status="completed", progress=100, indicator_codes=["m13_bridges_repaired"]
    )
    html = client.get("/plan/indicators").get_data(as_text=True)
    charts = {
        card.split('"', 1)[0]: card
        for card in html.split('<figure class="chart-card" data-code="')[1:]
    }
    bridges = charts["m13_bridges_repaired"]
    # 18 → 40 bridges: the axis starts at zero and climbs in tens.
    assert re.findall(r'class="tick">([\d.,]+)<', bridges) == ["0", "10", "20", "30", "40"]
    assert re.findall(r'class="bar-value">([\d.,]+)<', bridges) == ["19"]  # this year's bar
    assert 'data-broken="true"' not in bridges
    road = charts["m13_road_improved"]
    # 426.9 → 429.4 km, a 0.6 % change: from zero it would be bars of one height, so the
    # axis starts just under the values and is marked as cut.
    assert re.findall(r'class="tick">([\d.,]+)<', road) == [
        "426.5", "427", "427.5", "428", "428.5", "429", "429.5"
    ]  # fmt: skip
    assert 'data-broken="true"' in road and 'class="break-mark"' in road


@pytest.mark.parametrize(
    "low, high, ticks",
    [
        # Always from zero: bars whose axis is cut exaggerate the change.
        ("4.3", "7.1", ["0", "2", "4", "6", "8"]),
        ("0", "176.4", ["0", "50", "100", "150", "200"]),
        ("36.3", "60", ["0", "20", "40", "60"]),
    ],
)
def test_axis_values_are_round_and_cover_the_data(low, high, ticks):
    assert axis_ticks(Decimal(low), Decimal(high)) == [Decimal(t) for t in ticks]


@pytest.mark.parametrize(
    "low, high, ticks",
    [
        ("426.9", "429.4", ["426.5", "427", "427.5", "428", "428.5", "429", "429.5"]),
        ("47.3", "50", ["47", "48", "49", "50"]),
        # A value on a round step still gets a bar: the axis starts a step under it.
        ("47", "50", ["46", "47", "48", "49", "50"]),
    ],
)
def test_a_cut_axis_starts_just_under_the_values(low, high, ticks):
    assert needs_break(Decimal(low), Decimal(high))
    assert axis_ticks(Decimal(low), Decimal(high), from_zero=False) == [Decimal(t) for t in ticks]


@pytest.mark.parametrize("low, high", [("18", "40"), ("4.3", "7.1"), ("0", "160"), ("36.3", "60")])
def test_a_change_large_against_the_values_keeps_the_axis_from_zero(low, high):
    assert not needs_break(Decimal(low), Decimal(high))
