"""Imports run as jobs: files beyond the limits are refused at upload, in words; the page
follows the job to its report; files expire after a day; failures are said; two workers never
take one job."""

import json
import re
import uuid
from datetime import timedelta

import time_machine
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from tests.import_files import csv_of_columns, csv_of_rows, workbook_of_columns, workbook_of_rows
from tests.test_import_page import finished, run_jobs, upload
from tests.test_metrics import _figures, _value
from tracker.accounts.models import User
from tracker.core import clock
from tracker.imports.jobs import claim_next
from tracker.imports.models import ImportJob
from tracker.projects.models import Project

WORKS = "事業名,種別,担当課,緯度,経度\r\n宮地の橋,橋梁,建設課,32.937,131.11879\r\n".encode()


def count_jobs(session) -> int:
    return session.scalar(select(func.count()).select_from(ImportJob))


def job_id_of(response) -> int:
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_a_million_row_workbook_is_refused_at_upload_naming_the_limit(
    client, session, make_user, login_as
):
    login_as(make_user(role="staff"))
    response = upload(client, workbook_of_rows(1_000_000), "works.xlsx")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "行が多すぎます。20,000 行まで読めます" in page
    assert "1,000,001 行目まで使われています" in page
    assert count_jobs(session) == 0  # nothing queued, nothing kept


def test_too_many_columns_or_rows_are_refused_at_upload_in_words(client, make_user, login_as):
    login_as(make_user(role="staff"))
    wide = upload(client, csv_of_columns(100_000), "works.csv")
    assert wide.status_code == 400
    assert "列が多すぎます。100 列まで読めます（このファイルは 100,000 列）" in wide.text
    long = upload(client, csv_of_rows(1_000_000), "works.csv")
    assert long.status_code == 400
    assert "20,000 行まで読めます（このファイルは 20,002 行以上）" in long.text
    sheet = upload(client, workbook_of_columns(16_384), "works.xlsx")
    assert sheet.status_code == 400 and "このファイルは 16,384 列" in sheet.text


def test_the_limits_are_said_in_english_too(client, make_user, login_as):
    login_as(make_user(role="staff"))
    client.get("/projects/import?lang=en")
    response = upload(client, workbook_of_rows(1_000_000), "works.xlsx")
    assert response.status_code == 400
    assert "up to 20,000 rows" in response.text and "1,000,001" in response.text


def test_a_file_at_the_limits_is_checked(app, client, make_user, login_as):
    login_as(make_user(role="staff"))
    page = finished(app, client, upload(client, workbook_of_rows(20_000), "works.xlsx"))
    # Read in full: every row refused for what it lacks, none for the file's size.
    assert page.status_code == 200 and "取込不可 20000" in page.text
    assert "行が多すぎます" not in page.text


def test_a_gis_layer_beyond_the_limit_is_refused_by_the_worker_before_reading(
    app, client, make_user, login_as
):
    login_as(make_user(role="staff"))
    feature = {
        "type": "Feature",
        "properties": {"事業名": "橋"},
        "geometry": {"type": "Point", "coordinates": [131.1, 32.9]},
    }
    doc = {"type": "FeatureCollection", "features": [feature] * 20_001}
    page = finished(app, client, upload(client, json.dumps(doc).encode(), "works.geojson"))
    assert page.status_code == 400
    assert "地物が多すぎます。20,000 件まで読めます（このファイルは 20,001 件）" in page.text


def test_the_page_follows_the_job_then_shows_the_report(app, client, session, make_user, login_as):
    login_as(make_user(role="staff"))
    queued = upload(client, WORKS, "works.csv")
    assert queued.status_code == 303
    job_id = job_id_of(queued)

    waiting = client.get(queued.headers["Location"])
    assert waiting.status_code == 202
    page = waiting.text
    # Without JavaScript the page reloads itself; with it, a script file asks for progress.
    assert '<noscript><meta http-equiv="refresh"' in page
    assert f'href="/projects/import/jobs/{job_id}"' in page
    assert re.search(r'<script src="[^"]*import_job[^"]*\.js"', page)
    assert "<script>" not in page
    progress = client.get(f"/projects/import/jobs/{job_id}/progress").get_json()
    assert progress["state"] == "queued" and progress["finished"] is False
    assert progress["words"] == "順番を待っています"

    assert "1 import jobs run" in run_jobs(app)
    progress = client.get(f"/projects/import/jobs/{job_id}/progress").get_json()
    assert progress["state"] == "done" and progress["finished"] is True
    done = client.get(queued.headers["Location"])
    assert done.status_code == 200 and "試行の結果" in done.text and "追加 1" in done.text
    assert "<noscript><meta" not in done.text
    assert session.scalar(select(Project).where(Project.name == "宮地の橋")) is None


def test_an_import_writes_its_works_with_its_job_and_drops_the_file(
    app, client, session, make_user, login_as
):
    login_as(make_user(role="staff"))
    checked = finished(app, client, upload(client, WORKS, "works.csv"))
    job = re.search(r'name="job" value="(\d+)"', checked.text).group(1)
    imported = client.post("/projects/import", data={"job": job, "action": "import"})
    page = finished(app, client, imported)
    assert page.status_code == 200 and "取り込みました" in page.text
    assert session.scalar(select(Project).where(Project.name == "宮地の橋")) is not None
    session.expire_all()
    kept = session.execute(
        select(ImportJob.kind, ImportJob.state, ImportJob.data.is_(None)).order_by(ImportJob.id)
    ).all()
    assert kept == [("check", "done", False), ("import", "done", True)]


