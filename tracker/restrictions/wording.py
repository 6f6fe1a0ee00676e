"""How a restriction's days and hours read: 「平日 8:30〜17:00」, 「終日」."""

from datetime import date, datetime, time

from tracker.core.clock import JST
from tracker.core.translate import gettext as _
from tracker.words.formatting import MONTHS_EN
from tracker.words.vocab import restriction_days_label


def _clock(value: str | time) -> str:
    text = value.strftime("%H:%M") if isinstance(value, time) else value
    hours, minutes = text.split(":")
    return f"{int(hours)}:{minutes}"


def daily_hours_label(time_from: str | time | None, time_until: str | time | None) -> str:
    """Say the hours of one day: '8:30〜17:00', '20:00〜翌6:00', '終日'."""
    if time_from is None or time_until is None:
        return _("終日")
    start, end = _clock(time_from), _clock(time_until)
    # 20:00〜翌6:00: a night restriction runs past midnight.
    if end.zfill(5) <= start.zfill(5):
        return _("%(start)s〜翌%(end)s", start=start, end=end)
    return _("%(start)s〜%(end)s", start=start, end=end)


def hours_label(days: str, time_from: str | time | None, time_until: str | time | None) -> str:
    """Say when in the day a restriction holds: '平日 8:30〜17:00', '終日', '土日祝 終日'."""
    span = daily_hours_label(time_from, time_until)
    if days == "every_day" and (time_from is None or time_until is None):
        return span
    return f"{restriction_days_label(days)} {span}"


WEEKDAYS_JA = "月火水木金土日"
WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def next_start_label(value: str | datetime | None, locale: str) -> str:
    """Say when a restriction next comes into force, in Japan time: '次は 3月6日（月）8:30から',
    'next from Mon 6 March 8:30'; empty when it does not begin again."""
    if value is None or value == "":
        return ""
    instant = datetime.fromisoformat(value) if isinstance(value, str) else value
    local = instant.astimezone(JST)
    hour = f"{local.hour}:{local.minute:02d}"
    if locale == "en":
        month = MONTHS_EN[local.month - 1]
        when = f"{WEEKDAYS_EN[local.weekday()]} {local.day} {month} {hour}"
    else:
        when = f"{local.month}月{local.day}日（{WEEKDAYS_JA[local.weekday()]}）{hour}"
    return _("次は %(when)sから", when=when)


def weekday_day_label(day: date, locale: str) -> str:
    """Name a day with its weekday, as a timeline's heading: '11月6日（月）', 'Mon 6 November'."""
    if locale == "en":
        return f"{WEEKDAYS_EN[day.weekday()]} {day.day} {MONTHS_EN[day.month - 1]}"
    return f"{day.month}月{day.day}日（{WEEKDAYS_JA[day.weekday()]}）"
