"""Japanese date conventions: JST times, fiscal years (4/1–3/31) and their era names (平成, 令和)."""

import re
from datetime import date, datetime

from flask import Flask
from flask_babel import get_locale

from tracker.core.clock import JST
from tracker.core.errors import BadInput
from tracker.core.translate import gettext as _

# Eras by the first fiscal year named in them, newest first.
ERAS = (("令和", 2019), ("平成", 1989))
ERA_NAMES_EN = {"令和": "Reiwa", "平成": "Heisei"}
ERA_LETTERS = {"令和": "R", "平成": "H"}
# Dates people may enter: wide enough for any work, narrow enough to catch typos like 20255.
YEAR_RANGE = range(2000, 2101)


def parse_day(raw: object, field: str) -> date | None:
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
            _(
                "2000〜2100年の実在する日付を YYYY-MM-DD の形で入れてください（%(value)s）",
                value=raw[:20],
            ),
            field=field,
        )
    return day


def fiscal_year(day: date) -> int:
    """Return the Japanese fiscal year (named by its April's year) that contains the day."""
    return day.year if day.month >= 4 else day.year - 1


def era_year(year: int) -> tuple[str, int] | None:
    """Return the era and its year number of a fiscal year: 2016 → ('平成', 28), 2019 → ('令和', 1).

    A fiscal year is named in the era its March falls in: fiscal 2019 (April 2019 – March
    2020) is 令和元年度, though April 2019 was still 平成31年.
    """
    for era, first in ERAS:
        if year >= first:
            return era, year - first + 1
    return None


def japanese_fiscal_year(year: int) -> str:
    """Name a western fiscal year in Japanese: 2016 → '平成28年度'; 2019 → '令和元年度'."""
    era = era_year(year)
    if era is None:
        return f"{year}年度"
    name, n = era
    return f"{name}{'元' if n == 1 else n}年度"


def _japanese(lang: str | None = None) -> bool:
    """Tell whether `lang`, or else the reader's language, is Japanese (if not, English)."""
    return (lang or str(get_locale() or "ja")) == "ja"


def fiscal_year_name(year: int, lang: str | None = None) -> str:
    """Name a fiscal year in the reader's language (or `lang`): '令和2年度', or 'FY2020'."""
    return japanese_fiscal_year(year) if _japanese(lang) else f"FY{year}"


def fiscal_year_label(year: int, lang: str | None = None) -> str:
    """Name a fiscal year with its other reading beside it: '平成28年度（2016年度）', or
    'FY2016 (Heisei 28)'."""
    if _japanese(lang):
        return f"{japanese_fiscal_year(year)}（{year}年度）"
    era = era_year(year)
    return f"FY{year} ({ERA_NAMES_EN[era[0]]} {era[1]})" if era else f"FY{year}"


def era_abbreviation(year: int) -> str:
    """Abbreviate a fiscal year's era and number as Japanese charts do: 'R2', 'H28'."""
    era = era_year(year)
    return f"{ERA_LETTERS[era[0]]}{era[1]}" if era else str(year)


def jst(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Format an aware datetime in Japan time."""
    return "" if value is None else value.astimezone(JST).strftime(fmt)


def amount(value: object) -> str:
    """Format a decimal amount without trailing zeros, with thousands separators."""
    if value is None:
        return ""
    text = f"{value:,.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


OKU = 100_000_000  # 億
MAN = 10_000  # 万


def yen(value: int | None) -> str:
    """Write an amount of yen exactly, with thousands separators: '48,510,000円'."""
    if value is None:
        return "—"
    return f"¥{value:,}" if not _japanese() else _("%(amount)s円", amount=f"{value:,}")


def yen_short(value: int | None) -> str:
    """Write an amount of yen as people read large sums: '4,851万円', '12.35億円'."""
    if value is None:
        return "—"
    if not _japanese():
        if value >= 1_000_000_000:
            return f"¥{value / 1_000_000_000:.2f}".rstrip("0").rstrip(".") + " billion"
        if value >= 1_000_000:
            return f"¥{value / 1_000_000:.1f}".rstrip("0").rstrip(".") + " million"
        return f"¥{value:,}"
    if value >= OKU:
        return f"{value / OKU:,.2f}".rstrip("0").rstrip(".") + "億円"
    if value >= MAN:
        return f"{round(value / MAN):,}万円"
    return f"{value:,}円"


MONTHS_EN = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def day_label(day: date | None, locale: str) -> str:
    """Name a day: '2026年11月1日' or '1 November 2026'."""
    if day is None:
        return ""
    if locale == "en":
        return f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}"
    return f"{day.year}年{day.month}月{day.day}日"


def period_label(starts_on: str, ends_on: str | None, locale: str) -> str:
    """Say a restriction's dates: '2026年11月1日〜2026年12月20日' or '… から当面の間'."""
    start = day_label(date.fromisoformat(starts_on), locale)
    if not ends_on:
        return _("%(start)sから当面の間", start=start)
    return _("%(start)s〜%(end)s", start=start, end=day_label(date.fromisoformat(ends_on), locale))


def init_app(app: Flask) -> None:
    """Make the formatters available to templates."""
    app.add_template_filter(jst, "jst")
    app.add_template_filter(fiscal_year_name, "fiscal_year_name")
    app.add_template_filter(fiscal_year_label, "fiscal_year_label")
    app.add_template_filter(amount, "amount")
    app.add_template_filter(yen, "yen")
    app.add_template_filter(yen_short, "yen_short")
    app.add_template_global(fiscal_year, "fiscal_year")
