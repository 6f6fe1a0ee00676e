"""New works sent from the phone (/staff/works): made once per client_id, in the person's
own departments, inside the city, with a line that does not cross itself, with the fields
of their kind; and the works changed meanwhile (/staff/changes.json)."""

import json
import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select

from tracker.core import clock
from tracker.projects.models import Project

JSON = {"Accept": "application/json"}
LINE = {"type": "LineString", "coordinates": [[131.1188, 32.9370], [131.1190, 32.9380]]}


def work(**changes) -> dict:
    fields = {
        "client_id": str(uuid.uuid4()),
        "kind": "road",
        "name": "市道 崩落箇所",
        "department": "建設課",
        "geometry": json.dumps(LINE),
        "status": "planned",
        "progress": "0",
        "note": "現地で確認",
        "observed_at": (clock.now() - timedelta(hours=1)).isoformat(),
    }
    fields.update(changes)
    return fields


def count(session, name: str) -> int:
    return session.scalar(select(func.count()).select_from(Project).where(Project.name == name))


def test_a_work_sent_twice_is_made_once_with_its_time_on_site(client, session, login_as, make_user):
    login_as(make_user("staff"))
    sent = work(details=json.dumps({"route_name": "市道宮地線", "length_m": "45"}))
    first = client.post("/staff/works", data=sent)
    again = client.post("/staff/works", data=sent)
    assert first.status_code == 201 and again.status_code == 200
    assert first.json["project"]["id"] == again.json["project"]["id"]
    assert count(session, "市道 崩落箇所") == 1
    project = session.get(Project, first.json["project"]["id"])
    assert project.details == {"route_name": "市道宮地線", "length_m": 45.0}
    form = client.get(f"/staff/projects/{project.id}").get_data(as_text=True)
    assert "<dt>路線名</dt><dd>市道宮地線</dd>" in form
    assert "<dt>延長（m）</dt><dd>45</dd>" in form
    seen = [u for u in project.updates if u.note == "現地で確認"]
    assert len(seen) == 1
    assert seen[0].observed_at == datetime.fromisoformat(sent["observed_at"])


def test_staff_create_works_of_their_own_departments_only(client, session, login_as, make_user):
    login_as(make_user("staff"))
    response = client.post(
        "/staff/works", data=work(department="農林課", name="他課の事業"), headers=JSON
    )
    assert response.status_code == 403
    assert count(session, "他課の事業") == 0


def test_a_line_crossing_itself_or_outside_the_city_is_refused_with_the_reason(
    client, session, login_as, make_user
):
    login_as(make_user("staff"))
    bow = {
        "type": "LineString",
        "coordinates": [[131.11, 32.93], [131.12, 32.94], [131.12, 32.93], [131.11, 32.94]],
    }
    crossing = client.post("/staff/works", data=work(geometry=json.dumps(bow)), headers=JSON)
    assert crossing.status_code == 400
    assert crossing.json["code"] == "self_crossing"
    assert "交差" in crossing.json["error"]
    outside = {"type": "Point", "coordinates": [130.7079, 32.8032]}
    far = client.post(
        "/staff/works", data=work(kind="bridge", geometry=json.dumps(outside)), headers=JSON
    )
    assert far.status_code == 400
    assert "阿蘇市の区域" in far.json["error"]
    bad = client.post(
        "/staff/works", data=work(kind="bridge", details=json.dumps({"bank": "left"})), headers=JSON
    )
    assert bad.status_code == 400 and bad.json["field"] == "details"
    assert count(session, "市道 崩落箇所") == 0


def test_the_works_changed_since_a_time_inside_an_area(client, login_as, make_user, make_project):
    login_as(make_user("staff"))
    since = (clock.now() - timedelta(minutes=5)).isoformat()
    inside = make_project(name="範囲内の事業")
    answer = client.get(
        "/staff/changes.json", query_string={"since": since, "bbox": "130.9,32.8,131.3,33.1"}
    )
    assert [w["name"] for w in answer.json["works"]] == ["範囲内の事業"]
    assert answer.json["works"][0]["version"] == inside.version
    away = client.get(
        "/staff/changes.json", query_string={"since": since, "bbox": "130.0,32.0,130.1,32.1"}
    )
    assert away.json["works"] == []
