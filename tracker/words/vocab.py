"""The tracker's words, each defined once: kinds, statuses, restriction kinds and project fields.

Codes are what the database and the API keep; the Japanese words beside them are the source
text of the translation catalogue, so a label is translated where it is shown and nowhere else.
"""

import re
from collections.abc import Iterable
from typing import Any

from flask import Flask

from tracker.core.translate import gettext, pgettext


def N_(text: str) -> str:
    """Mark text for the translation catalogue; it is translated where it is shown."""
    return text


KINDS = {
    "road": N_("道路"),
    "bridge": N_("橋梁"),
    "revetment": N_("河川護岸"),
    "sabo": N_("砂防・治山"),
    # A work on a shelter (a warehouse, a retrofit); the shelters themselves are facilities.
    "shelter": N_("避難所整備"),
    "pavement": N_("舗装更新"),
    "seismic": N_("耐震化"),
}

STATUSES = {
    "planned": N_("未着手"),
    "design": N_("設計中"),
    "construction": N_("工事中"),
    "completed": N_("完了"),
    "suspended": N_("中断"),
}

# Other words a works list uses for a kind or a status, read by the import beside the codes,
# the labels and the labels' English (compared without case, spaces or width differences).
# A word names one code only (checked by the tests).
KIND_SYNONYMS = {
    "road": ("道路改良", "道路工事", "道路新設", "市道", "road", "roads", "road works"),
    "bridge": ("橋", "橋りょう", "橋梁補修", "bridge", "bridges", "bridge repair"),
    "revetment": (
        "護岸",
        "河川",
        "河川改修",
        "河川護岸",
        "revetment",
        "river revetment",
        "river embankment",
    ),
    "sabo": ("砂防", "治山", "砂防・治山", "砂防治山", "砂防/治山", "sabo", "erosion control"),
    "shelter": ("避難所", "避難所整備", "shelter", "shelter works"),
    "pavement": ("舗装", "舗装補修", "舗装修繕", "pavement", "resurfacing", "road resurfacing"),
    "seismic": (
        "耐震",
        "耐震補強",
        "耐震改修",
        "seismic",
        "seismic retrofit",
        "earthquake-proofing",
    ),  # fmt: skip
}
STATUS_SYNONYMS = {
    "planned": ("未着手", "計画中", "着手前", "予定", "planned", "not started"),
    "design": ("設計", "設計中", "測量設計中", "design", "in design"),
    "construction": (
        "施工中",
        "工事中",
        "実施中",
        "着工",
        "in progress",
        "under construction",
        "construction",
    ),
    "completed": ("完成", "竣工", "完了", "済", "completed", "complete", "done", "finished"),
    "suspended": ("中断", "一時中止", "休止", "suspended", "on hold"),
}

# What a status means to a resident, said as a sentence.
STATUS_PLAIN = {
    "planned": N_("まだ始まっていません"),
    "design": N_("設計中です（工事はまだ始まっていません）"),
    "construction": N_("工事中です"),
    "completed": N_("完了しました"),
    "suspended": N_("中断しています"),
}

RESTRICTION_KINDS = {
    "closed": N_("通行止め"),
    "alternating": N_("片側交互通行"),
    "lane": N_("車線規制"),
    "pedestrian": N_("歩行者通行止め"),
    "heavy_vehicles": N_("大型車通行止め"),
    "detour": N_("迂回路"),
    "other": N_("通行規制"),
}

# Geometry types in words, for refusals and the audit trail.
SHAPES = {
    "Point": N_("点"),
    "MultiPoint": N_("複数の点"),
    "LineString": N_("線"),
    "MultiLineString": N_("複数の線"),
    "Polygon": N_("面"),
    "MultiPolygon": N_("複数の面"),
    "GeometryCollection": N_("種類の混ざった形"),
}

# Which days a restriction's daily hours hold on.
RESTRICTION_DAYS = {
    "every_day": N_("毎日"),
    "weekdays": N_("平日"),
    "weekends": N_("土日祝"),
}

