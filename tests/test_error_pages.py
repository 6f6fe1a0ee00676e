"""Every error answer, the app's and the OGC API's, is a real answer: the security headers,
one request log line, the reader's language and the format asked for; never a bare 500."""

import logging
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection
from werkzeug.test import TestResponse

from tracker.serving.headers import PERMISSIONS


def _failing_view() -> str:
    raise RuntimeError("a failure no handler expected")


@pytest.fixture
def failing_app(app: Flask) -> Flask:
    """The app with two test-only routes that fail, one of them inside the OGC API."""
    app.add_url_rule("/test-only/failure", "test_only_failure", _failing_view)
    # The endpoint's prefix puts the route in the OGC blueprint, whose handlers then answer.
    app.add_url_rule("/ogc/test-only/failure", "ogc.test_only_failure", _failing_view)
    # As in production: a failure is answered by the app, not raised into the test.
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


def _logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "tracker.requests"]


def _assert_served_properly(
    response: TestResponse, caplog: pytest.LogCaptureFixture, method: str, path: str
) -> None:
    headers = response.headers
    assert "object-src 'none'" in headers["Content-Security-Policy"], path
    assert headers["X-Content-Type-Options"] == "nosniff", path
    assert headers["X-Frame-Options"] == "DENY", path
    assert headers["Permissions-Policy"] == PERMISSIONS, path
    request_id = headers["X-Request-ID"]
    lines = [line for line in _logged(caplog) if f"id={request_id}" in line]
    assert len(lines) == 1, (path, _logged(caplog))
    assert lines[0].startswith(f'{method} "{path}" status={response.status_code} ms='), lines


