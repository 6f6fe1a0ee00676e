"""New works from the site in headless Chromium on a 375 px phone: a road traced by walking
without signal, with a photo, updated before it was ever sent; both arrive once, in order,
with their times on site, and the sync report lists them. Refusals come back with the reason
and are fixed and resent from the outbox."""

from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from tests.test_field_offline_browser import (  # noqa: F401 - tiles is a fixture
    console_errors,
    keep_area_of_view,
    open_staff_map,
    tiles,
)
from tests.test_staff_browser import PHONE, camera_jpeg, sign_in
from tests.test_staff_outbox_browser import go_offline
from tracker.core import clock
from tracker.projects.history import StatusUpdate
from tracker.projects.models import Project

# A walk north along a street near Miyaji station, about 11 m a step.
WALK = [(32.9370 + 0.0001 * step, 131.11879) for step in range(5)]


def open_new_work(page, live_server) -> None:
    """Open the new-work page with signal, so that the phone keeps it for offline use."""
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server}/staff/works/new")
    page.wait_for_function("() => !!navigator.serviceWorker.controller")
    expect(page.locator("html")).to_have_attribute("data-offline-copy", "kept", timeout=15_000)


def walk(page, points) -> None:
    """Trace a line by walking: the phone reports each position in turn."""
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"latitude": points[0][0], "longitude": points[0][1]})
    page.get_by_role("button", name="歩いて線を記録").click()
    for n, (lat, lon) in enumerate(points, start=1):
        page.context.set_geolocation({"latitude": lat, "longitude": lon})
        expect(page.locator("#shape-status")).to_contain_text(f"{n} 点")
    page.get_by_role("button", name="記録を終える").click()


def fill_work(page, name: str, note: str) -> None:
    page.get_by_label("種別").select_option("road")
    page.get_by_label("事業名").fill(name)
    page.get_by_label("メモ", exact=True).fill(note)


def history(session, name: str) -> list[StatusUpdate]:
    session.expire_all()
    project = session.scalars(select(Project).where(Project.name == name)).one()
    return sorted(project.updates, key=lambda u: u.recorded_at)


def test_a_road_traced_offline_and_updated_arrives_once_in_order(
    live_server,
    tiles,  # noqa: F811
    page,
    session,
    client,
    login_as,
    make_user,
    make_project,
    artifacts_dir,
):
    sign_in(page, live_server, client, login_as, make_user("staff"))
    open_staff_map(page, live_server)
    page.wait_for_function("() => window.asoMapReady === true")
    keep_area_of_view(page, zooms=0)
    open_new_work(page, live_server)
    errors = console_errors(page)
    go_offline(page)
    errors.clear()  # the probes of go_offline fail, as they should
    page.goto(f"{live_server}/staff/")  # the staff map from the kept area
    page.wait_for_function("() => window.asoOverlaysReady === true && window.asoMapReady === true")
    expect(page.locator("#offline-notice")).to_contain_text("宮地の現場")
    page.goto(f"{live_server}/staff/works/new")  # opens from the phone's copy
    # Seen on site two hours before the signal returns.
    seen = (clock.now() - timedelta(hours=2)).replace(microsecond=0)
    page.clock.set_fixed_time(seen)

    walk(page, WALK)
    fill_work(page, "宮地 市道の崩落", "路肩が崩れている")
    page.get_by_role("textbox", name="路線名").fill("市道宮地線")  # the shown, road one
    page.locator("#work-photos").set_input_files(
        files=[{"name": "site.jpg", "mimeType": "image/jpeg", "buffer": camera_jpeg()}]
    )
    page.get_by_role("button", name="記録する", exact=True).click()
    expect(page.locator("#form-message")).to_contain_text("仮番号")
    page.get_by_label("新しい状況").select_option("design")
    page.locator("#next-progress").fill("5")
    page.get_by_label("更新のメモ").fill("測量を手配")
    page.get_by_role("button", name="更新を記録する").click()
    outbox = page.locator("#outbox li")
    expect(outbox).to_have_count(2)
    assert session.scalars(select(Project).where(Project.name == "宮地 市道の崩落")).first() is None

    page.context.set_offline(False)
    expect(page.locator("#outbox")).to_be_hidden(timeout=30_000)
    created, first, update = history(session, "宮地 市道の崩落")
    assert first.note == "路肩が崩れている" and first.observed_at == seen
    assert len(first.photos) == 1
    assert update.note == "測量を手配" and update.status == "design"
    assert update.observed_at == seen
    assert created.recorded_at <= first.recorded_at < update.recorded_at
    project = session.get(Project, first.project_id)
    assert project.kind == "road" and project.department == "建設課"
    assert project.details == {"route_name": "市道宮地線"}
    assert page.errors == []
    assert errors == []

    # Meanwhile someone else recorded another work: the report lists it, not this phone's own.
    make_project(name="宮地 水路の補修")
    page.goto(f"{live_server}/staff/sync")
    changed = page.locator("#sync-changed")
    expect(changed).to_contain_text("宮地 水路の補修")
    expect(changed).not_to_contain_text("宮地 市道の崩落")
    sent = page.locator("#sync-sent li")
    expect(sent).to_have_count(2)
    expect(sent.nth(0)).to_contain_text("新しい事業")
    expect(sent.nth(1)).to_contain_text("設計中 5%")
    page.screenshot(path=str(artifacts_dir / "staff_sync_report_375.png"), full_page=True)
    assert page.errors == []


