"""Read-only requests go to a real streaming replica; writes and the reads that must see them
go to the primary.

The replica is a second PostgreSQL cluster made on this machine with pg_basebackup from the
test database's cluster and run on a port of its own, as the postgres user, and removed after.
The primary needs nothing beyond PostgreSQL's defaults (wal_level replica, WAL senders and the
local replication line of Debian's pg_hba.conf).
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from tests.conftest import GEODATA, MIYAJI_STATION
from tests.live_database import gunicorn
from tracker import create_app
from tracker.accounts.access import SESSION_KEY
from tracker.accounts.models import Department, User
from tracker.accounts.operations import create_token, start_login_session
from tracker.core import migrate
from tracker.core.db import CONSISTENCY_COOKIE, CONSISTENCY_HEADER
from tracker.core.dbadmin import recreate_database
from tracker.core.replica import parse_lsn
from tracker.wiring.loaders import load_city

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PRIMARY_SOCKETS = "/var/run/postgresql"


def as_postgres(*args: str, **kwargs) -> subprocess.CompletedProcess:
    """Run a command as the postgres user, which owns the clusters."""
    prefix = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else ["sudo", "-u", "postgres"]
    return subprocess.run([*prefix, *args], check=True, capture_output=True, text=True, **kwargs)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def primary_url(database_url):
    """A database of its own on the test cluster, committed to (the replica must see it)."""
    url = database_url + "_replica"
    recreate_database(url)
    migrate.upgrade(url)
    engine = create_engine(url)
    with Session(engine) as session:
        load_city(session, GEODATA)
        session.commit()
    engine.dispose()
    yield url
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{urlparse(url).path[1:]}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(scope="module")
def replica(primary_url):
    """A hot standby of the test cluster on a free port; yields (port, socket directory)."""
    primary = urlparse(primary_url)
    wal_level = as_postgres(
        "psql", "-h", PRIMARY_SOCKETS, "-p", str(primary.port or 5432), "-tAc", "SHOW wal_level"
    ).stdout.strip()
    assert wal_level in ("replica", "logical"), f"the primary cannot stream: wal_level={wal_level}"
    # A standby needs at least the primary's limits.
    connections = as_postgres(
        "psql", "-h", PRIMARY_SOCKETS, "-p", str(primary.port or 5432), "-tAc",
        "SHOW max_connections",
    ).stdout.strip()  # fmt: skip
    data = Path(tempfile.mkdtemp(prefix="aso-replica-"))
    shutil.chown(data, "postgres", "postgres")
    data.chmod(0o700)
    port = free_port()
    try:
        as_postgres(
            str(PG_BIN / "pg_basebackup"), "-h", PRIMARY_SOCKETS, "-p", str(primary.port or 5432),
            "-D", str(data / "pgdata"), "-X", "stream", "-R", "-c", "fast", "-w",
        )  # fmt: skip
        pgdata = data / "pgdata"
        settings = {
            "postgresql.conf": (
                f"port = {port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{data}'\nhot_standby = on\n"
                f"max_connections = {connections}\nshared_buffers = 32MB\nlogging_collector = off\n"
            ),
            "pg_hba.conf": "local all postgres peer\nhost all all 127.0.0.1/32 scram-sha-256\n",
            "pg_ident.conf": "",
        }
        for name, content in settings.items():
            as_postgres("tee", str(pgdata / name), input=content)
        as_postgres(
            str(PG_BIN / "pg_ctl"), "-D", str(pgdata), "-l", str(data / "log"), "-w", "start"
        )
        # The cluster is shared and busy: let the standby first replay what the primary wrote
        # while it was copied, so that the tests' own waits are for their own writes.
        target = as_postgres(
            "psql", "-h", PRIMARY_SOCKETS, "-p", str(primary.port or 5432), "-tAc",
            "SELECT pg_current_wal_lsn()",
        ).stdout.strip()  # fmt: skip
        caught_up = f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"
        _wait_for(lambda: replica_sql((port, str(data)), caught_up) == "t", None, seconds=600)
        yield port, str(data)
        as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(pgdata), "-m", "fast", "-w", "stop")
    finally:
        shutil.rmtree(data, ignore_errors=True)


def replica_sql(replica, sql: str, database: str = "postgres") -> str:
    port, sockets = replica
    command = ("psql", "-h", sockets, "-p", str(port), "-d", database, "-tAc", sql)
    return as_postgres(*command).stdout.strip()


def replica_url(primary_url, replica) -> str:
    """The primary's database, as read through the replica."""
    port, _ = replica
    return urlparse(primary_url)._replace(netloc=f"tracker:tracker@127.0.0.1:{port}").geturl()


