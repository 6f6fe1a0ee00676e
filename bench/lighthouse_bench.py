"""What a phone on a slow network waits for: Lighthouse (npm, pinned in package.json) in its
mobile emulation (simulated slow 4G, 4x CPU slowdown) against gunicorn as `make run` starts
it, on /, /near, /staff (signed in as staff) and /plan.

Figures: the performance score (0-100), the largest paint (ms), the layout shift and the
blocking time (ms) of each page; the median of a few runs. Map tiles from outside hosts are
blocked, as in the map bench: the machine may have no way out, and they are not ours.
"""

import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from bench.servers import app_server
from config import CHROMIUM, ROOT
from tracker.accounts.models import Department
from tracker.accounts.operations import create_user

PROJECTS = 10_000
PAGES = {"home": "/", "near": "/near", "staff": "/staff", "plan": "/plan"}
LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
PASSWORD = "bench lighthouse password 1"
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage"


def _staff_cookie(ctx, n: int) -> str:
    """Sign a new staff member in through the app; return the Cookie header it gets."""
    engine = create_engine(ctx.database(n))
    with Session(engine) as session:
        login = f"lighthouse{time.time_ns()}"
        user = create_user(session, login, role="staff", password=PASSWORD)
        user.departments = list(session.scalars(select(Department)))
        session.commit()
    engine.dispose()
    app = ctx.app(n)
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    response = client.post("/login", data={"login": login, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = client.get_cookie(name)
    assert cookie is not None, "no session cookie after signing in"
    return f"{name}={cookie.value}"


def _audit(url: str, folder: Path, headers: dict[str, str]) -> dict[str, float]:
    """Run Lighthouse once on `url`; return its performance figures."""
    report = folder / "report.json"
    extra = folder / "headers.json"
    extra.write_text(json.dumps(headers))
    command = [
        str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={report}",
        "--only-categories=performance", f"--chrome-flags={CHROME_FLAGS}",
        f"--extra-headers={extra}", "--blocked-url-patterns=*cyberjapandata.gsi.go.jp*",
        "--max-wait-for-load=60000",
    ]  # fmt: skip
    # Once more if Chrome fails to start or gives up on a loaded machine; then say why.
    for attempt in range(2):
        done = subprocess.run(command, env=os.environ | {"CHROME_PATH": CHROMIUM},
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              timeout=300)  # fmt: skip
        if done.returncode == 0:
            break
        if attempt == 1:
            raise RuntimeError(f"Lighthouse on {url} failed:\n{done.stderr[-2000:]}")
    result = json.loads(report.read_text())
    audits = result["audits"]
    if result.get("runtimeError"):
        raise RuntimeError(f"Lighthouse on {url}: {result['runtimeError']}")
    return {
        "performance": result["categories"]["performance"]["score"] * 100,
        "lcp_ms": audits["largest-contentful-paint"]["numericValue"],
        "cls": audits["cumulative-layout-shift"]["numericValue"],
        "tbt_ms": audits["total-blocking-time"]["numericValue"],
    }


def run(ctx):
    """Yield each page's Lighthouse figures."""
    if not LIGHTHOUSE.exists():
        raise RuntimeError("Lighthouse is missing: run scripts/setup.sh --bench (npm ci)")
    n = ctx.size(PROJECTS)
    url = ctx.database(n)
    runs = 1 if ctx.small else 3
    staff = {"Cookie": _staff_cookie(ctx, n)}
    with app_server(url) as base, tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        for name, path in PAGES.items():
            headers = staff if name == "staff" else {}
            _audit(base + path, folder, headers)  # warm-up: the workers' first requests
            figures = [_audit(base + path, folder, headers) for _ in range(runs)]
            yield (
                f"lighthouse_performance_{name}",
                round(statistics.median(f["performance"] for f in figures)),
            )
            yield (
                f"lighthouse_lcp_ms_{name}",
                round(statistics.median(f["lcp_ms"] for f in figures)),
            )
            yield f"lighthouse_cls_{name}", round(statistics.median(f["cls"] for f in figures), 3)
            yield (
                f"lighthouse_tbt_ms_{name}",
                round(statistics.median(f["tbt_ms"] for f in figures)),
            )
