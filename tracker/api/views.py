"""The JSON API: projects as GeoJSON (RFC 7946, lon/lat), read by anyone, written by staff."""

import re
from typing import Any

from flask import Blueprint, Response, abort, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from tracker.accounts.access import can_see_private, current_user, roles_required, signed_in
from tracker.api.contract import (
    EditConflict,
    EditHeaders,
    ProjectInput,
    Projects,
    ProjectsQuery,
    Restrictions,
    RestrictionsQuery,
)
from tracker.api.contract import (
    Project as ProjectAnswer,
)
from tracker.core import clock
from tracker.core.db import get_session, streamed_from_database
from tracker.core.errors import BadInput
from tracker.core.translate import gettext as _
from tracker.geo.geometry import GeometryRefused, to_geojson
from tracker.projects.audit import fields_changed_since
from tracker.projects.contract import ChangeRefused
from tracker.projects.departments import check_may_change
from tracker.projects.models import Project
from tracker.projects.operations import StaleEdit, create_project, update_project
from tracker.projects.queries import (
    ProjectFilter,
    page_end,
    project_feature,
    project_or_404,
    streamed_page,
)
from tracker.projects.withdrawal import delete_project
from tracker.restrictions.queries import RestrictionFilter, restriction_collection
from tracker.serving.answer_cache import keeping, kept, request_key
from tracker.serving.contract import (
    GEOJSON,
    READ,
    WRITE,
    Answers,
    checked,
    checked_query,
    contract,
    page_cursor,
)
from tracker.serving.freshness import kept_for, minute_and_language

bp = Blueprint("api", __name__, url_prefix="/api")

REQUIRED_ON_CREATE = ("name", "kind", "department")
# A page of the default 1,000 projects is kept (about 0.5 MB); the largest (10,000) stream
# each time, so that harvesters reading the whole city never fill a worker's memory.
KEPT_PAGE_BYTES = 2 * 1024 * 1024


@bp.errorhandler(GeometryRefused)
def _geometry_refused(error: GeometryRefused) -> ResponseReturnValue:
    body: dict[str, object] = {"error": str(error), "code": error.code, "field": "geometry"}
    if error.location is not None:
        # Where the problem lies, to mark on a map.
        body["location"] = {"type": "Point", "coordinates": list(error.location)}
    if error.repaired is not None:
        body["repaired"] = to_geojson(error.repaired)
    return jsonify(body), 400


def etag_of(project: Project) -> str:
    """Return the (unquoted) entity tag of a project's current version."""
    return f"p{project.id}-v{project.version}"


@bp.get("/projects")
@contract.validate(
    query=ProjectsQuery,
    resp=Answers(200, Projects, "One page of the projects.", media_type=GEOJSON),
    security=READ,
    operation_id="listProjects",
)
def list_projects() -> Response:
    """Public projects (all projects for signed-in users), filtered by kind, status and bbox.

    By id, `limit` at a time (1,000 unless asked otherwise, at most 10,000): when more
    follow, the `Link` header names the next page (rel="next", with an opaque `cursor`);
    following those links reads every project once.
    """
    query = checked_query(ProjectsQuery)
    filt = ProjectFilter(
        kinds=query.kind,
        statuses=query.status,
        bbox=query.bbox,
        include_private=can_see_private(),
    )
    session = get_session()
    after = query.cursor or 0
    end = page_end(session, filt, after=after, limit=query.limit)
    key = request_key(filt.include_private, clock.today())
    body = kept(key)
    if body is None:
        body = streamed_from_database(
            lambda session: keeping(
                key, streamed_page(session, filt, after=after, end=end), KEPT_PAGE_BYTES
            )
        )
    response = Response(body, mimetype=GEOJSON)
    if end.more and end.last is not None:
        args: dict[str, Any] = request.args.to_dict(flat=False)
        args["cursor"] = page_cursor(end.last)
        next_page = url_for("api.list_projects", **args)
        response.headers["Link"] = f'<{next_page}>; rel="next"'
    return response


