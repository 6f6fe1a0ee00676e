"""The feed in a browser: a page made by the app at the feed's own address (and at
/near/feed), never an XSLT stylesheet; feed readers still get the Atom as it was."""

from datetime import UTC, datetime

from shapely.geometry import LineString, Point

from tests.test_feed import HERE, north
from tracker.core import clock
from tracker.projects.history import append_past_status
from tracker.restrictions.operations import add_restriction

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
ARGS = {"lat": HERE[1], "lon": HERE[0], "radius": 1000}


def works(session, make_project):
    bridge = make_project(
        name="橋の補修", geometry=north(100), created_at=datetime(2026, 10, 1, tzinfo=UTC)
    )
    append_past_status(
        session, bridge.id, status="construction", progress=20,
        recorded_at=datetime(2026, 10, 20, tzinfo=UTC),
    )  # fmt: skip
    road = make_project(
        name="市道の改良", kind="road",
        geometry=LineString([(HERE[0], HERE[1] + 0.001), (HERE[0] + 0.002, HERE[1] + 0.001)]),
    )  # fmt: skip
    add_restriction(
        session, road, kind="closed", starts_on=clock.today(), description="終日通行止めです"
    )


def test_a_browser_gets_a_page_of_the_app_at_the_feed_address(client, session, make_project):
    works(session, make_project)
    page = client.get("/near/feed.atom", query_string=ARGS, headers={"Accept": BROWSER_ACCEPT})
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "Accept" in page.headers["Vary"]
    html = page.get_data(as_text=True)
    assert "xml-stylesheet" not in html and "xsl" not in html
    assert "<h1>阿蘇市 近くの工事（半径 1 km）</h1>" in html
    assert "橋の補修: 未着手 → 工事中" in html
    assert "新しい通行規制: 通行止め（市道の改良）" in html
    assert '<span lang="ja">終日通行止めです</span>' in html
    assert 'id="feed-url"' in html and "/near/feed.atom?" in html
    same = client.get("/near/feed", query_string=ARGS).get_data(as_text=True)
    assert "橋の補修: 未着手 → 工事中" in same


def test_feed_readers_get_atom_without_a_stylesheet(client, session, make_project):
    works(session, make_project)
    for accept in ("application/atom+xml", "*/*", None):
        headers = {"Accept": accept} if accept else {}
        answer = client.get("/near/feed.atom", query_string=ARGS, headers=headers)
        assert answer.mimetype == "application/atom+xml", accept
        assert b"xml-stylesheet" not in answer.data
    assert client.get("/near/feed.xsl").status_code == 404


def test_the_feed_page_speaks_english(client, session, make_project):
    works(session, make_project)
    html = client.get("/near/feed", query_string=ARGS | {"lang": "en"}).get_data(as_text=True)
    assert '<html lang="en">' in html and "Latest updates" in html
    assert "How to follow it" in html
    assert client.get("/near/feed", query_string={"lat": 35.0, "lon": 139.0}).status_code == 400


def test_an_unknown_point_is_refused_on_the_page_too(client):
    assert client.get("/near/feed?lat=abc&lon=131.1").status_code == 400


def test_near_links_to_the_feed(client, make_project):
    make_project(name="橋", geometry=Point(HERE[0], HERE[1] + 0.001))
    html = client.get("/near", query_string=ARGS).get_data(as_text=True)
    assert "/near/feed.atom?" in html
