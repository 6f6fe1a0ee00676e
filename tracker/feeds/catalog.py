"""The open-data catalogue: which datasets the city publishes here, where each can be had,
under which licence, covering where and when, how often it changes and when it last did.

Each entry of DATASET_SOURCES reads the datasets of one kind of data (none when nothing is
loaded); a new kind of data is one more function there. The same list makes the DCAT 3
JSON-LD document (/catalog.jsonld) and the page people read (/catalog).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.core.translate import force_locale
from tracker.core.translate import lazy_gettext as _l
from tracker.facilities.models import Facility
from tracker.feeds.closures import last_change
from tracker.feeds.publishing import CITY_BBOX, Publisher
from tracker.hazards.codes import HAZARD_LAYER, HAZARDS, LAYER_CREDITS, LAYERS
from tracker.hazards.queries import loaded_hazards, loaded_layers
from tracker.projects.models import Project, visible_works
from tracker.reports.models import ReportStateChange
from tracker.reports.queries import public_where
from tracker.restrictions.models import TrafficRestriction

# EU Publications Office frequency vocabulary, as DCAT-AP uses it.
FREQUENCY = "http://publications.europa.eu/resource/authority/frequency/"
FREQUENCY_WORDS = {
    "UPDATE_CONT": _l("随時（変更のたびに）"),
    "IRREG": _l("不定期"),
}
MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"
OGC_FEATURES = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
WZDX = "https://github.com/usdot-jpo-ode/wzdx/tree/main/spec-content"
CIFS = "https://developers.google.com/waze/data-feed/cifs-specification"
OPEN311 = "http://wiki.open311.org/GeoReport_v2/"
GSI_CREDIT = "出典：国土地理院（指定緊急避難場所・指定避難所データ）"
SAMPLE_NOTE = _l("工事と交通規制には、説明用のサンプルデータが含まれます（サンプルと表示）。")


@dataclass(frozen=True)
class Distribution:
    """One way to get a dataset: an API to query (access) or a file to download."""

    title: Any
    format: str
    media_type: str
    endpoint: str
    values: dict[str, Any] = field(default_factory=dict)
    # True: a file the link downloads; False: an API or page the link opens.
    download: bool = True
    conforms_to: str | None = None


@dataclass(frozen=True)
class Dataset:
    """One dataset of the catalogue, its words lazy so that both languages can be said."""

    key: str
    title: Any
    description: Any
    keywords: tuple[Any, ...]
    frequency: str
    distributions: tuple[Distribution, ...]
    modified: datetime | None = None
    temporal: tuple[date | None, date | None] = (None, None)
    credit: str | None = None
    note: Any = None


def _works(session: Session) -> list[Dataset]:
    p = Project
    row = session.execute(
        select(
            func.max(p.updated_at),
            func.min(func.coalesce(p.actual_start, p.planned_start)),
            func.max(func.coalesce(p.actual_end, p.planned_end)),
        ).where(visible_works(p, include_private=False))
    ).one()
    return [
        Dataset(
            key="works",
            title=_l("復旧・復興事業"),
            description=_l(
                "阿蘇市の復旧・復興・防災の事業（道路、橋梁、河川護岸、砂防、避難所など）の"
                "場所、種類、状況、進捗、予定と実績の期間。公開の事業のみ。"
            ),
            keywords=(_l("復旧"), _l("復興"), _l("公共事業")),
            frequency="UPDATE_CONT",
            modified=row[0],
            temporal=(row[1], row[2]),
            note=SAMPLE_NOTE,
            distributions=(
                Distribution(
                    _l("OGC API – Features のコレクション"), "OGC API", "application/json",
                    "ogc.collection", {"cid": "projects"}, download=False,
                    conforms_to=OGC_FEATURES,
                ),
                Distribution(_l("GeoJSON"), "GeoJSON", "application/geo+json", "meeting.features"),
                Distribution(_l("CSV（UTF-8、BOM付き）"), "CSV", "text/csv", "meeting.projects_csv_export"),
                Distribution(
                    _l("GeoPackage"), "GeoPackage", "application/geopackage+sqlite3",
                    "meeting.projects_file_export", {"fmt": "gpkg"},
                ),
                Distribution(
                    _l("Excel"),
                    "XLSX",
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    "meeting.projects_file_export",
                    {"fmt": "xlsx"},
                ),
                _area_feed(),
            ),
        )
    ]  # fmt: skip


def _area_feed() -> Distribution:
    return Distribution(
        _l("Atom フィード（地点と半径を選んで購読。選ぶページへのリンク）"),
        "Atom",
        "application/atom+xml",
        "near.near_page",
        download=False,
    )


def _restrictions(session: Session) -> list[Dataset]:
    r, p = TrafficRestriction, Project
    row = session.execute(
        select(func.min(r.starts_on), func.max(r.ends_on))
        .join(p, p.id == r.project_id)
        .where(visible_works(p, include_private=False))
    ).one()
    return [
        Dataset(
            key="restrictions",
            title=_l("交通規制"),
            description=_l(
                "工事による通行止め・片側交互通行・車線規制などのうち、実施中と予定のもの。"
                "規制区間と迂回路の線、期間、曜日と時間帯、理由、問い合わせ先。"
            ),
            keywords=(_l("交通規制"), _l("通行止め"), _l("道路工事")),
            frequency="UPDATE_CONT",
            modified=last_change(session),
            temporal=(row[0], row[1]),
            note=SAMPLE_NOTE,
            distributions=(
                Distribution(
                    _l("OGC API – Features のコレクション"), "OGC API", "application/json",
                    "ogc.collection", {"cid": "restrictions"}, download=False,
                    conforms_to=OGC_FEATURES,
                ),
                Distribution(_l("GeoJSON（迂回路の線を含む）"), "GeoJSON", "application/geo+json", "api.list_restrictions"),
                Distribution(
                    _l("WZDx 4.2 フィード（カーナビ・地図アプリ向け）"), "WZDx",
                    "application/geo+json", "feeds.wzdx_feed", conforms_to=WZDX,
                ),
                Distribution(
                    _l("Waze 通行止めフィード（CIFS、JSON）"), "CIFS", "application/json",
                    "feeds.waze_json", conforms_to=CIFS,
                ),
                Distribution(
                    _l("Waze 通行止めフィード（CIFS、XML）"), "CIFS", "application/xml",
                    "feeds.waze_xml", conforms_to=CIFS,
                ),
                _area_feed(),
            ),
        )
    ]  # fmt: skip


def _shelters(session: Session) -> list[Dataset]:
    f = Facility
    modified = session.scalar(select(func.max(f.updated_at)).where(f.withdrawn_at.is_(None)))
    if modified is None:
        return []
    return [
        Dataset(
            key="shelters",
            title=_l("指定避難所"),
            description=_l("国土地理院の指定緊急避難場所・指定避難所データによる阿蘇市の指定避難所。"),
            keywords=(_l("避難所"), _l("防災")),
            frequency="IRREG",
            modified=modified,
            credit=GSI_CREDIT,
            distributions=(
                Distribution(
                    _l("OGC API – Features のコレクション"), "OGC API", "application/json",
                    "ogc.collection", {"cid": "shelters"}, download=False,
                    conforms_to=OGC_FEATURES,
                ),
                Distribution(_l("GeoJSON"), "GeoJSON", "application/geo+json", "web.map_facilities"),
            ),
        )
    ]  # fmt: skip


def _hazards(session: Session) -> list[Dataset]:
    present = loaded_hazards(session)
    return [
        Dataset(
            key=f"hazards-{layer.layer}",
            title=LAYERS[layer.layer],
            description=_l("国土数値情報の区域のうち阿蘇市にかかるもの。地図の重ね合わせ用。"),
            keywords=(_l("ハザード"), _l("防災")),
            frequency="IRREG",
            modified=layer.loaded_at,
            credit=LAYER_CREDITS[layer.layer],
            distributions=tuple(
                Distribution(
                    _l("GeoJSON：%(hazard)s", hazard=HAZARDS[hazard]),
                    "GeoJSON",
                    "application/geo+json",
                    "web.hazard_features",
                    {"hazard": hazard},
                )
                for hazard in present
                if HAZARD_LAYER[hazard] == layer.layer
            ),
        )
        for layer in loaded_layers(session)
    ]


def _reports(session: Session) -> list[Dataset]:
    public = public_where().subquery()
    row = session.execute(
        select(func.min(public.c.made_at), func.max(ReportStateChange.at)).join(
            ReportStateChange, ReportStateChange.report_id == public.c.id
        )
    ).one()
    if row[0] is None:
        return []
    return [
        Dataset(
            key="reports",
            title=_l("住民からの通報"),
            description=_l(
                "住民から寄せられた道路・河川・斜面などの損傷の通報のうち、市が確認して公開したもの。"
                "種類、場所、状況、市の回答。通報者のメールアドレスは含みません。"
            ),
            keywords=(_l("通報"), _l("Open311"), _l("災害")),
            frequency="UPDATE_CONT",
            modified=row[1],
            temporal=(row[0].date(), None),
            distributions=(
                Distribution(
                    _l("Open311 GeoReport v2（JSON）"), "Open311", "application/json",
                    "open311.list_requests", {"fmt": "json"}, download=False,
                    conforms_to=OPEN311,
                ),
                Distribution(
                    _l("Open311 GeoReport v2（XML）"), "Open311", "application/xml",
                    "open311.list_requests", {"fmt": "xml"}, download=False,
                    conforms_to=OPEN311,
                ),
                Distribution(
                    _l("通報の一覧と地図"), "HTML", "text/html", "reports.public_list",
                    download=False,
                ),
            ),
        )
    ]  # fmt: skip


# The kinds of data the catalogue lists, in its order.
DATASET_SOURCES: tuple[Callable[[Session], list[Dataset]], ...] = (
    _works,
    _restrictions,
    _shelters,
    _hazards,
    _reports,
)


def datasets(session: Session) -> list[Dataset]:
    """Return the datasets published here now, in the catalogue's order."""
    return [dataset for source in DATASET_SOURCES for dataset in source(session)]


