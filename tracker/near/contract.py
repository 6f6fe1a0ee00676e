"""What the nearby API takes and answers, declared once: the view is checked against these
models and `/api/openapi.json` is made from them."""

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator
from werkzeug.datastructures import MultiDict

from tracker.near.queries import (
    MAX_LIMIT,
    RADIUS_MAX_M,
    RADIUS_MIN_M,
    parse_limit,
    parse_point,
    parse_radius,
)
from tracker.projects.contract import Kind, Progress, Status
from tracker.serving.contract import Answer, Geometry, Query


class NearbyQuery(Query):
    """GET /api/projects/nearby: a point and how far around it."""

    lat: float = Field(description="Latitude (WGS84).")
    lon: float = Field(description="Longitude (WGS84).")
    radius: Annotated[float, Field(ge=RADIUS_MIN_M, le=RADIUS_MAX_M)] = Field(
        1000, description="Metres."
    )
    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT)] = Field(200, description="Most features.")

    @model_validator(mode="before")
    @classmethod
    def _read(cls, data: Any) -> dict[str, Any]:
        # The near page reads the same parameters: one reading, in one set of words.
        args = MultiDict(
            {
                name: value[0] if isinstance(value, list) else value
                for name, value in (data if isinstance(data, dict) else {}).items()
                if value is not None
            }
        )
        lat, lon = parse_point(args)
        return {"lat": lat, "lon": lon, "radius": parse_radius(args), "limit": parse_limit(args)}


class NearbyRestriction(Answer):
    """A restriction on a nearby work, in force or still to come."""

    kind: str
    starts_on: date
    ends_on: date | None
    description: str
    in_force: bool = Field(description="The same as in_force_now (kept for older clients).")
    in_force_now: bool = Field(
        description="In force at this instant: its dates, days (平日 leave out public "
        "holidays) and hours in Japan time."
    )
    next_in_force_at: str | None = Field(
        None,
        description="The next instant it comes into force; null when none begins again.",
        json_schema_extra={"format": "date-time"},
    )


class NearbyProperties(Answer):
    """What anyone may read of a nearby work, and how far it is."""

    id: int
    name: str
    kind: Kind | None = None
    status: Status | None = None
    progress: Progress | None = None
    planned_start: date | None = None
    planned_end: date | None = None
    actual_start: date | None = None
    actual_end: date | None = None
    sample: bool | None = None
    plan_items: list[str] | None = None
    indicators: list[str] | None = None
    designated_shelter: bool
    address: str | None = None
    distance_m: Annotated[float, Field(ge=0)]
    restrictions: list[NearbyRestriction]


class NearbyProject(Answer):
    """A nearby work as a GeoJSON Feature."""

    type: Literal["Feature"]
    geometry: Geometry
    properties: NearbyProperties


class Nearby(Answer):
    """Nearby works, nearest first; `truncated` when more lay within the radius."""

    type: Literal["FeatureCollection"]
    numberReturned: Annotated[int, Field(ge=0)]
    truncated: bool
    features: list[NearbyProject]
