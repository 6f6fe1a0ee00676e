"""The staff page /projects/import: upload, see the column mapping and every row's result, import."""

import re
import secrets
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask.typing import ResponseReturnValue

from tracker.accounts.access import current_user, roles_required
from tracker.core.db import get_session
from tracker.core.errors import BadInput
from tracker.imports import samples
from tracker.imports.operations import ImportReport, UnmappedColumns, import_table
from tracker.imports.reading import FORMATS, MAX_FILE_BYTES, read_table
from tracker.imports.wording import outcome_label, reason_text
from tracker.worksfiles.columns import FIELDS, column_label, recognise

bp = Blueprint("imports", __name__)

EDITORS = ("admin", "staff")
# Uploads wait here between the dry run and the import; the name is ours, never the user's.
TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")


def _upload_dir() -> Path:
    folder = Path(current_app.config["UPLOAD_DIR"]) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _keep(data: bytes, filename: str) -> str:
    token = secrets.token_urlsafe(16)
    suffix = Path(filename).suffix.lower()
    (_upload_dir() / f"{token}{suffix}").write_bytes(data)
    return token


def _kept(token: str) -> tuple[bytes, Path]:
    if not TOKEN.fullmatch(token or ""):
        abort(400, description="file: もう一度ファイルを選んでください")
    for path in _upload_dir().glob(f"{token}.*"):
        if path.suffix in FORMATS:
            return path.read_bytes(), path
    abort(400, description="file: もう一度ファイルを選んでください")


def _epsg(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 6:
        raise BadInput("EPSGコードは数字で入れてください（例 6670）", field="epsg")
    return int(raw)


@bp.get("/projects/import")
@roles_required(*EDITORS)
def import_page() -> ResponseReturnValue:
    """Show the upload form and the template downloads."""
    return render_template("imports/import.html", report=None, max_mb=MAX_FILE_BYTES >> 20)


@bp.post("/projects/import")
@roles_required(*EDITORS)
def import_upload() -> ResponseReturnValue:
    """Check an uploaded file (dry run), or import one already checked, and show every row."""
    form = request.form
    action = form.get("action", "check")
    filename = form.get("filename", "")
    message = None
    try:
        epsg = _epsg(form.get("epsg"))
        upload = request.files.get("file")
        if upload is not None and upload.filename:
            data = upload.read(MAX_FILE_BYTES + 1)
            filename = Path(upload.filename).name
            token = _keep(data, filename) if len(data) <= MAX_FILE_BYTES else ""
        else:
            token = form.get("token", "")
            data, _path = _kept(token)
        table = read_table(data, filename, epsg=epsg)
    except BadInput as exc:
        return _render(None, message=reason_text(exc), status=400)
    chosen = {
        header: form[f"column-{index}"]
        for index, header in enumerate(table.headers)
        if form.get(f"column-{index}") in FIELDS
    }
    mapping = recognise(table.headers, chosen)
    context = {
        "token": token,
        "filename": filename,
        "epsg": epsg or "",
        "columns": [(i, h, mapping[i]) for i, h in enumerate(table.headers)],
        "notes": table.notes,
    }
    try:
        report = import_table(
            get_session(),
            table,
            user=current_user(),
            dry_run=action != "import",
            chosen=chosen,
            epsg=epsg,
        )
    except UnmappedColumns as exc:
        return _render(None, message=reason_text(exc), status=400, **context)
    except BadInput as exc:
        return _render(None, message=reason_text(exc), status=400, **context)
    if report.written:
        for path in _upload_dir().glob(f"{token}.*"):
            path.unlink()
    status = _status(report, importing=action == "import")
    return _render(report, message=message, status=status, **context)


def _status(report: ImportReport, *, importing: bool) -> int:
    """Answer 403 when a row is a work the person may not change (another department), else
    400 for an import refused, else 200 (a check lists its refused rows too)."""
    if any(row.error is not None and row.error.status == 403 for row in report.refused):
        return 403
    return 400 if importing and not report.written else 200


def _render(
    report: ImportReport | None, *, message: str | None, status: int, **context: Any
) -> tuple[str, int]:
    return (
        render_template(
            "imports/import.html",
            report=report,
            message=message,
            fields=[(f, column_label(f)) for f in FIELDS],
            outcome_label=outcome_label,
            reason_text=reason_text,
            max_mb=MAX_FILE_BYTES >> 20,
            **context,
        ),
        status,
    )


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
