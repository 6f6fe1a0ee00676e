"""Throughput under load: the production server (gunicorn, as `make run` starts it) against
the development server (`flask run`), 20 concurrent clients each, in the same run.

The load comes from wrk (Debian's package, installed by `scripts/setup.sh --bench`): a C
client that keeps 20 connections busy with little CPU of its own, which matters on a
2-core machine where a Python client would take much of the time it measures. Each figure
runs for a bounded time; the two servers run one after the other, never side by side, in
LOAD_ROUNDS rounds (2) that alternate which goes first: each figure is the median of its
rounds, so that neither server is always the one measured on the machine the other has just
warmed (PostgreSQL's caches), nor always the one at the quieter moment of a shared machine.
`load_average` is the machine's load average at the end, for reading the figures.

`load_nearby_sql_p99_ms` is the database's share alone: the nearby API's own statement, with
the parameters of the same requests, run by pgbench (PostgreSQL's C client) with the same 20
clients on the same machine, each statement prepared as the app prepares it. What the web
tier adds is the gap between it and `load_nearby_p99_ms`.

The map is drawn from vector tiles now; `load_map_geojson_rps` is the map's GeoJSON layer
for download and the meeting list (/plan/projects.geojson), and `load_map_tiles_rps` the
tiles a phone fetches while it pans over the city.
"""

import math
import os
import random
import re
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

import psycopg
import requests
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url

from bench.nearby_bench import RADII, _random_points
from bench.run import percentile
from bench.servers import app_server, flask_run_server
from tracker.core import clock
from tracker.near.queries import nearby_answer_statement, nearby_params
from tracker.ogc.tiles import TMS_ID
from tracker.projects.queries import Circle

PROJECTS = 10_000
CLIENTS = 20
SECONDS = int(os.environ.get("LOAD_SECONDS", "10"))
ROUNDS = int(os.environ.get("LOAD_ROUNDS", "2"))
# Before each server's figures: this long under the same load, so that every thread has its
# pooled connection and psycopg has prepared the nearby statement on each of them (after 5
# uses per connection) — gunicorn's 32 connections take longer to get there than flask run's.
WARM_UP_SECONDS = 3
# The city's extent (lon, lat) and the zooms a resident's phone shows it at.
CITY = (131.0, 32.85, 131.25, 33.05)
TILE_ZOOMS = (12, 13, 14)

# pgbench takes at most 128 scripts: the bare statement runs with the first of the requests.
PGBENCH_SCRIPTS = 128
# pgbench reads ":name" as one of its variables, even in a quoted literal ('HH24:MI').
PGBENCH_VARIABLE = re.compile(r"(?<!:):(?=[A-Za-z_])")

# Each request takes a random path from a list: 300 points inside the city, or its tiles.
RANDOM_PATH = """
local paths = {%s}
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
"""


def _tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def _tile_paths() -> list[str]:
    paths = []
    for z in TILE_ZOOMS:
        (x0, y0), (x1, y1) = _tile(CITY[0], CITY[3], z), _tile(CITY[2], CITY[1], z)
        paths += [
            f"/ogc/collections/projects/tiles/{TMS_ID}/{z}/{y}/{x}"
            for x in range(x0, x1 + 1)
            for y in range(y0, y1 + 1)
        ]
    return paths


def _script(folder: str, name: str, paths: list[str]) -> Path:
    script = Path(folder, f"{name}.lua")
    script.write_text(RANDOM_PATH % ", ".join(f'"{p}"' for p in paths))
    return script


def _wrk(url: str, seconds: int, script: Path | None = None) -> tuple[float, float]:
    """Load one URL for `seconds` with CLIENTS connections; return (requests/s, p99 ms)."""
    command = ["wrk", "-t2", f"-c{CLIENTS}", f"-d{seconds}s", "--latency", "--timeout", "30s"]
    command += ["-H", "Accept-Encoding: gzip"]
    if script is not None:
        command += ["-s", str(script)]
    done = subprocess.run([*command, url], capture_output=True, text=True)
    if done.returncode != 0:
        # wrk says why on stderr (a connection it could not open, for one).
        raise RuntimeError(f"wrk failed on {url} ({done.returncode}):\n{done.stderr}{done.stdout}")
    out = done.stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"errors under load on {url}:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"\s99%\s+([\d.]+)(us|ms|s)\b", out).groups()
    return rps, float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _measure(base: str, scripts: dict[str, Path], seconds: int) -> dict[str, float]:
    # A warm-up first: every worker connects to PostgreSQL and fills its caches.
    for path in ("/api/projects", "/plan/projects.geojson"):
        requests.get(base + path, timeout=120)
    _wrk(base, min(seconds, WARM_UP_SECONDS), scripts["nearby"])
    nearby_rps, nearby_p99 = _wrk(base, seconds, scripts["nearby"])
    return {
        "load_nearby_rps": nearby_rps,
        "load_nearby_p99_ms": nearby_p99,
        "load_map_geojson_rps": _wrk(base + "/plan/projects.geojson", seconds)[0],
        "load_map_tiles_rps": _wrk(base, seconds, scripts["tiles"])[0],
        "load_api_projects_rps": _wrk(base + "/api/projects", seconds)[0],
    }


