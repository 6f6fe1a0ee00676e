"""What a backup holds: row counts per table and a sha256 per photo file."""

import hashlib
import json
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection

MANIFEST = "manifest.json"
DUMP = "database.dump"
PHOTOS = "photos"
FORMAT = 1


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
    if manifest.get("format") != FORMAT:
        raise ValueError(f"backup format {manifest.get('format')!r} is not {FORMAT}")
    return manifest
