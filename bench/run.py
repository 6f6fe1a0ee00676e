"""Run every bench/*_bench.py module and print its figures as name=value lines.

Each module has `run(ctx)` and yields (name, value) pairs; `ctx.database(n)` gives the URL of a
bench database holding the plan catalogue, the city data and n synthetic projects, and
`ctx.size(n)` the size to use for n. BENCH_SIZES=small divides every size by 100, a quick run
that checks the bench still works (its figures say nothing about speed); BENCH_SIZES=large
also runs the modules that need a prefecture's scale (`LARGE = True`: 1,000,000 works),
which the usual run leaves out. Each figure with a goal in GOALS is printed beside it.
"""

import importlib
import os
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from config import LOCAL_DATABASE_URL, ROOT
from tracker import create_app
from tracker.projects.demo import add_demo_projects
from tracker.wiring.loaders import (
    fresh_city_database,
)

GEODATA = ROOT / "geodata"


class BenchContext:
    """Bench databases by size, built once per run."""

    def __init__(self, base_url: str, small: bool = False):
        self.base_url = base_url
        self.small = small
        self._urls: dict[int, str] = {}

    def size(self, projects: int) -> int:
        """Return how many projects stand for `projects` in this run."""
        return max(10, projects // 100) if self.small else projects

    def database(self, projects: int) -> str:
        """Return the URL of a fresh bench database with this many demo projects."""
        if projects not in self._urls:
            base, _, name = self.base_url.rpartition("/")
            url = f"{base}/{name}_bench_{projects}"
            fresh_city_database(url, GEODATA)
            engine = create_engine(url)
            with Session(engine) as session:
                add_demo_projects(session, projects)
                session.commit()
            engine.dispose()
            _analyze(url)
            self._urls[projects] = url
        return self._urls[projects]

    def app(self, projects: int, **settings: object):
        """Return the app bound to the bench database of this size, with any other settings."""
        return create_app({"DATABASE_URL": self.database(projects), **settings})


def _analyze(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()


def city_points(session: Session, count: int, seed: int) -> list[tuple[float, float]]:
    """Return `count` random (lon, lat) points inside the city boundary, the same for a seed."""
    from sqlalchemy import text

    from tracker.geo.geometry import CITY_CODE

    rows = session.execute(
        text(
            "SELECT ST_X(d.geom), ST_Y(d.geom) FROM city_boundaries b,"
            " ST_Dump(ST_GeneratePoints(b.geom, :n, :seed)) d WHERE b.code = :code"
        ),
        {"n": count, "seed": seed, "code": CITY_CODE},
    ).all()
    return [(x, y) for x, y in rows]


def timed_ms(action, repeat: int = 15) -> float:
    """Run the action `repeat` times after one warm-up and return the median in ms."""
    action()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def percentile(values: list[float], p: float) -> float:
    """Return the p-th percentile (0–100) by nearest rank."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


# What each figure should be (issue goals); printed after the figure, so that a line still
# reads as name=value up to the first space.
GOALS = {
    "feed_dense_ms": "<= 100",
    "lighthouse_performance_home": ">= 95",
    "lighthouse_performance_near": ">= 95",
    "lighthouse_performance_staff": ">= 95",
    "lighthouse_performance_plan": ">= 95",
    "lighthouse_lcp_ms_home": "<= 2500",
    "lighthouse_lcp_ms_near": "<= 2500",
    "lighthouse_cls_home": "<= 0.05",
    "lighthouse_cls_near": "<= 0.05",
    "lighthouse_tbt_ms_home": "<= 150",
    "lighthouse_tbt_ms_near": "<= 150",
    "crowd_p99_ms": "<= 500",
    "crowd_errors": "= 0",
    "crowd_proxy_p99_ms": "<= 500",
    "crowd_proxy_errors": "= 0",
    "load_nearby_p99_ms": "<= 150",
    "worker_rss_mb_100000": "<= 300",
    "csv_first_byte_ms_100000": "<= 1000",
    "map_first_draw_ms_10000": "<= 1000",
    "map_first_draw_ms_100000": "<= 1500",
    "map_first_draw_ms_1000000": "<= 1500",
    "map_first_draw_afresh_ms_1000000": "<= 1500",
    "tile_p95_unkept_ms_1000000": "<= 300",
    "near_p95_ms_1000000": "<= 50",
    "indicators_ms_1000000": "<= 1000",
    "ogc_item_vs_tipg_1000000": ">= 1.5",
    "import_rows_per_s": ">= 2000",
    "nearby_p95_ratio_100000": "<= 2",
}


def line(figure: str, value: object) -> str:
    """Return a figure's line: name=value, and its goal after it if it has one."""
    goal = GOALS.get(figure)
    return f"{figure}={value}" + (f"  (goal {goal})" if goal else "")


def main() -> None:
    """Run the bench modules named on the command line, or all of them."""
    sizes = os.environ.get("BENCH_SIZES", "full")
    if sizes not in ("full", "small", "large"):
        sys.exit(f"BENCH_SIZES: full, small or large, not {sizes!r}")
    ctx = BenchContext(os.environ.get("DATABASE_URL", LOCAL_DATABASE_URL), small=sizes == "small")
    names = sys.argv[1:] or sorted(p.stem for p in Path(__file__).parent.glob("*_bench.py"))
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        # A prefecture's scale takes long to build: only when asked for, or named.
        if getattr(module, "LARGE", False) and sizes != "large" and not sys.argv[1:]:
            continue
        for figure, value in module.run(ctx):
            print(line(figure, value), flush=True)


if __name__ == "__main__":
    main()