def test_another_persons_job_is_not_found(client, make_user, login_as):
    login_as(make_user(role="staff"))
    queued = upload(client, WORKS, "works.csv")
    login_as(make_user(role="staff"))
    assert client.get(queued.headers["Location"]).status_code == 404
    taken = client.post("/projects/import", data={"job": str(job_id_of(queued))})
    assert taken.status_code == 400 and "もう一度ファイルを選んでください" in taken.text


def test_a_checked_file_expires_after_a_day(app, client, session, make_user, login_as):
    staff = make_user(role="staff")
    login_as(staff)
    checked = upload(client, WORKS, "works.csv")
    run_jobs(app)
    job_id = job_id_of(checked)
    with time_machine.travel(clock.now() + timedelta(hours=23), tick=False):
        login_as(staff)  # a sign-in idle for hours has ended
        run_jobs(app)
        assert client.get(checked.headers["Location"]).status_code == 200
    with time_machine.travel(clock.now() + timedelta(days=1, minutes=1), tick=False):
        login_as(staff)
        run_jobs(app)
        page = client.get(checked.headers["Location"])
        assert page.status_code == 410 and "1日を過ぎたため消しました" in page.text
        again = client.post("/projects/import", data={"job": str(job_id), "action": "import"})
        assert again.status_code == 400 and "もう一度ファイルを選んでください" in again.text
    session.expire_all()
    job = session.get(ImportJob, job_id)
    assert job.state == "expired" and session.scalar(
        select(ImportJob.data.is_(None)).where(ImportJob.id == job_id)
    )


def test_a_broken_file_fails_its_job_with_the_reason(app, client, make_user, login_as):
    login_as(make_user(role="staff"))
    page = finished(app, client, upload(client, b"PK\x03\x04 not a workbook", "works.xlsx"))
    assert page.status_code == 400 and "Excel（.xlsx）として開けません" in page.text


def test_a_job_that_breaks_is_failed_in_words(app, client, session, make_user, login_as):
    login_as(make_user(role="staff"))
    queued = upload(client, WORKS, "works.csv")
    # The file gone under the job: the worker cannot go on, and says so.
    session.execute(update(ImportJob).values(data=None))
    run_jobs(app)
    page = client.get(queued.headers["Location"])
    assert page.status_code == 500 and "システムのエラーで止まりました" in page.text
    assert "何も書き込んでいません" in page.text


def test_a_job_left_by_a_dead_worker_is_failed_in_words(app, client, session, make_user, login_as):
    login_as(make_user(role="staff"))
    queued = upload(client, WORKS, "works.csv")
    assert claim_next(session) == job_id_of(queued)  # taken by a worker that then died
    session.flush()
    assert client.get(queued.headers["Location"]).status_code == 202
    with time_machine.travel(clock.now() + timedelta(minutes=11), tick=False):
        run_jobs(app)
        page = client.get(queued.headers["Location"])
    assert page.status_code == 500 and "途中で止まりました" in page.text


def test_metrics_count_the_import_jobs(app, client, make_user, login_as):
    login_as(make_user(role="staff"))
    before = _figures(client.get("/metrics"))
    upload(client, WORKS, "works.csv")
    queued = _figures(client.get("/metrics"))
    labels = {"kind": "check", "state": "queued"}
    assert _value(queued, "tracker_import_jobs", **labels) == (
        _value(before, "tracker_import_jobs", **labels) + 1
    )
    run_jobs(app)
    done = _figures(client.get("/metrics"))
    assert _value(done, "tracker_import_jobs", kind="check", state="done") == (
        _value(before, "tracker_import_jobs", kind="check", state="done") + 1
    )
    assert _value(done, "tracker_import_oldest_queued_job_age_seconds") == 0


def test_two_workers_never_take_one_job(engine):
    """Two workers, each in its own transaction on its own connection, as in production."""
    with Session(engine) as session:
        owner = User(login=f"jobs-{uuid.uuid4().hex[:8]}", role="staff", password_hash="!")
        session.add(owner)
        session.flush()
        jobs = [
            ImportJob(kind="check", owner_id=owner.id, filename="a.csv", data=WORKS, options={})
            for _ in range(2)
        ]
        session.add_all(jobs)
        session.flush()
        owner_id, ids = owner.id, [job.id for job in jobs]
        session.commit()
    try:
        with Session(engine) as first, Session(engine) as second:
            taken = claim_next(first)  # holds the oldest job's row until it commits
            assert taken == ids[0]
            assert claim_next(second) == ids[1]  # skips the locked row, takes the next
            first.commit()
            second.commit()
        with Session(engine) as third:
            assert claim_next(third) is None  # both are running now
            states = third.scalars(select(ImportJob.state).where(ImportJob.id.in_(ids))).all()
            assert states == ["running", "running"]
    finally:
        with Session(engine) as session:
            session.execute(delete(User).where(User.id == owner_id))  # its jobs go with it
            session.commit()


def test_the_upload_form_says_the_limits(client, make_user, login_as):
    login_as(make_user(role="staff"))
    page = client.get("/projects/import").text
    assert "20 MB、20,000 行、100 列まで" in page


def test_an_upload_keeps_nothing_on_disk(app, client, make_user, login_as, tmp_path):
    login_as(make_user(role="staff"))
    finished(app, client, upload(client, WORKS, "works.csv"))
    uploads = tmp_path / "uploads"
    assert not uploads.exists() or not any(uploads.rglob("*"))
