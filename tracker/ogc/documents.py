"""The JSON documents of the API besides features: landing page, conformance, collections,
tilesets, TileJSON and the OpenAPI description."""

from typing import Any

from flask import url_for

from tracker.ogc import tiles
from tracker.ogc.collections import COLLECTIONS, Collection
from tracker.ogc.crs import CRS84, SUPPORTED
from tracker.ogc.items import DEFAULT_LIMIT, MAX_LIMIT, PROJECT_EXTRA_PARAMETERS

GEOJSON = "application/geo+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
MVT = "application/vnd.mapbox-vector-tile"
TILESETS_REL = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
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
    return url_for(endpoint, _external=True, **values)


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
        ],
    }
    if extent:
        found["extent"] = {"spatial": {"bbox": [extent], "crs": CRS84.uri}}
    return found


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


def tilejson(collection: Collection, extent: list | None, query: str = "") -> dict:
    """Return TileJSON 3.0.0 for the collection's vector tiles."""
    fields = {name: name for name in collection.tile_properties}
    if collection.clustered_tiles:
        fields["count"] = f"features drawn as one point below zoom {tiles.CLUSTER_BELOW_ZOOM}"
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


def _parameter(name: str, schema: dict, description: str, where: str = "query") -> dict:
    return {"name": name, "in": where, "required": where == "path", "schema": schema,
            "description": description, "style": "form", "explode": False}  # fmt: skip


def openapi(title: str) -> dict:
    """Return the OpenAPI 3.0 description of the API."""
    crs_schema = {"type": "string", "format": "uri", "enum": [c.uri for c in SUPPORTED]}
    common = [
        _parameter("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                             "default": DEFAULT_LIMIT}, "Most features in one page"),
        _parameter("offset", {"type": "integer", "minimum": 0, "default": 0},
                   "Features to skip (the next and prev links carry it)"),
        _parameter("bbox", {"type": "array", "minItems": 4, "maxItems": 6,
                            "items": {"type": "number"}}, "Lower and upper corner, in bbox-crs"),
        _parameter("bbox-crs", crs_schema, "The CRS of bbox (default CRS84)"),
        _parameter("crs", crs_schema, "The CRS of the answered coordinates (default CRS84)"),
        _parameter("datetime", {"type": "string"},
                   "An RFC 3339 date or interval (.. for an open end), against the periods"),
        _parameter("f", {"type": "string", "enum": ["json", "html"]}, "Answer format"),
    ]  # fmt: skip
    paths = {
        "/": _get("Landing page", "application/json"),
        "/conformance": _get("Conformance classes", "application/json"),
        "/api": _get("This description", OPENAPI),
        "/collections": _get("The collections", "application/json"),
    }
    for collection in COLLECTIONS.values():
        cid = collection.id
        filters = [
            _parameter(name, {"type": "string", **({"enum": list(values)} if values else {})},
                       f"Only features whose {name} is one of these (comma-separated)")
            for name, values in collection.queryables.items()
        ]  # fmt: skip
        if cid == "projects":
            filters += [
                _parameter(name, {"type": "string"}, "A filter of the meeting map")
                for name in sorted(PROJECT_EXTRA_PARAMETERS)
            ]
        id_param = _parameter("featureId", {"type": "integer"}, "Feature id", "path")
        tile_params = [
            _parameter(name, {"type": "integer", "minimum": 0}, name, "path")
            for name in ("tileMatrix", "tileRow", "tileCol")
        ]
        paths[f"/collections/{cid}"] = _get(str(collection.title), "application/json")
        paths[f"/collections/{cid}/items"] = _get(f"Features of {cid}", GEOJSON, common + filters)
        paths[f"/collections/{cid}/items/{{featureId}}"] = _get(
            f"One feature of {cid}", GEOJSON, [id_param, common[4], common[6]]
        )
        paths[f"/collections/{cid}/tiles"] = _get(f"Tilesets of {cid}", "application/json")
        paths[f"/collections/{cid}/tiles/{tiles.TMS_ID}"] = _get(
            f"The {tiles.TMS_ID} tileset of {cid}", "application/json"
        )
        paths[f"/collections/{cid}/tiles/{tiles.TMS_ID}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"] = (
            _get(f"A vector tile of {cid}", MVT, tile_params + filters)
        )
    return {
        "openapi": "3.0.3",
        "info": {"title": str(title), "version": "1.0.0"},
        "servers": [{"url": _url("ogc.landing").rstrip("/")}],
        "paths": paths,
    }


def _get(summary: str, media_type: str, parameters: list | None = None) -> dict:
    return {
        "get": {
            "summary": summary,
            "parameters": parameters or [],
            "responses": {
                "200": {"description": "OK", "content": {media_type: {}}},
                "304": {"description": "Not modified since the ETag in If-None-Match"},
                "400": {"description": "A malformed parameter"},
                "404": {"description": "Not found"},
            },
        }
    }
