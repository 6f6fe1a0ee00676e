"""The fields of a work's kind on the office form: one group of inputs per kind, the chosen
kind's shown, the values read back for the chosen kind only and checked by the same code as
the phone's form (words.details.check_details, in the operations)."""

from typing import Any

from flask import request

from tracker.core.translate import gettext as _
from tracker.words.vocab import KIND_DETAILS


def input_name(kind: str, name: str) -> str:
    """Return the form input's name of a kind's field (kinds share field names)."""
    return f"detail-{kind}-{name}"


def sent_details(kind: str | None) -> dict[str, str]:
    """Return the chosen kind's fields as the form sent them (checked by the operations)."""
    kind = kind or ""
    return {
        name: request.form.get(input_name(kind, name), "")
        for name, _label, _type, _choices in KIND_DETAILS.get(kind, ())
    }


def _shown(value: Any) -> str:
    if value is None:
        return ""
    return f"{value:g}" if isinstance(value, float) else str(value)


def detail_fields(kind: str, stored: dict[str, Any], *, sent: bool) -> list[dict[str, Any]]:
    """Return each kind's inputs for the form: the values sent (after a refusal) or stored,
    and whether the group is the chosen kind's."""
    groups = []
    for group_kind, fields in KIND_DETAILS.items():
        inputs = []
        for name, label, type_, choices in fields:
            if sent:
                value = request.form.get(input_name(group_kind, name), "")
            else:
                value = _shown(stored.get(name)) if group_kind == kind else ""
            inputs.append(
                {
                    "id": input_name(group_kind, name),
                    "label": _(label),
                    "type": type_,
                    "choices": [(code, _(word)) for code, word in choices],
                    "value": value,
                }
            )
        groups.append({"kind": group_kind, "chosen": group_kind == kind, "inputs": inputs})
    return groups
