"""Limits on what people and programs may send: text lengths, characters, nesting, sizes.

One place for the numbers, so that the forms, the API and the operations refuse the same
things with the same words. The lengths are what the city's records need with room to spare:
the longest sample name is under 40 characters, and a description is a few paragraphs.
"""

import re

import numpy as np

from tracker.core.errors import BadInput
from tracker.core.translate import gettext as _

NAME_MAX = 200  # a project's name
DEPARTMENT_MAX = 100  # 担当課, e.g. 土木部 建設課 道路維持係
DESCRIPTION_MAX = 5000  # a project's description
LOGIN_MAX = 64  # a sign-in name; longer ones are refused before anything is looked up
DISPLAY_NAME_MAX = 100
# A JSON body (the API) outside photo uploads, which are multipart forms with their own limit.
JSON_BODY_MAX = 1024 * 1024
# A GeoJSON Feature of a MultiPolygon is 7 levels deep; nothing real comes near this.
NESTING_MAX = 32
# Vertices of one geometry: a road surveyed every metre for 10 km.
VERTICES_MAX = 10_000

# C0 controls other than tab and line breaks, and the two noncharacters XML and many
# programs choke on: refused in any text.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
# In a name (one line, shown in lists, maps and feeds) also line breaks, tabs and the
# bidirectional overrides that can make a name read backwards.
NAME_FORBIDDEN = re.compile("[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069\ufffe\uffff]")


def has_control_characters(text: str) -> bool:
    """Tell whether text holds characters no field may hold (see CONTROL)."""
    return CONTROL.search(text) is not None


def check_text(field: str, value: object, *, limit: int, required: bool = False) -> str:
    """Return multi-line text stripped, refusing non-text, control characters or excess length."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise BadInput(_("文字列で指定してください"), field=field)
    value = value.strip()
    if required and not value:
        raise BadInput(_("入力してください"), field=field)
    if CONTROL.search(value):
        raise BadInput(_("使えない制御文字が含まれています"), field=field)
    if len(value) > limit:
        raise BadInput(
            _("%(limit)d文字までです（%(length)d文字あります）", limit=limit, length=len(value)),
            field=field,
        )
    return value


def check_name(field: str, value: object, *, limit: int, required: bool = True) -> str:
    """Return a one-line name stripped, refusing line breaks, bidi overrides and excess length."""
    value = check_text(field, value, limit=limit, required=required)
    if NAME_FORBIDDEN.search(value):
        raise BadInput(_("改行・タブ・制御文字・文字の向きを変える記号は使えません"), field=field)
    return value


_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}()")


def nesting_depth(text: str | bytes) -> int:
    """Return how deeply brackets nest in JSON or WKT text, not counting those inside strings."""
    data = text.encode() if isinstance(text, str) else text
    # Strings may hold any bracket; take them out first. A broken string is left for the
    # parser to refuse.
    data = _STRING.sub(b"", data)
    brackets = np.frombuffer(data.translate(None, _NOT_BRACKETS), dtype=np.uint8)
    if brackets.size == 0:
        return 0
    steps = np.where(np.isin(brackets, (ord("["), ord("{"), ord("("))), 1, -1)
    return int(np.cumsum(steps).max())


def check_nesting(field: str, text: str | bytes) -> None:
    """Refuse JSON or WKT text nested deeper than NESTING_MAX."""
    if nesting_depth(text) > NESTING_MAX:
        raise BadInput(_("入れ子が深すぎます（%(limit)d段まで）", limit=NESTING_MAX), field=field)
