"""Say in Japanese what became of a row and why one was refused."""

from tracker.core.errors import BadInput
from tracker.core.translate import gettext
from tracker.geo.geometry import GeometryRefused
from tracker.words.vocab import N_
from tracker.worksfiles.columns import FIELDS, column_label

OUTCOME_LABELS = {
    "created": N_("追加"),
    "updated": N_("更新"),
    "unchanged": N_("変更なし"),
    "refused": N_("取込不可"),
}


def reason_text(error: BadInput | None) -> str:
    """Say why a row was refused, naming the field as people know it."""
    if error is None:
        return ""
    if isinstance(error, GeometryRefused) and error.reason != "parse":
        return gettext("位置・形状：%(text)s", text=error.text)
    field = error.field
    if field == "geometry":
        return gettext("%(label)s：%(text)s", label=gettext("位置・形状"), text=error.text)
    if field in FIELDS and field != "ignore":
        return gettext("%(label)s：%(text)s", label=column_label(field), text=error.text)
    # The file, its columns or the chosen CRS: the words say which, with no label before them.
    return error.text


def outcome_label(outcome: str) -> str:
    """Name a row's outcome in the reader's language."""
    return gettext(OUTCOME_LABELS[outcome]) if outcome in OUTCOME_LABELS else outcome
