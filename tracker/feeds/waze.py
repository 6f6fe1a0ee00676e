"""The full closures as a Waze partner feed in CIFS (Closure and Incident Feed
Specification), in JSON and XML.

Only restrictions of kind `closed` with a line: Waze closes road segments along a polyline
and cannot place a closure from a point. A closure without an announced end has no endtime
(the element is optional), and its days and hours are its `schedule`.
"""

from datetime import date
from typing import Any
from xml.etree import ElementTree as ET

from tracker.feeds.closures import Coordinates, FeedRestriction
from tracker.feeds.publishing import Publisher
from tracker.feeds.timing import description, instant, period, road_name, weekly_schedule

CLOSED_KIND = "closed"
XSD = "http://www.gstatic.com/road-incidents/cifsv2.xsd"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


def polyline(line: Coordinates) -> str:
    """Return a line as CIFS wants it: 'lat lon lat lon …', six decimals."""
    return " ".join(f"{lat:.6f} {lon:.6f}" for lon, lat, *_ in line)


def closures(
    restrictions: list[FeedRestriction], who: Publisher, *, today: date, page_url: Any
) -> list[dict[str, Any]]:
    """Return the CIFS incidents of the full closures, in the feed's order.

    `page_url(project_id)` gives the public page of a restriction's work.
    """
    incidents = []
    for r in restrictions:
        if r.kind != CLOSED_KIND or not r.lines:
            continue
        when = period(r, today)
        for n, line in enumerate(r.lines):
            incident: dict[str, Any] = {
                "id": f"aso-restriction-{r.id}" + (f"-{n + 1}" if len(r.lines) > 1 else ""),
                "type": "ROAD_CLOSED",
                "subtype": "ROAD_CLOSED_CONSTRUCTION",
                "polyline": polyline(line),
                "direction": "BOTH_DIRECTIONS",
                "street": road_name(r),
                "starttime": instant(when.start),
                "description": description(r),
                "creationtime": instant(r.created_at),
                "updatetime": instant(r.updated_at),
                "source": {
                    "reference": str(r.id),
                    "name": who.name,
                    "url": page_url(r.project_id),
                },
            }
            if when.end_announced:
                incident["endtime"] = instant(when.end)
            schedule = weekly_schedule(r)
            if schedule:
                incident["schedule"] = schedule
            incidents.append(incident)
    return incidents


def as_json(incidents: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the feed as CIFS JSON: {"incidents": [{"incident": {...}}, ...]}."""
    return {"incidents": [{"incident": incident} for incident in incidents]}


def as_xml(incidents: list[dict[str, Any]]) -> bytes:
    """Return the feed as CIFS XML: <incidents><incident id="…">…</incident></incidents>."""
    ET.register_namespace("xsi", XSI)
    root = ET.Element("incidents", {f"{{{XSI}}}noNamespaceSchemaLocation": XSD})
    for incident in incidents:
        element = ET.SubElement(root, "incident", id=incident["id"])
        for name, value in incident.items():
            if name == "id":
                continue
            child = ET.SubElement(element, name)
            if isinstance(value, dict):
                for key, text in value.items():
                    ET.SubElement(child, key).text = text
            else:
                child.text = value
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
