"""Throughput under load: the production server (gunicorn, as `make run` starts it) against
the development server (`flask run`), 20 concurrent clients each, in the same run.

The load comes from wrk (Debian's package, installed by `scripts/setup.sh --bench`): a C
client that keeps 20 connections busy with little CPU of its own, which matters on a
2-core machine where a Python client would take much of the time it measures. Each figure
runs for a bounded time; the servers run one after the other, never side by side.
"""

import os
import random
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import requests

from bench.nearby_bench import RADII, _random_points
from config import ROOT

PROJECTS = 10_000
CLIENTS = 20
SECONDS = int(os.environ.get("LOAD_SECONDS", "10"))
VENV = ROOT / ".venv" / "bin"

# A random point of 300 inside the city per request, as residents in different places would.
NEARBY_SCRIPT = """
local paths = {%s}
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
"""


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(kind: str, url: str, port: int, instance: Path) -> subprocess.Popen:
    env = os.environ | {
        "DATABASE_URL": url,
        "PORT": str(port),
        "TRACKER_INSTANCE_DIR": str(instance),
        "SECRET_KEY": "bench",
    }
    if kind == "gunicorn":
        command = [str(VENV / "gunicorn"), "--config", str(ROOT / "gunicorn.conf.py")]
    else:
        command = [str(VENV / "flask"), "--app", "tracker", "run", "--port", str(port)]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).ok:
                return process
        except requests.RequestException:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"{kind} did not start")


def _stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=40)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wrk(url: str, seconds: int, script: Path | None = None) -> tuple[float, float]:
    """Load one URL for `seconds` with CLIENTS connections; return (requests/s, p99 ms)."""
    command = ["wrk", "-t2", f"-c{CLIENTS}", f"-d{seconds}s", "--latency", "--timeout", "30s"]
    command += ["-H", "Accept-Encoding: gzip"]
    if script is not None:
        command += ["-s", str(script)]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"\s99%\s+([\d.]+)(us|ms|s)\b", out).groups()
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    if "Non-2xx" in out:
        raise RuntimeError(f"errors under load on {url}:\n{out}")
    return rps, p99


def _measure(base: str, script: Path, seconds: int) -> dict[str, float]:
    # A short warm-up first: every worker connects to PostgreSQL and fills its caches.
    requests.get(f"{base}/api/projects", timeout=60)
    nearby_rps, nearby_p99 = _wrk(f"{base}/api/projects/nearby", seconds, script)
    map_rps, _ = _wrk(f"{base}/map/projects.geojson", seconds)
    api_rps, _ = _wrk(f"{base}/api/projects", seconds)
    return {
        "load_nearby_rps": nearby_rps,
        "load_nearby_p99_ms": nearby_p99,
        "load_map_geojson_rps": map_rps,
        "load_api_projects_rps": api_rps,
    }


def run(ctx):
    """Yield each load figure for gunicorn, with the same figure for `flask run` beside it."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is missing: run scripts/setup.sh --bench")
    url = ctx.database(ctx.size(PROJECTS))
    # The quick run only proves the bench works: a second per figure.
    seconds = 1 if ctx.small else SECONDS
    rng = random.Random(9)
    paths = [
        f'"/api/projects/nearby?lat={lat:.5f}&lon={lon:.5f}&radius={rng.choice(RADII)}"'
        for lat, lon in _random_points(url, 300)
    ]
    figures = {}
    with tempfile.TemporaryDirectory() as work:
        script = Path(work, "nearby.lua")
        script.write_text(NEARBY_SCRIPT % ", ".join(paths))
        for kind in ("gunicorn", "flask_run"):
            port = _free_port()
            server = _start(kind, url, port, Path(work, kind))
            try:
                figures[kind] = _measure(f"http://127.0.0.1:{port}", script, seconds)
            finally:
                _stop(server)
    for name, value in figures["gunicorn"].items():
        yield name, round(value, 1)
        yield f"{name}_flask_run", round(figures["flask_run"][name], 1)
    yield "load_clients", CLIENTS
    yield "load_seconds_per_figure", seconds
