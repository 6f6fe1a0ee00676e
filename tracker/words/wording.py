"""What a result means for a resident, in plain words and Japanese date conventions."""

from datetime import date

from tracker.core.translate import gettext as _

# The day and period labels are shared with the other pages that name dates.
from tracker.words.formatting import (  # noqa: F401  (period_label: near.html reads it here)
    MONTHS_EN,
    day_label,
    fiscal_year,
    fiscal_year_label,
    japanese_fiscal_year,
    period_label,
)


def distance_label(metres: float) -> str:
    """Say a distance as people do: '350 m' below a kilometre, '1.2 km' above."""
    # Ten metres is as close as a map pin and a phone's location can tell. Rounded first, so
    # that 996 m reads "1 km", never "1000 m".
    metres = max(10, round(metres / 10) * 10)
    if metres < 1000:
        return f"{metres} m"
    km = f"{metres / 1000:.1f}".removesuffix(".0")
    return f"{km} km"


def month_label(day: date, locale: str) -> str:
    """Name the month of a day: '2027年3月' or 'March 2027'."""
    if locale == "en":
        return f"{MONTHS_EN[day.month - 1]} {day.year}"
    return f"{day.year}年{day.month}月"


def fiscal_label(day: date, locale: str) -> str:
    """Name the fiscal year (April to March) of a day: '令和8年度', or 'FY2026 (Reiwa 8)'."""
    year = fiscal_year(day)
    return japanese_fiscal_year(year) if locale != "en" else fiscal_year_label(year, locale)


def completion_label(props: dict, locale: str, today: date | None = None) -> str:
    """Say when the work ended or is expected to end: month and fiscal year."""
    if props["status"] == "completed":
        if not props.get("actual_end"):
            return _("完了")
        day = date.fromisoformat(props["actual_end"])
        return _(
            "%(month)s（%(fiscal)s）に完了",
            month=month_label(day, locale),
            fiscal=fiscal_label(day, locale),
        )
    if props.get("planned_end"):
        day = date.fromisoformat(props["planned_end"])
        if props["status"] == "suspended":
            return _("未定（当初の予定は%(month)s）", month=month_label(day, locale))
        label = _(
            "%(month)s（%(fiscal)s）完了予定",
            month=month_label(day, locale),
            fiscal=fiscal_label(day, locale),
        )
        if today is not None and day < today:
            label += _("（予定を過ぎています）")
        return label
    return _("未定")
