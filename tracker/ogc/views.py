"""OGC API – Features (Part 1 and 2) and Tiles under /ogc, in JSON and HTML."""

import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from tracker.accounts.access import can_see_private, signed_in
from tracker.core import clock
from tracker.core.db import get_session
from tracker.core.errors import (
    HTTP_ERRORS,
    BadInput,
    error_page,
    http_error_words,
    outage_instead,
)
from tracker.core.translate import gettext as _
from tracker.core.translate import lazy_gettext as _l
from tracker.ogc import documents, tiles
from tracker.ogc.collections import COLLECTIONS, Collection, Request
from tracker.ogc.crs import content_crs_header
from tracker.ogc.items import items_page, one_item, read_items_query, spatial_extent
from tracker.ogc.parameters import Format, FormatParameters, ItemParameters, read_parameters
from tracker.ogc.queryables import JSON_SCHEMA, queryables_document
from tracker.ogc.refusals import INVALID_PARAMETER, refused_parameter
from tracker.serving.answer_cache import cached, request_key
from tracker.serving.freshness import kept_for_a_while
from tracker.serving.links import external_url

bp = Blueprint("ogc", __name__, url_prefix="/ogc")

TITLE = _l("阿蘇市 復旧・復興事業 地理空間API")
DESCRIPTION = _l(
    "阿蘇市の復旧・復興事業、交通規制、指定避難所を OGC API – Features と OGC API – Tiles で"
    "提供します。QGIS や GDAL からレイヤとして追加できます。"
)


@bp.errorhandler(BadInput)
def _bad_input(error: BadInput) -> ResponseReturnValue:
    field = refused_parameter(error)
    if _error_format() == "html":
        title = HTTP_ERRORS[400][1]
        return error_page(400, str(title), error=error), 400
    code = INVALID_PARAMETER if field else "BadRequest"
    return exception_response(400, code, str(error), field)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> ResponseReturnValue:
    error = outage_instead(error)
    status = error.code or 500
    _code, title, message = http_error_words(error)
    headers = [(k, v) for k, v in error.get_headers() if k.lower() in _KEPT_HEADERS]
    if _error_format() == "html":
        return error_page(status, title, message=message), status, headers
    response = exception_response(status, _exception_code(error), message, None)
    response.headers.extend(headers)
    return response


# Headers an error answer keeps from the refusal: the methods a 405 allows, when to retry
# a 429 or 503.
_KEPT_HEADERS = {"allow", "www-authenticate", "retry-after"}


def _exception_code(error: HTTPException) -> str:
    """Return the OGC exception code of an HTTP error: its name in one word (NotFound)."""
    return "".join(word[:1].upper() + word[1:] for word in (error.name or "Error").split())


def exception_response(status: int, code: str, description: str, field: str | None) -> Response:
    """Answer an OGC API exception document: code, description and the field at fault."""
    document: dict[str, object] = {"code": code, "description": description}
    if field:
        document["field"] = field
    response = jsonify(document)
    response.status_code = status
    return response


def _format() -> Format:
    """Return the answer format: f= when given, else the one the client prefers (Accept)."""
    given = read_parameters(FormatParameters, request.args).f
    if given is not None:
        return given
    best = request.accept_mimetypes.best_match(
        ["application/json", "application/geo+json", "text/html"], default="application/json"
    )
    return "html" if best == "text/html" else "json"


def _error_format() -> Format:
    """Return the format of an error answer: as asked, or by Accept when f= is the error."""
    try:
        return _format()
    except BadInput:
        best = request.accept_mimetypes.best_match(["application/json", "text/html"])
        return "html" if best == "text/html" else "json"


def _wants_html() -> bool:
    """Tell whether to answer in HTML: f=html, or a browser that prefers it."""
    return _format() == "html"


def _minute(found: Collection, req: Request) -> datetime | None:
    """The minute a timed layer's answer holds for, as part of its key."""
    return req.at if found.timed else None


def _request() -> Request:
    # Restrictions are in force by the minute: answers kept for a minute stay right.
    at = clock.now().replace(second=0, microsecond=0)
    return Request(include_private=can_see_private(), today=clock.today(), at=at)


def _collection(cid: str) -> Collection:
    collection = COLLECTIONS.get(cid)
    if collection is None:
        abort(
            404,
            description=_(
                "コレクション「%(cid)s」はありません。一覧は %(url)s にあります",
                cid=cid[:40],
                url=external_url("ogc.collections"),
            ),
        )
    return collection


