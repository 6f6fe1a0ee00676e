"""Taking a work out of public view, and out of the database altogether.

A work is withdrawn (取り下げ) with a reason: it stays with its history and audit, its own
page still opens for staff and admins (who may restore it), and every list, count, map,
tile, feed, export and figure leaves it out (models.visible_works). Restoring brings it back
as it was. Deleting is for a work created by mistake: only one nobody has recorded anything
on, since a record made by a person may be real; any other is withdrawn instead.
Admins, and staff of the work's department, do all three (departments.check_may_change).
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from tracker.accounts.models import User
from tracker.core import clock
from tracker.core.errors import BadInput
from tracker.core.limits import check_text
from tracker.core.translate import gettext as _
from tracker.outbox.models import RESTRICTION_EVENTS, OutboxEvent
from tracker.projects.audit import ProjectChange, record_change
from tracker.projects.departments import check_may_change
from tracker.projects.history import StatusUpdate
from tracker.projects.models import Project

# How long a reason may be: a few sentences, as the page's box shows them.
REASON_MAX = 500


class AlreadyDone(BadInput):
    """Withdrawing a withdrawn work, or restoring one that is not: 409."""

    status = 409
    code = "conflict"


class HasRecords(BadInput):
    """Deleting a work people have recorded on: 409, suggesting withdrawal instead."""

    status = 409
    code = "has_records"


@dataclass(frozen=True)
class Withdrawal:
    """A withdrawn work's when, who and why, as a page says it."""

    project_id: int
    name: str
    department: str
    withdrawn_at: datetime
    withdrawn_by: str | None
    reason: str


def withdraw_project(
    session: Session, project: Project, *, reason: object, user: User | None
) -> None:
    """Withdraw a work with a reason (required, up to REASON_MAX characters), audited."""
    check_may_change(user, project.department)
    if project.withdrawn_at is not None:
        raise AlreadyDone(_("この事業は既に取り下げられています"))
    reason = check_text("withdrawn_reason", reason, limit=REASON_MAX, required=True)
    project.withdrawn_at = clock.now()
    project.withdrawn_reason = reason
    project.withdrawn_by_id = user.id if user is not None else None
    project.updated_at = project.withdrawn_at
    session.flush()
    record_change(
        session,
        project,
        action="withdraw",
        changes={"withdrawn_reason": {"old": None, "new": reason}},
        user=user,
    )
    session.flush()


def restore_project(session: Session, project: Project, *, user: User | None) -> None:
    """Bring a withdrawn work back everywhere, as it was; audited with the reason it had."""
    check_may_change(user, project.department)
    if project.withdrawn_at is None:
        raise AlreadyDone(_("この事業は取り下げられていません"))
    reason = project.withdrawn_reason
    project.withdrawn_at = None
    project.withdrawn_reason = None
    project.withdrawn_by_id = None
    project.updated_at = clock.now()
    session.flush()
    record_change(
        session,
        project,
        action="restore",
        changes={"withdrawn_reason": {"old": reason, "new": None}},
        user=user,
    )
    session.flush()


def records_by_people(session: Session, project_id: int) -> bool:
    """Tell whether anyone has recorded on a work beyond creating it: a status update (photos
    come only with one, sent by a signed-in person), an edit or a withdrawal, or a traffic
    restriction."""
    conditions = [
        exists().where(StatusUpdate.project_id == project_id, StatusUpdate.author_id.is_not(None)),
        exists().where(
            ProjectChange.project_id == project_id,
            ProjectChange.user_id.is_not(None),
            ProjectChange.action != "create",
        ),
        # Every restriction added, changed or lifted leaves an outbox event naming its work
        # (the restrictions' own tables sit above this package). Stricter than "by a
        # person": one a loader made is a record too.
        exists().where(
            OutboxEvent.project_id == project_id, OutboxEvent.kind.in_(RESTRICTION_EVENTS)
        ),
    ]
    return any(session.scalar(select(condition)) for condition in conditions)


def delete_project(session: Session, project: Project, *, user: User | None) -> None:
    """Delete a work created by mistake, leaving a "delete" row in the audit trail.

    Refused (HasRecords) when anyone has recorded on it: withdraw it instead.
    """
    check_may_change(user, project.department)
    if records_by_people(session, project.id):
        raise HasRecords(
            _(
                "この事業には状況の更新・編集・通行規制・写真などの記録があるため削除できません。"
                "公開をやめるには、取り下げてください"
            )
        )
    session.add(
        ProjectChange(
            project_id=project.id,
            user_id=user.id if user is not None else None,
            action="delete",
            version=project.version,
            changes={"name": {"old": project.name, "new": None}},
        )
    )
    session.flush()
    # History, restrictions, plan links and alerts go with their work (cascades).
    project_id = project.id
    session.expunge(project)
    session.execute(delete(Project).where(Project.id == project_id))


def withdrawn_works(session: Session) -> list[Withdrawal]:
    """Return the withdrawn works, most recently withdrawn first."""
    rows = session.execute(
        select(Project, User)
        .outerjoin(User, User.id == Project.withdrawn_by_id)
        .where(Project.withdrawn_at.is_not(None))
        .order_by(Project.withdrawn_at.desc(), Project.id.desc())
    )
    return [
        Withdrawal(
            project_id=project.id,
            name=project.name,
            department=project.department,
            withdrawn_at=project.withdrawn_at,
            withdrawn_by=by.label if by is not None else None,
            reason=project.withdrawn_reason or "",
        )
        for project, by in rows
    ]
