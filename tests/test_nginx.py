"""The shipped nginx site in front of gunicorn, as a city runs it: TLS on a port other than
443, sign-in and a photo at the size limit through the proxy, HSTS, Secure cookies, and https
links to the proxy's address in the feed and in the mails. The systemd units are checked too."""

import io
import os
import random
import re
import shutil
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
import requests
from PIL import Image
from shapely.geometry import Point
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from config import ROOT
from tests.live_database import build_database, free_ports, gunicorn, sibling_url
from tests.smtp_server import smtp_server
from tracker.accounts.models import Department, User
from tracker.accounts.passwords import hash_password
from tracker.core.clock import JST
from tracker.projects.operations import create_project
from tracker.updates.models import MAX_PHOTO_BYTES

SITE = ROOT / "deploy" / "nginx" / "aso-tracker.conf"
UNITS = ROOT / "deploy" / "systemd"
PASSWORD = "外輪山 kettle umbrella 1987"
MIYAJI = (131.11879, 32.937)
REGISTERED = datetime(2026, 4, 1, tzinfo=JST)


def render_site(folder: Path, *, https_port: int, http_port: int, app_port: int) -> str:
    """The shipped site with the values a city changes set for this machine."""
    site = SITE.read_text()
    changes = {
        "proxy_cache_path /var/cache/nginx/aso-tracker": f"proxy_cache_path {folder}/cache",
        "server 127.0.0.1:5000;": f"server 127.0.0.1:{app_port};",
        "listen 80;\n    listen [::]:80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl http2;\n    listen [::]:443 ssl http2;": (
            f"listen 127.0.0.1:{https_port} ssl http2;"
        ),
        "server_name koji.city.aso.kumamoto.jp;": "server_name localhost;",
        "/etc/ssl/certs/aso-tracker.pem": str(folder / "cert.pem"),
        "/etc/ssl/private/aso-tracker.key": str(folder / "key.pem"),
    }
    for shipped, here in changes.items():
        assert shipped in site, f"the site no longer has {shipped!r}"
        site = site.replace(shipped, here)
    return site


def nginx_conf(folder: Path, site: str) -> str:
    temp = "\n".join(
        f"  {kind}_temp_path {folder}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""
user root;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
daemon off;
events {{ worker_connections 64; }}
http {{
  include /etc/nginx/mime.types;
  access_log off;
{temp}
{site}
}}
"""


def wait_for_port(port: int, cert: Path, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx stopped:\n{log.read_text() if log.exists() else ''}")
        try:
            requests.get(f"https://localhost:{port}/healthz", verify=str(cert), timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError("nginx did not answer")


@pytest.fixture(scope="module")
def proxied(database_url, tmp_path_factory):
    """gunicorn behind the shipped nginx site on https://localhost:<port>; yields its parts."""
    folder = tmp_path_factory.mktemp("nginx")
    database = build_database(sibling_url(database_url, "nginx"))
    engine = create_engine(database)
    with Session(engine) as session:
        department = Department(name="建設課")
        session.add(User(login="genba", role="staff", password_hash=hash_password(PASSWORD),
                         display_name="現場 一郎", departments=[department]))  # fmt: skip
        work = create_project(
            session, name="宮地駅前橋 補修", kind="bridge", geometry=Point(*MIYAJI),
            department="建設課", status="construction", progress=20,
            # Before the server's own clock (the real one), which stamps the updates sent.
            created_at=REGISTERED,
        )  # fmt: skip
        session.commit()
        work_id = work.id
    engine.dispose()
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem"),
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
        check=True, capture_output=True,
    )  # fmt: skip
    https_port, http_port = free_ports(2)
    public_url = f"https://localhost:{https_port}"
    settings = {"PROXY_FIX": "1", "PUBLIC_URL": public_url, "TRUSTED_HOSTS": "localhost,127.0.0.1"}
    with (
        gunicorn(database, folder / "instance", **settings) as (app_base, _process),
        nginx_in_front(folder, app_base, https_port=https_port, http_port=http_port),
    ):
        yield {
            "base": public_url, "cert": str(folder / "cert.pem"), "work_id": work_id,
            "database": database, "settings": settings, "http_port": http_port,
        }  # fmt: skip


