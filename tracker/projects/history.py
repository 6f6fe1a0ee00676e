"""A project's status history: its table, the rules of change, and the functions that append.

History is appended, never rewritten (a database trigger refuses UPDATE and DELETE). A project's
current status and progress are its latest entry's, written with it by one of: register_status
(a new project's first entry), append_status (an update made now, under the rules; stage_status
and announce_status are its two halves, for an operation that changes other fields with it),
append_past_status and append_loaded_history (a recorded history as it stands). Nothing else
inserts into status_updates.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from geoalchemy2 import Geometry, WKBElement
from geoalchemy2.elements import WKTElement
from geoalchemy2.shape import to_shape
from shapely.geometry import Point
from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    SelectBase,
    SmallInteger,
    Text,
    func,
    insert,
    literal,
    select,
    text,
    tuple_,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from tracker.accounts.models import User
from tracker.core import clock
from tracker.core.clock import JST
from tracker.core.db import Base, stamp_now
from tracker.core.errors import BadInput
from tracker.core.translate import gettext as _
from tracker.geo.geometry import check_lon_lat
from tracker.outbox.operations import record_event
from tracker.projects.audit import changes_after, record_change
from tracker.projects.departments import check_may_change, check_not_withdrawn
from tracker.projects.models import Project, lock_project
from tracker.words.vocab import REGISTERED_NOTE, STATUSES, sql_list, status_label

MAX_NOTE_LENGTH = 2000
# A phone's clock may run a little ahead of the server's, and a phone may wait days for
# signal; a time on site beyond these bounds is a wrong clock or a forgotten draft.
OBSERVED_AHEAD_MAX = timedelta(minutes=10)
OBSERVED_AGE_MAX = timedelta(days=30)
# What the update form shows of a project; an update made on a form that showed older
# values of these is stale.
FORM_FIELDS = ("status", "progress", "actual_end")


class StatusUpdate(Base):
    """One appended entry of a project's status history; never changed afterwards."""

    __tablename__ = "status_updates"
    __table_args__ = (
        CheckConstraint(f"status IN {sql_list(STATUSES)}", name="status"),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    # When the server stored it.
    recorded_at: Mapped[datetime] = mapped_column(default=stamp_now, server_default=func.now())
    # When it was seen on site (the phone's clock when it was queued): history reads in
    # this order, and "status at a date" reads this time.
    observed_at: Mapped[datetime]
    previous_status: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    progress: Mapped[int] = mapped_column(SmallInteger)
    note: Mapped[str] = mapped_column(Text, server_default="")
    client_id: Mapped[uuid.UUID | None] = mapped_column(unique=True)
    position: Mapped[WKBElement | None] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False)
    )
    # Who recorded it; empty for entries the system writes (registration, data loads).
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)

    project: Mapped[Project] = relationship(back_populates="updates")
    author: Mapped[User | None] = relationship()

    # True on the instance just appended (a resend returns the first one).
    is_new = False
    # The progress of the entry before it on site, set where history is read in order.
    if TYPE_CHECKING:  # not a column: a plain annotation here would ask the ORM to map it
        previous_progress: int | None
    previous_progress = None


# The meeting pages read status at a date and completions from these.
Index(
    "ix_status_updates_project_observed",
    StatusUpdate.project_id,
    StatusUpdate.observed_at.desc(),
    StatusUpdate.id.desc(),
    postgresql_include=["status", "progress"],
)
Index(
    "ix_status_updates_completed",
    StatusUpdate.project_id,
    postgresql_where=text("status = 'completed'"),
)
Index("ix_status_updates_observed_at", StatusUpdate.observed_at)