# Where a work's money comes from.
FUNDING_SOURCES = {
    "disaster_recovery": N_("災害復旧事業（国庫負担）"),
    "social_capital_grant": N_("社会資本整備総合交付金"),
    "city_own": N_("市単独"),
    "other": N_("その他"),
}

# Labels of a restriction's fields, by the names its forms and history share.
RESTRICTION_FIELD_LABELS = {
    "kind": N_("種類"),
    "starts_on": N_("開始日"),
    "ends_on": N_("終了予定日"),
    "days": N_("規制する日"),
    "time_from": N_("時間帯（から）"),
    "time_until": N_("時間帯（まで）"),
    "description": N_("説明"),
    "reason": N_("理由"),
    "contact": N_("問い合わせ先"),
    "section": N_("規制区間"),
    "detour": N_("迂回路"),
    "ended_at": N_("解除"),
}

# What a facility is designated as (GSI 指定緊急避難場所・指定避難所データ).
FACILITY_DESIGNATIONS = {
    "shelter": N_("指定避難所"),
    "emergency_site": N_("指定緊急避難場所"),
}

# The hazards a designated site accepts people for, as the GSI data names them (the hazard
# zones' own codes are in tracker.hazards.codes).
FACILITY_HAZARDS = {
    "flood": N_("洪水"),
    "landslide": N_("崖崩れ・土石流・地滑り"),
    "storm_surge": N_("高潮"),
    "earthquake": N_("地震"),
    "tsunami": N_("津波"),
    "fire": N_("大規模な火事"),
    "inland_flood": N_("内水氾濫"),
    "volcano": N_("火山現象"),
}

# Roads, pavement renewals and revetments are measured along their length.
LINE_KINDS = frozenset({"road", "pavement", "revetment"})

# The fields each kind of work asks for on the forms, stored in the work's `details`:
# kind → (field, label, type, choices). Types: "text", "number" (≥ 0, metres or as labelled),
# "choice" (one of the choices' codes). The one table the forms and the checks read.
KIND_DETAILS: dict[str, tuple[tuple[str, str, str, tuple[tuple[str, str], ...]], ...]] = {
    "road": (
        ("route_name", N_("路線名"), "text", ()),
        ("length_m", N_("延長（m）"), "number", ()),
    ),
    "bridge": (
        ("bridge_number", N_("橋梁番号"), "text", ()),
        ("span_m", N_("橋長（m）"), "number", ()),
    ),
    "revetment": (
        ("length_m", N_("延長（m）"), "number", ()),
        ("bank", N_("左岸・右岸"), "choice", (("left", N_("左岸")), ("right", N_("右岸")))),
    ),
    "sabo": (("facility_type", N_("施設の種類（堰堤・谷止工など）"), "text", ()),),
    "pavement": (
        ("route_name", N_("路線名"), "text", ()),
        ("area_m2", N_("面積（㎡）"), "number", ()),
    ),
    "shelter": (("facility_name", N_("施設名"), "text", ()),),
    "seismic": (("building_name", N_("建物名"), "text", ()),),
}

DATE_FIELDS = ("planned_start", "planned_end", "actual_start", "actual_end")

# Labels of project fields, by the names the API, the audit trail and the forms share.
FIELD_LABELS = {
    "name": N_("事業名"),
    "kind": N_("種別"),
    "status": N_("状況"),
    "progress": N_("進捗"),
    "planned_start": N_("予定開始日"),
    "planned_end": N_("予定終了日"),
    "actual_start": N_("実績開始日"),
    "actual_end": N_("実績終了日"),
    "department": N_("担当課"),
    "public": N_("公開"),
    "description": N_("説明"),
    "geometry": N_("位置・形状"),
    "plan_items": N_("計画項目"),
    "indicators": N_("成果指標"),
    "facility_id": N_("施設（指定避難所）"),
    "planned_cost": N_("事業費"),
    "contract_amount": N_("契約額"),
    "contractor": N_("施工業者"),
    "spent_amount": N_("執行額"),
    "funding": N_("財源"),
    "responsible_section": N_("担当係"),
    "details": N_("種別ごとの項目"),
    # Audited when a work is withdrawn or restored; not a field an edit changes.
    "withdrawn_reason": N_("取り下げの理由"),
}


