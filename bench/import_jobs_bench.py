"""The import page on the served app (gunicorn, as `make run`) with the import worker beside it:

- import_refuse_1e6_rows_ms: posting a million-row workbook until the page refuses it (the
  limit is checked on upload, without parsing the sheet);
- import_worker_peak_mb: the worker's peak resident memory after checking and then importing
  the 10,000-row cp932 CSV of imports_bench through the page;
- import_web_worker_peak_mb: the largest gunicorn worker's peak resident memory meanwhile;
- import_page_check_s and import_page_import_s: from posting the file (or the import) to the
  job's page showing the report.

It runs on a database of its own, as the import writes its works for real.
"""

import os
import re
import statistics
import subprocess
import time
import uuid
from pathlib import Path

import requests
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from bench.imports_bench import cp932_csv
from bench.run import GEODATA, city_points
from bench.servers import app_server_process
from config import ROOT
from tests.import_files import workbook_of_rows
from tracker.accounts.models import Department, User
from tracker.accounts.passwords import hash_password
from tracker.wiring.loaders import (
    fresh_city_database,
)

ROWS = 10_000
PASSWORD = "bench-imports-Kumamoto-2016"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _database(ctx) -> str:
    base, _, name = ctx.base_url.rpartition("/")
    url = f"{base}/{name}_bench_import_jobs"
    fresh_city_database(url, GEODATA)
    return url


def _staff(url: str) -> str:
    """Add a staff member of 建設課 who signs in with PASSWORD; return the login."""
    login = f"bench-{uuid.uuid4().hex[:8]}"
    engine = create_engine(url)
    with Session(engine) as session:
        department = session.scalar(select(Department).where(Department.name == "建設課"))
        department = department or Department(name="建設課")
        session.add(
            User(
                login=login,
                role="staff",
                password_hash=hash_password(PASSWORD),
                departments=[department],
            )
        )
        session.commit()
    engine.dispose()
    return login


def _csrf(client: requests.Session, url: str) -> str:
    found = CSRF.search(client.get(url, timeout=30).text)
    if found is None:
        raise RuntimeError(f"no CSRF token on {url}")
    return found.group(1)


def _sign_in(base: str, login: str) -> requests.Session:
    client = requests.Session()
    token = _csrf(client, base + "/login")
    answer = client.post(
        base + "/login",
        data={"csrf_token": token, "login": login, "password": PASSWORD},
        allow_redirects=False,
        timeout=30,
    )
    if answer.status_code != 303 and answer.status_code != 302:
        raise RuntimeError(f"sign-in failed: {answer.status_code}")
    return client


def _post_file(client: requests.Session, base: str, data: bytes, filename: str, **form: str):
    token = _csrf(client, base + "/projects/import")
    return client.post(
        base + "/projects/import",
        data={"csrf_token": token, **form},
        files={"file": (filename, data)},
        allow_redirects=False,
        timeout=120,
    )


def _follow(client: requests.Session, base: str, queued: requests.Response) -> str:
    """Wait for the job the page queued, as the page's script does; return its page."""
    if queued.status_code != 303:
        raise RuntimeError(f"not queued: {queued.status_code} {queued.text[:300]}")
    page = base + queued.headers["Location"]
    while not client.get(page + "/progress", timeout=30).json()["finished"]:
        time.sleep(0.2)
    return client.get(page, timeout=60).text


def _peak_mb(pid: int) -> float:
    """Return a process's peak resident memory (VmHWM) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def run(ctx):
    """Yield the import page's figures."""
    rows = ctx.size(ROWS)
    url = _database(ctx)
    login = _staff(url)
    engine = create_engine(url)
    with Session(engine) as session:
        points = city_points(session, rows, seed=11)
    engine.dispose()
    works = cp932_csv(points)
    huge = workbook_of_rows(1_000_000)
    worker = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "flask"), "--app", "tracker", "run-import-jobs",
         "--poll", "0.2"],
        env=os.environ | {"DATABASE_URL": url},
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        with app_server_process(url) as (base, gunicorn):
            client = _sign_in(base, login)
            times = []
            for _ in range(7):
                start = time.perf_counter()
                refused = _post_file(client, base, huge, "works.xlsx")
                times.append((time.perf_counter() - start) * 1000)
                if refused.status_code != 400 or "20,000 行まで" not in refused.text:
                    raise RuntimeError(f"not refused: {refused.status_code}")
            yield "import_refuse_1e6_rows_ms", round(statistics.median(times), 1)

            start = time.perf_counter()
            checked = _follow(client, base, _post_file(client, base, works, "works.csv"))
            yield "import_page_check_s", round(time.perf_counter() - start, 2)
            if f"追加 {rows}" not in checked:
                raise RuntimeError("the check did not list every row as new")
            job = re.search(r'name="job" value="(\d+)"', checked)
            if job is None:
                raise RuntimeError("the checked page offers no import")
            start = time.perf_counter()
            token = _csrf(client, base + "/projects/import")
            imported = _follow(
                client,
                base,
                client.post(
                    base + "/projects/import",
                    data={"csrf_token": token, "job": job.group(1), "action": "import"},
                    allow_redirects=False,
                    timeout=60,
                ),
            )
            yield "import_page_import_s", round(time.perf_counter() - start, 2)
            if "取り込みました" not in imported:
                raise RuntimeError("the import was not written")
            yield "import_worker_peak_mb", round(_peak_mb(worker.pid))
            web = max(_peak_mb(pid) for pid in _children(gunicorn.pid))
            yield "import_web_worker_peak_mb", round(web)
    finally:
        worker.terminate()
        worker.wait(timeout=120)
