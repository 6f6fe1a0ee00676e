"""Residents' damage reports: the form without JavaScript, refusals in words, photos without
EXIF, duplicates, the one state writer, staff triage, mails, the public view and Open311."""

import io
import json
import uuid
from datetime import timedelta
from xml.etree import ElementTree as ET

import pytest
import time_machine
from PIL import Image
from sqlalchemy import func, select

from tests.smtp_server import smtp_server
from tracker.core import clock
from tracker.projects.history import append_status
from tracker.projects.models import Project
from tracker.reports.models import Report, ReportStateChange
from tracker.reports.operations import LIMITS
from tracker.reports.staff import key_hash

UCHINOMAKI = (131.0400, 32.9717)
PUBLIC_URL = "https://tracker.example.jp"


def jpeg_with_gps() -> bytes:
    """A JPEG whose EXIF names a camera and a GPS position."""
    image = Image.new("RGB", (64, 48), (120, 80, 40))
    exif = Image.Exif()
    exif[0x010F] = "TestCam"  # Make
    exif[0x8825] = {1: "N", 2: (32.0, 58.0, 18.0), 3: "E", 4: (131.0, 2.0, 24.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 20), (0, 90, 200)).save(out, "PNG")
    return out.getvalue()


def post_report(client, *, remote="192.0.2.10", photos=(), **fields):
    data = {"category": "road", "place": "d-uchinomaki", "description": "道路が陥没しています"}
    data.update(fields)
    data["photos"] = [(io.BytesIO(body), name, ctype) for body, name, ctype in photos]
    return client.post(
        "/report",
        data=data,
        content_type="multipart/form-data",
        environ_base={"REMOTE_ADDR": remote},
    )


def count_reports(session) -> int:
    return session.scalar(select(func.count()).select_from(Report))


@pytest.fixture
def mail(app):
    with smtp_server() as (mailbox, url):
        app.config.update(SMTP_URL=url, PUBLIC_URL=PUBLIC_URL, MAIL_FROM="alerts@city.example.jp")
        yield mailbox


def send_mails(app) -> str:
    result = app.test_cli_runner().invoke(args=["send-report-mails"])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_report_by_named_place_without_javascript(client, session):
    answer = post_report(client, photos=[(jpeg_with_gps(), "road.jpg", "image/jpeg")])
    assert answer.status_code == 303, answer.get_data(as_text=True)
    report = session.scalar(select(Report))
    assert report.category_code == "road" and report.place_key == "d-uchinomaki"
    assert report.state == "received" and not report.is_public
    x, y = session.execute(select(func.ST_X(Report.geom), func.ST_Y(Report.geom))).one()
    assert (round(x, 4), round(y, 4)) == UCHINOMAKI
    history = session.scalars(select(ReportStateChange)).all()
    assert [(h.previous_state, h.state) for h in history] == [(None, "received")]
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert f"<strong>{report.id}</strong>" in page


def test_the_form_works_as_a_plain_page(client):
    page = client.get("/report").get_data(as_text=True)
    assert 'name="place"' in page and "d-uchinomaki" in page
    assert 'enctype="multipart/form-data"' in page
    assert "道路の陥没・損傷" in page
    english = client.get("/report?lang=en").get_data(as_text=True)
    assert "Sunken or damaged road" in english


def test_photos_are_reencoded_without_exif(client, session):
    post_report(client, photos=[(jpeg_with_gps(), "road.jpg", "image/jpeg")])
    photo = session.scalar(select(Report)).photos[0]
    for data in (photo.data, photo.thumb):
        with Image.open(io.BytesIO(data)) as image:
            assert not image.getexif()
            assert "exif" not in image.info
    assert b"TestCam" not in photo.data


