"""The fields of a work's kind (vocab.KIND_DETAILS): checked and said the same way everywhere.

The phone's new-work form, the office edit form and the API check them with check_details;
the pages, the API and the exports say them with kind_facts and details_text.
"""

import json
from typing import Any

from tracker.core.errors import BadInput
from tracker.core.translate import gettext as _
from tracker.words.vocab import KIND_DETAILS

DETAIL_TEXT_MAX = 200
# Between two facts in one cell of an export.
FACT_SEPARATOR = "／"


def detail_names(kind: str) -> list[str]:
    """Return the names of the fields a kind of work asks for, in the form's order."""
    return [name for name, _label, _type, _choices in KIND_DETAILS.get(kind, ())]


def check_details(kind: str, sent: Any) -> dict[str, Any]:
    """Return the kind's own fields (KIND_DETAILS) as sent, checked; empty ones are left out.

    `sent` is a mapping or its JSON text; a field the kind does not have is refused.
    """
    if sent in (None, ""):
        return {}
    try:
        values = json.loads(sent) if isinstance(sent, str) else sent
    except ValueError:
        values = None
    if not isinstance(values, dict):
        raise BadInput(_("種別ごとの項目を読み取れませんでした"), field="details")
    fields = {
        name: (label, kind_of, choices)
        for name, label, kind_of, choices in KIND_DETAILS.get(kind, ())
    }
    checked: dict[str, Any] = {}
    for name, value in values.items():
        if name not in fields:
            raise BadInput(
                _("この種別にない項目です: %(name)s", name=name),
                field="details",
                code="unknown_value",
            )
        label, kind_of, choices = fields[name]
        text = "" if value is None else str(value).strip()
        if not text:
            continue
        if kind_of == "number":
            try:
                number = float(text)
            except ValueError:
                number = -1.0
            if not 0 <= number < 1e7:
                raise BadInput(
                    _("%(label)s は0以上の数で入れてください", label=_(label)), field="details"
                )
            checked[name] = number
        elif kind_of == "choice":
            if text not in dict(choices):
                raise BadInput(_("%(label)s を選んでください", label=_(label)), field="details")
            checked[name] = text
        else:
            checked[name] = text[:DETAIL_TEXT_MAX]
    return checked


def kind_facts(kind: str, details: dict[str, Any] | None) -> list[tuple[str, str]]:
    """Return a work's own fields of its kind as (label, value) in the reader's language,
    in the form's order, those set only."""
    facts = []
    for name, label, type_, choices in KIND_DETAILS.get(kind, ()):
        value = (details or {}).get(name)
        if value in (None, ""):
            continue
        if type_ == "choice":
            value = _(dict(choices).get(value, str(value)))
        elif type_ == "number" and isinstance(value, int | float):
            value = f"{value:g}"
        facts.append((_(label), str(value)))
    return facts


def details_text(kind: str, details: dict[str, Any] | None) -> str:
    """Say a work's own fields in one line: '橋梁番号：B-12／橋長（m）：35'."""
    return FACT_SEPARATOR.join(
        _("%(label)s：%(text)s", label=label, text=value)
        for label, value in kind_facts(kind, details)
    )
