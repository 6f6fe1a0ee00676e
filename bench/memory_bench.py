"""Whole-city answers at 100,000 works: a worker's peak memory while 10 clients at once read
the whole city (the meeting map's GeoJSON, the CSV export, and every page of /api/projects),
and how soon the CSV starts to arrive.

Peak memory is each gunicorn worker's high-water mark (VmHWM in /proc), the largest of them.
"""

import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from bench.servers import app_server_process

PROJECTS = 100_000
CLIENTS = 10


def _workers(master: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True,
                         text=True, check=True).stdout  # fmt: skip
    return [int(pid) for pid in out.split()]


def _peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for {pid}")


def _read_all(url: str) -> int:
    """Read an answer to its end, piece by piece; return its size."""
    with requests.get(url, stream=True, timeout=600) as response:
        response.raise_for_status()
        return sum(len(piece) for piece in response.iter_content(64 * 1024))


def _every_page(base: str) -> int:
    """Follow /api/projects page by page to the end; return how many features it read."""
    url, total = base + "/api/projects?limit=10000", 0
    with requests.Session() as http:
        while url:
            response = http.get(url, timeout=600)
            response.raise_for_status()
            total += response.json()["numberReturned"]
            url = response.links.get("next", {}).get("url")
            if url and url.startswith("/"):
                url = base + url
    return total


def _whole_city(base: str, n: int) -> None:
    for path in ("/plan/projects.geojson", "/plan/projects.csv"):
        _read_all(base + path)
    assert _every_page(base) >= n * 0.9


def _first_byte_ms(url: str) -> float:
    start = time.perf_counter()
    with requests.get(url, stream=True, timeout=600) as response:
        response.raise_for_status()
        next(response.iter_content(1))
        return (time.perf_counter() - start) * 1000


def run(ctx):
    """Yield the peak worker memory under whole-city load and the CSV's first-byte time."""
    n = ctx.size(PROJECTS)
    url = ctx.database(n)
    with app_server_process(url) as (base, master):
        _whole_city(base, n)  # warm-up: every worker's first whole-city answers
        with ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(lambda _: _whole_city(base, n), range(CLIENTS)))
        peak = max(_peak_mb(pid) for pid in _workers(master.pid))
        # The CSV is never kept by the server: each request builds it as it streams.
        csv_ms = _first_byte_ms(base + "/plan/projects.csv")
    yield f"worker_rss_mb_{n}", round(peak, 1)
    yield f"csv_first_byte_ms_{n}", round(csv_ms, 1)