@contextmanager
def nginx_in_front(folder: Path, app_base: str, *, https_port: int, http_port: int):
    """Run the shipped site (checked by `nginx -t` first) in front of the app at `app_base`,
    with the certificate and key in `folder`; stop it on leaving."""
    app_port = int(app_base.rsplit(":", 1)[1])
    site = render_site(folder, https_port=https_port, http_port=http_port, app_port=app_port)
    conf = folder / "nginx.conf"
    conf.write_text(nginx_conf(folder, site))
    checked = subprocess.run(
        ["nginx", "-t", "-p", str(folder), "-c", str(conf)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr
    nginx = subprocess.Popen(["nginx", "-p", str(folder), "-c", str(conf)])
    try:
        wait_for_port(https_port, folder / "cert.pem", nginx, folder / "error.log")
        yield
    finally:
        nginx.terminate()
        nginx.wait(timeout=30)


def _session(cert: str) -> requests.Session:
    session = requests.Session()
    session.verify = cert
    # Else REQUESTS_CA_BUNDLE, when set, would take the place of the test's certificate.
    session.trust_env = False
    session.cookies = ServerClockJar()
    return session


class ServerClockJar(requests.cookies.RequestsCookieJar):
    """A cookie jar that leaves the end of a cookie to the server.

    The server runs on the real clock, the test at TEST_NOW: a jar would judge the server's
    expiry dates by the test's instant, and drop (or take as deleted) cookies the server
    meant to keep. Cookies are kept for the jar's life instead.
    """

    def _cookie_from_cookie_tuple(self, tup, request):  # noqa: ANN001, ANN202
        name, value, standard, rest = tup
        standard = {k: v for k, v in standard.items() if k not in ("expires", "max-age")}
        return super()._cookie_from_cookie_tuple((name, value, standard, rest), request)


def _photo_at_the_limit() -> bytes:
    side = 3380  # random noise this size is just under the 10 MB a photo may have
    noise = random.Random(7).randbytes(side * side * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), noise).save(out, "JPEG", quality=90)
    data = out.getvalue()
    assert MAX_PHOTO_BYTES - 512 * 1024 < len(data) <= MAX_PHOTO_BYTES
    return data


def test_sign_in_and_a_photo_at_the_limit_through_nginx_on_another_port(proxied):
    base = proxied["base"]
    browser = _session(proxied["cert"])
    form = browser.get(f"{base}/login", timeout=30)
    assert form.status_code == 200
    assert form.headers["Strict-Transport-Security"].startswith("max-age=")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form.text).group(1)
    # Browsers send the page they are on; the form's same-site check compares it, port included.
    signed_in = browser.post(
        f"{base}/login",
        data={"csrf_token": token, "login": "genba", "password": PASSWORD, "next": ""},
        headers={"Referer": f"{base}/login"},
        allow_redirects=False,
        timeout=30,
    )
    assert signed_in.status_code == 302, signed_in.text[:500]
    # Staff land on their own page, on the proxy's host and port.
    assert signed_in.headers["Location"] in ("/staff/", f"{base}/staff/")
    cookies = signed_in.raw.headers.getlist("Set-Cookie")
    session_cookie = [c for c in cookies if re.match(r"(__Host-)?session=", c)]
    assert session_cookie and all("Secure" in c and "HttpOnly" in c for c in session_cookie)

    page = browser.get(f"{base}/staff/projects/{proxied['work_id']}", timeout=30)
    assert page.status_code == 200, page.status_code
    assert page.url.endswith(f"/staff/projects/{proxied['work_id']}"), page.url
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text).group(1)
    photo = _photo_at_the_limit()
    posted = browser.post(
        f"{base}/api/projects/{proxied['work_id']}/updates",
        data={"status": "construction", "progress": "35", "note": "橋台の補修"},
        files={"photos": ("site.jpg", photo, "image/jpeg")},
        headers={"X-CSRFToken": csrf, "Referer": f"{base}/staff"},
        timeout=120,
    )
    assert posted.status_code == 201, posted.text[:500]
    assert posted.json()["photos"][0]["display_url"].startswith("/")


def test_plain_http_is_sent_to_https_and_static_files_are_cached_a_year(proxied):
    http = requests.get(
        f"http://localhost:{proxied['http_port']}/near", allow_redirects=False, timeout=30
    )
    assert http.status_code == 301 and http.headers["Location"].startswith("https://localhost")
    page = requests.get(f"{proxied['base']}/", verify=proxied["cert"], timeout=30)
    stylesheet = re.search(r'href="(/static/[^"]+\.css)"', page.text).group(1)
    first = requests.get(f"{proxied['base']}{stylesheet}", verify=proxied["cert"], timeout=30,
                         headers={"Accept-Encoding": "gzip"})  # fmt: skip
    again = requests.get(f"{proxied['base']}{stylesheet}", verify=proxied["cert"], timeout=30,
                         headers={"Accept-Encoding": "gzip"})  # fmt: skip
    assert "max-age=31536000" in first.headers["Cache-Control"]
    assert first.headers["Content-Encoding"] == "gzip"
    assert again.headers["X-Cache"] == "HIT"


def test_a_crowd_asking_at_once_for_a_new_page_costs_the_app_one_answer(proxied):
    # Ten phones open the same place's page at the same instant, before anyone has.
    url = f"{proxied['base']}/near?lat=32.9401&lon=131.1203&radius=500"
    start = threading.Barrier(10)

    def open_page(_n: int) -> str:
        start.wait()
        answer = requests.get(url, verify=proxied["cert"], timeout=30)
        assert answer.status_code == 200 and "宮地駅前橋" in answer.text
        return answer.headers["X-Cache"]

    with ThreadPoolExecutor(10) as phones:
        statuses = list(phones.map(open_page, range(10)))
    # One went to the app; the others waited for its answer (without the lock: one each).
    assert sorted(statuses) == ["HIT"] * 9 + ["MISS"], statuses