def tap(page, points) -> None:
    """Tap the new work's map at these pixel positions."""
    for n, (x, y) in enumerate(points, start=1):
        page.locator("#work-map").click(position={"x": x, "y": y})
        expect(page.locator("#shape-status")).to_contain_text(f"{n} 点")


def test_refused_creations_say_why_and_are_fixed_and_resent(
    live_server, page, session, client, login_as, make_user
):
    sign_in(page, live_server, client, login_as, make_user("staff"))
    open_new_work(page, live_server)

    # A road drawn by taps that crosses itself.
    page.get_by_label("種別").select_option("road")
    page.get_by_label("事業名").fill("交差する道")
    tap(page, [(120, 60), (220, 160), (220, 60), (120, 160)])
    page.get_by_role("button", name="記録する", exact=True).click()
    refused = page.locator("#outbox-failed li")
    expect(refused).to_have_count(1)
    crossing = refused.filter(has_text="交差する道")
    expect(crossing).to_contain_text("交差しています")

    # A bridge placed by GPS in Kumamoto city, outside Aso.
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"latitude": 32.8032, "longitude": 130.7079})
    page.get_by_label("種別").select_option("bridge")
    page.get_by_label("事業名").fill("場外の橋")
    page.get_by_role("button", name="現在地（点）").click()
    expect(page.locator("#shape-status")).to_contain_text("1 点")
    page.get_by_role("button", name="記録する", exact=True).click()
    expect(refused).to_have_count(2)
    expect(refused.filter(has_text="場外の橋")).to_contain_text("阿蘇市の区域から")

    # Fixed: the line drawn again without crossing, then sent from the same entry.
    crossing.get_by_role("link", name="直して送る").click()
    expect(page.locator("#form-message")).to_contain_text("交差しています")
    expect(page.get_by_label("事業名")).to_have_value("交差する道")
    page.get_by_role("button", name="位置を消す").click()
    tap(page, [(120, 60), (220, 160), (260, 200)])
    page.get_by_role("button", name="記録する", exact=True).click()
    expect(page.locator("#form-message")).to_have_text("直した内容を送りました")
    expect(page.locator("#outbox-failed li")).to_have_count(1)  # the bridge still waits
    session.expire_all()
    road = session.scalars(select(Project).where(Project.name == "交差する道")).one()
    assert road.kind == "road"
    assert page.errors == []