def test_reads_go_to_the_replica_and_writes_to_the_primary(primary_url, replica, tmp_path):
    read_url = replica_url(primary_url, replica)
    assert replica_sql(replica, "SELECT pg_is_in_recovery()") == "t"
    engine = create_engine(primary_url)
    with Session(engine) as session:
        # Of the department of the work it creates below.
        staff = User(
            login="replica-staff",
            role="staff",
            password_hash="!",
            departments=[Department(name="建設課")],
        )
        session.add(staff)
        session.flush()
        token = create_token(session, staff)
        session.commit()
    engine.dispose()
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": primary_url,
            "DATABASE_READ_URL": read_url,
            # However busy the shared cluster, this test is about the replica answering.
            "REPLICA_MAX_LAG_S": 3600,
            "SECRET_KEY": "test-secret",
            "UPLOAD_DIR": str(tmp_path / "uploads"),
        }
    )
    bearer = {"Authorization": f"Bearer {token}"}
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": list(MIYAJI_STATION)},
        "properties": {"name": "レプリカ確認橋", "kind": "bridge", "department": "建設課"},
    }
    # Wait for the staff user to reach the replica, then hold the replica where it is.
    database = urlparse(primary_url).path[1:]
    _wait_for(lambda: replica_sql(replica, "SELECT count(*) FROM users", database) == "1", replica)
    replica_sql(replica, "SELECT pg_wal_replay_pause()")
    try:
        writer = app.test_client()
        created = writer.post("/api/projects", json=feature, headers=bearer)
        # A write on the replica would fail: it is read-only.
        assert created.status_code == 201, created.get_data(as_text=True)
        project_id = created.get_json()["id"]

        # Anyone else reads the replica, which has not seen the new project yet.
        reader = app.test_client()
        assert reader.get(f"/api/projects/{project_id}").status_code == 404
        assert reader.get(f"/ogc/collections/projects/items/{project_id}").status_code == 404
        # The writer's browser reads the primary for a while: it sees its own change.
        assert writer.get(f"/api/projects/{project_id}").status_code == 200
        # The staff pages always read the primary.
        page = reader.get(f"/staff/projects/{project_id}", headers=bearer)
        assert page.status_code == 200 and "レプリカ確認橋" in page.get_data(as_text=True)
    finally:
        replica_sql(replica, "SELECT pg_wal_replay_resume()")
    _wait_for(lambda: reader.get(f"/api/projects/{project_id}").status_code == 200, replica)
    items = reader.get("/ogc/collections/projects/items").get_json()
    assert "レプリカ確認橋" in {f["properties"]["name"] for f in items["features"]}
    for name in ("db_engine", "db_read_engine"):
        app.extensions[name].dispose()


