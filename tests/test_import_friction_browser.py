"""The import page in Chromium on a phone and a projector, in both languages: every reason
a row is refused for is shown at once, beside the words the import accepts."""

import pytest

from tests.test_accessibility import check
from tests.test_import_page import run_jobs
from tests.test_staff_browser import sign_in

# One row wrong in four cells: its kind, its status, its progress and its date.
WORKS = (
    "事業名,種別,状況,進捗率,担当課,計画開始,緯度,経度\r\n"
    "宮地の橋,つり橋,途中,百,建設課,昨日,32.937,131.11879\r\n"
).encode()
# The file's own values, shown inside the reasons: data, not interface text.
CELLS = ["つり橋", "途中", "百", "昨日", "宮地の橋", "works.csv"]


@pytest.mark.parametrize("width", [375, 1920])
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_every_reason_of_a_row_is_shown_at_once(
    app, live_server, page, client, login_as, make_user, lang, width
):
    sign_in(page, live_server, client, login_as, make_user(role="staff"))
    page.set_viewport_size({"width": width, "height": 812 if width == 375 else 1080})
    page.goto(f"{live_server}/projects/import?lang={lang}")
    page.locator("#import-words summary").click()
    words = page.locator("#import-words")
    assert "施工中" in words.inner_text() and "砂防" in words.inner_text()
    assert "in progress" in words.inner_text()
    page.set_input_files(
        "#file", files=[{"name": "works.csv", "mimeType": "text/csv", "buffer": WORKS}]
    )
    page.locator("button[value=check]").click()
    page.wait_for_url("**/projects/import/jobs/*")
    run_jobs(app)  # the worker, while the page waits
    reasons = page.locator(".import-reasons li")
    reasons.first.wait_for(timeout=15000)
    shown = reasons.all_inner_texts()
    assert len(shown) == 4
    if lang == "ja":
        assert [r.split("：")[0] for r in shown] == ["種別", "状況", "進捗", "予定開始日"]
        assert "「つり橋」は使えません" in shown[0]
    else:
        assert "“つり橋” cannot be used" in shown[0] and "Erosion control" in shown[0]
        assert "Under construction" in shown[1]
        assert "Cannot be read as a date" in shown[3]
    for reason in range(4):
        box = reasons.nth(reason).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
    errors_link = page.locator("a[href$='/errors.csv']")
    assert errors_link.is_visible()
    report, problems = [], []
    check(page, "import refused row", lang, width, report, problems, data=CELLS)
    assert problems == []
