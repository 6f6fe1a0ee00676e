"""Command-line tasks: migrations, loading data, demo data."""

import click
from alembic import command
from flask import Flask, current_app
from flask.cli import with_appcontext

from tracker.core import migrate


def init_app(app: Flask) -> None:
    """Register the commands."""
    app.cli.add_command(db_group)
    app.cli.add_command(load_data_command)
    app.cli.add_command(remove_samples_command)
    app.cli.add_command(demo_data_command)
    app.cli.add_command(sweep_photos_command)

    from tracker.backup.cli import register

    register(app)


@click.group("db")
def db_group() -> None:
    """Manage the database schema."""


@db_group.command("upgrade")
@click.argument("revision", default="heads")
def db_upgrade(revision: str) -> None:
    """Apply the migrations."""
    migrate.upgrade(current_app.config["DATABASE_URL"], revision)


@db_group.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Undo migrations down to REVISION."""
    migrate.downgrade(current_app.config["DATABASE_URL"], revision)


@db_group.command("revision")
@click.option("-m", "--message", required=True)
@click.option("--head", default="head")
def db_revision(message: str, head: str) -> None:
    """Write a new migration from the difference between models and database."""
    cfg = migrate.alembic_config(current_app.config["DATABASE_URL"])
    command.revision(cfg, message=message, autogenerate=True, head=head)


@click.command("load-data")
@with_appcontext
@click.option(
    "--samples/--no-samples",
    default=None,
    help="Load the sample works too (default: SAMPLE_DATA, which is on unless set to 0).",
)
def load_data_command(samples: bool | None) -> None:
    """Load the plan catalogue, the city's geodata and, unless told not to, the sample data."""
    from tracker.wiring.loaders import load_all

    if samples is None:
        samples = current_app.config["SAMPLE_DATA"]
    with current_app.extensions["db_sessionmaker"]() as session:
        for line in load_all(session, current_app.config["GEODATA_DIR"], samples=samples):
            click.echo(line)
        session.commit()


@click.command("remove-samples")
@with_appcontext
@click.option(
    "--include-recorded",
    is_flag=True,
    help="Remove sample works people have recorded on too (their records go with them).",
)
def remove_samples_command(include_recorded: bool) -> None:
    """Take the sample works, restrictions, figures, history and photos out of the database."""
    from tracker.core.errors import BadInput
    from tracker.wiring.samples import remove_photo_files, remove_samples

    with current_app.extensions["db_sessionmaker"]() as session:
        try:
            removal = remove_samples(session, include_recorded=include_recorded)
        except BadInput as refusal:
            raise click.ClickException(refusal.text) from None
        session.commit()
        files = remove_photo_files(session, current_app.config["UPLOAD_DIR"])
    for line in removal.lines():
        click.echo(line)
    click.echo(f"photo files removed: {files}")
    click.echo("load-data will not load sample data into this database again")


@click.command("demo-data")
@click.option("--projects", "count", type=click.IntRange(1, 1_000_000), required=True)
@click.option(
    "--database-url",
    envvar="DEMO_DATABASE_URL",
    help="The database to fill (DATABASE_URL also names one).",
)
@click.option("--seed", type=int, default=1)
def demo_data_command(count: int, database_url: str | None, seed: int) -> None:
    """Add COUNT synthetic projects inside the city, to a database named on purpose."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from tracker.projects.demo import add_demo_projects

    if database_url is None:
        if not current_app.config["DATABASE_URL_FROM_ENV"]:
            raise click.UsageError(
                "name the database to fill: --database-url URL (or DATABASE_URL); "
                "demo data never goes to the run database by default"
            )
        database_url = current_app.config["DATABASE_URL"]
    engine = create_engine(database_url)
    with Session(engine) as session:
        added = add_demo_projects(session, count, seed=seed)
        session.commit()
    engine.dispose()
    click.echo(f"added {added} demo projects")


@click.command("sweep-photos")
@with_appcontext
@click.option(
    "--grace-minutes",
    type=click.IntRange(0),
    default=60,
    help="Leave other hosts' staged uploads younger than this (shared UPLOAD_DIR).",
)
def sweep_photos_command(grace_minutes: int) -> None:
    """Remove photo files a crash left without their row; finish moves a crash interrupted."""
    from datetime import timedelta

    from tracker.updates.sweep import sweep_photos

    with current_app.extensions["db_sessionmaker"]() as session:
        result = sweep_photos(
            session, current_app.config["UPLOAD_DIR"], grace=timedelta(minutes=grace_minutes)
        )
    click.echo(
        f"removed {result.removed} photo files without a row; "
        f"moved {result.completed} files of committed photos into place"
        + (f"; left {result.skipped_folders} uploads in progress" if result.skipped_folders else "")
    )