def last_modified(found: list[Dataset]) -> datetime | None:
    """Return the latest change of any dataset."""
    return max((d.modified for d in found if d.modified is not None), default=None)


CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "geosparql": "http://www.opengis.net/ont/geosparql#",
}
LANGUAGES = ("ja", "en")


def _both(text: Any) -> list[dict[str, str]]:
    """Say a text in Japanese and English, as JSON-LD language-tagged strings."""
    said = []
    for lang in LANGUAGES:
        with force_locale(lang):
            said.append({"@value": str(text), "@language": lang})
    return said


def _typed(value: date | datetime, kind: str) -> dict[str, str]:
    return {"@value": value.isoformat(), "@type": f"xsd:{kind}"}


def bbox_wkt() -> str:
    """Return the city's bounding box as a WKT polygon (lon lat)."""
    west, south, east, north = CITY_BBOX
    corners = [(west, south), (east, south), (east, north), (west, north), (west, south)]
    return "POLYGON((" + ", ".join(f"{x} {y}" for x, y in corners) + "))"


def _agent(who: Publisher) -> dict[str, Any]:
    return {"@type": "foaf:Agent", "foaf:name": who.name}


def _contact(who: Publisher) -> dict[str, Any]:
    contact: dict[str, Any] = {
        "@type": "vcard:Organization",
        "vcard:fn": who.contact_name or who.name,
    }
    if who.contact_email:
        contact["vcard:hasEmail"] = {"@id": f"mailto:{who.contact_email}"}
    return contact