def _wait_for(condition, replica, seconds: float = 120) -> None:
    """Wait until the replica has replayed far enough for the condition to hold."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the replica did not catch up in time"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def staff_token(primary_url) -> str:
    """An API token of a staff member of 建設課, committed on the primary."""
    engine = create_engine(primary_url)
    with Session(engine) as session:
        department = session.scalar(select(Department).where(Department.name == "建設課"))
        staff = User(
            login="replica-token-staff",
            role="staff",
            password_hash="!",
            departments=[department or Department(name="建設課")],
        )
        session.add(staff)
        session.flush()
        token = create_token(session, staff)
        session.commit()
    engine.dispose()
    return token


def _new_work(name: str) -> dict:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": list(MIYAJI_STATION)},
        "properties": {"name": name, "kind": "bridge", "department": "建設課"},
    }


def test_a_token_client_reads_its_own_writes_while_the_replica_is_behind(
    primary_url, replica, staff_token, tmp_path
):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": primary_url,
            "DATABASE_READ_URL": replica_url(primary_url, replica),
            "REPLICA_MAX_LAG_S": 3600,
            "SECRET_KEY": "test-secret",
            "UPLOAD_DIR": str(tmp_path / "uploads"),
        }
    )
    bearer = {"Authorization": f"Bearer {staff_token}"}
    client = app.test_client(use_cookies=False)  # a program, without a browser's cookies
    created = client.post("/api/projects", json=_new_work("読み直し確認橋"), headers=bearer)
    assert created.status_code == 201, created.get_data(as_text=True)
    url = f"/api/projects/{created.get_json()['id']}"
    update = {"status": "design", "progress": 33}
    assert client.post(f"{url}/updates", json=update, headers=bearer).status_code == 201

    def progress(headers: dict) -> int | None:
        answer = client.get(url, headers=headers)
        return answer.get_json()["properties"]["progress"] if answer.status_code == 200 else None

    _wait_for(lambda: progress({}) == 33, replica)
    replica_sql(replica, "SELECT pg_wal_replay_pause()")
    try:
        update = {"status": "design", "progress": 77}
        assert client.post(f"{url}/updates", json=update, headers=bearer).status_code == 201
        # Anyone else still reads the replica, which has not replayed the update...
        assert progress({}) == 33
        # ...while the token's own requests read the primary: its write, and its version.
        assert progress(bearer) == 77
        etag = client.get(url, headers=bearer).headers["ETag"]
        renamed = {"properties": {"name": "読み直し確認橋（第2期）"}}
        edited = client.patch(url, json=renamed, headers=bearer | {"If-Match": etag})
        assert edited.status_code == 200, edited.get_data(as_text=True)
        assert client.get(url, headers=bearer).headers["ETag"] == edited.headers["ETag"]
    finally:
        replica_sql(replica, "SELECT pg_wal_replay_resume()")
    for name in ("db_engine", "db_read_engine"):
        app.extensions[name].dispose()


def _replica_app(primary_url, replica, tmp_path, **settings):
    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": primary_url,
            "DATABASE_READ_URL": replica_url(primary_url, replica),
            # However busy the shared cluster, these tests are about the replica answering.
            "REPLICA_MAX_LAG_S": 3600,
            "SECRET_KEY": "test-secret",
            "UPLOAD_DIR": str(tmp_path / "uploads"),
            "WTF_CSRF_ENABLED": False,
        }
        | settings
    )


def _replayed_past(replica, position: str) -> bool:
    return replica_sql(replica, f"SELECT pg_last_wal_replay_lsn() >= '{position}'::pg_lsn") == "t"


def _signed_in_browser(app, primary_url):
    """A browser signed in (a cookie session) as staff of 建設課, committed on the primary."""
    engine = create_engine(primary_url)
    with Session(engine) as session:
        department = session.scalar(select(Department).where(Department.name == "建設課"))
        staff = User(
            login="replica-browser-staff",
            role="staff",
            password_hash="!",
            departments=[department or Department(name="建設課")],
        )
        session.add(staff)
        session.flush()
        sid = start_login_session(session, staff)
        session.commit()
    engine.dispose()
    browser = app.test_client()
    with browser.session_transaction() as flask_session:
        flask_session[SESSION_KEY] = sid
    return browser


def test_a_browser_reads_the_primary_until_the_replica_has_replayed_its_write(
    primary_url, replica, staff_token, tmp_path
):
    app = _replica_app(primary_url, replica, tmp_path)
    browser = _signed_in_browser(app, primary_url)
    others = app.test_client()
    program = app.test_client(use_cookies=False)
    bearer = {"Authorization": f"Bearer {staff_token}"}

    replica_sql(replica, "SELECT pg_wal_replay_pause()")
    try:
        created = browser.post("/api/projects", json=_new_work("書込確認橋"))
        assert created.status_code == 201, created.get_data(as_text=True)
        position = created.headers[CONSISTENCY_HEADER]
        assert browser.get_cookie(CONSISTENCY_COOKIE).value == position
        url = f"/api/projects/{created.get_json()['id']}"
        # The browser sees its own work at once (the primary); others read the replica,
        # which has not replayed it.
        assert browser.get(url).status_code == 200
        assert others.get(url).status_code == 404
    finally:
        replica_sql(replica, "SELECT pg_wal_replay_resume()")

    # Once the replica has replayed the browser's write, the browser reads the replica
    # again: held there while another client renames the work, it shows the old name.
    _wait_for(lambda: _replayed_past(replica, position), replica)
    replica_sql(replica, "SELECT pg_wal_replay_pause()")
    try:
        etag = program.get(url, headers=bearer).headers["ETag"]
        renamed = {"properties": {"name": "書込確認橋（改）"}}
        edited = program.patch(url, json=renamed, headers=bearer | {"If-Match": etag})
        assert edited.status_code == 200, edited.get_data(as_text=True)
        assert browser.get_cookie(CONSISTENCY_COOKIE) is not None
        assert browser.get(url).get_json()["properties"]["name"] == "書込確認橋"
        # Past its position, the browser's cookie has gone.
        assert browser.get_cookie(CONSISTENCY_COOKIE) is None
        assert others.get(url).get_json()["properties"]["name"] == "書込確認橋"
    finally:
        replica_sql(replica, "SELECT pg_wal_replay_resume()")
    for name in ("db_engine", "db_read_engine"):
        app.extensions[name].dispose()


def test_a_program_that_sends_back_its_consistency_token_reads_its_write(
    primary_url, replica, staff_token, tmp_path
):
    app = _replica_app(primary_url, replica, tmp_path)
    program = app.test_client(use_cookies=False)
    bearer = {"Authorization": f"Bearer {staff_token}"}
    replica_sql(replica, "SELECT pg_wal_replay_pause()")
    try:
        created = program.post("/api/projects", json=_new_work("整合確認橋"), headers=bearer)
        assert created.status_code == 201, created.get_data(as_text=True)
        token = created.headers[CONSISTENCY_HEADER]
        url = f"/api/projects/{created.get_json()['id']}"
        # Read without the credentials (as a public page or another service would), the
        # work is seen only by a request that brings the write's position back.
        assert program.get(url).status_code == 404
        assert program.get(url, headers={CONSISTENCY_HEADER: token}).status_code == 200
        # A position it cannot read sends the request to the primary too.
        assert program.get(url, headers={CONSISTENCY_HEADER: "later"}).status_code == 200
    finally:
        replica_sql(replica, "SELECT pg_wal_replay_resume()")
    # Past the position, the same request reads the replica: held there while the work is
    # renamed, it shows the name the token's write gave it.
    _wait_for(lambda: _replayed_past(replica, token), replica)
    replica_sql(replica, "SELECT pg_wal_replay_pause()")
    try:
        etag = program.get(url, headers=bearer).headers["ETag"]
        renamed = {"properties": {"name": "整合確認橋（改）"}}
        edited = program.patch(url, json=renamed, headers=bearer | {"If-Match": etag})
        assert edited.status_code == 200, edited.get_data(as_text=True)
        answer = program.get(url, headers={CONSISTENCY_HEADER: token})
        assert answer.get_json()["properties"]["name"] == "整合確認橋"
        newer = {CONSISTENCY_HEADER: edited.headers[CONSISTENCY_HEADER]}
        assert (
            program.get(url, headers=newer).get_json()["properties"]["name"] == "整合確認橋（改）"
        )
    finally:
        replica_sql(replica, "SELECT pg_wal_replay_resume()")
    for name in ("db_engine", "db_read_engine"):
        app.extensions[name].dispose()


def test_wal_positions_are_read_as_postgresql_writes_them():
    assert parse_lsn("0/3000148") == 0x3000148
    assert parse_lsn("16/B374D848") == (0x16 << 32) | 0xB374D848
    assert parse_lsn("16/B374D848") > parse_lsn("15/FFFFFFFF")
    for unreadable in (None, "", "3000148", "0/", "/1", "0/+1", "0/1_0", "123456789/0"):
        assert parse_lsn(unreadable) is None


def _pg_ctl(replica, *args: str) -> None:
    _port, data = replica
    as_postgres(str(PG_BIN / "pg_ctl"), "-D", f"{data}/pgdata", "-l", f"{data}/log", "-w", *args)


def _figures(base: str) -> dict[tuple[str, tuple], float]:
    text = requests.get(f"{base}/metrics", timeout=30).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_public_reads_go_to_the_primary_while_the_replica_is_stopped(
    primary_url, replica, staff_token, tmp_path
):
    settings = {
        "DATABASE_READ_URL": replica_url(primary_url, replica),
        "REPLICA_CHECK_S": "1",
        "REPLICA_RETRY_S": "2",
        "REPLICA_MAX_LAG_S": "3600",
    }
    bearer = {"Authorization": f"Bearer {staff_token}"}
    with gunicorn(primary_url, tmp_path, **settings) as (base, process):
        made = requests.post(
            f"{base}/api/projects", json=_new_work("停止確認橋"), headers=bearer, timeout=30
        )
        assert made.status_code == 201, made.text
        work = made.json()["id"]
        paths = (
            "/", "/plan", "/near?q=宮地", "/api/projects", f"/api/projects/{work}",
            "/ogc/collections/projects/items", f"/ogc/collections/projects/items/{work}",
        )  # fmt: skip
        _wait_for(lambda: requests.get(f"{base}{paths[4]}", timeout=30).status_code == 200, replica)
        assert requests.get(f"{base}/healthz", timeout=30).json()["replica"] == "ok"

        _pg_ctl(replica, "-m", "fast", "stop")
        try:
            # Every worker, every public read: answered from the primary.
            for _round in range(4):
                for path in paths:
                    answer = requests.get(f"{base}{path}", timeout=30)
                    assert answer.status_code == 200, (path, answer.text[:300])
            health = requests.get(f"{base}/healthz", timeout=30)
            assert health.status_code == 200
            assert health.json() == {"database": "ok", "replica": "unavailable",
                                     "replica_lag_s": None}  # fmt: skip
            figures = _figures(base)
            assert figures[("tracker_replica_up", ())] == 0
            assert figures[("tracker_replica_fallbacks_total", (("reason", "unavailable"),))] > 0
        finally:
            _pg_ctl(replica, "start")

        # Back: once checked again, the replica answers the public reads again. Held where it
        # is, it does not know a work made now, which the primary would show.
        _wait_for(lambda: requests.get(f"{base}/healthz", timeout=30).json()["replica"] == "ok",
                  replica)  # fmt: skip
        replica_sql(replica, "SELECT pg_wal_replay_pause()")
        try:
            later = requests.post(
                f"{base}/api/projects", json=_new_work("再開確認橋"), headers=bearer, timeout=30
            )
            assert later.status_code == 201, later.text
            unseen = f"{base}/api/projects/{later.json()['id']}"
            _wait_for(lambda: requests.get(unseen, timeout=30).status_code == 404, replica)
            assert _figures(base)[("tracker_replica_up", ())] == 1
        finally:
            replica_sql(replica, "SELECT pg_wal_replay_resume()")
    log = process.stdout.read()
    assert "read replica unavailable, reads go to the primary" in log
    assert "read replica answers reads" in log


def test_a_replica_further_behind_than_allowed_sends_reads_to_the_primary(
    primary_url, replica, staff_token, tmp_path
):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": primary_url,
            "DATABASE_READ_URL": replica_url(primary_url, replica),
            "REPLICA_MAX_LAG_S": 1,
            "REPLICA_CHECK_S": 0.2,
            "SECRET_KEY": "test-secret",
            "UPLOAD_DIR": str(tmp_path / "uploads"),
        }
    )
    bearer = {"Authorization": f"Bearer {staff_token}"}
    client = app.test_client(use_cookies=False)
    replica_sql(replica, "SELECT pg_wal_replay_pause()")
    try:
        created = client.post("/api/projects", json=_new_work("遅延確認橋"), headers=bearer)
        assert created.status_code == 201, created.get_data(as_text=True)
        url = f"/api/projects/{created.get_json()['id']}"
        # Held where it is, the replica falls behind the primary; once more than a second
        # behind, public reads go to the primary, which knows the new work.
        _wait_for(lambda: client.get("/healthz").get_json()["replica"] == "lagging", replica)
        assert client.get(url).status_code == 200
        lag = client.get("/healthz").get_json()["replica_lag_s"]
        # Past the 1 s limit, as /healthz rounds it to a tenth (1.04 s reads 1.0).
        assert lag is None or lag >= 1
    finally:
        replica_sql(replica, "SELECT pg_wal_replay_resume()")
    _wait_for(lambda: client.get("/healthz").get_json()["replica"] == "ok", replica)
    for name in ("db_engine", "db_read_engine"):
        app.extensions[name].dispose()
