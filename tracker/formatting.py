"""Japanese date conventions: JST times, fiscal years (4/1–3/31) and 令和 era names."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Flask

JST = ZoneInfo("Asia/Tokyo")
REIWA_FIRST_YEAR = 2019


def fiscal_year(day: date) -> int:
    """Return the Japanese fiscal year (named by its April's year) that contains the day."""
    return day.year if day.month >= 4 else day.year - 1


def reiwa_label(year: int) -> str:
    """Name a western fiscal year in 令和: 2020 → '令和2年度'; 2019 → '令和元年度'."""
    n = year - REIWA_FIRST_YEAR + 1
    if n < 1:
        return f"{year}年度"
    return f"令和{'元' if n == 1 else n}年度"


def fiscal_year_label(year: int) -> str:
    """Name a fiscal year with the western year beside it: '令和6年度（2024年度）'."""
    return f"{reiwa_label(year)}（{year}年度）"


def jst(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Format an aware datetime in Japan time."""
    return "" if value is None else value.astimezone(JST).strftime(fmt)


def init_app(app: Flask) -> None:
    """Make the formatters available to templates."""
    app.add_template_filter(jst, "jst")
    app.add_template_filter(reiwa_label, "reiwa")
    app.add_template_filter(fiscal_year_label, "fiscal_year_label")
    app.add_template_global(fiscal_year, "fiscal_year")