@bp.get("/projects/<int:project_id>")
@contract.validate(
    resp=Answers(
        200,
        ProjectAnswer,
        "The project; its version is the ETag.",
        media_type=GEOJSON,
        errors=(400, 401, 404, 413),
    ),
    security=READ,
    operation_id="getProject",
)
def get_project(project_id: int) -> Response:
    """One project, with its version as the ETag."""
    session = get_session()
    project = project_or_404(session, project_id, include_private=can_see_private())
    feature = project_feature(session, project_id, include_private=True, internal=can_see_private())
    response = Response(feature, mimetype=GEOJSON)
    response.set_etag(etag_of(project))
    return response


@bp.get("/restrictions")
@kept_for(minute_and_language, signed_in, kept_here=True)
@contract.validate(
    query=RestrictionsQuery,
    resp=Answers(200, Restrictions, "The restrictions.", media_type=GEOJSON),
    security=READ,
    operation_id="listRestrictions",
)
def list_restrictions() -> Response:
    """Traffic restrictions as a GeoJSON FeatureCollection, earliest start first.

    Query: `active_on=YYYY-MM-DD` (those in force that day; default: in force or still to
    come today), `bbox=minlon,minlat,maxlon,maxlat` (those whose section, or without one
    whose work, touches the box). Each Feature's geometry is the closed or narrowed section
    (or the work's own, when `section_drawn` is false); properties: id, project_id,
    project_name, sample, kind, starts_on, ends_on, days, time_from, time_until,
    description, reason, contact, section_drawn, detour (a GeoJSON line or null),
    lifted_at, updated_at, in_force_now (its days, hours and Japanese public holidays at
    this instant) and next_in_force_at. Restrictions of staff-only works for signed-in
    users only.
    """
    query = checked_query(RestrictionsQuery)
    filt = RestrictionFilter(
        active_on=query.active_on, bbox=query.bbox, include_private=can_see_private()
    )
    return Response(restriction_collection(get_session(), filt), mimetype=GEOJSON)


@bp.post("/projects")
@roles_required("admin", "staff")
@contract.validate(
    json=ProjectInput,
    resp=Answers(
        201,
        ProjectAnswer,
        "Created; Location and ETag name it.",
        media_type=GEOJSON,
        errors=(400, 401, 403, 413),
        error_models={403: ChangeRefused},
    ),
    security=WRITE,
    operation_id="createProject",
)
def create_project_view() -> Response:
    """Create a project from a GeoJSON Feature; answer 201 with it.

    Staff create works of their own departments only (403 `other_department`).
    """
    session = get_session()
    feature = _sent_feature()
    geometry, properties = feature.geometry, feature.sent()
    missing = [name for name in REQUIRED_ON_CREATE if properties.get(name) in (None, "")]
    if geometry is None:
        missing.insert(0, "geometry")
    if missing:
        raise BadInput(_("事業を登録するには必要です"), code="required", field=missing[0])
    fields = {_model_name(name): value for name, value in properties.items()}
    project = create_project(session, geometry=geometry, user=current_user(), **fields)
    response = _feature_response(session, project, 201)
    response.headers["Location"] = url_for("api.get_project", project_id=project.id)
    return response


@bp.patch("/projects/<int:project_id>")
@roles_required("admin", "staff")
@contract.validate(
    json=ProjectInput,
    headers=EditHeaders,
    resp=Answers(
        200,
        ProjectAnswer,
        "The changed project.",
        media_type=GEOJSON,
        errors=(400, 401, 403, 404, 409, 412, 413, 428),
        error_models={403: ChangeRefused, 412: EditConflict},
        error_meanings={409: "The work is withdrawn (`withdrawn`): restore it first."},
    ),
    security=WRITE,
    operation_id="updateProject",
)
def update_project_view(project_id: int) -> Response | tuple[Response, int]:
    """Change some fields of a project made at the version If-Match names (the ETag of GET).

    Staff change works of their own departments only, and move a work only between their
    departments (403 `other_department`). A withdrawn work is not changed (409 `withdrawn`).
    """
    session = get_session()
    # Locked until the request ends: two edits of one version cannot both pass the check.
    # Found when withdrawn too, so that the refusal says why.
    project = project_or_404(
        session, project_id, include_private=True, include_withdrawn=True, lock=True
    )
    expected = _expected_version(project)
    feature = _sent_feature()
    geometry = feature.geometry
    changes = feature.sent()
    if geometry is not None:
        changes["geometry"] = geometry
    try:
        update_project(session, project, changes, expected_version=expected, user=current_user())
    except StaleEdit as exc:
        return _stale_response(exc)
    return _feature_response(session, project, 200)