@pytest.mark.parametrize(
    ("fields", "photos", "words"),
    [
        ({"place": "", "lon": "130.50", "lat": "32.80"}, [], "阿蘇市の外です"),
        ({}, [(png_bytes(), f"p{i}.png", "image/png") for i in range(4)], "写真は3枚までです"),
        ({}, [(png_bytes(), "photo.jpg", "image/jpeg")], "中身は、名前や種類が示す画像"),
        (
            {},
            [(b"<script>alert(1)</script>", "x.jpg", "image/jpeg")],
            "中身は、名前や種類が示す画像",
        ),
        ({"category": "nope"}, [], "種類を選んでください"),
    ],
)
def test_refusals_are_in_words_and_write_nothing(client, session, fields, photos, words):
    answer = post_report(client, photos=photos, **fields)
    assert answer.status_code == 400
    assert words in answer.get_data(as_text=True)
    assert count_reports(session) == 0


def test_refusals_in_english(client, session):
    answer = post_report(client, place="", lon="130.50", lat="32.80", lang="en")
    client.set_cookie("lang", "en")
    answer = client.post(
        "/report?lang=en",
        data={"category": "road", "lon": "130.50", "lat": "32.80", "description": "x"},
    )
    assert answer.status_code == 400
    assert "outside Aso City" in answer.get_data(as_text=True)


def test_a_burst_past_the_limits_is_refused(client, session):
    hourly = LIMITS[0][0]
    for i in range(hourly):
        place = ["d-uchinomaki", "d-miyaji", "d-kurokawa", "d-otohime", "d-yamada"][i % 5]
        answer = post_report(client, place=place, description=f"{i}", new_anyway="1")
        assert answer.status_code == 303, answer.get_data(as_text=True)
    refused = post_report(client, description="one more", new_anyway="1")
    assert refused.status_code == 429
    assert "1時間に5件まで" in refused.get_data(as_text=True)
    assert count_reports(session) == hourly
    # Another device on another network may still report; an hour later this one may too.
    other = client.application.test_client()
    assert post_report(other, remote="198.51.100.7", new_anyway="1").status_code == 303
    with time_machine.travel(clock.now() + timedelta(hours=1, minutes=1), tick=False):
        assert post_report(client, description="later", new_anyway="1").status_code == 303


def test_a_possible_duplicate_is_shown_before_sending(client, session):
    assert post_report(client).status_code == 303
    again = post_report(client, description="同じ穴")
    page = again.get_data(as_text=True)
    assert again.status_code == 200 and "近くに同じ種類の通報があります" in page
    assert "同じものです（写真を追加）" in page
    assert count_reports(session) == 1
    first = session.scalar(select(Report))
    same = post_report(client, same_as=str(first.id), photos=[(png_bytes(), "p.png", "image/png")])
    assert same.status_code == 303
    added = session.scalar(select(Report).where(Report.id != first.id))
    assert added.duplicate_of == first.id and len(added.photos) == 1
    # Another category at the same place is not the same thing.
    assert post_report(client, category="tree").status_code == 303


def test_a_resend_with_the_same_client_id_arrives_once(client, session):
    with time_machine.travel(clock.now(), tick=False):
        resend_twice(client, session)


def resend_twice(client, session):
    client_id = str(uuid.uuid4())
    made = (clock.now() - timedelta(hours=3)).isoformat()
    data = {
        "category": "slope",
        "place": "d-miyaji",
        "description": "落石",
        "client_id": client_id,
        "made_at": made,
    }
    first = client.post("/report/send", data=data)
    second = client.post("/report/send", data=data)
    assert first.status_code == second.status_code == 201
    assert first.json["id"] == second.json["id"]
    report = session.get(Report, first.json["id"])
    assert report.made_at == clock.now() - timedelta(hours=3)
    assert report.received_at == clock.now()
    assert count_reports(session) == 1


def test_the_send_endpoint_refuses_as_json(client, session):
    answer = client.post(
        "/report/send", data={"category": "road", "lon": "130.5", "lat": "32.8", "description": "x"}
    )
    assert answer.status_code == 400 and answer.json["code"] == "outside_city"
    assert "阿蘇市の外です" in answer.json["error"]


def reported(client, session, **fields) -> Report:
    answer = post_report(client, **fields)
    assert answer.status_code == 303, answer.get_data(as_text=True)
    return session.scalar(select(Report).order_by(Report.id.desc()))