# Query parameters and other inputs that are not project fields, for messages that name them.
INPUT_LABELS = {
    "as_of": N_("時点"),
    "since": N_("開始日"),
    "until": N_("終了日"),
    "fiscal_year": N_("年度"),
    "plan_item": N_("計画項目"),
    "indicator": N_("成果指標"),
    "bbox": N_("表示範囲"),
    "size": N_("用紙の大きさ"),
    "q": N_("検索語"),
    "lat": N_("緯度"),
    "lon": N_("経度"),
    "lat/lon": N_("地点"),
    "radius": N_("範囲"),
    "limit": N_("件数"),
    "place": N_("場所"),
    "value": N_("値"),
    "source": N_("出典"),
    "note": N_("メモ"),
    "photos": N_("写真"),
    "position": N_("位置"),
    "client_id": N_("送信ID"),
    "starts_on": N_("開始日"),
    "ends_on": N_("終了予定日"),
    "body": N_("送信内容"),
    "type": N_("種類"),
    "properties": N_("属性"),
    "login": N_("ログイン名"),
    "password": N_("パスワード"),
    "project": N_("事業"),
}


def _label(words: dict[str, str], code: str) -> str:
    return gettext(words[code]) if code in words else code


def kind_label(kind: str) -> str:
    """Name a kind in the reader's language (unknown codes as they are)."""
    return _label(KINDS, kind)


def status_label(status: str) -> str:
    """Name a status in the reader's language (unknown codes as they are)."""
    return _label(STATUSES, status)


def kind_glyph(kind: str) -> str:
    """Return the one or two characters a map pin of this kind shows, in the reader's language."""
    # pgettext: 橋 on a pin is not 橋 the unit of a count; each is translated on its own.
    glyphs = {
        "road": pgettext("map pin", "道"),
        "bridge": pgettext("map pin", "橋"),
        "revetment": pgettext("map pin", "護"),
        "sabo": pgettext("map pin", "砂"),
        "shelter": pgettext("map pin", "避"),
        "pavement": pgettext("map pin", "舗"),
        "seismic": pgettext("map pin", "耐"),
    }
    return glyphs.get(kind) or pgettext("map pin", "他")


def status_plain(status: str) -> str:
    """Say what a status means to a resident, in the reader's language."""
    return _label(STATUS_PLAIN, status)


def restriction_label(kind: str) -> str:
    """Name a kind of traffic restriction in the reader's language."""
    return _label(RESTRICTION_KINDS, kind)


def funding_label(code: str) -> str:
    """Name a funding source in the reader's language."""
    return _label(FUNDING_SOURCES, code)


def restriction_days_label(code: str) -> str:
    """Name the days a restriction holds on, in the reader's language."""
    return _label(RESTRICTION_DAYS, code)


def restriction_field_label(field: str) -> str:
    """Name a restriction's field in the reader's language."""
    return _label(RESTRICTION_FIELD_LABELS, field)


def designation_label(code: str) -> str:
    """Name what a facility is designated as, in the reader's language."""
    return _label(FACILITY_DESIGNATIONS, code)


def facility_hazard_label(code: str) -> str:
    """Name a hazard a designated site accepts people for, in the reader's language."""
    return _label(FACILITY_HAZARDS, code)


def field_label(field: str) -> str:
    """Name a project field in the reader's language."""
    return _label(FIELD_LABELS, field)


def input_label(name: str) -> str | None:
    """Name a field or query parameter in the reader's language; None when it has no label."""
    words = FIELD_LABELS.get(name) or INPUT_LABELS.get(name)
    return gettext(words) if words else None


def shape_label(geom_type: str) -> str:
    """Name a geometry type in words: 'LineString' → '線'."""
    return _label(SHAPES, geom_type)


