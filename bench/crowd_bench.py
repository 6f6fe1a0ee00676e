"""A crowd on phones after a disaster: 200 residents (locust, headless) each opening /near at
a place of their own, its map tiles, the restrictions, the feed and now and then a work's
page, with a few seconds between taps; against gunicorn as `make run` starts it, then the
same crowd through the shipped nginx site (deploy/nginx) with its proxy cache in front.

Figures: the 99th percentile over every request (crowd_p99_ms), failed requests
(crowd_errors) and requests per second (crowd_rps); crowd_proxy_* the same through nginx.
locust runs from a virtualenv of the bench's own (bench.servers.ensure_locust).
"""

import csv
import json
import math
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

from bench.nearby_bench import _random_points
from bench.servers import app_server, ensure_locust, nginx_proxy
from config import ROOT
from tracker.ogc.tiles import TMS_ID

PROJECTS = 10_000
USERS = 200
SECONDS = int(os.environ.get("CROWD_SECONDS", "30"))
PLACES = 300
RADII = (500, 1000, 1000, 3000)  # the page's default most often
TILE_ZOOM = 14
# Outside the bench package: only locust's own virtualenv can import it.
LOCUSTFILE = ROOT / "bench" / "locust" / "crowd.py"


def _tiles_around(lat: float, lon: float) -> list[str]:
    """The four tiles a phone's screen shows around a place at TILE_ZOOM."""
    n = 2**TILE_ZOOM
    fx = (lon + 180) / 360 * n
    fy = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    x0, y0 = int(fx - 0.5), int(fy - 0.5)
    return [
        f"/ogc/collections/projects/tiles/{TMS_ID}/{TILE_ZOOM}/{y}/{x}"
        for x in (x0, x0 + 1)
        for y in (y0, y0 + 1)
    ]


def _plan(url: str, places: int) -> dict:
    rng = random.Random(26)
    points = _random_points(url, places)
    engine = create_engine(url)
    with engine.connect() as conn:
        ids = list(
            conn.scalars(
                text(
                    "SELECT id FROM projects WHERE is_public AND withdrawn_at IS NULL"
                    " ORDER BY random() LIMIT 200"
                )
            )
        )
    engine.dispose()
    return {
        "places": [(round(lat, 5), round(lon, 5), rng.choice(RADII)) for lat, lon in points],
        "tiles": [_tiles_around(lat, lon) for lat, lon in points],
        "projects": ids,
    }


def _warm(base: str, plan: dict) -> None:
    """Open every kind of page a few times, so that each worker has built its app, its pool
    and its templates before the crowd arrives (as on a server that has been up a while)."""
    lat, lon, radius = plan["places"][0]
    paths = [
        f"/near?lat={lat}&lon={lon}&radius={radius}",
        f"/near/feed.atom?lat={lat}&lon={lon}&radius={radius}",
        "/api/restrictions",
        f"/projects/{plan['projects'][0]}",
        *plan["tiles"][0],
    ]
    # A connection of its own for each request: a kept-alive one stays with the worker that
    # accepted it, and the others would meet the crowd cold.
    for _ in range(8):
        for path in paths:
            requests.get(
                base + path, timeout=60, headers={"Connection": "close"}
            ).raise_for_status()


def _crowd(base: str, plan_file: Path, users: int, seconds: int, folder: Path) -> dict:
    """Run the crowd against `base`; return the figures of locust's aggregated row."""
    _warm(base, json.loads(plan_file.read_text()))
    prefix = folder / f"crowd-{abs(hash(base))}"
    command = [
        str(ensure_locust()), "-f", str(LOCUSTFILE), "--headless", "--host", base,
        "--users", str(users), "--spawn-rate", str(max(1, users // 4)),
        "--run-time", f"{seconds}s", "--csv", str(prefix), "--only-summary",
        "--loglevel", "WARNING", "--exit-code-on-error", "0",
    ]  # fmt: skip
    env = os.environ | {"CROWD_PLAN": str(plan_file)}
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=seconds + 120)  # fmt: skip
    with open(f"{prefix}_stats.csv", encoding="utf-8") as stats:
        total = next(row for row in csv.DictReader(stats) if row["Name"] == "Aggregated")
    if int(total["Request Count"]) == 0:
        raise RuntimeError(f"the crowd made no request against {base}")
    # Each kind of failure once, with how often, so that a run with errors says which.
    with open(f"{prefix}_failures.csv", encoding="utf-8") as failures:
        for row in csv.DictReader(failures):
            print(f"crowd failure against {base}: {row['Method']} {row['Name']}: {row['Error']}"
                  f" ({row['Occurrences']} times)", file=sys.stderr)  # fmt: skip
    return {
        "p99_ms": float(total["99%"]),
        "errors": int(total["Failure Count"]),
        "rps": round(float(total["Requests/s"]), 1),
        "requests": int(total["Request Count"]),
    }


def run(ctx):
    """Yield the crowd's figures against gunicorn, then through the nginx proxy cache."""
    url = ctx.database(ctx.size(PROJECTS))
    # The quick run proves the bench works: a small crowd for a few seconds.
    users, seconds = (20, 5) if ctx.small else (USERS, SECONDS)
    with tempfile.TemporaryDirectory(prefix="aso-crowd-") as work:
        folder = Path(work)
        plan_file = folder / "plan.json"
        plan_file.write_text(json.dumps(_plan(url, 20 if ctx.small else PLACES)))
        with app_server(url) as base:
            direct = _crowd(base, plan_file, users, seconds, folder)
            with nginx_proxy(base) as proxied:
                through = _crowd(proxied, plan_file, users, seconds, folder)
    yield "crowd_p99_ms", direct["p99_ms"]
    yield "crowd_errors", direct["errors"]
    yield "crowd_rps", direct["rps"]
    yield "crowd_proxy_p99_ms", through["p99_ms"]
    yield "crowd_proxy_errors", through["errors"]
    yield "crowd_proxy_rps", through["rps"]
    yield "crowd_users", users
    yield "crowd_seconds", seconds