def test_staff_create_a_work_and_the_confirmed_reporter_gets_one_mail(
    app, client, session, make_user, login_as, mail
):
    resident = app.test_client()
    report = reported(
        resident,
        session,
        email="resident@example.jp",
        photos=[(jpeg_with_gps(), "road.jpg", "image/jpeg")],
    )
    send_mails(app)
    assert len(mail.messages) == 1
    confirm_text = mail.messages[0].get_body(preferencelist=("plain",)).get_content()
    confirm_url = next(w for w in confirm_text.split() if "/reports/confirm/" in w)
    path = confirm_url.replace(PUBLIC_URL, "")
    assert "メールアドレスを確認する" in resident.get(path).get_data(as_text=True)
    assert resident.post(path).status_code == 200
    session.refresh(report)
    assert report.email_confirmed_at is not None

    staff = make_user("staff")
    login_as(staff)
    answer = client.post(
        f"/staff/reports/{report.id}/create",
        data={"name": "内牧 道路陥没 復旧", "kind": "road", "department": "建設課"},
    )
    assert answer.status_code == 303
    session.refresh(report)
    assert report.state == "in_progress" and report.project_id is not None and report.is_public
    project = session.get(Project, report.project_id)
    # A road known by the reported point only, until staff draw its line.
    assert project.kind == "road" and project.position_only
    assert project.description == report.description
    assert len(project.updates[0].photos) == 1
    send_mails(app)
    assert len(mail.messages) == 2
    news = mail.messages[1]
    assert "対応中" in news["Subject"] and news["To"] == "resident@example.jp"
    assert news["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    send_mails(app)
    assert len(mail.messages) == 2  # nothing twice

    # The work's status moves the report (and mails once more).
    append_status(session, project.id, status="construction", progress=10, user=staff)
    append_status(
        session, project.id, status="completed", progress=100, user=staff, actual_end=clock.today()
    )
    session.refresh(report)
    assert report.state == "done"
    send_mails(app)
    assert len(mail.messages) == 3 and "対応済" in mail.messages[2]["Subject"]

    public = client.get("/reports").get_data(as_text=True)
    assert "resident@example.jp" not in public and "対応済" in public


def test_an_unconfirmed_address_gets_nothing_but_its_confirmation(
    app, client, session, make_user, login_as, mail
):
    report = reported(app.test_client(), session, email="late@example.jp")
    staff = make_user("staff")
    login_as(staff)
    client.post(f"/staff/reports/{report.id}/accept", data={"answer": "確認します"})
    send_mails(app)
    assert [m["Subject"] for m in mail.messages] == ["[阿蘇市] 通報のお知らせメールの確認"]


def test_reject_with_a_reason_hidden_from_the_public(app, client, session, make_user, login_as):
    report = reported(app.test_client(), session, description="隣の家の人が…")
    login_as(make_user("staff"))
    answer = client.post(
        f"/staff/reports/{report.id}/reject",
        data={"reason": "市の管理する場所ではありません", "hide": "1"},
    )
    assert answer.status_code == 303
    session.refresh(report)
    assert report.state == "declined" and not report.is_public
    anonymous = app.test_client()
    page = anonymous.get(f"/reports/{report.id}").get_data(as_text=True)
    assert "市の管理する場所ではありません" in page and "隣の家の人" not in page
    assert f"/reports/{report.id}" not in anonymous.get("/reports").get_data(as_text=True)


def test_department_queues_and_merging(app, client, session, make_user, login_as):
    resident = app.test_client()
    first = reported(resident, session)
    second = reported(resident, session, new_anyway="1", description="同じ陥没")
    other_dept = make_user("staff", departments=["農林課"])
    building = make_user("staff")
    login_as(building)
    assert (
        client.post(
            f"/staff/reports/{first.id}/department", data={"department": "建設課"}
        ).status_code
        == 303
    )
    other = login_as(other_dept, app.test_client())
    queue = other.get("/staff/reports").get_data(as_text=True)
    assert f"/staff/reports/{second.id}" in queue and f'/staff/reports/{first.id}"' not in queue
    refused = other.post(f"/staff/reports/{first.id}/accept", data={}, follow_redirects=True)
    assert "建設課」の担当です" in refused.get_data(as_text=True)
    client.post(f"/staff/reports/{second.id}/merge", data={"into": str(first.id)})
    session.refresh(second)
    assert second.duplicate_of == first.id and second.department == "建設課"
    client.post(f"/staff/reports/{first.id}/accept", data={})
    session.refresh(second)
    assert second.state == "checking"  # merged reports follow


def test_public_view_shows_accepted_reports_without_address_or_exif(
    app, client, session, make_user, login_as
):
    resident = app.test_client()
    report = reported(
        resident,
        session,
        email="hidden@example.jp",
        photos=[(jpeg_with_gps(), "r.jpg", "image/jpeg")],
    )
    anonymous = app.test_client()
    photo_url = f"/reports/photos/{report.photos[0].id}/display"
    assert anonymous.get(photo_url).status_code == 404  # not accepted yet
    assert "道路が陥没しています" not in anonymous.get(f"/reports/{report.id}").get_data(
        as_text=True
    )
    login_as(make_user("staff"))
    client.post(f"/staff/reports/{report.id}/accept", data={"answer": "現地を確認します"})
    page = anonymous.get("/reports").get_data(as_text=True)
    assert "道路が陥没しています" in page and "現地を確認します" in page and "確認中" in page
    assert "hidden@example.jp" not in page
    served = anonymous.get(photo_url)
    assert served.status_code == 200
    with Image.open(io.BytesIO(served.data)) as image:
        assert not image.getexif()
    near = anonymous.get("/near?place=d-uchinomaki&radius=1000").get_data(as_text=True)
    assert f"/reports/{report.id}" in near


@pytest.fixture
def api_key(session, make_user):
    from tracker.reports.models import Open311Key

    key = "test-open311-key"
    session.add(Open311Key(name="FixMyStreet", key_hash=key_hash(key)))
    session.flush()
    return key


def test_open311_services_and_requests_in_json_and_xml(
    app, client, session, api_key, make_user, login_as
):
    services = client.get("/open311/v2/services.json")
    assert services.status_code == 200 and services.mimetype == "application/json"
    codes = [s["service_code"] for s in services.json]
    assert codes[:2] == ["road", "slope"] and len(codes) == 7
    root = ET.fromstring(client.get("/open311/v2/services.xml").data)
    assert root.tag == "services" and len(root.findall("service")) == 7
    assert ET.fromstring(client.get("/open311/v2/discovery.xml").data).tag == "discovery"
    definition = client.get("/open311/v2/services/road.json").json
    assert definition["service_code"] == "road"

    refused = client.post("/open311/v2/requests.json", data={"service_code": "road"})
    assert refused.status_code == 403
    made = client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": api_key,
            "service_code": "tree",
            "lat": "32.9717",
            "long": "131.0400",
            "description": "倒木",
        },
    )
    assert made.status_code == 201, made.data
    request_id = made.json[0]["service_request_id"]
    login_as(make_user("staff"))
    assert f"/staff/reports/{request_id}" in client.get("/staff/reports").get_data(as_text=True)
    client.post(f"/staff/reports/{request_id}/accept", data={"answer": "撤去します"})

    one = app.test_client().get(f"/open311/v2/requests/{request_id}.json").json[0]
    assert one["status"] == "open" and one["service_code"] == "tree"
    assert one["requested_datetime"].endswith("+09:00")
    listed = app.test_client().get("/open311/v2/requests.json?status=open&service_code=tree").json
    assert [r["service_request_id"] for r in listed] == [request_id]
    assert app.test_client().get("/open311/v2/requests.json?status=closed").json == []
    xml = ET.fromstring(app.test_client().get(f"/open311/v2/requests/{request_id}.xml").data)
    assert xml.find("request/service_request_id").text == request_id
    outside = client.post(
        "/open311/v2/requests.xml",
        data={
            "api_key": api_key,
            "service_code": "tree",
            "lat": "32.8",
            "long": "130.5",
            "description": "x",
        },
    )
    assert outside.status_code == 400
    assert "阿蘇市の外です" in ET.fromstring(outside.data).find("error/description").text
    assert (
        json.loads(client.get("/open311/v2/requests.json?start_date=nonsense").data)[0]["code"]
        == 400
    )


