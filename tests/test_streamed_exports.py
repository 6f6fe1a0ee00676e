"""Whole-city answers stream: the CSV and the GeoJSON leave piece by piece (gzipped piece by
piece too), the same content as before, with a data-version ETag and 304."""

import csv
import gzip
import io
import json

import pytest

from tracker.meeting import exports


@pytest.fixture
def many_works(make_project, monkeypatch):
    # Small pieces, so that a handful of works make several.
    monkeypatch.setattr(exports, "STREAM_LINES", 2)
    return [make_project(name=f"事業{n}").id for n in range(5)]


def test_csv_streams_in_pieces_with_every_work(client, many_works):
    response = client.get("/plan/projects.csv", buffered=False)

    assert response.is_streamed
    pieces = list(response.response)
    assert len(pieces) >= 3
    text = b"".join(pieces).decode("utf-8")
    assert text.startswith("\ufeff")
    ids = [row[0] for row in csv.reader(io.StringIO(text.removeprefix("\ufeff")))][1:]
    assert set(map(str, many_works)) <= set(ids)


def test_geojson_streams_and_is_valid_whole_or_gzipped(client, many_works):
    body = json.loads(client.get("/plan/projects.geojson").data)
    zipped = client.get("/plan/projects.geojson", headers={"Accept-Encoding": "gzip"})

    assert body["type"] == "FeatureCollection"
    assert set(many_works) <= {f["id"] for f in body["features"]}
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(zipped.data)) == body


def test_geojson_of_a_past_day_says_so(client, many_works):
    body = json.loads(client.get("/plan/projects.geojson?as_of=2027-01-01").data)
    assert body["as_of"] == "2027-01-01"


def test_an_empty_selection_is_an_empty_collection(client):
    body = json.loads(client.get("/plan/projects.geojson?kind=shelter&status=suspended").data)
    assert body == {"type": "FeatureCollection", "features": []}


@pytest.mark.parametrize("url", ["/plan/projects.csv", "/plan/projects.geojson"])
def test_exports_are_kept_per_data_version(client, make_project, url):
    make_project()
    first = client.get(url)
    first.close()  # a streamed answer holds its request open until read or closed
    etag = first.headers["ETag"]

    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    make_project(name="もう一つ")
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 200
