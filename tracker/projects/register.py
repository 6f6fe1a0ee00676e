"""What a works register holds for each project: planned cost, contract and contractor,
spending to date, funding source and the responsible section.

Their names, their checks and who may read them are stated here once; the API, the forms,
the exports and any import read them from here.
"""

import re
import unicodedata
from typing import Any

from tracker.core.errors import BadInput
from tracker.core.limits import check_name
from tracker.core.translate import gettext as _
from tracker.words.vocab import FUNDING_SOURCES

# By the names the API, the audit trail, the forms and the exports share.
REGISTER_FIELDS = (
    "planned_cost",  # 事業費
    "contract_amount",  # 契約額
    "contractor",  # 施工業者
    "spent_amount",  # 執行額
    "funding",  # 財源
    "responsible_section",  # 担当係
)
AMOUNT_FIELDS = ("planned_cost", "contract_amount", "spent_amount")
TEXT_FIELDS = ("contractor", "responsible_section")
# What anyone may read of a public project: its cost and who builds it, as municipalities
# publish contract results. Spending, funding and the section are for staff and viewers.
PUBLIC_REGISTER_FIELDS = ("planned_cost", "contract_amount", "contractor")
# Beyond any work of a city (1兆円): a number this large is a slip of the keyboard.
MAX_AMOUNT = 10**12
TEXT_MAX = 200


def parse_amount(value: Any, field: str) -> int | None:
    """Read an amount of yen: a whole number from 0, as a number or as text such as
    '48,510,000', '４８５１００００' or '48,510,000円'; empty means none."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise BadInput(_("金額は円単位の整数で入れてください"), field=field)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        if not text:
            return None
        text = re.sub(r"[,\s]", "", text).removesuffix("円")
        if text.startswith("-") and text[1:].isdigit():
            raise BadInput(
                _("金額にマイナスは使えません（%(value)s）", value=value[:20]), field=field
            )
        if not text.isdigit():
            raise BadInput(
                _("金額は円単位の整数で入れてください（%(value)s）", value=value[:20]), field=field
            )
        number = int(text)
    else:
        raise BadInput(_("金額は円単位の整数で入れてください"), field=field)
    if number < 0:
        raise BadInput(_("金額にマイナスは使えません（%(value)s）", value=number), field=field)
    if number > MAX_AMOUNT:
        raise BadInput(_("金額が大きすぎます（1兆円まで）"), field=field)
    return number


def check_register(values: dict[str, Any]) -> dict[str, Any]:
    """Return the register fields present in `values`, checked; refuse the first wrong one."""
    checked: dict[str, Any] = {}
    for field in AMOUNT_FIELDS:
        if field in values:
            checked[field] = parse_amount(values[field], field)
    for field in TEXT_FIELDS:
        if field in values:
            # One line, as names are: no line breaks, control characters or bidi overrides.
            checked[field] = (
                check_name(field, values[field], limit=TEXT_MAX, required=False) or None
            )
    if "funding" in values:
        funding = values["funding"] or None
        # Any value may come (a list, from a JSON body): only a listed code is a funding.
        if funding is not None and not (isinstance(funding, str) and funding in FUNDING_SOURCES):
            raise BadInput(
                _("財源は一覧から選んでください（%(codes)s）", codes=", ".join(FUNDING_SOURCES)),
                field="funding",
            )
        checked["funding"] = funding
    return checked


def visible_register_fields(*, internal: bool) -> tuple[str, ...]:
    """Return the register fields a reader may see: all for staff and viewers, else the public."""
    return REGISTER_FIELDS if internal else PUBLIC_REGISTER_FIELDS
