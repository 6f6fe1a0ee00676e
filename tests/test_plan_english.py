"""The plan's items and indicators, and the app's own history notes, in the reader's language:
English pages say them in English, Japanese pages as the plan prints them."""

import json

import pytest
from playwright.sync_api import expect

from config import ROOT
from tests.conftest import local_only, watched_page
from tracker.plan.names import ENGLISH_NAMES, ENGLISH_TEXTS, plan_name, plan_text


def catalogue() -> dict:
    return json.loads((ROOT / "geodata" / "plan_catalogue.json").read_text(encoding="utf-8"))


def test_every_item_and_indicator_of_the_catalogue_has_an_english_name():
    data = catalogue()
    codes, texts = [], []
    for policy in data["policies"]:
        codes.append(policy["code"])
        texts.append(policy["title"])
        for measure in policy["measures"]:
            codes.append(measure["code"])
            codes += [
                f"{measure['code']}.i{n}" for n, _ in enumerate(measure.get("initiatives", []), 1)
            ]
            for n, item in enumerate(measure.get("shisaku", []), 1):
                codes.append(f"{measure['code']}.s{n}")
                texts += [item["content"], item["effect"], *item["activities"]]
            codes += [i["code"] for i in measure.get("indicators", [])]
    assert sorted(set(codes) - set(ENGLISH_NAMES)) == []
    assert sorted(set(texts) - set(ENGLISH_TEXTS)) == []
    # No English name is left in Japanese.
    assert all(name.isascii() or "–" in name for name in ENGLISH_NAMES.values())


def test_the_helper_names_in_the_language_asked_for_and_keeps_the_printed_name_otherwise():
    assert plan_name("m13_road_improved", "道路改良延長", "en") == "Roads improved (length)"
    assert plan_name("m13_road_improved", "道路改良延長", "ja") == "道路改良延長"
    assert plan_name("no-such-code", "新しい項目", "en") == "新しい項目"
    assert plan_text("橋梁補修", "en") == "Bridge repair"
    # Outside a request (a command's export) the plan's own language.
    assert plan_name("m13_road_improved", "道路改良延長") == "道路改良延長"


@pytest.mark.parametrize(
    "path, english, japanese",
    [
        ("/plan/indicators", "Roads improved (length)", "道路改良延長"),
        (
            "/plan/indicators/m13_bridges_repaired",
            "Longer life for road facilities",
            "道路施設等の長寿命化",
        ),
        ("/plan/indicators/m13_bridges_repaired", "○Bridge repair", "○橋梁補修"),
        (
            "/plan",
            "Restore and strengthen infrastructure (roads, rivers, bridges)",
            "社会インフラの復旧",
        ),
        ("/plan/coverage", "Stockpiles of emergency supplies", "備蓄環境の整備"),
        ("/plan?plan_item=p1.m2.i1", "Restore and strengthen infrastructure", "社会インフラの復旧"),
    ],
)
def test_plan_pages_name_items_and_indicators_in_english(
    client, make_project, path, english, japanese
):
    make_project(name="宮地橋 補修", plan_item_codes=["p1.m2.i1"], planned_cost=12_000_000)
    joiner = "&" if "?" in path else "?"
    html_en = client.get(f"{path}{joiner}lang=en").get_data(as_text=True)
    assert english in html_en
    # The indicator's page also quotes the plan's own table as printed, in Japanese.
    assert japanese not in html_en.split("h-source", 1)[0]
    html_ja = client.get(f"{path}{joiner}lang=ja").get_data(as_text=True)
    assert japanese in html_ja


def test_costs_by_plan_item_in_english(client, make_project):
    make_project(name="宮地橋 補修", plan_item_codes=["p1.m2.i1"], planned_cost=12_000_000)
    html = client.get("/plan/costs?lang=en").get_data(as_text=True)
    assert "Restore and strengthen infrastructure (roads, rivers, bridges)</span>" in html
    assert "社会インフラの復旧・機能強化" not in html


def test_project_page_names_its_plan_links_and_the_registered_note_in_english(
    client, make_project, make_user, login_as
):
    project = make_project(
        name="宮地橋 補修", plan_item_codes=["p1.m2.i1"], indicator_codes=["m13_bridges_repaired"]
    )
    login_as(make_user("staff"))
    html = client.get(f"/projects/{project.id}?lang=en").get_data(as_text=True)
    assert "Development › Restore and strengthen infrastructure" in html
    assert ">Bridges repaired</a>" in html
    assert '<p class="note">Registered</p>' in html
    html = client.get(f"/projects/{project.id}?lang=ja").get_data(as_text=True)
    assert "発展 › 社会インフラの復旧・機能強化（道路・河川・橋梁）" in html
    assert '<p class="note">登録</p>' in html


@pytest.mark.parametrize("width", [375, 1920])
def test_indicator_dashboard_in_english_in_chromium(live_server, browser, width):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-GB")
    context.route("**/*", local_only)
    page = watched_page(context)
    try:
        page.goto(live_server + "/plan/indicators?lang=en")
        table = page.locator(".indicator-table")
        for name in (
            "Bridges repaired",
            "Roads improved (length)",
            "Earthquake-proof private buildings (rate)",
        ):
            expect(table).to_contain_text(name)
        row_name = table.locator("tr[data-code='m13_road_improved'] th a")
        assert row_name.get_attribute("lang") == "en"
        expect(
            page.locator(".chart-card[data-code='m13_road_improved'] figcaption")
        ).to_contain_text("Roads improved (length)")
        assert "道路改良延長" not in page.locator("main").inner_text()
    finally:
        context.close()


def test_an_english_feed_links_to_the_works_pages_in_english(client, make_project):
    from xml.etree import ElementTree as ET

    from shapely.geometry import Point

    atom = "{http://www.w3.org/2005/Atom}"
    project = make_project(name="宮地橋 補修", geometry=Point(131.10, 32.901))
    for lang, suffix in (("en", "?lang=en"), ("ja", "")):
        answer = client.get(
            "/near/feed.atom",
            query_string={"lat": 32.90, "lon": 131.10, "radius": 1000, "lang": lang},
        )
        entry = ET.fromstring(answer.data).find(f"{atom}entry")
        href = entry.find(f"{atom}link").get("href")
        assert href.endswith(f"/projects/{project.id}{suffix}")
        # The entry's id stays the same address in every language.
        assert entry.find(f"{atom}id").text.split("#")[0].endswith(f"/projects/{project.id}")
