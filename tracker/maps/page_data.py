"""What every map page needs from the app: our static URLs, the city boundary, its words."""

import json

from flask import abort, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from tracker.assets import vendor_url
from tracker.city.models import CityBoundary
from tracker.db import get_session
from tracker.geometry import CITY_CODE
from tracker.maps.city_map import MapParts, build_city_map, render_parts
from tracker.vocab import KINDS, STATUSES, kind_label, status_label


def static_url(path: str) -> str:
    """Return the URL of one of the app's own static files."""
    return url_for("static", filename=path)


def city_boundary_geojson() -> dict:
    """Return the city boundary as a GeoJSON geometry."""
    text = get_session().scalar(
        select(func.ST_AsGeoJSON(CityBoundary.geom, 5)).where(CityBoundary.code == CITY_CODE)
    )
    if text is None:
        abort(
            503,
            description="市の境界データが読み込まれていません（flask load-data を実行してください）",
        )
    return json.loads(text)


def map_labels() -> dict:
    """Return the city map's words in the reader's language."""
    return {
        "base_layers": {
            "std": _("地理院 標準地図"),
            "pale": _("地理院 淡色地図"),
            "seamlessphoto": _("地理院 写真"),
        },
        "statuses": {code: status_label(code) for code in STATUSES},
        "kinds": {code: kind_label(code) for code in KINDS},
        "text": {
            "legend": _("凡例"),
            "status": _("状況"),
            "kind": _("種別"),
            "progress": _("進捗"),
            "planned": _("予定"),
            "actual": _("実績"),
            "undecided": _("未定"),
            "unnamed": _("（名称未設定）"),
            "sample": _("サンプルデータ"),
            "details": _("詳細を見る"),
            "loading": _("読み込み中…"),
            # {n} is replaced by the number of projects on the map.
            "count": _("事業 {n} 件"),
            "failed": _("事業データを読み込めませんでした"),
        },
    }


def map_layer_urls(query: str = "") -> dict:
    """Return the URLs a map page's project layer reads: its vector tiles and one project."""
    tiles_url = url_for("ogc.tileset", cid="projects") + "/{z}/{y}/{x}"
    return {
        "tiles_url": tiles_url + (f"?{query}" if query else ""),
        "feature_url_template": url_for("api.get_project", project_id=1)[:-1] + "{id}",
    }


def city_map_parts(project_endpoint: str, *, query: str = "", count: int | None = None) -> MapParts:
    """Render the city map for a page: its projects from the vector tiles, filtered by
    `query`, each linking to `project_endpoint` (an endpoint taking project_id); `count` says
    how many projects the tiles hold."""
    m = build_city_map(
        boundary=city_boundary_geojson(),
        **map_layer_urls(query),
        count=count,
        vendor_url=vendor_url,
        project_url_template=url_for(project_endpoint, project_id=1)[:-1] + "{id}",
        static_url=static_url,
        labels=map_labels(),
    )
    return render_parts(m)
