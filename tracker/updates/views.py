"""The phone update flow for staff (/staff/) and its service worker."""

import hashlib
import json
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_wtf.csrf import generate_csrf
from sqlalchemy.orm import Session

from tracker.accounts.access import current_user, roles_required
from tracker.accounts.departments import department_refusal, may_change_works_of
from tracker.city.districts import districts
from tracker.core.db import get_session
from tracker.core.errors import BadInput
from tracker.core.translate import gettext as _
from tracker.geo.geometry import check_lon_lat
from tracker.maps.city_map import MAX_ZOOM, tile_url
from tracker.maps.page_data import (
    city_map_parts,
    gsi_attribution,
    hazard_layers,
    map_layer_urls,
)
from tracker.projects.departments import WithdrawnWork
from tracker.projects.history import (
    StaleUpdate,
    allowed_next,
    append_status,
)
from tracker.projects.models import Project
from tracker.projects.queries import nearest_projects, project_or_404
from tracker.serving.assets import vendor_url
from tracker.updates.api import recent_updates
from tracker.updates.contract import parse_update
from tracker.updates.field_works import (
    changed_works,
    create_field_work,
    read_bbox,
    read_field_work,
)
from tracker.updates.parsing import read_instant
from tracker.updates.photo_files import photo_url
from tracker.updates.photos import attach_photos_once
from tracker.words.details import kind_facts
from tracker.words.i18n import refusal_text
from tracker.words.vocab import KIND_DETAILS, KINDS, LINE_KINDS, STATUSES, kind_label, status_label

bp = Blueprint("staff", __name__)

STATIC = Path(__file__).resolve().parent.parent / "static"
WRITERS = ("staff", "admin")
# What a person typed that a refused form gives back to them as it was.
TYPED_FIELDS = ("status", "progress", "note", "actual_end")
NEAR_RADIUS_M = 10_000
# How long an offline map area is trusted before the page asks to refresh it.
OFFLINE_AREA_DAYS = 30
NEAR_LIMIT = 10  # a phone screen or two; the search and the map find the rest


@bp.get("/staff/")
@roles_required(*WRITERS)
def home() -> ResponseReturnValue:
    """Find the project to update: near the phone, by name, or on the map."""
    parts = city_map_parts("staff.update_form")
    query = request.args.get("q", "").strip()[:100]
    results = _projects_near(get_session(), None, query) if query else []
    return render_template(
        "staff/index.html", map=parts, query=query, results=results, areas=_offline_sources()
    )


def _offline_sources() -> dict:
    """Return what an offline map area keeps: the base tiles' and the works' tile templates,
    the overlays' URLs (as the map asks for them), and the districts to choose from."""
    layers = map_layer_urls()
    overlays = [url_for("web.map_facilities"), url_for("web.map_restrictions")]
    overlays += [layer["url"] for layer in hazard_layers()]
    return {
        "base_tiles": tile_url(current_app.config.get("MAP_TILE_URL"), "std", "png"),
        "work_tiles": layers["tiles_url"],
        "feature_url": layers["feature_url_template"],
        "changes_url": url_for("staff.changes_since"),
        "overlays": overlays,
        "districts": [
            {"key": d.key, "name": d.label(str(get_locale())), "lat": d.lat, "lon": d.lon}
            for d in districts()
        ],
        "expiry_days": OFFLINE_AREA_DAYS,
        "max_zoom": MAX_ZOOM,
    }


def _projects_near(session: Session, point: tuple[float, float] | None, name: str) -> list[dict]:
    """Return projects near a point (lon, lat), nearest first, and/or whose name contains a text."""
    query = nearest_projects(
        point,
        radius_m=None if name else NEAR_RADIUS_M,
        limit=NEAR_LIMIT,
        name=name,
        include_private=True,
    ).subquery("near")
    return [
        {
            "id": row.id,
            "name": row.name,
            "kind": row.kind,
            "kind_label": kind_label(row.kind),
            "status": row.status,
            "status_label": status_label(row.status),
            "progress": row.progress,
            "public": row.is_public,
            "distance_m": None if row.distance_m is None else round(row.distance_m),
            "url": url_for("staff.update_form", project_id=row.id),
        }
        for row in session.execute(query.select())
    ]


