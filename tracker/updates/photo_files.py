"""Photo files: public copies of public projects for anyone, originals for staff only."""

from flask import Blueprint, Response, abort, current_app, send_file, url_for

from tracker.accounts.access import can_see_private, can_see_withdrawn, current_user
from tracker.core.db import get_session
from tracker.updates.models import Photo
from tracker.updates.photos import photo_path

bp = Blueprint("photos", __name__)

# Who may see the originals, which keep their EXIF, including where they were taken.
ORIGINAL_ROLES = ("staff", "admin")


def photo_url(photo: Photo, variant: str) -> str:
    """Return the URL of one copy of a photo."""
    return url_for("photos.photo_file", photo_id=photo.id, variant=variant)


@bp.get("/photos/<int:photo_id>/<any(thumb, display, original):variant>")
def photo_file(photo_id: int, variant: str) -> Response:
    """Send a photo: public copies of public projects to anyone, the original to staff only."""
    photo = get_session().get(Photo, photo_id)
    if photo is None:
        abort(404)
    project = photo.update.project
    user = current_user()
    if variant == "original":
        allowed = user is not None and user.role in ORIGINAL_ROLES
    else:
        allowed = project.is_visible(include_private=can_see_private()) or (
            project.withdrawn_at is not None and can_see_withdrawn()
        )
    if not allowed:
        abort(404)
    path = photo_path(current_app.config["UPLOAD_DIR"], photo.storage_key, variant, photo.extension)
    if not path.exists():
        abort(404)
    mimetype = photo.content_type if variant == "original" else "image/jpeg"
    response = send_file(path, mimetype=mimetype, max_age=86400, conditional=True)
    if variant == "original" or not project.is_visible(include_private=False):
        response.cache_control.private = True
        response.cache_control.public = False
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
