"""When a restriction holds, as the feeds say it: instants with the +09:00 offset, its
weekly schedule, and the road it is on."""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from tracker.core.translate import force_locale
from tracker.core.translate import gettext as _
from tracker.feeds.closures import FeedRestriction
from tracker.restrictions.wording import hours_label

# Japan Standard Time: no daylight saving, so the offset is always +09:00.
JST = timezone(timedelta(hours=9), "JST")
# A restriction "until further notice" is announced until its work's planned end, or this
# long from today when that has passed: an estimate, said so in the feeds.
OPEN_END_ESTIMATE = timedelta(days=365)
WEEK = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# The weekdays each `days` code covers (public holidays cannot be said in a weekly schedule:
# the description says 祝日).
DAYS = {"every_day": WEEK, "weekdays": WEEK[:5], "weekends": WEEK[5:]}
# A road's name inside a work's name: 「市道内牧駅前線 道路改良工事」 → 「市道内牧駅前線」.
ROAD_NAME = re.compile(r"(?:国道|県道|市道|町道|村道|林道|農道)\S*?(?:線|号)")


@dataclass(frozen=True)
class Period:
    """From when until when a restriction holds, and whether its end was announced."""

    start: datetime
    end: datetime
    end_announced: bool


def _overnight(r: FeedRestriction) -> bool:
    return r.time_from is not None and r.time_until is not None and r.time_until <= r.time_from


def period(r: FeedRestriction, today: date) -> Period:
    """Return the restriction's first and last instant (JST), the end estimated when open."""
    start = datetime.combine(r.starts_on, r.time_from or time(0), JST)
    last_day = r.ends_on
    if last_day is None:
        floor = max(today, r.starts_on)
        planned = r.planned_end
        last_day = (
            planned if planned is not None and planned >= floor else floor + OPEN_END_ESTIMATE
        )
    if r.time_until is None:
        end = datetime.combine(last_day + timedelta(days=1), time(0), JST)
    else:
        end_day = last_day + timedelta(days=1) if _overnight(r) else last_day
        end = datetime.combine(end_day, r.time_until, JST)
    return Period(start, end, r.ends_on is not None)


def weekly_schedule(r: FeedRestriction) -> dict[str, str]:
    """Return the hours on each day of the week ('08:30-17:00'); none when it holds all the
    time. A night that runs past midnight ends on the next day."""
    if r.time_from is None or r.time_until is None:
        if r.days == "every_day":
            return {}
        return {day: "00:00-23:59" for day in DAYS[r.days]}
    start, end = r.time_from.strftime("%H:%M"), r.time_until.strftime("%H:%M")
    spans: dict[str, list[str]] = {day: [] for day in WEEK}
    for day in DAYS[r.days]:
        if _overnight(r):
            spans[day].append(f"{start}-23:59")
            spans[WEEK[(WEEK.index(day) + 1) % 7]].insert(0, f"00:00-{end}")
        else:
            spans[day].append(f"{start}-{end}")
    return {day: ",".join(parts) for day, parts in spans.items() if parts}


def road_name(r: FeedRestriction) -> str:
    """Return the road's name as its work names it, or the work's name."""
    found = ROAD_NAME.search(r.project_name)
    return found.group(0) if found else r.project_name


def description(r: FeedRestriction) -> str:
    """Say in Japanese (the feeds' language) what changes, when, why and whom to ask."""
    with force_locale("ja"):
        parts = [
            r.description,
            _("時間：%(hours)s", hours=hours_label(r.days, r.time_from, r.time_until)),
        ]
        if r.reason:
            parts.append(_("理由：%(reason)s", reason=r.reason))
        if r.contact:
            parts.append(_("問い合わせ：%(contact)s", contact=r.contact))
    return "／".join(parts)


def instant(moment: datetime) -> str:
    """Return a moment as RFC 3339 with the +09:00 offset, to the second."""
    return moment.astimezone(JST).isoformat(timespec="seconds")
