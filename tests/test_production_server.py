"""gunicorn as `make run` starts it, on a database with committed writes: the health check,
graceful shutdown on SIGTERM, and a sign-in throttle that concurrent tries cannot race."""

import http.client
import re
import signal
import socket
import threading
import time
from functools import partial

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, func, select, text

from tests.live_database import build_database, gunicorn, sibling_url
from tracker.accounts.models import LoginAttempt
from tracker.accounts.passwords import hash_password

PASSWORD = "correct horse battery"


def _commit_bridges(database_url, *bridges):
    """Commit bridges (name, public, lon, lat) to the live database; return their ids."""
    engine = create_engine(database_url)
    with engine.begin() as conn:
        ids = [
            conn.scalar(
                text(
                    "INSERT INTO projects (name, kind, department, is_public, geom)"
                    " VALUES (:name, 'bridge', '建設課', :public,"
                    "  ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)) RETURNING id"
                ),
                {"name": name, "public": public, "lon": lon, "lat": lat},
            )
            for name, public, lon, lat in bridges
        ]
    engine.dispose()
    return ids


@pytest.fixture(scope="module")
def live_database(database_url):
    """A committed database of its own, dropped with the module's tests."""
    return build_database(sibling_url(database_url, "live"))


@pytest.fixture(scope="module")
def server(live_database, tmp_path_factory):
    with gunicorn(live_database, tmp_path_factory.mktemp("instance")) as (base, process):
        yield base, process


def test_gunicorn_serves_the_app_with_its_health_check_and_headers(server):
    base, _process = server
    health = requests.get(f"{base}/healthz", timeout=10)
    assert health.status_code == 200 and health.json() == {"database": "ok"}
    page = requests.get(f"{base}/", timeout=10)
    assert page.status_code == 200 and "阿蘇市" in page.text
    assert "'nonce-" in page.headers["Content-Security-Policy"]
    assert re.fullmatch(r"[0-9a-f]{32}", page.headers["X-Request-ID"])


def _csrf_client(base):
    client = requests.Session()
    form = client.get(f"{base}/login", timeout=30).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
    return client, token


