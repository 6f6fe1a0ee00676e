"""GET /api/openapi.json: the contract of every /api route, whichever feature serves it
(OpenAPI 3.1), checked against the routes and exercised by schemathesis in the tests."""

from flask import Blueprint, Response, jsonify

from tracker.core.limits import DEPARTMENT_MAX, DESCRIPTION_MAX, NAME_MAX
from tracker.near.queries import MAX_LIMIT, RADIUS_MAX_M, RADIUS_MIN_M
from tracker.projects.register import MAX_AMOUNT, PUBLIC_REGISTER_FIELDS, TEXT_MAX
from tracker.updates.photos import MAX_PHOTOS
from tracker.words.vocab import (
    FUNDING_SOURCES,
    KINDS,
    RESTRICTION_DAYS,
    RESTRICTION_KINDS,
    STATUSES,
)

bp = Blueprint("openapi", __name__, url_prefix="/api")

GEOJSON = "application/geo+json"
DATE = {"type": ["string", "null"], "format": "date"}
INSTANT = {"type": "string", "format": "date-time"}
AMOUNT = {"type": ["integer", "null"], "minimum": 0, "maximum": MAX_AMOUNT}
REGISTER_TEXT = {"type": ["string", "null"], "maxLength": TEXT_MAX}
# The works register (amounts in whole yen); `public` marks what anyone reads of a public
# project, the rest is for signed-in users.
REGISTER_PROPERTIES = {
    "planned_cost": AMOUNT,
    "contract_amount": AMOUNT,
    "contractor": REGISTER_TEXT,
    "spent_amount": AMOUNT,
    "funding": {"type": ["string", "null"], "enum": [*FUNDING_SOURCES, None]},
    "responsible_section": REGISTER_TEXT,
}
FACILITY_ID = {"type": ["integer", "null"], "minimum": 1, "maximum": 2**31 - 1}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


# Every route can answer these: a query or body the app refuses (400, e.g. a control
# character in any field), a bearer token that is unknown or revoked (401), a body over
# 1 MB (413).
COMMON_ERRORS = {
    "400": _error("The request is refused; `error` names the field and says what is wrong."),
    "401": _error("The bearer token is unknown or revoked (WWW-Authenticate: Bearer)."),
    "413": _error("The body is too large (1 MB; photo uploads 102 MB)."),
}
WRITE_ERRORS = COMMON_ERRORS | {
    "401": _error("No credentials, or an unknown token (WWW-Authenticate: Bearer)."),
    "403": _error("The caller's role may not do this (viewers change nothing)."),
}
PROJECT_ID = {
    "name": "project_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
}
READ_SECURITY: list[dict[str, list[str]]] = [{}, {"bearerAuth": []}]

PROPERTIES = {
    "id": {"type": "integer"},
    "name": {"type": "string"},
    "kind": {"type": "string", "enum": list(KINDS)},
    "status": {"type": "string", "enum": list(STATUSES)},
    "progress": {"type": "integer", "minimum": 0, "maximum": 100},
    "planned_start": DATE,
    "planned_end": DATE,
    "actual_start": DATE,
    "actual_end": DATE,
    "sample": {"type": "boolean"},
    "department": {"type": "string"},
    "plan_items": {"type": "array", "items": {"type": "string"}},
    "indicators": {"type": "array", "items": {"type": "string"}},
    "public": {"type": "boolean"},
    "facility_id": {
        **FACILITY_ID,
        "description": "The designated shelter (facility) the work is done on, if any.",
    },
    **{
        name: schema
        | {"description": "Public." if name in PUBLIC_REGISTER_FIELDS else "Signed-in users."}
        for name, schema in REGISTER_PROPERTIES.items()
    },
}


NEARBY_PROPERTIES = {
    **{
        k: v
        for k, v in PROPERTIES.items()
        if k not in ("department", "public", "facility_id") and k not in REGISTER_PROPERTIES
    },
    "designated_shelter": {"type": "boolean"},
    "address": {"type": ["string", "null"]},
    "distance_m": {"type": "number", "minimum": 0},
    "restrictions": {"type": "array", "items": _ref("Restriction")},
}

