"""Every page and error, in Japanese and English, at 375 px and 1280 px, in real Chromium:
checked by axe-core (no serious or critical violation) and for interface text in the other
language (data such as project names, marked lang="ja", excepted).

axe-core comes from node_modules (npm, pinned in package-lock.json) and is put into each page
by Playwright; no page loads it, and nothing comes from a CDN. The counts of every run are
written to test-artifacts/axe_report.json.
"""

import json
import re
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect
from shapely.geometry import LineString, Point
from sqlalchemy import select

from config import ROOT
from tests.conftest import assert_no_csp_violations, local_only, serving, watched_page
from tests.test_staff_outbox_browser import go_offline
from tracker.accounts.models import LoginAttempt
from tracker.core import clock
from tracker.facilities.models import Facility
from tracker.projects.history import append_status
from tracker.projects.operations import update_project
from tracker.restrictions.operations import add_restriction

AXE_SOURCE = (ROOT / "node_modules" / "axe-core" / "axe.min.js").read_text()
WIDTHS = {"phone": 375, "desktop": 1280}
UCHINOMAKI = (131.0400, 32.9717)
BOWTIE_WKT = "POLYGON ((131.05 32.97, 131.06 32.98, 131.06 32.97, 131.05 32.98, 131.05 32.97))"
REPORT = ROOT / "test-artifacts" / "axe_report.json"

# Words that read the same in a Japanese page: formats, units, names of things.
LATIN_ALLOWED = {
    "km", "m", "CSV", "GeoJSON", "WKT", "JSON", "ID", "API", "A4", "A3", "Atom", "RSS",
    "JPEG", "PNG", "WebP", "MB", "KB", "OpenStreetMap", "contributors", "Leaflet", "ETag",
    "If-Match", "GET", "POST", "YYYY", "MM", "DD", "JavaScript", "WGS84", "URL", "IC",
    # File formats, standards and programs, named as they are in Japanese too.
    "Excel", "xlsx", "zip", "GeoPackage", "Shapefile", "GIS", "EPSG", "JGD", "II", "UTF",
    "Shift", "JIS", "OGC", "Features", "Tiles", "OpenAPI", "QGIS", "GDAL",
    # Open-data formats and standards (the catalogue).
    "WZDx", "Waze", "CIFS", "XML", "DCAT", "BOM",
}  # fmt: skip
JAPANESE = re.compile(r"[\u3000-\u303f\u3040-\u30ff\u3400-\u9fff\uff01-\uff5e]+")
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z-]*[A-Za-z]")

# Collects the page's interface text: every text node and the attributes people read
# (title, aria-label, alt, placeholder), less whatever is data. Data is what carries a lang
# attribute (names are marked lang="ja"; the language switch lang="en"/"ja"), translate="no"
# (login names, pasted GeoJSON) or data-names (feed titles that quote names), and what the
# visitor typed (`typed`); its texts are also cut out of attributes and the title that quote
# it (a marker's title).
INTERFACE_TEXT = """(typed) => {
  const dataSel = "body [lang], [data-names], [translate=no]";
  const data = Array.from(document.querySelectorAll(dataSel))
    .map((el) => el.textContent.trim()).concat(typed).filter((t) => t.length > 0)
    .sort((a, b) => b.length - a.length);
  const strip = (text) => data.reduce((t, d) => t.split(d).join(" "), text);
  const skip = (el) => el.closest(dataSel + ", script, style, noscript, template");
  const out = [strip(document.title)];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!skip(node.parentElement) && node.textContent.trim()) out.push(strip(node.textContent));
  }
  for (const el of document.body.querySelectorAll("[title], [aria-label], [alt], [placeholder]")) {
    // A map marker's title and alt are its work's name: data.
    if (skip(el) || el.classList.contains("leaflet-marker-icon")) continue;
    for (const name of ["title", "aria-label", "alt", "placeholder"]) {
      const value = el.getAttribute(name);
      if (value) out.push(strip(value));
    }
  }
  return out.map((t) => t.trim()).filter((t) => t.length > 0);
}"""

