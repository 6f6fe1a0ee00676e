"""The status history API: post an update, list a project's updates."""

from flask import Blueprint, jsonify, request
from geoalchemy2.shape import to_shape
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tracker.accounts.access import can_see_private, current_user, roles_required
from tracker.db import get_session
from tracker.projects.history import StatusUpdate, append_status
from tracker.projects.queries import project_or_404
from tracker.updates.parsing import parse_update
from tracker.updates.photo_files import photo_url
from tracker.updates.photos import attach_photos

bp = Blueprint("updates_api", __name__, url_prefix="/api")


@bp.post("/projects/<int:project_id>/updates")
@roles_required("staff", "admin")
def post_update(project_id: int):
    """Record a status update (JSON, or a form with photos); a repeated client_id records once."""
    session = get_session()
    project = project_or_404(session, project_id, include_private=can_see_private())
    fields = parse_update(request)
    update = append_status(session, project.id, user=current_user(), **fields.status_fields())
    if update.is_new:
        attach_photos(session, update, fields.photos)
    # A resend answers exactly like the first send, so a phone can retry blindly.
    return jsonify(update_json(update, full=True)), 201


@bp.get("/projects/<int:project_id>/updates")
def list_updates(project_id: int):
    """List a project's updates, oldest first; notes, authors and photos only for signed-in users."""
    session = get_session()
    full = can_see_private()
    project_or_404(session, project_id, include_private=full)
    updates = session.scalars(
        select(StatusUpdate)
        .where(StatusUpdate.project_id == project_id)
        .options(selectinload(StatusUpdate.author), selectinload(StatusUpdate.photos))
        .order_by(StatusUpdate.id)
    )
    return jsonify(project_id=project_id, updates=[update_json(u, full=full) for u in updates])


def update_json(update: StatusUpdate, *, full: bool) -> dict:
    """Return an update as JSON: dates, statuses and progress, plus everything else when full."""
    data = {
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
        position = {"lat": point.y, "lon": point.x}
    author = update.author
    return {
        "id": update.id,
        "project_id": update.project_id,
        **data,
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
            for photo in update.photos
        ],
    }
