"""What a works register holds: cost, contract and contractor, spending, funding and the
responsible section; who sees them, the /plan totals, the exports and as_of."""

import csv
import io
import json
import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import update

from tracker.accounts.operations import create_token
from tracker.core.clock import JST
from tracker.core.errors import BadInput
from tracker.projects.audit import ProjectChange
from tracker.projects.operations import update_project
from tracker.projects.register import check_register, parse_amount
from tracker.words.formatting import yen, yen_short

CONTRACT = {
    "planned_cost": 52_000_000,
    "contract_amount": 48_510_000,
    "contractor": "阿蘇建設株式会社",
    "spent_amount": 12_000_000,
    "funding": "disaster_recovery",
    "responsible_section": "建設課 道路係",
}


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (48510000, 48510000),
        ("48,510,000", 48510000),
        ("４８，５１０，０００円", 48510000),
        (" 0 ", 0),
        ("", None),
        (None, None),
        (1200.0, 1200),
    ],
)
def test_amounts_are_read_as_whole_yen(raw, value):
    assert parse_amount(raw, "planned_cost") == value


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (-5, "マイナス"),
        ("-5,000", "マイナス"),
        ("1.5", "整数"),
        ("百万", "整数"),
        (True, "整数"),
        (1200.5, "整数"),
        (10**13, "大きすぎます"),
    ],
)
def test_negative_or_non_numbers_are_refused(raw, words):
    with pytest.raises(BadInput) as refused:
        parse_amount(raw, "contract_amount")
    assert str(refused.value).startswith("contract_amount: ") and words in str(refused.value)


def test_funding_must_be_one_of_the_sources():
    assert check_register({"funding": "city_own"}) == {"funding": "city_own"}
    with pytest.raises(BadInput, match="funding: "):
        check_register({"funding": "lottery"})


def test_yen_reads_with_separators_and_man_or_oku(app):
    with app.test_request_context():
        assert yen(48_510_000) == "48,510,000円"
        assert yen_short(48_510_000) == "4,851万円"
        assert yen_short(1_234_500_000) == "12.35億円"
        assert yen_short(9_800) == "9,800円"
        assert yen(None) == "—"
    with app.test_request_context("/?lang=en"):
        assert yen(48_510_000) == "¥48,510,000"
        assert yen_short(1_234_500_000) == "¥1.23 billion"


def test_the_public_sees_cost_and_contractor_of_public_works_only(
    client, make_project, make_user, login_as
):
    project = make_project(name="宮地橋 補修", **CONTRACT)
    anonymous = client.get(f"/api/projects/{project.id}").get_json()["properties"]
    assert anonymous["planned_cost"] == 52_000_000 and anonymous["contractor"] == "阿蘇建設株式会社"
    assert "spent_amount" not in anonymous and "funding" not in anonymous
    page = client.get(f"/projects/{project.id}").text
    assert "48,510,000円（4,851万円）" in page and "阿蘇建設株式会社" in page
    assert "12,000,000円" not in page and "建設課 道路係" not in page

    login_as(make_user("viewer"))
    internal = client.get(f"/api/projects/{project.id}").get_json()["properties"]
    assert internal["spent_amount"] == 12_000_000 and internal["funding"] == "disaster_recovery"
    page = client.get(f"/projects/{project.id}").text
    assert "12,000,000円" in page and "災害復旧事業（国庫負担）" in page and "建設課 道路係" in page
    listed = client.get("/api/projects").get_json()["features"][0]["properties"]
    assert listed["responsible_section"] == "建設課 道路係"


def test_the_api_writes_and_refuses_register_fields(client, session, make_user):
    headers = {"Authorization": f"Bearer {create_token(session, make_user('staff'))}"}
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [131.11879, 32.937]},
        "properties": {"name": "坂梨橋 補修", "kind": "bridge", "department": "建設課"} | CONTRACT,
    }
    created = client.post("/api/projects", json=feature, headers=headers)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["properties"]["contract_amount"] == 48_510_000
    for wrong, field in (
        ({"planned_cost": -1}, "planned_cost"),
        ({"spent_amount": "many"}, "spent_amount"),
        ({"funding": "lottery"}, "funding"),
    ):
        body = feature | {"properties": feature["properties"] | wrong}
        refused = client.post("/api/projects", json=body, headers=headers)
        assert refused.status_code == 400 and refused.get_json()["error"].startswith(f"{field}: ")


def test_the_edit_form_saves_amounts_and_refuses_a_negative_one(
    client, session, make_project, make_user, login_as
):
    project = make_project(name="内牧 護岸", kind="revetment")
    login_as(make_user("staff"))
    page = client.get(f"/projects/{project.id}/edit").text
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    loaded = re.search(r'name="loaded" type="hidden" value="([^"]*)"', page).group(1)
    geometry = json.dumps(
        {"type": "LineString", "coordinates": [[131.11879, 32.937], [131.12379, 32.938]]}
    )
    form = {
        "name": "内牧 護岸",
        "kind": "revetment",
        "department": "建設課",
        "geometry": geometry,
        "version": version,
        "loaded": loaded.replace("&#34;", '"'),
        "public": "y",
        "planned_start": "2022-04-01",
        "planned_end": "2023-03-31",
    }
    refused = client.post(
        f"/projects/{project.id}/edit", data=form | {"planned_cost": "-3,000,000"}
    )
    assert refused.status_code == 400 and "事業費：金額にマイナスは使えません" in refused.text
    saved = client.post(
        f"/projects/{project.id}/edit",
        data=form | {"planned_cost": "30,000,000", "contractor": "内牧土木", "funding": "city_own"},
    )
    assert saved.status_code == 302, saved.text
    session.refresh(project)
    assert (project.planned_cost, project.contractor, project.funding) == (
        30_000_000,
        "内牧土木",
        "city_own",
    )
    assert 'value="30,000,000"' in client.get(f"/projects/{project.id}/edit").text