def _nearby_scripts(url: str, cases: list[tuple[float, float, int]], folder: str) -> list[str]:
    """Write the nearby API's statement with each case's parameters as a pgbench script;
    return pgbench's arguments naming them, each as likely as the others."""
    compiled = nearby_answer_statement().compile(dialect=postgresql.psycopg.dialect())
    arguments = []
    with psycopg.connect(
        make_url(url).render_as_string(hide_password=False).replace("+psycopg", "")
    ) as conn:
        cursor = psycopg.ClientCursor(conn)
        for number, (lat, lon, radius) in enumerate(cases[:PGBENCH_SCRIPTS]):
            params = nearby_params(Circle(lat, lon, radius), today=clock.today())
            sql = cursor.mogrify(compiled.string, compiled.construct_params(params))
            # SQLAlchemy writes no ":name" of its own here: each one is inside a literal.
            sql = PGBENCH_VARIABLE.sub("' || ':' || '", sql)
            script = Path(folder, f"nearby{number}.sql")
            script.write_text(" ".join(sql.split()) + ";\n")
            arguments += ["-f", f"{script}@1"]
    return arguments


def _bare_nearby_sql(
    url: str, cases: list[tuple[float, float, int]], seconds: int, folder: str
) -> tuple[float, float]:
    """Run the nearby API's statement with each case's parameters from CLIENTS pgbench
    clients for `seconds`; return (statements/s, p99 ms)."""
    if shutil.which("pgbench") is None:
        raise RuntimeError("pgbench is missing: run scripts/setup.sh --bench")
    scripts = _nearby_scripts(url, cases, folder)
    where = make_url(url)
    connect = [f"--host={where.host}", f"--port={where.port or 5432}",
               f"--username={where.username}", str(where.database)]  # fmt: skip
    log = Path(folder, "pgbench")
    # A warm-up first, as for the servers: each connection prepares its statements.
    for length, logged in (
        (min(seconds, WARM_UP_SECONDS), []),
        (seconds, ["--log", f"--log-prefix={log}"]),
    ):
        command = ["pgbench", "--no-vacuum", "--protocol=prepared", f"--client={CLIENTS}",
                   "--jobs=2", f"--time={length}", *logged, *scripts, *connect]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True,
                              env=os.environ | {"PGPASSWORD": where.password or ""})  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"pgbench failed ({done.returncode}):\n{done.stderr[-2000:]}")
    # One line per statement: client, number, latency in microseconds, ...
    latencies = [
        int(entry.split()[2]) / 1000
        for part in Path(folder).glob("pgbench*")
        for entry in part.read_text().splitlines()
    ]
    return len(latencies) / seconds, percentile(latencies, 99)


def run(ctx):
    """Yield each load figure for gunicorn, with the same figure for `flask run` beside it,
    and the nearby figures of the bare statement."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is missing: run scripts/setup.sh --bench")
    url = ctx.database(ctx.size(PROJECTS))
    # The quick run only proves the bench works: a second per figure.
    seconds = 1 if ctx.small else SECONDS
    rng = random.Random(9)
    cases = [(lat, lon, rng.choice(RADII)) for lat, lon in _random_points(url, 300)]
    nearby = [
        f"/api/projects/nearby?lat={lat:.5f}&lon={lon:.5f}&radius={radius}"
        for lat, lon, radius in cases
    ]
    servers = (("gunicorn", app_server), ("flask_run", flask_run_server))
    rounds: dict[str, list[dict[str, float]]] = {name: [] for name, _ in servers}
    bare: list[tuple[float, float]] = []  # (statements/s, p99 ms) of each round
    with tempfile.TemporaryDirectory() as work:
        scripts = {
            "nearby": _script(work, "nearby", nearby),
            "tiles": _script(work, "tiles", _tile_paths()),
        }
        for number in range(1 if ctx.small else ROUNDS):
            for name, server in servers if number % 2 == 0 else servers[::-1]:
                with server(url) as base:
                    rounds[name].append(_measure(base, scripts, seconds))
            bare.append(_bare_nearby_sql(url, cases, seconds, tempfile.mkdtemp(dir=work)))
    for figure in rounds["gunicorn"][0]:
        for name, suffix in (("gunicorn", ""), ("flask_run", "_flask_run")):
            yield f"{figure}{suffix}", round(statistics.median(r[figure] for r in rounds[name]), 1)
    yield "load_nearby_sql_rps", round(statistics.median(rps for rps, _ in bare), 1)
    yield "load_nearby_sql_p99_ms", round(statistics.median(p99 for _, p99 in bare), 1)
    yield "load_clients", CLIENTS
    yield "load_seconds_per_figure", seconds
    yield "load_rounds", len(rounds["gunicorn"])
    yield "load_average", round(os.getloadavg()[0], 1)
