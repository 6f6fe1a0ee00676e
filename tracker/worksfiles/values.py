"""Read one cell as a project field: kinds and statuses by label, 令和/平成 dates, yes/no."""

import re
import unicodedata
from datetime import date, datetime

from tracker.core.errors import BadInput
from tracker.core.translate import gettext as _
from tracker.words.formatting import YEAR_RANGE
from tracker.words.vocab import FUNDING_SOURCES, KIND_SYNONYMS, KINDS, STATUS_SYNONYMS, STATUSES

# First western year of each era, by the names and initials people write.
ERAS = {"令和": 2018, "r": 2018, "平成": 1988, "h": 1988}
ERA_DATE = re.compile(
    r"(令和|平成|r|h)\s*(元|\d{1,2})\s*[年./\-]\s*(\d{1,2})\s*[月./\-]\s*(\d{1,2})\s*日?"
)
WESTERN_DATE = re.compile(r"(\d{4})\s*[年./\-]\s*(\d{1,2})\s*[月./\-]\s*(\d{1,2})\s*日?")
TRUE_WORDS = {"公開", "true", "1", "yes", "はい", "○", "する"}
FALSE_WORDS = {"職員のみ", "非公開", "false", "0", "no", "いいえ", "×", "しない"}
LIST_SEPARATORS = re.compile(r"[\s,、，;；]+")


def text(value: object) -> str:
    """Return a cell as trimmed text (numbers without a trailing .0)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


# A cell starting with one of these is a formula to a spreadsheet: the exports put a ' before
# it, and reading takes that off.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def unquoted(value: str) -> str:
    """Return text without the ' an export put before a would-be formula."""
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_START) else value


def _norm(value: object) -> str:
    return unicodedata.normalize("NFKC", text(value)).strip()


def parse_date(value: object, field: str) -> date | None:
    """Read a date: a spreadsheet date, 2024-04-01, 2024/4/1, R6.4.1, 令和6年4月1日, H31.4.30."""
    if isinstance(value, datetime):
        day = value.date()
    elif isinstance(value, date):
        day = value
    else:
        raw = _norm(value)
        if not raw:
            return None
        day = _read_date_text(raw.lower(), field, raw)
    if day.year not in YEAR_RANGE:
        raise BadInput(
            _("2000〜2100年の日付にしてください（%(day)s）", day=day.isoformat()), field=field
        )
    return day


def _read_date_text(raw: str, field: str, shown: str) -> date:
    try:
        if match := ERA_DATE.fullmatch(raw):
            era, year, month, day = match.groups()
            year = 1 if year == "元" else int(year)
            return date(ERAS[era] + year, int(month), int(day))
        if match := WESTERN_DATE.fullmatch(raw):
            return date(*(int(part) for part in match.groups()))
    except ValueError:
        raise BadInput(_("実在しない日付です（%(text)s）", text=shown[:20]), field=field) from None
    raise BadInput(
        _(
            "日付として読めません（%(text)s）。2024-04-01、R6.4.1、令和6年4月1日 の形で",
            text=shown[:20],
        ),
        field=field,
    )


def word_key(value: object) -> str:
    """Return a word as kinds and statuses are compared: NFKC, no case, no spaces or hyphens."""
    return re.sub(r"[\s_\-]+", "", _norm(value).casefold())


def _by_label(value: object, field: str, words: dict[str, str]) -> str:
    raw = _norm(value)
    if raw in words:
        return raw
    code = _CODES_BY_WORD[field].get(word_key(raw))
    if code is None:
        raise BadInput(
            _(
                "「%(text)s」は使えません（%(words)s）",
                text=raw[:20],
                words=_("、").join(_(label) for label in words.values()),
            ),
            field=field,
        )
    return code


def _codes_by_word(words: dict[str, str], synonyms: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Index the codes by every word for them: the code, its label and its synonyms."""
    found: dict[str, str] = {}
    for code, label in words.items():
        for word in (code, label, *synonyms.get(code, ())):
            found[word_key(word)] = code
    return found


# Labels as cells are compared: NFKC turns （国庫負担） into (国庫負担).
_CODES_BY_WORD = {
    "kind": _codes_by_word(KINDS, KIND_SYNONYMS),
    "status": _codes_by_word(STATUSES, STATUS_SYNONYMS),
    "funding": _codes_by_word(FUNDING_SOURCES, {}),
}


def parse_kind(value: object) -> str:
    """Read a kind by its code (bridge), its label (橋梁) or another word for it (橋りょう)."""
    return _by_label(value, "kind", KINDS)


def parse_status(value: object) -> str:
    """Read a status by its code (construction), its label (工事中) or another word (施工中)."""
    return _by_label(value, "status", STATUSES)


def parse_funding(value: object) -> str | None:
    """Read a funding source by its code (city_own) or its Japanese label (市単独); empty is none."""
    if _norm(value) == "":
        return None
    return _by_label(value, "funding", FUNDING_SOURCES)


def parse_progress(value: object) -> int:
    """Read progress in percent: 50, 50.0, '50%'."""
    raw = _norm(value).removesuffix("%")
    try:
        number = float(raw)
    except ValueError:
        raise BadInput(
            _("0〜100 の数で書いてください（%(text)s）", text=raw[:20]), field="progress"
        ) from None
    if not number.is_integer() or not 0 <= number <= 100:
        raise BadInput(
            _("0〜100 の整数で書いてください（%(text)s）", text=raw[:20]), field="progress"
        )
    return int(number)


def parse_public(value: object) -> bool:
    """Read 公開 / 職員のみ (or yes/no, 1/0, true/false)."""
    if isinstance(value, bool):
        return value
    raw = _norm(value).lower()
    if raw in TRUE_WORDS:
        return True
    if raw in FALSE_WORDS:
        return False
    raise BadInput(_("「%(text)s」は読めません（公開 か 職員のみ）", text=raw[:20]), field="public")


def parse_codes(value: object) -> list[str]:
    """Read a list of codes separated by spaces, commas or 、 (or a list, from GeoJSON)."""
    if isinstance(value, list | tuple):
        return [code for item in value for code in parse_codes(item)]
    return [code for code in LIST_SEPARATORS.split(_norm(value)) if code]


def parse_number(value: object, field: str) -> float:
    """Read a coordinate or other number."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raw = _norm(value)
    try:
        return float(raw)
    except ValueError:
        raise BadInput(_("数として読めません（%(text)s）", text=raw[:20]), field=field) from None
