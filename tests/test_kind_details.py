"""A work's own fields of its kind (a bridge's number and span…): in the API, on the project
page and on the office form, checked by the same code as the phone's form."""

import pytest
from sqlalchemy import select

from tests.test_api_writes import feature
from tests.test_project_editing import edit_data, form_data
from tracker.accounts.operations import create_token
from tracker.projects.audit import ProjectChange
from tracker.projects.models import Project


@pytest.fixture
def staff_headers(session, make_user):
    return {"Authorization": f"Bearer {create_token(session, make_user(role='staff'))}"}


def test_the_api_takes_and_answers_a_works_own_fields(client, session, staff_headers):
    details = {"bridge_number": "B-12", "span_m": 35.5}
    created = client.post("/api/projects", json=feature(details=details), headers=staff_headers)
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.get_json()["properties"]["details"] == details
    url = created.headers["Location"]
    answer = client.get(url)
    assert answer.get_json()["properties"]["details"] == details
    etag = answer.headers["ETag"]

    for wrong in ({"bank": "left"}, {"span_m": -3}):
        refused = client.patch(
            url,
            json={"type": "Feature", "properties": {"details": wrong}},
            headers=staff_headers | {"If-Match": etag},
        )
        assert refused.status_code == 400
        assert refused.get_json()["field"] == "details"

    changed = client.patch(
        url,
        json={"type": "Feature", "properties": {"details": {"span_m": "40"}}},
        headers=staff_headers | {"If-Match": etag},
    )
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert changed.get_json()["properties"]["details"] == {"span_m": 40.0}


def test_the_office_form_records_and_edits_a_works_own_fields(client, session, make_user, login_as):
    login_as(make_user(role="staff"))
    page = client.get("/projects/new").get_data(as_text=True)
    assert 'name="detail-bridge-span_m"' in page and 'name="detail-revetment-bank"' in page

    refused = client.post("/projects/new", data=form_data(**{"detail-bridge-span_m": "長い"}))
    assert refused.status_code == 400
    assert "橋長（m） は0以上の数で入れてください" in refused.get_data(as_text=True)
    assert 'value="長い"' in refused.get_data(as_text=True)  # what was typed stays
    assert session.scalar(select(Project).where(Project.name == "坂梨橋 補修")) is None

    sent = form_data(**{"detail-bridge-bridge_number": "B-7", "detail-bridge-span_m": "22"})
    # Another kind's fields (hidden on the page) are not the bridge's.
    sent["detail-revetment-bank"] = "left"
    assert client.post("/projects/new", data=sent).status_code == 302
    project = session.scalar(select(Project).where(Project.name == "坂梨橋 補修"))
    assert project.details == {"bridge_number": "B-7", "span_m": 22.0}

    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert '<dt>橋梁番号</dt><dd class="kind-detail">B-7</dd>' in page
    english = client.get(f"/projects/{project.id}?lang=en").get_data(as_text=True)
    assert '<dt>Span (m)</dt><dd class="kind-detail">22</dd>' in english

    form = client.get(f"/projects/{project.id}/edit").get_data(as_text=True)
    assert 'name="detail-bridge-span_m" value="22"' in form
    data = edit_data(form) | {"detail-bridge-bridge_number": "B-7", "detail-bridge-span_m": "24.5"}
    assert client.post(f"/projects/{project.id}/edit", data=data).status_code == 302
    session.expire_all()
    assert project.details == {"bridge_number": "B-7", "span_m": 24.5}
    change = session.scalars(
        select(ProjectChange).where(
            ProjectChange.project_id == project.id, ProjectChange.action == "update"
        )
    ).one()
    assert set(change.changes) == {"details"}
