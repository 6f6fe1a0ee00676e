"""The restrictions as a WZDx 4.2 WorkZoneFeed: a work-zone road event for each closed or
narrowed section, a detour road event for each way round, linked both ways.

WZDx 4.2 has no weekly schedule: the days and hours are in each event's description; the
start and end are the first and last instants. Sections are LineStrings; a restriction known
only by a point (or an area) is a MultiPoint of that point as its beginning and end, its
position marked unverified.
"""

from datetime import date, datetime
from typing import Any

from tracker.feeds.closures import Coordinates, FeedRestriction
from tracker.feeds.publishing import CC0, DATA_SOURCE_ID, Publisher
from tracker.feeds.timing import description, instant, period, road_name

VERSION = "4.2"
# How often the feed may change, in seconds: it is built at each request, cached a minute.
UPDATE_FREQUENCY_S = 60
# What each restriction kind does to the vehicle lanes.
VEHICLE_IMPACT = {
    "closed": "all-lanes-closed",
    "alternating": "alternating-one-way",
    "lane": "some-lanes-closed",
    "pedestrian": "all-lanes-open",
    "heavy_vehicles": "all-lanes-open",
    "other": "unknown",
}
# WZDx restrictions on vehicles, by restriction kind.
VEHICLE_RESTRICTIONS = {"heavy_vehicles": [{"type": "no-trucks"}]}
# A restriction of this kind is itself a way round: a detour event alone.
DETOUR_KIND = "detour"


def event_id(r: FeedRestriction, part: int, count: int, detour: bool = False) -> str:
    """Return a road event's stable id: the restriction's, a part number when it has several."""
    base = f"aso-restriction-{r.id}" + ("-detour" if detour else "")
    return base if count == 1 else f"{base}-{part + 1}"


def _geometries(lines: list[Coordinates], anchor: list[float]) -> list[dict[str, Any]]:
    if lines:
        return [{"type": "LineString", "coordinates": line} for line in lines]
    return [{"type": "MultiPoint", "coordinates": [anchor, anchor]}]


def _core(r: FeedRestriction, event_type: str, related: list[dict[str, str]]) -> dict[str, Any]:
    core: dict[str, Any] = {
        "event_type": event_type,
        "data_source_id": DATA_SOURCE_ID,
        "road_names": [road_name(r)],
        # Japanese roads have no signed cardinal directions; both ways are meant.
        "direction": "undefined",
        "name": r.project_name,
        "description": description(r),
        "creation_date": instant(r.created_at),
        "update_date": instant(r.updated_at),
    }
    if related:
        core["related_road_events"] = related
    return core


def _dates(r: FeedRestriction, today: date) -> dict[str, Any]:
    when = period(r, today)
    return {
        "start_date": instant(when.start),
        "end_date": instant(when.end),
        # Both are the road authority's own announcement; an open end is an estimate.
        "is_start_date_verified": True,
        "is_end_date_verified": when.end_announced,
    }


def road_events(r: FeedRestriction, today: date) -> list[dict[str, Any]]:
    """Return the restriction's work-zone events and its detour events."""
    detour_lines = r.detour_lines
    zone_lines = r.lines
    if r.kind == DETOUR_KIND:
        detour_lines, zone_lines = detour_lines or zone_lines, []
    detour_ids = [event_id(r, n, len(detour_lines), detour=True) for n in range(len(detour_lines))]
    events: list[dict[str, Any]] = []
    zone_ids: list[str] = []
    if r.kind != DETOUR_KIND:
        shapes = _geometries(zone_lines, r.anchor)
        zone_ids = [event_id(r, n, len(shapes)) for n in range(len(shapes))]
        related = [{"type": "related-detour", "id": i} for i in detour_ids]
        located = r.section_drawn and bool(zone_lines)
        for zone_id, shape in zip(zone_ids, shapes, strict=True):
            properties: dict[str, Any] = {
                "core_details": _core(r, "work-zone", related),
                **_dates(r, today),
                # The section staff drew is the authority's own; a work's place is not.
                "is_start_position_verified": located,
                "is_end_position_verified": located,
                "location_method": "other",
                "work_zone_type": "static",
                "vehicle_impact": VEHICLE_IMPACT.get(r.kind, "unknown"),
            }
            if r.kind in VEHICLE_RESTRICTIONS:
                properties["restrictions"] = VEHICLE_RESTRICTIONS[r.kind]
            events.append(
                {"id": zone_id, "type": "Feature", "properties": properties, "geometry": shape}
            )
    related = [{"type": "related-work-zone", "id": i} for i in zone_ids]
    for detour_id, line in zip(detour_ids, detour_lines, strict=True):
        properties = {"core_details": _core(r, "detour", related), **_dates(r, today)}
        geometry = {"type": "LineString", "coordinates": line}
        events.append(
            {"id": detour_id, "type": "Feature", "properties": properties, "geometry": geometry}
        )
    return events


def feed_info(who: Publisher, *, now: datetime, last_change: datetime | None) -> dict[str, Any]:
    """Return the feed's header: publisher, contact, version, licence and data source."""
    source: dict[str, Any] = {
        "data_source_id": DATA_SOURCE_ID,
        "organization_name": who.name,
        "update_frequency": UPDATE_FREQUENCY_S,
        "update_date": instant(last_change or now),
    }
    info: dict[str, Any] = {
        "publisher": who.name,
        "version": VERSION,
        "update_frequency": UPDATE_FREQUENCY_S,
        "update_date": instant(now),
        "data_sources": [source],
    }
    if who.contact_name:
        info["contact_name"] = source["contact_name"] = who.contact_name
    if who.contact_email:
        info["contact_email"] = source["contact_email"] = who.contact_email
    # WZDx 4.2 admits only CC0 here; another licence is named by the Link header and the
    # catalogue instead.
    if who.license_url == CC0:
        info["license"] = CC0
    return info


def work_zone_feed(
    restrictions: list[FeedRestriction],
    who: Publisher,
    *,
    today: date,
    now: datetime,
    last_change: datetime | None,
) -> dict[str, Any]:
    """Return the WZDx 4.2 WorkZoneFeed of the restrictions."""
    return {
        "type": "FeatureCollection",
        "feed_info": feed_info(who, now=now, last_change=last_change),
        "features": [event for r in restrictions for event in road_events(r, today)],
    }
