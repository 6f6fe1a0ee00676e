"""Public pages: the city map and a page per project."""

import json

from flask import Blueprint, Response, abort, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from tracker.accounts.access import can_see_private, can_see_withdrawn, current_user, signed_in
from tracker.city.districts import StartPlace, districts
from tracker.core import clock
from tracker.core.db import get_session
from tracker.core.translate import gettext as _
from tracker.facilities.queries import facility_collection, facility_or_404
from tracker.hazards.codes import HAZARDS
from tracker.hazards.queries import hazard_geojson
from tracker.maps.city_map import build_project_map, render_parts
from tracker.maps.page_data import city_map_parts, map_labels, static_url
from tracker.plan.queries import names_by_code
from tracker.projects.audit import audit_rows
from tracker.projects.history import with_previous_progress
from tracker.projects.queries import (
    AreaWorks,
    ProjectFilter,
    area_works,
    place_works,
    project_feature,
    project_or_404,
    projects_at_facility,
    status_counts,
)
from tracker.projects.register import visible_register_fields
from tracker.restrictions.queries import RestrictionFilter, restriction_features
from tracker.restrictions.wording import hours_label, next_start_label
from tracker.serving.answer_cache import cached, request_places_version
from tracker.serving.assets import vendor_url
from tracker.serving.freshness import kept_for, minute_and_language
from tracker.words.details import kind_facts
from tracker.words.formatting import parse_day, period_label
from tracker.words.i18n import locale
from tracker.words.vocab import designation_label, restriction_label

bp = Blueprint("web", __name__)


# Works per area on the city map's page without JavaScript, and on the list of works.
AREA_PREVIEW = 8
AREA_LIST_LIMIT = 50
AREA_PAGE_LIMIT = 1000
# Roughly what one listed work (a row of five fields) holds in memory, to bound the cache.
WORK_ROW_BYTES = 300


def _works_by_area(
    per_area: int, only: str | None = None
) -> tuple[list[StartPlace], dict[str, AreaWorks]]:
    """Return the areas (districts) and the map's works nearest each, by name."""
    areas = districts()
    centres = [(a.key, a.lon, a.lat) for a in areas]
    filt = ProjectFilter(include_private=can_see_private())
    session = get_session()
    # Placing every work (110 ms at 100,000 works, 1 s at 1,000,000) reads only names, places
    # and visibility: kept until one of those changes, across changes of status, and shared
    # by the map's page and every list of works by area, each of which takes its slice.
    placement = cached(
        ("works_placed", filt.include_private),
        lambda: place_works(session, filt, centres),
        lambda placed: sum(area_ids.nbytes for area_ids in placed.values()),
        version=request_places_version,
    )  # fmt: skip
    found = cached(
        ("works_by_area", filt.include_private, per_area, only),
        lambda: area_works(session, filt, placement, per_area=per_area, only=only),
        lambda found: WORK_ROW_BYTES * sum(len(area.works) for area in found.values()),
    )  # fmt: skip
    return [a for a in areas if a.key in found], found


@bp.get("/")
def city_map() -> ResponseReturnValue:
    """Show every public project on a map of the city, and without JavaScript a list by area."""
    session, filt = get_session(), ProjectFilter(include_private=can_see_private())
    counts = cached(
        ("status_counts", filt.include_private), lambda: status_counts(session, filt),
        lambda counts: 100 * len(counts),
    )  # fmt: skip
    parts = city_map_parts("web.project_page", count=sum(counts.values()))
    areas, by_area = _works_by_area(AREA_PREVIEW)
    return render_template("map.html", map=parts, areas=areas, by_area=by_area, lang=locale())


@bp.get("/works")
def works_list() -> ResponseReturnValue:
    """List the map's works by area, each linking to its page; ?area= lists one area in full."""
    key = request.args.get("area") or None
    if key is not None and key not in {a.key for a in districts()}:
        abort(404, description=_("この地区は見つかりません"))
    limit = AREA_PAGE_LIMIT if key else AREA_LIST_LIMIT
    areas, by_area = _works_by_area(limit, only=key)
    return render_template(
        "works.html", areas=areas, by_area=by_area, area_key=key, limit=limit, lang=locale()
    )


