"""The JSON API: projects as GeoJSON (RFC 7946, lon/lat), read by anyone, written by staff."""

import re

from flask import Blueprint, Response, abort, jsonify, request, url_for
from flask_babel import gettext as _

from tracker.accounts.access import can_see_private, current_user, roles_required
from tracker.core.db import get_session
from tracker.core.errors import BadInput
from tracker.geo.geometry import GeometryRefused, parse_geometry, to_geojson
from tracker.projects.models import Project
from tracker.projects.operations import StaleEdit, create_project, update_project
from tracker.projects.queries import (
    ProjectFilter,
    feature_collection,
    parse_bbox,
    project_feature,
    project_or_404,
)
from tracker.projects.register import REGISTER_FIELDS, check_register
from tracker.restrictions.queries import RestrictionFilter, restriction_collection
from tracker.serving.answer_cache import cached, request_key
from tracker.words.formatting import parse_day, today_jst
from tracker.words.vocab import DATE_FIELDS

bp = Blueprint("api", __name__, url_prefix="/api")

GEOJSON = "application/geo+json"

# Properties a client may send: the ones GET answers, plus the description.
WRITABLE_PROPERTIES = (
    "name",
    "kind",
    "status",
    "progress",
    *DATE_FIELDS,
    "department",
    "plan_items",
    "indicators",
    "public",
    "description",
    "facility_id",
    *REGISTER_FIELDS,
)
# Answered by GET and harmless to send back unchanged: a fetched Feature can be PATCHed as is.
READ_ONLY_PROPERTIES = ("id", "sample")
REQUIRED_ON_CREATE = ("name", "kind", "department")


@bp.errorhandler(GeometryRefused)
def _geometry_refused(error: GeometryRefused):
    body = {"error": str(error), "code": error.code, "field": "geometry"}
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
def list_projects():
    """Answer the public projects, filtered by kind, status and bbox."""
    filt = ProjectFilter.from_args(request.args, include_private=can_see_private())
    session = get_session()
    key = request_key(filt.include_private, today_jst())
    body = cached(key, lambda: feature_collection(session, filt), len)
    return Response(body, mimetype=GEOJSON)


@bp.get("/projects/<int:project_id>")
def get_project(project_id: int):
    """Answer one project as a GeoJSON Feature, with its version as the ETag."""
    session = get_session()
    project = project_or_404(session, project_id, include_private=can_see_private())
    feature = project_feature(session, project_id, include_private=True, internal=can_see_private())
    response = Response(feature, mimetype=GEOJSON)
    response.set_etag(etag_of(project))
    return response


@bp.get("/restrictions")
def list_restrictions():
    """Answer traffic restrictions as a GeoJSON FeatureCollection, earliest start first.

    Query: `active_on=YYYY-MM-DD` (those in force that day; default: in force or still to
    come today), `bbox=minlon,minlat,maxlon,maxlat` (those whose section, or without one
    whose work, touches the box). Each Feature's geometry is the closed or narrowed section
    (or the work's own, when `section_drawn` is false); properties: id, project_id,
    project_name, sample, kind, starts_on, ends_on, days, time_from, time_until,
    description, reason, contact, section_drawn, detour (a GeoJSON line or null),
    lifted_at, updated_at. Restrictions of staff-only works for signed-in users only.
    """
    filt = RestrictionFilter(
        active_on=parse_day(request.args.get("active_on"), "active_on"),
        bbox=parse_bbox(request.args.get("bbox")),
        include_private=can_see_private(),
    )
    return Response(restriction_collection(get_session(), filt), mimetype=GEOJSON)


@bp.post("/projects")
@roles_required("admin", "staff")
def create_project_view():
    """Create a project from a GeoJSON Feature; answer 201 with it."""
    session = get_session()
    geometry, properties = _read_feature(request.get_json(silent=True))
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
def update_project_view(project_id: int):
    """Change some fields of a project, only if If-Match names its current version."""
    session = get_session()
    # Locked until the request ends: two edits of one version cannot both pass the check.
    project = project_or_404(session, project_id, include_private=True, lock=True)
    expected = _expected_version(project)
    geometry, properties = _read_feature(request.get_json(silent=True))
    changes = dict(properties)
    if geometry is not None:
        changes["geometry"] = geometry
    try:
        update_project(session, project, changes, expected_version=expected, user=current_user())
    except StaleEdit as exc:
        return _stale_response(exc)
    return _feature_response(session, project, 200)


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


def _stale_response(exc: StaleEdit):
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


def _feature_response(session, project: Project, status: int) -> Response:
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


def _read_feature(data) -> tuple:
    """Return (shapely geometry or None, checked properties) from a GeoJSON Feature."""
    if not isinstance(data, dict):
        raise BadInput(
            _("GeoJSON の Feature を JSON で送ってください（Content-Type: application/json）"),
            code="invalid_format",
            field="body",
        )
    if data.get("type", "Feature") != "Feature":
        raise BadInput(
            _("Feature を送ってください（%(type)s ではなく）", type=data.get("type")),
            code="invalid_format",
            field="type",
        )
    properties = data.get("properties") or {}
    if not isinstance(properties, dict):
        raise BadInput(_("オブジェクトで送ってください"), code="invalid_format", field="properties")
    geometry = None
    if data.get("geometry") is not None:
        if not isinstance(data["geometry"], dict):
            raise GeometryRefused(
                _("GeoJSON のジオメトリ（オブジェクト）で送ってください"), reason="parse"
            )
        geometry = parse_geometry(data["geometry"])
    checked = {}
    for name, value in properties.items():
        if name in READ_ONLY_PROPERTIES:
            continue
        if name not in WRITABLE_PROPERTIES:
            raise BadInput(_("事業の属性ではありません"), code="unknown_field", field=name)
        checked[name] = _check_property(name, value)
    return geometry, checked


def _check_property(name: str, value):
    if name in DATE_FIELDS:
        if value is not None and not isinstance(value, str):
            raise BadInput(
                _("日付（YYYY-MM-DD）か null で指定してください"),
                code="invalid_date",
                field=name,
            )
        return parse_day(value, name)
    if name in ("plan_items", "indicators"):
        if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
            raise BadInput(
                _("コードの一覧（配列）で指定してください"), code="invalid_format", field=name
            )
        return value
    if name == "public":
        if not isinstance(value, bool):
            raise BadInput(
                _("true か false で指定してください"), code="invalid_format", field="public"
            )
        return value
    if name == "progress":
        if isinstance(value, bool) or not isinstance(value, int):
            raise BadInput(
                _("進捗は0〜100の整数で入れてください"), code="invalid_format", field="progress"
            )
        return value
    if name in REGISTER_FIELDS:
        return check_register({name: value})[name]
    if name == "facility_id":
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise BadInput(f"must be a facility's id or null, not {value!r}", field="facility_id")
        return value
    if not isinstance(value, str):
        raise BadInput(_("文字列で指定してください"), code="invalid_format", field=name)
    return value
