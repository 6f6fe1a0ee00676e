"""The plan's items and indicators named in the reader's language.

The catalogue keeps each name as the plan prints it (Japanese, geodata/plan_catalogue.json);
this table gives each item, indicator and 施策 text its English name, so that English pages,
exports and feeds say them in English. A name missing here is shown as printed.
"""

from flask import Flask, has_request_context

from tracker.words.i18n import locale

# Plan items by code (policies, measures, initiatives, 施策) and indicators by code.
ENGLISH_NAMES: dict[str, str] = {
    "p1": "From recovery and reconstruction to development",
    "p1.m1": "Be prepared",
    "p1.m1.i1": "Review and strengthen disaster management, public information and evacuation",
    "p1.m1.i2": (
        "Stronger local disaster resilience through voluntary disaster-prevention groups, and "
        "awareness of disasters and of being prepared"
    ),
    "p1.m1.i3": "Public–private arrangements to restore lifelines (electricity, water)",
    "p1.m1.i4": "Stockpiles of emergency supplies",
    "p1.m1.i5": (
        "Shelters run with everyone in mind: older people, people with disabilities, pregnant "
        "women, infants and people who are unwell"
    ),
    "p1.m1.i6": (
        "Shared disaster response and mutual support with neighbouring municipalities and "
        "medical institutions"
    ),
    "p1.m1.i7": "Disaster agreements with private companies and related organisations",
    "p1.m1.i8": "A business continuity plan that keeps regular services running in a disaster",
    "p1.m2": "Development",
    "p1.m2.i1": "Restore and strengthen infrastructure (roads, rivers, bridges)",
    "p1.m2.i2": "Faster works on collapsed slopes: forest conservation and erosion control",
    "p1.m2.i3": (
        "Faster recovery of damaged farmland and farm facilities, with the national and "
        "prefectural governments"
    ),
    "p1.m2.i4": "Support for rebuilding farming, forestry and livestock businesses",
    "p1.m2.i5": (
        "Support for rebuilding commerce and industry, including infection control and workations"
    ),
    "p1.m2.i6": "Fewer people leaving: support for those who move here, for new ways of living",
    "p1.m2.i7": (
        "Visitors from Japan and abroad back: ready to welcome them (infection control and more) "
        "and better information"
    ),
    "p1.m2.i8": "Upkeep of ageing facilities under the public facilities management plan",
    "p1.m2.i9": (
        "Support for restoring designated cultural properties such as Aso Shrine, and community "
        "facilities"
    ),
    "p1.m2.i10": "Disaster education (spreading knowledge of disaster prevention)",
    "p5": "Safety",
    "p5.m13": "Safe and secure infrastructure, and earthquake-proof housing",
    "p5.m13.s1": "Longer life for road facilities",
    "p5.m13.s2": "Building road facilities",
    "p5.m13.s3": "Building river facilities",
    "p5.m13.s4": "Earthquake-proofing of houses and buildings",
    "m13_bridges_repaired": "Bridges repaired",
    "m13_pavement_renewed": "Pavement renewed (length)",
    "m13_road_improved": "Roads improved (length)",
    "m13_revetment": "River revetments (length)",
    "m13_seismic_wooden_houses": "Earthquake-proof detached wooden houses (rate)",
    "m13_seismic_city_buildings": "Earthquake-proof city-owned buildings (rate)",
    "m13_seismic_private_buildings": "Earthquake-proof private buildings (rate)",
}

# The policies' full titles, and the 施策' contents, effects and activities, by their text.
ENGLISH_TEXTS: dict[str, str] = {
    "重点政策「復旧・復興から発展」 政策1「発展」 復旧・復興から発展(大きな一歩を踏み出すために)": (
        "Priority policy “From recovery and reconstruction to development”, Policy 1 "
        "“Development”: from recovery and reconstruction to development (to take a big step "
        "forward)"
    ),
    "政策5「安全」 快適な社会資本の整備及び良質な景観形成によるまちづくり": (
        "Policy 5 “Safety”: a town built on comfortable infrastructure and fine landscapes"
    ),
    "道路施設等の計画的な維持・補修": "Planned upkeep and repair of road facilities",
    "車や歩行者の安全で安心な通行": "Safe passage for vehicles and pedestrians",
    "計画的な道路整備": "Planned road building",
    "計画的な河川整備": "Planned river works",
    "災害時の安全確保": "Safety in a disaster",
    "耐震化促進及び災害危険区域内の住宅移転促進": (
        "Earthquake-proofing, and moving homes out of disaster hazard areas"
    ),
    "住宅・建築物等の耐震化率の向上及び安全住居の確保": (
        "More earthquake-proof houses and buildings, and safe homes"
    ),
    "橋梁点検": "Bridge inspection",
    "橋梁補修": "Bridge repair",
    "舗装更新": "Pavement renewal",
    "道路新設改良": "New roads and road improvement",
    "河川改修": "River improvement",
    "戸建て木造住宅耐震改修等事業": "Earthquake retrofits of detached wooden houses",
    "がけ地近接等危険住宅移転事業": "Moving homes at risk near cliffs",
    "危険ブロック塀等安全確保支援事業": "Support for making dangerous block walls safe",
}


def _reader_language(lang: str | None) -> str:
    if lang is not None:
        return lang
    # Outside a request (a command's export) the plan's own language.
    return locale() if has_request_context() else "ja"


def plan_name(code: str, printed: str, lang: str | None = None) -> str:
    """Return the name of a plan item or indicator (by its code) in `lang`, by default the
    reader's language; the printed (Japanese) name where there is no other."""
    if _reader_language(lang) == "en":
        return ENGLISH_NAMES.get(code, printed)
    return printed


def plan_text(printed: str, lang: str | None = None) -> str:
    """Return a text of the plan (a policy's title, a 施策's content, effect or activity) in
    `lang`, by default the reader's language; as printed where there is no other."""
    if _reader_language(lang) == "en":
        return ENGLISH_TEXTS.get(printed, printed)
    return printed


def plan_lang(code: str, lang: str | None = None) -> str:
    """Return the language `plan_name` answers in for this code: for a `lang` attribute."""
    reader = _reader_language(lang)
    return reader if reader != "en" or code in ENGLISH_NAMES else "ja"


def text_lang(printed: str, lang: str | None = None) -> str:
    """Return the language `plan_text` answers in for this text: for a `lang` attribute."""
    reader = _reader_language(lang)
    return reader if reader != "en" or printed in ENGLISH_TEXTS else "ja"


def init_app(app: Flask) -> None:
    """Let templates name plan items and indicators in the reader's language."""
    for function in (plan_name, plan_text, plan_lang, text_lang):
        app.add_template_global(function)
