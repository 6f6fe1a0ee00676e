"""/plan/changes lists every kind of change, and the last 30 days before a date is chosen."""

import re
from datetime import timedelta

from tracker.core import clock
from tracker.projects.history import append_status
from tracker.restrictions.operations import add_restriction, change_restriction, end_restriction


def test_progress_with_a_note_and_restriction_events_are_listed(client, session, make_project):
    road = make_project(name="市道の改良", kind="road", status="construction", progress=10)
    append_status(session, road.id, status="construction", progress=35, note="舗装を始めました")
    restriction = add_restriction(
        session, road, kind="closed", starts_on=clock.today(), description="終日通行止め"
    )
    change_restriction(
        session, restriction, {"reason": "工期延長"}, expected_version=restriction.version,
        user=None,
    )  # fmt: skip
    end_restriction(session, restriction)

    html = client.get("/plan/changes").get_data(as_text=True)

    categories = re.findall(r'<tr data-category="(\w+)">', html)
    for category in ("new", "progress", "restriction_added", "restriction_changed",
                     "restriction_lifted"):  # fmt: skip
        assert category in categories, category
    progress = html[html.index('<tr data-category="progress">') :]
    progress = progress[: progress.index("</tr>")]
    assert "10% → 35%" in progress and "舗装を始めました" in progress
    assert "通行規制の開始" in html and "通行規制の解除" in html
    assert '<span data-category="progress">進捗の報告 <strong>1</strong>' in html


def test_without_a_date_the_last_30_days_are_shown(client, make_project):
    make_project(name="先週の事業", created_at=clock.now() - timedelta(days=7))
    make_project(name="二か月前の事業", created_at=clock.now() - timedelta(days=60))

    html = client.get("/plan/changes").get_data(as_text=True)

    since = (clock.today() - timedelta(days=30)).isoformat()
    assert f'name="since" value="{since}"' in html
    assert "最近30日間の変更を表示しています" in html
    assert "先週の事業" in html and "二か月前の事業" not in html
    chosen = client.get(f"/plan/changes?since={clock.today() - timedelta(days=90)}").text
    assert "二か月前の事業" in chosen and "最近30日間" not in chosen
    english = client.get("/plan/changes?lang=en").get_data(as_text=True)
    assert "the last 30 days" in english and "Restriction added" in english
