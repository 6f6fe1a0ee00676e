"""The import queue: the page queues a check or an import, a worker process runs it.

Reading and checking a file of thousands of rows takes seconds to minutes and hundreds of
megabytes; in a web worker it held a thread for as long and grew the process for good. Here
the web request only checks the file's size and shape (tracker.imports.limits) and stores it
with a job; `flask run-import-jobs` takes the jobs one at a time (SELECT … FOR UPDATE SKIP
LOCKED: two workers never take one job) and stores the report the page then shows.

An import writes its works and marks its job done in one transaction: a job is either done
with everything written, or nothing is. Files are dropped once imported, or after a day.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, func, insert, literal, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker, undefer

from tracker.accounts.models import User
from tracker.core import clock
from tracker.core.db import rows_changed
from tracker.core.errors import BadInput
from tracker.core.translate import gettext
from tracker.imports.models import ImportJob
from tracker.imports.operations import import_table
from tracker.imports.reading import read_table
from tracker.imports.results import page_status, report_json
from tracker.imports.wording import reason_text
from tracker.worksfiles.columns import FIELDS, recognise

EDITORS = ("admin", "staff")
# A checked file waits this long for its import, then it is deleted.
KEEP_FILES = timedelta(days=1)
# A running job whose worker has not been heard of for this long was left by a worker that
# died (killed, the machine restarted): it is marked failed. Jobs beat at least every few
# hundred rows; reading a 20 MB file, the longest step without a beat, takes well under this.
STALLED_AFTER = timedelta(minutes=10)
# How often a waiting worker looks for expired files and stalled jobs.
SWEEP_EVERY = timedelta(minutes=1)
# How long a worker waits before it tries a database that failed again.
DATABASE_RETRY_SECONDS = 10


def queue_upload(
    session: Session, *, kind: str, owner: User, filename: str, data: bytes, options: dict
) -> int:
    """Queue a check or an import of an uploaded file; return the job's id."""
    job = ImportJob(kind=kind, owner_id=owner.id, filename=filename, data=data, options=options)
    session.add(job)
    session.flush()
    return job.id


def queue_again(session: Session, *, source_id: int, owner: User, kind: str, options: dict) -> int:
    """Queue a check or an import of the file an earlier job of the same person holds (with
    other column choices, or for real after a check); the bytes are copied by the database."""
    found = session.execute(
        select(ImportJob.filename, ImportJob.data.is_not(None)).where(
            ImportJob.id == source_id, ImportJob.owner_id == owner.id
        )
    ).one_or_none()
    if found is None or not found[1]:
        raise BadInput(
            gettext(
                "このファイルはもうありません（取り込み済みか、1日を過ぎたため消しました）。"
                "もう一度ファイルを選んでください"
            ),
            field="file",
            code="file_expired",
        )
    copy = select(
        literal(kind),
        literal(owner.id),
        ImportJob.filename,
        ImportJob.data,
        literal(options, ImportJob.options.type),
    ).where(ImportJob.id == source_id)
    return session.execute(
        insert(ImportJob)
        .from_select(["kind", "owner_id", "filename", "data", "options"], copy)
        .returning(ImportJob.id)
    ).scalar_one()


