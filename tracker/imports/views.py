"""The staff page /projects/import: upload, see the column mapping and every row's result, import.

The page posts the file and is sent on (303) to its job's page, which follows the job's
progress (a small JSON answer read by a script, or the page reloading itself without one)
and then shows the column mapping and every row's result; importing a checked file is a
second job. The worker, `flask run-import-jobs`, does the reading and checking.
"""

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from tracker.accounts.access import current_user, roles_required
from tracker.core.db import get_session
from tracker.core.errors import BadInput
from tracker.core.translate import gettext
from tracker.imports import samples
from tracker.imports.jobs import EDITORS, queue_again, queue_upload
from tracker.imports.limits import MAX_COLUMNS, MAX_ROWS
from tracker.imports.models import ImportJob
from tracker.imports.reading import MAX_FILE_BYTES, check_upload, note_text
from tracker.imports.results import ShownReport, errors_csv
from tracker.imports.wording import outcome_label, reason_text
from tracker.words.i18n import locale
from tracker.words.vocab import KIND_SYNONYMS, STATUS_SYNONYMS, kind_label, status_label
from tracker.worksfiles.columns import FIELDS, column_label

bp = Blueprint("imports", __name__)

# How often a page without JavaScript reloads itself while its job runs, in seconds.
RELOAD_SECONDS = 2