def _license(who: Publisher) -> dict[str, Any]:
    return {"@id": who.license_url, "@type": "dct:LicenseDocument"}


def _distribution(
    d: Distribution, who: Publisher, url: Callable[[str, dict[str, Any]], str]
) -> dict[str, Any]:
    link = url(d.endpoint, d.values)
    node: dict[str, Any] = {
        "@type": "dcat:Distribution",
        "dct:title": _both(d.title),
        "dct:format": d.format,
        "dcat:mediaType": {"@id": MEDIA_TYPES + d.media_type},
        "dcat:accessURL": {"@id": link},
        "dct:license": _license(who),
    }
    if d.download:
        node["dcat:downloadURL"] = {"@id": link}
    if d.conforms_to:
        node["dct:conformsTo"] = {"@id": d.conforms_to}
    return node


def _dataset(
    d: Dataset, who: Publisher, catalog_url: str, url: Callable[[str, dict[str, Any]], str]
) -> dict[str, Any]:
    node: dict[str, Any] = {
        "@id": f"{catalog_url}#{d.key}",
        "@type": "dcat:Dataset",
        "dct:identifier": d.key,
        "dct:title": _both(d.title),
        "dct:description": _both(d.description),
        "dcat:keyword": [word for k in d.keywords for word in _both(k)],
        "dct:publisher": _agent(who),
        "dcat:contactPoint": _contact(who),
        "dct:license": _license(who),
        "dct:accrualPeriodicity": {"@id": FREQUENCY + d.frequency},
        "dct:spatial": {
            "@type": "dct:Location",
            "rdfs:label": _both(_l("阿蘇市")),
            "dcat:bbox": {"@value": bbox_wkt(), "@type": "geosparql:wktLiteral"},
        },
        "dcat:distribution": [_distribution(x, who, url) for x in d.distributions],
    }
    if d.modified is not None:
        node["dct:modified"] = _typed(d.modified, "dateTime")
    start, end = d.temporal
    if start is not None or end is not None:
        period: dict[str, Any] = {"@type": "dct:PeriodOfTime"}
        if start is not None:
            period["dcat:startDate"] = _typed(start, "date")
        if end is not None:
            period["dcat:endDate"] = _typed(end, "date")
        node["dct:temporal"] = period
    if d.credit:
        node["dct:rights"] = {"@type": "dct:RightsStatement", "rdfs:label": d.credit}
    return node


