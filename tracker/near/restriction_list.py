"""The city-wide list of traffic restrictions: every one in force or announced, as a list
and as a timeline of the coming days, filtered by kind and area (district)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from tracker.city.districts import StartPlace
from tracker.core.errors import BadInput
from tracker.core.translate import gettext as _
from tracker.projects.queries import LON_SCALE
from tracker.restrictions.queries import ListedRestriction, listed_restrictions
from tracker.restrictions.schedule import Schedule, is_public_holiday
from tracker.words.vocab import RESTRICTION_KINDS

TIMELINE_DAYS = 14


@dataclass
class Listed:
    """A restriction on the list, with the area it is in."""

    row: ListedRestriction
    area: StartPlace | None


@dataclass
class TimelineDay:
    """One day of the timeline: the restrictions that hold on it."""

    day: date
    holiday: bool
    entries: list[Listed] = field(default_factory=list)

    @property
    def weekend(self) -> bool:
        """Saturday, Sunday or a public holiday: the days 土日祝 restrictions hold."""
        return self.holiday or self.day.weekday() >= 5


@dataclass
class RestrictionList:
    """What the page shows: the chosen filters, the list and the timeline."""

    kind: str
    area_key: str
    listed: list[Listed]
    timeline: list[TimelineDay]

    @property
    def in_force_count(self) -> int:
        """How many are in force now."""
        return sum(1 for item in self.listed if item.row.in_force_now)


def read_filters(args: Mapping[str, str], areas: Sequence[StartPlace]) -> tuple[str, str]:
    """Read ?kind= and ?area= (empty: all); refuse a value the page's lists do not offer."""
    kind = args.get("kind", "")
    if kind and kind not in RESTRICTION_KINDS:
        raise BadInput(
            _("規制の種類は一覧から選んでください。"), field="kind", code="unknown_value"
        )
    area = args.get("area", "")
    if area and area not in {a.key for a in areas}:
        raise BadInput(_("地区は一覧から選んでください。"), field="area", code="unknown_value")
    return kind, area


def nearest_area(lon: float, lat: float, areas: Sequence[StartPlace]) -> StartPlace | None:
    """Name the district whose centre is nearest, as the works list does."""
    if not areas:
        return None
    return min(areas, key=lambda a: ((a.lon - lon) * LON_SCALE) ** 2 + (a.lat - lat) ** 2)


def restriction_list(
    session: Session,
    *,
    at: datetime,
    today: date,
    include_private: bool,
    areas: Sequence[StartPlace],
    kind: str = "",
    area_key: str = "",
) -> RestrictionList:
    """Read the restrictions in force or announced, filtered, and lay out their timeline."""
    rows = listed_restrictions(
        session, at=at, include_private=include_private, kinds=[kind] if kind else []
    )
    listed = [Listed(row, nearest_area(row.lon, row.lat, areas)) for row in rows]
    if area_key:
        listed = [item for item in listed if item.area and item.area.key == area_key]
    timeline = []
    for offset in range(TIMELINE_DAYS):
        day = today + timedelta(days=offset)
        entry = TimelineDay(day, is_public_holiday(day))
        entry.entries = [item for item in listed if Schedule.of(item.row).holds_on(day)]
        timeline.append(entry)
    return RestrictionList(kind, area_key, listed, timeline)
