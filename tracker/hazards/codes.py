"""The one table of hazard layers, hazards and the attribute codes of the national files.

国土数値情報 publishes each layer as a Shapefile (cp932 .dbf, JGD2011) whose attributes are
codes; this table says which attribute holds what and what each code means. The README
repeats it for people. A code not listed here is refused when a file is loaded, never guessed.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tracker.core.translate import gettext
from tracker.words.vocab import N_

if TYPE_CHECKING:
    from tracker.hazards.queries import PointZone

# Loaded layers: the national data set each comes from.
LAYERS = {
    "sediment": N_("土砂災害警戒区域（国土数値情報 A33）"),
    "flood": N_("洪水浸水想定区域（国土数値情報 A31）"),
}

# The hazards people see, in the order pages list them, with the layer that holds each.
HAZARDS = {
    "steep_slope": N_("土砂災害（急傾斜地の崩壊）"),
    "debris_flow": N_("土砂災害（土石流）"),
    "landslide": N_("土砂災害（地すべり）"),
    "flood": N_("洪水（浸水想定区域）"),
}
HAZARD_LAYER = {
    "steep_slope": "sediment",
    "debris_flow": "sediment",
    "landslide": "sediment",
    "flood": "flood",
}

# The zone hazards a designated site is meant for, by the hazards the GSI data says it
# accepts people for (tracker.words.vocab.FACILITY_HAZARDS); the others have no zones here.
ZONE_HAZARDS_BY_FACILITY_HAZARD = {
    "flood": ("flood",),
    "landslide": ("steep_slope", "debris_flow", "landslide"),
}

# Credits shown wherever a layer is drawn or counted.
LAYER_CREDITS = {
    "sediment": "「国土数値情報（土砂災害警戒区域データ）」（国土交通省）",
    "flood": "「国土数値情報（洪水浸水想定区域データ）」（国土交通省）",
}


@dataclass(frozen=True)
class LayerLayout:
    """Which attributes of a published file hold the hazard, the zone's class and its name."""

    # The first of these attribute names that the file has is read.
    hazard_fields: tuple[str, ...]
    hazard_codes: dict[str, str]
    class_fields: tuple[str, ...]
    class_codes: dict[str, str]
    name_fields: tuple[str, ...] = ()
    # A layer that holds one hazard only names it here instead of in an attribute.
    fixed_hazard: str | None = None


LAYOUTS = {
    # A33 土砂災害警戒区域: A33_001 現象の種類, A33_002 区域区分, A33_005 区域名.
    "sediment": LayerLayout(
        hazard_fields=("A33_001",),
        hazard_codes={"1": "steep_slope", "2": "debris_flow", "3": "landslide"},
        class_fields=("A33_002",),
        class_codes={"1": "土砂災害警戒区域", "2": "土砂災害特別警戒区域"},
        name_fields=("A33_005",),
    ),
    # A31 洪水浸水想定区域: the depth rank. Editions up to 2012 (A31_001) use ranks 11–15
    # (planned scale) and 21–26. The per-river editions hold the planned scale (計画規模) in
    # A31a_101–105 and the largest assumed rainfall (想定最大規模) in A31a_201–205: river id,
    # river name, prefecture code and name, depth rank 1–6 (A31_ in their Shapefiles). The
    # duration files (A31a_30x, ranks of hours) are not depths and are not read.
    "flood": LayerLayout(
        hazard_fields=(),
        hazard_codes={},
        class_fields=("A31a_205", "A31a_105", "A31_205", "A31_105", "A31_001"),
        class_codes={
            "11": "0.5m未満",
            "12": "0.5〜1.0m",
            "13": "1.0〜2.0m",
            "14": "2.0〜5.0m",
            "15": "5.0m以上",
            "21": "0.5m未満",
            "22": "0.5〜3.0m",
            "23": "3.0〜5.0m",
            "24": "5.0〜10.0m",
            "25": "10.0〜20.0m",
            "26": "20.0m以上",
            "1": "0.5m未満",
            "2": "0.5〜3.0m",
            "3": "3.0〜5.0m",
            "4": "5.0〜10.0m",
            "5": "10.0〜20.0m",
            "6": "20.0m以上",
        },
        name_fields=("A31a_202", "A31a_102", "A31_202", "A31_102"),
        fixed_hazard="flood",
    ),
}


def hazard_label(hazard: str) -> str:
    """Name a hazard in the reader's language (unknown codes as they are)."""
    return gettext(HAZARDS[hazard]) if hazard in HAZARDS else hazard


def hazard_zone_sentences(
    zones: "Iterable[PointZone]", *, shelter_name: str | None = None
) -> list[str]:
    """Say, per hazard, that the chosen place (or the named shelter) lies in its zone."""
    by_hazard: dict[str, list[str]] = {}
    for zone in zones:
        by_hazard.setdefault(zone.hazard, []).append(zone.zone_class)
    sentences = []
    for hazard, classes in by_hazard.items():
        if HAZARD_LAYER[hazard] == "flood":
            detail = gettext(
                "想定される浸水の深さ %(depth)s", depth="・".join(gettext(c) for c in classes)
            )
        else:
            detail = "・".join(gettext(c) for c in classes)
        if shelter_name is None:
            sentences.append(
                gettext(
                    "選んだ場所は%(hazard)sの区域（%(detail)s）の中にあります。"
                    "大雨のときは早めに避難してください。",
                    hazard=hazard_label(hazard),
                    detail=detail,
                )
            )
        else:
            sentences.append(
                gettext(
                    "いちばん近い指定避難所「%(name)s」は%(hazard)sの区域（%(detail)s）の中にあります。"
                    "この災害のおそれがあるときは、ほかの避難所も確かめておいてください。",
                    name=shelter_name,
                    hazard=hazard_label(hazard),
                    detail=detail,
                )
            )
    return sentences