RUN_AXE = """async () => {
  const results = await axe.run(
    { exclude: [["xslt-warning-banner"]] },
    { resultTypes: ["violations"] }
  );
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
  }));
}"""


def other_language(texts: list[str], lang: str) -> list[str]:
    """Return the interface texts that are in the other language."""
    found = []
    for text in texts:
        if lang == "en":
            found += JAPANESE.findall(text)
        else:
            found += [w for w in LATIN_WORD.findall(text) if w not in LATIN_ALLOWED]
    return found


@pytest.fixture
def works(session, make_project, make_user):
    """Works of every kind and status, linked to the plan, with a restriction in force."""
    road = make_project(
        name="市道内牧駅前線 改良",
        kind="road",
        geometry=LineString([UCHINOMAKI, (UCHINOMAKI[0] + 0.004, UCHINOMAKI[1] + 0.001)]),
        status="construction",
        progress=45,
        plan_item_codes=["p1.m2.i1"],
        indicator_codes=["m13_road_improved"],
        department="建設課",
        planned_cost=48_510_000,
        contract_amount=45_100_000,
        contractor="阿蘇建設株式会社",
        funding="disaster_recovery",
    )
    restriction = add_restriction(
        session, road, kind="alternating", starts_on=clock.today() - timedelta(days=2),
        description="平日昼間は片側交互通行", days="weekdays", time_from="08:30",
        time_until="17:00", reason="護岸工事", contact="建設課 0967-22-3111",
        section=LineString([UCHINOMAKI, (UCHINOMAKI[0] + 0.002, UCHINOMAKI[1] + 0.0005)]),
        detour=LineString([UCHINOMAKI, (UCHINOMAKI[0], UCHINOMAKI[1] + 0.002)]),
    )  # fmt: skip
    # A designated shelter (loaded from GSI's file) with a work done on it.
    gym = session.scalars(select(Facility).order_by(Facility.id)).first()
    make_project(
        name="避難所の耐震補強", kind="seismic", geometry=Point(UCHINOMAKI[0] + 0.001, UCHINOMAKI[1]),
        facility_id=gym.id, planned_cost=120_000_000,
    )  # fmt: skip
    bridge = make_project(
        name="内牧の橋 補修",
        geometry=Point(UCHINOMAKI[0], UCHINOMAKI[1] + 0.002),
        status="completed",
        progress=100,
        actual_start=date(2021, 6, 1),
        actual_end=date(2022, 3, 1),
        indicator_codes=["m13_bridges_repaired"],
    )
    make_project(name="内牧の砂防", kind="sabo", geometry=Point(UCHINOMAKI[0], UCHINOMAKI[1]))
    make_project(
        name="内牧の舗装", kind="pavement", status="suspended", progress=20,
        geometry=LineString([(131.041, 32.972), (131.043, 32.9725)]),
    )  # fmt: skip
    return {"road": road, "bridge": bridge, "restriction": restriction, "facility": gym}


def sign_in_cookie(client, login_as, user) -> str:
    """Return a session cookie signed in as the user."""
    login_as(user)
    return client.get_cookie("session").value


