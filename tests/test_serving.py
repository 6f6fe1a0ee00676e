"""Serving for real: the health check, one log line per request, security headers."""

import logging
import re

from tests.conftest import _test_app
from tracker import create_app
from tracker.accounts.operations import create_token
from tracker.core import clock
from tracker.restrictions.operations import add_restriction

PASSWORD = "correct horse battery"


def test_healthz_answers_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"database": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_answers_503_when_the_database_does_not(tmp_path):
    # Nothing listens on port 1: the app starts, but PostgreSQL cannot be reached.
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": "postgresql+psycopg://tracker:tracker@127.0.0.1:1/none",
            "SECRET_KEY": "test",
            "UPLOAD_DIR": str(tmp_path),
        }
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"database": "unavailable"}


def test_every_response_carries_the_security_headers(client, make_project):
    project = make_project()
    for path in ("/", f"/projects/{project.id}", "/api/projects", "/near", "/nowhere", "/healthz"):
        headers = client.get(path).headers
        policy = headers["Content-Security-Policy"]
        assert "object-src 'none'" in policy and "base-uri 'none'" in policy, path
        assert "frame-ancestors 'none'" in policy, path
        script_src = re.search(r"script-src ([^;]*)", policy).group(1)
        assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src, path
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Referrer-Policy"] == "same-origin", path
        assert "geolocation=(self)" in headers["Permissions-Policy"], path
        assert "camera=(self)" in headers["Permissions-Policy"], path
        # Plain HTTP: HSTS would mean nothing (and must not pin a local test server).
        assert "Strict-Transport-Security" not in headers, path


def test_hsts_is_sent_over_https(client):
    response = client.get("/", base_url="https://tracker.example")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_the_map_script_carries_this_responses_nonce(client):
    response = client.get("/")
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    html = response.get_data(as_text=True)
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert inline and all(f'nonce="{nonce}"' in attrs for attrs in inline)
    # A fresh nonce for every response.
    again = client.get("/").headers["Content-Security-Policy"]
    assert nonce not in again


def test_one_log_line_per_request_without_secrets(client, session, make_user, caplog):
    caplog.set_level(logging.INFO, logger="tracker")
    user = make_user(role="staff", login="tanaka", password=PASSWORD)
    token = create_token(session, user)
    client.post("/login", data={"login": "tanaka", "password": PASSWORD})
    client.post("/login", data={"login": "tanaka", "password": "wrong horse battery"})
    response = client.get("/api/projects?kind=bridge", headers={"Authorization": f"Bearer {token}"})
    # Read to its end, as a client does: the test client holds an unread stream's contexts.
    response.get_data()
    client.get("/staff/", headers={"X-Request-ID": "proxy-given.id-1"})

    requests = [r.getMessage() for r in caplog.records if r.name == "tracker.requests"]
    assert len(requests) == 4
    line = requests[2]
    assert line.startswith('GET "/api/projects" status=200 ms=')
    assert f"id={response.headers['X-Request-ID']}" in line and f"user={user.id}" in line
    assert "id=proxy-given.id-1" in requests[3]

    auth = [r.getMessage() for r in caplog.records if r.name == "tracker.auth"]
    assert any(m.startswith('sign-in login="tanaka"') for m in auth)
    assert any(m.startswith('sign-in failed login="tanaka"') for m in auth)
    assert any(m.startswith(f'token used user="{user.id}"') for m in auth)
    everything = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (PASSWORD, "wrong horse battery", token, "kind=bridge"):
        assert secret not in everything
    assert "session=" not in everything


def test_refused_permissions_are_logged(client, make_user, login_as, caplog):
    caplog.set_level(logging.INFO, logger="tracker")
    client.post("/api/projects", json={})
    login_as(make_user(role="viewer"))
    client.get("/projects/new")
    auth = [r.getMessage() for r in caplog.records if r.name == "tracker.auth"]
    assert any('permission refused status="401" path="/api/projects"' in m for m in auth)
    assert any('permission refused status="403" path="/projects/new"' in m for m in auth)


def test_a_request_id_that_could_forge_log_lines_is_replaced(client, caplog):
    caplog.set_level(logging.INFO, logger="tracker")
    response = client.get("/healthz", headers={"X-Request-ID": 'x" GET /admin status=200'})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


def test_feed_and_ogc_links_use_the_public_address_not_the_host_header(
    app, client, session, make_project
):
    bridge = make_project(name="宮地駅前橋 補修")
    # A restriction's entry links to its work too.
    add_restriction(session, bridge, kind="lane", starts_on=clock.today(), description="片側通行")
    app.config["PUBLIC_URL"] = "https://koji.city.aso.example"
    forged = {"Host": "evil.example"}
    feed = client.get(
        "/near/feed.atom?lat=32.937&lon=131.11879&radius=1000", headers=forged
    ).get_data(as_text=True)
    assert "evil.example" not in feed
    assert "https://koji.city.aso.example/near/feed.atom?" in feed
    assert f"https://koji.city.aso.example/projects/{bridge.id}#restriction-change-" in feed
    for path in ("/ogc", "/ogc/collections", "/ogc/collections/projects/items?f=json"):
        answer = client.get(path, headers=forged).get_data(as_text=True)
        assert "evil.example" not in answer and "https://koji.city.aso.example/ogc" in answer


def test_trusted_hosts_refuse_another_host(database_url, connection, tmp_path):
    app = _test_app(database_url, connection, tmp_path, TRUSTED_HOSTS=["koji.city.aso.example"])
    client = app.test_client()
    assert client.get("/healthz", headers={"Host": "koji.city.aso.example"}).status_code == 200
    assert client.get("/healthz", headers={"Host": "evil.example"}).status_code == 400


def test_proxy_fix_trusts_one_hop(database_url, connection, tmp_path):
    app = _test_app(database_url, connection, tmp_path, PROXY_FIX=True)
    response = app.test_client().get(
        "/healthz", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.5"}
    )
    # The proxy said HTTPS: the answer is the HTTPS one.
    assert "Strict-Transport-Security" in response.headers
