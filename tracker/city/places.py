"""Places a resident can start from: district centres and landmarks, all stored locally."""

from functools import cache

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from tracker.city.districts import StartPlace, districts
from tracker.city.models import Place

# The distances offered around a place, in metres: a walk, a short drive, the district.
RADIUS_CHOICES = (500, 1000, 3000)

# English names for the landmarks in aso_places.csv; a landmark missing here shows its
# Japanese name, which is still the name on the signs.
LANDMARK_NAMES_EN = {
    "滝水駅": "Takimizu Station",
    "波野駅": "Namino Station",
    "宮地駅": "Miyaji Station",
    "いこいの村駅": "Ikoinomura Station",
    "阿蘇駅": "Aso Station",
    "内牧駅": "Uchinomaki Station",
    "市ノ川駅": "Ichinokawa Station",
    "赤水駅": "Akamizu Station",
    "阿蘇西IC（国道57号 北側復旧ルート）": "Aso-nishi IC (Route 57 northern route)",
    "車帰IC（国道57号 北側復旧ルート）": "Kurumagaeri IC (Route 57 northern route)",
    "阿蘇神社": "Aso Shrine",
    "道の駅 阿蘇": "Michi-no-Eki Aso (roadside station)",
}
# Tunnel portals are not places people live near.
LANDMARK_KINDS = ("rail_station", "road_interchange", "cultural_heritage", "roadside_station")


def landmarks(session: Session) -> list[StartPlace]:
    """Return the landmarks inside the city, east to west as people picture the caldera."""
    rows = session.execute(_landmarks())
    return [
        StartPlace(
            key=f"p-{place_id}",
            name=name,
            name_en=LANDMARK_NAMES_EN.get(name, name),
            group="landmark",
            lat=lat,
            lon=lon,
        )
        for place_id, name, lat, lon in rows
    ]


# Built once: the nearby page lists the landmarks for every place asked.
@cache
def _landmarks() -> Select:
    return (
        select(Place.id, Place.name, func.ST_Y(Place.geom), func.ST_X(Place.geom))
        .where(Place.inside_city.is_(True), Place.kind.in_(LANDMARK_KINDS))
        .order_by(func.ST_X(Place.geom).desc())
    )


def start_places(session: Session) -> list[StartPlace]:
    """Return every place offered in the page's list: districts first, then landmarks."""
    return districts() + landmarks(session)


def find_place(session: Session, key: str) -> StartPlace | None:
    """Return the place with this key, or None."""
    return next((p for p in start_places(session) if p.key == key), None)