@bp.get("/map/hazards/<hazard>.geojson")
def hazard_features(hazard: str) -> Response:
    """Answer one hazard's zones as GeoJSON: a layer the maps switch on and off."""
    if hazard not in HAZARDS:
        abort(404, description=_("この災害の区域はありません"))
    return Response(hazard_geojson(get_session(), hazard), mimetype="application/geo+json")


def labelled(features: list[dict]) -> list[dict]:
    """Give restriction features the words people read: kind, period and hours."""
    lang = locale()
    for feature in features:
        props = feature["properties"]
        props["kind_label"] = restriction_label(props["kind"])
        props["period_label"] = period_label(props["starts_on"], props["ends_on"], lang)
        props["hours_label"] = hours_label(props["days"], props["time_from"], props["time_until"])
        props["next_label"] = next_start_label(props.get("next_in_force_at"), lang)
    return features


@bp.get("/map/restrictions.geojson")
def map_restrictions() -> Response:
    """Answer the traffic restrictions in force on ?active_on= (default today) as the maps'
    layer, with their words in the reader's language."""
    filt = RestrictionFilter(
        active_on=parse_day(request.args.get("active_on"), "active_on") or clock.today(),
        include_private=can_see_private(),
    )
    collection = {
        "type": "FeatureCollection",
        "features": labelled(restriction_features(get_session(), filt)),
    }
    return Response(json.dumps(collection, ensure_ascii=False), mimetype="application/geo+json")


@bp.get("/projects/<int:project_id>")
@kept_for(minute_and_language, signed_in, kept_here=True)
def project_page(project_id: int) -> ResponseReturnValue:
    """Show one project: details, a small map with its traffic restrictions, its plan links
    and its status history."""
    session = get_session()
    project = project_or_404(
        session,
        project_id,
        include_private=can_see_private(),
        # Staff and admins, who may restore it, still open a withdrawn work's page.
        include_withdrawn=can_see_withdrawn(),
    )
    feature_text = project_feature(
        session, project_id, include_private=True, include_withdrawn=True
    )
    if feature_text is None:
        abort(404)
    feature = json.loads(feature_text)
    restrictions = labelled(
        restriction_features(
            session,
            RestrictionFilter(
                project_id=project.id, include_private=True, every=True, include_withdrawn=True
            ),
        )
    )
    today = clock.today().isoformat()
    shown = [
        r
        for r in restrictions
        if not r["properties"]["lifted_at"]
        and (r["properties"]["ends_on"] is None or r["properties"]["ends_on"] >= today)
    ]
    m = build_project_map(
        feature=feature,
        vendor_url=vendor_url,
        static_url=static_url,
        sections=[r["geometry"] for r in shown if r["properties"]["section_drawn"]],
        detours=[r["properties"]["detour"] for r in shown if r["properties"]["detour"]],
        labels=map_labels(),
    )
    user = current_user()
    is_admin = user is not None and user.role == "admin"
    return render_template(
        "project.html",
        project=project,
        history=with_previous_progress(list(project.updates)),
        register_fields=visible_register_fields(internal=can_see_private()),
        restrictions=restrictions,
        today=today,
        map=render_parts(m),
        show_internal=can_see_private(),
        # Who changed what is for admins only; the plan's names are for those rows.
        audit_rows=audit_rows(session, project.id) if is_admin else [],
        plan_names=names_by_code(session) if is_admin else {},
        kind_facts=kind_facts(project.kind, project.details),
    )


@bp.get("/map/facilities.geojson")
def map_facilities() -> Response:
    """Answer the designated shelters as the maps' layer, named in the reader's language."""
    collection = json.loads(facility_collection(get_session()))
    for feature in collection["features"]:
        props = feature["properties"]
        props["designation_labels"] = [designation_label(d) for d in props["designations"]]
    return Response(json.dumps(collection, ensure_ascii=False), mimetype="application/geo+json")


@bp.get("/facilities/<int:facility_id>")
def facility_page(facility_id: int) -> ResponseReturnValue:
    """Show a designated shelter: what it is designated for, where, and the works on it."""
    session = get_session()
    facility = facility_or_404(session, facility_id)
    geometry = json.loads(session.execute(select(func.ST_AsGeoJSON(facility.geom, 6))).scalar_one())
    m = build_project_map(
        feature=geometry, vendor_url=vendor_url, static_url=static_url, labels=map_labels()
    )
    return render_template(
        "facility.html",
        facility=facility,
        works=projects_at_facility(session, facility.id, include_private=can_see_private()),
        map=render_parts(m),
    )
