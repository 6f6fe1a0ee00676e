"""OGC API – Features (Part 1 and 2) and Tiles under /ogc, in JSON and HTML."""

import hashlib
import json
from datetime import UTC, datetime
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, jsonify, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from tracker.accounts.access import can_see_private, current_user
from tracker.core.db import get_session
from tracker.core.errors import BadInput
from tracker.ogc import documents, tiles
from tracker.ogc.collections import COLLECTIONS, Collection, Request
from tracker.ogc.crs import content_crs_header, parse_crs
from tracker.ogc.items import items_page, one_item, read_items_query, spatial_extent
from tracker.serving.answer_cache import cached, request_key
from tracker.words.formatting import today_jst

bp = Blueprint("ogc", __name__, url_prefix="/ogc")

TITLE = _l("阿蘇市 復旧・復興事業 地理空間API")
DESCRIPTION = _l(
    "阿蘇市の復旧・復興事業、交通規制、指定避難所を OGC API – Features と OGC API – Tiles で"
    "提供します。QGIS や GDAL からレイヤとして追加できます。"
)
# Short enough that a changed status shows within a minute; long enough for a crowd to be
# answered by a proxy or a CDN.
MAX_AGE = 60


@bp.errorhandler(BadInput)
def _bad_input(error: BadInput):
    if _wants_html():
        return render_template("error.html", error=error, message=str(error)), 400
    return _error_json(400, "InvalidParameterValue", str(error))


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    if _wants_html():
        return render_template("error.html", error=error), error.code
    return _error_json(error.code, error.name, error.description)


def _error_json(code: int, name: str, detail: str):
    response = jsonify(code=name, description=detail, error=detail)
    response.status_code = code
    return response


def _wants_html() -> bool:
    """Tell whether to answer in HTML: f=html, or a browser that prefers it."""
    f = request.args.get("f")
    if f in ("json", "geojson", "application/json", "application/geo+json"):
        return False
    if f == "html":
        return True
    if f not in (None, ""):
        raise BadInput(f"use json or html, not {f[:20]!r}", field="f")
    best = request.accept_mimetypes.best_match(
        ["application/json", "application/geo+json", "text/html"], default="application/json"
    )
    return best == "text/html"


def _request() -> Request:
    return Request(include_private=can_see_private(), today=today_jst())


def _collection(cid: str) -> Collection:
    collection = COLLECTIONS.get(cid)
    if collection is None:
        abort(404, description=f"no collection {cid!r}; see {url_for('ogc.collections')}")
    return collection


def _conditional(response: Response, body: bytes) -> Response:
    """Add ETag, Cache-Control and Vary, and answer 304 when the client's copy is current."""
    response.set_etag(hashlib.blake2b(body, digest_size=16).hexdigest(), weak=True)
    scope = "public" if current_user() is None else "private"
    response.headers["Cache-Control"] = f"{scope}, max-age={MAX_AGE}"
    # What one caller sees depends on who they are and the format they asked for.
    response.vary.update(["Accept", "Authorization", "Cookie"])
    return response.make_conditional(request)


def _json(document: dict, mimetype: str = "application/json", headers: dict | None = None):
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    return _conditional(Response(body, mimetype=mimetype, headers=headers), body)


def _html(template: str, **context):
    body = render_template(template, title=TITLE, **context).encode()
    return _conditional(Response(body, mimetype="text/html"), body)


@bp.get("")
@bp.get("/")
def landing():
    """Answer the landing page."""
    document = documents.landing(TITLE, DESCRIPTION)
    if _wants_html():
        return _html("ogc/landing.html", document=document, description=DESCRIPTION)
    return _json(document)


@bp.get("/conformance")
def conformance():
    """Answer the conformance classes the API implements."""
    document = {"conformsTo": documents.CONFORMANCE}
    if _wants_html():
        return _html("ogc/conformance.html", document=document)
    return _json(document)


@bp.get("/api")
def api():
    """Answer the OpenAPI 3.0 description of the API."""
    document = documents.openapi(TITLE)
    if _wants_html():
        return _html("ogc/api.html", document=document)
    return _json(document, documents.OPENAPI)


@bp.get("/collections")
def collections():
    """Answer the list of collections."""
    session, req = get_session(), _request()
    found = [
        documents.collection_document(c, spatial_extent(session, c, req))
        for c in COLLECTIONS.values()
    ]
    document = {
        "links": [
            documents.link(url_for("ogc.collections", f="json", _external=True), "self",
                           "application/json"),
            documents.link(url_for("ogc.collections", f="html", _external=True), "alternate",
                           "text/html"),
        ],
        "collections": found,
    }  # fmt: skip
    if _wants_html():
        return _html("ogc/collections.html", document=document)
    return _json(document)


@bp.get("/collections/<cid>")
def collection(cid: str):
    """Answer the description of one collection."""
    found = _collection(cid)
    extent = spatial_extent(get_session(), found, _request())
    document = documents.collection_document(found, extent)
    if _wants_html():
        return _html("ogc/collection.html", document=document, collection=found)
    return _json(document)


