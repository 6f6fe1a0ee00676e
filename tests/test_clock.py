"""One clock: the run starts at its instant, the day is Japan's, rows and pages follow the clock,
and files' ages are read on the file system's own clock."""

import os
from datetime import UTC, date, datetime, timedelta

import pytest
from shapely.geometry import Point
from sqlalchemy import text

from tests.conftest import MIYAJI_STATION, START
from tracker.core import clock
from tracker.projects.operations import NewProject, create_projects

# 23:30 on 29 February in UTC is already 1 March in Japan.
LEAP_NIGHT = datetime(2028, 2, 29, 23, 30, tzinfo=UTC)
FAR_FROM_NOW = datetime(2030, 6, 1, 3, 0, tzinfo=UTC)


def test_the_run_starts_at_its_instant_and_time_flows_on():
    first = clock.now()
    assert START <= first < START + timedelta(hours=3)
    assert first.tzinfo is not None and first.utcoffset() == timedelta(0)
    assert clock.now() > first  # time flows: timeouts still run out


@pytest.mark.time_machine(LEAP_NIGHT, tick=False)
def test_today_is_the_day_in_japan():
    assert clock.now() == LEAP_NIGHT
    assert clock.today() == date(2028, 3, 1)
    assert clock.now_jst().isoformat() == "2028-03-01T08:30:00+09:00"


@pytest.mark.time_machine(FAR_FROM_NOW, tick=False)
def test_rows_are_stamped_by_the_clock_not_the_database(session, make_project):
    project = make_project()
    batch = create_projects(
        session,
        [
            NewProject(
                name="一括登録", kind="bridge", geometry=Point(*MIYAJI_STATION), department="建設課"
            )
        ],
        user=None,
    )
    stamps = session.execute(
        text(
            "SELECT p.created_at, p.updated_at, s.recorded_at, c.recorded_at FROM projects p"
            " JOIN status_updates s ON s.project_id = p.id"
            " JOIN project_changes c ON c.project_id = p.id WHERE p.id = ANY(:ids)"
        ),
        {"ids": [project.id, batch[0]]},
    ).all()
    assert len(stamps) == 2
    assert {stamp for row in stamps for stamp in row} == {FAR_FROM_NOW}


def test_pages_read_the_clock_of_the_run(page, live_server):
    page.goto(live_server + "/near")
    in_page = datetime.fromtimestamp(page.evaluate("Date.now()") / 1000, UTC)
    assert abs(in_page - clock.now()) < timedelta(minutes=1)


def test_files_ages_are_read_on_the_file_systems_clock(tmp_path):
    made = tmp_path / "made-just-now"
    made.write_bytes(b"x")
    age = clock.file_system_now(tmp_path) - os.stat(made).st_mtime
    assert 0 <= age < 60
