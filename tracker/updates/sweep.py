"""Photo files a crash left behind: staged files of uploads whose rows were never committed
are removed, those of committed rows are moved into place, and any file under photos/ that
names no photo row is removed.

A staging folder is named after its host and process. On this host, the folder of a process
that is still running is left alone (it may be mid-upload); on a host sharing UPLOAD_DIR,
whose processes this one cannot see, a folder is only swept after `grace` without a change.
"""

import os
import socket
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.core import clock
from tracker.updates.models import Photo
from tracker.updates.photos import STAGING, move_into_place, photo_path

DEFAULT_GRACE = timedelta(hours=1)


@dataclass
class SweepResult:
    """What a sweep did."""

    removed: int = 0  # files of photos without a row
    completed: int = 0  # staged files of committed photos moved into place
    skipped_folders: int = 0  # staging folders of live processes, or too recent to judge


def _key(name: str) -> str:
    return name.split(".", 1)[0]


def _running_here(folder: Path) -> bool:
    host, _, pid = folder.name.rpartition(".")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A killed worker nobody has reaped yet still answers kill(0), as a zombie.
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "\nState:\tZ" in status.read_text())


def _judgeable(folder: Path, files: list[Path], grace: timedelta, disk_now: float) -> bool:
    host = folder.name.rpartition(".")[0]
    if host == socket.gethostname():
        return not _running_here(folder)
    newest = max((p.stat().st_mtime for p in files), default=folder.stat().st_mtime)
    return disk_now - newest > grace.total_seconds()


def _known_keys(session: Session, keys: set[str]) -> set[str]:
    if not keys:
        return set()
    return set(session.scalars(select(Photo.storage_key).where(Photo.storage_key.in_(keys))))


def sweep_photos(
    session: Session, upload_dir: str | Path, grace: timedelta = DEFAULT_GRACE
) -> SweepResult:
    """Finish or remove what interrupted uploads left under UPLOAD_DIR; say what was done."""
    root = Path(upload_dir)
    result = SweepResult()
    staging = root / STAGING
    folders = sorted(p for p in staging.iterdir() if p.is_dir()) if staging.exists() else []
    # Ages of files are read on the file system's clock, which stamped them: read once, in
    # the staging folder itself, so that no folder being judged is touched by the reading.
    disk_now = clock.file_system_now(staging) if folders else 0.0
    for folder in folders:
        files = [p for p in folder.iterdir() if p.is_file()]
        if not _judgeable(folder, files, grace, disk_now):
            result.skipped_folders += bool(files)
            continue
        known = _known_keys(session, {_key(p.name) for p in files})
        for path in files:
            key = _key(path.name)
            if key in known and key.isalnum():
                variant = path.name.split(".")[1]
                kind = variant if variant in ("display", "thumb") else "original"
                move_into_place(path, photo_path(root, key, kind, variant))
                result.completed += 1
            else:
                path.unlink()
                result.removed += 1
        folder.rmdir()
    # Files in place whose row is gone or never was (an older version wrote files before
    # the commit; a half-finished restore; a copy by hand).
    placed = [p for p in (root / "photos").glob("*/*") if p.is_file()]
    known = _known_keys(session, {_key(p.name) for p in placed})
    for path in placed:
        if _key(path.name) not in known:
            path.unlink()
            result.removed += 1
    return result
