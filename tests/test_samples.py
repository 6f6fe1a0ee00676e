"""A production install keeps no sample data, and remove-samples takes it out of a demo
database: works, history, restrictions, figures and photo files, with an audit row each."""

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from config import ROOT
from tests.live_database import sibling_url
from tests.test_photos import files_in, jpeg_with_gps, post_with_photos
from tracker import create_app
from tracker.accounts.operations import create_token
from tracker.core import migrate
from tracker.core.dbadmin import recreate_database
from tracker.core.errors import BadInput
from tracker.facilities.models import Facility
from tracker.indicators.models import IndicatorFigure
from tracker.projects.audit import ProjectChange
from tracker.projects.models import Project
from tracker.restrictions.models import TrafficRestriction
from tracker.wiring.loaders import load_all
from tracker.wiring.samples import remove_photo_files, remove_samples

GEODATA = str(ROOT / "geodata")


def _count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_the_production_path_loads_the_city_and_never_the_samples(database_url, tmp_path):
    url = sibling_url(database_url, "install")
    recreate_database(url)
    migrate.upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "x", "UPLOAD_DIR": str(tmp_path)})
    runner = app.test_cli_runner()
    installed = runner.invoke(args=["load-data", "--no-samples"])
    assert installed.exit_code == 0, installed.output
    # Later runs of load-data (as `make run` does) keep the installation without samples.
    again = runner.invoke(args=["load-data"])
    assert "sample data: none in this installation" in again.output
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            assert _count(session, Project) == 0
            assert _count(session, Facility, Facility.designations.any("shelter")) == 38
            assert _count(session, IndicatorFigure) == 0
    finally:
        engine.dispose()


@pytest.fixture
def admin_headers(session, make_user):
    return {"Authorization": f"Bearer {create_token(session, make_user('admin'))}"}


@pytest.fixture
def samples(session):
    for _line in load_all(session, GEODATA, samples=True):
        pass
    session.flush()
    return session.scalars(select(Project).where(Project.is_sample.is_(True))).all()


def test_remove_samples_takes_them_out_with_their_photo_files(
    app, client, session, samples, admin_headers
):
    assert len(samples) == 86
    assert _count(session, TrafficRestriction) > 0 and _count(session, IndicatorFigure) > 0
    work = samples[0]
    posted = post_with_photos(client, work, admin_headers, [("site.jpg", jpeg_with_gps())])
    assert posted.status_code == 201, posted.json
    upload_dir = app.config["UPLOAD_DIR"]
    assert len(files_in(upload_dir)) == 3

    # A person recorded on a sample work: that record may be real, so nothing goes.
    with pytest.raises(BadInput) as refused:
        remove_samples(session)
    assert work.name in refused.value.text and "--include-recorded" in refused.value.text
    assert _count(session, Project, Project.is_sample.is_(True)) == 86

    removal = remove_samples(session, include_recorded=True)
    session.flush()
    assert (removal.works, removal.photos) == (86, 1)
    assert _count(session, Project, Project.is_sample.is_(True)) == 0
    assert _count(session, TrafficRestriction) == 0
    assert _count(session, IndicatorFigure, IndicatorFigure.is_sample.is_(True)) == 0
    assert remove_photo_files(session, upload_dir) == 3 and files_in(upload_dir) == []
    deleted = session.scalars(select(ProjectChange).where(ProjectChange.action == "delete")).all()
    assert {row.project_id for row in deleted} == {p.id for p in samples}
    # Once removed, load-data does not bring them back.
    lines = list(load_all(session, GEODATA, samples=True))
    assert lines[-1] == "sample data: none in this installation"
    assert _count(session, Project) == 0


def test_remove_samples_leaves_the_citys_own_works(session, samples, make_project):
    own = make_project(name="市道 内牧線 舗装")
    removal = remove_samples(session)
    assert removal.works == 86
    assert session.scalars(select(Project.id)).all() == [own.id]
