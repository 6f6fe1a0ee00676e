"""The public "near me" page, the nearby API and the Atom feed; no account needed.

Everything here reads with include_private off and an explicit list of public fields,
whoever is signed in: the page may be shown on a staff member's phone to a resident.
"""

from dataclasses import dataclass

from flask import Blueprint, Response, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from shapely.geometry import Point, shape
from shapely.ops import nearest_points

from tracker import wording
from tracker.assets import vendor_url
from tracker.city.places import RADIUS_CHOICES, StartPlace, find_place, start_places
from tracker.db import get_session
from tracker.errors import BadInput
from tracker.facilities.queries import nearest_facilities
from tracker.formatting import today_jst
from tracker.hazards.queries import shelter_zones, zones_at
from tracker.maps.city_map import ASO_CENTER, BASE_LAYERS, GSI_ATTRIBUTION, MAX_ZOOM
from tracker.maps.page_data import map_labels, map_layer_urls
from tracker.near import feed
from tracker.near.queries import (
    MAX_OUTSIDE_CITY_M,
    OutsideCity,
    check_near_city,
    circle_from_args,
    nearby_collection,
    nearby_features,
    parse_limit,
    parse_point,
    parse_radius,
)
from tracker.projects.queries import Circle
from tracker.restrictions.wording import hours_label

bp = Blueprint("near", __name__)

PAGE_LIMIT = 50
SHELTER_COUNT = 3
GEOJSON = "application/geo+json"


def locale() -> str:
    """Return the language of this response: 'ja' or 'en'."""
    return str(get_locale() or "ja")


@bp.get("/api/projects/nearby")
def nearby_api():
    """Answer public projects within `radius` metres of lat/lon, nearest first."""
    session = get_session()
    circle = circle_from_args(session, request.args)
    limit = parse_limit(request.args)
    body = nearby_collection(session, circle, today=today_jst(), limit=limit)
    return Response(body, mimetype=GEOJSON)


class UnknownPlace(BadInput):
    """A place key that is not in the page's list (an old bookmark, a typo)."""


@dataclass
class Choice:
    """What the page was asked for: a listed place or a point, and a radius."""

    circle: Circle | None
    place: StartPlace | None
    place_key: str


def _read_choice(session, args) -> Choice:
    radius = parse_radius(args)
    key = args.get("place", "")
    if args.get("lat") or args.get("lon"):
        lat, lon = parse_point(args)
        check_near_city(session, lat, lon)
        return Choice(Circle(lat, lon, radius), None, "")
    if key:
        place = find_place(session, key)
        if place is None:
            raise UnknownPlace(f"place: not in the list: {key!r}")
        return Choice(Circle(place.lat, place.lon, radius), place, key)
    return Choice(None, None, "")


def _page_error(error: BadInput) -> str:
    """Say in the reader's language what went wrong; the API's messages are for programs."""
    if isinstance(error, OutsideCity):
        # Most often "use my location" pressed far from Aso.
        return _(
            "その地点は阿蘇市の境界から約%(km)s km離れています。"
            "市内か、境界から%(limit)s km以内の場所を選んでください。",
            km=f"{error.distance_m / 1000:.0f}",
            limit=MAX_OUTSIDE_CITY_M // 1000,
        )
    if isinstance(error, UnknownPlace):
        return _("選んだ場所が見つかりません。一覧から選び直してください。")
    return _("場所または範囲の指定を読み取れませんでした。一覧から選び直してください。")


