"""Fixtures: a real PostGIS test database built by the migrations, one rolled-back
transaction per test, factories for projects, and a live server for Chromium.

The whole run starts at one instant (TEST_NOW, else one chosen and printed) and time flows on
from it: the app's clock, the tests' own dates and the pages' clocks in Chromium all follow it.
A test that needs a certain day fixes it with @pytest.mark.time_machine(instant).
"""

import contextlib
import os
import threading
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
import time_machine
from shapely.geometry import LineString, Point
from sqlalchemy import create_engine, event
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from config import CHROMIUM, CHROMIUM_ARGS, LOCAL_DATABASE_URL, ROOT, test_database_url
from tests.instants import show, start_instant
from tracker import create_app
from tracker.core import clock, migrate
from tracker.core.dbadmin import recreate_database
from tracker.projects.operations import create_project
from tracker.wiring.loaders import load_city, load_facilities, load_plan_catalogue

GEODATA = ROOT / "geodata"
START = start_instant()
TRAVEL = pytest.StashKey[time_machine.travel]()

# Places inside the city, for factories.
MIYAJI_STATION = (131.11879, 32.937)
UCHINOMAKI_STATION = (131.04441, 32.94212)


def pytest_configure(config):
    """Start the run at its instant; time flows on from there (timeouts still run)."""
    config.stash[TRAVEL] = time_machine.travel(START, tick=True)
    config.stash[TRAVEL].start()


def pytest_unconfigure(config):
    if TRAVEL in config.stash:
        config.stash[TRAVEL].stop()
        del config.stash[TRAVEL]


def pytest_report_header(config):
    return f"TEST_NOW={show(START)}  (set it to run again at this instant)"


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(f"This run started at TEST_NOW={show(START)}")


@pytest.fixture(scope="session")
def database_url() -> str:
    """A fresh test database with the schema built by running every migration."""
    url = test_database_url(os.environ.get("DATABASE_URL", LOCAL_DATABASE_URL))
    recreate_database(url)
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def engine(database_url):
    """The engine of the test database, with the catalogue and city data loaded once."""
    engine = create_engine(database_url)
    with Session(engine) as session:
        load_plan_catalogue(session, GEODATA / "plan_catalogue.json")
        load_city(session, GEODATA)
        load_facilities(session, GEODATA / "aso_shelters_gsi.csv")
        session.commit()
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine):
    """A connection inside a transaction that is rolled back after the test."""
    with engine.connect() as conn:
        outer = conn.begin()
        # The data version is raised at commit, which never comes here: raise it at each change.
        conn.exec_driver_sql("SET CONSTRAINTS ALL IMMEDIATE")
        yield conn
        if outer.is_active:
            outer.rollback()


def _test_app(database_url, connection, tmp_path, **overrides):
    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "DB_CONNECTION": connection,
            "SECRET_KEY": "test-secret",
            "UPLOAD_DIR": str(tmp_path / "uploads"),
            **overrides,
        }
    )


@pytest.fixture
def app(database_url, connection, tmp_path):
    """The app, bound to the test's connection."""
    # CSRF off by default so tests can post forms; tests of CSRF itself use `csrf_app`.
    return _test_app(database_url, connection, tmp_path, WTF_CSRF_ENABLED=False)


@pytest.fixture
def csrf_app(database_url, connection, tmp_path):
    """The app with CSRF checks on, as it runs for real."""
    return _test_app(database_url, connection, tmp_path)


@pytest.fixture
def session(connection) -> Session:
    """A session for the test's own reads and writes, inside the rolled-back transaction."""
    with Session(bind=connection, join_transaction_mode="create_savepoint") as s:
        yield s


@pytest.fixture
def client(app):
    """A test client of the app."""
    return app.test_client()


@pytest.fixture
def make_project(session):
    """Create a project with sensible defaults; keyword arguments override them.

    Its department is added to the departments table, as loading works does.
    """
    from tracker.projects.departments import add_departments_of_works

    def make(**fields):
        kind = fields.pop("kind", "bridge")
        if "geometry" not in fields:
            lon, lat = MIYAJI_STATION
            fields["geometry"] = (
                LineString([(lon, lat), (lon + 0.005, lat + 0.001)])
                if kind in ("road", "pavement", "revetment")
                else Point(lon, lat)
            )
        defaults = {
            "name": "テスト事業",
            "department": "建設課",
            "planned_start": date(2022, 4, 1),
            "planned_end": date(2023, 3, 31),
        }
        project = create_project(session, kind=kind, **(defaults | fields))
        # As after loading: the departments table holds the department the work names.
        add_departments_of_works(session)
        return project

    return make


class ConnectionTurns:
    """Let the served app and the test take turns on the test's one connection.

    A request holds the turn from start to end; the test takes it for each statement. So
    the test never writes between a request's statements, nor releases or rolls back its
    savepoint while a request (a tile, a service worker's background fetch) is inside it.
    """

    def __init__(self, connection):
        self.connection = connection
        self.lock = threading.RLock()
        # Statements this thread has started and not finished (each holds the turn once).
        self.running = threading.local()

    def __enter__(self):
        event.listen(self.connection, "before_cursor_execute", self._take)
        event.listen(self.connection, "after_cursor_execute", self._give)
        event.listen(self.connection.engine, "handle_error", self._give_after_error)
        return self

    def __exit__(self, *exc):
        event.remove(self.connection, "before_cursor_execute", self._take)
        event.remove(self.connection, "after_cursor_execute", self._give)
        event.remove(self.connection.engine, "handle_error", self._give_after_error)

    def _take(self, *_):
        self.lock.acquire()
        self.running.count = getattr(self.running, "count", 0) + 1

    def _give(self, *_):
        if getattr(self.running, "count", 0):
            self.running.count -= 1
            self.lock.release()

    def _give_after_error(self, context):
        # A failed statement never reaches after_cursor_execute.
        if context.connection is self.connection:
            self._give()

    def serve(self, app):
        """Wrap a WSGI app so that each request holds the turn until its body is written."""

        def one_at_a_time(environ, start_response):
            with self.lock:
                body = app(environ, start_response)
                try:
                    return [b"".join(body)]
                finally:
                    if hasattr(body, "close"):
                        body.close()

        return one_at_a_time


