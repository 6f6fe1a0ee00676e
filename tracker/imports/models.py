"""The import jobs: a file to check or import, queued by the page and run by a worker.

The file's bytes are kept in the row (at most 20 MB, deferred: never loaded with the row)
until it is imported or a day has passed; the result is what the page shows.
"""

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, LargeBinary, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, deferred, mapped_column

from tracker.core.db import Base, stamp_now
from tracker.words.vocab import sql_list

# check: a dry run that lists every row's fate; import: the same, written if no row is refused.
JOB_KINDS = frozenset({"check", "import"})
# queued → running → done or failed; a file older than a day is dropped: expired.
JOB_STATES = frozenset({"queued", "running", "done", "failed", "expired"})
# What a running job is doing, for its progress.
JOB_STAGES = frozenset({"reading", "checking", "writing"})


class ImportJob(Base):
    """One check or import of an uploaded works list, and what came of it."""

    __tablename__ = "import_jobs"
    __table_args__ = (
        CheckConstraint(f"kind IN {sql_list(JOB_KINDS)}", name="kind"),
        CheckConstraint(f"state IN {sql_list(JOB_STATES)}", name="state"),
        CheckConstraint(f"stage IS NULL OR stage IN {sql_list(JOB_STAGES)}", name="stage"),
        CheckConstraint("rows_done >= 0", name="rows_done"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(Text, default="queued", server_default="queued")
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(Text)
    data: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    # epsg, the column choices ({"3": "description"}) and the language the page is read in.
    options: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    created_at: Mapped[datetime] = mapped_column(default=stamp_now, server_default=func.now())
    started_at: Mapped[datetime | None]
    # Set by the worker as it goes: a running job whose beat stops was left by a dead worker.
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    stage: Mapped[str | None] = mapped_column(Text)
    rows_done: Mapped[int] = mapped_column(default=0, server_default="0")
    rows_total: Mapped[int | None]
    # The page's status code, the column mapping and notes, and the report of every row.
    result: Mapped[dict | None] = mapped_column(JSONB)
    # Why the job did not finish, in words.
    error: Mapped[str | None] = mapped_column(Text)


Index("ix_import_jobs_queued", ImportJob.id, postgresql_where=ImportJob.state == "queued")
