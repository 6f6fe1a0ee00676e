"""Project kinds and statuses, with the Japanese words people read."""

from flask_babel import gettext

KINDS = {
    "road": "道路",
    "bridge": "橋梁",
    "revetment": "河川護岸",
    "sabo": "砂防・治山",
    "shelter": "避難所",
    "pavement": "舗装更新",
    "seismic": "耐震化",
}

STATUSES = {
    "planned": "未着手",
    "design": "設計中",
    "construction": "工事中",
    "completed": "完了",
    "suspended": "中断",
}

# Roads, pavement renewals and revetments are measured along their length.
LINE_KINDS = frozenset({"road", "pavement", "revetment"})


def kind_label(kind: str) -> str:
    """Name a kind in the reader's language (unknown codes as they are)."""
    return gettext(KINDS[kind]) if kind in KINDS else kind


def status_label(status: str) -> str:
    """Name a status in the reader's language (unknown codes as they are)."""
    return gettext(STATUSES[status]) if status in STATUSES else status
