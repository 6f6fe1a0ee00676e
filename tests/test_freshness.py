"""What a crowd reads (/near, the feed, /api/restrictions, a work's page) is cacheable by a
proxy: public max-age, an ETag of the data version, and 304 for a client holding the current
copy; the app keeps an answer for anyone itself, made once per data version."""

import re

import pytest
from shapely.geometry import Point
from sqlalchemy import event

from tracker.accounts.operations import create_token

NEAR = "/near?lat=32.9&lon=131.1&radius=1000"
FEED = "/near/feed.atom?lat=32.9&lon=131.1&radius=1000"
RESTRICTIONS = "/api/restrictions"


@pytest.mark.parametrize("url", [NEAR, FEED, RESTRICTIONS])
def test_anonymous_answers_are_public_with_a_version_etag(client, url):
    first = client.get(url)

    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "public, max-age=60"
    etag = first.headers["ETag"]
    assert etag.startswith('W/"d')
    assert "Cookie" in first.headers["Vary"]

    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag
    # The kept page's own policy (with its nonce) stands: a 304 brings no new one.
    assert "Content-Security-Policy" not in again.headers


@pytest.mark.parametrize("url", [NEAR, FEED, RESTRICTIONS])
def test_a_change_to_the_works_changes_the_etag(client, make_project, url):
    etag = client.get(url).headers["ETag"]

    make_project(name="新しい橋", geometry=Point(131.1, 32.9005))

    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag


def test_other_places_and_languages_have_other_etags(client):
    here = client.get(NEAR).headers["ETag"]
    assert client.get(NEAR.replace("1000", "500")).headers["ETag"] != here
    assert client.get(NEAR + "&lang=en").headers["ETag"] != here


def test_signed_in_answers_are_private(client, make_user, login_as):
    login_as(make_user("staff"))

    answer = client.get(RESTRICTIONS)

    # Kept by nobody (the sign-in's own rule is stricter still than "private").
    assert "public" not in answer.headers["Cache-Control"]
    anonymous_etag = client.application.test_client().get(RESTRICTIONS).headers["ETag"]
    assert answer.headers["ETag"] != anonymous_etag


def test_refused_requests_are_not_kept(client):
    answer = client.get("/near/feed.atom?lat=x&lon=131&radius=100")

    assert answer.status_code == 400
    assert "ETag" not in answer.headers
    assert "public" not in answer.headers.get("Cache-Control", "")


def _reads_while(connection, ask):
    """Return what `ask` returns and the reads it made on the test's connection."""
    reads = []

    def note(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            reads.append(statement)

    event.listen(connection, "before_cursor_execute", note)
    try:
        return ask(), reads
    finally:
        event.remove(connection, "before_cursor_execute", note)


@pytest.mark.parametrize("url", [NEAR, FEED, RESTRICTIONS])
def test_an_answer_for_anyone_is_made_once_per_data_version(client, connection, make_project, url):
    first = client.get(url)

    again, reads = _reads_while(connection, lambda: client.get(url))
    assert again.status_code == 200 and again.data == first.data
    # Only the data version is read: the view did not run again.
    assert len(reads) == 1 and "data_version" in reads[0]

    make_project(name="新しい橋", geometry=Point(131.1, 32.9005))
    changed, reads = _reads_while(connection, lambda: client.get(url))
    assert changed.status_code == 200 and len(reads) > 1
    if url == NEAR:
        assert "新しい橋" in changed.get_data(as_text=True)


def test_a_kept_page_is_sent_with_the_policy_of_its_own_nonce(client):
    first = client.get(NEAR)
    again = client.get(NEAR)

    nonce = re.search(r"'nonce-([^']+)'", again.headers["Content-Security-Policy"]).group(1)
    assert nonce == re.search(r"'nonce-([^']+)'", first.headers["Content-Security-Policy"]).group(1)
    assert f'nonce="{nonce}"' in again.get_data(as_text=True)


def test_a_reader_with_a_session_or_token_is_answered_afresh(
    app, client, connection, session, make_user
):
    client.get(RESTRICTIONS)

    token = {"Authorization": f"Bearer {create_token(session, make_user(role='viewer'))}"}
    answer, reads = _reads_while(connection, lambda: client.get(RESTRICTIONS, headers=token))
    assert answer.status_code == 200 and len(reads) > 1
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], "someone")
    _, reads = _reads_while(connection, lambda: client.get(RESTRICTIONS))
    assert len(reads) > 1


def test_a_work_page_is_kept_for_anyone_and_never_a_staff_only_one(
    client, connection, make_project, make_user, login_as
):
    work = make_project(name="宮地駅前橋", geometry=Point(131.1, 32.9))
    hidden = make_project(name="内部検討中の砂防", kind="sabo", is_public=False)

    first = client.get(f"/projects/{work.id}")
    assert first.status_code == 200 and first.headers["Cache-Control"] == "public, max-age=60"
    again, reads = _reads_while(connection, lambda: client.get(f"/projects/{work.id}"))
    assert again.data == first.data and len(reads) == 1 and "data_version" in reads[0]
    assert client.get(f"/projects/{hidden.id}").status_code == 404

    # Staff read the staff-only work and the internal fields afresh, kept by nobody.
    login_as(make_user(role="staff"))
    for project in (hidden, work):
        answer, reads = _reads_while(connection, lambda p=project: client.get(f"/projects/{p.id}"))
        assert answer.status_code == 200 and len(reads) > 1
        assert "public" not in answer.headers["Cache-Control"]
    assert "内部検討中の砂防" in client.get(f"/projects/{hidden.id}").get_data(as_text=True)
