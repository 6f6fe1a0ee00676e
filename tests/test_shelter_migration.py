"""From the schema before shelters were facilities (revision ops1), holding the 38 GSI
shelters as the old loader made them (completed 'shelter' projects), to facilities that
no count of works includes; and back down and up again."""

import csv
import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.orm import Session

from config import ROOT
from tracker import create_app
from tracker.core import migrate
from tracker.core.dbadmin import recreate_database
from tracker.wiring.loaders import load_city, load_facilities, load_plan_catalogue

GEODATA = ROOT / "geodata"
PREVIOUS_HEAD = "ops1"
LOADED_AT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
PORTAL_SENTENCE = "。位置は県の防災情報ポータルと一致しないため現地確認が必要。"

OLD_PROJECT = text(
    """
    INSERT INTO projects (name, kind, status, progress, department, description, address,
                          gsi_common_id, is_sample, geom, created_at, updated_at,
                          actual_start, planned_start)
    VALUES (:name, :kind, :status, :progress, :department, :description, :address,
            :gsi, false, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :at, :at,
            :actual_start, :planned_start)
    RETURNING id
    """
)
OLD_ENTRY = text(
    """
    INSERT INTO status_updates (project_id, recorded_at, previous_status, status, progress,
                                note, author_id)
    VALUES (:id, :at, :previous, :status, :progress, :note, :author)
    """
)
OLD_AUDIT = text(
    """
    INSERT INTO project_changes (project_id, user_id, recorded_at, action, version, changes)
    VALUES (:id, :user, :at, :action, 1, CAST(:changes AS jsonb))
    """
)
OLD_LINK = text(
    """
    INSERT INTO project_plan_items (project_id, plan_item_id)
    SELECT :id, id FROM plan_items WHERE code = :code
    """
)