def _answered_304(app_base: str, route: str) -> float:
    """How many 304s the app has answered on `route`, from its own figures."""
    figures = requests.get(f"{app_base}/metrics", timeout=30).text
    pattern = rf'^tracker_http_requests_total{{[^}}]*route="{re.escape(route)}"[^}}]*status="304"[^}}]*}} (\S+)$'
    return sum(float(found) for found in re.findall(pattern, figures, flags=re.MULTILINE))


def test_an_expired_copy_is_asked_again_by_its_etag_and_given_out_while_the_app_is_down(
    proxied, tmp_path
):
    # Its own app and nginx: this app's answers may be kept one second, and it is stopped.
    for name in ("cert.pem", "key.pem"):
        shutil.copy(Path(proxied["cert"]).parent / name, tmp_path / name)
    https_port, http_port = free_ports(2)
    settings = proxied["settings"] | {"PUBLIC_MAX_AGE": "1"}
    with (
        gunicorn(proxied["database"], tmp_path / "instance", **settings) as (app_base, app),
        nginx_in_front(tmp_path, app_base, https_port=https_port, http_port=http_port),
    ):
        url = f"https://localhost:{https_port}/ogc/conformance"
        get = lambda: requests.get(url, verify=str(tmp_path / "cert.pem"), timeout=30)  # noqa: E731
        first = get()
        assert first.headers["X-Cache"] == "MISS"
        assert first.headers["Cache-Control"] == "public, max-age=1"

        # Expired: the copy is given out at once while nginx asks the app again with its
        # ETag, and the app's 304 makes it fresh. nginx counts whole seconds and takes a
        # copy as expired once its last second has fully passed: up to 2 s for max-age=1.
        time.sleep(2.2)
        stale = get()
        assert stale.headers["X-Cache"] in ("STALE", "UPDATING")
        assert stale.content == first.content
        deadline = time.monotonic() + 20
        while get().headers["X-Cache"] != "HIT":
            assert time.monotonic() < deadline, "the expired copy was never refreshed"
            time.sleep(0.1)
        assert _answered_304(app_base, "/ogc/conformance") >= 1

        # The app stops: the last copy is still given out, not an error.
        app.terminate()
        app.wait(timeout=40)
        time.sleep(2.2)
        down = get()
        assert down.status_code == 200 and down.headers["X-Cache"] == "STALE"
        assert down.content == first.content


def test_feed_entries_and_alert_mails_link_to_the_public_https_address(proxied):
    base, cert = proxied["base"], proxied["cert"]
    lon, lat = MIYAJI
    feed = requests.get(
        f"{base}/near/feed.atom?lat={lat}&lon={lon}&radius=1000", verify=cert, timeout=30
    )
    assert feed.status_code == 200
    links = re.findall(r'<link[^>]*href="([^"]+)"', feed.text)
    assert any(f"/projects/{proxied['work_id']}" in link for link in links)
    assert links and all(link.startswith(f"{base}/") for link in links)

    resident = _session(cert)
    form = resident.get(f"{base}/alerts/new", timeout=30)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form.text).group(1)
    subscribed = resident.post(
        f"{base}/alerts/new",
        data={"csrf_token": token, "place": "d-miyaji", "radius": "1000",
              "email": "resident@example.jp", "topics": ["restrictions", "start_finish"],
              "frequency": "standard", "lang": "ja"},
        headers={"Referer": f"{base}/alerts/new"},
        timeout=30,
    )  # fmt: skip
    assert subscribed.status_code == 200, subscribed.text[:500]
    with smtp_server() as (mailbox, smtp_url):
        environment = os.environ | {"DATABASE_URL": proxied["database"], "SMTP_URL": smtp_url,
                                    **proxied["settings"]}  # fmt: skip
        sent = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "flask"), "--app", "tracker", "send-alerts"],
            cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert sent.returncode == 0, sent.stdout + sent.stderr
    [mail] = mailbox.to("resident@example.jp")
    body = mail.get_body(("plain",)).get_content()
    assert f"{base}/alerts/confirm/" in body


def test_the_systemd_units_are_valid(tmp_path):
    # The units name the app under /srv/aso-tracker; here it is this folder.
    for unit in UNITS.iterdir():
        (tmp_path / unit.name).write_text(unit.read_text().replace("/srv/aso-tracker", str(ROOT)))
    checked = subprocess.run(
        [shutil.which("systemd-analyze") or "systemd-analyze", "verify", "--man=no",
         *sorted(str(p) for p in tmp_path.iterdir())],
        capture_output=True, text=True, env=os.environ | {"SYSTEMD_LOG_LEVEL": "warning"},
    )  # fmt: skip
    assert checked.returncode == 0 and checked.stderr == "", checked.stderr