def claim_next(session: Session) -> int | None:
    """Take the oldest queued job for this worker and mark it running; the caller commits.

    A job another worker is taking (its row locked) is skipped, not waited for."""
    job_id = session.scalar(
        select(ImportJob.id)
        .where(ImportJob.state == "queued")
        .order_by(ImportJob.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if job_id is None:
        return None
    now = clock.now()
    session.execute(
        update(ImportJob)
        .where(ImportJob.id == job_id)
        .values(state="running", started_at=now, heartbeat_at=now, stage="reading")
    )
    return job_id


@dataclass
class Sweep:
    """What one sweep did."""

    expired: int
    stalled: int


def sweep(session: Session) -> Sweep:
    """Drop the files of jobs older than a day (those jobs become expired) and fail the
    running jobs no worker is running any more; the caller commits."""
    now = clock.now()
    expired = session.execute(
        update(ImportJob)
        .where(
            ImportJob.created_at < now - KEEP_FILES,
            or_(
                ImportJob.state == "queued",
                and_(ImportJob.state.in_(("done", "failed")), ImportJob.data.is_not(None)),
            ),
        )
        .values(
            state="expired",
            data=None,
            result=None,
            stage=None,
            finished_at=func.coalesce(ImportJob.finished_at, now),
        )
    )
    stalled = session.execute(
        update(ImportJob)
        .where(ImportJob.state == "running", ImportJob.heartbeat_at < now - STALLED_AFTER)
        .values(state="failed", result={"status": 500, "failure": "stalled"}, finished_at=now)
    )
    return Sweep(rows_changed(expired), rows_changed(stalled))


class JobProgress:
    """Tells the page how far a job has come, in its own short transactions, every few
    hundred rows (and at each new stage): the import's own transaction stays open meanwhile."""

    def __init__(self, sessions: "sessionmaker[Session]", job_id: int) -> None:
        self.sessions = sessions
        self.job_id = job_id
        self.stage = ""
        self.done = -1

    def __call__(self, stage: str, done: int, total: int) -> None:
        """Record the stage and the rows done, unless little has changed since last time."""
        step = max(200, total // 50)
        if stage == self.stage and done - self.done < step and done != total:
            return
        self.stage, self.done = stage, done
        with self.sessions() as session:
            session.execute(
                update(ImportJob)
                .where(ImportJob.id == self.job_id, ImportJob.state == "running")
                .values(stage=stage, rows_done=done, rows_total=total, heartbeat_at=clock.now())
            )
            session.commit()


def run_job(sessions: "sessionmaker[Session]", job_id: int) -> str:
    """Run one claimed job to its end and return its state: done, or failed with the reason."""
    with sessions() as session:
        job = session.get(ImportJob, job_id, options=[undefer(ImportJob.data)])
        if job is None:
            return "failed"
        # The report speaks the language of the person who sent the file.
        lang = job.options.get("lang", "ja")
        with current_app.test_request_context("/", query_string={"lang": lang}):
            try:
                result, error = _perform(session, job, JobProgress(sessions, job_id))
            except Exception:
                session.rollback()
                current_app.logger.exception("import job %d failed", job_id)
                result, error = {"status": 500, "failure": "internal"}, None
        done = error is None and "failure" not in result
        imported = done and result.get("report", {}).get("written", False)
        finished = session.execute(
            update(ImportJob)
            .where(ImportJob.id == job_id, ImportJob.state == "running")
            .values(
                state="done" if done else "failed",
                result=result,
                error=error,
                stage=None,
                finished_at=clock.now(),
                # An imported file is not needed any more.
                **({"data": None} if imported else {}),
            )
        )
        if rows_changed(finished) == 0:
            # A sweep took the job for stalled meanwhile: the page says so; write nothing.
            session.rollback()
            return "failed"
        session.commit()
        return "done" if done else "failed"


def _perform(
    session: Session, job: ImportJob, progress: JobProgress
) -> tuple[dict[str, Any], str | None]:
    """Read the job's file and check or import it: (result, None), or (result, refusal)."""
    owner = session.get(User, job.owner_id)
    if owner is None or owner.role not in EDITORS:
        return {"status": 403, "failure": "forbidden"}, None
    if job.data is None:
        raise RuntimeError(f"import job {job.id} has no file")
    epsg = job.options.get("epsg")
    choices = job.options.get("columns") or {}
    result: dict[str, Any] = {"status": 400}
    try:
        table = read_table(job.data, job.filename, epsg=epsg)
    except BadInput as exc:
        return result, reason_text(exc)
    chosen = {
        header: choices[str(index)]
        for index, header in enumerate(table.headers)
        if choices.get(str(index)) in FIELDS
    }
    mapping = recognise(table.headers, chosen)
    result["columns"] = [[i, h, mapping[i]] for i, h in enumerate(table.headers)]
    # Kept as their words, so that the page says them in its reader's language.
    result["notes"] = [note.as_json() for note in table.notes]
    importing = job.kind == "import"
    try:
        report = import_table(
            session,
            table,
            user=owner,
            dry_run=not importing,
            chosen=chosen,
            epsg=epsg,
            progress=progress,
            position_only=bool(job.options.get("position_only")),
        )
    except BadInput as exc:
        return result, reason_text(exc)
    result["status"] = page_status(report, importing=importing)
    result["report"] = report_json(report)
    return result, None


def work(
    sessions: "sessionmaker[Session]",
    *,
    once: bool,
    poll_seconds: float = 1.0,
    stop: threading.Event | None = None,
    said: Callable[[str], None] = lambda _line: None,
) -> int:
    """Run queued jobs one at a time, sweeping now and then; with `once`, stop when none is
    left, else wait for more until `stop` is set. Return how many jobs were run."""
    stop = stop or threading.Event()
    ran = 0
    last_sweep = None
    while not stop.is_set():
        try:
            if last_sweep is None or clock.now() - last_sweep >= SWEEP_EVERY:
                with sessions() as session:
                    swept = sweep(session)
                    session.commit()
                last_sweep = clock.now()
                if swept.expired or swept.stalled:
                    said(f"expired {swept.expired} files, {swept.stalled} stalled jobs failed")
            with sessions() as session:
                job_id = claim_next(session)
                session.commit()
        except OperationalError as exc:
            if once:
                raise
            # The database restarting or out of reach: wait and try again, not exit.
            current_app.logger.warning("import worker: the database failed: %s", exc)
            stop.wait(DATABASE_RETRY_SECONDS)
            continue
        if job_id is not None:
            state = run_job(sessions, job_id)
            ran += 1
            said(f"import job {job_id}: {state}")
            continue
        if once:
            break
        stop.wait(poll_seconds)
    return ran