def totals(html: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'data-total="(\w+)" data-yen="(\d+)"', html)}


def test_plan_totals_equal_the_sum_of_the_filtered_projects(
    client, make_project, make_user, login_as
):
    works = [
        make_project(name="橋A", kind="bridge", plan_item_codes=["p1.m2.i1"], **CONTRACT),
        make_project(
            name="橋B",
            kind="bridge",
            status="construction",
            progress=20,
            planned_cost=8_000_000,
            plan_item_codes=["p1.m2.i1", "p5.m13.s1"],
        ),
        make_project(name="砂防C", kind="sabo", planned_cost=150_000_000, contract_amount=1),
        make_project(name="職員のみ", kind="bridge", planned_cost=999, is_public=False),
    ]
    html = client.get("/plan?kind=bridge").text
    bridges = [w for w in works[:2]]
    assert totals(html) == {
        "planned_cost": sum(w.planned_cost or 0 for w in bridges),
        "contract_amount": sum(w.contract_amount or 0 for w in bridges),
    }
    assert "spent_amount" not in totals(html)  # spending is for staff and viewers

    # The filtered GeoJSON export carries the same amounts that the totals add up.
    exported = client.get("/plan/projects.geojson?kind=bridge").get_json()["features"]
    assert (
        sum(f["properties"]["planned_cost"] or 0 for f in exported) == totals(html)["planned_cost"]
    )

    everything = client.get("/plan").text
    assert totals(everything)["planned_cost"] == 52_000_000 + 8_000_000 + 150_000_000
    assert "2.1億円" in everything
    by_status = re.search(r'<tr data-group="construction">(.*?)</tr>', everything, re.S).group(1)
    assert 'data-yen="8000000"' in by_status
    # By kind and by plan item: on the breakdown page, for the same filter.
    breakdown = client.get("/plan/costs").text
    assert totals(breakdown) == totals(everything)
    by_kind = re.search(r'<tr data-group="bridge">(.*?)</tr>', breakdown, re.S).group(1)
    assert 'data-yen="60000000"' in by_kind
    by_item = re.search(r'<tr data-group="p1.m2.i1">(.*?)</tr>', breakdown, re.S).group(1)
    assert 'data-yen="60000000"' in by_item  # both bridges
    assert "/plan/costs" in everything

    login_as(make_user("viewer"))
    internal = totals(client.get("/plan?kind=bridge").text)
    assert internal["planned_cost"] == 52_000_000 + 8_000_000 + 999
    assert internal["spent_amount"] == 12_000_000


def test_exports_carry_the_register(client, make_project, make_user, login_as):
    make_project(name="宮地橋 補修", **CONTRACT)
    rows = list(csv.reader(io.StringIO(client.get("/plan/projects.csv").data.decode("utf-8-sig"))))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (row["事業費（円）"], row["契約額（円）"], row["施工業者"]) == (
        "52000000",
        "48510000",
        "阿蘇建設株式会社",
    )
    assert "執行額（円）" not in row and "財源" not in row
    login_as(make_user("staff"))
    rows = list(csv.reader(io.StringIO(client.get("/plan/projects.csv").data.decode("utf-8-sig"))))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (row["執行額（円）"], row["財源"], row["担当係"]) == (
        "12000000",
        "災害復旧事業（国庫負担）",
        "建設課 道路係",
    )


def test_as_of_reads_the_amounts_at_that_date_from_the_audit(
    client, session, make_project, make_user
):
    created = datetime(2024, 4, 10, 9, 0, tzinfo=JST)
    project = make_project(
        name="坂梨 砂防", kind="sabo", planned_cost=10_000_000, created_at=created
    )
    update_project(
        session,
        project,
        {"planned_cost": 14_000_000, "contract_amount": 13_200_000, "contractor": "坂梨建設"},
        expected_version=project.version,
        user=make_user("staff"),
    )
    # The edit happened on 2025-01-20.
    session.execute(
        update(ProjectChange)
        .where(ProjectChange.project_id == project.id, ProjectChange.action == "update")
        .values(recorded_at=datetime(2025, 1, 20, 3, 0, tzinfo=UTC))
    )
    session.flush()

    def on(day: str) -> dict:
        return totals(client.get(f"/plan?kind=sabo&as_of={day}").text)

    assert on("2024-12-31") == {"planned_cost": 10_000_000, "contract_amount": 0}
    assert on("2025-01-20") == {"planned_cost": 14_000_000, "contract_amount": 13_200_000}
    assert totals(client.get("/plan?kind=sabo").text)["planned_cost"] == 14_000_000
    old = client.get("/plan/projects.geojson?kind=sabo&as_of=2024-12-31").get_json()
    props = old["features"][0]["properties"]
    assert (props["planned_cost"], props["contractor"]) == (10_000_000, None)
    assert date(2024, 4, 10) <= date(2024, 12, 31)
