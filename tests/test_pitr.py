"""Point-in-time recovery with pgBackRest, as deploy/pgbackrest sets it up for the city.

A throwaway PostgreSQL 15 cluster on a free port, run as the postgres user, archives its WAL
through the shipped archiving.conf into a pgBackRest repository configured by the shipped
pgbackrest.conf (its paths moved into a temporary folder). A full and an incremental backup,
writes A, a restore point, writes B (the mistake); then a restore to the restore point into a
fresh data directory brings back A and not B. Removed after.
"""

import configparser
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from config import ROOT
from tests.test_replica import PG_BIN, as_postgres, free_port

DEPLOY = ROOT / "deploy" / "pgbackrest"
STANZA = "aso-tracker"


class Cluster:
    """A cluster in a folder of its own, and pgBackRest configured for it."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()
        self.config = folder / "pgbackrest.conf"
        self.running: list[Path] = []

    def write_config(self) -> None:
        """Write the shipped pgbackrest.conf with its paths moved here."""
        shipped = configparser.ConfigParser(interpolation=None)
        shipped.read(DEPLOY / "pgbackrest.conf")
        assert set(shipped.sections()) == {"global", STANZA}
        here = {
            "repo1-path": self.folder / "repo",
            "log-path": self.folder / "log",
            "lock-path": self.folder / "lock",
            "spool-path": self.folder / "spool",
            "pg1-path": self.data,
            "pg1-port": self.port,
            "pg1-socket-path": self.folder,
        }
        lines = []
        for section in shipped.sections():
            values = dict(shipped[section])
            moved = {
                k: str(v) for k, v in here.items() if k.startswith("pg1-") == (section != "global")
            }
            assert set(moved) - {"lock-path", "spool-path"} <= set(values)
            lines += [f"[{section}]", *(f"{k}={v}" for k, v in (values | moved).items())]
        as_postgres("tee", str(self.config), input="\n".join(lines) + "\n")

    def pgbackrest(self, *args: str) -> str:
        try:
            done = as_postgres("pgbackrest", f"--config={self.config}", f"--stanza={STANZA}", *args)
        except subprocess.CalledProcessError as failed:
            pytest.fail(f"pgbackrest {' '.join(args)}: {failed.stdout}{failed.stderr}")
        return done.stdout

    def start(self, data: Path) -> None:
        # archive-push and archive-get, run by the server, find the configuration this way.
        as_postgres(
            "env", f"PGBACKREST_CONFIG={self.config}", str(PG_BIN / "pg_ctl"), "-D", str(data),
            "-l", str(self.folder / f"{data.name}.log"), "-w", "start",
        )  # fmt: skip
        self.running.append(data)

    def stop(self, data: Path) -> None:
        as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        self.running.remove(data)

    def sql(self, query: str, port: int | None = None) -> str:
        return as_postgres(
            "psql", "-h", str(self.folder), "-p", str(port or self.port), "-d", "postgres",
            "-v", "ON_ERROR_STOP=1", "-tAc", query,
        ).stdout.strip()  # fmt: skip


@pytest.fixture
def cluster():
    folder = Path(tempfile.mkdtemp(prefix="aso-pitr-"))
    shutil.chown(folder, "postgres", "postgres")
    folder.chmod(0o700)
    made = Cluster(folder)
    try:
        as_postgres(
            str(PG_BIN / "initdb"), "-D", str(made.data), "-U", "postgres", "--auth=trust",
            "-E", "UTF8", "--locale=C.UTF-8",
        )  # fmt: skip
        made.write_config()
        # The cluster's own place, then the shipped archiving settings as they are.
        settings = (
            f"port = {made.port}\nlisten_addresses = ''\nunix_socket_directories = '{folder}'\n"
            "shared_buffers = 32MB\nmax_connections = 20\n"
            + (DEPLOY / "archiving.conf").read_text()
        )
        as_postgres("tee", "-a", str(made.data / "postgresql.conf"), input=settings)
        made.start(made.data)
        yield made
    finally:
        for data in list(made.running):
            made.stop(data)
        shutil.rmtree(folder, ignore_errors=True)


def test_a_restore_to_a_restore_point_brings_back_the_writes_before_it_and_not_the_mistake(
    cluster,
):
    cluster.pgbackrest("stanza-create")
    cluster.pgbackrest("check")  # archiving works: a WAL segment reached the repository
    cluster.pgbackrest("--type=full", "backup")
    cluster.sql("CREATE TABLE field_updates (id int PRIMARY KEY, note text NOT NULL)")
    cluster.sql("INSERT INTO field_updates VALUES (1, '朝の更新')")
    cluster.pgbackrest("--type=incr", "backup")
    # Writes A: a day of field updates after the last backup, in the WAL only.
    cluster.sql("INSERT INTO field_updates VALUES (2, '昼の更新 A'), (3, '夕方の更新 A')")
    cluster.sql("SELECT pg_create_restore_point('before-mistake')")
    # Writes B, the mistake: a row lost and a wrong one written.
    cluster.sql("DELETE FROM field_updates WHERE id = 1")
    cluster.sql("INSERT INTO field_updates VALUES (4, '誤った一括更新 B')")
    cluster.pgbackrest("check")  # the segment holding the restore point is archived
    info = cluster.pgbackrest("info")
    assert "full backup" in info and "incr backup" in info

    # The damaged cluster is stopped; the restore goes into a fresh data directory.
    cluster.stop(cluster.data)
    restored = cluster.folder / "restored"
    as_postgres("install", "-d", "-m", "700", str(restored))
    cluster.pgbackrest(
        f"--pg1-path={restored}", "--type=name", "--target=before-mistake",
        "--target-action=promote", "restore",
    )  # fmt: skip
    port = free_port()
    as_postgres("tee", "-a", str(restored / "postgresql.conf"), input=f"port = {port}\n")
    cluster.start(restored)
    deadline = time.monotonic() + 120
    while cluster.sql("SELECT pg_is_in_recovery()", port) != "f":
        assert time.monotonic() < deadline, "the restored cluster did not finish its recovery"
        time.sleep(0.2)

    rows = cluster.sql("SELECT id || ' ' || note FROM field_updates ORDER BY id", port)
    assert rows.splitlines() == ["1 朝の更新", "2 昼の更新 A", "3 夕方の更新 A"]
    # A new timeline: the restored cluster takes writes again.
    cluster.sql("INSERT INTO field_updates VALUES (4, '復旧後の更新')", port)
