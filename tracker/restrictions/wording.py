"""How a restriction's days and hours read: 「平日 8:30〜17:00」, 「終日」."""

from datetime import time

from flask_babel import gettext as _

from tracker.words.vocab import restriction_days_label


def _clock(value: str | time) -> str:
    text = value.strftime("%H:%M") if isinstance(value, time) else value
    hours, minutes = text.split(":")
    return f"{int(hours)}:{minutes}"


def hours_label(days: str, time_from: str | time | None, time_until: str | time | None) -> str:
    """Say when in the day a restriction holds: '平日 8:30〜17:00', '終日', '土日祝 終日'."""
    if time_from is None or time_until is None:
        span = _("終日")
        if days == "every_day":
            return span
    else:
        start, end = _clock(time_from), _clock(time_until)
        # 20:00〜翌6:00: a night restriction runs past midnight.
        overnight = _clock(time_until).zfill(5) <= _clock(time_from).zfill(5)
        span = (
            _("%(start)s〜翌%(end)s", start=start, end=end)
            if overnight
            else _("%(start)s〜%(end)s", start=start, end=end)
        )
    return f"{restriction_days_label(days)} {span}"
