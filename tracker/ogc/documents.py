"""The JSON documents of the API besides features: landing page, conformance, collections,
tilesets, TileJSON and the OpenAPI description."""

from typing import Any

from tracker.ogc import tiles
from tracker.ogc.collections import COLLECTIONS, Collection
from tracker.ogc.cql import CQL2_TEXT, FILTER_LANGS
from tracker.ogc.crs import CRS84, FILTER_CRS, SUPPORTED
from tracker.ogc.items import PROJECT_EXTRA_PARAMETERS
from tracker.ogc.parameters import DEFAULT_LIMIT, MAX_LIMIT
from tracker.ogc.queryables import JSON_SCHEMA, QUERYABLES_REL, Queryable
from tracker.serving.links import external_url

GEOJSON = "application/geo+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
MVT = "application/vnd.mapbox-vector-tile"
TILESETS_REL = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
QML = "application/vnd.qgis.qml"
# The layers that have a QGIS style: one per geometry type (tracker/ogc/styles/).
STYLED = ("projects_points", "projects_lines", "projects_polygons")

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    # Part 3: queryables, also as plain query parameters, and CQL2 filters on items.
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
]


def link(href: str, rel: str, type_: str, title: str | None = None) -> dict:
    """Return one link object."""
    found = {"href": href, "rel": rel, "type": type_}
    if title:
        found["title"] = str(title)
    return found


def _url(endpoint: str, **values: Any) -> str:
    return external_url(endpoint, **values)


def landing(title: str, description: str) -> dict:
    """Return the landing page."""
    return {
        "title": str(title),
        "description": str(description),
        "links": [
            link(_url("ogc.landing", f="json"), "self", "application/json"),
            link(_url("ogc.landing", f="html"), "alternate", "text/html"),
            link(_url("ogc.api", f="json"), "service-desc", OPENAPI),
            link(_url("ogc.api", f="html"), "service-doc", "text/html"),
            link(_url("ogc.conformance", f="json"), "conformance", "application/json"),
            link(_url("ogc.collections", f="json"), "data", "application/json"),
        ],
    }


def collection_document(collection: Collection, extent: list | None) -> dict:
    """Return the description of one collection, with its links and extent."""
    cid = collection.id
    found: dict[str, object] = {
        "id": cid,
        "title": str(collection.title),
        "description": str(collection.description),
        "attribution": collection.attribution,
        "itemType": "feature",
        "crs": [crs.uri for crs in SUPPORTED],
        "storageCrs": CRS84.uri,
        "links": [
            link(_url("ogc.collection", cid=cid, f="json"), "self", "application/json"),
            link(_url("ogc.collection", cid=cid, f="html"), "alternate", "text/html"),
            link(_url("ogc.items", cid=cid, f="json"), "items", GEOJSON),
            link(_url("ogc.items", cid=cid, f="html"), "items", "text/html"),
            link(_url("ogc.tilesets", cid=cid, f="json"), TILESETS_REL, "application/json"),
            link(_url("ogc.queryables", cid=cid, f="json"), QUERYABLES_REL, JSON_SCHEMA,
                 "Queryables"),
            # GDAL's OAPIF driver takes its fields' types from this link, spelt so.
            link(_url("ogc.feature_schema", cid=cid), "describedBy", JSON_SCHEMA,
                 "Schema of the features"),
            *[link(_url("ogc.style", cid=style), "stylesheet", QML, f"QGIS style ({style})")
              for style in qgis_styles(collection)],
        ],
    }  # fmt: skip
    if extent:
        found["extent"] = {"spatial": {"bbox": [extent], "crs": CRS84.uri}}
    return found


def qgis_styles(collection: Collection) -> list[str]:
    """Return the layers whose QGIS style suits the collection: the mixed works take all three."""
    if collection.id in STYLED:
        return [collection.id]
    return list(STYLED) if collection.id == "projects" else []


def feature_schema(collection: Collection) -> dict:
    """Return the JSON Schema of the collection's GeoJSON features (describedBy).

    GDAL makes its fields of it: a string of format date a Date, an integer a 32-bit
    Integer (so amounts in yen are numbers: Real), a number a Real, a boolean a Boolean.
    """
    properties: dict[str, dict] = {}
    for q in collection.queryables:
        # GDAL takes the id from the features themselves, and would name a second one id2.
        if q.type == "geometry" or q.name == "id":
            continue
        found = q.schema()
        if q.large:
            found["type"] = "number"
        found.pop("enum", None)
        properties[q.name] = found
    properties |= {name: {"type": kind} for name, kind in collection.more_properties.items()}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": _url("ogc.feature_schema", cid=collection.id),
        "title": str(collection.title),
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "integer"},
            "geometry": {"type": "object"},
            "properties": {"type": "object", "properties": properties},
        },
    }


