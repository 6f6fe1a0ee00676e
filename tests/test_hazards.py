"""Hazard zones: loading the published files, the overlay, the maps, /plan/hazards and /near."""

import csv
import io
import re

import pytest
from shapely.geometry import LineString, Point
from sqlalchemy import func, select

from tests.hazard_files import a31_zip, a33_zip, square
from tracker.core.errors import BadInput
from tracker.hazards.loading import load_hazard_file
from tracker.hazards.models import HazardLayer, HazardZone
from tracker.hazards.queries import shelters_in_zones, works_in_zones
from tracker.projects.queries import ProjectFilter

MIYAJI = (131.11879, 32.937)
# 一の宮農業構造改善センター, a designated shelter (GSI) loaded by the fixtures.
SHELTER = (131.125423, 32.937754)
SHELTER_NAME = "一の宮農業構造改善センター"
ELSEWHERE = (131.04441, 32.94212)


@pytest.fixture
def zones(session, tmp_path):
    """A steep-slope 警戒区域 round 宮地, a 土石流 特別警戒区域 beside it, a flood zone on the shelter."""
    sediment = a33_zip(
        tmp_path / "a33",
        [
            (square(*MIYAJI), 1, 1, "宮地の急傾斜地"),
            (square(MIYAJI[0] - 0.006, MIYAJI[1]), 2, 2, "宮地川"),
        ],
    )
    flood = a31_zip(tmp_path / "a31", [(square(*SHELTER, 0.001), 22)])
    load_hazard_file(session, sediment, "A33-23_43.zip", "sediment")
    load_hazard_file(session, flood, "A31-12_43.zip", "flood")
    session.flush()


def test_published_files_load_with_their_codes_named(session, zones):
    rows = session.execute(
        select(HazardZone.hazard, HazardZone.zone_class, HazardZone.name).order_by(HazardZone.id)
    ).all()
    assert [tuple(r) for r in rows] == [
        ("steep_slope", "土砂災害警戒区域", "宮地の急傾斜地"),
        ("debris_flow", "土砂災害特別警戒区域", "宮地川"),
        ("flood", "0.5〜3.0m", ""),
    ]
    assert session.get(HazardLayer, "sediment").zone_count == 2


def test_reimport_replaces_the_layer_and_a_bad_file_changes_nothing(session, zones, tmp_path):
    newer = a33_zip(tmp_path / "new", [(square(*ELSEWHERE), 3, 1, "内牧の地すべり")])
    load_hazard_file(session, newer, "A33-24_43.zip", "sediment")
    hazards = session.scalars(select(HazardZone.hazard).order_by(HazardZone.id)).all()
    assert hazards == ["flood", "landslide"]

    unknown = a33_zip(tmp_path / "bad", [(square(*MIYAJI), 9, 1, "不明")])
    with pytest.raises(BadInput, match="コード '9'"), session.begin_nested():
        load_hazard_file(session, unknown, "bad.zip", "sediment")
    assert session.scalars(select(HazardZone.name).where(HazardZone.layer == "sediment")).all() == [
        "内牧の地すべり"
    ]
    with pytest.raises(BadInput, match="zip"):
        load_hazard_file(session, newer[:200], "cut.zip", "sediment")


