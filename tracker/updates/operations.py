"""Writes to the status history; views call these, never the tables."""

import uuid
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from geoalchemy2.elements import WKTElement
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker.accounts.models import User
from tracker.errors import BadInput
from tracker.formatting import today_jst
from tracker.projects.audit import record_change
from tracker.projects.models import Project, StatusUpdate
from tracker.projects.operations import check_progress, lock_project
from tracker.updates.models import Photo
from tracker.updates.photos import MAX_PHOTOS, PreparedPhoto, write_photo_files
from tracker.updates.transitions import check_change

MAX_NOTE_LENGTH = 2000


def record_status_update(
    session: Session,
    project: Project,
    *,
    user: User | None,
    status: str,
    progress: int,
    note: str = "",
    client_id: uuid.UUID | str | None = None,
    position: tuple[float, float] | None = None,
    photos: Sequence[PreparedPhoto] = (),
    actual_end: date | None = None,
    upload_dir: str | Path | None = None,
    fallback_note: str = "",
) -> StatusUpdate:
    """Append an update to a project's history and make it the project's current status.

    position is (lon, lat). The same client_id sent again returns the update it first made.
    `fallback_note` is stored when there is no note (e.g. the file an import came from); the
    rules that ask for a reason still judge the person's own note.
    """
    progress = check_progress(progress)
    note = (note or "").strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise BadInput("note: " + _("メモは%(n)d文字までです", n=MAX_NOTE_LENGTH))
    client_id = check_client_id(client_id)
    if len(photos) > MAX_PHOTOS:
        raise BadInput("photos: " + _("写真は1回に%(n)d枚までです", n=MAX_PHOTOS))
    point = _point(position)

    if client_id is not None and (earlier := _by_client_id(session, project, client_id)):
        return earlier
    # Updates to one project queue up here, so each sees the one before it: the
    # previous status is right and none is lost when several people send at once.
    project = lock_project(session, project.id)
    if client_id is not None and (earlier := _by_client_id(session, project, client_id)):
        return earlier  # sent again while the first copy was waiting for the lock

    today = today_jst()
    if status == "completed":
        actual_end = actual_end or project.actual_end or today
    check_change(
        previous_status=project.status,
        previous_progress=project.progress,
        status=status,
        progress=progress,
        note=note,
        actual_start=project.actual_start,
        actual_end=actual_end,
    )

    update = StatusUpdate(
        project_id=project.id,
        author_id=user.id if user is not None else None,
        previous_status=project.status,
        status=status,
        progress=progress,
        note=note or fallback_note,
        client_id=client_id,
        position=point,
        # The insert's own time, taken after the lock: history reads in the order it was written.
        recorded_at=func.clock_timestamp(),
    )
    try:
        with session.begin_nested():
            session.add(update)
            session.flush()
    except IntegrityError as error:
        # The same client_id committed for another project between our check and insert.
        if client_id is not None and "client_id" in str(error.orig):
            earlier = _by_client_id(session, project, client_id)
            if earlier is not None:
                return earlier
        raise

    before = _state(project)
    if status == "construction" and project.actual_start is None:
        project.actual_start = today
    if status == "completed":
        project.actual_end = actual_end
    elif project.status == "completed":
        project.actual_end = None  # reopened: the earlier completion stays in the history
    project.status = status
    project.progress = progress
    project.updated_at = func.now()
    session.flush()
    # The project's own fields changed too: the audit trail says so beside the edits, and
    # an edit made against the older version learns which fields moved (412).
    after = _state(project)
    changed = {f: {"old": before[f], "new": after[f]} for f in after if before[f] != after[f]}
    if changed:
        record_change(session, project, action="update", changes=changed, user=user)

    if photos:
        folder = upload_dir or current_app.config["UPLOAD_DIR"]
        for prepared in photos:
            session.add(
                Photo(
                    update=update,
                    storage_key=prepared.key,
                    content_type=prepared.content_type,
                    original_name=prepared.original_name,
                    size_bytes=len(prepared.original),
                    width=prepared.width,
                    height=prepared.height,
                )
            )
        session.flush()
        # Files go to disk only once every row is in; a later rollback removes them.
        for prepared in photos:
            write_photo_files(session, folder, prepared)
    session.flush()
    session.refresh(update)
    return update


def _state(project: Project) -> dict:
    """Return the project fields an update may change, as JSON values."""
    return {
        "status": project.status,
        "progress": project.progress,
        "actual_start": project.actual_start and project.actual_start.isoformat(),
        "actual_end": project.actual_end and project.actual_end.isoformat(),
    }


def check_client_id(value) -> uuid.UUID | None:
    """Return a client_id as a UUID, or refuse it."""
    if value is None or value == "":
        return None
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise BadInput("client_id: " + _("UUIDの形式ではありません")) from None


def _by_client_id(session: Session, project: Project, client_id: uuid.UUID) -> StatusUpdate | None:
    earlier = session.scalar(select(StatusUpdate).where(StatusUpdate.client_id == client_id))
    if earlier is not None and earlier.project_id != project.id:
        raise BadInput("client_id: " + _("この client_id は別の事業の更新で使われています"))
    return earlier


def _point(position) -> WKTElement | None:
    if position is None:
        return None
    try:
        lon, lat = (float(v) for v in position)
    except (TypeError, ValueError):
        raise BadInput("position: " + _("緯度・経度は数値で指定してください")) from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise BadInput("position: " + _("緯度・経度の範囲外です"))
    return WKTElement(f"POINT({lon!r} {lat!r})", srid=4326)