def tileset_list(collection: Collection) -> dict:
    """Return the list of tilesets of a collection: one, in WebMercatorQuad."""
    return {
        "links": [
            link(_url("ogc.tilesets", cid=collection.id, f="json"), "self", "application/json")
        ],
        "tilesets": [_tileset_summary(collection)],
    }


def _tileset_summary(collection: Collection) -> dict:
    return {
        "title": str(collection.title),
        "dataType": "vector",
        "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
        "tileMatrixSetURI": tiles.TMS_URI,
        "links": [
            link(_url("ogc.tileset", cid=collection.id, f="json"), "self", "application/json"),
            link(
                tiles.TMS_URI,
                "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme",
                "application/json",
            ),
        ],
    }


def tile_template(collection: Collection, query: str = "") -> str:
    """Return the URL template of the collection's tiles ({z}/{y}/{x}, row before column)."""
    base = _url("ogc.tileset", cid=collection.id)
    return f"{base}/{{z}}/{{y}}/{{x}}" + (f"?{query}" if query else "")


def tileset(collection: Collection, query: str = "") -> dict:
    """Return the tileset metadata of a collection in WebMercatorQuad."""
    found = _tileset_summary(collection)
    found["links"] = found["links"] + [
        link(tile_template(collection, query).replace("{z}/{y}/{x}", "{tileMatrix}/{tileRow}/{tileCol}"),
             "item", MVT),
        link(_url("ogc.tilejson", cid=collection.id), "describedby", "application/json", "TileJSON"),
    ]  # fmt: skip
    found["tileMatrixSetLimits"] = [
        tiles.tile_matrix_limits(z) for z in range(tiles.MIN_ZOOM, tiles.MAX_ZOOM + 1)
    ]
    found["layers"] = [
        {"id": collection.id, "dataType": "vector", "propertiesSchema": {
            "type": "object", "properties": {name: {} for name in collection.tile_properties}}}
    ]  # fmt: skip
    return found


_TILE_FIELD_TYPES = {"integer": "Number", "number": "Number", "boolean": "Boolean"}


def tilejson(collection: Collection, extent: list | None, query: str = "") -> dict:
    """Return TileJSON 3.0.0 for the collection's vector tiles."""
    # Each field's type, in the words tippecanoe writes and GDAL's MVT driver reads.
    types = {q.name: _TILE_FIELD_TYPES.get(q.type, "String") for q in collection.queryables}
    fields = {name: types.get(name, "String") for name in collection.tile_properties}
    if collection.clustered_tiles:
        # Below zoom tiles.CLUSTER_BELOW_ZOOM, the number of features drawn as one point.
        fields["count"] = "Number"
    return {
        "tilejson": "3.0.0",
        "name": str(collection.title),
        "description": str(collection.description),
        "attribution": collection.attribution,
        "tiles": [tile_template(collection, query)],
        "minzoom": tiles.MIN_ZOOM,
        "maxzoom": tiles.MAX_ZOOM,
        "bounds": extent or [-180, -85.0511, 180, 85.0511],
        "vector_layers": [{"id": collection.id, "fields": fields}],
    }


def _parameter(name: str, schema: dict, description: str) -> dict:
    """Return a query parameter: one value, or a comma-separated list for an array."""
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description, "style": "form", "explode": False}  # fmt: skip


def _path_parameter(name: str, schema: dict, description: str) -> dict:
    """Return a path parameter (OpenAPI's default simple style)."""
    return {"name": name, "in": "path", "required": True, "schema": schema,
            "description": description}  # fmt: skip


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


_LINKS = {"type": "array", "items": _ref("link")}