# A time of day as staff enter it (08:30), or none.
CLOCK_TIME = {"type": ["string", "null"], "pattern": "^[0-2][0-9]:[0-5][0-9]$"}

RESTRICTION_PROPERTIES = {
    "id": {"type": "integer"},
    "project_id": {"type": "integer"},
    "project_name": {"type": "string"},
    "sample": {"type": "boolean"},
    "kind": {"type": "string", "enum": list(RESTRICTION_KINDS)},
    "starts_on": {"type": "string", "format": "date"},
    "ends_on": DATE,
    "days": {"type": "string", "enum": list(RESTRICTION_DAYS)},
    "time_from": CLOCK_TIME,
    "time_until": CLOCK_TIME,
    "description": {"type": "string"},
    "reason": {"type": "string"},
    "contact": {"type": "string"},
    "section_drawn": {"type": "boolean"},
    "detour": {"oneOf": [_ref("Geometry"), {"type": "null"}]},
    "lifted_at": {"type": ["string", "null"], "format": "date-time"},
    "updated_at": INSTANT,
}


def _feature(
    properties: dict, required: list[str], *, id_required: bool = True, geometry: dict | None = None
) -> dict:
    """Return the schema of a GeoJSON Feature with an integer id and these properties."""
    return {
        "type": "object",
        "required": ["type", "id", "geometry", "properties"]
        if id_required
        else ["type", "geometry", "properties"],
        "properties": {
            "type": {"const": "Feature"},
            "id": {"type": "integer"},
            "geometry": geometry or _ref("Geometry"),
            "properties": {"type": "object", "required": required, "properties": properties},
        },
    }


def _collection(feature: str) -> dict:
    return {
        "type": "object",
        "required": ["type", "features"],
        "properties": {
            "type": {"const": "FeatureCollection"},
            "features": {"type": "array", "items": _ref(feature)},
        },
    }


