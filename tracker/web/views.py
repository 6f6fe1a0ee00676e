"""Public pages: the city map and a page per project."""

import json

from flask import Blueprint, abort, render_template, url_for
from flask_babel import gettext as _

from tracker.accounts.access import can_see_private
from tracker.assets import vendor_url
from tracker.db import get_session
from tracker.maps.city_map import build_city_map, build_project_map, render_parts
from tracker.maps.page_data import city_boundary_geojson, map_labels, static_url
from tracker.ogc.views import map_layer_urls
from tracker.projects.models import Project
from tracker.projects.queries import ProjectFilter, project_feature, status_counts
from tracker.projects.vocab import KINDS, STATUSES

bp = Blueprint("web", __name__)


@bp.get("/")
def city_map():
    """Show every public project on a map of the city."""
    counts = status_counts(get_session(), ProjectFilter(include_private=can_see_private()))
    m = build_city_map(
        boundary=city_boundary_geojson(),
        **map_layer_urls(),
        count=sum(counts.values()),
        vendor_url=vendor_url,
        project_url_template=url_for("web.project_page", project_id=1)[:-1] + "{id}",
        static_url=static_url,
        labels=map_labels(),
    )
    return render_template("map.html", map=render_parts(m))


@bp.get("/projects/<int:project_id>")
def project_page(project_id: int):
    """Show one project: details, a small map, its plan links and its status history."""
    session = get_session()
    project = session.get(Project, project_id)
    if project is None or not (project.is_public or can_see_private()):
        abort(404, description=_("この事業は見つかりません"))
    feature = json.loads(project_feature(session, project_id, include_private=True))
    m = build_project_map(feature=feature, vendor_url=vendor_url, static_url=static_url)
    return render_template(
        "project.html",
        project=project,
        map=render_parts(m),
        kinds=KINDS,
        statuses=STATUSES,
        show_internal=can_see_private(),
    )
