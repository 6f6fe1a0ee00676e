"""The import page in Chromium: the file posted, the job's page following its progress with
its script, then the report, without a reload by hand; the job's page checked by axe."""

from tests.test_accessibility import check
from tests.test_import_jobs import WORKS
from tests.test_import_page import run_jobs
from tests.test_staff_browser import sign_in


def test_the_job_page_shows_the_report_when_the_worker_is_done(
    app, live_server, page, client, login_as, make_user
):
    sign_in(page, live_server, client, login_as, make_user(role="staff"))
    page.goto(live_server + "/projects/import")
    page.set_input_files(
        "#file", files=[{"name": "works.csv", "mimeType": "text/csv", "buffer": WORKS}]
    )
    page.get_by_role("button", name="試行（書き込まない）").click()
    page.wait_for_url("**/projects/import/jobs/*")
    assert page.locator("#import-progress-words").inner_text() == "順番を待っています"
    report, problems = [], []
    check(page, "import job waiting", "ja", 1280, report, problems, data=["works.csv"])
    page.goto(page.url + "?lang=en")
    assert page.locator("#import-progress-words").inner_text() == "Waiting for its turn"
    check(page, "import job waiting", "en", 1280, report, problems, data=["works.csv"])
    page.goto(page.url.split("?")[0] + "?lang=ja")

    run_jobs(app)  # the worker, while the page waits
    page.locator("text=試行の結果（まだ書き込んでいません）").wait_for(timeout=15000)
    assert "追加 1" in page.locator(".import-counts").inner_text()
    assert page.get_by_role("button", name="取り込む").count() == 1
    check(page, "import job checked", "ja", 1280, report, problems, data=["works.csv"])
    assert problems == []
    assert page.errors == []