SCHEMAS = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {"type": "string"},
            "changed": {"type": "array", "items": {"type": "string"}},
            "repaired": _ref("Geometry"),
        },
    },
    "Geometry": {
        "type": "object",
        "required": ["type"],
        "properties": {
            "type": {
                "type": "string",
                "enum": [
                    "Point",
                    "MultiPoint",
                    "LineString",
                    "MultiLineString",
                    "Polygon",
                    "MultiPolygon",
                    "GeometryCollection",
                ],
            },
            "coordinates": {"type": "array"},
            "geometries": {"type": "array"},
        },
    },
    "Project": _feature(PROPERTIES, ["id", "name", "kind", "status", "progress"]),
    "Projects": _collection("Project"),
    "ProjectInput": {
        "type": "object",
        "description": "A GeoJSON Feature; on PATCH only the properties to change.",
        "properties": {
            "type": {"const": "Feature"},
            "geometry": {"oneOf": [_ref("Geometry"), {"type": "null"}]},
            "properties": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "maxLength": NAME_MAX},
                    "kind": PROPERTIES["kind"],
                    "status": PROPERTIES["status"],
                    "progress": PROPERTIES["progress"],
                    "planned_start": DATE,
                    "planned_end": DATE,
                    "actual_start": DATE,
                    "actual_end": DATE,
                    "department": {"type": "string", "maxLength": DEPARTMENT_MAX},
                    "plan_items": PROPERTIES["plan_items"],
                    "indicators": PROPERTIES["indicators"],
                    "public": {"type": "boolean"},
                    "description": {"type": "string", "maxLength": DESCRIPTION_MAX},
                    "facility_id": FACILITY_ID,
                    **REGISTER_PROPERTIES,
                    "id": {"type": "integer", "description": "read-only; ignored"},
                    "sample": {"type": "boolean", "description": "read-only; ignored"},
                },
            },
        },
    },
    "NearbyProject": _feature(
        NEARBY_PROPERTIES,
        ["id", "name", "distance_m", "designated_shelter", "restrictions"],
        id_required=False,
    ),
    "Nearby": {
        "type": "object",
        "required": ["type", "features", "numberReturned", "truncated"],
        "properties": {
            "type": {"const": "FeatureCollection"},
            "numberReturned": {"type": "integer", "minimum": 0},
            "truncated": {"type": "boolean"},
            "features": {"type": "array", "items": _ref("NearbyProject")},
        },
    },
    "Restriction": {
        "type": "object",
        "required": ["kind", "starts_on", "ends_on", "description", "in_force"],
        "properties": {
            "kind": {"type": "string"},
            "starts_on": {"type": "string", "format": "date"},
            "ends_on": DATE,
            "description": {"type": "string"},
            "in_force": {"type": "boolean"},
        },
    },
    "RestrictionFeature": _feature(
        RESTRICTION_PROPERTIES,
        ["id", "project_id", "kind", "starts_on", "section_drawn"],
        geometry={
            **_ref("Geometry"),
            "description": "The closed or narrowed section (a line), or the work's own "
            "geometry when none was drawn (section_drawn false).",
        },
    ),
    "Restrictions": _collection("RestrictionFeature"),
    "Update": {
        "type": "object",
        "description": "Anonymous callers get the first five fields only.",
        "required": ["observed_at", "recorded_at", "previous_status", "status", "progress"],
        "properties": {
            "id": {"type": "integer"},
            "project_id": {"type": "integer"},
            "observed_at": {**INSTANT, "description": "When it was seen on site."},
            "recorded_at": {**INSTANT, "description": "When the server stored it."},
            "previous_progress": {"type": ["integer", "null"]},
            "previous_status": {"type": ["string", "null"], "enum": [*STATUSES, None]},
            "status": PROPERTIES["status"],
            "progress": PROPERTIES["progress"],
            "note": {"type": "string"},
            "client_id": {"type": ["string", "null"], "format": "uuid"},
            "author": {
                "type": ["object", "null"],
                "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
            },
            "position": {
                "type": ["object", "null"],
                "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}},
            },
            "photos": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "width": {"type": "integer"},
                        "height": {"type": "integer"},
                        "thumb_url": {"type": ["string", "null"]},
                        "display_url": {"type": ["string", "null"]},
                    },
                },
            },
        },
    },
    "Updates": {
        "type": "object",
        "required": ["project_id", "updates"],
        "properties": {
            "project_id": {"type": "integer"},
            "updates": {"type": "array", "items": _ref("Update")},
        },
    },
    "ProjectState": {
        "type": "object",
        "required": ["version", "status", "progress", "allowed"],
        "properties": {
            "version": {"type": "integer"},
            "status": PROPERTIES["status"],
            "status_label": {"type": "string"},
            "progress": PROPERTIES["progress"],
            "allowed": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"code": PROPERTIES["status"], "label": {"type": "string"}},
                },
            },
        },
    },
    "UpdateRecorded": {
        "allOf": [
            _ref("Update"),
            {"type": "object", "properties": {"project": _ref("ProjectState")}},
        ]
    },
    "StaleUpdate": {
        "type": "object",
        "required": ["error", "current", "changes"],
        "properties": {
            "error": {"type": "string"},
            "field": {"type": ["string", "null"]},
            "message": {"type": "string"},
            "current": _ref("ProjectState"),
            "changes": {"type": "array", "items": {"type": "string"}},
        },
    },
    "UpdateInput": {
        "type": "object",
        "required": ["status", "progress"],
        "properties": {
            "status": PROPERTIES["status"],
            "progress": PROPERTIES["progress"],
            "note": {"type": "string", "maxLength": 2000},
            "client_id": {"type": "string", "format": "uuid"},
            "actual_end": DATE,
            "observed_at": {
                **INSTANT,
                "description": "When it was seen on site, with its UTC offset (default: now); "
                "at most 10 minutes ahead and 30 days back.",
            },
            "base_version": {
                "type": "integer",
                "minimum": 1,
                "maximum": 2**31 - 1,
                "description": "The project version the form showed; a stale one answers 409.",
            },
            "position": {
                "type": "object",
                "required": ["lat", "lon"],
                "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}},
            },
        },
    },
    "UpdateForm": {
        "type": "object",
        "required": ["status", "progress"],
        "properties": {
            "status": PROPERTIES["status"],
            "progress": {"type": "string", "pattern": "^[0-9]{1,3}$"},
            "note": {"type": "string"},
            "client_id": {"type": "string"},
            "actual_end": {"type": "string"},
            "observed_at": {"type": "string"},
            "base_version": {"type": "string"},
            "lat": {"type": "string"},
            "lon": {"type": "string"},
            "photos": {
                "type": "array",
                "maxItems": MAX_PHOTOS,
                "items": {"type": "string", "contentMediaType": "image/jpeg"},
            },
        },
    },
    "Indicators": {
        "type": "object",
        "required": ["as_of", "indicators"],
        "properties": {
            "as_of": DATE,
            "indicators": {"type": "array", "items": _ref("Indicator")},
        },
    },
    "Indicator": {
        "type": "object",
        "required": ["code", "name", "unit", "baseline", "target", "current"],
        "properties": {
            "code": {"type": "string"},
            "name": {"type": "string"},
            "unit": {"type": "string"},
            "baseline": {"type": ["number", "null"]},
            "baseline_year": {"type": ["integer", "null"]},
            "target": {"type": ["number", "null"]},
            "target_year": {"type": ["integer", "null"]},
            "current": {"type": ["number", "null"]},
            "method": {"type": "string"},
            "derived": {"type": ["number", "null"]},
            "official": {
                "type": ["object", "null"],
                "properties": {
                    "fiscal_year": {"type": "integer"},
                    "value": {"type": "number"},
                    "source": {"type": "string"},
                    "sample": {"type": "boolean"},
                },
            },
            "difference": {"type": ["number", "null"]},
            "progress_percent": {"type": ["number", "null"]},
            "remaining": {"type": ["number", "null"]},
            "projects_counted": {"type": "integer"},
            "project_ids": {"type": "array", "items": {"type": "integer"}},
            "projects_url": {"type": "string"},
        },
    },
}


