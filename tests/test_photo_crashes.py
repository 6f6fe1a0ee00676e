"""Photo files appear under photos/ only once their row is committed; a crash at any moment
leaves nothing there without a row, and the sweep tidies what it left elsewhere."""

import io
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests
from PIL import Image
from sqlalchemy import create_engine, text

from tests.live_database import build_database, gunicorn, sibling_url
from tests.test_photos import files_in, jpeg_with_gps
from tracker.projects.history import append_status
from tracker.updates.photos import STAGING, attach_photos, prepare_photo, staging_dir


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_files_move_into_place_only_when_the_row_is_committed(
    session, make_project, make_user, tmp_path
):
    project = make_project()
    update = append_status(session, project.id, user=make_user(), status="design", progress=5)
    attach_photos(session, update, [prepare_photo(jpeg_with_gps(), "a.jpg")], upload_dir=tmp_path)
    assert files_in(tmp_path / "photos") == []
    staged = files_in(staging_dir(tmp_path))
    assert len(staged) == 3
    session.commit()
    assert files_in(staging_dir(tmp_path)) == []
    placed = files_in(tmp_path / "photos")
    assert sorted(p.name for p in placed) == sorted(p.name for p in staged)


def _photo_row(session, make_project, make_user, upload_dir) -> str:
    project = make_project()
    update = append_status(session, project.id, user=make_user(), status="design", progress=5)
    photo = prepare_photo(jpeg_with_gps(), "a.jpg")
    attach_photos(session, update, [photo], upload_dir=upload_dir)
    session.commit()
    return photo.key


def test_the_sweep_finishes_committed_uploads_and_removes_the_rest(
    app, session, make_project, make_user
):
    uploads = Path(app.config["UPLOAD_DIR"])
    # A crash between the commit and the move: the row stands, its files are still staged.
    committed = _photo_row(session, make_project, make_user, uploads)
    dead = staging_dir(uploads, pid=_dead_pid())
    dead.mkdir(parents=True)
    for path in files_in(uploads / "photos"):
        path.rename(dead / path.name)
    # A crash before the commit: staged files whose row never was.
    (dead / "0123456789abcdef0123456789abcdef.jpg").write_bytes(jpeg_with_gps())
    (dead / "0123456789abcdef0123456789abcdef.thumb.jpg").write_bytes(b"x")
    # A process still uploading on this host: left alone.
    live = staging_dir(uploads, pid=os.getppid())
    live.mkdir(parents=True)
    (live / "fedcba9876543210fedcba9876543210.jpg").write_bytes(b"in progress")
    # An older version's orphan under photos/.
    orphan = uploads / "photos" / "ab" / "ab000000000000000000000000000000.display.jpg"
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"x")

    result = app.test_cli_runner().invoke(args=["sweep-photos"])
    assert result.exit_code == 0, result.output
    assert "removed 3 photo files without a row" in result.output
    assert "moved 3 files of committed photos into place" in result.output
    assert "left 1 uploads in progress" in result.output
    placed = {p.name.split(".")[0] for p in files_in(uploads / "photos")}
    assert placed == {committed} and len(files_in(uploads / "photos")) == 3
    assert not dead.exists() and (live / "fedcba9876543210fedcba9876543210.jpg").exists()
    # Served again, as if nothing had happened.
    photo_id = session.scalar(
        text("SELECT id FROM photos WHERE storage_key = :k"), {"k": committed}
    )
    assert app.test_client().get(f"/photos/{photo_id}/thumb").status_code == 200


def test_another_hosts_uploads_are_swept_only_after_the_grace(app, session):
    uploads = Path(app.config["UPLOAD_DIR"])
    elsewhere = uploads / STAGING / "other-host.4242"
    elsewhere.mkdir(parents=True)
    staged = elsewhere / "0123456789abcdef0123456789abcdef.jpg"
    staged.write_bytes(b"x")
    runner = app.test_cli_runner()
    assert "left 1 uploads in progress" in runner.invoke(args=["sweep-photos"]).output
    assert staged.exists()
    old = staged.stat().st_mtime - 2 * 3600  # the file system's clock, which the sweep reads
    os.utime(staged, (old, old))
    assert "removed 1 photo files" in runner.invoke(args=["sweep-photos"]).output
    assert not elsewhere.exists()


