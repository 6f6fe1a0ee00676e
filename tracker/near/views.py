"""The public "near me" page, the nearby API and the Atom feed; no account needed.

Everything here reads with include_private off and an explicit list of public fields,
whoever is signed in: the page may be shown on a staff member's phone to a resident.
"""

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from flask import Blueprint, Response, make_response, render_template, request, url_for
from flask.typing import ResponseReturnValue
from shapely.geometry import Point, shape
from shapely.ops import nearest_points
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from tracker.accounts.access import can_see_private, signed_in
from tracker.city.districts import districts
from tracker.city.places import RADIUS_CHOICES, StartPlace, find_place, start_places
from tracker.core import clock
from tracker.core.db import get_session
from tracker.core.errors import BadInput
from tracker.core.translate import gettext as _
from tracker.facilities.queries import nearest_facilities
from tracker.hazards.codes import hazard_zone_sentences
from tracker.hazards.queries import shelter_zones, zones_at
from tracker.maps.city_map import ASO_CENTER, BASE_LAYERS, MAX_ZOOM, tile_url
from tracker.maps.page_data import base_map_labels, map_labels, map_layer_urls
from tracker.near import feed
from tracker.near.contract import Nearby, NearbyQuery
from tracker.near.queries import (
    OutsideCity,
    check_near_city,
    circle_from_args,
    nearby_answer,
    nearby_features,
    parse_point,
    parse_radius,
)
from tracker.near.restriction_list import read_filters, restriction_list
from tracker.projects.queries import Circle
from tracker.restrictions.wording import (
    daily_hours_label,
    hours_label,
    next_start_label,
    weekday_day_label,
)
from tracker.serving.assets import vendor_url
from tracker.serving.contract import GEOJSON, READ, Answers, checked_query, contract
from tracker.serving.freshness import kept_for, minute_and_language
from tracker.words import wording
from tracker.words.i18n import locale
from tracker.words.vocab import RESTRICTION_KINDS, kind_glyph, status_label

bp = Blueprint("near", __name__)

ATOM = "application/atom+xml"

PAGE_LIMIT = 50
SHELTER_COUNT = 3
# Works finished longer ago than this are hidden unless the reader asks for them.
OLD_WORK_DAYS = 365


@bp.get("/api/projects/nearby")
@contract.validate(
    query=NearbyQuery,
    resp=Answers(200, Nearby, "The projects, nearest first.", media_type=GEOJSON),
    security=READ,
    operation_id="nearbyProjects",
)
def nearby_api() -> Response:
    """Public projects within `radius` metres of lat/lon, nearest first."""
    query = checked_query(NearbyQuery)
    circle = Circle(query.lat, query.lon, query.radius)
    body = nearby_answer(circle, today=clock.today(), limit=query.limit)
    return Response(body, mimetype=GEOJSON)


class UnknownPlace(BadInput):
    """A place key that is not in the page's list (an old bookmark, a typo)."""


@dataclass
class Choice:
    """What the page was asked for: a listed place or a point, and a radius."""

    circle: Circle | None
    place: StartPlace | None
    place_key: str


def _read_choice(session: Session, args: Mapping[str, str]) -> Choice:
    radius = parse_radius(args)
    key = args.get("place", "")
    if args.get("lat") or args.get("lon"):
        lat, lon = parse_point(args)
        check_near_city(session, lat, lon)
        return Choice(Circle(lat, lon, radius), None, "")
    if key:
        place = find_place(session, key)
        if place is None:
            raise UnknownPlace(
                _("選んだ場所が見つかりません。一覧から選び直してください。"),
                code="unknown_value",
                field="place",
            )
        return Choice(Circle(place.lat, place.lon, radius), place, key)
    return Choice(None, None, "")


def _page_error(error: BadInput) -> str:
    """Say in the reader's language what went wrong; the API's messages are for programs."""
    if isinstance(error, OutsideCity | UnknownPlace):
        # Most often "use my location" pressed far from Aso, or an old bookmark.
        return error.text
    return _("場所または範囲の指定を読み取れませんでした。一覧から選び直してください。")


def _feed_parts() -> tuple[Hashable, ...]:
    wanted = request.accept_mimetypes.best_match(["application/atom+xml", "text/html"])
    return (clock.today(), locale(), wanted)


