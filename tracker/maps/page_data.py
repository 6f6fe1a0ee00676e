"""What every map page needs from the app: our static URLs, the city boundary, its words."""

import json
from datetime import date

from flask import abort, current_app, url_for
from markupsafe import Markup, escape
from sqlalchemy import func, select

from tracker.city.models import CityBoundary
from tracker.core.db import get_session
from tracker.core.translate import gettext as _
from tracker.core.translate import pgettext
from tracker.geo.geometry import CITY_CODE
from tracker.hazards.codes import HAZARD_LAYER, LAYER_CREDITS, hazard_label
from tracker.hazards.queries import loaded_hazards
from tracker.maps.city_map import GSI_TILES_URL, MapParts, build_city_map, render_parts
from tracker.serving.assets import vendor_url
from tracker.words.vocab import KINDS, STATUSES, kind_glyph, kind_label, status_label


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
            description=_(
                "市の境界データが読み込まれていません（flask load-data を実行してください）"
            ),
        )
    return json.loads(text)


def gsi_attribution() -> Markup:
    """Return the credit of the GSI tiles: a link 「地理院タイル」, named in English too."""
    link = '<a href="{url}" target="_blank" rel="noopener">{words}</a>'
    if _("地理院タイル") == "地理院タイル":
        words = Markup("地理院タイル")
    else:
        # GSI's terms ask for the name 「地理院タイル」; an English reader gets both.
        words = Markup('{english} (<span lang="ja">地理院タイル</span>)').format(
            english=_("地理院タイル")
        )
    return Markup(link).format(url=GSI_TILES_URL, words=words)


def hazard_layers() -> list[dict]:
    """Return the hazard overlays the maps offer: each loaded hazard with its layer's URL."""
    return [
        {
            "hazard": hazard,
            "label": hazard_label(hazard),
            "url": url_for("web.hazard_features", hazard=hazard),
            "attribution": LAYER_CREDITS[HAZARD_LAYER[hazard]],
        }
        for hazard in loaded_hazards(get_session())
    ]


def base_map_labels() -> dict:
    """Return what a map's base needs in the reader's language: its tiles' source, their
    credits and the zoom buttons (a page with a small map needs no more of map_labels)."""
    return {
        # Not a word, but every map builder reads its labels: the base tiles' source.
        "tile_url": current_app.config.get("MAP_TILE_URL"),
        "attribution": str(gsi_attribution()),
        "zoom": {"zoomInTitle": _("拡大"), "zoomOutTitle": _("縮小")},
        "attribution_prefix": str(
            Markup(
                '<a href="https://leafletjs.com" title="{title}" target="_blank" rel="noopener">'
                "Leaflet</a>"
            ).format(title=_("地図を表示するライブラリ"))
        ),
    }


def map_labels() -> dict:
    """Return the words of every map (credits, controls, legend, popups) in the reader's language."""
    return base_map_labels() | {
        "base_layers": {
            "std": _("地理院 標準地図"),
            "pale": _("地理院 淡色地図"),
            "seamlessphoto": _("地理院 写真"),
        },
        "city_data_attribution": str(
            escape(_("「国土数値情報（行政区域データ）」（国土交通省）を加工して作成"))
            + " | "
            + escape(_("指定避難所: 国土地理院"))
        ),
        "layers": _("表示する地図・事業"),
        "statuses": {code: status_label(code) for code in STATUSES},
        "kinds": {code: kind_label(code) for code in KINDS},
        "glyphs": {code: kind_glyph(code) for code in (*KINDS, "other")},
        # One-word keys: folium hands nested option keys to the script in camelCase.
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
            # A road, pavement or revetment known only by a point: drawn as a hollow pin.
            "positiononly": _("位置のみ（線はまだ描かれていません）"),
            "details": _("詳細を見る"),
            "loading": _("読み込み中…"),
            # {n} is replaced by the number of projects on the map.
            "count": _("事業 {n} 件"),
            "failed": _("事業データを読み込めませんでした"),
            "unknown": _("不明"),
            "other": _("その他"),
        },
        "overlays": {
            "facilities": _("指定避難所"),
            # One character on the map pin.
            "glyph": pgettext("map pin", "避"),
            "restrictions": _("通行規制"),
            "detour": _("迂回路"),
            "address": _("所在地"),
            "period": _("期間"),
            "hours": _("時間"),
            "reason": _("理由"),
            "contact": _("問い合わせ"),
            "work": _("工事"),
            "details": _("詳細を見る"),
        },
    }


def map_layer_urls(query: str = "") -> dict:
    """Return the URLs a map page's project layer reads: its vector tiles and one project."""
    tiles_url = url_for("ogc.tileset", cid="projects") + "/{z}/{y}/{x}"
    return {
        "tiles_url": tiles_url + (f"?{query}" if query else ""),
        "feature_url_template": url_for("api.get_project", project_id=1)[:-1] + "{id}",
    }


def city_map_parts(
    project_endpoint: str,
    *,
    query: str = "",
    count: int | None = None,
    kind_control: bool = True,
    restrictions_on: date | None = None,
    shelters_shown: bool = False,
) -> MapParts:
    """Render the city map for a page: its projects from the vector tiles, filtered by
    `query`, each linking to `project_endpoint` (an endpoint taking project_id); `count` says
    how many projects the tiles hold; `kind_control` as build_city_map. The designated
    shelters, the traffic restrictions in force on `restrictions_on` (default today) and the
    loaded hazard layers come with it, each a layer of its own; the shelters are off until
    switched on, unless `shelters_shown`: on these maps the works are the subject."""
    project_url = url_for(project_endpoint, project_id=1)[:-1] + "{id}"
    on = restrictions_on.isoformat() if restrictions_on else None
    m = build_city_map(
        boundary=city_boundary_geojson(),
        **map_layer_urls(query),
        count=count,
        vendor_url=vendor_url,
        project_url_template=project_url,
        static_url=static_url,
        labels=map_labels(),
        kind_control=kind_control,
        overlays={
            "facilities": {
                "url": url_for("web.map_facilities"),
                "pageUrl": url_for("web.facility_page", facility_id=1)[:-1] + "{id}",
                "shown": shelters_shown,
            },
            "restrictions": {
                "url": url_for("web.map_restrictions", active_on=on),
                "projectUrl": project_url,
            },
        },
        hazard_layers=hazard_layers(),
    )
    return render_parts(m)
