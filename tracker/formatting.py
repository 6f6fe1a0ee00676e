"""Japanese date conventions: JST times, fiscal years (4/1–3/31) and 令和 era names."""

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Flask
from flask_babel import gettext as _

from tracker.errors import BadInput

JST = ZoneInfo("Asia/Tokyo")
REIWA_FIRST_YEAR = 2019
# Dates people may enter: wide enough for any work, narrow enough to catch typos like 20255.
YEAR_RANGE = range(2000, 2101)


def today_jst() -> date:
    """Return today's date in Japan."""
    return datetime.now(JST).date()


def parse_day(raw, field: str) -> date | None:
    """Read a YYYY-MM-DD date from 2000 to 2100 given for `field`; empty means none."""
    raw = "" if raw is None else str(raw).strip()
    if not raw:
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            raise ValueError(raw)
        day = date.fromisoformat(raw)
    except ValueError:
        day = None
    if day is None or day.year not in YEAR_RANGE:
        raise BadInput(
            f"{field}: "
            + _(
                "2000〜2100年の実在する日付を YYYY-MM-DD の形で入れてください（%(value)s）",
                value=raw[:20],
            )
        )
    return day


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


def amount(value) -> str:
    """Format a decimal amount without trailing zeros, with thousands separators."""
    if value is None:
        return ""
    text = f"{value:,.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def init_app(app: Flask) -> None:
    """Make the formatters available to templates."""
    app.add_template_filter(jst, "jst")
    app.add_template_filter(reiwa_label, "reiwa")
    app.add_template_filter(fiscal_year_label, "fiscal_year_label")
    app.add_template_filter(amount, "amount")
    app.add_template_global(fiscal_year, "fiscal_year")
