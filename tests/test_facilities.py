"""Designated shelters as facilities: loaded and kept current from the GSI file, their own
map layer and page, and the works done on them."""

import csv

import pytest
from shapely.geometry import Point
from sqlalchemy import func, select

from config import ROOT
from tracker.accounts.operations import create_token
from tracker.core.errors import BadInput
from tracker.facilities.models import Facility, FacilityChange
from tracker.facilities.operations import FacilityRecord, sync_facilities
from tracker.wiring.loaders import load_facilities

GEODATA = ROOT / "geodata"
GYM = "E4321400003111"  # 一の宮中学校体育館


def facility(session, code: str = GYM) -> Facility:
    return session.scalars(select(Facility).where(Facility.gsi_common_id == code)).one()


def edited_copy(tmp_path, edit) -> str:
    """Copy the GSI shelters file with optional columns, letting `edit` change the rows."""
    with (GEODATA / "aso_shelters_gsi.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    rows = edit(rows)
    path = tmp_path / "shelters.csv"
    fields = ["gsi_common_id", "name", "address", "lat", "lon", "note", "hazards", "capacity"]
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_loading_again_changes_nothing(session):
    assert load_facilities(session, GEODATA / "aso_shelters_gsi.csv") == (
        "facilities: up to date (38)"
    )
    assert session.scalar(select(func.count()).select_from(FacilityChange)) == 38


def test_running_the_loader_again_keeps_the_facilities_current(session, tmp_path):
    def edit(rows):
        gym = next(r for r in rows if r["gsi_common_id"] == GYM)
        gym["name"] = "一の宮中学校 体育館（新）"
        gym["hazards"] = "earthquake flood"
        gym["capacity"] = "350"
        rows = [r for r in rows if r["gsi_common_id"] != "E4321400001111"]  # 荻の草公民館
        rows.append(
            {
                "gsi_common_id": "E4321499999111",
                "name": "新しい避難所",
                "address": "熊本県阿蘇市内牧1",
                "lat": "32.94212",
                "lon": "131.04441",
                "note": "",
            }
        )
        return rows

    message = load_facilities(session, edited_copy(tmp_path, edit))
    assert message == "facilities: 1 added, 1 changed, 1 withdrawn, 36 unchanged"
    gym = facility(session)
    assert gym.name == "一の宮中学校 体育館（新）"
    assert gym.hazards == ["earthquake", "flood"] and gym.capacity == 350
    assert facility(session, "E4321400001111").withdrawn_at is not None
    assert facility(session, "E4321499999111").name == "新しい避難所"
    change = session.scalars(
        select(FacilityChange).where(
            FacilityChange.facility_id == gym.id, FacilityChange.action == "update"
        )
    ).one()
    assert change.changes["name"] == {
        "old": "一の宮中学校体育館",
        "new": "一の宮中学校 体育館（新）",
    }
    assert change.changes["capacity"] == {"old": None, "new": 350}

    # The original file again: the withdrawn one comes back, the new one is withdrawn.
    assert load_facilities(session, GEODATA / "aso_shelters_gsi.csv") == (
        "facilities: 0 added, 2 changed, 1 withdrawn, 36 unchanged"
    )
    assert facility(session, "E4321400001111").withdrawn_at is None


@pytest.mark.parametrize(
    ("record", "field"),
    [
        (FacilityRecord("", "名前", None, 131.1, 32.94), "gsi_common_id"),
        (FacilityRecord("E1", " ", None, 131.1, 32.94), "name"),
        (FacilityRecord("E1", "名前", None, 131.1, 32.94, designations=("camp",)), "designations"),
        (FacilityRecord("E1", "名前", None, 131.1, 32.94, hazards=("meteor",)), "hazards"),
        (FacilityRecord("E1", "名前", None, 131.1, 32.94, capacity=0), "capacity"),
        (FacilityRecord("E1", "名前", None, 130.5, 32.5), "geometry"),
    ],
)
def test_a_wrong_record_is_refused_and_nothing_changes(session, record, field):
    before = session.scalar(select(func.count()).select_from(FacilityChange))
    with pytest.raises(BadInput) as refused:
        sync_facilities(session, [record], source="test")
    assert field in str(refused.value) or field == "geometry"
    assert session.scalar(select(func.count()).select_from(FacilityChange)) == before


def test_an_empty_file_withdraws_nothing(session, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("gsi_common_id,name,address,lat,lon,note\n", encoding="utf-8")
    with pytest.raises(BadInput, match="lists none"):
        load_facilities(session, path)
    assert session.scalar(select(func.count()).where(Facility.withdrawn_at.is_not(None))) == 0


def test_the_map_layer_has_every_shelter_named_in_the_readers_language(client):
    body = client.get("/map/facilities.geojson").get_json()
    assert len(body["features"]) == 38
    props = next(
        f["properties"] for f in body["features"] if f["properties"]["gsi_common_id"] == GYM
    )
    assert props["name"] == "一の宮中学校体育館" and props["designation_labels"] == ["指定避難所"]
    english = client.get("/map/facilities.geojson?lang=en").get_json()
    assert english["features"][0]["properties"]["designation_labels"] == ["Designated shelter"]


def test_a_work_on_a_shelter_links_to_it_and_its_page_lists_the_works(
    client, session, make_project, make_user, login_as
):
    gym = facility(session)
    retrofit = make_project(
        name="一の宮中学校体育館 耐震補強",
        kind="seismic",
        geometry=Point(131.123373, 32.950866),
        facility_id=gym.id,
    )
    private = make_project(
        name="体育館 倉庫 新設（検討中）",
        kind="shelter",
        geometry=Point(131.123373, 32.950866),
        facility_id=gym.id,
        is_public=False,
    )
    page = client.get(f"/facilities/{gym.id}").text
    assert "一の宮中学校体育館" in page and "指定避難所" in page and GYM in page
    assert "データに記載がありません" in page  # no hazards or capacity in the GSI file
    assert retrofit.name in page and private.name not in page
    assert f'/facilities/{gym.id}"' in client.get(f"/projects/{retrofit.id}").text

    login_as(make_user("viewer"))
    assert private.name in client.get(f"/facilities/{gym.id}").text
    assert client.get("/facilities/999999").status_code == 404


def test_the_api_links_a_work_to_a_facility_and_refuses_an_unknown_one(client, session, make_user):
    gym = facility(session)
    staff = make_user("staff", departments=["教育課"])  # the department of the work below
    headers = {"Authorization": f"Bearer {create_token(session, staff)}"}
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [131.123373, 32.950866]},
        "properties": {
            "name": "体育館 照明更新",
            "kind": "seismic",
            "department": "教育課",
            "facility_id": gym.id,
        },
    }
    created = client.post("/api/projects", json=feature, headers=headers)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["properties"]["facility_id"] == gym.id
    feature["properties"]["facility_id"] = 999999
    refused = client.post("/api/projects", json=feature, headers=headers)
    assert refused.status_code == 400 and refused.get_json()["error"].startswith("facility_id: ")


def test_the_edit_form_offers_the_facilities(client, make_user, login_as):
    login_as(make_user("staff"))
    page = client.get("/projects/new").text
    assert 'id="facility_id"' in page and ">一の宮中学校体育館<" in page


def test_near_lists_the_nearest_shelters_as_facilities(client, session):
    page = client.get("/near?lat=32.9508&lon=131.1233&radius=500").text
    assert page.count('class="shelter"') == 3
    assert f'/facilities/{facility(session).id}"' in page


def test_sample_works_on_shelters_link_to_their_facility(session):
    from tracker.projects.models import Project
    from tracker.wiring.loaders import load_sample_projects

    load_sample_projects(session, GEODATA / "sample_projects.geojson")
    linked = session.execute(
        select(Project.name, Facility.name).join(Facility, Project.facility_id == Facility.id)
    ).all()
    assert len(linked) == 13
    assert ("一の宮体育館 備蓄倉庫整備", "一の宮体育館") in linked