def _conditional(response: Response, body: bytes) -> Response:
    """Add ETag, Cache-Control and Vary, and answer 304 when the client's copy is current."""
    response.set_etag(hashlib.blake2b(body, digest_size=16).hexdigest(), weak=True)
    response.headers["Cache-Control"] = kept_for_a_while("private" if signed_in() else "public")
    # What one caller sees depends on who they are and the format they asked for.
    response.vary.update(["Accept", "Authorization", "Cookie"])
    # Turns the answer into a 304 in place when the client's copy is current.
    response.make_conditional(request)
    return response


def _json(
    document: dict[str, Any],
    mimetype: str = "application/json",
    headers: dict[str, str] | None = None,
) -> Response:
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    return _conditional(Response(body, mimetype=mimetype, headers=headers), body)


def _html(template: str, **context: Any) -> Response:
    body = render_template(template, title=TITLE, **context).encode()
    return _conditional(Response(body, mimetype="text/html"), body)


@bp.get("")
@bp.get("/")
def landing() -> Response:
    """Answer the landing page."""
    document = documents.landing(TITLE, DESCRIPTION)
    if _wants_html():
        return _html("ogc/landing.html", document=document, description=DESCRIPTION)
    return _json(document)


@bp.get("/conformance")
def conformance() -> Response:
    """Answer the conformance classes the API implements."""
    document = {"conformsTo": documents.CONFORMANCE}
    if _wants_html():
        return _html("ogc/conformance.html", document=document)
    return _json(document)


@bp.get("/api")
def api() -> Response:
    """Answer the OpenAPI 3.0 description of the API."""
    document = documents.openapi(TITLE)
    if _wants_html():
        return _html("ogc/api.html", document=document)
    return _json(document, documents.OPENAPI)


@bp.get("/collections")
def collections() -> Response:
    """Answer the list of collections."""
    session, req = get_session(), _request()
    found = [
        documents.collection_document(c, spatial_extent(session, c, req))
        for c in COLLECTIONS.values()
    ]
    document = {
        "links": [
            documents.link(external_url("ogc.collections", f="json"), "self",
                           "application/json"),
            documents.link(external_url("ogc.collections", f="html"), "alternate",
                           "text/html"),
        ],
        "collections": found,
    }  # fmt: skip
    if _wants_html():
        return _html("ogc/collections.html", document=document)
    return _json(document)


@bp.get("/collections/<cid>")
def collection(cid: str) -> Response:
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
    return external_url("ogc.items", cid=cid) + "?" + urlencode(args)


@bp.get("/collections/<cid>/queryables")
def queryables(cid: str) -> Response:
    """Answer the properties a filter may read, as a JSON Schema (Part 3)."""
    found = _collection(cid)
    document = queryables_document(
        external_url("ogc.queryables", cid=cid), found.title, found.queryables
    )
    if _wants_html():
        return _html("ogc/queryables.html", document=document, collection=found)
    return _json(document, JSON_SCHEMA)


@bp.get("/collections/<cid>/schema")
def feature_schema(cid: str) -> Response:
    """Answer the JSON Schema of the collection's features, from which GDAL types its fields."""
    return _json(documents.feature_schema(_collection(cid)), JSON_SCHEMA)


STYLES = Path(__file__).parent / "styles"


@bp.get("/collections/<cid>/style.qml")
def style(cid: str) -> Response:
    """Answer the QGIS style (QML) of a layer of works: coloured by status, as the maps are."""
    if cid not in documents.STYLED:
        abort(404, description=_("%(cid)s には QGIS のスタイルがありません", cid=cid[:40]))
    body = (STYLES / f"{cid}.qml").read_bytes()
    headers = {"Content-Disposition": f'inline; filename="{cid}.qml"'}
    return _conditional(Response(body, mimetype=documents.QML, headers=headers), body)