def catalog_document(
    found: list[Dataset],
    who: Publisher,
    *,
    catalog_url: str,
    home_url: str,
    url: Callable[[str, dict[str, Any]], str],
) -> dict[str, Any]:
    """Return the catalogue as a DCAT 3 JSON-LD document; `url(endpoint, values)` makes links."""
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "@id": catalog_url,
        "@type": "dcat:Catalog",
        "dct:title": _both(_l("阿蘇市 復旧・復興事業のオープンデータ")),
        "dct:description": _both(
            _l("阿蘇市が公開する復旧・復興事業、交通規制、指定避難所などのデータの目録。")
        ),
        "dct:publisher": _agent(who),
        "dct:license": _license(who),
        "dct:language": [
            {"@id": "http://id.loc.gov/vocabulary/iso639-1/ja"},
            {"@id": "http://id.loc.gov/vocabulary/iso639-1/en"},
        ],
        "dct:spatial": {
            "@type": "dct:Location",
            "dcat:bbox": {"@value": bbox_wkt(), "@type": "geosparql:wktLiteral"},
        },
        "foaf:homepage": {"@id": home_url},
        "dcat:dataset": [_dataset(d, who, catalog_url, url) for d in found],
    }
    modified = last_modified(found)
    if modified is not None:
        document["dct:modified"] = _typed(modified, "dateTime")
    return document