@bp.delete("/projects/<int:project_id>")
@roles_required("admin", "staff")
@contract.validate(
    headers=EditHeaders,
    resp=Answers(
        204,
        None,
        "Deleted; the audit trail keeps a row saying so.",
        errors=(400, 401, 403, 404, 409, 412, 413, 428),
        error_models={403: ChangeRefused, 412: EditConflict},
        error_meanings={
            409: "People have recorded on the work (`has_records`): withdraw it instead."
        },
    ),
    security=WRITE,
    operation_id="deleteProject",
)
def delete_project_view(project_id: int) -> Response:
    """Delete a work created by mistake, at the version If-Match names (the ETag of GET).

    Only a work nobody has recorded on (no status update, edit, withdrawal, restriction or
    photo by a person): any other answers 409 `has_records`, and is withdrawn instead (from
    its page). Staff delete works of their own departments only (403 `other_department`).
    """
    session = get_session()
    project = project_or_404(
        session, project_id, include_private=True, include_withdrawn=True, lock=True
    )
    expected = _expected_version(project)
    # Who may, before whether the version is current: a 412 would tell others it changed.
    check_may_change(current_user(), project.department)
    if expected != project.version:
        return _stale_response(
            StaleEdit(project, expected, fields_changed_since(session, project.id, expected))
        )
    delete_project(session, project, user=current_user())
    return Response(status=204)


def _expected_version(project: Project) -> int:
    """Return the version that the If-Match header names, refusing a missing or blind one."""
    if "If-Match" not in request.headers:
        abort(
            428,
            description=_(
                "If-Match が必要です。ほかの人の変更を知らずに上書きしないよう、"
                "GET /api/projects/<id> で受け取った ETag を送ってください"
            ),
        )
    if request.if_match.star_tag:
        abort(
            428,
            description=_(
                "If-Match: * では確かめずに上書きしてしまいます。事業の ETag を送ってください"
            ),
        )
    # At most 9 digits: any version the database can hold, never one too large to query.
    pattern = re.compile(rf"p{project.id}-v(\d{{1,9}})")
    for tag in request.if_match.as_set(include_weak=True):
        match = pattern.fullmatch(tag or "")  # `If-Match: ""` parses as no tag at all
        if match:
            return int(match.group(1))
    # A tag of another resource or from nowhere cannot be the current version.
    return -1


def _stale_response(exc: StaleEdit) -> Response:
    project = exc.project
    message = _(
        "お手元の内容を読み込んだ後に、この事業が変更されました（現在は版 %(version)s）。"
        "もう一度 GET し、変更をやり直して新しい ETag を送ってください",
        version=project.version,
    )
    body = {"error": message, "code": "stale_version", "changed": exc.changed_fields}
    response = jsonify(body)
    response.status_code = 412
    response.set_etag(etag_of(project))
    return response


def _feature_response(session: Session, project: Project, status: int) -> Response:
    session.flush()
    feature = project_feature(session, project.id, include_private=True, internal=True)
    response = Response(feature, status=status, mimetype=GEOJSON)
    response.set_etag(etag_of(project))
    return response


def _model_name(name: str) -> str:
    return {
        "public": "is_public",
        "plan_items": "plan_item_codes",
        "indicators": "indicator_codes",
    }.get(name, name)


def _sent_feature() -> ProjectInput:
    """Return the Feature the contract checked, refusing a body that is not JSON."""
    feature = checked("json", ProjectInput)
    if feature is None:
        raise BadInput(
            _("GeoJSON の Feature を JSON で送ってください（Content-Type: application/json）"),
            code="invalid_format",
            field="body",
        )
    return feature