def _query(name: str, description: str, schema: dict, required: bool = False) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema,
    }


def _json(schema: str, media: str = "application/json") -> dict:
    return {"content": {media: {"schema": _ref(schema)}}}


PROJECT_FILTERS = [
    _query("kind", "One or several kinds, comma-separated.", {"type": "string"}),
    _query("status", "One or several statuses, comma-separated.", {"type": "string"}),
    _query("bbox", "minlon,minlat,maxlon,maxlat", {"type": "string"}),
]

PATHS = {
    "/api/projects": {
        "get": {
            "summary": "Public projects (all projects for signed-in users), filtered",
            "operationId": "listProjects",
            "security": READ_SECURITY,
            "parameters": PROJECT_FILTERS,
            "responses": {"200": {"description": "The projects.", **_json("Projects", GEOJSON)}}
            | COMMON_ERRORS,
        },
        "post": {
            "summary": "Create a project from a GeoJSON Feature",
            "operationId": "createProject",
            "security": [{"bearerAuth": []}],
            "requestBody": {"required": True, **_json("ProjectInput")},
            "responses": {
                "201": {
                    "description": "Created; Location and ETag name it.",
                    "headers": {
                        "Location": {"schema": {"type": "string"}},
                        "ETag": {"schema": {"type": "string"}},
                    },
                    **_json("Project", GEOJSON),
                }
            }
            | WRITE_ERRORS,
        },
    },
    "/api/projects/{project_id}": {
        "parameters": [PROJECT_ID],
        "get": {
            "summary": "One project, with its version as the ETag",
            "operationId": "getProject",
            "security": READ_SECURITY,
            "responses": {
                "200": {
                    "description": "The project.",
                    "headers": {"ETag": {"schema": {"type": "string"}}},
                    **_json("Project", GEOJSON),
                },
                "404": _error("No such project (or not public)."),
            }
            | COMMON_ERRORS,
        },
        "patch": {
            "summary": "Change some fields of a project made at the version If-Match names",
            "operationId": "updateProject",
            "security": [{"bearerAuth": []}],
            "parameters": [
                {
                    "name": "If-Match",
                    "in": "header",
                    "required": False,
                    "description": "The ETag of GET /api/projects/{id}; required in effect (428).",
                    "schema": {"type": "string"},
                }
            ],
            "requestBody": {"required": True, **_json("ProjectInput")},
            "responses": {
                "200": {"description": "The changed project.", **_json("Project", GEOJSON)},
                "404": _error("No such project."),
                "412": _error("The project changed since that ETag; `changed` lists the fields."),
                "428": _error("If-Match is missing or `*`."),
            }
            | WRITE_ERRORS,
        },
    },
    "/api/projects/{project_id}/updates": {
        "parameters": [PROJECT_ID],
        "get": {
            "summary": "A project's status history, oldest first",
            "operationId": "listUpdates",
            "security": READ_SECURITY,
            "responses": {
                "200": {"description": "The updates.", **_json("Updates")},
                "404": _error("No such project (or not public)."),
            }
            | COMMON_ERRORS,
        },
        "post": {
            "summary": "Record a status update (JSON, or a multipart form with photos)",
            "operationId": "postUpdate",
            "security": [{"bearerAuth": []}],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": _ref("UpdateInput")},
                    "multipart/form-data": {"schema": _ref("UpdateForm")},
                },
            },
            "responses": {
                "201": {
                    "description": "Recorded (or recorded before, same client_id), with the "
                    "project's state now.",
                    **_json("UpdateRecorded"),
                },
                "404": _error("No such project."),
                "409": {
                    "description": "The project changed since base_version: who changed what, "
                    "and its state now.",
                    **_json("StaleUpdate"),
                },
            }
            | WRITE_ERRORS,
        },
    },
    "/api/projects/nearby": {
        "get": {
            "summary": "Public projects near a point, nearest first",
            "operationId": "nearbyProjects",
            "security": READ_SECURITY,
            "parameters": [
                _query("lat", "Latitude (WGS84).", {"type": "number"}, required=True),
                _query("lon", "Longitude (WGS84).", {"type": "number"}, required=True),
                _query(
                    "radius",
                    "Metres.",
                    {"type": "number", "minimum": RADIUS_MIN_M, "maximum": RADIUS_MAX_M},
                ),
                _query(
                    "limit",
                    "Most features.",
                    {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
                ),
            ],
            "responses": {"200": {"description": "The projects.", **_json("Nearby", GEOJSON)}}
            | COMMON_ERRORS,
        },
    },
    "/api/restrictions": {
        "get": {
            "summary": "Traffic restrictions as GeoJSON, earliest start first",
            "operationId": "listRestrictions",
            "security": READ_SECURITY,
            "parameters": [
                _query(
                    "active_on",
                    "YYYY-MM-DD: those in force that day (default: in force or to come today).",
                    {"type": "string", "format": "date"},
                ),
                _query("bbox", "minlon,minlat,maxlon,maxlat", {"type": "string"}),
            ],
            "responses": {
                "200": {"description": "The restrictions.", **_json("Restrictions", GEOJSON)}
            }
            | COMMON_ERRORS,
        },
    },
    "/api/indicators": {
        "get": {
            "summary": "Measure 13's indicators, now or at the end of a day",
            "operationId": "listIndicators",
            "security": READ_SECURITY,
            "parameters": [_query("as_of", "YYYY-MM-DD", {"type": "string", "format": "date"})],
            "responses": {"200": {"description": "The indicators.", **_json("Indicators")}}
            | COMMON_ERRORS,
        },
    },
    "/api/openapi.json": {
        "get": {
            "summary": "This document",
            "operationId": "openapi",
            "security": READ_SECURITY,
            "responses": {
                "200": {
                    "description": "OpenAPI 3.1",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            }
            | COMMON_ERRORS,
        },
    },
}


def document() -> dict:
    """Return the OpenAPI 3.1 document of the /api routes."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "阿蘇市 復旧・復興事業マップ API",
            "version": "1",
            "description": "Projects as GeoJSON (RFC 7946, lon/lat), status updates, nearby "
            'works and measure 13\'s indicators. Errors answer {"error": ...}.',
        },
        "servers": [{"url": "/"}],
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from `flask create-token LOGIN`.",
                }
            },
        },
    }


@bp.get("/openapi.json")
def openapi_json() -> Response:
    """Answer the API's OpenAPI 3.1 document."""
    return jsonify(document())