def field_value(field: str, value: Any, names: dict[str, str] | None = None) -> str:
    """Write a project field's value as people read it; `names` gives plan items and
    indicators their printed names by code."""
    if value is None or value in ("", [], {}):
        return gettext("（なし）") if field != "geometry" else gettext("（入力欄のとおり）")
    if field == "kind":
        return kind_label(value)
    if field == "status":
        return status_label(value)
    if field == "progress":
        return f"{value}%"
    if field == "public":
        return gettext("公開") if value else gettext("職員のみ")
    if field == "geometry":
        return gettext("形状（%(type)s）", type=shape_label(value.get("type", "")))
    if field == "facility_id":
        return gettext("施設 %(id)s", id=value)
    if field in ("planned_cost", "contract_amount", "spent_amount"):
        return gettext("%(amount)s円", amount=f"{value:,}")
    if field == "funding":
        return funding_label(value)
    if isinstance(value, list):
        printed, codes = names or {}, [str(code) for code in value]
        return gettext("、").join(printed.get(code, code) for code in codes)
    if isinstance(value, dict):
        return gettext("、").join(
            gettext("%(label)s：%(text)s", label=detail_label(name), text=_detail_word(item))
            for name, item in value.items()
        )
    return str(value)


def detail_label(name: str) -> str:
    """Return the label of a kind's own field by its name, in the reader's language."""
    for fields in KIND_DETAILS.values():
        for field, label, _type, _choices in fields:
            if field == name:
                return gettext(label)
    return name


def _detail_word(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    for fields in KIND_DETAILS.values():
        for _field, _label, _type, choices in fields:
            if value in dict(choices):
                return gettext(dict(choices)[value])
    return str(value)


def history_change(
    previous_status: str | None, status: str, previous_progress: int | None, progress: int
) -> str:
    """Say what a history entry changed: the status when it changed, else the progress."""
    if previous_status is not None and previous_status != status:
        return f"{status_label(previous_status)} → {status_label(status)} {progress}%"
    if previous_progress is not None and previous_progress != progress:
        return gettext("進捗 %(old)s%% → %(new)s%%", old=previous_progress, new=progress)
    return f"{status_label(status)} {progress}%"


def sql_list(values: Iterable[str]) -> str:
    """Return codes as an SQL list for a CHECK constraint: ('a', 'b')."""
    return "(" + ", ".join(f"'{v}'" for v in sorted(values)) + ")"


def sql_array(values: Iterable[str]) -> str:
    """Return codes as an SQL text array for a CHECK constraint: ARRAY['a', 'b']::text[]."""
    return "ARRAY[" + ", ".join(f"'{v}'" for v in sorted(values)) + "]::text[]"


# The note of a project's first entry, and of an entry an import wrote without one: stored
# as they are (Japanese) and said in the reader's language (stored_note).
REGISTERED_NOTE = "登録"
IMPORTED_NOTE = re.compile(r"^(?P<source>.+) から取込$")


def stored_note(note: str) -> str:
    """Return a history entry's note in the reader's language where the app wrote it itself
    (「登録」, 「… から取込」); a note a person wrote stays as written."""
    if note == REGISTERED_NOTE:
        return pgettext("history note", "登録")
    imported = IMPORTED_NOTE.match(note)
    if imported:
        return gettext("%(source)s から取込", source=imported["source"])
    return note


def note_lang(note: str) -> str | None:
    """Return the language of a note as stored_note shows it: None for the app's own words
    (the page's language), "ja" for a note a person wrote."""
    return None if note == REGISTERED_NOTE or IMPORTED_NOTE.match(note) else "ja"


def init_app(app: Flask) -> None:
    """Let templates name kinds, statuses, restrictions, fields and field values."""
    for function in (
        kind_label,
        kind_glyph,
        status_label,
        status_plain,
        restriction_label,
        restriction_days_label,
        funding_label,
        designation_label,
        facility_hazard_label,
        field_label,
        field_value,
        history_change,
        stored_note,
        note_lang,
    ):
        app.add_template_global(function)