def shelter_rows() -> list[dict]:
    with (GEODATA / "aso_shelters_gsi.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def fill_previous_schema(conn) -> dict:
    """Write what the old loader and some staff work left in the ops1 schema."""
    ids = {}
    for row in shelter_rows():
        description = "指定避難所（出典：国土地理院（指定緊急避難場所・指定避難所データ））"
        if row["note"]:
            description += PORTAL_SENTENCE
        project_id = conn.scalar(
            OLD_PROJECT,
            {
                "name": row["name"],
                "kind": "shelter",
                "status": "completed",
                "progress": 100,
                "department": "防災情報室",
                "description": description,
                "address": row["address"],
                "gsi": row["gsi_common_id"],
                "lon": float(row["lon"]),
                "lat": float(row["lat"]),
                "at": LOADED_AT,
                "actual_start": None,
                "planned_start": None,
            },
        )
        conn.execute(
            OLD_ENTRY,
            {
                "id": project_id,
                "at": LOADED_AT,
                "previous": None,
                "status": "completed",
                "progress": 100,
                "note": "登録",
                "author": None,
            },
        )
        conn.execute(
            OLD_AUDIT,
            {
                "id": project_id,
                "user": None,
                "at": LOADED_AT,
                "action": "create",
                "changes": json.dumps({"name": {"old": None, "new": row["name"]}}),
            },
        )
        conn.execute(OLD_LINK, {"id": project_id, "code": "p1.m1.i5"})
        ids[row["gsi_common_id"]] = project_id

    # Someone recorded real work on one shelter: the gym's seismic retrofit began.
    staff = conn.scalar(
        text(
            "INSERT INTO users (login, role, password_hash) VALUES ('genba', 'staff', '!') "
            "RETURNING id"
        )
    )
    gym = ids["E4321400003111"]
    conn.execute(
        OLD_ENTRY,
        {
            "id": gym,
            "at": LOADED_AT + timedelta(days=2),
            "previous": "completed",
            "status": "construction",
            "progress": 20,
            "note": "体育館の耐震補強に着手",
            "author": staff,
        },
    )
    conn.execute(
        text("UPDATE projects SET status = 'construction', progress = 20 WHERE id = :id"),
        {"id": gym},
    )

    # And one ordinary work, which stays as it is.
    bridge = conn.scalar(
        OLD_PROJECT,
        {
            "name": "宮地橋 補修",
            "kind": "bridge",
            "status": "construction",
            "progress": 40,
            "department": "建設課",
            "description": "",
            "address": None,
            "gsi": None,
            "lon": 131.11879,
            "lat": 32.937,
            "at": LOADED_AT - timedelta(days=30),
            "actual_start": date(2026, 10, 1),
            "planned_start": date(2026, 10, 1),
        },
    )
    for at, previous, status, progress, note in (
        (LOADED_AT - timedelta(days=30), None, "planned", 0, "登録"),
        (LOADED_AT - timedelta(days=20), "planned", "construction", 40, ""),
    ):
        conn.execute(
            OLD_ENTRY,
            {
                "id": bridge,
                "at": at,
                "previous": previous,
                "status": status,
                "progress": progress,
                "note": note,
                "author": None,
            },
        )
    conn.execute(OLD_LINK, {"id": bridge, "code": "p1.m2.i1"})
    return {"gym": gym, "bridge": bridge, "shelters": ids}


@pytest.fixture(scope="module")
def migrated(database_url):
    """A database at revision ops1 with the old shelter rows, then migrated to the head."""
    base, _, name = database_url.rpartition("/")
    url = f"{base}/{name}_shelters"
    recreate_database(url)
    migrate.upgrade(url, PREVIOUS_HEAD)
    engine = create_engine(url)
    with Session(engine) as session:
        load_plan_catalogue(session, GEODATA / "plan_catalogue.json")
        load_city(session, GEODATA)
        session.commit()
    with engine.begin() as conn:
        before = fill_previous_schema(conn)
        before["completed"] = conn.scalar(
            text("SELECT count(*) FROM projects WHERE status = 'completed'")
        )
    migrate.upgrade(url)
    yield url, engine, before
    engine.dispose()


def counts(html: str) -> dict[str, int]:
    found = re.findall(r'data-status="(\w+)">([\d,]+)<', html)
    return {status: int(n.replace(",", "")) for status, n in found}


def test_the_38_shelter_rows_become_facilities_with_their_history_kept(migrated):
    url, engine, before = migrated
    assert before["completed"] == 37  # the 38 loaded shelters, one reopened by its retrofit
    with engine.connect() as conn:
        facilities = conn.execute(
            text("SELECT gsi_common_id, name, address, designations, position_note FROM facilities")
        ).all()
        assert len(facilities) == 38
        by_id = {row.gsi_common_id: row for row in facilities}
        for row in shelter_rows():
            facility = by_id[row["gsi_common_id"]]
            assert (facility.name, facility.address) == (row["name"], row["address"])
            assert facility.designations == ["shelter"]
            assert facility.position_note == row["note"]

        history = (
            conn.execute(
                text(
                    "SELECT changes->'moved_from_project' FROM facility_changes "
                    "WHERE action = 'create' ORDER BY id"
                )
            )
            .scalars()
            .all()
        )
        assert len(history) == 38
        assert all(h["history"][0]["note"] == "登録" for h in history)
        assert {h["id"] for h in history} == set(before["shelters"].values())

        # The works left are the bridge and the retrofit someone recorded on the gym, which
        # now links to its facility.
        projects = conn.execute(text("SELECT id, kind, facility_id FROM projects")).all()
        assert {p.id for p in projects} == {before["bridge"], before["gym"]}
        gym = next(p for p in projects if p.id == before["gym"])
        assert gym.facility_id == conn.scalar(
            text("SELECT id FROM facilities WHERE gsi_common_id = 'E4321400003111'")
        )
        assert conn.scalar(text("SELECT count(*) FROM status_updates")) == 2 + 2
    columns = {c["name"] for c in inspect(engine).get_columns("projects")}
    assert "gsi_common_id" not in columns and "facility_id" in columns


def test_the_shelters_leave_every_count_of_works(migrated):
    url, engine, before = migrated
    app = create_app({"DATABASE_URL": url, "TESTING": True})
    client = app.test_client()
    html = client.get("/plan").text
    assert counts(html) == {
        "planned": 0,
        "design": 0,
        "construction": 2,
        "completed": 0,
        "suspended": 0,
    }
    assert "事業一覧" in html and "荻の草公民館" not in html
    assert counts(client.get("/plan?as_of=2026-11-25").text)["completed"] == 0
    coverage = client.get("/plan/coverage").text
    row = coverage.split('<tr data-code="p1.m1.i5"')[1].split("</tr>")[0]
    assert '<td class="num total">1</td>' in row  # the retrofit, not 39

    # Of the 38 registrations, only the gym's is left: it stays a work, with its history.
    changes = client.get("/plan/changes?since=2026-11-01").text
    assert re.findall(r'<tr data-category="(\w+)">', changes) == ["status", "new"]
    assert "一の宮中学校体育館" in changes and "一の宮農業構造改善センター" not in changes

    # The feed around 一の宮, where several shelters stand: the two works, no shelter.
    feed = client.get("/near/feed.atom?lat=32.9508&lon=131.1233&radius=3000").text
    titles = re.findall(r"<title>新しい事業: ([^（]+)（", feed)
    assert sorted(titles) == ["一の宮中学校体育館", "宮地橋 補修"]
    assert "完了 → 工事中" in feed
    others = [r["name"] for r in shelter_rows() if r["gsi_common_id"] != "E4321400003111"]
    assert not [name for name in others if name in feed]

    geojson = client.get("/plan/projects.geojson").get_json()
    assert {f["id"] for f in geojson["features"]} == {before["bridge"], before["gym"]}
    indicators = client.get("/api/indicators").get_json()
    assert all(not i["project_ids"] for i in indicators["indicators"])
    assert len(client.get("/map/facilities.geojson").get_json()["features"]) == 38

    # /near still shows the nearest shelters, now as facilities.
    near = client.get("/near?lat=32.9508&lon=131.1233&radius=1000").text
    assert near.count('class="shelter"') == 3 and "/facilities/" in near
    app.extensions["db_engine"].dispose()


def test_the_loader_finds_the_moved_facilities_up_to_date(migrated):
    url, engine, before = migrated
    with Session(engine) as session:
        message = load_facilities(session, GEODATA / "aso_shelters_gsi.csv")
        session.rollback()
    assert message == "facilities: up to date (38)"


def test_the_migrations_go_down_to_the_previous_schema_and_up_again(migrated):
    url, engine, before = migrated
    engine.dispose()
    migrate.downgrade(url, PREVIOUS_HEAD)
    columns = {c["name"] for c in inspect(engine).get_columns("projects")}
    assert "gsi_common_id" in columns and "facility_id" not in columns
    assert "facilities" not in inspect(engine).get_table_names()
    migrate.upgrade(url)
    engine.dispose()
    assert "facilities" in inspect(engine).get_table_names()