@bp.get("/near")
@kept_for(minute_and_language, signed_in, kept_here=True)
def near_page() -> ResponseReturnValue:
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
            session, choice.circle, today=clock.today(), limit=PAGE_LIMIT
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
    hide_old = _hide_old_works(request.args)
    today = clock.today()
    for feature in results:
        feature["old_work"] = _finished_long_ago(feature["properties"], today)
    html = render_template(
        "near/near.html",
        lang=lang,
        hide_old=hide_old,
        old_count=sum(1 for f in results if f["old_work"]),
        here_args=_here_args(choice, radius),
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
        next_start_label=next_start_label,
        today=today,
        map_config=_map_config(choice, results, shelters),
        vendor_url=vendor_url,
        feed_url=_feed_url(choice, lang),
        follow_url=_follow_url(choice, lang),
    )
    return html, 400 if error else 200


def _hide_old_works(args: MultiDict[str, str]) -> bool:
    """Tell whether to hide works finished long ago: yes unless the reader unticked the box.

    The form sends hide_old=0 always and hide_old=1 when ticked, so a first visit (neither)
    hides them, and an unticked box (0 alone) shows them.
    """
    sent = args.getlist("hide_old")
    return not sent or "1" in sent


def _finished_long_ago(props: dict, today: date) -> bool:
    ended = props.get("actual_end")
    return (
        props["status"] == "completed"
        and isinstance(ended, str)
        and bool(ended)
        and date.fromisoformat(ended) < today - timedelta(days=OLD_WORK_DAYS)
    )


def _here_args(choice: Choice, radius: float) -> dict:
    """Return the query arguments that name the chosen place, for forms that keep it."""
    if choice.place is not None:
        return {"place": choice.place_key, "radius": int(radius)}
    if choice.circle is not None:
        return {
            "lat": f"{choice.circle.lat:.5f}",
            "lon": f"{choice.circle.lon:.5f}",
            "radius": int(radius),
        }
    return {}


def _hazard_notes(session: Session, circle: Circle, shelters: list) -> list[str]:
    """Say when the chosen place or the nearest shelter lies in a hazard zone."""
    notes = hazard_zone_sentences(zones_at(session, circle.lon, circle.lat))
    if shelters:
        nearest = shelters[0]
        notes += hazard_zone_sentences(
            shelter_zones(session, nearest.id), shelter_name=nearest.name
        )
    return notes


def _feed_url(choice: Choice, lang: str) -> str | None:
    return feed.circle_url("near.near_feed", choice.circle, lang) if choice.circle else None


def _follow_url(choice: Choice, lang: str) -> str | None:
    return feed.circle_url("near.follow_page", choice.circle, lang) if choice.circle else None


def _map_config(choice: Choice, results: list, shelters: list) -> dict:
    """Return what near.js needs to draw the map; names travel as data, never as HTML."""
    # The results' map draws no layer of its own: the base's words are all it needs.
    labels = base_map_labels()
    name, tileset, ext = BASE_LAYERS[0]
    circle = choice.circle
    return {
        "center": [circle.lat, circle.lon] if circle else list(ASO_CENTER),
        "radius": circle.radius_m if circle else None,
        "tiles": tile_url(labels.get("tile_url"), tileset, ext),
        "attribution": labels["attribution"],
        "attributionPrefix": labels["attribution_prefix"],
        "zoom": labels["zoom"],
        "maxZoom": MAX_ZOOM,
        "pageUrl": url_for("near.near_page"),
        # Before a place is chosen the map shows the public works from the vector tiles
        # (whoever is signed in). Once one is, it shows the numbered results alone: each
        # work once, and hidden with the others when the finished-works toggle says so.
        "layer": None
        if circle
        else {
            "tiles": map_layer_urls("public=true")["tiles_url"],
            "featureUrl": map_layer_urls()["feature_url_template"],
            "projectUrl": url_for("web.project_page", project_id=1)[:-1] + "{id}",
            "labels": map_labels(),
        },
        # Each work's number sits where it comes closest to the chosen point, in its status's
        # colour; `old` marks works finished long ago, which the page may hide.
        "pins": [
            {
                "n": n,
                "id": f["properties"]["id"],
                "name": f["properties"]["name"],
                "status": f["properties"]["status"],
                "statusLabel": status_label(f["properties"]["status"]),
                "old": f["old_work"],
                "lat": lat,
                "lon": lon,
            }
            for n, f in enumerate(results, start=1)
            if circle is not None  # results come only for a chosen circle
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
            # One or two characters on the map pin.
            "shelterGlyph": kind_glyph("shelter"),
            "locating": _("現在地を調べています…"),
            "noLocation": _(
                "現在地がわかりませんでした。一覧から場所を選ぶか、地図をタップしてください。"
            ),
            "hiddenOld": _("完了から1年以上たった工事 {n} 件を隠しています。"),
        },
    }


