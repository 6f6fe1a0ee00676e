"""The audit trail of project changes: who changed which fields, from what to what."""

import json
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Text, func, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from tracker.accounts.models import User
from tracker.core import clock
from tracker.core.db import Base, copy_rows, stamp_now
from tracker.projects.models import Project
from tracker.words.vocab import FIELD_LABELS

# A withdrawal (取り下げ) and its restoring are rows of their own, saying why.
ACTIONS = ("create", "update", "delete", "withdraw", "restore")


class ProjectChange(Base):
    """One create, edit, withdrawal, restoring or removal of a project; `changes` maps each field to its old and new
    value. The rows outlive a removed project: its id stays, without a foreign key."""

    __tablename__ = "project_changes"
    __table_args__ = (
        CheckConstraint(
            "action IN ('create', 'update', 'delete', 'withdraw', 'restore')", name="action"
        ),
        Index("ix_project_changes_project_id", "project_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int]
    # None for changes made by loaders and command-line tasks.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=stamp_now, server_default=func.now())
    action: Mapped[str] = mapped_column(Text)
    # The project's version once this change was applied.
    version: Mapped[int]
    changes: Mapped[dict[str, Any]] = mapped_column(JSONB)

    user: Mapped[User | None] = relationship()


def record_change(
    session: Session,
    project: Project,
    *,
    action: str,
    changes: dict[str, dict[str, Any]],
    user: User | None,
    recorded_at: datetime | None = None,
) -> ProjectChange:
    """Append an audit row for a change already applied to the project."""
    row = ProjectChange(
        project_id=project.id,
        user_id=user.id if user is not None else None,
        action=action,
        version=project.version,
        changes=changes,
    )
    if recorded_at is not None:
        row.recorded_at = recorded_at
    session.add(row)
    return row


def record_changes(
    session: Session,
    rows: list[tuple[int, dict[str, dict[str, Any]]]],
    *,
    action: str,
    user: User | None,
) -> None:
    """Append audit rows for many projects at their first version: (project id, changes)."""
    if not rows:
        return
    user_id = user.id if user is not None else None
    now = clock.now()
    copy_rows(
        session,
        "project_changes",
        ("project_id", "user_id", "action", "version", "changes", "recorded_at"),
        (
            (project_id, user_id, action, 1, json.dumps(changes, ensure_ascii=False), now)
            for project_id, changes in rows
        ),
    )


def project_changes(session: Session, project_id: int) -> list[ProjectChange]:
    """Return a project's audit rows, newest first."""
    return list(
        session.scalars(
            select(ProjectChange)
            .where(ProjectChange.project_id == project_id)
            .order_by(ProjectChange.id.desc())
        )
    )


def audit_rows(session: Session, project_id: int) -> list[dict]:
    """Return a project's audit rows, newest first, each with its changes in the form's order."""
    # JSONB keeps no key order.
    order = {field: index for index, field in enumerate(FIELD_LABELS)}
    return [
        {
            "row": row,
            "changes": sorted(row.changes.items(), key=lambda item: order.get(item[0], 99)),
        }
        for row in project_changes(session, project_id)
    ]


def changes_after(session: Session, project_id: int, version: int) -> list[ProjectChange]:
    """Return the audit rows of changes that moved a project past `version`, oldest first."""
    return list(
        session.scalars(
            select(ProjectChange)
            .where(ProjectChange.project_id == project_id, ProjectChange.version > version)
            .order_by(ProjectChange.id)
        )
    )


def fields_changed_since(session: Session, project_id: int, version: int) -> list[str]:
    """Return the fields that audited edits changed after the given version, in first-seen order."""
    fields: dict[str, None] = {}
    for row in changes_after(session, project_id, version):
        fields.update(dict.fromkeys(row.changes))
    return list(fields)
