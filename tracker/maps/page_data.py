"""What every map page needs from the app: our static URLs and the city boundary."""

import json

from flask import abort, url_for
from sqlalchemy import func, select

from tracker.city.models import CityBoundary
from tracker.db import get_session
from tracker.geometry import CITY_CODE


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
