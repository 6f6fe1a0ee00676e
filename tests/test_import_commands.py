"""The command-line import of works lists and of hazard layers."""

import os
import subprocess

import pytest
from sqlalchemy import create_engine, func, select, text

from config import ROOT
from tests.hazard_files import a33_zip, square
from tests.live_database import build_database, sibling_url
from tracker.hazards.models import HazardZone
from tracker.projects.models import Project

ROWS = "事業番号,事業名,種別,担当課,緯度,経度\r\nC-1,宮地の橋,橋梁,建設課,32.937,131.11879\r\n"


def test_import_projects_dry_run_then_import(app, session, tmp_path):
    path = tmp_path / "works.csv"
    path.write_bytes(ROWS.encode("cp932"))
    runner = app.test_cli_runner()

    dry = runner.invoke(args=["import-projects", str(path), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "文字コード: Shift_JIS（cp932）" in dry.output and "2: 追加 宮地の橋" in dry.output
    assert session.scalar(select(Project).where(Project.external_id == "C-1")) is None

    done = runner.invoke(args=["import-projects", str(path)])
    assert done.exit_code == 0 and "取り込みました" in done.output
    assert session.scalar(select(Project.name).where(Project.external_id == "C-1")) == "宮地の橋"


def test_import_projects_refuses_and_says_why(app, session, tmp_path):
    path = tmp_path / "works.csv"
    path.write_bytes((ROWS + "C-2,遠い橋,橋梁,建設課,33.5,131.5\r\n").encode())
    result = app.test_cli_runner().invoke(args=["import-projects", str(path)])
    assert result.exit_code != 0
    assert "3: 取込不可 遠い橋" in result.output and "何も書き込んでいません" in result.output
    assert session.scalar(select(func.count()).where(Project.external_id.in_(["C-1", "C-2"]))) == 0

    odd = tmp_path / "odd.csv"
    odd.write_bytes("事業名,謎\r\nx,y\r\n".encode())
    result = app.test_cli_runner().invoke(args=["import-projects", str(odd)])
    assert result.exit_code != 0 and "「謎」" in result.output


def test_import_hazards_command(app, session, tmp_path):
    path = tmp_path / "A33.zip"
    path.write_bytes(a33_zip(tmp_path / "a33", [(square(131.11879, 32.937), 2, 1, "宮地川")]))
    result = app.test_cli_runner().invoke(args=["import-hazards", str(path), "--kind", "sediment"])
    assert result.exit_code == 0, result.output
    assert "cp932" in result.output and "市にかかる 1" in result.output
    assert session.scalar(select(HazardZone.hazard)) == "debris_flow"

    wrong = app.test_cli_runner().invoke(args=["import-hazards", str(path), "--kind", "flood"])
    assert wrong.exit_code != 0 and "A31_001" in wrong.output
    assert session.scalar(select(func.count()).select_from(HazardZone)) == 1


# --- A connection lost in the middle -------------------------------------------------------------

# The database ends the import's own connection, as a restart or an administrator would: while
# the rows are written, or at COMMIT (a deferred trigger runs there).
LOSE_CONNECTION = """
CREATE FUNCTION lose_connection() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_terminate_backend(pg_backend_pid());
    RETURN NEW;
END $$
"""
WHILE_WRITING = (
    "CREATE TRIGGER lose_connection BEFORE INSERT ON projects FOR EACH ROW"
    " WHEN (NEW.name LIKE '接続断%') EXECUTE FUNCTION lose_connection()"
)
AT_COMMIT = (
    "CREATE CONSTRAINT TRIGGER lose_connection AFTER INSERT ON projects"
    " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW"
    " WHEN (NEW.name LIKE '接続断%') EXECUTE FUNCTION lose_connection()"
)


@pytest.fixture(scope="module")
def committed_url(database_url):
    """A database of its own, committed to: the command runs in another process."""
    url = build_database(sibling_url(database_url, "import_loss"))
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO departments (name) VALUES ('建設課')"))
        conn.execute(text(LOSE_CONNECTION))
    engine.dispose()
    return url


def _import_in_a_process(url: str, path, tmp_path) -> subprocess.CompletedProcess:
    env = os.environ | {
        "DATABASE_URL": url,
        "SECRET_KEY": "t",
        "TRACKER_INSTANCE_DIR": str(tmp_path),
    }
    return subprocess.run(
        [str(ROOT / ".venv" / "bin" / "flask"), "--app", "tracker", "import-projects", str(path)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.mark.parametrize("when", [WHILE_WRITING, AT_COMMIT], ids=["while-writing", "at-commit"])
def test_a_lost_connection_ends_in_one_line_and_lists_no_row(committed_url, tmp_path, when):
    rows = "".join(f"S-{n},接続断の橋{n},橋梁,建設課,32.937,131.11879\r\n" for n in range(200))
    path = tmp_path / "works.csv"
    path.write_text("事業番号,事業名,種別,担当課,緯度,経度\r\n" + rows, encoding="utf-8")
    engine = create_engine(committed_url)
    with engine.begin() as conn:
        conn.execute(text(when))
    try:
        result = _import_in_a_process(committed_url, path, tmp_path)
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP TRIGGER lose_connection ON projects"))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "追加" not in result.stdout + result.stderr
    said = result.stderr.strip().splitlines()
    assert len(said) == 1 and "接続が切れ" in said[0] and "何も書き込んでいません" in said[0]
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM projects")) == 0
    engine.dispose()

    # The same file once the database is well again: each row is listed once it is written.
    done = _import_in_a_process(committed_url, path, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(": 追加 ID ") == 200 and "取り込みました" in done.stdout
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM project_changes"))
        conn.execute(text("DELETE FROM projects"))
