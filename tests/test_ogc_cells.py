"""Low-zoom tiles of every visible work read the cells' counts (tracker/ogc/cells.py, kept by
triggers): they must be the very tiles that counting the works themselves gives."""

import random

from geoalchemy2.shape import from_shape
from shapely.geometry import LineString, Point
from sqlalchemy import delete, select

from tests.conftest import MIYAJI_STATION
from tests.test_ogc import decode_tile, get_tile, tile_of
from tracker.core import clock
from tracker.ogc.cells import SUMMARY_ZOOM, WorkCell
from tracker.ogc.tiles import _summed_tile_statement
from tracker.projects.models import Project
from tracker.words.vocab import STATUSES

EVERY_STATUS = {"status": ",".join(STATUSES)}


def _scattered_works(make_project) -> list[Project]:
    """Works around Miyaji: points, short and long lines, some close together, one private."""
    rng = random.Random(5)
    lon, lat = MIYAJI_STATION
    works = []
    for i in range(40):
        x, y = lon + rng.uniform(-0.06, 0.06), lat + rng.uniform(-0.04, 0.04)
        if i % 4 == 0:
            length = rng.choice((0.0005, 0.01, 0.08))
            works.append(make_project(kind="road", geometry=LineString([(x, y), (x + length, y)])))
        else:
            kind = rng.choice(("bridge", "sabo", "shelter"))
            works.append(make_project(kind=kind, geometry=Point(x, y), is_public=i % 7 != 0))
    return works


def _same_tiles(client, tmp_path, **query) -> None:
    """Each tile from the counts equals the tile counted from the works (a filter that keeps
    every work takes the counting way)."""
    lon, lat = MIYAJI_STATION
    for z in range(9, SUMMARY_ZOOM + 1):
        x0, y0 = tile_of(lon, lat, z)
        for x, y in ((x0, y0), (x0 + 1, y0 + 1)):
            summed = get_tile(client, z, x, y, query_string=query)
            counted = get_tile(client, z, x, y, query_string=query | EVERY_STATUS)
            assert summed.status_code == counted.status_code == 200
            key = lambda f: sorted((k, str(v)) for k, v in f.items())  # noqa: E731
            assert sorted(map(key, decode_tile(summed.data, z, x, y, tmp_path))) == sorted(
                map(key, decode_tile(counted.data, z, x, y, tmp_path))
            ), (z, x, y)


def test_tiles_from_the_counts_equal_tiles_counted_from_the_works(
    client, session, make_project, login_as, make_user, tmp_path
):
    works = _scattered_works(make_project)
    assert session.scalar(select(WorkCell.works).where(WorkCell.works > 0).limit(1))
    _same_tiles(client, tmp_path)
    # Moved, withdrawn and deleted works leave their cells; a new one joins.
    lon, lat = MIYAJI_STATION
    works[1].geom = from_shape(Point(lon + 0.03, lat - 0.02), srid=4326)
    works[2].withdrawn_at, works[2].withdrawn_reason = clock.now(), "重複"
    session.flush()
    session.execute(delete(Project).where(Project.id == works[3].id))
    make_project(kind="bridge", geometry=Point(lon - 0.02, lat + 0.01))
    _same_tiles(client, tmp_path)
    login_as(make_user(role="viewer"))
    _same_tiles(client, tmp_path)
    _same_tiles(client, tmp_path, public="true")


def test_whole_layer_tiles_share_one_statement(client, make_project):
    # Its numbers are bound: tiles of any place and zoom up to SUMMARY_ZOOM run the same one.
    lon, lat = MIYAJI_STATION
    make_project(kind="bridge", geometry=Point(lon, lat))
    _summed_tile_statement.cache_clear()
    for z in (11, 13, SUMMARY_ZOOM):
        assert get_tile(client, z, *tile_of(lon, lat, z)).status_code == 200
    info = _summed_tile_statement.cache_info()
    assert (info.misses, info.hits) == (1, 2)