@bp.get("/collections/<cid>/items")
def items(cid: str) -> Response:
    """Answer a page of the collection's features: GeoJSON or an HTML table."""
    found = _collection(cid)
    html = _wants_html()
    session, req = get_session(), _request()
    query = read_items_query(found, request.args, req, session)
    page = cached(
        request_key(cid, req, _minute(found, req)), lambda: items_page(session, found, query, req),
        lambda page: len(page.features),
    )  # fmt: skip
    links = [
        documents.link(_page_url(cid, "json", query.offset), "self", documents.GEOJSON),
        documents.link(_page_url(cid, "html", query.offset), "alternate", "text/html"),
        documents.link(
            external_url("ogc.collection", cid=cid, f="json"), "collection",
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
    return clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")


@bp.get("/collections/<cid>/items/<int:fid>")
def item(cid: str, fid: int) -> Response:
    """Answer one feature of the collection."""
    found = _collection(cid)
    crs = read_parameters(
        ItemParameters, request.args, _("一つの地物には使えないパラメータです")
    ).crs
    # Not kept: reading the data version would cost as much as reading the one feature.
    geojson = one_item(found, fid, crs, _request())
    if geojson is None:
        abort(404, description=_("%(cid)s に地物 %(fid)s はありません", cid=cid, fid=fid))
    feature = json.loads(geojson)
    feature["links"] = [
        documents.link(external_url("ogc.item", cid=cid, fid=fid, f="json"), "self",
                       documents.GEOJSON),
        documents.link(external_url("ogc.item", cid=cid, fid=fid, f="html"),
                       "alternate", "text/html"),
        documents.link(external_url("ogc.collection", cid=cid, f="json"),
                       "collection", "application/json"),
    ]  # fmt: skip
    if _wants_html():
        return _html("ogc/item.html", collection=found, feature=feature, crs=crs)
    return _json(feature, documents.GEOJSON, {"Content-Crs": content_crs_header(crs)})


@bp.get("/<path:rest>")
def nowhere(rest: str) -> ResponseReturnValue:
    """Answer 404 for any other path under /ogc, as this API answers errors."""
    abort(404)


def _tile_query() -> str:
    """Return the filters of this request, to be carried into tile URLs."""
    return urlencode([(k, v) for k, v in request.args.items(multi=True) if k != "f"])


@bp.get("/collections/<cid>/tiles")
def tilesets(cid: str) -> Response:
    """Answer the list of the collection's tilesets."""
    return _json(documents.tileset_list(_collection(cid)))


@bp.get(f"/collections/<cid>/tiles/{tiles.TMS_ID}")
def tileset(cid: str) -> Response:
    """Answer the metadata of the collection's WebMercatorQuad tileset."""
    return _json(documents.tileset(_collection(cid), _tile_query()))


@bp.get(f"/collections/<cid>/tiles/{tiles.TMS_ID}/tilejson.json")
def tilejson(cid: str) -> Response:
    """Answer TileJSON for the collection's vector tiles (MapLibre, QGIS and others read it)."""
    found = _collection(cid)
    extent = spatial_extent(get_session(), found, _request())
    return _json(documents.tilejson(found, extent, _tile_query()))


@bp.get(f"/collections/<cid>/tiles/{tiles.TMS_ID}/tilejson/<int:z>/<int:x>/<int:y>.pbf")
def xyz_tile(cid: str, z: int, x: int, y: int) -> Response:
    """Answer the same tile at {z}/{x}/{y}.pbf, beside the TileJSON, for GDAL's MVT driver.

    GDAL reads a tileset as a directory of {z}/{x}/{y}.pbf and takes its metadata from
    "<directory>.json" (tileserver-gl's layout): `MVT:…/WebMercatorQuad/tilejson/14` opens
    zoom 14 with tilejson.json as its metadata. It cannot open a TileJSON URL by itself.
    """
    return tile(cid, z, y, x)


@bp.get(f"/collections/<cid>/tiles/{tiles.TMS_ID}/<int:z>/<int:y>/<int:x>")
def tile(cid: str, z: int, y: int, x: int) -> Response:
    """Answer one Mapbox Vector Tile of the collection (tileMatrix/tileRow/tileCol)."""
    found = _collection(cid)
    tiles.check_tile(z, x, y)
    session, req = get_session(), _request()
    args = request.args.copy()
    args.pop("f", None)
    query = read_items_query(found, args, req, session)
    body = cached(
        request_key(cid, z, x, y, req, _minute(found, req)),
        lambda: tiles.tile_bytes(session, found, query, req, z, x, y), len,
    )  # fmt: skip
    return _conditional(Response(body, mimetype=documents.MVT), body)