def pages(works, when: str) -> list[tuple[str, str]]:
    """Return (name, path) of the pages to check for a visitor of this kind."""
    road, bridge = works["road"].id, works["bridge"].id
    here = f"lat={UCHINOMAKI[1]}&lon={UCHINOMAKI[0]}&radius=1000"
    if when == "anonymous":
        return [
            ("city map", "/"),
            ("works by district", "/works"),
            ("project", f"/projects/{bridge}"),
            ("near: choose", "/near"),
            ("near: results", "/near?place=d-uchinomaki&radius=1000"),
            ("near: follow", f"/near/follow?{here}"),
            ("near: a place too far", "/near?lat=32.80&lon=130.71&radius=1000"),
            ("near: feed", f"/near/feed.atom?{here}"),
            ("near: feed page", f"/near/feed?{here}"),
            ("restrictions", "/restrictions"),
            ("restrictions: filtered", "/restrictions?kind=alternating&area=d-uchinomaki"),
            ("sign-in", "/login"),
            ("meeting map", "/plan?kind=road,bridge"),
            ("indicators", "/plan/indicators"),
            ("indicator page", "/plan/indicators/m13_bridges_repaired"),
            ("coverage", "/plan/coverage"),
            ("changes", "/plan/changes?since=2020-01-01"),
            ("print A4", "/plan/print?size=A4&kind=bridge"),
            ("print A3", "/plan/print?size=A3"),
            ("hazard overlay", "/plan/hazards"),
            ("costs", "/plan/costs"),
            ("facility", f"/facilities/{works['facility'].id}"),
            ("alerts: a place", "/alerts/new?place=d-uchinomaki&radius=1000"),
            ("alerts: this work", f"/alerts/new?project={bridge}"),
            ("alerts: requested", "/alerts/requested"),
            ("OGC API", "/ogc/?f=html"),
            ("OGC collections", "/ogc/collections?f=html"),
            ("OGC items", "/ogc/collections/projects/items?f=html&limit=5"),
            ("OGC item", f"/ogc/collections/projects/items/{bridge}?f=html"),
            ("open-data catalogue", "/catalog"),
            ("error 404", "/no-such-page"),
            ("error 400", "/plan?kind=boat"),
            ("error 405", "/logout"),
            ("error 500", "/__fail"),
        ]
    if when == "staff":
        return [
            ("project (admin)", f"/projects/{road}"),
            ("staff home", "/staff/"),
            ("staff update", f"/staff/projects/{road}"),
            ("new project", "/projects/new"),
            ("edit project", f"/projects/{road}/edit"),
            ("restrictions", f"/projects/{road}/restrictions"),
            ("restriction: edit", f"/restrictions/{works['restriction'].id}/edit"),
            ("costs (staff)", "/plan/costs"),
            ("import works", "/projects/import"),
            ("hazard layers (admin)", "/admin/hazards"),
            ("alerts (admin)", "/admin/alerts"),
            ("indicators (staff)", "/plan/indicators"),
        ]
    return [("error 403", "/projects/new")]


def check(page, name: str, lang: str, width: int, report: list, problems: list, data=()) -> None:
    """Run axe and the language check on the page as it is now; `data` lists texts shown
    that are data, not interface (such as a person's name inside a sentence)."""
    # Evaluated through the DevTools protocol: a script tag would break the page's CSP.
    page.evaluate(AXE_SOURCE)
    violations = page.evaluate(RUN_AXE)
    counts = {impact: 0 for impact in ("critical", "serious", "moderate", "minor")}
    for v in violations:
        counts[v["impact"]] = counts.get(v["impact"], 0) + 1
    report.append({"page": name, "lang": lang, "width": width, **counts, "violations": violations})
    for v in violations:
        if v["impact"] in ("serious", "critical"):
            problems.append(f"{name} [{lang} {width}px] axe {v['impact']} {v['id']}: {v['nodes']}")
    typed = [v for values in parse_qs(urlsplit(page.url).query).values() for v in values]
    typed += list(data)
    wrong = other_language(page.evaluate(INTERFACE_TEXT, typed), lang)
    if wrong:
        problems.append(f"{name} [{lang} {width}px] other-language text: {sorted(set(wrong))}")
    blocked = page.evaluate("() => window.__cspViolations || []")
    if blocked:
        problems.append(f"{name} [{lang} {width}px] Content-Security-Policy: {blocked}")
    assert page.errors == [], (name, page.errors)


