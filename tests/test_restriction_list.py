"""/restrictions: every restriction in force or announced, as a list and a timeline by day,
filtered by kind and area, without JavaScript, in Japanese and English."""

import re
from datetime import date, datetime, timedelta

import pytest
import time_machine
from shapely.geometry import LineString

from tracker.core import clock
from tracker.restrictions.operations import add_restriction, end_restriction

UCHINOMAKI = (131.0400, 32.9717)  # the 内牧 district centre
MIYAJI = (131.1161, 32.9488)  # by 阿蘇神社 (一の宮)
# Monday 6 November 2028, 07:00 in Japan: the 3rd was a holiday, the 23rd (Thursday) is one.
MONDAY_MORNING = datetime(2028, 11, 6, 7, 0, tzinfo=clock.JST)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def restrictions(session, make_project):
    """In 内牧 a weekday daytime restriction in force soon and a closure to come; by 阿蘇神社 a
    weekend one; one lifted and one past, which the page leaves out."""
    with time_machine.travel(MONDAY_MORNING, tick=False):
        road = make_project(
            name="内牧の市道", kind="road", status="construction",
            geometry=LineString([UCHINOMAKI, (UCHINOMAKI[0] + 0.003, UCHINOMAKI[1])]),
        )  # fmt: skip
        shrine = make_project(
            name="門前の市道", kind="road", status="construction",
            geometry=LineString([MIYAJI, (MIYAJI[0], MIYAJI[1] + 0.003)]),
        )  # fmt: skip
        made = {
            "weekdays": add_restriction(
                session, road, kind="alternating", starts_on=date(2028, 10, 1),
                ends_on=date(2028, 12, 28), days="weekdays", time_from="08:30",
                time_until="17:00", description="平日昼間の片側交互通行",
                detour=LineString([UCHINOMAKI, (UCHINOMAKI[0], UCHINOMAKI[1] + 0.002)]),
            ),
            "coming": add_restriction(
                session, road, kind="closed", starts_on=date(2028, 11, 10),
                ends_on=date(2028, 11, 12), description="三日間の通行止め",
            ),
            "weekends": add_restriction(
                session, shrine, kind="pedestrian", starts_on=date(2028, 10, 1),
                days="weekends", description="土日祝の歩行者通行止め",
            ),
            "past": add_restriction(
                session, shrine, kind="lane", starts_on=date(2028, 9, 1),
                ends_on=date(2028, 9, 30), description="終わった車線規制",
            ),
            "lifted": add_restriction(
                session, shrine, kind="closed", starts_on=date(2028, 10, 1),
                description="解除した通行止め",
            ),
        }  # fmt: skip
        end_restriction(session, made["lifted"])
    return made


@pytest.mark.time_machine(MONDAY_MORNING)
def test_the_list_holds_those_in_force_and_announced(client, restrictions):
    html = client.get("/restrictions").get_data(as_text=True)
    listed = html[html.index('id="h-list"') : html.index('id="h-timeline"')]
    for kept in ("平日昼間の片側交互通行", "三日間の通行止め", "土日祝の歩行者通行止め"):
        assert kept in listed
    assert "終わった車線規制" not in html and "解除した通行止め" not in html
    # 07:00 on a Monday: the weekday one starts at 8:30, the weekend one waits for Saturday.
    weekdays = text_of(listed[listed.index(f'data-restriction="{restrictions["weekdays"].id}"') :])
    assert weekdays.split("平日昼間")[0].count("いまは時間外") == 1
    assert "次は 11月6日（月）8:30から" in weekdays
    assert "次は 11月11日（土）0:00から" in text_of(listed)
    assert "3件（うち実施中 0件）" in text_of(html)


@pytest.mark.time_machine(MONDAY_MORNING)
def test_the_timeline_lays_each_on_its_days(client, restrictions):
    html = client.get("/restrictions").get_data(as_text=True)
    timeline = html[html.index('id="h-timeline"') :]
    days = timeline.split('<li class="timeline-day')[1:]
    assert len(days) == 14
    by_day = {re.search(r"\d+月\d+日（.）", d).group(0): text_of(d) for d in days}
    monday, saturday = by_day["11月6日（月）"], by_day["11月11日（土）"]
    assert "片側交互通行" in monday and "8:30〜17:00" in monday
    assert "歩行者通行止め" not in monday
    assert "歩行者通行止め" in saturday and "片側交互通行" not in saturday
    assert "通行止め 内牧の市道 · 終日" in by_day["11月10日（金）"]
    # 勤労感謝の日 (Thursday the 23rd) is outside the fortnight; the 17th is a plain Friday.
    assert "片側交互通行" in by_day["11月17日（金）"]
    assert "今日" in monday


@pytest.mark.time_machine(MONDAY_MORNING)
def test_kind_and_area_narrow_the_list(client, restrictions):
    only_closed = client.get("/restrictions?kind=closed").get_data(as_text=True)
    assert "三日間の通行止め" in only_closed and "平日昼間の片側交互通行" not in only_closed
    uchinomaki = client.get("/restrictions?area=d-uchinomaki").get_data(as_text=True)
    assert "平日昼間の片側交互通行" in uchinomaki
    assert "土日祝の歩行者通行止め" not in uchinomaki
    assert '<option value="d-uchinomaki" selected>' in uchinomaki
    refused = client.get("/restrictions?kind=boat")
    assert refused.status_code == 400
    assert "規制の種類は一覧から選んでください" in refused.get_data(as_text=True)
    assert client.get("/restrictions?area=d-atlantis").status_code == 400


@pytest.mark.time_machine(MONDAY_MORNING)
def test_the_page_speaks_english(client, restrictions):
    html = client.get("/restrictions?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Traffic restrictions" in html and "Mon 6 November" in html
    assert "next from Mon 6 November 8:30" in html


@pytest.mark.time_machine(MONDAY_MORNING + timedelta(hours=3))
def test_in_force_now_is_counted_and_marked(client, restrictions):
    html = client.get("/restrictions").get_data(as_text=True)
    assert "3件（うち実施中 1件）" in text_of(html)
    assert html.count("restriction-card--now") == 1


def test_the_near_page_links_to_it(client):
    html = client.get("/near").get_data(as_text=True)
    assert 'href="/restrictions"' in html
