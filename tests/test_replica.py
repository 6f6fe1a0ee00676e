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
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from tests.conftest import GEODATA, MIYAJI_STATION
from tracker import create_app
from tracker.accounts.models import Department, User
from tracker.accounts.operations import create_token
from tracker.core import migrate
from tracker.core.dbadmin import recreate_database
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
                # A standby needs at least the primary's limits; 200 covers a default of 100.
                "max_connections = 200\nshared_buffers = 32MB\nlogging_collector = off\n"
            ),
            "pg_hba.conf": "local all postgres peer\nhost all all 127.0.0.1/32 scram-sha-256\n",
            "pg_ident.conf": "",
        }
        for name, content in settings.items():
            as_postgres("tee", str(pgdata / name), input=content)
        as_postgres(
            str(PG_BIN / "pg_ctl"), "-D", str(pgdata), "-l", str(data / "log"), "-w", "start"
        )
        yield port, str(data)
        as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(pgdata), "-m", "fast", "-w", "stop")
    finally:
        shutil.rmtree(data, ignore_errors=True)


def replica_sql(replica, sql: str, database: str = "postgres") -> str:
    port, sockets = replica
    command = ("psql", "-h", sockets, "-p", str(port), "-d", database, "-tAc", sql)
    return as_postgres(*command).stdout.strip()


def test_reads_go_to_the_replica_and_writes_to_the_primary(primary_url, replica, tmp_path):
    port, _ = replica
    read_url = urlparse(primary_url)._replace(netloc=f"tracker:tracker@127.0.0.1:{port}").geturl()
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


def _wait_for(condition, replica, seconds: float = 30) -> None:
    """Wait until the replica has replayed far enough for the condition to hold."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the replica did not catch up in time"
        time.sleep(0.1)