def send(page, url: str, fields: dict, button: str) -> None:
    """Open a form, fill its fields (select lists by value) and send it."""
    page.goto(url)
    for selector, value in fields.items():
        if page.locator(selector).evaluate("(el) => el.tagName") == "SELECT":
            page.select_option(selector, value)
        else:
            page.fill(selector, value)
    page.locator(button).click()


# Chromium shows a page styled by XSLT with a notice of its own whose inline handler the
# page's policy blocks. No element of the page itself has one (checked below), so that one
# report is the browser's, not the page's.
BROWSER_XSLT_NOTICE = "Executing inline event handler"
INLINE_HANDLERS = """() => Array.from(document.querySelectorAll("*")).flatMap((el) =>
  Array.from(el.attributes).filter((a) => a.name.startsWith("on")).map((a) => el.tagName + " " + a.name))"""


def visit(page, base: str, name: str, path: str, lang, width, report, problems) -> None:
    before = len(page.csp_violations)
    page.goto(base + path)
    if path.startswith("/near/feed.atom"):
        assert page.evaluate(INLINE_HANDLERS) == []
        page.wait_for_timeout(200)  # the console report arrives after the load
        page.csp_violations[before:] = [
            v for v in page.csp_violations[before:] if BROWSER_XSLT_NOTICE not in v
        ]
        page.evaluate("() => { window.__cspViolations = []; }")
    if name in ("city map", "meeting map", "staff home"):
        page.wait_for_function("() => window.asoMapReady === true", timeout=15000)
    if name in ("near: choose", "near: results", "near: a place too far"):
        page.wait_for_function("() => window.asoNearReady === true", timeout=15000)
    check(page, name, lang, width, report, problems)


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("size", list(WIDTHS))
def test_every_page_passes_axe_and_speaks_one_language(
    app, browser, session, client, login_as, make_user, works, lang, size
):
    width = WIDTHS[size]
    # An error page for a failure inside the app, as people would meet it (not re-raised).
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024

    def fail():
        raise RuntimeError("a failure inside the app")

    app.add_url_rule("/__fail", "fail", fail)
    admin_cookie = sign_in_cookie(client, login_as, make_user("admin", login="kanri"))
    viewer_cookie = sign_in_cookie(client, login_as, make_user("viewer", login="etsuran"))
    # Five failed sign-ins for one login: the next try is throttled (429).
    for _ in range(5):
        session.add(LoginAttempt(login="locked", address="127.0.0.1", succeeded=False))
    session.flush()

    report, problems = [], []
    with serving(app) as base:
        context = browser.new_context(
            viewport={"width": width, "height": 800}, locale="ja-JP", has_touch=width < 600
        )
        context.route("**/*", local_only)
        context.add_cookies([{"name": "lang", "value": lang, "url": base}])
        page = watched_page(context)

        for name, path in pages(works, "anonymous"):
            visit(page, base, name, path, lang, width, report, problems)

        # 413: a form too large to take; 429: a throttled sign-in.
        sign_in = "form.stacked button[type=submit]"
        for name, login in (("error 413", "x" * (70 * 1024)), ("error 429", "locked")):
            send(page, base + "/login", {"#login": login, "#password": "not the password"}, sign_in)
            check(page, name, lang, width, report, problems)

        context.add_cookies([{"name": "session", "value": admin_cookie, "url": base}])
        for name, path in pages(works, "staff"):
            visit(page, base, name, path, lang, width, report, problems)
        # A refused shape: explained on the form, the place marked on the map.
        shape = {"#name": "形の悪い砂防", "#kind": "sabo", "#department": "建設課"}
        shape["#geometry"] = BOWTIE_WKT
        send(page, base + "/projects/new", shape, ".actions button[type=submit]")
        page.wait_for_selector(".aso-problem-mark")
        check(page, "new project: refused shape", lang, width, report, problems)
        # A save refused because someone saved first (409): what changed meanwhile.
        page.goto(f"{base}/projects/{works['road'].id}/edit")
        update_project(
            session, works["road"], {"department": "土木課"},
            expected_version=works["road"].version, user=None,
        )  # fmt: skip
        session.flush()
        page.fill("#name", "市道内牧駅前線 改良（第2期）")
        page.locator(".actions button[type=submit]").click()
        page.wait_for_selector(".form-error.conflict")
        check(page, "edit project: saved meanwhile", lang, width, report, problems)
        # A recorded figure.
        figure = {"select[name=indicator]": "m13_revetment", "input[name=value]": "40"}
        figure["input[name=source]"] = "河川台帳"
        send(page, base + "/plan/indicators", figure, ".record-figure button[type=submit]")
        check(page, "figure recorded", lang, width, report, problems)
        # The staff form when someone recorded meanwhile, and an update the server refused.
        for name, show in (
            ("staff update: stale form", show_stale_form),
            ("staff update: refused updates", show_refused_update),
        ):
            show(page, base, session, make_user, works["road"])
            check(page, name, lang, width, report, problems, data=("阿蘇", "電波なしで記録"))

        context.add_cookies([{"name": "session", "value": viewer_cookie, "url": base}])
        for name, path in pages(works, "viewer"):
            visit(page, base, name, path, lang, width, report, problems)
        assert_no_csp_violations(page)
        context.close()

    _write_report(report)
    assert problems == [], "\n".join(problems)


