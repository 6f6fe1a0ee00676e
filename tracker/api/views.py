"""The JSON API: projects as GeoJSON (RFC 7946, lon/lat)."""

from flask import Blueprint, Response, abort, request

from tracker.accounts.access import can_see_private
from tracker.db import get_session
from tracker.projects.queries import ProjectFilter, feature_collection, project_feature

bp = Blueprint("api", __name__, url_prefix="/api")

GEOJSON = "application/geo+json"


@bp.get("/projects")
def list_projects():
    """Answer the public projects, filtered by kind, status and bbox."""
    filt = ProjectFilter.from_args(request.args, include_private=can_see_private())
    return Response(feature_collection(get_session(), filt), mimetype=GEOJSON)


@bp.get("/projects/<int:project_id>")
def get_project(project_id: int):
    """Answer one project as a GeoJSON Feature."""
    feature = project_feature(get_session(), project_id, include_private=can_see_private())
    if feature is None:
        abort(404, description=f"no project with id {project_id}")
    return Response(feature, mimetype=GEOJSON)
