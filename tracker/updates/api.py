"""The status history API: post an update, list a project's updates."""

from flask import Blueprint, Response, jsonify
from flask.typing import ResponseReturnValue
from geoalchemy2.shape import to_shape
from shapely.geometry import Point
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tracker.accounts.access import can_see_private, current_user, roles_required
from tracker.core.db import get_session
from tracker.core.errors import BadInput
from tracker.core.translate import gettext as _
from tracker.projects.contract import ChangeRefused
from tracker.projects.history import (
    HISTORY_ORDER,
    ClientIdReused,
    StaleUpdate,
    StatusUpdate,
    allowed_next,
    append_status,
    with_previous_progress,
)
from tracker.projects.models import Project
from tracker.projects.queries import project_or_404
from tracker.serving.contract import READ, WRITE, Answers, checked, contract
from tracker.updates.contract import (
    UpdateBody,
    UpdateConflict,
    UpdateForm,
    UpdateRecorded,
    Updates,
)
from tracker.updates.photo_files import photo_url
from tracker.updates.photos import attach_photos_once
from tracker.words.vocab import status_label

bp = Blueprint("updates_api", __name__, url_prefix="/api")

# How many of a work's latest entries its update form lists (「最近の記録」).
RECENT_UPDATES = 5


@bp.errorhandler(BadInput)
def _refused(error: BadInput) -> ResponseReturnValue:
    """Answer a refusal naming the field for programs and saying why for people.

    `error` keeps the field first (`progress: …`); `message` is the reason alone, in the
    reader's language, for the phone to show. A stale update (409) also carries the
    project's state now, so that the form can show it before asking again; a client_id
    reused for another update (409 `client_id_reused`) carries the update it recorded. A
    work of another department answers 403 (`other_department`).
    """
    body = {
        "error": str(error),
        "code": error.code,
        "field": error.field,
        "message": error.text,
        **error.extra,
    }
    if isinstance(error, StaleUpdate):
        body["current"] = state_json(error.project)
        body["changes"] = [change.sentence() for change in error.changes]
        body["recent"] = [update_json(u, full=True) for u in recent_updates(error.project)]
        return jsonify(body), 409
    if isinstance(error, ClientIdReused):
        body["update"] = update_json(error.update, full=True)
    return jsonify(body), error.status


@bp.post("/projects/<int:project_id>/updates")
@roles_required("staff", "admin")
@contract.validate(
    json=UpdateBody,
    form=UpdateForm,
    resp=Answers(
        201,
        UpdateRecorded,
        "Recorded (or recorded before: the same update sent again with its client_id), with "
        "the project's state now.",
        errors=(400, 401, 403, 404, 409, 413),
        error_models={403: ChangeRefused, 409: UpdateConflict},
        error_meanings={
            409: "The project changed since base_version, or it is withdrawn (code "
            "`withdrawn`), or the client_id was already used for another update (code "
            "`client_id_reused`, with that update)."
        },
    ),
    security=WRITE,
    operation_id="postUpdate",
)
def post_update(project_id: int) -> tuple[Response, int]:
    """Record a status update (JSON, or a multipart form with photos); a repeated client_id
    records once, and the same client_id with another update is refused (409). Staff update works of their own departments only (403 `other_department`)."""
    session = get_session()
    # Found when withdrawn too, so that the refusal says why (restore it first).
    project = project_or_404(
        session, project_id, include_private=can_see_private(), include_withdrawn=True
    )
    sent: UpdateBody | UpdateForm | None = checked("json", UpdateBody) or checked(
        "form", UpdateForm
    )
    if sent is None:
        raise BadInput(_("JSONオブジェクトを送ってください"), field="body")
    fields = sent.to_input()
    update = append_status(session, project.id, user=current_user(), **fields.status_fields())
    attach_photos_once(session, update, fields.photos)
    # A resend answers exactly like the first send, so a phone can retry blindly.
    return jsonify(update_json(update, full=True) | {"project": state_json(project)}), 201


@bp.get("/projects/<int:project_id>/updates")
@contract.validate(
    resp=Answers(200, Updates, "The updates.", errors=(400, 401, 404, 413)),
    security=READ,
    operation_id="listUpdates",
)
def list_updates(project_id: int) -> Response:
    """A project's status history in the order it was seen on site, oldest first.

    Notes, authors and photos only for signed-in users.
    """
    session = get_session()
    full = can_see_private()
    project_or_404(session, project_id, include_private=full)
    updates = session.scalars(
        select(StatusUpdate)
        .where(StatusUpdate.project_id == project_id)
        .options(
            selectinload(StatusUpdate.author),
            selectinload(StatusUpdate.photos),  # type: ignore[attr-defined]  # Photo's backref
        )
        .order_by(*HISTORY_ORDER)
    ).all()
    return jsonify(
        project_id=project_id,
        updates=[update_json(u, full=full) for u in with_previous_progress(list(updates))],
    )


def recent_updates(project: Project) -> list[StatusUpdate]:
    """Return the project's last RECENT_UPDATES entries, oldest first, each with the progress
    before it, read afresh: the entries someone else added meanwhile are among them."""
    get_session().refresh(project, ["updates"])
    return with_previous_progress(list(project.updates))[-RECENT_UPDATES:]


def state_json(project: Project) -> dict:
    """Return a project's current state as an update form needs it: values, version, choices."""
    return {
        "version": project.version,
        "status": project.status,
        "status_label": status_label(project.status),
        "progress": project.progress,
        "allowed": [{"code": s, "label": status_label(s)} for s in allowed_next(project.status)],
    }


def update_json(update: StatusUpdate, *, full: bool) -> dict:
    """Return an update as JSON: dates, statuses and progress, plus everything else when full."""
    data = {
        "observed_at": update.observed_at.isoformat(),
        "recorded_at": update.recorded_at.isoformat(),
        "previous_status": update.previous_status,
        "status": update.status,
        "progress": update.progress,
    }
    if not full:
        return data
    position = None
    if update.position is not None:
        point = to_shape(update.position)
        if not isinstance(point, Point):
            raise TypeError(f"update {update.id} is placed at a {point.geom_type}, not a point")
        position = {"lat": point.y, "lon": point.x}
    author = update.author
    return {
        "id": update.id,
        "project_id": update.project_id,
        **data,
        "previous_progress": update.previous_progress,
        "note": update.note,
        "client_id": str(update.client_id) if update.client_id else None,
        "author": None
        if author is None
        else {"id": author.id, "name": author.display_name or author.login},
        "position": position,
        "photos": [
            {
                "id": photo.id,
                "width": photo.width,
                "height": photo.height,
                "thumb_url": photo_url(photo, "thumb"),
                "display_url": photo_url(photo, "display"),
            }
            for photo in update.photos  # type: ignore[attr-defined]  # Photo.update's backref
        ],
    }
