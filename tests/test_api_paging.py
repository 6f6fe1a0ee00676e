"""GET /api/projects answers a page at a time; following Link: rel="next" reads every work."""

import re

from tests.test_api import _ids


def _next(response):
    link = response.headers.get("Link")
    if link is None:
        return None
    return re.fullmatch(r'<([^>]+)>; rel="next"', link).group(1)


def test_following_the_next_links_reads_every_public_work_once(client, make_project):
    made = {make_project(name=f"事業{n}").id for n in range(7)}
    hidden = make_project(name="非公開", is_public=False).id

    seen, url, pages = [], "/api/projects?limit=3&kind=bridge", 0
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200
        body = response.get_json()
        assert body["numberReturned"] == len(body["features"]) <= 3
        seen += [f["id"] for f in body["features"]]
        url, pages = _next(response), pages + 1
        assert url is None or "kind=bridge" in url  # the filter travels with the cursor

    assert pages == 3
    assert len(seen) == len(set(seen)) and set(seen) >= made
    assert hidden not in seen
    assert seen == sorted(seen)


def test_without_a_limit_a_page_holds_a_thousand(client, make_project):
    make_project()
    response = client.get("/api/projects")

    assert "Link" not in response.headers
    assert response.get_json()["numberReturned"] == len(_ids(response))


def test_a_page_of_exactly_the_rest_has_no_next_link(client, make_project):
    for n in range(2):
        make_project(name=f"事業{n}")
    total = len(_ids(client.get("/api/projects")))

    assert "Link" not in client.get(f"/api/projects?limit={total}").headers
    assert "Link" in client.get(f"/api/projects?limit={total - 1}").headers


def test_bad_cursor_and_limit_are_refused_naming_the_field(client):
    for query, field in (("cursor=xyz", "cursor"), ("cursor=", "cursor"), ("limit=0", "limit"),
                         ("limit=10001", "limit")):  # fmt: skip
        response = client.get(f"/api/projects?{query}")
        assert response.status_code == 400, query
        assert response.get_json()["field"] == field, query