@bp.get("/staff/nearby.json")
@roles_required(*WRITERS)
def nearby() -> ResponseReturnValue:
    """Answer projects near ?lat=&lon= (nearest first), or whose name contains ?q=."""
    lat, lon = request.args.get("lat"), request.args.get("lon")
    name = request.args.get("q", "").strip()[:100]
    point = None
    if lat and lon:
        try:
            numbers = float(lon), float(lat)
        except ValueError:
            raise BadInput(_("緯度・経度は数値で指定してください"), field="lat") from None
        # Also refuses nan and inf, which compare false with every bound.
        point = check_lon_lat(*numbers, field="lat")
    if point is None and not name:
        raise BadInput(_("位置か事業名を指定してください"), field="q")
    return jsonify(projects=_projects_near(get_session(), point, name))


@bp.get("/staff/projects/<int:project_id>")
@roles_required(*WRITERS)
def update_form(project_id: int) -> ResponseReturnValue:
    """Show the one form that records a project's new status, progress, note and photos.

    A work of another department says at once who may update it (sending is refused).
    """
    project = project_or_404(
        get_session(), project_id, include_private=True, include_withdrawn=True
    )
    user = current_user()
    refusal = None
    if user is not None and not may_change_works_of(user, project.department):
        refusal = department_refusal(user, project.department)
    elif project.withdrawn_at is not None:
        refusal = WithdrawnWork().text
    return _render_form(project, error=refusal)


@bp.post("/staff/projects/<int:project_id>")
@roles_required(*WRITERS)
def submit_update(project_id: int) -> ResponseReturnValue:
    """Record an update sent by the form without JavaScript, then show the form again."""
    session = get_session()
    project = project_or_404(session, project_id, include_private=True, include_withdrawn=True)
    try:
        fields = parse_update(request)
        update = append_status(session, project.id, user=current_user(), **fields.status_fields())
        attach_photos_once(session, update, fields.photos)
    except StaleUpdate as stale:
        # The form comes back with what the person typed, says who changed what and shows
        # the values stored now, with the entries recorded meanwhile in the list.
        sentences = [change.sentence() for change in stale.changes]
        typed = {name: request.form.get(name, "") for name in TYPED_FIELDS}
        return _render_form(stale.project, stale=sentences, typed=typed), 409
    except BadInput as error:
        # 400 rolls the request back (tracker.core.db), so nothing of the refused update stays.
        return _render_form(project, error=refusal_text(error)), error.status
    flash(_("記録しました"))
    return redirect(url_for("staff.update_form", project_id=project.id), code=303)


def _render_form(
    project: Project,
    error: str | None = None,
    stale: list[str] | None = None,
    typed: dict[str, str] | None = None,
) -> str:
    return render_template(
        "staff/update.html",
        project=project,
        statuses={code: status_label(code) for code in STATUSES},
        next_statuses=allowed_next(project.status),
        recent=list(reversed(recent_updates(project))),
        error=error,
        stale=stale,
        typed=typed or {},
        photo_url=photo_url,
        kind_details=_kind_facts(project),
    )


def _kind_facts(project: Project) -> list[tuple[str, str]]:
    """Return the work's own fields of its kind (KIND_DETAILS) as (label, value), as set."""
    return kind_facts(project.kind, project.details)


