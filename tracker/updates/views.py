"""The phone update flow for staff (/staff/), its service worker, and photo files."""

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf

from tracker.accounts.access import can_see_private, current_user, roles_required
from tracker.assets import vendor_url
from tracker.db import get_session
from tracker.errors import BadInput
from tracker.maps.city_map import VECTORGRID_JS, build_city_map, render_parts
from tracker.maps.page_data import city_boundary_geojson, map_labels, static_url
from tracker.ogc.views import map_layer_urls
from tracker.projects.models import Project
from tracker.projects.vocab import KINDS, STATUSES
from tracker.updates.api import photo_url
from tracker.updates.models import Photo
from tracker.updates.operations import record_status_update
from tracker.updates.parsing import parse_update
from tracker.updates.photos import photo_path
from tracker.updates.queries import projects_near
from tracker.updates.transitions import allowed_next

bp = Blueprint("staff", __name__)

STATIC = Path(__file__).resolve().parent.parent / "static"
OWN_ASSETS = (
    "css/site.css",
    "css/map.css",
    "css/staff.css",
    "js/project_layers.js",
    "js/staff_queue.js",
    "js/staff_home.js",
    "js/staff_form.js",
)
VENDOR_ASSETS = (
    "leaflet/dist/leaflet.js",
    "leaflet/dist/leaflet.css",
    VECTORGRID_JS,
)
WRITERS = ("staff", "admin")


@bp.get("/staff/")
@roles_required(*WRITERS)
def home():
    """Find the project to update: near the phone, by name, or on the map."""
    m = build_city_map(
        boundary=city_boundary_geojson(),
        **map_layer_urls(),
        vendor_url=vendor_url,
        project_url_template=url_for("staff.update_form", project_id=1)[:-1] + "{id}",
        static_url=static_url,
        labels=map_labels(),
    )
    query = request.args.get("q", "").strip()[:100]
    results = _with_urls(projects_near(get_session(), name=query)) if query else []
    return render_template("staff/index.html", map=render_parts(m), query=query, results=results)


def _with_urls(rows: list[dict]) -> list[dict]:
    for row in rows:
        row["url"] = url_for("staff.update_form", project_id=row["id"])
    return rows


@bp.get("/staff/nearby.json")
@roles_required(*WRITERS)
def nearby():
    """Answer projects near ?lat=&lon= (nearest first), or whose name contains ?q=."""
    lat, lon = request.args.get("lat"), request.args.get("lon")
    name = request.args.get("q", "").strip()[:100]
    try:
        point = (float(lon), float(lat)) if lat and lon else (None, None)
    except ValueError:
        raise BadInput("lat: " + _("緯度・経度は数値で指定してください")) from None
    if lat and lon and not (-180 <= point[0] <= 180 and -90 <= point[1] <= 90):
        # Also refuses nan and inf, which compare false with everything.
        raise BadInput("lat: " + _("緯度・経度の範囲外です"))
    if point == (None, None) and not name:
        raise BadInput("q: " + _("位置か事業名を指定してください"))
    results = projects_near(get_session(), lon=point[0], lat=point[1], name=name)
    return jsonify(projects=_with_urls(results))


@bp.get("/staff/projects/<int:project_id>")
@roles_required(*WRITERS)
def update_form(project_id: int):
    """Show the one form that records a project's new status, progress, note and photos."""
    return _render_form(_project(project_id))


@bp.post("/staff/projects/<int:project_id>")
@roles_required(*WRITERS)
def submit_update(project_id: int):
    """Record an update sent by the form without JavaScript, then show the form again."""
    project = _project(project_id)
    try:
        fields = parse_update(request)
        record_status_update(get_session(), project, user=current_user(), **fields.as_kwargs())
    except BadInput as error:
        # 400 rolls the request back (tracker.db), so nothing of the refused update stays.
        return _render_form(project, error=str(error).split(": ", 1)[-1]), 400
    flash(_("記録しました"))
    return redirect(url_for("staff.update_form", project_id=project.id), code=303)


def _project(project_id: int) -> Project:
    project = get_session().get(Project, project_id)
    if project is None:
        abort(404, description=_("この事業は見つかりません"))
    return project


def _render_form(project: Project, error: str | None = None):
    return render_template(
        "staff/update.html",
        project=project,
        kinds=KINDS,
        statuses=STATUSES,
        next_statuses=allowed_next(project.status),
        recent=list(reversed(project.updates[-5:])),
        error=error,
        photo_url=photo_url,
    )


@bp.get("/staff/csrf.json")
@roles_required(*WRITERS)
def csrf():
    """Answer a fresh CSRF token, for updates sent from the queue long after the page loaded."""
    response = jsonify(csrf_token=generate_csrf())
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/staff/sw.js")
def service_worker():
    """Serve the service worker from /staff/, so that its scope covers the staff pages."""
    assets = [static_url(path) for path in OWN_ASSETS]
    assets += [vendor_url(path) for path in VENDOR_ASSETS]
    config = {
        "version": _assets_version(current_app.static_folder),
        "precache": [url_for("staff.home"), *assets],
    }
    script = (STATIC / "js" / "staff_sw.js").read_text(encoding="utf-8")
    body = f"self.ASO_SW = {json.dumps(config)};\n{script}"
    response = Response(body, mimetype="application/javascript")
    response.headers["Service-Worker-Allowed"] = url_for("staff.home")
    # Browsers check for a new worker on each visit; an old cached one would pin old pages.
    response.headers["Cache-Control"] = "no-cache"
    return response


@lru_cache(maxsize=4)
def _assets_version(static_folder: str | None) -> str:
    digest = hashlib.sha256()
    for path in (*OWN_ASSETS, "js/staff_sw.js"):
        digest.update(Path(static_folder or STATIC, path).read_bytes())
    return digest.hexdigest()[:12]


@bp.get("/photos/<int:photo_id>/<any(thumb, display, original):variant>")
def photo_file(photo_id: int, variant: str):
    """Send a photo: public copies of public projects to anyone, the original to staff only."""
    photo = get_session().get(Photo, photo_id)
    if photo is None:
        abort(404)
    project = photo.update.project
    user = current_user()
    if variant == "original":
        # The original keeps its EXIF, including where it was taken.
        allowed = user is not None and user.role in WRITERS
    else:
        allowed = project.is_public or can_see_private()
    if not allowed:
        abort(404)
    path = photo_path(current_app.config["UPLOAD_DIR"], photo.storage_key, variant, photo.extension)
    if not path.exists():
        abort(404)
    mimetype = photo.content_type if variant == "original" else "image/jpeg"
    response = send_file(path, mimetype=mimetype, max_age=86400, conditional=True)
    if variant == "original" or not project.is_public:
        response.cache_control.private = True
        response.cache_control.public = False
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