def _page_url(cid: str, fmt: str, offset: int | None = None) -> str:
    args = [(k, v) for k, v in request.args.items(multi=True) if k not in ("f", "offset")]
    args.append(("f", fmt))
    if offset:
        args.append(("offset", str(offset)))
    return url_for("ogc.items", cid=cid, _external=True) + "?" + urlencode(args)


@bp.get("/collections/<cid>/items")
def items(cid: str):
    """Answer a page of the collection's features: GeoJSON or an HTML table."""
    found = _collection(cid)
    html = _wants_html()
    session, req = get_session(), _request()
    query = read_items_query(found, request.args, req, session)
    page = cached(
        request_key(cid, req), lambda: items_page(session, found, query, req),
        lambda page: len(page.features),
    )  # fmt: skip
    links = [
        documents.link(_page_url(cid, "json", query.offset), "self", documents.GEOJSON),
        documents.link(_page_url(cid, "html", query.offset), "alternate", "text/html"),
        documents.link(
            url_for("ogc.collection", cid=cid, f="json", _external=True), "collection",
            "application/json",
        ),
    ]  # fmt: skip
    fmt = "html" if html else "json"
    kind = "text/html" if html else documents.GEOJSON
    if query.offset + page.returned < page.matched:
        links.append(documents.link(_page_url(cid, fmt, query.offset + query.limit), "next", kind))
    if query.offset > 0:
        links.append(documents.link(_page_url(cid, fmt, max(0, query.offset - query.limit)),
                                    "prev", kind))  # fmt: skip
    headers = {"Content-Crs": content_crs_header(query.crs)}
    if html:
        features = json.loads(page.features)
        return _html(
            "ogc/items.html", collection=found, features=features, page=page, links=links,
            query=query,
        )  # fmt: skip
    head = json.dumps(
        {
            "type": "FeatureCollection",
            "numberMatched": page.matched,
            "numberReturned": page.returned,
            "timeStamp": _now(),
            "links": links,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )
    # The features arrive from PostgreSQL as JSON text and are passed on as they are.
    body = (head[:-1] + ',"features":' + page.features + "}").encode()
    return _conditional(Response(body, mimetype=documents.GEOJSON, headers=headers), body)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@bp.get("/collections/<cid>/items/<int:fid>")
def item(cid: str, fid: int):
    """Answer one feature of the collection."""
    found = _collection(cid)
    unknown = sorted(set(request.args) - {"crs", "f", "lang"})
    if unknown:
        raise BadInput("not a parameter of a single feature", field=unknown[0])
    crs = parse_crs(request.args.get("crs"), "crs")
    # Not kept: reading the data version would cost as much as reading the one feature.
    geojson = one_item(get_session(), found, fid, crs, _request())
    if geojson is None:
        abort(404, description=f"no feature {fid} in {cid}")
    feature = json.loads(geojson)
    feature["links"] = [
        documents.link(url_for("ogc.item", cid=cid, fid=fid, f="json", _external=True), "self",
                       documents.GEOJSON),
        documents.link(url_for("ogc.item", cid=cid, fid=fid, f="html", _external=True),
                       "alternate", "text/html"),
        documents.link(url_for("ogc.collection", cid=cid, f="json", _external=True),
                       "collection", "application/json"),
    ]  # fmt: skip
    if _wants_html():
        return _html("ogc/item.html", collection=found, feature=feature, crs=crs)
    return _json(feature, documents.GEOJSON, {"Content-Crs": content_crs_header(crs)})


def _tile_query() -> str:
    """Return the filters of this request, to be carried into tile URLs."""
    return urlencode([(k, v) for k, v in request.args.items(multi=True) if k != "f"])


@bp.get("/collections/<cid>/tiles")
def tilesets(cid: str):
    """Answer the list of the collection's tilesets."""
    return _json(documents.tileset_list(_collection(cid)))


@bp.get(f"/collections/<cid>/tiles/{tiles.TMS_ID}")
def tileset(cid: str):
    """Answer the metadata of the collection's WebMercatorQuad tileset."""
    return _json(documents.tileset(_collection(cid), _tile_query()))


@bp.get(f"/collections/<cid>/tiles/{tiles.TMS_ID}/tilejson.json")
def tilejson(cid: str):
    """Answer TileJSON for the collection's vector tiles (MapLibre, QGIS and others read it)."""
    found = _collection(cid)
    extent = spatial_extent(get_session(), found, _request())
    return _json(documents.tilejson(found, extent, _tile_query()))


@bp.get(f"/collections/<cid>/tiles/{tiles.TMS_ID}/<int:z>/<int:y>/<int:x>")
def tile(cid: str, z: int, y: int, x: int):
    """Answer one Mapbox Vector Tile of the collection (tileMatrix/tileRow/tileCol)."""
    found = _collection(cid)
    tiles.check_tile(z, x, y)
    session, req = get_session(), _request()
    args = request.args.copy()
    args.pop("f", None)
    query = read_items_query(found, args, req, session)
    body = cached(
        request_key(cid, z, x, y, req),
        lambda: tiles.tile_bytes(session, found, query, req, z, x, y), len,
    )  # fmt: skip
    return _conditional(Response(body, mimetype=documents.MVT), body)
