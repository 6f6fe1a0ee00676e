"""The staff import page: mapping shown and fixed, dry run listed, then the import."""

import io
import re

from openpyxl import load_workbook
from sqlalchemy import select

from tracker.imports.reading import read_table
from tracker.projects.models import Project
from tracker.worksfiles.columns import recognise


def upload(client, data: bytes, filename: str, **form):
    return client.post(
        "/projects/import",
        data={"file": (io.BytesIO(data), filename), **form},
        content_type="multipart/form-data",
    )


def run_jobs(app) -> str:
    """Run the import worker once over the queue, as `flask run-import-jobs --once` does."""
    result = app.test_cli_runner().invoke(args=["run-import-jobs", "--once"])
    assert result.exit_code == 0, result.output
    return result.output


def finished(app, client, queued):
    """Run the job the page queued and return its page (as the browser lands on it)."""
    assert queued.status_code == 303, queued.get_data(as_text=True)
    run_jobs(app)
    return client.get(queued.headers["Location"])


def test_mapping_is_fixed_then_dry_run_then_import(app, client, session, make_user, login_as):
    login_as(make_user(role="staff"))
    data = "事業名,種別,担当課,緯度,経度,工区\r\n宮地の橋,橋梁,建設課,32.937,131.11879,第1工区\r\n"
    first = finished(app, client, upload(client, data.encode("cp932"), "works.csv"))
    page = first.get_data(as_text=True)
    assert first.status_code == 400
    assert "「工区」" in page and "Shift_JIS（cp932）" in page
    assert 'name="column-5"' in page and "選んでください" in page
    job = re.search(r'name="job" value="([^"]+)"', page).group(1)

    form = {"job": job, "column-5": "description"}
    dry = finished(app, client, client.post("/projects/import", data=form | {"action": "check"}))
    page = dry.get_data(as_text=True)
    assert dry.status_code == 200 and "試行の結果" in page and "追加 1" in page
    assert 'value="import"' in page
    assert session.scalar(select(Project).where(Project.name == "宮地の橋")) is None

    checked = re.search(r'name="job" value="([^"]+)"', page).group(1)
    form = {"job": checked, "column-5": "description"}
    done = finished(app, client, client.post("/projects/import", data=form | {"action": "import"}))
    assert done.status_code == 200 and "取り込みました" in done.get_data(as_text=True)
    project = session.scalar(select(Project).where(Project.name == "宮地の橋"))
    assert project.description == "第1工区"


def test_refused_rows_are_listed_with_line_and_reason(app, client, make_user, login_as):
    login_as(make_user(role="staff"))
    data = "事業名,種別,担当課,緯度,経度\r\n遠い橋,橋梁,建設課,33.5,131.5\r\n"
    response = finished(app, client, upload(client, data.encode(), "works.csv", action="import"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "何も書き込んでいません" in page and "阿蘇市の区域から約" in page


def test_a_file_too_large_is_refused_with_a_message(client, make_user, login_as):
    login_as(make_user(role="admin"))
    response = upload(client, b"x" * (50 * 1024 * 1024), "big.csv")
    assert response.status_code == 400 and "大きすぎます" in response.get_data(as_text=True)


def test_templates_download_and_read_back(client, make_user, login_as):
    login_as(make_user(role="staff"))
    xlsx = client.get("/projects/import/template.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert sheet["A1"].value == "事業番号" and sheet["B2"].value.startswith("市道")
    for ext in ("csv", "xlsx"):
        table = read_table(client.get(f"/projects/import/template.{ext}").data, f"t.{ext}")
        assert len(table.rows) == 1 and "事業名" in table.headers
        # Every header is one the import reads, the works register's too.
        fields = recognise(table.headers)
        assert "" not in fields.values() and "planned_cost" in fields.values()


def test_viewers_cannot_open_the_page(client, make_user, login_as):
    login_as(make_user(role="viewer"))
    assert client.get("/projects/import").status_code == 403