@bp.get("/staff/works/new")
@roles_required(*WRITERS)
def new_work_form() -> ResponseReturnValue:
    """Show the form that records a new work from the site, online or without signal."""
    user = current_user()
    departments = user.department_names if user is not None else []
    return render_template(
        "staff/new_work.html",
        kinds={code: kind_label(code) for code in KINDS},
        kind_details={
            kind: [
                {
                    "name": name,
                    "label": _(label),
                    "type": type_,
                    "choices": [(code, _(word)) for code, word in choices],
                }
                for name, label, type_, choices in fields
            ]
            for kind, fields in KIND_DETAILS.items()
        },
        line_kinds=sorted(LINE_KINDS),
        statuses={code: status_label(code) for code in allowed_next("planned")},
        departments=departments,
        tiles=tile_url(current_app.config.get("MAP_TILE_URL"), "std", "png"),
        attribution=str(gsi_attribution()),
        vendor_url=vendor_url,
    )


@bp.post("/staff/works")
@roles_required(*WRITERS)
def create_work() -> ResponseReturnValue:
    """Create a work sent from the phone with its first update; 201, or 200 when the same
    client_id made it before (a resend). Refusals say why, for the outbox's fix and resend."""
    user = current_user()
    if user is None:
        return jsonify(error="login"), 401
    session = get_session()
    work = read_field_work(dict(request.form.items()), request.files.getlist("photos"))
    project, new = create_field_work(session, work, user)
    answer = {
        "project": {
            "id": project.id,
            "name": project.name,
            "version": project.version,
            "url": url_for("staff.update_form", project_id=project.id),
            "api": url_for("updates_api.post_update", project_id=project.id),
        }
    }
    return jsonify(answer), 201 if new else 200


@bp.get("/staff/sync")
@roles_required(*WRITERS)
def sync_report() -> ResponseReturnValue:
    """Show, after a time without signal, what was sent, what was refused and why, and what
    changed on the server meanwhile for the works in the person's offline areas."""
    return render_template("staff/sync.html")


@bp.get("/staff/changes.json")
@roles_required(*WRITERS)
def changes_since() -> ResponseReturnValue:
    """Answer the works changed since ?since= (ISO time) inside ?bbox=west,south,east,north:
    what the sync report shows as changed on the server while the phone was away."""
    since = read_instant(request.args.get("since"))
    if since is None:
        raise BadInput(_("since を指定してください"), field="since")
    boxes = [read_bbox(text) for text in request.args.getlist("bbox")]
    rows = changed_works(get_session(), since, boxes)
    return jsonify(
        works=[
            {
                "id": row.id,
                "name": row.name,
                "status_label": status_label(row.status),
                "progress": row.progress,
                "version": row.version,
                "updated_at": row.updated_at.isoformat(),
                "url": url_for("staff.update_form", project_id=row.id),
            }
            for row in rows
        ]
    )


@bp.get("/staff/csrf.json")
@roles_required(*WRITERS)
def csrf() -> ResponseReturnValue:
    """Answer a fresh CSRF token, for updates sent from the queue long after the page loaded."""
    response = jsonify(csrf_token=generate_csrf())
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/staff/sw.js")
def service_worker() -> ResponseReturnValue:
    """Serve the service worker from /staff/, so that its scope covers the staff pages.

    The worker keeps each staff page with the scripts and styles the page itself names
    (their hashed addresses), so nothing here lists them; its version follows every
    static file's hash, so a changed asset replaces the phone's copy.
    """
    script = (STATIC / "js" / "staff_sw.js").read_text(encoding="utf-8")
    config = {
        "version": assets_version(current_app.extensions.get("hashed_assets", {}), script),
        "precache": [url_for("staff.home")],
    }
    body = f"self.ASO_SW = {json.dumps(config)};\n{script}"
    response = Response(body, mimetype="application/javascript")
    response.headers["Service-Worker-Allowed"] = url_for("staff.home")
    # Browsers check for a new worker on each visit; an old cached one would pin old pages.
    response.headers["Cache-Control"] = "no-cache"
    return response


def assets_version(manifest: dict[str, dict[str, str]], script: str) -> str:
    """Return a short hash of every static file's hashed name and of the worker itself."""
    digest = hashlib.sha256(script.encode())
    digest.update(json.dumps(manifest, sort_keys=True).encode())
    return digest.hexdigest()[:12]
