"""The work-zone feeds (/feeds/wzdx.json, /feeds/waze.json, /feeds/waze.xml) and the
open-data catalogue (/catalog.jsonld, /catalog)."""

import json
from typing import Any

from flask import Blueprint, Response, render_template
from flask.typing import ResponseReturnValue

from tracker.core import clock
from tracker.core.db import get_session
from tracker.feeds import catalog, publishing, waze, wzdx
from tracker.feeds.caching import conditional
from tracker.feeds.closures import feed_restrictions, last_change
from tracker.feeds.publishing import publisher
from tracker.serving.links import external_url
from tracker.words.formatting import day_label
from tracker.words.i18n import locale

bp = Blueprint("feeds", __name__)


def _json_body(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def _license_link() -> dict[str, str]:
    """Name the data's licence in a Link header, which any feed format can carry."""
    return {"Link": f'<{publisher().license_url}>; rel="license"'}


def _project_page(project_id: int) -> str:
    return external_url("web.project_page", project_id=project_id)


@bp.get("/feeds/wzdx.json")
def wzdx_feed() -> Response:
    """Answer the restrictions in force or announced as a WZDx 4.2 WorkZoneFeed."""

    def build() -> tuple[bytes, str]:
        session, today = get_session(), clock.today()
        feed = wzdx.work_zone_feed(
            feed_restrictions(session, today),
            publisher(),
            today=today,
            now=clock.now(),
            last_change=last_change(session),
        )
        return _json_body(feed), "application/geo+json"

    return conditional(build, _license_link())


def _closures() -> list[dict[str, Any]]:
    today = clock.today()
    restrictions = feed_restrictions(get_session(), today)
    return waze.closures(restrictions, publisher(), today=today, page_url=_project_page)


@bp.get("/feeds/waze.json")
def waze_json() -> Response:
    """Answer the full closures as a Waze closure feed (CIFS) in JSON."""
    return conditional(
        lambda: (_json_body(waze.as_json(_closures())), "application/json"), _license_link()
    )


@bp.get("/feeds/waze.xml")
def waze_xml() -> Response:
    """Answer the full closures as a Waze closure feed (CIFS) in XML."""
    return conditional(lambda: (waze.as_xml(_closures()), "application/xml"), _license_link())


def _link(endpoint: str, values: dict[str, Any]) -> str:
    return external_url(endpoint, **values)


@bp.get("/catalog.jsonld")
def catalog_jsonld() -> Response:
    """Answer the open-data catalogue as W3C DCAT 3 in JSON-LD."""

    def build() -> tuple[bytes, str]:
        document = catalog.catalog_document(
            catalog.datasets(get_session()),
            publisher(),
            catalog_url=external_url("feeds.catalog_jsonld"),
            home_url=external_url("feeds.catalog_page"),
            url=_link,
        )
        return _json_body(document), "application/ld+json"

    return conditional(build)


@bp.get("/catalog")
def catalog_page() -> ResponseReturnValue:
    """Show the open-data catalogue to people: each dataset, its links, licence and dates."""
    found = catalog.datasets(get_session())
    return render_template(
        "feeds/catalog.html",
        datasets=found,
        who=publisher(),
        modified=catalog.last_modified(found),
        frequency_words=catalog.FREQUENCY_WORDS,
        bbox=publishing.CITY_BBOX,
        lang=locale(),
        day_label=day_label,
    )
