"""The city map and project pages, in real Chromium with no internet."""

import re

from shapely.geometry import LineString

from tests.conftest import assert_no_csp_violations, local_only, watched_page

XSS_NAME = "<img src=x onerror=alert(1)>"


def test_map_draws_projects_offline_with_the_tile_credit(
    live_server, page, make_project, artifacts_dir
):
    bridge = make_project(name="宮地橋 補修", status="construction", progress=30)
    road = make_project(
        name="市道 改良",
        kind="road",
        status="completed",
        progress=100,
        geometry=LineString([(131.04, 32.94), (131.05, 32.945)]),
    )
    hidden = make_project(name="内部検討", kind="sabo", is_public=False)
    outside_requests = []
    page.on("requestfailed", lambda r: outside_requests.append(r.url))

    page.goto(live_server + "/")
    page.wait_for_function("() => window.asoMapReady === true", timeout=15000)

    assert page.evaluate("typeof window.L") == "object"
    assert page.evaluate("typeof L.vectorGrid.protobuf") == "function"
    # The two public test projects; the staff-only one is not drawn. The 38 GSI shelters
    # are places, not works: they have a layer of their own.
    assert page.evaluate("window.asoFeatureCount") == 2
    drawn = page.evaluate("AsoProjects.drawnIds()")
    assert {bridge.id, road.id} <= set(drawn) and hidden.id not in drawn
    page.wait_for_function("() => window.asoOverlaysReady === true")
    # Off until switched on: the works are this map's subject.
    assert page.locator(".aso-map").get_attribute("data-facilities-drawn") is None
    # Hovered first: Leaflet ignores a click in the moment the box opens on the pointer.
    page.locator(".leaflet-control-layers").hover()
    page.locator(".leaflet-control-layers label", has_text="指定避難所").locator("input").check()
    page.wait_for_selector(".aso-map[data-facilities-drawn='38']")
    credit = page.locator(".leaflet-control-attribution")
    assert "地理院タイル" in credit.inner_text()
    assert credit.locator("a[href='https://maps.gsi.go.jp/development/ichiran.html']").count()
    for label in ("未着手", "工事中", "完了", "橋梁", "道路"):
        assert page.locator(".leaflet-control", has_text=label).count() > 0, label
    assert page.errors == []
    # Only map tiles may have been wanted from the internet.
    assert all("cyberjapandata.gsi.go.jp" in url for url in outside_requests)
    page.screenshot(path=str(artifacts_dir / "city_map.png"))


def test_popup_shows_a_hostile_name_as_text(live_server, page, make_project):
    project = make_project(
        name=XSS_NAME, kind="road", geometry=LineString([(131.04, 32.94), (131.05, 32.945)])
    )
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(live_server + "/")
    page.wait_for_function("() => window.asoMapReady === true", timeout=15000)
    assert page.evaluate("(id) => AsoProjects.show(id)", project.id)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert XSS_NAME in popup.inner_text()
    assert popup.locator("img").count() == 0
    assert popup.locator(f"a[href$='/projects/{project.id}']").count() == 1
    assert dialogs == []


def test_project_page_shows_details_plan_links_and_history(client, make_project):
    project = make_project(
        name=XSS_NAME,
        status="design",
        progress=10,
        plan_item_codes=["p1.m2.i1"],
        indicator_codes=["m13_bridges_repaired"],
    )
    html = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and XSS_NAME not in html
    assert "社会インフラの復旧・機能強化（道路・河川・橋梁）" in html
    assert "補修済橋梁数" in html
    assert '<span class="what">設計中 10%</span>' in html


def test_private_and_unknown_projects_are_not_found(client, make_project):
    hidden = make_project(is_public=False)
    assert client.get(f"/projects/{hidden.id}").status_code == 404
    assert client.get("/projects/999999").status_code == 404


def test_sample_projects_are_marked_as_samples(client, make_project):
    project = make_project(is_sample=True)
    assert "サンプルデータ" in client.get(f"/projects/{project.id}").get_data(as_text=True)