def test_admins_edit_the_categories(client, session, make_user, login_as):
    login_as(make_user("staff"))
    assert client.get("/admin/report-categories").status_code == 403
    login_as(make_user("admin"))
    client.post(
        "/admin/report-categories",
        data={
            "code": "tree",
            "name_ja": "倒木・枝",
            "name_en": "Fallen tree or branch",
            "position": "2",
        },
    )
    added = client.post(
        "/admin/report-categories",
        data={"new": "1", "code": "sign", "name_ja": "標識", "name_en": "Sign", "position": "9"},
    )
    assert added.status_code == 303
    refused = client.post(
        "/admin/report-categories",
        data={"new": "1", "code": "Bad Code", "name_ja": "x", "name_en": "x", "position": "1"},
    )
    assert refused.status_code == 400 and "半角英小文字" in refused.get_data(as_text=True)
    form = client.get("/report").get_data(as_text=True)
    assert "標識" in form and "倒木・枝" not in form  # "tree" was saved without "active": retired
    assert post_report(client, category="tree").status_code == 400
    assert "/open311" not in form
    codes = [s["service_code"] for s in client.get("/open311/v2/services.json").json]
    assert "sign" in codes and "tree" not in codes


def test_the_phone_outbox_and_open311_need_no_csrf_token_but_the_form_does(
    csrf_app, session, api_key
):
    client = csrf_app.test_client()
    data = {"category": "tree", "place": "d-miyaji", "description": "倒木"}
    assert client.post("/report", data=data).status_code == 400  # no token: refused
    assert count_reports(session) == 0
    assert client.post("/report/send", data=data).status_code == 201
    filed = client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": api_key,
            "service_code": "tree",
            "lat": "32.9",
            "long": "131.1",
            "description": "x",
        },
    )
    assert filed.status_code == 201, filed.data
    assert count_reports(session) == 2


