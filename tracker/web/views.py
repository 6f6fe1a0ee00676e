"""Public pages: the city map and a page per project."""

import json

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import gettext as _

from tracker.accounts.access import can_see_private, current_user
from tracker.assets import vendor_url
from tracker.city.districts import districts
from tracker.db import get_session
from tracker.hazards.codes import HAZARDS
from tracker.hazards.queries import hazard_geojson
from tracker.i18n import locale
from tracker.maps.city_map import build_project_map, render_parts
from tracker.maps.page_data import city_map_parts, map_labels, static_url
from tracker.plan.queries import names_by_code
from tracker.projects.audit import audit_rows
from tracker.projects.queries import (
    ProjectFilter,
    project_feature,
    project_or_404,
    status_counts,
    works_by_area,
)

bp = Blueprint("web", __name__)


# Works per area on the city map's page without JavaScript, and on the list of works.
AREA_PREVIEW = 8
AREA_LIST_LIMIT = 50
AREA_PAGE_LIMIT = 1000


def _works_by_area(per_area: int, only: str | None = None):
    """Return the areas (districts) and the map's works nearest each, by name."""
    areas = districts()
    centres = [(a.key, a.lon, a.lat) for a in areas]
    filt = ProjectFilter(include_private=can_see_private())
    found = works_by_area(get_session(), filt, centres, per_area=per_area, only=only)
    return [a for a in areas if a.key in found], found


@bp.get("/")
def city_map():
    """Show every public project on a map of the city, and without JavaScript a list by area."""
    counts = status_counts(get_session(), ProjectFilter(include_private=can_see_private()))
    parts = city_map_parts("web.project_page", count=sum(counts.values()))
    areas, by_area = _works_by_area(AREA_PREVIEW)
    return render_template("map.html", map=parts, areas=areas, by_area=by_area, lang=locale())


@bp.get("/works")
def works_list():
    """List the map's works by area, each linking to its page; ?area= lists one area in full."""
    key = request.args.get("area") or None
    if key is not None and key not in {a.key for a in districts()}:
        abort(404, description=_("この地区は見つかりません"))
    limit = AREA_PAGE_LIMIT if key else AREA_LIST_LIMIT
    areas, by_area = _works_by_area(limit, only=key)
    return render_template(
        "works.html", areas=areas, by_area=by_area, area_key=key, limit=limit, lang=locale()
    )


@bp.get("/map/hazards/<hazard>.geojson")
def hazard_features(hazard: str):
    """Answer one hazard's zones as GeoJSON: a layer the maps switch on and off."""
    if hazard not in HAZARDS:
        abort(404, description=_("この災害の区域はありません"))
    return Response(hazard_geojson(get_session(), hazard), mimetype="application/geo+json")


@bp.get("/projects/<int:project_id>")
def project_page(project_id: int):
    """Show one project: details, a small map, its plan links and its status history."""
    session = get_session()
    project = project_or_404(session, project_id, include_private=can_see_private())
    feature = json.loads(project_feature(session, project_id, include_private=True))
    m = build_project_map(
        feature=feature, vendor_url=vendor_url, static_url=static_url, labels=map_labels()
    )
    user = current_user()
    return render_template(
        "project.html",
        project=project,
        map=render_parts(m),
        show_internal=can_see_private(),
        # Who changed what is for admins only.
        audit_rows=audit_rows(session, project.id) if user and user.role == "admin" else [],
        plan_names=names_by_code(session),
    )
