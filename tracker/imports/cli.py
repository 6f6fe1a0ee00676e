"""`flask import-projects FILE [--dry-run]`: the same import as the staff page; and
`flask run-import-jobs`: the worker that runs the page's checks and imports."""

import signal
import threading
from pathlib import Path
from types import FrameType

import click
import psycopg
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

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
@click.option(
    "--position-only",
    is_flag=True,
    help="Accept a road, pavement or revetment given as one point (marked position only).",
)
def import_projects_command(
    file: Path, dry_run: bool, epsg: int | None, columns: tuple[str, ...], position_only: bool
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
            for note in table.notes:
                click.echo(note)
            report = import_table(
                session,
                table,
                user=None,
                dry_run=dry_run,
                chosen=chosen,
                epsg=epsg,
                position_only=position_only,
            )
            # Its number lets a new connection ask whether an unanswered COMMIT took effect.
            transaction = (
                session.scalar(text("SELECT pg_current_xact_id()::text"))
                if report.written
                else None
            )
        except BadInput as exc:
            raise click.ClickException(reason_text(exc)) from None
        except (DBAPIError, psycopg.OperationalError) as exc:
            if not _connection_lost(exc):
                raise
            raise click.ClickException(
                f"データベースとの接続が切れたため、確認の途中で止めました（{_first_line(exc)}）。"
                "何も書き込んでいません。データベースが動いていることを確かめて、"
                "もう一度実行してください"
            ) from None
        for header, field in report.columns:
            click.echo(f"列「{header}」→ {field}")
        counts = "、".join(f"{outcome_label(k)} {n}" for k, n in report.counts.items())
        if dry_run:
            click.echo("試行（書き込みなし）: 取り込んだ場合の各行の結果です")
            _echo_rows(report.rows)
            click.echo(f"試行（書き込みなし）: {counts}")
            return
        if not report.written:
            session.rollback()
            _echo_rows(report.refused)  # what to fix; the other rows were only checked
            raise click.ClickException(f"取込不可の行があるため、何も書き込んでいません: {counts}")
        try:
            session.commit()
        except (DBAPIError, psycopg.OperationalError) as exc:
            if not _connection_lost(exc):
                raise
            outcome = _outcome(transaction)
            if outcome != "committed":
                raise click.ClickException(_lost_at_commit(exc, outcome)) from None
        # Said only now: every line below names a row that is in the database.
        _echo_rows(report.rows)
        click.echo(f"取り込みました: {counts}")


def _echo_rows(rows: list) -> None:
    """Print one line per row: its line number, what became of it, and why if refused."""
    from tracker.imports.wording import outcome_label, reason_text

    for row in rows:
        line = f"{row.line}: {outcome_label(row.outcome)}"
        if row.project_id:
            line += f" ID {row.project_id}"
        if row.name:
            line += f" {row.name}"
        if row.errors:
            line += " — " + " / ".join(reason_text(error) for error in row.errors)
        click.echo(line)


def _connection_lost(error: Exception) -> bool:
    """Tell a lost connection from other database errors (a COPY raises the driver's own)."""
    if isinstance(error, DBAPIError):
        return error.connection_invalidated or isinstance(error.orig, psycopg.OperationalError)
    return isinstance(error, psycopg.OperationalError)


def _first_line(error: Exception) -> str:
    """Say why the connection went: the driver's words for the first error of the chain, first
    line only (a later one, raised while rolling back, says only that it is closed)."""
    first: BaseException = error
    cause = error.__context__
    while cause is not None:
        if isinstance(cause, DBAPIError | psycopg.Error):
            first = cause
        cause = cause.__context__
    words = str(getattr(first, "orig", None) or first).strip()
    return words.splitlines()[0] if words else type(first).__name__


def _outcome(transaction: str | None) -> str | None:
    """Ask a new connection whether a transaction whose COMMIT went unanswered took effect.

    Returns 'committed', 'aborted', or None when the database cannot be asked.
    """
    if transaction is None:
        return None
    engine = create_engine(current_app.config["DATABASE_URL"])
    try:
        with engine.connect() as conn:
            return conn.scalar(text("SELECT pg_xact_status(CAST(:x AS xid8))"), {"x": transaction})
    except DBAPIError:
        return None
    finally:
        engine.dispose()


def _lost_at_commit(error: Exception, outcome: str | None) -> str:
    if outcome == "aborted":
        return (
            f"書き込みを確定する途中でデータベースとの接続が切れました（{_first_line(error)}）。"
            "データベースは取り込みを取り消しました: 何も書き込んでいません。"
            "もう一度実行してください"
        )
    return (
        f"書き込みを確定する途中でデータベースとの接続が切れ（{_first_line(error)}）、"
        "取り込みが確定したかを確かめられませんでした（全部か、何もないかのどちらかです）。"
        "データベースが戻ってから --dry-run で確かめてください: "
        "取り込まれていれば、事業番号のある行は「変更なし」になります"
    )
