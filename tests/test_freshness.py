"""What a crowd reads (/near, the feed, /api/restrictions) is cacheable by a proxy: public
max-age, an ETag of the data version, and 304 for a client holding the current copy."""

import pytest
from shapely.geometry import Point

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
