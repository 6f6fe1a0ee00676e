"""The time on site (observed_at), stale update forms and how history reads."""

import re
import secrets
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from tracker.accounts.access import hash_token
from tracker.accounts.models import ApiToken
from tracker.core import clock
from tracker.core.clock import JST
from tracker.core.errors import BadInput
from tracker.projects.history import StaleUpdate, StatusUpdate, append_status
from tracker.projects.queries import ProjectFilter, status_counts


def bearer(session, user) -> dict:
    """Give a user an API token and return the header that sends it."""
    token = secrets.token_urlsafe(24)
    session.add(ApiToken(user_id=user.id, token_hash=hash_token(token)))
    session.flush()
    return {"Authorization": f"Bearer {token}"}


def entries(session, project):
    """Return (status, progress, note) of a project's history in its order on site."""
    return session.execute(
        select(StatusUpdate.status, StatusUpdate.progress, StatusUpdate.note)
        .where(StatusUpdate.project_id == project.id)
        .order_by(StatusUpdate.observed_at, StatusUpdate.id)
    ).all()


def test_an_update_keeps_the_time_it_was_seen_on_site(client, session, make_project, make_user):
    project = make_project(created_at=clock.now() - timedelta(days=3))
    seen = (clock.now() - timedelta(hours=5)).astimezone(JST).replace(microsecond=0)
    response = client.post(
        f"/api/projects/{project.id}/updates",
        json={"status": "design", "progress": 10, "observed_at": seen.isoformat()},
        headers=bearer(session, make_user()),
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert datetime.fromisoformat(body["observed_at"]) == seen
    assert datetime.fromisoformat(body["recorded_at"]) > seen + timedelta(hours=4)
    listed = client.get(f"/api/projects/{project.id}/updates").json["updates"]
    assert datetime.fromisoformat(listed[-1]["observed_at"]) == seen


@pytest.mark.parametrize(
    ("observed_at", "words"),
    [
        (lambda: clock.now() + timedelta(minutes=15), "10分以上先"),
        (lambda: clock.now() - timedelta(days=31), "30日より前"),
        (lambda: "2026-11-29T10:42:00", "時差"),
        (lambda: "昨日の夕方", "2026-11-29T10:42:00+09:00 の形"),
    ],
)
def test_a_time_on_site_far_from_now_is_refused_with_a_reason(
    client, session, make_project, make_user, observed_at, words
):
    project = make_project(created_at=clock.now() - timedelta(days=60))
    value = observed_at()
    response = client.post(
        f"/api/projects/{project.id}/updates",
        json={
            "status": "design",
            "progress": 10,
            "observed_at": value if isinstance(value, str) else value.isoformat(),
        },
        headers=bearer(session, make_user()),
    )
    assert response.status_code == 400
    assert response.json["field"] == "observed_at"
    assert words in response.json["message"]
    assert not response.json["message"].startswith("observed_at")
    assert len(entries(session, project)) == 1


def test_five_minutes_ahead_is_a_phone_clock_and_is_taken(session, make_project, make_user):
    project = make_project()
    update = append_status(
        session,
        project.id,
        user=make_user(),
        status="design",
        progress=5,
        observed_at=clock.now() + timedelta(minutes=5),
    )
    assert update.observed_at > update.recorded_at


def test_status_at_a_date_reads_the_time_on_site(session, make_project, make_user):
    project = make_project(created_at=clock.now() - timedelta(days=10))
    yesterday = clock.now() - timedelta(days=1)
    append_status(
        session,
        project.id,
        user=make_user(),
        status="design",
        progress=20,
        observed_at=yesterday,
    )
    day_before = (yesterday - timedelta(days=1)).astimezone(JST).date()
    filt = ProjectFilter(include_private=True, ids=[project.id], as_of=day_before)
    assert status_counts(session, filt)["planned"] == 1
    filt.as_of = yesterday.astimezone(JST).date()
    assert status_counts(session, filt)["design"] == 1


def test_an_update_seen_before_the_latest_takes_its_place_and_the_latest_stays_current(
    session, make_project, make_user
):
    project = make_project(
        status="construction", progress=40, created_at=clock.now() - timedelta(days=5)
    )
    first = make_user(display_name="阿蘇")
    second = make_user(display_name="内牧")
    append_status(
        session,
        project.id,
        user=first,
        status="construction",
        progress=74,
        observed_at=clock.now() - timedelta(hours=1),
    )
    late = append_status(
        session,
        project.id,
        user=second,
        status="construction",
        progress=60,
        note="電波なしで記録",
        observed_at=clock.now() - timedelta(hours=3),
    )
    assert (project.status, project.progress) == ("construction", 74)
    assert late.previous_status == "construction" and late.previous_progress == 40
    assert [row.progress for row in entries(session, project)] == [40, 60, 74]

    # It may not change the status: the later record says what happened next.
    with pytest.raises(BadInput) as refused:
        append_status(
            session,
            project.id,
            user=second,
            status="suspended",
            progress=60,
            note="雨",
            observed_at=clock.now() - timedelta(hours=2),
        )
    assert str(refused.value).startswith("status: ")
    assert "後に別の記録" in str(refused.value)


def test_an_update_made_on_an_old_form_is_refused_saying_who_changed_what(
    client, session, make_project, make_user
):
    project = make_project(status="construction", progress=72)
    opened_at = project.version
    other = make_user(display_name="阿蘇 一郎")
    append_status(session, project.id, user=other, status="construction", progress=74)

    response = client.post(
        f"/api/projects/{project.id}/updates",
        json={"status": "construction", "progress": 73, "base_version": opened_at},
        headers=bearer(session, make_user()),
    )

    assert response.status_code == 409
    body = response.json
    assert re.fullmatch(r"阿蘇 一郎さんが \d\d:\d\d に 74% と記録しました", body["changes"][0])
    assert "阿蘇 一郎さんが" in body["message"] and "進捗を下げる" not in body["message"]
    assert body["current"]["progress"] == 74 and body["current"]["version"] == project.version
    assert {"code": "completed", "label": "完了"} in body["current"]["allowed"]
    assert [row.progress for row in entries(session, project)][-1] == 74

    # Made on the current version, it goes through.
    again = client.post(
        f"/api/projects/{project.id}/updates",
        json={"status": "construction", "progress": 76, "base_version": project.version},
        headers=bearer(session, make_user()),
    )
    assert again.status_code == 201, again.json
    session.refresh(project)
    assert again.json["project"]["version"] == project.version


def test_a_note_or_an_edit_by_someone_else_does_not_make_the_form_stale(
    session, make_project, make_user
):
    project = make_project(status="construction", progress=50)
    opened_at = project.version
    append_status(
        session, project.id, user=make_user(), status="construction", progress=50, note="確認"
    )
    update = append_status(
        session,
        project.id,
        user=make_user(),
        status="construction",
        progress=55,
        base_version=opened_at,
    )
    assert update.progress == 55


def test_the_form_without_javascript_shows_the_newer_values_when_stale(
    client, session, make_user, login_as, make_project
):
    project = make_project(status="construction", progress=72)
    opened_at = project.version
    append_status(
        session,
        project.id,
        user=make_user(display_name="阿蘇 一郎"),
        status="construction",
        progress=74,
    )
    login_as(make_user())
    page = client.post(
        f"/staff/projects/{project.id}",
        data={
            "status": "construction",
            "progress": "73",
            "note": "型枠を組みました",
            "base_version": str(opened_at),
        },
    )
    assert page.status_code == 409
    assert ">型枠を組みました</textarea>" in page.text
    assert "阿蘇 一郎さんが" in page.text and "74% と記録しました" in page.text
    assert 'id="now-progress">74%' in page.text
    # What the person typed stays in the form; the stored values are said beside it, and
    # the entry recorded meanwhile is in 「最近の記録」.
    assert 'required value="73">' in page.text
    assert '<span id="stale-current-values">工事中 74%</span>' in page.text
    recent = page.text[page.text.index('id="history"') :]
    assert "進捗 72% → 74%" in recent and "阿蘇 一郎" in recent
    assert f'name="base_version" id="base_version" value="{project.version}"' in page.text
    assert "進捗を下げるときは、理由をメモに" not in page.text


def test_history_says_progress_changes_and_status_changes_apart(
    client, session, make_user, login_as, make_project
):
    project = make_project(actual_start=date(2024, 4, 1))
    staff = make_user()
    append_status(session, project.id, user=staff, status="construction", progress=30)
    append_status(session, project.id, user=staff, status="construction", progress=40)
    append_status(session, project.id, user=staff, status="construction", progress=40, note="点検")

    page = client.get(f"/projects/{project.id}").text
    lines = re.findall(r'<span class="what">([^<]*)</span>', page)
    assert lines == ["未着手 0%", "未着手 → 工事中 30%", "進捗 30% → 40%", "工事中 40%"]
    assert "工事中 → 工事中" not in page
    assert '<table class="history"' not in page

    login_as(staff)
    form = client.get(f"/staff/projects/{project.id}").text
    assert "進捗 30% → 40%" in form and "工事中 → 工事中" not in form


def test_a_late_arrival_shows_when_it_reached_the_server_to_staff(
    client, session, make_user, login_as, make_project
):
    project = make_project(created_at=clock.now() - timedelta(days=2))
    staff = make_user()
    seen = clock.now() - timedelta(hours=6)
    append_status(session, project.id, user=staff, status="design", progress=5, observed_at=seen)
    login_as(staff)
    page = client.get(f"/projects/{project.id}").text
    assert seen.astimezone(JST).strftime("%Y-%m-%d %H:%M") in page
    assert "（受信 " in page
    anonymous = client.application.test_client().get(f"/projects/{project.id}").text
    assert "受信" not in anonymous


def test_the_stale_refusal_is_a_bad_input_for_every_other_caller(session, make_project, make_user):
    project = make_project(status="construction", progress=10)
    opened_at = project.version
    append_status(session, project.id, user=make_user(), status="construction", progress=20)
    with pytest.raises(StaleUpdate) as stale:
        append_status(
            session,
            project.id,
            user=make_user(),
            status="construction",
            progress=30,
            base_version=opened_at,
        )
    assert isinstance(stale.value, BadInput)
    assert stale.value.changes[-1].values == {"progress": 20}
