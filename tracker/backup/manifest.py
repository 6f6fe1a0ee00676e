"""What a backup holds: row counts per table, and the sha256 and size of the database dump and
of every photo file."""

import hashlib
import json
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection

MANIFEST = "manifest.json"
DUMP = "database.dump"
PHOTOS = "photos"
# 2: the dump's sha256 and size are recorded. A format 1 backup (without them) still restores.
FORMAT = 2
READABLE_FORMATS = (1, 2)


def table_counts(conn: Connection) -> dict[str, int]:
    """Count the rows of every table of the app (PostGIS's own left out)."""
    tables = conn.scalars(
        text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            " AND tablename <> 'spatial_ref_sys' ORDER BY tablename"
        )
    ).all()
    return {t: conn.scalar(text(f'SELECT count(*) FROM "{t}"')) for t in tables}


def sha256(path: Path) -> str:
    """Return the hex sha256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def write(folder: Path, manifest: dict) -> None:
    """Write the manifest into a backup folder."""
    manifest = {"format": FORMAT, **manifest}
    text_ = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True)
    (folder / MANIFEST).write_text(text_ + "\n", encoding="utf-8")


def read(folder: Path) -> dict:
    """Read a backup folder's manifest, refusing one this version cannot restore."""
    path = folder / MANIFEST
    if not path.exists():
        raise ValueError(f"{folder} holds no {MANIFEST}: not a backup folder")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("format") not in READABLE_FORMATS:
        raise ValueError(
            f"backup format {manifest.get('format')!r} is not one this version restores"
            f" ({', '.join(map(str, READABLE_FORMATS))})"
        )
    return manifest


def file_facts(path: Path) -> dict:
    """Return what the manifest records of a file: its sha256 and size in bytes."""
    return {"sha256": sha256(path), "bytes": path.stat().st_size}


def dump_problem(folder: Path, manifest: dict) -> str | None:
    """Say what is wrong with a backup's database dump, or None when it is as recorded.

    A format 1 manifest recorded nothing of the dump: only that it is there is checked.
    """
    dump = folder / DUMP
    if not dump.is_file():
        return f"{DUMP} is missing from {folder}"
    recorded = manifest.get("dump")
    if recorded is None:
        return None
    size = dump.stat().st_size
    if size != recorded["bytes"]:
        return f"{DUMP} is {size} bytes, the manifest says {recorded['bytes']}"
    if sha256(dump) != recorded["sha256"]:
        return f"{DUMP} does not match the sha256 in the manifest"
    return None