def test_staff_find_edit_update_and_restriction_links_on_the_project_page(
    client, make_project, make_user, login_as
):
    project = make_project()
    anonymous = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "編集する" not in anonymous and f"/staff/projects/{project.id}" not in anonymous
    login_as(make_user(role="staff"))
    html = client.get(f"/projects/{project.id}").get_data(as_text=True)
    for href in (
        f"/projects/{project.id}/edit",
        f"/staff/projects/{project.id}",
        f"/projects/{project.id}/restrictions",
    ):
        assert f'href="{href}"' in html, href


def test_on_a_phone_the_map_and_its_credits_fit_the_screen(live_server, browser, artifacts_dir):
    context = browser.new_context(viewport={"width": 375, "height": 667}, has_touch=True)
    context.route("**/*", local_only)
    page = watched_page(context)
    try:
        page.goto(live_server + "/")
        page.wait_for_function("() => window.asoMapReady === true", timeout=15000)
        credit = page.locator(".leaflet-control-attribution")
        box = credit.bounding_box()
        # Seen without scrolling: the whole credit lies inside the first screen.
        assert box["y"] >= 0 and box["y"] + box["height"] <= 667
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375
        text = credit.inner_text()
        assert "地理院タイル" in text and "国土数値情報" in text and "国土地理院" in text
        assert page.locator(".map-notice").is_visible()
        assert page.evaluate("document.documentElement.scrollHeight") <= 667
        page.screenshot(path=str(artifacts_dir / "city_map_phone.png"))
        assert_no_csp_violations(page)
    finally:
        context.close()


def test_the_map_speaks_english_when_asked(live_server, page, make_project):
    project = make_project(name="宮地橋 補修", status="construction", progress=30, is_sample=True)
    page.goto(live_server + "/?lang=en")
    page.wait_for_function("() => window.asoMapReady === true", timeout=15000)

    legend = page.locator(".aso-legend").inner_text()
    for words in ("Legend", "Under construction", "Bridge", "Earthquake-proofing", "works"):
        assert words in legend, words
    assert "凡例" not in legend and "工事中" not in legend
    assert "GSI aerial photos" in page.locator(".leaflet-control-layers").inner_text()
    assert page.evaluate("(id) => AsoProjects.show(id)", project.id)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    text = popup.inner_text()
    assert "宮地橋 補修" in text and "Sample data" in text and "Under construction" in text
    assert popup.get_by_role("link", name="Details").count() == 1


def test_an_injected_inline_script_is_blocked_and_reported(live_server, page):
    page.goto(f"{live_server}/")
    page.wait_for_function("() => window.asoMapReady === true", timeout=15000)
    # What an injected <script> without this response's nonce would do: it must not run,
    # and the page fixture must see the violation (here taken out again, as it is wanted).
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.injected = true'; document.body.appendChild(s); }"
    )
    page.wait_for_function("() => window.__cspViolations.length > 0")
    assert page.evaluate("() => window.injected") is None
    assert "script-src" in page.evaluate("() => window.__cspViolations[0]")
    page.evaluate("() => { window.__cspViolations = []; }")
    page.wait_for_timeout(100)  # the console message of the same violation
    assert any("Content Security Policy" in text for text in page.csp_violations)
    page.csp_violations.clear()


def test_map_pages_never_wait_for_a_script_before_their_first_paint(client, make_project):
    # A phone on a slow network shows the page while Leaflet and the layers still load:
    # every script file is deferred, and the map's own script waits for them.
    project = make_project(name="宮地橋 補修")
    for path in ("/", "/plan", f"/projects/{project.id}"):
        html = client.get(path).get_data(as_text=True)
        files = re.findall(r"<script\b[^>]*\bsrc=[^>]*>", html)
        assert files and all(" defer" in tag for tag in files), (path, files)
        inline = re.findall(r"<script\b(?![^>]*\bsrc=)[^>]*>(.*?)</script>", html, re.DOTALL)
        map_scripts = [s for s in inline if "L.map(" in s]
        assert len(map_scripts) == 1, path
        assert map_scripts[0].startswith('document.addEventListener("DOMContentLoaded"'), path