@bp.get("/near")
def near_page():
    """Show works, traffic restrictions and shelters near a chosen place."""
    session = get_session()
    lang = locale()
    places = start_places(session)
    error = None
    try:
        choice = _read_choice(session, request.args)
    except BadInput as exc:
        error = _page_error(exc)
        choice = Choice(None, None, "")
    radius = choice.circle.radius_m if choice.circle else 1000
    results, shelters, truncated, in_force, hazard_notes = [], [], False, [], []
    if choice.circle is not None:
        features, truncated = nearby_features(
            session, choice.circle, today=today_jst(), limit=PAGE_LIMIT
        )
        results = features
        in_force = [
            (f, r) for f in results for r in f["properties"]["restrictions"] if r["in_force"]
        ]
        shelters = nearest_facilities(
            session, choice.circle.lon, choice.circle.lat, count=SHELTER_COUNT
        )
        hazard_notes = _hazard_notes(session, choice.circle, shelters)
    radius_choices = sorted({*RADIUS_CHOICES, int(radius)})
    html = render_template(
        "near/near.html",
        lang=lang,
        places=places,
        choice=choice,
        radius=int(radius),
        radius_choices=radius_choices,
        results=results,
        truncated=truncated,
        in_force=in_force,
        hazard_notes=hazard_notes,
        shelters=shelters,
        error=error,
        w=wording,
        hours_label=hours_label,
        today=today_jst(),
        map_config=_map_config(choice, results, shelters, lang),
        vendor_url=vendor_url,
        feed_url=_feed_url(choice, lang),
    )
    return html, 400 if error else 200


def _hazard_notes(session, circle: Circle, shelters: list) -> list[str]:
    """Say when the chosen place or the nearest shelter lies in a hazard zone."""
    notes = wording.hazard_zone_sentences(zones_at(session, circle.lon, circle.lat))
    if shelters:
        nearest = shelters[0]
        notes += wording.hazard_zone_sentences(
            shelter_zones(session, nearest.id), shelter_name=nearest.name
        )
    return notes


def _feed_url(choice: Choice, lang: str) -> str | None:
    return feed.circle_url("near.near_feed", choice.circle, lang) if choice.circle else None


def _map_config(choice: Choice, results: list, shelters: list, lang: str) -> dict:
    """Return what near.js needs to draw the map; names travel as data, never as HTML."""
    name, tileset, ext = BASE_LAYERS[0]
    circle = choice.circle
    return {
        "center": [circle.lat, circle.lon] if circle else list(ASO_CENTER),
        "radius": circle.radius_m if circle else None,
        "tiles": f"https://cyberjapandata.gsi.go.jp/xyz/{tileset}/{{z}}/{{x}}/{{y}}.{ext}",
        "attribution": GSI_ATTRIBUTION,
        "maxZoom": MAX_ZOOM,
        "pageUrl": url_for("near.near_page"),
        # Works are drawn from the public vector tiles, whoever is signed in.
        "layer": {
            "tiles": map_layer_urls("public=true")["tiles_url"],
            "featureUrl": map_layer_urls()["feature_url_template"],
            "projectUrl": url_for("web.project_page", project_id=1)[:-1] + "{id}",
            "labels": map_labels(),
        },
        # Each work's number sits where it comes closest to the chosen point.
        "pins": [
            {"n": n, "name": f["properties"]["name"], "lat": lat, "lon": lon}
            for n, f in enumerate(results, start=1)
            for lat, lon in [_closest(f["geometry"], circle)]
        ],
        "shelters": [{"name": s.name, "lat": s.lat, "lon": s.lon} for s in shelters],
        # Closed or narrowed sections and their detours, drawn as on the city map.
        "restrictions": [
            {"section": r["section"], "detour": r["detour"]}
            for f in results
            for r in f["properties"]["restrictions"]
            if r["section"] or r["detour"]
        ],
        "text": {
            "here": _("選んだ場所"),
            "shelter": _("避難所"),
            # One character on the map pin.
            "shelterGlyph": _("避"),
            "locating": _("現在地を調べています…"),
            "noLocation": _(
                "現在地がわかりませんでした。一覧から場所を選ぶか、地図をタップしてください。"
            ),
        },
    }


def _closest(geometry: dict, circle: Circle) -> tuple[float, float]:
    point = nearest_points(shape(geometry), Point(circle.lon, circle.lat))[0]
    return point.y, point.x


@bp.get("/near/feed.atom")
def near_feed():
    """Answer an Atom feed of status changes and new projects within the circle."""
    session = get_session()
    circle = circle_from_args(session, request.args)
    body = feed.build_feed(session, circle, locale())
    return Response(body, mimetype="application/atom+xml")
