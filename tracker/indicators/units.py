"""The units of the indicators: how far each is rounded, and how it is named.

Values keep three decimals in the database (6.637 km); people read them rounded to what the
unit can honestly tell: km to 0.1, m and bridges to whole numbers, % to 0.1.
"""

from decimal import ROUND_HALF_UP, Decimal

from flask import Flask

from tracker.core.translate import gettext
from tracker.words.vocab import N_

# Decimals shown per unit; a unit not listed keeps one.
UNIT_DECIMALS = {"橋": 0, "km": 1, "m": 0, "%": 1}
# km, m and % read the same in every language; 橋 (bridges) does not.
UNIT_WORDS = {"橋": N_("橋")}


def rounded(value: Decimal | float | int, unit: str) -> Decimal:
    """Round a value as its unit is read (四捨五入): 6.637 km → 6.6, 227.5 m → 228."""
    places = Decimal(1).scaleb(-UNIT_DECIMALS.get(unit, 1))
    return Decimal(str(value)).quantize(places, rounding=ROUND_HALF_UP)


def amount_text(value: Decimal | float | None, unit: str) -> str:
    """Write a value rounded for its unit, with thousands separators: '426.9', '1,228'."""
    if value is None:
        return ""
    number = rounded(value, unit)
    if number == 0:
        number = abs(number)  # never "-0"
    return f"{number:,.{UNIT_DECIMALS.get(unit, 1)}f}"


def unit_label(unit: str) -> str:
    """Name a unit in the reader's language: 橋 → 'bridges' in English."""
    return gettext(UNIT_WORDS[unit]) if unit in UNIT_WORDS else unit


def quantity_text(value: Decimal | float | None, unit: str) -> str:
    """Write a value with its unit: '6.6 km', '18 橋', '47.3%'."""
    if value is None:
        return ""
    separator = "" if unit == "%" else " "
    return f"{amount_text(value, unit)}{separator}{unit_label(unit)}"


def init_app(app: Flask) -> None:
    """Let templates round and name indicator values."""
    app.add_template_filter(amount_text, "indicator_amount")
    app.add_template_filter(quantity_text, "quantity")
    app.add_template_global(unit_label)
