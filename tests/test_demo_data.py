"""Synthetic projects for benchmarks stay inside the city and are marked as such."""

from sqlalchemy import func, select

from tracker.city.models import CityBoundary
from tracker.projects.demo import add_demo_projects
from tracker.projects.history import StatusUpdate
from tracker.projects.models import Project


def test_demo_projects_are_inside_the_city_with_history(session):
    before = session.scalar(select(func.count(Project.id)))
    assert add_demo_projects(session, 2000, seed=7) == 2000
    demo = select(Project).where(Project.name.like("デモ事業 %"))
    rows = session.scalars(demo).all()
    assert len(rows) == 2000
    assert session.scalar(select(func.count(Project.id))) == before + 2000
    boundary = select(CityBoundary.geom).scalar_subquery()
    outside = session.scalar(
        select(func.count(Project.id)).where(
            Project.id.in_([p.id for p in rows]),
            # Clipped lines end on the edge; allow for floating point (about 1 m).
            ~func.ST_Covers(func.ST_Buffer(boundary, 0.00001), Project.geom),
        )
    )
    assert outside == 0
    assert all(p.is_sample for p in rows)
    assert {p.kind for p in rows} == {
        "road",
        "bridge",
        "revetment",
        "sabo",
        "shelter",
        "pavement",
        "seismic",
    }
    with_history = session.scalar(
        select(func.count(func.distinct(StatusUpdate.project_id))).where(
            StatusUpdate.project_id.in_([p.id for p in rows])
        )
    )
    assert with_history == 2000
