"""Which column of a file holds which field: Japanese or English headers, and export names."""

import re
import unicodedata

from tracker.core.translate import gettext
from tracker.words.vocab import N_, field_label

# Each field the import reads, with the headers that name it. The first header is the one
# the template and the exports write; the Shapefile export writes SHAPEFILE_NAMES (at most 10
# characters, as .dbf allows). A new project field is added here, in EXPORT_COLUMNS (or
# REGISTER_COLUMNS) and SHAPEFILE_NAMES, and to the NewProject the import builds
# (tracker/imports/operations.py); updates pass on every field update_project knows.
FIELDS = {
    "id": ("ID", "id", "事業ID"),
    "external_id": ("事業番号", "external_id", "ext_id", "管理番号"),
    "name": ("事業名", "name", "名称", "工事名"),
    "kind": ("種別", "kind", "事業種別"),
    "status": ("状況", "status", "進捗状況"),
    "progress": ("進捗（%）", "progress", "進捗率", "進捗", "進捗率（%）"),
    "department": ("担当課", "department", "dept", "所管課"),
    "planned_start": ("予定開始", "planned_start", "plan_start", "計画開始"),
    "planned_end": ("予定終了", "planned_end", "plan_end", "計画終了"),
    "actual_start": ("実績開始", "actual_start", "act_start", "着手日"),
    "actual_end": ("実績終了", "actual_end", "act_end", "完了日"),
    "public": ("公開", "public"),
    "description": ("説明", "description", "descr", "概要"),
    "plan_items": ("計画項目", "plan_items"),
    "indicators": ("成果指標", "indicators", "indicator"),
    "note": ("更新メモ", "note", "メモ"),
    "lat": ("緯度", "lat", "latitude"),
    "lon": ("経度", "lon", "lng", "longitude"),
    "wkt": ("形状（WKT）", "wkt", "形状", "geometry"),
    "facility_id": ("施設ID", "facility_id", "facility"),
    # The works register: amounts in whole yen.
    "planned_cost": ("事業費（円）", "planned_cost", "plan_cost", "事業費", "予定事業費"),
    "contract_amount": ("契約額（円）", "contract_amount", "contract", "契約額", "契約金額"),
    "contractor": ("施工業者", "contractor", "請負業者", "受注者", "契約相手"),
    "spent_amount": ("執行額（円）", "spent_amount", "spent", "執行額", "支出済額"),
    "funding": ("財源", "funding", "財源区分"),
    "responsible_section": ("担当係", "responsible_section", "section"),
    # Written by the exports for people, not read back.
    "ignore": (
        "延長（m）",
        "length_m",
        "サンプル",
        "sample",
        "計画項目（名称）",
        "成果指標（名称）",
        "plan_items_names",
        "indicators_names",
        "種別ごとの項目",
        "details",
        "position_only",
    ),
}
# Labels of the columns that are not project fields (those are named by tracker.words.vocab).
COLUMN_LABELS = {
    "id": N_("ID（この台帳の番号）"),
    "external_id": N_("事業番号"),
    "note": N_("更新メモ"),
    "lat": N_("緯度"),
    "lon": N_("経度"),
    "wkt": N_("形状（WKT）"),
    "facility_id": N_("施設ID（工事を行う指定避難所）"),
    "ignore": N_("（読まない）"),
}

SHAPEFILE_NAMES = {
    "id": "id",
    "external_id": "ext_id",
    "name": "name",
    "kind": "kind",
    "status": "status",
    "progress": "progress",
    "department": "dept",
    "planned_start": "plan_start",
    "planned_end": "plan_end",
    "actual_start": "act_start",
    "actual_end": "act_end",
    "public": "public",
    "description": "descr",
    "plan_items": "plan_items",
    "indicators": "indicator",
    "length_m": "length_m",
    "sample": "sample",
    "facility_id": "facility",
    "planned_cost": "plan_cost",
    "contract_amount": "contract",
    "contractor": "contractor",
    "spent_amount": "spent",
    "funding": "funding",
    "responsible_section": "section",
}
assert all(len(name) <= 10 for name in SHAPEFILE_NAMES.values())


def header_key(header: str) -> str:
    """Return a header as compared: NFKC, lower case, without spaces or brackets' forms."""
    text = unicodedata.normalize("NFKC", str(header)).strip().lower()
    return re.sub(r"[\s_\-]+", "_", text).replace("(", "（").replace(")", "）")


_KNOWN = {header_key(h): f for f, headers in FIELDS.items() for h in headers}


def recognise(headers: list[str], chosen: dict[str, str] | None = None) -> dict[int, str]:
    """Map each column index to a field; `chosen` maps a header to a field a person picked.

    An unrecognised column maps to "" (shown on the page to be picked); a field named by two
    columns is refused, so that no value is silently taken from the wrong one.
    """
    chosen = chosen or {}
    mapping: dict[int, str] = {}
    for index, header in enumerate(headers):
        field = chosen.get(header)
        if field is None:
            field = _KNOWN.get(header_key(header), "")
        mapping[index] = field if field in FIELDS else ""
    return mapping


def duplicated_fields(mapping: dict[int, str]) -> list[str]:
    """Return the fields (other than ignored ones) that more than one column names."""
    seen: dict[str, int] = {}
    for field in mapping.values():
        if field and field != "ignore":
            seen[field] = seen.get(field, 0) + 1
    return [f for f, n in seen.items() if n > 1]


def column_label(field: str) -> str:
    """Name an import field in the reader's language."""
    if field in COLUMN_LABELS:
        return gettext(COLUMN_LABELS[field])
    return field_label(field)