def test_open311_over_plain_http(live_server, session, api_key):
    """As an Open311 client would: plain HTTP, UTF-8 bodies, JSON and XML parsed as they come."""
    from urllib.parse import urlencode
    from urllib.request import Request, urlopen

    def get(path):
        with urlopen(live_server + path) as answer:
            assert "charset=utf-8" in answer.headers["Content-Type"]
            return answer.read()

    services = json.loads(get("/open311/v2/services.json").decode("utf-8"))
    assert {"service_code": "road", "service_name": "道路の陥没・損傷"}.items() <= services[
        0
    ].items()
    xml_services = ET.fromstring(get("/open311/v2/services.xml"))
    assert [s.findtext("service_code") for s in xml_services] == [
        s["service_code"] for s in services
    ]
    body = urlencode(
        {
            "api_key": api_key,
            "service_code": "flooding",
            "lat": 32.9717,
            "long": 131.04,
            "description": "冠水",
        }
    ).encode()
    with urlopen(Request(live_server + "/open311/v2/requests.xml", data=body)) as answer:
        assert answer.status == 201
        request_id = ET.fromstring(answer.read()).findtext("request/service_request_id")
    mine = json.loads(get(f"/open311/v2/requests.json?service_request_id={request_id}"))
    assert mine[0]["status"] == "open" and mine[0]["service_code"] == "flooding"
    assert (
        ET.fromstring(get(f"/open311/v2/requests/{request_id}.xml")).findtext("request/status")
        == "open"
    )
    assert session.get(Report, int(request_id)).channel == "open311"


def test_the_staff_queue_nearest_first(client, session, make_user, login_as):
    resident = client.application.test_client()
    for place in ("d-uchinomaki", "d-miyaji", "d-kurokawa"):
        assert (
            post_report(resident, place=place, description=place, new_anyway="1").status_code == 303
        )
    login_as(make_user("staff"))
    page = client.get("/staff/reports?place=d-miyaji").get_data(as_text=True)
    order = [page.index(f">{name}<") for name in ("d-miyaji", "d-kurokawa", "d-uchinomaki")]
    assert order == sorted(order)