# --- kill -9 during a burst of photo updates -----------------------------------------------


@pytest.fixture(scope="module")
def crash_database(database_url):
    url = build_database(sibling_url(database_url, "crash"))
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO projects (name, kind, department, geom) VALUES"
                " ('宮地駅前橋 補修', 'bridge', '建設課',"
                "  ST_SetSRID(ST_MakePoint(131.11879, 32.937), 4326))"
            )
        )
        # Stamped by the database's clock: the servers below run in their own processes, on
        # the real clock, not on the tests' one.
        conn.execute(
            text(
                "INSERT INTO status_updates (project_id, status, progress, note, observed_at)"
                " SELECT id, 'planned', 0, '登録', now() FROM projects"
                " WHERE name = '宮地駅前橋 補修'"
            )
        )
    engine.dispose()
    return url


def _token(url: str, instance: Path) -> str:
    env = os.environ | {"DATABASE_URL": url, "TRACKER_INSTANCE_DIR": str(instance)}
    flask = [".venv/bin/flask", "--app", "tracker"]
    # Of the work's department, so that its updates are taken.
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO departments (name) VALUES ('建設課') ON CONFLICT DO NOTHING")
        )
    engine.dispose()
    for command in (
        ["create-user", "genba", "--role", "staff", "--department", "建設課", "--generate"],
        ["create-token", "genba", "--name", "photo bursts"],
    ):
        done = subprocess.run([*flask, *command], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip()


def _big_jpeg(seed: int) -> bytes:
    # Big enough (a phone photo) that writing and re-encoding take a while.
    image = Image.effect_noise((1600, 1200), 40 + seed).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    return out.getvalue()


def _orphans(url: str, uploads: Path) -> list[Path]:
    engine = create_engine(url)
    with engine.connect() as conn:
        keys = set(conn.scalars(text("SELECT storage_key FROM photos")))
    engine.dispose()
    return [p for p in files_in(uploads) if p.name.split(".")[0] not in keys]


def test_kill_9_during_a_burst_of_photo_updates_leaves_no_orphan(crash_database, tmp_path):
    token = _token(crash_database, tmp_path)
    assert token
    uploads = tmp_path / "uploads"
    photos = [_big_jpeg(n) for n in range(4)]
    engine = create_engine(crash_database)
    with engine.connect() as conn:
        project_id = conn.scalar(text("SELECT id FROM projects WHERE name = '宮地駅前橋 補修'"))
    engine.dispose()
    interrupted = 0
    for _round in range(4):
        with gunicorn(crash_database, tmp_path, new_session=True) as (base, process):
            # Starting ran the sweep: nothing the last kill left lacks its row.
            assert _orphans(crash_database, uploads) == []
            assert files_in(uploads / STAGING) == []
            stop = threading.Event()

            def send(stop=stop):
                while not stop.is_set():
                    try:
                        requests.post(
                            f"{base}/api/projects/{project_id}/updates",
                            data={"status": "construction", "progress": "50"},
                            files=[("photos", (f"p{i}.jpg", photos[i])) for i in range(4)],
                            headers={"Authorization": f"Bearer {token}"},
                            timeout=30,
                        )
                    except requests.RequestException:
                        return

            senders = [threading.Thread(target=send) for _ in range(6)]
            for sender in senders:
                sender.start()
            # Kill the server and its workers at once, while an upload is being staged.
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not files_in(uploads / STAGING):
                time.sleep(0.002)
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            stop.set()
            for sender in senders:
                sender.join()
            # Whatever the moment: nothing under photos/ lacks its row, even before a sweep.
            assert _orphans(crash_database, uploads / "photos") == []
            interrupted += bool(files_in(uploads / STAGING))
    with gunicorn(crash_database, tmp_path):
        assert _orphans(crash_database, uploads) == []
        assert files_in(uploads / STAGING) == []
    # The kills did catch uploads half-way (else this test would prove nothing).
    assert interrupted >= 2
