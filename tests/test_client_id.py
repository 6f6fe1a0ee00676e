"""A client_id names one update: sent again with the same update it answers the stored one
(a retry after a lost answer), sent with another update it is refused (409
`client_id_reused`) with the update it recorded, and nothing more is stored."""

import io
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.test_photos import encoded
from tests.test_updates import bearer
from tracker.core import clock
from tracker.projects.history import StatusUpdate


def updates_of(session, project) -> int:
    return session.scalar(
        select(func.count()).select_from(StatusUpdate).where(StatusUpdate.project_id == project.id)
    )


@pytest.fixture
def first_send(client, session, make_project, make_user):
    """Record one update with a client_id; return (project, headers, its payload, its answer)."""
    project = make_project()
    headers = bearer(session, make_user("staff"))
    payload = {
        "status": "design",
        "progress": 20,
        "note": "測量を開始",
        "client_id": str(uuid.uuid4()),
        "observed_at": (clock.now() + timedelta(minutes=1)).isoformat(),
        "position": {"lat": 32.9371, "lon": 131.1189},
    }
    answer = client.post(f"/api/projects/{project.id}/updates", json=payload, headers=headers)
    assert answer.status_code == 201, answer.json
    return project, headers, payload, answer.json


def test_the_same_update_sent_again_answers_the_stored_one(client, session, first_send):
    project, headers, payload, first = first_send
    # A retry of a sender that holds the update: same fields, base_version moved on since.
    again = client.post(
        f"/api/projects/{project.id}/updates", json=payload | {"base_version": 1}, headers=headers
    )
    assert again.status_code == 201, again.json
    assert again.json == first
    assert updates_of(session, project) == 2  # registration + the one update


@pytest.mark.parametrize(
    "change",
    [
        {"status": "construction"},
        {"progress": 25},
        {"note": "測量を完了"},
        {"note": ""},
        {"position": {"lat": 32.95, "lon": 131.1189}},
        {"position": None},
        {"observed_at": (clock.now() + timedelta(minutes=2)).isoformat()},
    ],
    ids=["status", "progress", "note", "no-note", "position", "no-position", "observed_at"],
)
def test_another_update_under_the_same_client_id_is_refused_with_the_stored_one(
    client, session, first_send, change
):
    project, headers, payload, first = first_send
    refused = client.post(
        f"/api/projects/{project.id}/updates", json=payload | change, headers=headers
    )
    assert refused.status_code == 409, refused.json
    body = refused.json
    assert (body["code"], body["field"]) == ("client_id_reused", "client_id")
    assert "別の内容の更新ですでに使われています" in body["message"]
    assert body["update"] == {key: first[key] for key in body["update"]}
    assert body["update"]["id"] == first["id"] and body["update"]["note"] == "測量を開始"
    assert updates_of(session, project) == 2


def test_the_refusal_is_in_english_for_english_readers(client, first_send):
    project, headers, payload, _first = first_send
    refused = client.post(
        f"/api/projects/{project.id}/updates?lang=en",
        json=payload | {"progress": 30},
        headers=headers,
    )
    assert refused.status_code == 409
    assert refused.json["message"].startswith("This client_id was already used for another update")


def test_a_resend_without_its_time_on_site_is_the_same_update(client, session, first_send):
    # observed_at left out: the server would take the time of arrival, which cannot match.
    project, headers, payload, first = first_send
    resend = {k: v for k, v in payload.items() if k != "observed_at"}
    again = client.post(f"/api/projects/{project.id}/updates", json=resend, headers=headers)
    assert again.status_code == 201
    assert again.json["id"] == first["id"]


def post_form(client, project, headers, client_id, photos):
    return client.post(
        f"/api/projects/{project.id}/updates",
        data={
            "status": "construction",
            "progress": "30",
            "note": "写真付き",
            "client_id": client_id,
            "photos": [(io.BytesIO(encoded("PNG")), f"p{i}.png") for i in range(photos)],
        },
        headers=headers,
        content_type="multipart/form-data",
    )


def test_photos_count_in_the_same_update(client, session, make_project, make_user):
    project = make_project()
    headers = bearer(session, make_user("staff"))
    client_id = str(uuid.uuid4())

    first = post_form(client, project, headers, client_id, photos=2)
    assert first.status_code == 201, first.json
    again = post_form(client, project, headers, client_id, photos=2)
    assert again.status_code == 201 and again.json == first.json

    fewer = post_form(client, project, headers, client_id, photos=1)
    assert fewer.status_code == 409
    assert fewer.json["code"] == "client_id_reused"
    assert len(fewer.json["update"]["photos"]) == 2
    assert updates_of(session, project) == 2


def test_the_form_without_javascript_says_so_too(
    client, session, make_project, make_user, login_as
):
    project = make_project()
    login_as(make_user("staff"))
    client_id = str(uuid.uuid4())
    form = {"status": "design", "progress": "10", "client_id": client_id}
    url = f"/staff/projects/{project.id}"
    assert client.post(url, data=form).status_code == 303

    refused = client.post(url, data=form | {"progress": "15"})
    assert refused.status_code == 409
    assert "別の内容の更新ですでに使われています" in refused.text
    assert updates_of(session, project) == 2
