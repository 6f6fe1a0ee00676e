"""Say in Japanese what became of a row and why one was refused."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from tracker.editing.forms import geometry_refusal_text
from tracker.errors import BadInput
from tracker.geometry import GeometryRefused
from tracker.imports.columns import field_label

OUTCOME_LABELS = {
    "created": _l("追加"),
    "updated": _l("更新"),
    "unchanged": _l("変更なし"),
    "refused": _l("取込不可"),
}


def reason_text(error: BadInput | None) -> str:
    """Say why a row was refused, naming the field as people know it."""
    if error is None:
        return ""
    if isinstance(error, GeometryRefused) and error.reason != "parse":
        return _("位置・形状：%(text)s", text=geometry_refusal_text(error))
    field, _sep, text = str(error).partition(": ")
    if text and field.replace("_", "").isalpha() and field.isascii():
        label = _("位置・形状") if field == "geometry" else field_label(field)
        return _("%(label)s：%(text)s", label=label, text=text)
    return str(error)


def outcome_label(outcome: str) -> str:
    """Name a row's outcome in the reader's language."""
    return str(OUTCOME_LABELS.get(outcome, outcome))