class CompletedSpan(Base):
    """A span of time in which a work stood completed, from the entry that completed it to
    the first later one with another status (None while it still holds).

    Written only by a trigger on status_updates (migration cs1), from the work's whole
    history each time an entry is appended to it: the indicators count works completed at
    many instants from these, without passing over the history.
    """

    __tablename__ = "completed_spans"

    update_id: Mapped[int] = mapped_column(
        ForeignKey("status_updates.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[int] = mapped_column(index=True)
    since: Mapped[datetime]
    until: Mapped[datetime | None]


# Called with each change of status appended now, after its outbox event and in the same
# transaction: a feature above this layer (residents' reports) follows a work's status so.
STATUS_FOLLOWERS: list[Callable[[Session, "StatusUpdate"], None]] = []

# History in the order things happened on site; the id settles entries of the same instant.
HISTORY_ORDER = (StatusUpdate.observed_at, StatusUpdate.id)


# Current status → statuses an update may set. Staying put (a progress or note update)
# is always allowed. Completion comes only from construction; a completed project is
# reopened by going back to construction, with a note saying why.
TRANSITIONS: dict[str, frozenset[str]] = {
    "planned": frozenset({"planned", "design", "construction", "suspended"}),
    "design": frozenset({"design", "planned", "construction", "suspended"}),
    "construction": frozenset({"construction", "completed", "suspended"}),
    "suspended": frozenset({"suspended", "planned", "design", "construction"}),
    "completed": frozenset({"completed", "construction"}),
}

assert set(TRANSITIONS) == set(STATUSES), "every status needs a row in TRANSITIONS"


def allowed_next(status: str) -> list[str]:
    """Return the statuses an update may set on a project in this status, in display order."""
    return [s for s in STATUSES if s in TRANSITIONS[status]]


def check_state(
    *, status: str, progress: int, actual_start: date | None, actual_end: date | None
) -> None:
    """Refuse a state no project may be in, whether reached by an update or entered new."""
    if status not in STATUSES:
        raise BadInput(_("不明な状況です: %(status)s", status=status), field="status")
    if status == "completed":
        if progress != 100:
            raise BadInput(_("完了にするには進捗を100%にしてください"), field="progress")
        if actual_end is None:
            raise BadInput(_("完了にするには完了日（実績終了日）が必要です"), field="actual_end")
        if actual_start is not None and actual_end < actual_start:
            raise BadInput(_("完了日が着手日より前になっています"), field="actual_end")


def check_change(
    *,
    previous_status: str,
    previous_progress: int,
    status: str,
    progress: int,
    note: str,
    actual_start: date | None,
    actual_end: date | None,
) -> None:
    """Refuse a status change the rules do not allow, saying why."""
    if status not in STATUSES:
        raise BadInput(_("不明な状況です: %(status)s", status=status), field="status")
    if status not in TRANSITIONS[previous_status]:
        allowed = _("、").join(status_label(s) for s in allowed_next(previous_status))
        raise BadInput(
            _(
                "「%(old)s」から「%(new)s」には変更できません（変更できるのは %(allowed)s）",
                old=status_label(previous_status),
                new=status_label(status),
                allowed=allowed,
            ),
            field="status",
        )
    check_state(status=status, progress=progress, actual_start=actual_start, actual_end=actual_end)
    if note:
        return
    # These changes are easy to misread later without a reason beside them.
    if previous_status == "completed" and status != "completed":
        raise BadInput(_("完了した事業を再開するには、理由をメモに書いてください"), field="note")
    if status == "suspended" and previous_status != "suspended":
        raise BadInput(_("中断にするには、理由をメモに書いてください"), field="note")
    if progress < previous_progress:
        raise BadInput(_("進捗を下げるときは、理由をメモに書いてください"), field="note")


def check_progress(progress: object) -> int:
    """Return progress as an int in 0–100, or refuse it."""
    if isinstance(progress, bool) or not isinstance(progress, int) or not 0 <= progress <= 100:
        raise BadInput(
            _("進捗は0〜100の整数で入れてください"), code="out_of_range", field="progress"
        )
    return progress


def check_client_id(value: object) -> uuid.UUID | None:
    """Return a client_id as a UUID, or refuse it."""
    if value is None or value == "":
        return None
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise BadInput(_("UUIDの形式ではありません"), field="client_id") from None


def check_observed_at(observed_at: datetime, now: datetime) -> datetime:
    """Refuse a time on site far ahead of `now` or older than a month, saying which."""
    if observed_at.tzinfo is None:
        raise BadInput(_("現場の時刻に時差（+09:00 など）がありません"), field="observed_at")
    if observed_at > now + OBSERVED_AHEAD_MAX:
        raise BadInput(
            _(
                "現場の時刻（%(at)s）が今より10分以上先です。端末の時計を確かめてください",
                at=observed_at.astimezone(JST).strftime("%Y-%m-%d %H:%M"),
            ),
            field="observed_at",
        )
    if observed_at < now - OBSERVED_AGE_MAX:
        raise BadInput(
            _(
                "現場の時刻（%(at)s）が30日より前です。古い記録は事務所で確かめてから入れてください",
                at=observed_at.astimezone(JST).strftime("%Y-%m-%d %H:%M"),
            ),
            field="observed_at",
        )
    return observed_at


@dataclass(frozen=True)
class StateChange:
    """A change of a project's state made by someone else: who, when, and the new values."""

    who: str
    at: datetime
    values: dict

    def sentence(self) -> str:
        """Say it as the stale form shows it: 「阿蘇さんが 10:42 に 74% と記録しました」."""
        parts = []
        if "status" in self.values:
            parts.append(status_label(self.values["status"]))
        if "progress" in self.values:
            parts.append(f"{self.values['progress']}%")
        if "actual_end" in self.values:
            day = self.values["actual_end"]
            parts.append(_("完了日 %(day)s", day=day) if day else _("完了日なし"))
        local = self.at.astimezone(JST)
        when = (
            local.strftime("%H:%M")
            if local.date() == clock.today()
            else local.strftime("%m/%d %H:%M")
        )
        return _(
            "%(who)sさんが %(at)s に %(what)s と記録しました",
            who=self.who,
            at=when,
            what=_("・").join(parts),
        )


class StaleUpdate(BadInput):
    """An update made on a form that showed an older state of the project than the stored one."""

    def __init__(self, project: Project, changes: list[StateChange]) -> None:
        self.project = project
        self.changes = changes
        said = _("、").join(change.sentence() for change in changes[-3:])
        super().__init__(
            _(
                "この画面を開いた後に更新がありました（%(changes)s）。今の状況を確かめて、もう一度記録してください",
                changes=said,
            ),
            field="base_version",
        )


class ClientIdReused(BadInput):
    """A client_id sent again with another update than the one it first recorded.

    A resend after a lost answer carries the same update; a different one under the same id
    is a fault of the sender, refused rather than silently answered with the first (409).
    """

    code = "client_id_reused"
    status = 409

    def __init__(self, update: StatusUpdate) -> None:
        self.update = update
        super().__init__(
            _(
                "この送信IDは別の内容の更新ですでに使われています。新しい更新には新しいIDを付けてください"
            ),
            field="client_id",
        )


def stale_changes(session: Session, project: Project, base_version: int) -> list[StateChange]:
    """Return the changes to the project's state made after `base_version`, oldest first."""
    changes = []
    for row in changes_after(session, project.id, base_version):
        values = {f: row.changes[f]["new"] for f in FORM_FIELDS if f in row.changes}
        if values:
            who = row.user.label if row.user is not None else _("システム")
            changes.append(StateChange(who=who, at=row.recorded_at, values=values))
    return changes


@dataclass
class StagedStatus:
    """An entry appended under the rules and put on the project, whose row is not yet written.

    `changed` holds the project fields it moved ({field: {"old", "new"}}, JSON values), for
    the one audit entry of the operation; `resent` marks an entry found, not made.
    """

    project: Project
    update: StatusUpdate
    changed: dict[str, dict[str, Any]]
    resent: bool = False


def append_status(
    session: Session,
    project_id: int,
    *,
    status: str,
    progress: int,
    note: str = "",
    user: User | None = None,
    client_id: uuid.UUID | str | None = None,
    position: tuple[float, float] | None = None,
    actual_end: date | None = None,
    observed_at: datetime | None = None,
    base_version: int | None = None,
    fallback_note: str = "",
) -> StatusUpdate:
    """Record a status update made now, under the rules, and make it the project's state.

    See stage_status for the rules. The project's row and its audit entry are written
    here, and a change of status is queued for residents (the outbox).
    """
    staged = stage_status(
        session,
        project_id,
        status=status,
        progress=progress,
        note=note,
        user=user,
        client_id=client_id,
        position=position,
        actual_end=actual_end,
        observed_at=observed_at,
        base_version=base_version,
        fallback_note=fallback_note,
    )
    if staged.resent:
        return staged.update
    session.flush()
    if staged.changed:
        # The audit trail says so beside the edits, and an edit made against the older
        # version learns which fields moved (412).
        record_change(
            session,
            staged.project,
            action="update",
            changes=staged.changed,
            user=user,
            recorded_at=staged.update.recorded_at,
        )
    return announce_status(session, staged)


def stage_status(
    session: Session,
    project_id: int,
    *,
    status: str,
    progress: int,
    note: str = "",
    user: User | None = None,
    client_id: uuid.UUID | str | None = None,
    position: tuple[float, float] | None = None,
    actual_end: date | None = None,
    observed_at: datetime | None = None,
    base_version: int | None = None,
    fallback_note: str = "",
) -> StagedStatus:
    """Append a status update made now under the rules and set the project's state, unwritten.

    A change follows the transition table, moves the actual start and end dates as the
    work does, and its time on site (`observed_at`, default now) must lie between a month
    ago and ten minutes ahead. `base_version` is the project version the sender's form
    showed: if the state changed since, the update is refused as stale (StaleUpdate). An
    entry seen on site before the latest one takes its place in the history but may not
    change the status, and the latest one stays current. position is (lon, lat). The same
    client_id sent again returns the entry it first made. `fallback_note` is stored when
    there is no note (e.g. the file an import came from); the rules that ask for a reason
    still judge the person's own note. The caller writes the project (one version step),
    its audit entry with `changed`, then calls announce_status.
    """
    progress = check_progress(progress)
    note = _checked_note(note)
    client_id = check_client_id(client_id)
    lon_lat = _checked_position(position)
    point = _point(lon_lat)
    sent = _SentUpdate(status, progress, note or fallback_note, observed_at, lon_lat)

    # Entries for one project queue up here, so each sees the one before it: the
    # previous status is right and none is lost when several people send at once.
    project = _locked(session, project_id, client_id)
    if isinstance(project, StatusUpdate):
        # Sent again: the first copy stands, if it is the same update.
        first = sent.matching(_resent(session, project))
        return StagedStatus(first.project, first, {}, resent=True)
    # Only who may change the work's department records its progress (OtherDepartment).
    check_may_change(user, project.department)
    check_not_withdrawn(project)
    if base_version is not None and base_version != project.version:
        changes = stale_changes(session, project, base_version)
        if changes:
            raise StaleUpdate(project, changes)
    # Taken after the lock: history reads in the order it was written.
    now = clock.now()
    latest = _latest_seen(session, project_id)
    if observed_at is not None:
        check_observed_at(observed_at, now)
    observed_at = observed_at or now
    back_dated = observed_at < latest
    if back_dated:
        previous_status, previous_progress = _placed_before(
            session, project_id, observed_at, status
        )
    else:
        previous_status, previous_progress = project.status, project.progress
    today = clock.today()
    if status == "completed" and not back_dated:
        actual_end = actual_end or project.actual_end or today
    check_change(
        previous_status=previous_status,
        previous_progress=previous_progress,
        status=status,
        progress=progress,
        note=note,
        actual_start=project.actual_start,
        actual_end=actual_end if not back_dated else project.actual_end,
    )
    update = StatusUpdate(
        project_id=project.id,
        author_id=user.id if user is not None else None,
        previous_status=previous_status,
        status=status,
        progress=progress,
        note=note or fallback_note,
        client_id=client_id,
        position=point,
        recorded_at=now,
        observed_at=observed_at,
    )
    earlier = _insert(session, project, update)
    if earlier is not None:
        return StagedStatus(project, sent.matching(_resent(session, earlier)), {}, resent=True)
    update.previous_progress = previous_progress
    before = _dates_and_state(project)
    if not back_dated:
        # The latest entry on site is the project's current state.
        _make_current(project, update, actual_end=actual_end, today=today)
    project.updated_at = now
    return StagedStatus(project, update, _moved(before, _dates_and_state(project)))


def _placed_before(
    session: Session, project_id: int, observed_at: datetime, status: str
) -> tuple[str, int]:
    """Return the state an entry seen before the latest one follows; it may not change status."""
    previous_status, previous_progress = _entry_before(session, project_id, observed_at)
    if status != previous_status:
        raise BadInput(
            _(
                "この時刻より後に別の記録があるため、状況は「%(status)s」のまま記録してください（進捗とメモは記録できます）",
                status=status_label(previous_status),
            ),
            field="status",
        )
    return previous_status, previous_progress


def _make_current(
    project: Project, update: StatusUpdate, *, actual_end: date | None, today: date
) -> None:
    """Give the project the entry's status and progress, and move its actual dates with it."""
    if update.status == "construction" and project.actual_start is None:
        project.actual_start = today
    if update.status == "completed":
        project.actual_end = actual_end
    elif project.status == "completed":
        project.actual_end = None  # reopened: the earlier completion stays in the history
    project.status, project.progress = update.status, update.progress


def announce_status(session: Session, staged: StagedStatus) -> StatusUpdate:
    """Queue a staged change of status for residents, once the project's row is written."""
    update = staged.update
    session.refresh(update)
    if update.previous_status != update.status:
        # A status change made now is news for residents (an entry placed before the latest
        # keeps the status around it). Queued here, it is kept exactly when this entry is.
        record_event(
            session,
            "status",
            project_id=update.project_id,
            status_update_id=update.id,
            details={
                "previous_status": update.previous_status,
                "status": update.status,
                "progress": update.progress,
            },
        )
        for follow in STATUS_FOLLOWERS:
            follow(session, update)
    update.is_new = True
    return update


def register_status(
    session: Session, project: Project, *, status: str, progress: int
) -> StatusUpdate:
    """Append a new project's first entry, registered when the project was created."""
    update = StatusUpdate(
        project_id=project.id,
        previous_status=None,
        status=status,
        progress=progress,
        note=REGISTERED_NOTE,
        # Registered when the project was: as_of views see both appear together.
        recorded_at=project.created_at,
        observed_at=project.created_at,
    )
    session.add(update)
    session.flush()
    project.updated_at = update.recorded_at
    session.flush()
    session.refresh(update)
    update.is_new = True
    return update


def append_past_status(
    session: Session,
    project_id: int,
    *,
    status: str,
    progress: int,
    recorded_at: datetime,
    note: str = "",
) -> StatusUpdate:
    """Append an entry of a recorded history as it stands, at its own date (loaders, tests).

    No rule judges it and residents are not told of it; the project takes its status and
    progress unless a later entry is already in the history.
    """
    progress = check_progress(progress)
    project = lock_project(session, project_id)
    if project is None:
        raise _unknown_project(project_id)
    back_dated = recorded_at < _latest_seen(session, project_id)
    if back_dated:
        previous_status, previous_progress = _entry_before(session, project_id, recorded_at)
    else:
        previous_status, previous_progress = project.status, project.progress
    update = StatusUpdate(
        project_id=project.id,
        previous_status=previous_status,
        status=status,
        progress=progress,
        note=_checked_note(note),
        recorded_at=recorded_at,
        observed_at=recorded_at,
    )
    session.add(update)
    session.flush()
    before = _dates_and_state(project)
    if not back_dated:
        project.status, project.progress = status, progress
    project.updated_at = recorded_at
    session.flush()
    changed = _moved(before, _dates_and_state(project))
    if changed:
        record_change(
            session, project, action="update", changes=changed, user=None, recorded_at=recorded_at
        )
    session.refresh(update)
    update.is_new = True
    update.previous_progress = previous_progress
    return update


def _checked_note(note: str | None) -> str:
    note = (note or "").strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise BadInput(_("メモは%(n)d文字までです", n=MAX_NOTE_LENGTH), field="note")
    return note


def _latest_seen(session: Session, project_id: int) -> datetime:
    """Return when the project's latest entry was seen on site (registration at the least)."""
    return session.execute(
        select(func.max(StatusUpdate.observed_at)).where(StatusUpdate.project_id == project_id)
    ).scalar_one()


def _insert(session: Session, project: Project, update: StatusUpdate) -> StatusUpdate | None:
    """Insert an entry; return the earlier one instead if its client_id won a race."""
    try:
        with session.begin_nested():
            session.add(update)
            session.flush()
    except IntegrityError as error:
        # The same client_id committed for another request between our check and insert.
        if update.client_id is not None and "client_id" in str(error.orig):
            earlier = _by_client_id(session, project, update.client_id)
            if earlier is not None:
                return earlier
        raise
    return None


def _moved(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f: {"old": before[f], "new": after[f]} for f in after if before[f] != after[f]}


def _resent(session: Session, update: StatusUpdate) -> StatusUpdate:
    """Return an entry sent again as its first send answered: with the progress before it."""
    update.previous_progress = session.scalar(
        select(StatusUpdate.progress)
        .where(
            StatusUpdate.project_id == update.project_id,
            tuple_(*HISTORY_ORDER) < tuple_(literal(update.observed_at), literal(update.id)),
        )
        .order_by(*(c.desc() for c in HISTORY_ORDER))
        .limit(1)
    )
    return update


def _entry_before(session: Session, project_id: int, observed_at: datetime) -> tuple[str, int]:
    """Return (status, progress) of the entry seen on site just before `observed_at`.

    An entry placed before the latest one keeps the status around it, so that every
    entry's previous status stays true in the order things happened.
    """
    before = session.execute(
        select(StatusUpdate.status, StatusUpdate.progress)
        .where(StatusUpdate.project_id == project_id, StatusUpdate.observed_at <= observed_at)
        .order_by(*(c.desc() for c in HISTORY_ORDER))
        .limit(1)
    ).first()
    if before is None:
        raise BadInput(_("現場の時刻が事業の登録より前になっています"), field="observed_at")
    return before.status, before.progress


def with_previous_progress(updates: list[StatusUpdate]) -> list[StatusUpdate]:
    """Give each entry of one project's history, in order, the progress of the one before it."""
    previous = None
    for update in updates:
        update.previous_progress = previous
        previous = update.progress
    return updates


def append_loaded_history(session: Session, entries: SelectBase) -> None:
    """Append history entries selected in SQL, for bulk loads of many projects at once.

    `entries` selects project_id, recorded_at, previous_status, status, progress and note;
    each was seen when it was recorded. The projects' own status and progress must already
    be their last entry's.
    """
    rows = entries.subquery("entries")
    columns = ["project_id", "recorded_at", "previous_status", "status", "progress", "note"]
    session.execute(
        insert(StatusUpdate).from_select(
            [*columns, "observed_at"],
            select(*(rows.c[name] for name in columns), rows.c.recorded_at),
        )
    )


def _locked(
    session: Session, project_id: int, client_id: uuid.UUID | None
) -> Project | StatusUpdate:
    """Return the locked project, or the entry an earlier send of this client_id made."""
    if client_id is not None:
        earlier = _by_client_id(session, None, client_id)
        if earlier is not None:
            _same_project(earlier, project_id)
            return earlier
    project = lock_project(session, project_id)
    if project is None:
        raise _unknown_project(project_id)
    if client_id is not None and (earlier := _by_client_id(session, project, client_id)):
        return earlier  # sent again while the first copy was waiting for the lock
    return project


def _unknown_project(project_id: int) -> BadInput:
    return BadInput(
        _("この事業は見つかりません（ID %(id)s）", id=project_id),
        code="unknown_value",
        field="project",
    )


def _dates_and_state(project: Project) -> dict:
    """Return the project fields an entry may change, as JSON values."""
    return {
        "status": project.status,
        "progress": project.progress,
        "actual_start": project.actual_start and project.actual_start.isoformat(),
        "actual_end": project.actual_end and project.actual_end.isoformat(),
    }


def _by_client_id(
    session: Session, project: Project | None, client_id: uuid.UUID
) -> StatusUpdate | None:
    earlier = session.scalar(select(StatusUpdate).where(StatusUpdate.client_id == client_id))
    if earlier is not None and project is not None:
        _same_project(earlier, project.id)
    return earlier


def _same_project(update: StatusUpdate, project_id: int) -> None:
    if update.project_id != project_id:
        raise BadInput(_("この client_id は別の事業の更新で使われています"), field="client_id")


def _checked_position(position: Any) -> tuple[float, float] | None:
    """Return a position as (lon, lat) floats within range, or refuse it."""
    if position is None:
        return None
    try:
        lon, lat = (float(v) for v in position)
    except (TypeError, ValueError):
        raise BadInput(_("緯度・経度は数値で指定してください"), field="position") from None
    return check_lon_lat(lon, lat, field="position")


def _point(lon_lat: tuple[float, float] | None) -> WKTElement | None:
    if lon_lat is None:
        return None
    lon, lat = lon_lat
    return WKTElement(f"POINT({lon!r} {lat!r})", srid=4326)


# Two positions closer than this (degrees, about a millimetre) are the same place: a
# coordinate read back from the database may differ from the sent one in its last bit.
SAME_PLACE_DEGREES = 1e-8


@dataclass(frozen=True)
class _SentUpdate:
    """What makes an update the same one when its client_id comes again.

    The time on site counts only when it is sent (without it the server takes the time of
    arrival, which a resend cannot repeat); base_version does not (the first send moved it).
    """

    status: str
    progress: int
    note: str
    observed_at: datetime | None
    lon_lat: tuple[float, float] | None

    def matching(self, stored: StatusUpdate) -> StatusUpdate:
        """Return `stored` if it records this same update, else refuse (ClientIdReused)."""
        same = (
            stored.status == self.status
            and stored.progress == self.progress
            and stored.note == self.note
            and (self.observed_at is None or stored.observed_at == self.observed_at)
            and _same_place(_stored_lon_lat(stored), self.lon_lat)
        )
        if not same:
            raise ClientIdReused(stored)
        return stored


def _stored_lon_lat(update: StatusUpdate) -> tuple[float, float] | None:
    if update.position is None:
        return None
    point = to_shape(update.position)
    if not isinstance(point, Point):
        raise TypeError(f"update {update.id} is placed at a {point.geom_type}, not a point")
    return point.x, point.y


def _same_place(one: tuple[float, float] | None, other: tuple[float, float] | None) -> bool:
    if one is None or other is None:
        return one is other
    return all(abs(a - b) < SAME_PLACE_DEGREES for a, b in zip(one, other, strict=True))
