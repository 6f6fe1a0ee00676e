"""The open-data catalogue: DCAT 3 in JSON-LD (read by a JSON-LD processor), a page for
people, and every link it gives answering 200."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from rdflib import Graph, Namespace, URIRef
from rdflib import namespace as ns
from shapely.geometry import LineString

from tests.conftest import MIYAJI_STATION
from tracker.core import clock
from tracker.restrictions.operations import add_restriction

LON, LAT = MIYAJI_STATION
CC_BY = URIRef("https://creativecommons.org/licenses/by/4.0/")
DCAT, DCTERMS, RDF = ns.DCAT, ns.DCTERMS, ns.RDF
FREQUENCY = Namespace("http://publications.europa.eu/resource/authority/frequency/")


@pytest.fixture
def published(session, make_project):
    road = make_project(name="市道宮地駅前線 改良", kind="road")
    add_restriction(
        session, road, kind="closed", starts_on=clock.today(),
        ends_on=clock.today() + timedelta(days=10), description="通行止め",
        section=LineString([(LON, LAT), (LON + 0.002, LAT)]),
    )  # fmt: skip
    return road


def graph_of(client) -> Graph:
    answer = client.get("/catalog.jsonld")
    assert answer.status_code == 200
    assert answer.mimetype == "application/ld+json"
    return Graph().parse(data=answer.get_data(as_text=True), format="json-ld")


def test_catalogue_parses_as_dcat_with_each_dataset(client, published):
    graph = graph_of(client)

    catalogs = list(graph.subjects(RDF.type, DCAT.Catalog))
    assert len(catalogs) == 1
    listed = set(graph.objects(catalogs[0], DCAT.dataset))
    datasets = set(graph.subjects(RDF.type, DCAT.Dataset))
    assert listed == datasets
    keys = {str(graph.value(d, DCTERMS.identifier)): d for d in datasets}
    # Hazard layers only once loaded: none in the test database.
    assert set(keys) == {"works", "restrictions", "shelters"}
    for key, dataset in keys.items():
        assert graph.value(dataset, DCTERMS.license) == CC_BY, key
        assert graph.value(dataset, DCTERMS.publisher) is not None, key
        assert graph.value(dataset, DCTERMS.spatial) is not None, key
        assert graph.value(dataset, DCTERMS.modified) is not None, key
        assert graph.value(dataset, DCTERMS.accrualPeriodicity) is not None, key
        assert list(graph.objects(dataset, DCAT.distribution)), key
        titles = {t.language: str(t) for t in graph.objects(dataset, DCTERMS.title)}
        assert set(titles) == {"ja", "en"} and titles["ja"] != titles["en"], key
    assert graph.value(keys["restrictions"], DCTERMS.accrualPeriodicity) == FREQUENCY.UPDATE_CONT
    period = graph.value(keys["restrictions"], DCTERMS.temporal)
    assert str(graph.value(period, DCAT.startDate)) == clock.today().isoformat()
    assert "国土地理院" in str(
        graph.value(
            graph.value(keys["shelters"], DCTERMS.rights),
            ns.RDFS.label,
        )
    )
    formats = {
        str(graph.value(x, DCTERMS["format"]))
        for x in graph.objects(keys["restrictions"], DCAT.distribution)
    }
    assert {"OGC API", "GeoJSON", "WZDx", "CIFS", "Atom"} <= formats


def test_every_distribution_url_answers(client, published):
    graph = graph_of(client)
    urls = {str(u) for u in graph.objects(None, DCAT.accessURL)}
    urls |= {str(u) for u in graph.objects(None, DCAT.downloadURL)}
    assert len(urls) >= 12
    for url in sorted(urls):
        parts = urlsplit(url)
        # Read to the end and closed: the exports stream their answers.
        with client.get(parts.path, query_string=parts.query) as answer:
            assert answer.status_code == 200, url
            assert answer.get_data(), url


def test_catalogue_names_the_configured_licence_and_publisher(app, client, published):
    app.config["DATA_LICENSE_URL"] = "https://creativecommons.org/publicdomain/zero/1.0/"
    app.config["DATA_PUBLISHER"] = "阿蘇市 総務課"
    graph = graph_of(client)
    for dataset in graph.subjects(RDF.type, DCAT.Dataset):
        assert str(graph.value(dataset, DCTERMS.license)).endswith("/zero/1.0/")
    page = client.get("/catalog").get_data(as_text=True)
    assert "阿蘇市 総務課" in page and "publicdomain/zero/1.0" in page


def test_catalogue_is_cacheable(client, published):
    first = client.get("/catalog.jsonld")
    assert first.headers["Cache-Control"] == "public, max-age=60"
    assert (
        client.get("/catalog.jsonld", headers={"If-None-Match": first.headers["ETag"]}).status_code
        == 304
    )


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_catalogue_page_lists_the_same_datasets_and_links(client, published, lang):
    page = client.get("/catalog", query_string={"lang": lang})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for key in ("works", "restrictions", "shelters"):
        assert f'id="{key}"' in text
    for path in (
        "/feeds/wzdx.json",
        "/feeds/waze.json",
        "/feeds/waze.xml",
        "/ogc/collections/projects",
    ):
        assert f'href="{path}"' in text
    assert ("交通規制" in text) == (lang == "ja")
    assert ("Traffic restrictions" in text) == (lang == "en")


def test_residents_reports_are_listed_once_one_is_public(
    app, client, session, published, make_user, login_as
):
    resident = app.test_client()
    sent = resident.post(
        "/report",
        data={"category": "road", "place": "d-uchinomaki", "description": "道路が陥没しています"},
        environ_base={"REMOTE_ADDR": "192.0.2.30"},
    )
    assert sent.status_code == 303
    keys = {str(graph_of(client).value(d, DCTERMS.identifier)) for d in
            graph_of(client).subjects(RDF.type, DCAT.Dataset)}  # fmt: skip
    assert "reports" not in keys  # received, not yet accepted: nothing public

    report_id = int(sent.headers["Location"].rstrip("/").split("/")[-1].split("?")[0])
    login_as(make_user("staff"))
    assert client.post(f"/staff/reports/{report_id}/accept", data={}).status_code == 303
    graph = graph_of(client)
    reports = next(
        d for d in graph.subjects(RDF.type, DCAT.Dataset)
        if str(graph.value(d, DCTERMS.identifier)) == "reports"
    )  # fmt: skip
    formats = {
        str(graph.value(x, DCTERMS["format"])) for x in graph.objects(reports, DCAT.distribution)
    }
    assert formats == {"Open311", "HTML"}
    for distribution in graph.objects(reports, DCAT.distribution):
        url = urlsplit(str(graph.value(distribution, DCAT.accessURL)))
        with client.get(url.path, query_string=url.query) as answer:
            assert answer.status_code == 200, url
