"""A job's report kept as JSON, and read back for the page as the report it was."""

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from tracker.core.translate import gettext
from tracker.imports.operations import OUTCOMES, ImportReport
from tracker.imports.wording import reason_text
from tracker.worksfiles.values import FORMULA_START


def page_status(report: ImportReport, *, importing: bool) -> int:
    """Answer 403 when a row is a work the person may not change (another department), else
    400 for an import refused, else 200 (a check lists its refused rows too)."""
    if any(row.error is not None and row.error.status == 403 for row in report.refused):
        return 403
    return 400 if importing and not report.written else 200


def report_json(report: ImportReport) -> dict[str, Any]:
    """Return the report as the page needs it, each refusal in words (the reader's language)."""
    return {
        "filename": report.filename,
        "format": report.format,
        "dry_run": report.dry_run,
        "written": report.written,
        "rows": [
            {
                "line": row.line,
                "outcome": row.outcome,
                "name": row.name,
                "project_id": row.project_id,
                "reasons": [reason_text(error) for error in row.errors],
            }
            for row in report.rows
        ],
    }


@dataclass
class ShownRow:
    """One row's fate as the page shows it."""

    line: int
    outcome: str
    name: str
    project_id: int | None
    # Every reason the row was refused for, each in words with the field it is about.
    reasons: list[str] = field(default_factory=list)


@dataclass
class ShownReport:
    """A kept report, with what the page asks of it."""

    dry_run: bool
    written: bool
    rows: list[ShownRow] = field(default_factory=list)

    @classmethod
    def from_json(cls, kept: dict[str, Any]) -> "ShownReport":
        """Read a report kept by report_json."""
        return cls(kept["dry_run"], kept["written"], [_shown_row(row) for row in kept["rows"]])

    @property
    def counts(self) -> dict[str, int]:
        """Count the rows by outcome, every outcome present."""
        return {o: sum(1 for row in self.rows if row.outcome == o) for o in OUTCOMES}

    @property
    def refused(self) -> list[ShownRow]:
        """Return the refused rows."""
        return [row for row in self.rows if row.outcome == "refused"]


def _shown_row(kept: dict[str, Any]) -> ShownRow:
    """Read a kept row; a report kept before rows had several reasons has one, as "reason"."""
    reasons = kept.get("reasons")
    if reasons is None:
        reasons = [kept["reason"]] if kept.get("reason") else []
    return ShownRow(kept["line"], kept["outcome"], kept["name"], kept["project_id"], reasons)


def errors_csv(report: ShownReport) -> str:
    """Return the refused rows as CSV for a spreadsheet: one line per reason, so that a row
    refused for three cells has three lines to fix (UTF-8 with a BOM, as Excel opens it)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([gettext("行"), gettext("事業"), gettext("理由")])
    for row in report.refused:
        for reason in row.reasons or [""]:
            writer.writerow([row.line, spreadsheet_text(row.name), spreadsheet_text(reason)])
    return "\ufeff" + out.getvalue()


def spreadsheet_text(value: str) -> str:
    """Return text a spreadsheet shows as text, never as a formula."""
    return "'" + value if value.startswith(FORMULA_START) else value
