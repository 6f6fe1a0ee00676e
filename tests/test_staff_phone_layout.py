"""Every staff page fits a 320 px and a 375 px wide phone: no sideways scrolling, in Chromium."""

from datetime import date

import pytest
from shapely.geometry import LineString
from sqlalchemy import select

from tests.conftest import MIYAJI_STATION
from tests.test_staff_browser import sign_in
from tracker.core import clock
from tracker.facilities.models import Facility
from tracker.projects.history import append_status
from tracker.restrictions.operations import add_restriction

LON, LAT = MIYAJI_STATION
WIDTHS = (320, 375)
LONG_NOTE = (
    "橋台背面の埋戻しを完了。排水管の位置を現場で確認し、設計図との相違（約30cm）を記録した。"
    "次回は舗装の仮復旧と安全施設の設置。写真は上流側から撮影。"
)


@pytest.fixture
def staff_pages(session, make_project, make_user):
    """A work with a long name, history, register, a restriction, linked to a shelter."""
    shelter = session.scalars(select(Facility).order_by(Facility.id)).first()
    work = make_project(
        name="一の宮町宮地 市道宮地駅前線 道路改良工事（第2工区・歩道設置を含む）",
        kind="road",
        geometry=LineString([(LON, LAT), (LON + 0.004, LAT + 0.001)]),
        actual_start=date(2025, 4, 1),
        planned_cost=123_456_789_000,
        contract_amount=98_765_432_100,
        contractor="阿蘇建設・内牧土木・一の宮舗装 特定建設工事共同企業体",
        spent_amount=12_345_678_900,
        funding="social_capital_grant",
        responsible_section="建設課 道路係（一の宮町宮地地区担当）",
        facility_id=shelter.id,
    )
    staff = make_user("admin", display_name="阿蘇 太郎")
    append_status(session, work.id, user=staff, status="construction", progress=30, note=LONG_NOTE)
    append_status(session, work.id, user=staff, status="construction", progress=45)
    restriction = add_restriction(
        session,
        work,
        kind="heavy_vehicles",
        starts_on=clock.today(),
        days="weekdays",
        time_from="8:30",
        time_until="17:00",
        description="平日昼間は大型車が通行できません。宮地駅側から国道57号へ迂回してください。",
        reason="道路改良工事（拡幅・歩道設置）のため",
        contact="阿蘇市 建設課 道路係（平日 8:30〜17:15）",
        section=LineString([(LON, LAT), (LON + 0.002, LAT + 0.0005)]),
        user=staff,
    )
    return {
        "user": staff,
        "paths": [
            "/staff/",
            f"/staff/projects/{work.id}",
            "/staff/works/new",
            "/staff/sync",
            f"/projects/{work.id}",
            f"/projects/{work.id}/edit",
            "/projects/new",
            f"/projects/{work.id}/restrictions",
            f"/restrictions/{restriction.id}/edit",
            f"/facilities/{shelter.id}",
        ],
    }


@pytest.mark.parametrize("width", WIDTHS)
def test_every_staff_page_fits_a_phone_without_sideways_scrolling(
    live_server, page, client, login_as, staff_pages, width, artifacts_dir
):
    sign_in(page, live_server, client, login_as, staff_pages["user"])
    page.set_viewport_size({"width": width, "height": 700})
    for path in staff_pages["paths"]:
        page.goto(live_server + path)
        page.wait_for_load_state("load")
        overflow = page.evaluate(
            """(width) => [document.documentElement.scrollWidth, document.body.scrollWidth,
                ...Array.from(document.querySelectorAll('main *'))
                    .filter((el) => el.getBoundingClientRect().right > width + 0.5
                        && getComputedStyle(el).position !== 'fixed'
                        && !el.closest('.site-nav, .leaflet-container'))
                    .slice(0, 3).map((el) => el.tagName + '.' + el.className)]""",
            width,
        )
        assert overflow[0] <= width and overflow[1] <= width, (path, overflow)
        assert overflow[2:] == [], (path, overflow)
        name = path.strip("/").replace("/", "_") or "home"
        page.screenshot(path=str(artifacts_dir / f"phone_{width}_{name}.png"), full_page=True)
    assert page.errors == []