def open_staff_form(page, base, project) -> None:
    """Open a work's update form and wait until the phone has kept its offline copy
    (fetched in the background), as a phone that opened the page with signal."""
    page.goto(f"{base}/staff/projects/{project.id}")
    # The browser's offline switch reaches only a service worker that already controls the page.
    page.wait_for_function("() => !!navigator.serviceWorker.controller")
    expect(page.locator("html")).to_have_attribute("data-offline-copy", "kept", timeout=15_000)


def record_meanwhile(session, make_user, project) -> None:
    """Record progress as someone else, as if from another phone, while a form is open."""
    session.refresh(project)
    other = make_user("staff", display_name="阿蘇", departments=[project.department])
    append_status(
        session, project.id, user=other, status=project.status, progress=project.progress + 1
    )
    session.flush()


def show_stale_form(page, base, session, make_user, project) -> None:
    """Send a form that someone else's record made stale: the notice says who changed what."""
    open_staff_form(page, base, project)
    record_meanwhile(session, make_user, project)
    page.locator("#progress").fill(str(project.progress + 2))
    page.locator("#update-form button[type=submit]").click()
    expect(page.locator("#stale-notice")).to_be_visible()


def show_refused_update(page, base, session, make_user, project) -> None:
    """Keep an update on the phone while the network fails, let someone record meanwhile,
    then send it: the server refuses it, and it waits under 送れなかった更新."""
    open_staff_form(page, base, project)
    go_offline(page)
    page.fill("#note", "電波なしで記録")
    page.locator("#update-form button[type=submit]").click()
    # The form says it kept the update only once the send has failed: recorded before, the
    # other record could reach the server ahead of the send and the form would refuse at once.
    expect(page.locator("#form-message.queued")).to_be_visible()
    record_meanwhile(session, make_user, project)
    page.context.set_offline(False)
    expect(page.locator("#outbox-failed")).to_be_visible(timeout=30_000)


def _write_report(report: list) -> None:
    """Add this run's counts to the report people read (one file for all four runs)."""
    REPORT.parent.mkdir(exist_ok=True)
    runs = json.loads(REPORT.read_text()) if REPORT.exists() else []
    keys = {(r["page"], r["lang"], r["width"]) for r in report}
    runs = [r for r in runs if (r["page"], r["lang"], r["width"]) not in keys] + report
    REPORT.write_text(json.dumps(runs, ensure_ascii=False, indent=1))