# The bodies of the answers, as far as clients rely on them.
SCHEMAS: dict[str, dict] = {
    "link": {
        "type": "object",
        "required": ["href", "rel"],
        "properties": {
            "href": {"type": "string"},
            "rel": {"type": "string"},
            "type": {"type": "string"},
            "title": {"type": "string"},
        },
    },
    # OGC API – Features' exception.yaml, with the parameter at fault named in `field`.
    "exception": {
        "type": "object",
        "required": ["code", "description"],
        "properties": {
            "code": {"type": "string"},
            "description": {"type": "string"},
            "field": {"type": "string"},
        },
    },
    "landingPage": {
        "type": "object",
        "required": ["title", "links"],
        "properties": {
            "title": {"type": "string"},
            "description": {"type": "string"},
            "links": _LINKS,
        },
    },  # fmt: skip
    "confClasses": {
        "type": "object",
        "required": ["conformsTo"],
        "properties": {"conformsTo": {"type": "array", "items": {"type": "string"}}},
    },
    "collection": {
        "type": "object",
        "required": ["id", "links"],
        "properties": {
            "id": {"type": "string"},
            "title": {"type": "string"},
            "links": _LINKS,
            "crs": {"type": "array", "items": {"type": "string"}},
        },
    },  # fmt: skip
    "collections": {
        "type": "object",
        "required": ["links", "collections"],
        "properties": {
            "links": _LINKS,
            "collections": {"type": "array", "items": _ref("collection")},
        },
    },  # fmt: skip
    "feature": {
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "integer"},
            "geometry": {"type": "object", "nullable": True},
            "properties": {"type": "object", "nullable": True},
            "links": _LINKS,
        },
    },
    "featureCollection": {
        "type": "object",
        "required": ["type", "features"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": _ref("feature")},
            "links": _LINKS,
            "timeStamp": {"type": "string", "format": "date-time"},
            "numberMatched": {"type": "integer", "minimum": 0},
            "numberReturned": {"type": "integer", "minimum": 0},
        },
    },
    "tileSets": {
        "type": "object",
        "required": ["tilesets"],
        "properties": {"links": _LINKS, "tilesets": {"type": "array", "items": {"type": "object"}}},
    },  # fmt: skip
    "tileSet": {
        "type": "object",
        "required": ["dataType", "crs", "links"],
        "properties": {"dataType": {"type": "string"}, "crs": {"type": "string"}, "links": _LINKS},
    },  # fmt: skip
    "tileJson": {
        "type": "object",
        "required": ["tilejson", "tiles"],
        "properties": {
            "tilejson": {"type": "string"},
            "tiles": {"type": "array", "items": {"type": "string"}},
        },
    },  # fmt: skip
    # A refused API token is answered as in the rest of the app (accounts/access.py).
    "unauthorized": {
        "type": "object",
        "required": ["error", "code"],
        "properties": {"error": {"type": "string"}, "code": {"type": "string"}},
    },
    "queryables": {
        "type": "object",
        "required": ["type", "properties"],
        "properties": {
            "$id": {"type": "string"},
            "type": {"type": "string", "enum": ["object"]},
            "properties": {"type": "object"},
        },
    },
    "page": {"type": "string"},
}

_HTML = {"text/html": {"schema": _ref("page")}}
_ERROR = {"application/json": {"schema": _ref("exception")}, **_HTML}
_ERRORS = {
    "400": {"description": "A parameter the API cannot use; `field` names it", "content": _ERROR},
    "401": {
        "description": "An unknown or revoked API token (WWW-Authenticate says so)",
        "content": {"application/json": {"schema": _ref("unauthorized")}},
    },
    "404": {"description": "No such collection or feature", "content": _ERROR},
}