@contextmanager
def serving(app):
    """Serve the app on a free local port, in a thread, and yield its base URL."""
    # One thread serves requests one at a time, taking turns with the test on its connection.
    with ConnectionTurns(app.config["DB_CONNECTION"]) as turns:
        server = make_server("127.0.0.1", 0, turns.serve(app), threaded=False)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{server.server_port}"
        server.shutdown()
        thread.join()


@pytest.fixture
def live_server(app):
    """The app served on a local port, on the test's connection."""
    with serving(app) as url:
        yield url


@pytest.fixture
def csrf_live_server(csrf_app):
    """The app with CSRF checks on, served on a local port."""
    with serving(csrf_app) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium from the system, driven by Playwright."""
    from playwright.sync_api import expect, sync_playwright

    # Speed is measured by the bench, not here: a check waits long enough for a page to
    # settle on a busy 2-core machine (the staff map's tiles queue on the one-thread test
    # server before the nearby list's request).
    expect.set_options(timeout=15_000)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield ClockedBrowser(browser)
        browser.close()


class ClockedBrowser:
    """Chromium whose pages read the tests' clock: Date in a page starts at clock.now() when
    its context opens and runs on from there, while timers keep real time."""

    def __init__(self, browser):
        self._browser = browser

    def __getattr__(self, name):
        return getattr(self._browser, name)

    def new_context(self, **options):
        context = self._browser.new_context(**options)
        context.clock.set_system_time(clock.now())
        return context


def local_only(route):
    """Let requests to this machine through and abort every other: no internet."""
    host = route.request.url.split("/")[2].split(":")[0]
    if host in ("127.0.0.1", "localhost"):
        route.continue_()
    else:
        route.abort()


# Every document keeps the Content-Security-Policy violations it sees; the page fixture
# reads them back, so a page that the policy breaks fails its test.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline")
    + " at " + e.sourceFile + ":" + e.lineNumber);
});
"""


def watched_page(context):
    """Open a page that collects JavaScript errors and Content-Security-Policy violations."""
    context.add_init_script(RECORD_CSP_VIOLATIONS)
    page = context.new_page()
    page.errors = []
    page.csp_violations = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))

    def on_console(message):
        # Chromium also reports each violation on the console, also for documents that
        # were left before the test ended.
        if "Content Security Policy" in message.text:
            page.csp_violations.append(message.text)

    page.on("console", on_console)
    return page


def assert_no_csp_violations(page) -> None:
    """Fail if the page met any Content-Security-Policy violation."""
    # A closed page or a document mid-navigation has nothing to add.
    with contextlib.suppress(Exception):
        page.csp_violations.extend(page.evaluate("window.__cspViolations || []"))
    assert not page.csp_violations, f"Content-Security-Policy violations: {page.csp_violations}"


@pytest.fixture
def page(browser):
    """A page with every request to another host blocked (the app must work offline) that
    fails its test on any Content-Security-Policy violation."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ja-JP")
    context.route("**/*", local_only)
    page = watched_page(context)
    yield page
    assert_no_csp_violations(page)
    context.close()


@pytest.fixture
def artifacts_dir() -> Path:
    """Where browser tests leave screenshots for people to look at."""
    path = ROOT / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture
def make_user(session):
    """Create a user with a role (and a real password hash with `password=`); sign in
    through `login_as`.

    `departments=[names or rows]` gives the person those departments (made as needed); staff
    default to make_project's department, 建設課, admins and viewers to none.
    """
    from itertools import count

    from sqlalchemy import select

    from tracker.accounts.models import Department, User
    from tracker.accounts.passwords import hash_password

    numbers = count(1)

    def department(name: "str | Department") -> Department:
        if isinstance(name, Department):
            return name
        found = session.scalar(select(Department).where(Department.name == name))
        if found is None:
            found = Department(name=name)
            session.add(found)
        return found

    def make(
        role: str = "staff",
        login: str | None = None,
        password: str | None = None,
        departments: list | None = None,
        **fields,
    ):
        # "!" is no Argon2 hash: a user made without a password cannot sign in with one.
        default_hash = hash_password(password) if password is not None else "!"
        if departments is None:
            departments = ["建設課"] if role == "staff" else []
        user = User(
            login=login or f"{role}{next(numbers)}",
            role=role,
            password_hash=fields.pop("password_hash", default_hash),
            departments=[department(name) for name in departments],
            **fields,
        )
        session.add(user)
        session.flush()
        return user

    return make


@pytest.fixture
def login_as(client, session):
    """Sign the test client in as a user, as the login form would (a server-side session)."""
    from tracker.accounts.access import SESSION_KEY
    from tracker.accounts.operations import start_login_session

    def login(user, test_client=None):
        test_client = test_client or client
        sid = start_login_session(session, user)
        with test_client.session_transaction() as flask_session:
            flask_session.clear()
            flask_session[SESSION_KEY] = sid
        return test_client

    return login


@pytest.fixture(scope="session", autouse=True)
def compiled_translations():
    """Compile the translation catalogues when the .mo files are missing or stale."""
    # scripts/setup.sh compiles them too; this keeps a bare `pytest` working from a fresh clone.
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po_path in (ROOT / "tracker" / "translations").glob("*/LC_MESSAGES/*.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parent.parent.name)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)
