"""A database that cannot answer is an outage, told as one: 503 with Retry-After and the
unavailable words (JSON for programs, a page for people, always JSON from /healthz), also
when the connection is lost at the commit after the answer was made. A wrong query stays a
500 (tests/test_error_pages.py)."""

import pytest
from flask import Flask
from sqlalchemy import create_engine, text

from tests.conftest import _test_app
from tracker.core.db import get_session
from tracker.core.errors import RETRY_AFTER_S

WORDS = "ただいまこの機能を利用できません"


@pytest.fixture
def app_without_database(database_url, tmp_path) -> Flask:
    """The app as served, on a database address nothing listens on (port 1)."""
    closed = database_url.rsplit("@", 1)[0] + "@127.0.0.1:1/none"
    return _test_app(closed, None, tmp_path, PROPAGATE_EXCEPTIONS=False)


def test_pages_the_api_and_the_ogc_api_answer_503_while_the_database_is_down(
    app_without_database,
):
    client = app_without_database.test_client()
    for path in ("/", "/near?q=宮地", "/plan"):
        page = client.get(path)
        assert page.status_code == 503, (path, page.get_data(as_text=True)[:300])
        assert page.headers["Retry-After"] == str(RETRY_AFTER_S), path
        assert page.mimetype == "text/html" and WORDS in page.get_data(as_text=True), path
    for path in ("/api/projects", "/api/projects/1"):
        answer = client.get(path)
        assert answer.status_code == 503, path
        assert answer.headers["Retry-After"] == str(RETRY_AFTER_S), path
        assert answer.get_json() == {"error": f"{WORDS}。しばらくしてから、もう一度お試しください。",
                                     "code": "unavailable"}  # fmt: skip
    items = client.get("/ogc/collections/projects/items")
    assert items.status_code == 503 and items.headers["Retry-After"] == str(RETRY_AFTER_S)
    assert items.get_json()["code"] == "ServiceUnavailable"
    assert WORDS in items.get_json()["description"]
    health = client.get("/healthz")
    assert health.status_code == 503 and health.headers["Retry-After"] == str(RETRY_AFTER_S)
    assert health.get_json() == {"database": "unavailable"}


def _lose_the_connection_before_the_commit() -> str:
    """Read, then have the server end this request's connection: the answer is made, and
    the commit after it fails, as when the database goes away at that moment."""
    session = get_session()
    pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
    other = create_engine(session.get_bind().url)
    with other.connect() as connection:
        # Waits (up to 10 s) until that server process has ended.
        ended = connection.execute(text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": pid})
        assert ended.scalar_one()
    other.dispose()
    return "answered"


@pytest.fixture
def losing_app(database_url, tmp_path) -> Flask:
    """The app on a real connection pool, with routes whose connection is lost at the end:
    one among the pages, one in the health check's blueprint."""
    app = _test_app(database_url, None, tmp_path, PROPAGATE_EXCEPTIONS=False)
    app.add_url_rule("/test-only/lost", "test_only_lost", _lose_the_connection_before_the_commit)
    app.add_url_rule(
        "/test-only/health-lost", "health.test_only_lost", _lose_the_connection_before_the_commit
    )
    yield app
    app.extensions["db_engine"].dispose()


def test_a_commit_that_fails_on_a_lost_connection_is_answered_503(losing_app):
    client = losing_app.test_client()
    page = client.get("/test-only/lost")
    assert page.status_code == 503 and page.headers["Retry-After"] == str(RETRY_AFTER_S)
    assert page.mimetype == "text/html" and WORDS in page.get_data(as_text=True)
    answer = client.get("/test-only/lost", headers={"Accept": "application/json"})
    assert answer.status_code == 503 and answer.get_json()["code"] == "unavailable"
    # The health check's blueprint answers JSON, whatever failed and whatever was asked.
    health = client.get("/test-only/health-lost", headers={"Accept": "text/html"})
    assert health.status_code == 503 and health.headers["Retry-After"] == str(RETRY_AFTER_S)
    assert health.get_json() == {"database": "unavailable"}
    # The pool drops the lost connection: the next request is answered as usual.
    assert client.get("/healthz").get_json() == {"database": "ok"}
