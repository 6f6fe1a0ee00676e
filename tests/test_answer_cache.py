"""Answers kept per data version: the version rises with every change the layers show, and
a kept answer is never served after a change, nor to someone who may see less."""

from shapely.geometry import Point
from sqlalchemy import text

from tracker.core import clock
from tracker.projects.history import append_status
from tracker.projects.withdrawal import delete_project, withdraw_project
from tracker.restrictions.operations import add_restriction
from tracker.serving.answer_cache import AnswerCache, DataVersion, data_version


def test_the_version_rises_with_each_change_the_layers_show(session, make_project, make_user):
    before = data_version(session)
    project = make_project(name="宮地橋 補修", status="construction", progress=30)
    created = data_version(session)
    assert created > before
    append_status(session, project.id, user=None, status="construction", progress=40)
    session.flush()
    updated = data_version(session)
    assert updated > created
    add_restriction(
        session, project, kind="closed", starts_on=clock.today(), description="橋面工事"
    )
    session.flush()
    restricted = data_version(session)
    assert restricted > updated
    make_user("staff")  # not on any layer
    assert data_version(session) == restricted


def test_outside_the_tests_the_version_rises_once_when_a_transaction_commits(engine):
    with engine.connect() as conn:  # a transaction of its own, undone at the end
        start = conn.scalar(text("SELECT version FROM data_version"))
        # 38 shelters changed in two statements: nothing moves before the commit...
        conn.execute(text("UPDATE facilities SET name = name"))
        conn.execute(text("UPDATE facilities SET address = address"))
        assert conn.scalar(text("SELECT version FROM data_version")) == start
        # ...and the commit's deferred triggers raise it once (fired here, then undone).
        conn.exec_driver_sql("SET CONSTRAINTS ALL IMMEDIATE")
        assert conn.scalar(text("SELECT version FROM data_version")) == start + 1
        conn.rollback()


def _places_version(session):
    session.flush()
    return session.get(DataVersion, True, populate_existing=True).places


def test_the_places_version_rises_only_when_works_are_placed_anew(session, make_project):
    start = _places_version(session)
    bridge = make_project(name="宮地橋 補修", status="construction", progress=30)
    added = _places_version(session)
    assert added > start
    # New states and figures leave where works stand and what they are called alone.
    append_status(session, bridge.id, user=None, status="completed", progress=100)
    bridge.department = "土木課"
    assert _places_version(session) == added

    seen = [added]
    for change in (
        lambda: setattr(bridge, "name", "宮地大橋 補修"),
        lambda: setattr(bridge, "geom", f"SRID=4326;{Point(131.12, 32.95).wkt}"),
        lambda: setattr(bridge, "is_public", False),
        lambda: withdraw_project(session, bridge, reason="重複登録", user=None),
        lambda: delete_project(session, bridge, user=None),
    ):
        change()
        seen.append(_places_version(session))
    assert seen == sorted(set(seen)), "each change raised the places version"


def test_a_changed_work_is_served_changed(client, session, make_project):
    bridge = make_project(name="宮地橋 補修", status="construction", progress=30)
    url = "/ogc/collections/projects/items?limit=100"
    assert client.get(url).get_json()["features"][0]["properties"]["progress"] == 30
    one = f"/ogc/collections/projects/items/{bridge.id}"
    assert client.get(one).get_json()["properties"]["progress"] == 30
    append_status(session, bridge.id, user=None, status="construction", progress=55)
    session.flush()
    assert client.get(url).get_json()["features"][0]["properties"]["progress"] == 55
    assert client.get(one).get_json()["properties"]["progress"] == 55


def test_an_answer_kept_for_staff_never_reaches_a_resident(
    client, session, make_project, make_user, login_as
):
    make_project(name="公開の工事")
    make_project(name="内部検討", is_public=False)
    url = "/ogc/collections/projects/items?limit=100"
    assert client.get(url).get_json()["numberMatched"] == 1
    login_as(make_user(role="viewer"))
    assert client.get(url).get_json()["numberMatched"] == 2
    with client.session_transaction() as signed_in:
        signed_in.clear()  # signed out
    assert client.get(url).get_json()["numberMatched"] == 1


def test_the_least_recently_used_answers_make_room():
    store = AnswerCache(max_bytes=1000)
    for key in "abcd":
        store.put(key, key.upper(), 200)
    store.get("a")  # used again: "b" is now the oldest
    store.put("e", "E", 250)
    assert [store.get(k) for k in "abcde"] == ["A", None, "C", "D", "E"]
    store.put("huge", "H", 251)  # over a quarter of the store: not kept
    assert store.get("huge") is None and store.get("e") == "E"


def test_the_city_maps_list_by_area_shows_a_new_name_at_once(client, session, make_project):
    bridge = make_project(name="宮地橋 補修", status="construction")
    assert "宮地橋 補修" in client.get("/").get_data(as_text=True)
    bridge.name = "宮地大橋 補修"
    session.flush()
    page = client.get("/").get_data(as_text=True)
    assert "宮地大橋 補修" in page and "宮地橋 補修" not in page


def test_the_works_are_placed_in_districts_again_only_when_one_moves_or_is_renamed(
    client, session, make_project, monkeypatch
):
    import tracker.web.views as views

    placings = []

    def counted(*args, **kwargs):
        placings.append(1)
        return views_place_works(*args, **kwargs)

    views_place_works = views.place_works
    monkeypatch.setattr(views, "place_works", counted)
    miyaji, uchinomaki = Point(131.119, 32.941), Point(131.041, 32.972)
    bridge = make_project(name="宮地橋 補修", geometry=miyaji, status="construction")
    make_project(name="宮地橋 舗装", geometry=miyaji, status="planned")

    def miyaji_works():
        page = client.get("/works?area=d-miyaji").get_data(as_text=True)
        return page.index("宮地橋 補修") if "宮地橋 補修" in page else None, page

    assert miyaji_works()[0] is not None and len(placings) == 1
    append_status(session, bridge.id, user=None, status="completed", progress=100)
    session.flush()
    _, page = miyaji_works()
    # The new status is shown from the placement kept.
    assert page.count("status-completed") == 1 and len(placings) == 1
    bridge.geom = f"SRID=4326;{uchinomaki.wkt}"
    session.flush()
    assert miyaji_works()[0] is None and len(placings) == 2
