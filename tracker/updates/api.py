"""The status history API: post an update, list a project's updates."""

from flask import Blueprint, abort, jsonify, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tracker.accounts.access import can_see_private, current_user, roles_required
from tracker.db import get_session
from tracker.projects.models import Project, StatusUpdate
from tracker.updates.models import Photo
from tracker.updates.operations import record_status_update
from tracker.updates.parsing import parse_update
from tracker.updates.queries import update_json

bp = Blueprint("updates_api", __name__, url_prefix="/api")


def photo_url(photo: Photo, variant: str) -> str:
    """Return the URL of one copy of a photo."""
    return url_for("staff.photo_file", photo_id=photo.id, variant=variant)


def visible_project(project_id: int) -> Project:
    """Return the project if the caller may see it, or answer 404."""
    project = get_session().get(Project, project_id)
    if project is None or not (project.is_public or can_see_private()):
        abort(404, description=f"no project with id {project_id}")
    return project


@bp.post("/projects/<int:project_id>/updates")
@roles_required("staff", "admin")
def post_update(project_id: int):
    """Record a status update (JSON, or a form with photos); a repeated client_id records once."""
    project = visible_project(project_id)
    fields = parse_update(request)
    update = record_status_update(get_session(), project, user=current_user(), **fields.as_kwargs())
    # A resend answers exactly like the first send, so a phone can retry blindly.
    return jsonify(update_json(update, full=True, photo_url=photo_url)), 201


@bp.get("/projects/<int:project_id>/updates")
def list_updates(project_id: int):
    """List a project's updates, oldest first; notes, authors and photos only for signed-in users."""
    visible_project(project_id)
    full = can_see_private()
    updates = get_session().scalars(
        select(StatusUpdate)
        .where(StatusUpdate.project_id == project_id)
        .options(selectinload(StatusUpdate.author), selectinload(StatusUpdate.photos))
        .order_by(StatusUpdate.id)
    )
    return jsonify(
        project_id=project_id,
        updates=[update_json(u, full=full, photo_url=photo_url) for u in updates],
    )
