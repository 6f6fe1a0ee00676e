"""The Atom feed of nearby works: valid Atom, newest first, public only, no account."""

import html
import re
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from shapely.geometry import Point

from tracker.projects.history import append_past_status, append_status

A = "{http://www.w3.org/2005/Atom}"
HERE = (131.10, 32.90)  # no shelter within 3.8 km
M_PER_DEG_LAT = 110_940


def north(metres: float) -> Point:
    return Point(HERE[0], HERE[1] + metres / M_PER_DEG_LAT)


def at(day: int) -> datetime:
    return datetime(2026, 10, day, 9, 0, tzinfo=UTC)


def feed(client, **args):
    args = {"lat": HERE[1], "lon": HERE[0], "radius": 1000} | args
    return client.get("/near/feed.atom", query_string=args)


def test_feed_is_atom_with_status_changes_newest_first(client, session, make_project):
    bridge = make_project(name="橋 <補修> & 点検", geometry=north(100), created_at=at(1))
    append_past_status(
        session,
        bridge.id,
        status="design",
        progress=0,
        recorded_at=at(5),
        note="秘密メモ",
    )
    append_past_status(session, bridge.id, status="construction", progress=20, recorded_at=at(20))
    make_project(name="新しい砂防", kind="sabo", geometry=north(300), created_at=at(10))
    make_project(name="遠くの事業", geometry=north(2000), created_at=at(25))

    answer = feed(client)

    assert answer.status_code == 200
    assert answer.mimetype == "application/atom+xml"
    root = ET.fromstring(answer.data)  # raises on malformed XML
    assert root.tag == f"{A}feed"
    for tag in ("id", "title", "updated"):
        assert root.find(f"{A}{tag}").text, tag
    assert root.find(f"{A}author/{A}name").text
    assert root.find(f"{A}updated").text == "2026-10-20T09:00:00Z"
    entries = root.findall(f"{A}entry")
    titles = [e.find(f"{A}title").text for e in entries]
    assert titles == [
        "橋 <補修> & 点検: 設計中 → 工事中",
        "新しい事業: 新しい砂防（未着手）",
        "橋 <補修> & 点検: 未着手 → 設計中",
        "新しい事業: 橋 <補修> & 点検（未着手）",
    ]
    updated = [e.find(f"{A}updated").text for e in entries]
    assert updated == sorted(updated, reverse=True)
    for entry in entries:
        assert entry.find(f"{A}id").text
        link = entry.find(f"{A}link").get("href")
        assert link.startswith("http://localhost/projects/")
    assert len({e.find(f"{A}id").text for e in entries}) == len(entries)
    assert "秘密メモ" not in answer.get_data(as_text=True)


def test_feed_leaves_out_staff_only_projects_and_notes(
    client, session, make_project, make_user, login_as
):
    hidden = make_project(name="職員のみの事業", geometry=north(50), is_public=False)
    append_status(session, hidden.id, status="design", progress=5, note="内部")
    shown = make_project(name="公開の事業", geometry=north(60), department="秘密の課")
    append_status(session, shown.id, status="construction", progress=30, note="業者名メモ")
    login_as(make_user(role="admin"))

    body = feed(client).get_data(as_text=True)

    assert "公開の事業" in body
    for secret in ("職員のみの事業", "業者名メモ", "秘密の課", "登録"):
        assert secret not in body


def test_feed_in_english_and_bad_points_refused(client, make_project):
    make_project(name="橋", geometry=north(100))
    root = ET.fromstring(feed(client, lang="en").data)
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    assert root.find(f"{A}title").text == "Aso City: works within 1 km"
    assert feed(client, lat=35.68, lon=139.76).status_code == 400
    assert feed(client, radius=20000).status_code == 400


def test_a_progress_report_reads_as_progress_not_as_a_change(client, session, make_project):
    works = make_project(name="狩尾橋", geometry=north(100), created_at=at(1))
    append_past_status(session, works.id, status="construction", progress=20, recorded_at=at(5))
    append_past_status(session, works.id, status="construction", progress=60, recorded_at=at(9))

    titles = [e.find(f"{A}title").text for e in ET.fromstring(feed(client).data).iter(f"{A}entry")]

    assert titles[0] == "狩尾橋: 進捗 60%（工事中）"
    assert titles[1] == "狩尾橋: 未着手 → 工事中"


def test_feed_id_is_the_same_for_the_same_circle_and_english_stays_english(
    app, client, make_project
):
    make_project(name="橋", geometry=north(100))
    plain = ET.fromstring(feed(client).data).find(f"{A}id").text
    shuffled = client.get(
        "/near/feed.atom", query_string={"radius": 1000, "utm": "x", "lon": HERE[0], "lat": HERE[1]}
    )
    assert ET.fromstring(shuffled.data).find(f"{A}id").text == plain

    # The English page offers the English feed, which links back to the English page.
    page = client.get("/near", query_string={"lat": HERE[1], "lon": HERE[0], "lang": "en"})
    href = re.search(
        r'type="application/atom\+xml"[^>]*href="([^"]+)"', page.get_data(as_text=True)
    )
    # A feed reader has no cookie: the language must travel in the feed's address.
    english = app.test_client().get(html.unescape(href.group(1)))
    root = ET.fromstring(english.data)
    assert root.find(f"{A}title").text == "Aso City: works within 1 km"
    assert root.find(f"{A}id").text != plain
    alternate = root.find(f"{A}link[@rel='alternate']").get("href")
    assert "lang=en" in alternate