def test_thirty_concurrent_tries_get_exactly_five_password_checks(server, live_database):
    base, _process = server
    engine = create_engine(live_database)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM login_attempts"))
        conn.execute(
            text(
                "INSERT INTO users (login, role, password_hash) VALUES ('racer', 'staff', :h) "
                "ON CONFLICT (login) DO NOTHING"
            ),
            {"h": hash_password(PASSWORD)},
        )
    clients = [_csrf_client(base) for _ in range(30)]
    start = threading.Barrier(len(clients))
    answers = []

    def try_once(client, token):
        start.wait()
        response = client.post(
            f"{base}/login",
            data={"login": "racer", "password": "wrong guess here", "csrf_token": token},
            timeout=60,
            allow_redirects=False,
        )
        answers.append(response.status_code)

    threads = [threading.Thread(target=try_once, args=pair) for pair in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 200 means the password was checked (and was wrong); 429 means refused before that.
    assert sorted(answers) == [200] * 5 + [429] * 25
    with engine.connect() as conn:
        tries = conn.scalar(select(func.count()).select_from(LoginAttempt))
    engine.dispose()
    assert tries == 5


def test_sigterm_lets_a_request_in_flight_finish(live_database, tmp_path):
    with gunicorn(live_database, tmp_path) as (base, process):
        port = int(base.rsplit(":", 1)[1])
        body = b"login=someone&password=" + b"x" * 200
        with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
            conn.sendall(
                b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n"
                + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body[:20]
            )
            # The request is being read when the server is told to stop...
            threading.Event().wait(0.5)
            process.send_signal(signal.SIGTERM)
            threading.Event().wait(0.5)
            assert process.poll() is None
            # ...and it is still answered once the rest of it arrives.
            conn.sendall(body[20:])
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 400")  # no CSRF token: refused, not cut off
        assert process.wait(timeout=40) == 0
        log = process.stdout.read()
        assert "Handling signal: term" in log and "Shutting down" in log


def test_metrics_add_up_every_workers_figures(server):
    base, _process = server
    before = _health_checks(requests.get(f"{base}/metrics", timeout=30).text)
    # Many connections at once: gunicorn hands them to both workers, which count apart.
    threads = [
        threading.Thread(target=lambda: requests.get(f"{base}/healthz", timeout=30))
        for _ in range(40)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    after = _health_checks(requests.get(f"{base}/metrics", timeout=30).text)
    assert after == before + 40


def _workers(process) -> set[str]:
    path = f"/proc/{process.pid}/task/{process.pid}/children"
    with open(path) as children:
        return set(children.read().split())


def test_the_server_removes_the_metrics_folder_it_made_when_it_stops(live_database, tmp_path):
    temporary = tmp_path / "tmp"  # the server's TMPDIR (tests/live_database.py)
    with gunicorn(live_database, tmp_path, PROMETHEUS_MULTIPROC_DIR="") as (base, process):
        requests.get(f"{base}/healthz", timeout=30)
        (folder,) = temporary.glob("aso-tracker-metrics-*")
        assert list(folder.glob("*.db"))
        # A reload reads the settings file again, the folder already set: still one folder.
        first_workers = _workers(process)
        process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 60
        while _workers(process) & first_workers or len(_workers(process)) < 2:
            assert time.monotonic() < deadline, "the workers were not replaced"
            threading.Event().wait(0.2)
        assert requests.get(f"{base}/healthz", timeout=30).status_code == 200
        assert list(temporary.glob("aso-tracker-metrics-*")) == [folder]
    assert process.returncode == 0
    assert not list(temporary.glob("aso-tracker-metrics-*"))


def _health_checks(text: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "tracker_http_requests_total" and sample.labels == {
                "route": "/healthz",
                "method": "GET",
                "status": "200",
            }:
                return sample.value
    return 0.0


def test_each_worker_opens_its_database_connections_before_its_first_request(
    live_database, tmp_path
):
    # Opened on the first busy moment instead, each cost a request the time to connect:
    # the slowest answers under load took twice as long.
    engine = create_engine(live_database)
    sessions = text(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid()"
    )
    with engine.connect() as conn:
        before = set(conn.scalars(sessions))
    with gunicorn(live_database, tmp_path, WEB_CONCURRENCY="2", THREADS="4"):
        # The server answers once one worker has started; the other may still be starting.
        for _ in range(200):
            with engine.connect() as conn:
                opened = set(conn.scalars(sessions)) - before
            if len(opened) >= 2 * 4:
                break
            threading.Event().wait(0.2)
        assert len(opened) >= 2 * 4
    engine.dispose()


def test_one_ogc_feature_is_read_outside_a_transaction_as_inside_one(server, live_database):
    # gunicorn's requests read one feature in autocommit; the same answer as a session's.
    base, _process = server
    shown, hidden = _commit_bridges(
        live_database, ("一つだけの橋", True, 131.05, 32.95), ("職員だけの橋", False, 131.06, 32.95)
    )
    items = f"{base}/ogc/collections/projects/items"
    feature = requests.get(f"{items}/{shown}", timeout=30)
    assert feature.status_code == 200
    body = feature.json()
    assert body["id"] == shown and body["properties"]["name"] == "一つだけの橋"
    assert body["geometry"] == {"type": "Point", "coordinates": [131.05, 32.95]}
    assert body["links"][0]["href"].endswith(f"/ogc/collections/projects/items/{shown}?f=json")
    assert requests.get(f"{items}/{hidden}", timeout=30).status_code == 404
    # The connection went back to the pool usable: the next read in a transaction works.
    assert requests.get(f"{base}/ogc/collections/projects/items?limit=1", timeout=30).ok


def test_nearby_search_is_read_outside_a_transaction_and_still_refuses_far_points(
    server, live_database
):
    # One statement checks the point and searches; gunicorn's requests read it in autocommit.
    base, _process = server
    _commit_bridges(
        live_database,
        ("近くの橋", True, 131.1001, 32.9501),
        ("職員だけの橋の2", False, 131.1002, 32.9502),
    )
    nearby = f"{base}/api/projects/nearby"
    answer = requests.get(nearby, params={"lat": 32.95, "lon": 131.1, "radius": 100}, timeout=30)
    assert answer.status_code == 200
    names = [f["properties"]["name"] for f in answer.json()["features"]]
    assert names == ["近くの橋"]
    # Tokyo: far beyond the city, refused with the distance in the message.
    far = requests.get(nearby, params={"lat": 35.68, "lon": 139.76, "radius": 100}, timeout=30)
    assert far.status_code == 400
    assert far.json()["code"] == "outside_area"
    assert "阿蘇市の境界から約" in far.json()["error"]
    assert requests.get(f"{base}/ogc/collections/projects/items?limit=1", timeout=30).ok


def test_a_kept_alive_connection_outlasts_a_pause_between_taps(server):
    # A phone reads a page for a few seconds, then taps again on the same connection: had the
    # server closed it meanwhile, the request would meet the close (a reset, no answer).
    base, _process = server
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.request("GET", "/api/restrictions")
    connection.getresponse().read()
    threading.Event().wait(6)
    connection.request("GET", "/api/restrictions")
    assert connection.getresponse().status == 200
    connection.close()


def test_kept_answers_are_served_after_reading_the_data_version_on_its_own(server, live_database):
    # Through gunicorn the data version is read outside a transaction; a kept answer is the
    # same as the one first made, and a committed change is seen at once.
    base, _process = server
    near = f"{base}/near?lat=32.9&lon=131.2&radius=300"
    first = requests.get(near, timeout=30)
    assert first.status_code == 200 and "あとから来た橋" not in first.text
    # The other worker keeps its own copy, made with its own nonce.
    without_nonce = partial(re.sub, r'nonce="[^"]+"', 'nonce=""')
    again = requests.get(near, timeout=30)
    assert without_nonce(again.text) == without_nonce(first.text)
    restrictions = [requests.get(f"{base}/api/restrictions", timeout=30) for _ in range(2)]
    assert [r.status_code for r in restrictions] == [200, 200]
    assert restrictions[0].json() == restrictions[1].json()
    _commit_bridges(live_database, ("あとから来た橋", True, 131.2001, 32.9001))
    assert "あとから来た橋" in requests.get(near, timeout=30).text