def _epsg(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 6:
        raise BadInput("EPSGコードは数字で入れてください（例 6670）", field="epsg")
    return int(raw)


def _job_number(raw: str | None) -> int:
    raw = (raw or "").strip()
    if not raw.isdigit() or len(raw) > 18:
        raise BadInput(gettext("もう一度ファイルを選んでください"), field="file")
    return int(raw)


@bp.get("/projects/import")
@roles_required(*EDITORS)
def import_page() -> ResponseReturnValue:
    """Show the upload form and the template downloads."""
    return _render(None, message=None, status=200)


@bp.post("/projects/import")
@roles_required(*EDITORS)
def import_upload() -> ResponseReturnValue:
    """Queue a check of an uploaded file, or an import of one already checked, and send the
    browser on to the job's page. A file too large or beyond the limits is refused at once."""
    form = request.form
    kind = "import" if form.get("action") == "import" else "check"
    user = current_user()
    if user is None:
        abort(403)
    try:
        options = {
            "epsg": _epsg(form.get("epsg")),
            # The columns as the page numbered them: the worker matches them to the headers.
            "columns": {
                str(index): form[f"column-{index}"]
                for index in range(MAX_COLUMNS)
                if form.get(f"column-{index}") in FIELDS
            },
            "lang": locale(),
            "position_only": form.get("position_only") == "1",
        }
        upload = request.files.get("file")
        if upload is not None and upload.filename:
            data = upload.read(MAX_FILE_BYTES + 1)
            filename = Path(upload.filename).name
            check_upload(data, filename)
            job_id = queue_upload(
                get_session(), kind=kind, owner=user, filename=filename, data=data,
                options=options,
            )  # fmt: skip
        else:
            job_id = queue_again(
                get_session(), source_id=_job_number(form.get("job")), owner=user, kind=kind,
                options=options,
            )  # fmt: skip
    except BadInput as exc:
        return _render(None, message=reason_text(exc), status=400)
    return redirect(url_for("imports.job_page", job_id=job_id), 303)


def _own_job(job_id: int) -> ImportJob:
    """Return the person's own job (another's is not found: its file is theirs)."""
    user = current_user()
    job = get_session().scalar(
        select(ImportJob).where(ImportJob.id == job_id, ImportJob.owner_id == (user and user.id))
    )
    if job is None:
        abort(404)
    return job


@bp.get("/projects/import/jobs/<int:job_id>")
@roles_required(*EDITORS)
def job_page(job_id: int) -> ResponseReturnValue:
    """Show a job: its progress while it waits or runs, then its mapping and report."""
    job = _own_job(job_id)
    context: dict[str, Any] = {"job": job, "filename": job.filename}
    if job.state in ("queued", "running"):
        return _render(None, message=None, status=202, progress=_progress_words(job), **context)
    if job.state == "expired":
        gone = gettext("このファイルは1日を過ぎたため消しました。もう一度ファイルを選んでください")
        return _render(None, message=gone, status=410, **context)
    result = job.result or {}
    context["epsg"] = job.options.get("epsg") or ""
    context["position_only"] = bool(job.options.get("position_only"))
    context["columns"] = result.get("columns")
    context["notes"] = [note_text(note) for note in result.get("notes", [])]
    report = ShownReport.from_json(result["report"]) if "report" in result else None
    message = job.error or _failure_words(result.get("failure"))
    # The import button needs the checked file, which an import has used.
    context["can_import"] = (
        report is not None and report.dry_run and not report.refused and job.kind == "check"
    )
    return _render(report, message=message, status=result.get("status", 500), **context)


@bp.get("/projects/import/jobs/<int:job_id>/progress")
@roles_required(*EDITORS)
def job_progress(job_id: int) -> ResponseReturnValue:
    """Answer how far the job has come, for the page's script: {state, finished, words}."""
    job = _own_job(job_id)
    response = jsonify(
        state=job.state,
        finished=job.state not in ("queued", "running"),
        rows_done=job.rows_done,
        rows_total=job.rows_total,
        words=_progress_words(job),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _progress_words(job: ImportJob) -> str:
    if job.state == "queued":
        return gettext("順番を待っています")
    if job.state != "running":
        return gettext("終わりました")
    if job.stage == "checking" and job.rows_total:
        return gettext(
            "行を確かめています（%(done)s / %(total)s 行）",
            done=f"{job.rows_done:,}",
            total=f"{job.rows_total:,}",
        )
    if job.stage == "writing" and job.rows_total:
        return gettext(
            "照らし合わせて書き込んでいます（%(done)s / %(total)s 行）",
            done=f"{job.rows_done:,}",
            total=f"{job.rows_total:,}",
        )
    return gettext("ファイルを読んでいます")


def _failure_words(failure: str | None) -> str | None:
    if failure == "stalled":
        return gettext(
            "処理していたプログラムが途中で止まりました。何も書き込んでいません。もう一度お試しください"
        )
    if failure == "forbidden":
        return gettext("このアカウントでは取り込めません")
    if failure == "internal":
        return gettext(
            "システムのエラーで止まりました。何も書き込んでいません。"
            "もう一度試して、同じなら管理者に知らせてください"
        )
    return None


def accepted_words() -> list[tuple[str, list[tuple[str, str, list[str]]]]]:
    """List the words the import reads for each kind and status: (heading, [(code, label,
    other words)]), for the page."""
    return [
        (
            gettext("種別"),
            [(code, kind_label(code), list(words)) for code, words in KIND_SYNONYMS.items()],
        ),
        (
            gettext("状況"),
            [(code, status_label(code), list(words)) for code, words in STATUS_SYNONYMS.items()],
        ),
    ]


def _render(
    report: ShownReport | None, *, message: str | None, status: int, **context: Any
) -> tuple[str, int]:
    return (
        render_template(
            "imports/import.html",
            report=report,
            message=message,
            fields=[(f, column_label(f)) for f in FIELDS],
            outcome_label=outcome_label,
            max_mb=MAX_FILE_BYTES >> 20,
            max_rows=MAX_ROWS,
            max_columns=MAX_COLUMNS,
            reload_seconds=RELOAD_SECONDS,
            accepted_words=accepted_words(),
            **context,
        ),
        status,
    )


@bp.get("/projects/import/jobs/<int:job_id>/errors.csv")
@roles_required(*EDITORS)
def job_errors(job_id: int) -> ResponseReturnValue:
    """Download the refused rows of a job's report, one line per reason (CSV for Excel)."""
    job = _own_job(job_id)
    kept = (job.result or {}).get("report")
    if kept is None:
        abort(404)
    response = Response(errors_csv(ShownReport.from_json(kept)).encode("utf-8"))
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="aso_import_{job.id}_errors.csv"'
    )
    return response


@bp.get("/projects/import/template.<any(csv, xlsx):ext>")
@roles_required(*EDITORS)
def import_template(ext: str) -> ResponseReturnValue:
    """Download the template: every header the import reads, with one example row."""
    if ext == "csv":
        response = Response(samples.template_csv(), mimetype="text/csv")
        response.headers["Content-Type"] = "text/csv; charset=utf-8"
    else:
        response = Response(
            samples.template_xlsx(),
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response.headers["Content-Disposition"] = f'attachment; filename="aso_projects_template.{ext}"'
    return response