def openapi(title: str) -> dict:
    """Return the OpenAPI 3.0 description of the API."""
    crs_schema = {"type": "string", "format": "uri", "enum": [c.uri for c in SUPPORTED]}
    f = _parameter(
        "f",
        {"type": "string", "enum": ["json", "html"]},
        "Answer format (without it, the Accept header decides; JSON by default)",
    )
    lang = _parameter(
        "lang",
        {"type": "string", "enum": ["ja", "en"]},
        "Language of titles and messages (Japanese by default)",
    )
    crs = _parameter("crs", crs_schema, "The CRS of the answered coordinates (default CRS84)")
    common = [
        _parameter("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                             "default": DEFAULT_LIMIT},
                   f"Most features in one page (a larger limit is answered with {MAX_LIMIT})"),
        _parameter("offset", {"type": "integer", "minimum": 0, "default": 0},
                   "Features to skip (the next and prev links carry it)"),
        _parameter("bbox", {"type": "array", "minItems": 4, "maxItems": 6,
                            "items": {"type": "number"}}, "Lower and upper corner, in bbox-crs"),
        _parameter("bbox-crs", crs_schema, "The CRS of bbox (default CRS84)"),
        crs,
        _parameter("datetime", {"type": "string"},
                   "An RFC 3339 date or interval (.. for an open end), against the periods"),
        f,
        lang,
    ]  # fmt: skip
    json_or_html = [f, lang]
    paths = {
        "/": _get("Landing page", {"application/json": "landingPage"}, json_or_html),
        "/conformance": _get(
            "Conformance classes", {"application/json": "confClasses"}, json_or_html
        ),
        "/api": _get("This description", {OPENAPI: None}, json_or_html),
        "/collections": _get("The collections", {"application/json": "collections"}, json_or_html),
    }
    components: dict[str, dict] = dict(_filter_parameters())
    for collection in COLLECTIONS.values():
        cid = collection.id
        # Referenced components, as clients such as GDAL look for the parameters there.
        own = {
            name: _parameter(
                name, {"type": "string", **({"enum": list(values)} if values else {})},
                f"Only features whose {name} is one of these (comma-separated)")
            for name, values in collection.parameters.items()
        }  # fmt: skip
        if collection.meeting_filters:
            own |= {
                name: _parameter(name, {"type": "string"}, "A filter of the meeting map")
                for name in sorted(PROJECT_EXTRA_PARAMETERS)
            }
        own |= {
            q.name: _parameter(q.name, _plain_schema(q), f"Only features whose {q.name} is this")
            for q in collection.queryables
            if q.type != "geometry" and q.name not in own
        }
        components |= {f"{cid}.{name}": parameter for name, parameter in own.items()}
        filters = [_component(f"{cid}.{name}") for name in own]
        filters += [_component(name) for name in ("filter", "filter-lang", "filter-crs")]
        id_param = _path_parameter("featureId", {"type": "integer"}, "Feature id")
        tile_params = [
            _path_parameter(name, {"type": "integer", "minimum": 0}, name)
            for name in ("tileMatrix", "tileRow", "tileCol")
        ]
        paths[f"/collections/{cid}"] = _get(
            str(collection.title), {"application/json": "collection"}, json_or_html
        )
        paths[f"/collections/{cid}/items"] = _get(
            f"Features of {cid}", {GEOJSON: "featureCollection"}, common + filters
        )
        paths[f"/collections/{cid}/schema"] = _get(
            f"JSON Schema of the features of {cid}", {JSON_SCHEMA: "queryables"}, html=False
        )
        if cid in STYLED:
            paths[f"/collections/{cid}/style.qml"] = _get(
                f"QGIS style of {cid}", {QML: None}, html=False
            )
        paths[f"/collections/{cid}/queryables"] = _get(
            f"The properties a filter on {cid} may read", {JSON_SCHEMA: "queryables"},
            json_or_html,
        )  # fmt: skip
        paths[f"/collections/{cid}/items/{{featureId}}"] = _get(
            f"One feature of {cid}", {GEOJSON: "feature"}, [id_param, crs, f, lang]
        )
        paths[f"/collections/{cid}/tiles"] = _get(
            f"Tilesets of {cid}", {"application/json": "tileSets"}, html=False
        )
        paths[f"/collections/{cid}/tiles/{tiles.TMS_ID}"] = _get(
            f"The {tiles.TMS_ID} tileset of {cid}", {"application/json": "tileSet"}, html=False
        )
        paths[f"/collections/{cid}/tiles/{tiles.TMS_ID}/tilejson.json"] = _get(
            f"TileJSON of the {tiles.TMS_ID} tiles of {cid}", {"application/json": "tileJson"},
            html=False,
        )  # fmt: skip
        paths[f"/collections/{cid}/tiles/{tiles.TMS_ID}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"] = (
            _get(f"A vector tile of {cid}", {MVT: None}, tile_params + filters, html=False)
        )
    return {
        "openapi": "3.0.3",
        "info": {"title": str(title), "version": "1.0.0"},
        "servers": [{"url": _url("ogc.landing").rstrip("/")}],
        "paths": paths,
        "components": {"schemas": SCHEMAS, "parameters": components},
    }


def _component(name: str) -> dict:
    return {"$ref": f"#/components/parameters/{name}"}


def _plain_schema(q: Queryable) -> dict:
    """Return the schema of a queryable given as a plain query parameter."""
    schema = q.schema()
    schema.pop("title", None)
    return schema


def _filter_parameters() -> dict[str, dict]:
    """Return the parameters of a CQL2 filter (Part 3), shared by every collection."""
    crs = [c.uri for c in FILTER_CRS]
    return {
        "filter": _parameter(
            "filter", {"type": "string"},
            "A CQL2 filter on the queryables (/collections/{collectionId}/queryables)"),
        "filter-lang": _parameter(
            "filter-lang", {"type": "string", "enum": list(FILTER_LANGS), "default": CQL2_TEXT},
            "The filter's encoding (cql-text is the draft's name of cql2-text)"),
        "filter-crs": _parameter(
            "filter-crs", {"type": "string", "format": "uri", "enum": crs, "default": CRS84.uri},
            "The CRS of the filter's geometries"),
    }  # fmt: skip


def _get(
    summary: str,
    bodies: dict[str, str | None],
    parameters: list | None = None,
    html: bool = True,
) -> dict:
    """Return a GET operation answering `bodies` (media type: schema name) and, with f=html, HTML."""
    content = {kind: ({"schema": _ref(name)} if name else {}) for kind, name in bodies.items()}
    if html:
        content |= _HTML
    return {
        "get": {
            "summary": summary,
            "parameters": parameters or [],
            "responses": {
                "200": {"description": "OK", "content": content},
                "304": {"description": "Not modified since the ETag in If-None-Match"},
                **_ERRORS,
            },
        }
    }
