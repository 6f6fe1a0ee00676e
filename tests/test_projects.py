"""Projects: geometry round trips, checks on create, sample data."""

import json
from datetime import date

import pytest
from shapely.geometry import LineString, Point, Polygon, shape
from sqlalchemy import func, select

from tests.conftest import GEODATA
from tracker.city.models import CityBoundary
from tracker.core import clock
from tracker.core.errors import BadInput
from tracker.facilities.models import Facility
from tracker.geo.geometry import GeometryRefused, distance_outside_city, parse_geometry
from tracker.projects.history import StatusUpdate
from tracker.projects.models import Project
from tracker.projects.queries import ProjectFilter, feature_collection
from tracker.wiring.loaders import load_sample_projects


@pytest.mark.parametrize(
    "kind, geometry",
    [
        ("bridge", Point(131.11879, 32.937)),
        ("road", LineString([(131.10, 32.94), (131.105, 32.941), (131.11, 32.9405)])),
        (
            "sabo",
            Polygon([(131.05, 32.97), (131.052, 32.97), (131.052, 32.972), (131.05, 32.97)]),
        ),
    ],
)
def test_geometry_round_trips_through_postgis_and_geojson(session, make_project, kind, geometry):
    project = make_project(kind=kind, geometry=geometry)
    collection = json.loads(feature_collection(session, ProjectFilter(ids=[project.id])))
    [feature] = collection["features"]
    assert shape(feature["geometry"]).equals_exact(geometry, 1e-6)
    assert feature["geometry"]["type"] == geometry.geom_type
    srid = session.scalar(select(func.ST_SRID(Project.geom)).where(Project.id == project.id))
    assert srid == 4326


def test_spatial_index_exists(session):
    indexes = session.execute(
        select(func.pg_get_indexdef(func.to_regclass("idx_projects_geom")))
    ).scalar()
    assert "USING gist (geom)" in indexes


def test_project_creation_records_the_first_history_entry(session, make_project):
    project = make_project(status="design", progress=5)
    [entry] = session.scalars(select(StatusUpdate).where(StatusUpdate.project == project)).all()
    assert (entry.previous_status, entry.status, entry.progress) == (None, "design", 5)


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"kind": "road", "geometry": Point(131.1, 32.94)}, "「道路」には点の形は使えません"),
        ({"geometry": Point(130.70, 32.80)}, "阿蘇市の区域から約"),
        (
            {
                "kind": "sabo",
                "geometry": Polygon(
                    [(131.05, 32.97), (131.06, 32.98), (131.06, 32.97), (131.05, 32.98)]
                ),
            },
            "形状が不正です",
        ),
        ({"name": "  "}, "name"),
        ({"progress": 101}, "progress"),
        ({"status": "done"}, "status"),
        ({"plan_item_codes": ["p9.m9"]}, "「p9.m9」は計画にありません"),
        ({"planned_start": date(2023, 1, 1), "planned_end": date(2022, 1, 1)}, "planned_end"),
    ],
)
def test_bad_projects_are_refused_with_a_message(make_project, fields, message):
    with pytest.raises(BadInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        make_project(**fields)


def test_self_intersecting_polygon_is_offered_repaired(make_project):
    bowtie = Polygon([(131.05, 32.97), (131.06, 32.98), (131.06, 32.97), (131.05, 32.98)])
    with pytest.raises(GeometryRefused) as refused:
        make_project(kind="sabo", geometry=bowtie)
    assert refused.value.repaired.is_valid
    # Both lobes of the bow tie survive the repair.
    assert refused.value.repaired.geom_type == "MultiPolygon"
    assert len(refused.value.repaired.geoms) == 2


def test_boundary_tolerance_is_500_metres(session, make_project):
    # Step west from the city's westernmost vertex.
    boundary = shape(json.loads(session.scalar(select(func.ST_AsGeoJSON(CityBoundary.geom)))))
    lon0 = min(x for x, _ in boundary.geoms[0].exterior.coords)
    lat0 = next(y for x, y in boundary.geoms[0].exterior.coords if x == lon0)
    near, far = Point(lon0 - 0.003, lat0), Point(lon0 - 0.03, lat0)
    assert 100 < distance_outside_city(session, near) < 500 < distance_outside_city(session, far)
    assert make_project(geometry=near).id
    with pytest.raises(GeometryRefused, match="阿蘇市の区域から約"):
        make_project(geometry=far)


@pytest.mark.parametrize(
    "text, geom_type",
    [
        ('{"type": "Point", "coordinates": [131.1, 32.94]}', "Point"),
        ("LINESTRING (131.1 32.94, 131.11 32.95)", "LineString"),
        (
            '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [131.1, 32.9]},'
            ' "properties": {}}',
            "Point",
        ),
    ],
)
def test_geometry_parses_from_geojson_and_wkt(text, geom_type):
    assert parse_geometry(text).geom_type == geom_type


@pytest.mark.parametrize("text", ["POINT (131.1", '{"type": "Point"}', "", "hello"])
def test_malformed_geometry_text_is_refused(text):
    with pytest.raises(GeometryRefused):
        parse_geometry(text)


def test_sample_projects_load_over_every_kind_inside_the_city(session):
    message = load_sample_projects(session, GEODATA / "sample_projects.geojson")
    assert message.startswith("sample projects: loaded")
    samples = session.scalars(select(Project).where(Project.is_sample)).all()
    assert len(samples) >= 60
    assert {p.kind for p in samples} == {
        "road",
        "bridge",
        "revetment",
        "sabo",
        "shelter",
        "pavement",
        "seismic",
    }
    # Loading again changes nothing.
    assert load_sample_projects(session, GEODATA / "sample_projects.geojson").endswith(
        "already loaded"
    )
    # The history ends in each project's current status.
    for project in samples:
        assert project.updates[-1].status == project.status
        assert project.updates[-1].progress == project.progress
        times = [update.recorded_at for update in project.updates]
        assert times == sorted(times) and times[-1] <= clock.now(), project.name


def test_the_38_gsi_shelters_are_loaded_as_facilities_with_their_ids(session):
    shelters = session.scalars(select(Facility)).all()
    assert len(shelters) == 38
    assert all(
        f.designations == ["shelter"] and f.gsi_common_id.startswith("E43214") for f in shelters
    )
    # Places, not works.
    assert session.scalars(select(Project)).all() == []
