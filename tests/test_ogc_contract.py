"""The OGC API's contract: /ogc/api is a valid OpenAPI 3.0 document, and schemathesis sends
generated requests to a live server and fails on any 5xx or any answer the document does not
describe (status, content type, body). FUZZ_EXAMPLES sets the cases per operation and mode;
FUZZ_MIN_CASES the fewest cases in all (`make fuzz` asks for many more)."""

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
import requests
import schemathesis
from flask.testing import FlaskClient
from openapi_spec_validator import validate
from shapely.geometry import LineString
from sqlalchemy.orm import Session

from tests.conftest import MIYAJI_STATION
from tests.fuzzing import MIN_CASES, examples, fuzz
from tracker.restrictions.operations import add_restriction

EXAMPLES = examples(8)
LAYERS = (
    "projects", "projects_points", "projects_lines", "projects_polygons", "restrictions",
    "shelters",
)  # fmt: skip
STYLED = 3  # the works by geometry type, each with its QGIS style


def test_the_served_document_is_valid_openapi_3_0(client: FlaskClient) -> None:
    response = client.get("/ogc/api?f=json")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.oai.openapi+json"
    document = response.get_json()
    assert document["openapi"].startswith("3.0")
    validate(document)  # raises on the first way the document breaks OpenAPI 3.0
    # Every layer's items, one feature, tilesets, tileset, TileJSON and tile are described.
    for layer in LAYERS:
        assert f"/collections/{layer}/items/{{featureId}}" in document["paths"]
        assert f"/collections/{layer}/tiles/WebMercatorQuad/tilejson.json" in document["paths"]


def test_path_parameters_take_the_simple_style(client: FlaskClient) -> None:
    document = client.get("/ogc/api?f=json").get_json()
    path_parameters = [
        parameter
        for item in document["paths"].values()
        for parameter in item["get"]["parameters"]
        if parameter.get("in") == "path"  # the others are components ($ref)
    ]
    assert len(path_parameters) == 4 * len(LAYERS)  # featureId and the tile's three
    assert all(p.get("style", "simple") == "simple" and p["required"] for p in path_parameters)


@pytest.fixture
def layers_with_features(session: Session, make_project: Callable[..., Any]) -> None:
    """A few works and a restriction for generated requests to find, besides the shelters."""
    lon, lat = MIYAJI_STATION
    make_project(name="宮地駅前橋 補修", status="construction", progress=30)
    road = make_project(
        name="内牧 市道 舗装",
        kind="road",
        geometry=LineString([(lon + 0.01, lat), (lon + 0.02, lat + 0.005)]),
    )
    # Far ahead: a restriction still to come is listed whatever day the test runs.
    start = date(2099, 4, 1)
    add_restriction(
        session,
        road,
        kind="closed",
        starts_on=start,
        ends_on=start + timedelta(days=30),
        description="終日通行止め",
    )
    session.commit()


def test_schemathesis_finds_no_server_error_and_no_undocumented_answer_in_the_ogc_api(
    live_server: str, layers_with_features: None, capsys: pytest.CaptureFixture[str]
) -> None:
    document = requests.get(f"{live_server}/ogc/api?f=json", timeout=60).json()
    schema = schemathesis.openapi.from_dict(document)
    base_url = f"{live_server}/ogc"

    run = fuzz(schema, lambda case: case.call(base_url=base_url, timeout=60), examples=EXAMPLES)
    with capsys.disabled():
        print("\n" + run.summary("schemathesis ogc"))
    assert not run.failures, "\n\n".join(run.failures[:10])
    operations = len(run.cases)
    assert operations == 4 + 9 * len(LAYERS) + STYLED
    assert run.total >= max(MIN_CASES, operations * min(EXAMPLES, 5))