def test_overlay_matches_hand_computed_expectations(session, zones, make_project):
    inside = make_project(name="宮地の橋", kind="bridge", geometry=Point(*MIYAJI))
    crossing = make_project(
        name="宮地の市道",
        kind="road",
        status="construction",
        progress=20,
        geometry=LineString([MIYAJI, (MIYAJI[0] - 0.005, MIYAJI[1])]),
    )
    make_project(name="内牧の橋", kind="bridge", geometry=Point(*ELSEWHERE))
    private = make_project(
        name="宮地の非公開", kind="sabo", geometry=Point(*MIYAJI), is_public=False
    )

    found = works_in_zones(session, ProjectFilter())
    got = [(w.hazard, w.id, w.status, w.inside) for w in found]
    # The road runs 0.005° west from the point: out of the first square (0.002 each way)
    # and 0.001° into the 土石流 square (from 0.004 west): it crosses both. Designated
    # shelters are listed apart, not as works.
    assert got == [
        ("steep_slope", inside.id, "planned", True),
        ("steep_slope", crossing.id, "construction", False),
        ("debris_flow", crossing.id, "construction", False),
    ]
    seen = {w.id for w in works_in_zones(session, ProjectFilter(include_private=True))}
    assert private.id in seen

    shelters = shelters_in_zones(session)
    assert [(s.hazard, s.name, s.zone_classes) for s in shelters] == [
        ("flood", SHELTER_NAME, ["0.5〜3.0m"])
    ]


def test_hazard_page_and_export_follow_filters_and_as_of(client, session, zones, make_project):
    make_project(name="宮地の橋", kind="bridge", geometry=Point(*MIYAJI))
    page = client.get("/plan/hazards")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "宮地の橋" in text and SHELTER_NAME in text and "土砂災害（急傾斜地の崩壊）" in text
    assert "宮地の橋" not in client.get("/plan/hazards?kind=road").get_data(as_text=True)
    # The works are made now: on an earlier day they did not exist yet.
    assert "宮地の橋" not in client.get("/plan/hazards?as_of=2020-01-01").get_data(as_text=True)

    rows = list(csv.reader(io.StringIO(client.get("/plan/hazards.csv").data.decode("utf-8-sig"))))
    assert rows[0][:4] == ["災害の種類", "対象", "ID", "名称"]
    assert rows[1][:2] == ["土砂災害（急傾斜地の崩壊）", "事業"] and rows[1][3] == "宮地の橋"
    assert any(r[1] == "指定避難所" and r[3] == SHELTER_NAME for r in rows)


def test_each_hazard_is_a_layer_of_its_own(client, zones):
    body = client.get("/map/hazards/debris_flow.geojson").get_json()
    assert [f["properties"]["zone_class"] for f in body["features"]] == ["土砂災害特別警戒区域"]
    assert client.get("/map/hazards/volcano.geojson").status_code == 404
    page = client.get("/").get_data(as_text=True)
    assert re.search(r"/static/js/hazard_layers\.[0-9a-f]{12}\.js", page)
    assert "/map/hazards/flood.geojson" in page
    assert "/map/hazards/landslide.geojson" not in page  # nothing loaded for it


def test_near_says_when_the_place_or_nearest_shelter_is_in_a_zone(client, zones):
    page = client.get(f"/near?lat={MIYAJI[1]}&lon={MIYAJI[0]}").get_data(as_text=True)
    assert "選んだ場所は土砂災害（急傾斜地の崩壊）の区域（土砂災害警戒区域）の中にあります" in page
    near_shelter = client.get(f"/near?lat={SHELTER[1]}&lon={SHELTER[0] + 0.0005}")
    text = near_shelter.get_data(as_text=True)
    assert f"いちばん近い指定避難所「{SHELTER_NAME}」は洪水（浸水想定区域）の区域" in text
    assert "想定される浸水の深さ 0.5〜3.0m" in text
    far = client.get(f"/near?lat={ELSEWHERE[1]}&lon={ELSEWHERE[0]}").get_data(as_text=True)
    assert "の区域（" not in far


def test_admin_page_loads_a_layer(client, session, make_user, login_as, tmp_path):
    login_as(make_user(role="admin"))
    data = a31_zip(tmp_path, [(square(*SHELTER), 3)])
    response = client.post(
        "/admin/hazards",
        data={"layer": "flood", "file": (io.BytesIO(data), "A31.zip")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(HazardZone)) == 1
    bad = client.post(
        "/admin/hazards",
        data={"layer": "sediment", "file": (io.BytesIO(data), "A31.zip")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 400 and "A33_001" in bad.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(HazardZone)) == 1
