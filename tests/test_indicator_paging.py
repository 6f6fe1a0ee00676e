"""An indicator's page lists the works it counts a page at a time, the total in its heading."""

import re

from tracker.meeting import views


def test_counted_works_are_listed_a_page_at_a_time(client, make_project, monkeypatch):
    monkeypatch.setattr(views, "INDICATOR_WORKS_PER_PAGE", 2)
    ids = [
        make_project(
            name=f"橋{n}",
            status="completed",
            progress=100,
            indicator_codes=["m13_bridges_repaired"],
        ).id
        for n in range(5)
    ]

    def listed(html):
        return [int(i) for i in re.findall(r'<li><a href="/projects/(\d+)"', html)]

    first = client.get("/plan/indicators/m13_bridges_repaired").get_data(as_text=True)
    assert "数えた事業（5 件）" in first
    assert listed(first) == ids[:2]
    assert 'rel="next"' in first and 'rel="prev"' not in first

    last = client.get("/plan/indicators/m13_bridges_repaired?page=3").get_data(as_text=True)
    assert listed(last) == ids[4:]
    assert 'rel="prev"' in last and 'rel="next"' not in last
    # Past the last page: the last page.
    beyond = client.get("/plan/indicators/m13_bridges_repaired?page=9").get_data(as_text=True)
    assert listed(beyond) == ids[4:]


def test_a_page_that_is_not_a_number_is_refused(client):
    assert client.get("/plan/indicators/m13_bridges_repaired?page=x").status_code == 400