def test_every_error_of_the_app_carries_the_headers_and_one_log_line(
    failing_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tracker")
    client = failing_app.test_client()
    answers: list[tuple[str, str, dict[str, Any], int, str]] = [
        ("GET", "/nowhere", {}, 404, "text/html"),
        ("GET", "/api/nowhere", {}, 404, "application/json"),
        ("PUT", "/healthz", {}, 405, "text/html"),
        ("GET", "/api/projects", {"query_string": {"bbox": "x"}}, 400, "application/json"),
        ("GET", "/near", {"query_string": {"q": "a\x00b"}}, 400, "text/html"),
        ("POST", "/api/projects", {"data": b"[" * 2_000_000, "content_type": "application/json"},
         413, "application/json"),
        ("GET", "/test-only/failure", {}, 500, "text/html"),
        ("GET", "/test-only/failure", {"headers": {"Accept": "application/json"}}, 500,
         "application/json"),
    ]  # fmt: skip
    for method, path, options, status, mimetype in answers:
        response = client.open(path, method=method, **options)
        assert response.status_code == status, (path, response.get_data(as_text=True)[:300])
        assert response.mimetype == mimetype, path
        _assert_served_properly(response, caplog, method, path)
    # The failure is logged with its traceback, and the reader is told nothing of it.
    assert any(r.exc_info and "a failure no handler expected" in str(r.exc_info[1])
               for r in caplog.records)  # fmt: skip
    page = client.get("/test-only/failure").get_data(as_text=True)
    assert "システムの内部でエラーが起きました" in page and "RuntimeError" not in page


def test_every_error_of_the_ogc_api_carries_the_headers_and_one_log_line(
    failing_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tracker")
    client = failing_app.test_client()
    html = {"Accept": "text/html"}
    answers = [
        ("/ogc/", {"f": "xml"}, {}, 400, "application/json"),
        ("/ogc/", {"f": "xml"}, html, 400, "text/html"),
        ("/ogc/collections/projects/items", {"limit": "0"}, {}, 400, "application/json"),
        ("/ogc/collections/nothing", {}, {}, 404, "application/json"),
        ("/ogc/collections/nothing", {"f": "html"}, {}, 404, "text/html"),
        ("/ogc/collections/nothing", {}, html, 404, "text/html"),
        ("/ogc/collections/projects/items/999999", {"f": "html"}, {}, 404, "text/html"),
        ("/ogc/collections/projects/items/abc", {}, {}, 404, "application/json"),
        ("/ogc/test-only/failure", {}, {}, 500, "application/json"),
        ("/ogc/test-only/failure", {"f": "html"}, {}, 500, "text/html"),
    ]
    for path, args, headers, status, mimetype in answers:
        response = client.get(path, query_string=args, headers=headers)
        assert response.status_code == status, (path, args, response.get_data(as_text=True))
        assert response.mimetype == mimetype, (path, args)
        _assert_served_properly(response, caplog, "GET", path)
        if mimetype == "application/json":
            body = response.get_json()
            assert set(body) <= {"code", "description", "field"} and body["description"]


def test_a_failing_database_is_answered_by_the_ogc_api_with_headers_and_a_log_line(
    failing_app: Flask, connection: Connection, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tracker")
    # A real failure: the layers' tables cannot be found, so the query fails in PostgreSQL.
    connection.exec_driver_sql("SET LOCAL search_path = pg_catalog")
    response = failing_app.test_client().get("/ogc/collections/shelters/items")
    assert response.status_code == 500
    assert response.get_json()["code"] == "InternalServerError"
    assert "システムの内部でエラーが起きました" in response.get_json()["description"]
    assert "search_path" not in response.get_data(as_text=True)
    _assert_served_properly(response, caplog, "GET", "/ogc/collections/shelters/items")


def test_an_unknown_format_is_refused_naming_f_in_the_readers_language(
    client: FlaskClient,
) -> None:
    for path in ("/ogc/", "/ogc/api", "/ogc/collections/projects/items", "/ogc/conformance"):
        refused = client.get(path, query_string={"f": "xml"})
        assert refused.status_code == 400, path
        assert refused.get_json() == {
            "code": "InvalidParameterValue",
            "description": "f: 「xml」は使えません。json か html を指定してください",
            "field": "f",
        }
    english = client.get("/ogc/collections", query_string={"f": "yaml", "lang": "en"})
    assert english.get_json()["description"] == "f: “yaml” is not a format; use json or html"
    page = client.get(
        "/ogc/collections", query_string={"f": "yaml"}, headers={"Accept": "text/html"}
    )
    assert page.status_code == 400 and page.mimetype == "text/html"
    assert 'data-field="f"' in page.get_data(as_text=True)


def test_refusals_name_the_parameter_as_data(client: FlaskClient) -> None:
    refusals = {
        "limit": {"limit": "ten"},
        "offset": {"offset": "-1"},
        "bbox": {"bbox": "1,2,3"},
        "bbox-crs": {"bbox-crs": "EPSG:4612"},
        "crs": {"crs": "EPSG:4612"},
        "datetime": {"datetime": "2024-05-01/2024-04-01"},
        "kind": {"kind": "castle"},
        "colour": {"colour": "red"},
    }
    for field, args in refusals.items():
        response = client.get("/ogc/collections/projects/items", query_string=args | {"lang": "en"})
        assert response.status_code == 400, args
        body = response.get_json()
        assert body["field"] == field, (args, body)
        assert body["description"].startswith(f"{field}: "), body
    one = client.get("/ogc/collections/projects/items/1", query_string={"limit": "5"})
    assert one.status_code == 400 and one.get_json()["field"] == "limit"
    tile = client.get("/ogc/collections/projects/tiles/WebMercatorQuad/3/9/1")
    assert tile.status_code == 400 and tile.get_json()["field"] == "tileRow"


def test_an_unknown_token_is_refused_with_its_challenge_in_the_ogc_api(client: FlaskClient) -> None:
    refused = client.get("/ogc/collections", headers={"Authorization": "Bearer aso_nothing"})
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer ")
    assert refused.get_json()["code"] == "invalid_token"
    assert "トークン" in refused.get_json()["error"]


def test_a_failing_database_is_answered_with_a_page_to_a_signed_in_user(
    failing_app: Flask,
    connection: Connection,
    make_user: Callable[..., Any],
    login_as: Callable[..., FlaskClient],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="tracker")
    client = login_as(make_user(role="staff"), failing_app.test_client())
    # A real failure: no table can be found, not even the signed-in user's session.
    connection.exec_driver_sql("SET LOCAL search_path = pg_catalog")
    response = client.get("/")
    assert response.status_code == 500
    assert "システムの内部でエラーが起きました" in response.get_data(as_text=True)
    _assert_served_properly(response, caplog, "GET", "/")
