"""`flask backup DIR` and `flask restore DIR`."""

import shutil
import tempfile
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url

from tracker.backup import database, manifest
from tracker.core import clock
from tracker.updates.models import CONTENT_TYPES
from tracker.updates.photos import VARIANTS, photo_path


def register(app: Flask) -> None:
    """Add the backup commands to `flask`."""
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)


def _photo_files(conn: Connection) -> list[str]:
    """Return every photo file the database refers to, relative to UPLOAD_DIR."""
    rows = conn.execute(text("SELECT storage_key, content_type FROM photos ORDER BY id"))
    files = []
    for key, content_type in rows:
        for variant in ("original", *VARIANTS):
            path = photo_path(".", key, variant, CONTENT_TYPES[content_type])
            files.append(path.as_posix().removeprefix("./"))
    return files


@click.command("backup")
@with_appcontext
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def backup_command(folder: Path) -> None:
    """Write the database (pg_dump) and the photos, with a manifest, into a new FOLDER."""
    if folder.exists() and any(folder.iterdir()):
        raise click.ClickException(f"{folder} is not empty; back up into a new folder")
    folder.mkdir(parents=True, exist_ok=True)
    url = current_app.config["DATABASE_URL"]
    upload_dir = Path(current_app.config["UPLOAD_DIR"])
    engine = create_engine(url, isolation_level="REPEATABLE READ")
    photos, missing = {}, []
    with engine.connect() as conn:
        # One snapshot for the dump, the counts and the list of photos: all three describe
        # the same moment however busy the server is.
        snapshot = conn.scalar(text("SELECT pg_export_snapshot()"))
        try:
            database.dump(url, folder / manifest.DUMP, snapshot=snapshot)
        except database.ToolFailed as failed:
            raise click.ClickException(
                f"pg_dump failed ({failed.reason}): {folder} holds no usable backup; delete it"
                " and run the backup again"
            ) from None
        counts = manifest.table_counts(conn)
        revision = conn.scalar(text("SELECT version_num FROM alembic_version LIMIT 1"))
        files = _photo_files(conn)
    engine.dispose()
    # Copied after the dump: a photo's files are in place once its row is committed.
    for relative in files:
        source = upload_dir / relative
        if not source.exists():
            missing.append(relative)
            continue
        target = folder / manifest.PHOTOS / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        photos[relative] = {"sha256": manifest.sha256(target), "bytes": target.stat().st_size}
    manifest.write(
        folder,
        {
            "created_at": clock.now().isoformat(timespec="seconds"),
            "database": make_url(url).database,
            "revision": revision,
            "dump": manifest.file_facts(folder / manifest.DUMP),
            "tables": counts,
            "photos": photos,
            "missing_photos": missing,
        },
    )
    click.echo(
        f"backed up {sum(counts.values())} rows in {len(counts)} tables and "
        f"{len(photos)} photo files to {folder}"
    )
    if missing:
        click.echo(f"warning: {len(missing)} photo files named in the database were missing")


def _check_photos(folder: Path, listed: dict) -> list[str]:
    return [
        relative
        for relative, facts in listed.items()
        if not (folder / relative).exists() or manifest.sha256(folder / relative) != facts["sha256"]
    ]


@click.command("restore")
@with_appcontext
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def restore_command(folder: Path) -> None:
    """Restore a backup FOLDER into the empty database DATABASE_URL names, and its photos."""
    try:
        facts = manifest.read(folder)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    # The dump first: a damaged one is refused in words before anything is touched.
    problem = manifest.dump_problem(folder, facts)
    if problem:
        raise click.ClickException(f"the backup is damaged: {problem}; nothing was restored")
    damaged = _check_photos(folder / manifest.PHOTOS, facts["photos"])
    if damaged:
        raise click.ClickException(f"the backup is damaged: {len(damaged)} photo files differ")
    url = current_app.config["DATABASE_URL"]
    upload_dir = Path(current_app.config["UPLOAD_DIR"])
    engine = create_engine(url)
    with engine.connect() as conn:
        tables = manifest.table_counts(conn)
        has_postgis = conn.scalar(text("SELECT 1 FROM pg_extension WHERE extname = 'postgis'"))
    if tables:
        raise click.ClickException(
            f"database {make_url(url).database} is not empty ({len(tables)} tables); "
            "restore into a new database"
        )
    if not has_postgis:
        raise click.ClickException(
            "the database has no PostGIS: create it from aso_tracker_template, "
            "or run CREATE EXTENSION postgis in it as a superuser"
        )
    clashes = [r for r in facts["photos"] if (upload_dir / r).exists()]
    if clashes:
        raise click.ClickException(f"{len(clashes)} photo files already exist in {upload_dir}")

    with tempfile.TemporaryDirectory() as work:
        try:
            said = database.restore(url, folder / manifest.DUMP, Path(work))
        except database.ToolFailed as failed:
            # One transaction (--single-transaction): a failure leaves the database empty.
            raise click.ClickException(
                f"the database dump could not be restored ({failed.reason}); nothing was"
                f" written to {make_url(url).database}: restore from another backup folder"
            ) from None
    if "dump" not in facts:
        click.echo(
            f"note: this backup's manifest has no sha256 of {manifest.DUMP} (made before"
            " it was recorded): the dump was restored unchecked"
        )
    if said:
        click.echo(said)
    for relative in facts["photos"]:
        target = upload_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(folder / manifest.PHOTOS / relative, target)

    with engine.connect() as conn:
        counts = manifest.table_counts(conn)
    engine.dispose()
    problems = [
        f"{table}: {counts.get(table)} rows, the backup had {n}"
        for table, n in facts["tables"].items()
        if counts.get(table) != n
    ]
    problems += [f"photo {r} differs" for r in _check_photos(upload_dir, facts["photos"])]
    if problems:
        raise click.ClickException(
            "restored, but it does not match the backup:\n" + "\n".join(problems)
        )
    click.echo(
        f"restored {sum(counts.values())} rows in {len(counts)} tables and "
        f"{len(facts['photos'])} photo files; counts and hashes match the backup"
    )
