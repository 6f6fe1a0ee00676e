"""`flask import-projects FILE [--dry-run]`: the same import as the staff page; and
`flask run-import-jobs`: the worker that runs the page's checks and imports."""

import signal
import threading
from pathlib import Path
from types import FrameType

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from tracker.core.errors import BadInput


def init_app(app: Flask) -> None:
    """Register the command."""
    app.cli.add_command(import_projects_command)
    app.cli.add_command(run_import_jobs_command)


@click.command("run-import-jobs")
@with_appcontext
@click.option("--once", is_flag=True, help="Run the jobs waiting now, then stop.")
@click.option(
    "--poll", type=click.FloatRange(0.1, 60), default=1.0, show_default=True,
    help="Seconds between looks at the queue when it is empty.",
)  # fmt: skip
def run_import_jobs_command(once: bool, poll: float) -> None:
    """Run the import page's checks and imports, one at a time, until stopped (SIGTERM or
    Ctrl-C: the job under way is finished first)."""
    from tracker.imports.jobs import work

    stop = threading.Event()

    def finish_then_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    if not once and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, finish_then_stop)
        signal.signal(signal.SIGINT, finish_then_stop)
    ran = work(
        current_app.extensions["db_sessionmaker"],
        once=once,
        poll_seconds=poll,
        stop=stop,
        said=click.echo,
    )
    if once:
        click.echo(f"{ran} import jobs run")


@click.command("import-projects")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row and say what would happen.")
@click.option("--epsg", type=int, help="CRS of coordinates the file does not declare.")
@click.option(
    "--column",
    "columns",
    multiple=True,
    metavar="HEADER=FIELD",
    help="Say which field a column holds (FIELD 'ignore' leaves it out).",
)
def import_projects_command(
    file: Path, dry_run: bool, epsg: int | None, columns: tuple[str, ...]
) -> None:
    """Import works from CSV, .xlsx, GeoJSON, GeoPackage or a zipped Shapefile."""
    from tracker.imports.operations import import_table
    from tracker.imports.reading import MAX_FILE_BYTES, read_table
    from tracker.imports.wording import outcome_label, reason_text

    chosen = {}
    for pair in columns:
        header, sep, field = pair.rpartition("=")
        if not sep:
            raise click.BadParameter(f"{pair}: write HEADER=FIELD", param_hint="--column")
        chosen[header] = field
    if file.stat().st_size > MAX_FILE_BYTES:
        raise click.ClickException(
            f"{file.name}: {file.stat().st_size / 1024 / 1024:.0f} MB は大きすぎます"
            f"（{MAX_FILE_BYTES // 1024 // 1024} MB まで）"
        )
    # The labels and reasons are the pages' words: they need a (Japanese) request context.
    with current_app.test_request_context(), current_app.extensions["db_sessionmaker"]() as session:
        try:
            table = read_table(file.read_bytes(), file.name, epsg=epsg)
            report = import_table(
                session, table, user=None, dry_run=dry_run, chosen=chosen, epsg=epsg
            )
        except BadInput as exc:
            raise click.ClickException(reason_text(exc)) from None
        for note in report.notes:
            click.echo(note)
        for header, field in report.columns:
            click.echo(f"列「{header}」→ {field}")
        for row in report.rows:
            line = f"{row.line}: {outcome_label(row.outcome)}"
            if row.project_id:
                line += f" ID {row.project_id}"
            if row.name:
                line += f" {row.name}"
            if row.error is not None:
                line += f" — {reason_text(row.error)}"
            click.echo(line)
        counts = "、".join(f"{outcome_label(k)} {n}" for k, n in report.counts.items())
        if report.written:
            session.commit()
            click.echo(f"取り込みました: {counts}")
        elif dry_run:
            click.echo(f"試行（書き込みなし）: {counts}")
        else:
            session.rollback()
            raise click.ClickException(f"取込不可の行があるため、何も書き込んでいません: {counts}")
