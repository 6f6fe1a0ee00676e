"""Public pages: the city map and a page per project."""

import json

from flask import Blueprint, render_template

from tracker.accounts.access import can_see_private, current_user
from tracker.assets import vendor_url
from tracker.db import get_session
from tracker.maps.city_map import build_project_map, render_parts
from tracker.maps.page_data import city_map_parts, static_url
from tracker.projects.audit import audit_rows
from tracker.projects.queries import (
    ProjectFilter,
    project_feature,
    project_or_404,
    status_counts,
)

bp = Blueprint("web", __name__)


@bp.get("/")
def city_map():
    """Show every public project on a map of the city."""
    counts = status_counts(get_session(), ProjectFilter(include_private=can_see_private()))
    parts = city_map_parts("web.project_page", count=sum(counts.values()))
    return render_template("map.html", map=parts)


@bp.get("/projects/<int:project_id>")
def project_page(project_id: int):
    """Show one project: details, a small map, its plan links and its status history."""
    session = get_session()
    project = project_or_404(session, project_id, include_private=can_see_private())
    feature = json.loads(project_feature(session, project_id, include_private=True))
    m = build_project_map(feature=feature, vendor_url=vendor_url, static_url=static_url)
    user = current_user()
    return render_template(
        "project.html",
        project=project,
        map=render_parts(m),
        show_internal=can_see_private(),
        # Who changed what is for admins only.
        audit_rows=audit_rows(session, project.id) if user and user.role == "admin" else [],
    )
