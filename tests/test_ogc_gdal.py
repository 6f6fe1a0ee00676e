"""GDAL's OGC API – Features driver (Debian's gdal-bin) reading /ogc from a live server."""

import re
import sqlite3
import subprocess

import pytest
import requests
from shapely.geometry import LineString, MultiPoint, Point, Polygon
from sqlalchemy import text

from tests.conftest import MIYAJI_STATION

EPSG6670 = "http://www.opengis.net/def/crs/EPSG/0/6670"


def gdal(*args: str) -> str:
    """Run a GDAL command line program and return what it printed."""
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def works(make_project):
    lon, lat = MIYAJI_STATION
    made = [
        make_project(name="宮地橋 補修", status="construction", progress=30),
        make_project(
            name="市道 改良", kind="road", status="completed", progress=100,
            geometry=LineString([(lon + 0.01, lat), (lon + 0.02, lat + 0.005)]),
        ),
        make_project(name="砂防堰堤", kind="sabo", geometry=Point(lon - 0.01, lat + 0.01)),
    ]  # fmt: skip
    make_project(name="内部検討", kind="sabo", is_public=False, geometry=Point(lon, lat + 0.002))
    return made


def public_count(session) -> int:
    return session.scalar(text("SELECT count(*) FROM projects WHERE is_public"))


def test_ogrinfo_lists_the_collections_and_counts_the_public_projects(live_server, session, works):
    listing = gdal("ogrinfo", "-ro", "-q", f"OAPIF:{live_server}/ogc")
    for name in ("projects", "restrictions", "shelters"):
        assert f": {name} (" in listing, listing
    summary = gdal("ogrinfo", "-ro", "-so", f"OAPIF:{live_server}/ogc", "projects")
    assert f"Feature Count: {public_count(session)}" in summary, summary
    for field in ("name: String", "kind: String", "status: String", "progress: Integer"):
        assert field in summary, field


def test_ogr2ogr_copies_every_public_project_with_its_attributes(
    live_server, session, works, tmp_path
):
    target = tmp_path / "aso.gpkg"
    gdal("ogr2ogr", "-f", "GPKG", str(target), f"OAPIF:{live_server}/ogc", "projects")
    with sqlite3.connect(target) as gpkg:
        rows = gpkg.execute("SELECT id, name, kind, status, progress FROM projects").fetchall()
    expected = session.execute(
        text("SELECT id, name, kind, status, progress FROM projects WHERE is_public ORDER BY id")
    ).all()
    assert sorted(rows) == [tuple(r) for r in expected]
    assert "内部検討" not in {r[1] for r in rows}


def test_plane_rectangular_coordinates_match_postgis_to_the_centimetre(live_server, session, works):
    # GDAL 3.6 passes the query string of the collection URL on to every page it reads.
    url = f"OAPIF:{live_server}/ogc/collections/projects?crs={EPSG6670}"
    out = gdal("ogrinfo", "-ro", "-q", "-al", "-geom=ISO_WKT", url, "-where", "kind = 'road'")
    road = works[1]
    expected = session.execute(
        text(
            "SELECT ST_X(p), ST_Y(p) FROM"
            " (SELECT (ST_DumpPoints(ST_Transform(geom, 6670))).geom AS p"
            "  FROM projects WHERE id = :id) d"
        ),
        {"id": road.id},
    ).all()
    wkt = out[out.index("LINESTRING") :].split("\n")[0]
    numbers = wkt[wkt.index("(") + 1 : wkt.index(")")].split(",")
    got = [tuple(float(n) for n in pair.split()) for pair in numbers]
    # The answer follows EPSG:6670's axis order, northing (X) first; PostGIS writes easting first.
    assert len(got) == len(expected)
    for (northing, easting), (x, y) in zip(got, expected, strict=True):
        assert abs(northing - y) < 0.01 and abs(easting - x) < 0.01