def _closest(geometry: dict, circle: Circle) -> tuple[float, float]:
    if geometry["type"] == "Point":  # most works: no need to build shapes (~30 µs each)
        lon, lat = geometry["coordinates"][:2]
        return lat, lon
    point = nearest_points(shape(geometry), Point(circle.lon, circle.lat))[0]
    return point.y, point.x


@bp.get("/restrictions")
def restrictions_page() -> ResponseReturnValue:
    """List every traffic restriction in force or announced, and lay them on a timeline of the
    coming days; ?kind= and ?area= (a district) narrow both. Works without JavaScript."""
    session = get_session()
    areas = districts()
    error = None
    try:
        kind, area_key = read_filters(request.args, areas)
    except BadInput as exc:
        error, kind, area_key = exc.text, "", ""
    found = restriction_list(
        session,
        at=clock.now(),
        today=clock.today(),
        include_private=can_see_private(),
        areas=areas,
        kind=kind,
        area_key=area_key,
    )
    html = render_template(
        "near/restriction_list.html",
        found=found,
        areas=areas,
        kinds=RESTRICTION_KINDS,
        error=error,
        lang=locale(),
        w=wording,
        hours_label=hours_label,
        next_start_label=next_start_label,
        weekday_day_label=weekday_day_label,
        daily_hours_label=daily_hours_label,
        today=clock.today(),
    )
    return html, 400 if error else 200


@bp.get("/near/feed.atom")
@kept_for(_feed_parts, signed_in, kept_here=True)
def near_feed() -> ResponseReturnValue:
    """Answer an Atom feed of status changes, new projects and restriction changes within the
    circle. Feed readers get application/atom+xml; a browser (which prefers HTML) gets the
    same entries as a page of the app (feed_page), at the same address."""
    session = get_session()
    circle = circle_from_args(session, request.args)
    wanted = request.accept_mimetypes.best_match(["application/atom+xml", "text/html"])
    if wanted == "text/html" and request.accept_mimetypes["text/html"] > 0:
        response = make_response(_feed_page(session, circle))
    else:
        response = Response(feed.build_feed(session, circle, locale()), mimetype=ATOM)
    response.vary.add("Accept")
    return response


@bp.get("/near/feed")
def feed_page() -> ResponseReturnValue:
    """Show the feed of the circle as a page: its latest entries and how to follow it."""
    session = get_session()
    return _feed_page(session, circle_from_args(session, request.args))


def _feed_page(session: Session, circle: Circle) -> str:
    lang = locale()
    items = feed.feed_items(feed.feed_entries(session, circle), lang)
    return render_template(
        "near/feed.html",
        title=feed.feed_title(circle),
        items=items,
        feed_url=feed.circle_url("near.near_feed", circle, lang, external=True),
        page_url=feed.circle_url("near.near_page", circle, lang),
        follow_url=feed.circle_url("near.follow_page", circle, lang),
    )


@bp.get("/near/follow")
def follow_page() -> ResponseReturnValue:
    """Explain how to follow the works of an area: a feed reader, or the feed's address."""
    session = get_session()
    circle = circle_from_args(session, request.args)
    lang = locale()
    return render_template(
        "near/follow.html",
        circle=circle,
        radius_text=wording.distance_label(circle.radius_m),
        feed_url=feed.circle_url("near.near_feed", circle, lang, external=True),
        page_url=feed.circle_url("near.near_page", circle, lang),
        w=wording,
    )