def test_ogrinfo_where_goes_to_the_server_as_cql_and_finds_exactly_the_public_matches(
    live_server, session, works
):
    condition = "kind = 'sabo' AND status = 'planned' AND planned_start >= '2022-01-01'"
    done = subprocess.run(
        ["ogrinfo", "-ro", "-al", "-q", "--debug", "on", f"OAPIF:{live_server}/ogc", "projects",
         "-where", condition],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    # GDAL 3.6 finds the filter in /ogc/api and sends the whole condition to the server
    # (as the draft's cql-text); no part of it is left to be evaluated on the client.
    fetched = [line for line in done.stderr.splitlines() if "Fetch(" in line and "filter=" in line]
    assert fetched and all("filter-lang=cql-text" in line for line in fetched), done.stderr
    assert "Only part of the filter" not in done.stderr
    found = sorted(int(n) for n in re.findall(r"^  id \(Integer\) = (\d+)$", done.stdout, re.M))
    expected = session.scalars(
        text(
            "SELECT id FROM projects WHERE is_public AND kind = 'sabo' AND status = 'planned'"
            " AND planned_start >= DATE '2022-01-01' ORDER BY id"
        )
    ).all()
    assert found == expected and len(found) == 1
    assert "内部検討" not in done.stdout


# GDAL's own check of a GeoPackage against the standard, in Debian's python3-gdal.
VALIDATE_GPKG = "/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py"
GEOMETRY_TYPES = {
    "projects": "GEOMETRY",
    "projects_points": "MULTIPOINT",
    "projects_lines": "MULTILINESTRING",
    "projects_polygons": "MULTIPOLYGON",
    "restrictions": "GEOMETRY",
    "shelters": "POINT",
}


@pytest.fixture
def mixed_works(make_project, session):
    """Twelve roads first, so that a first page of ten would hold lines only, then a bridge
    (a point), a shelter's site (a polygon) and sabo dams (a multipoint); restrictions on
    drawn sections and one on a point work, whose geometry stands in for its section."""
    from tracker.core import clock
    from tracker.restrictions.operations import add_restriction

    lon, lat = MIYAJI_STATION
    roads = [
        make_project(name=f"市道 {n}", kind="road",
                     geometry=LineString([(lon + n / 1000, lat), (lon + n / 1000, lat + 0.001)]))
        for n in range(12)
    ]  # fmt: skip
    bridge = make_project(name="宮地橋", geometry=Point(lon, lat - 0.01))
    make_project(name="避難所 敷地", kind="shelter",
                 geometry=Polygon([(lon, lat), (lon + 0.001, lat), (lon, lat + 0.001), (lon, lat)]))  # fmt: skip
    make_project(name="砂防堰堤群", kind="sabo",
                 geometry=MultiPoint([(lon, lat + 0.02), (lon + 0.001, lat + 0.02)]))  # fmt: skip
    make_project(name="内部検討", kind="sabo", is_public=False, geometry=Point(lon, lat + 0.03))
    for road in roads[:11]:
        add_restriction(
            session, road, kind="closed", starts_on=clock.today(), description="通行止め"
        )
    add_restriction(
        session, bridge, kind="alternating", starts_on=clock.today(), description="片側"
    )


def test_every_collection_copies_to_a_valid_geopackage_without_a_warning(
    live_server, session, mixed_works, tmp_path
):
    listed = requests.get(f"{live_server}/ogc/collections", timeout=30).json()["collections"]
    assert {c["id"] for c in listed} == set(GEOMETRY_TYPES)
    for cid, geometry_type in GEOMETRY_TYPES.items():
        target = tmp_path / f"{cid}.gpkg"
        done = subprocess.run(
            ["ogr2ogr", "-f", "GPKG", str(target), f"OAPIF:{live_server}/ogc", cid],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0 and done.stderr == "", (cid, done.stderr)
        checked = subprocess.run(
            ["/usr/bin/python3", VALIDATE_GPKG, str(target)], capture_output=True, text=True
        )
        assert checked.returncode == 0 and checked.stdout + checked.stderr == "", (cid, checked)
        matched = requests.get(f"{live_server}/ogc/collections/{cid}/items?limit=1", timeout=30)
        with sqlite3.connect(target) as gpkg:
            declared = gpkg.execute(
                "SELECT geometry_type_name FROM gpkg_geometry_columns WHERE table_name = ?", (cid,)
            ).fetchone()[0]
            rows = gpkg.execute(f'SELECT count(*) FROM "{cid}"').fetchone()[0]
        assert declared == geometry_type, cid
        assert rows == matched.json()["numberMatched"] > 0, cid


def test_the_works_by_geometry_type_hold_every_public_work_once(live_server, session, mixed_works):
    ids = {}
    for shape in ("points", "lines", "polygons"):
        found = requests.get(
            f"{live_server}/ogc/collections/projects_{shape}/items?limit=1000", timeout=30
        ).json()["features"]
        ids[shape] = {f["id"] for f in found}
        assert {f["geometry"]["type"] for f in found} == {"Multi" + SHAPES[shape]}
    public = set(session.scalars(text("SELECT id FROM projects WHERE is_public")))
    assert ids["points"] | ids["lines"] | ids["polygons"] == public
    assert sum(len(v) for v in ids.values()) == len(public)


SHAPES = {"points": "Point", "lines": "LineString", "polygons": "Polygon"}


def test_the_tilejson_opens_in_gdal_as_a_tileset(live_server, works):
    # GDAL reads a tileset as <directory>/{z}/{x}/{y}.pbf with <directory>.json as its
    # metadata: …/WebMercatorQuad/tilejson/14 is read with tilejson.json.
    url = f"MVT:{live_server}/ogc/collections/projects/tiles/WebMercatorQuad/tilejson/14"
    out = gdal("ogrinfo", "-ro", "-al", "-q", url)
    names = set(re.findall(r"^  name \(String\) = (.+)$", out, re.M))
    assert names == {"宮地橋 補修", "市道 改良", "砂防堰堤"}
    assert re.search(r"^  progress \(Real\) = 30$", out, re.M)  # typed by the TileJSON's fields
