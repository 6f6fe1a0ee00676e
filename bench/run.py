"""Run every bench/*_bench.py module and print its figures as name=value lines.

Each module has `run(ctx)` and yields (name, value) pairs; `ctx.database(n)` gives the URL of a
bench database holding the plan catalogue, the city data and n synthetic projects, and
`ctx.size(n)` the size to use for n. BENCH_SIZES=small divides every size by 100, a quick run
that checks the bench still works (its figures say nothing about speed).
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

    def app(self, projects: int):
        """Return the app bound to the bench database of this size."""
        return create_app({"DATABASE_URL": self.database(projects)})


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


def main() -> None:
    """Run the bench modules named on the command line, or all of them."""
    sizes = os.environ.get("BENCH_SIZES", "full")
    if sizes not in ("full", "small"):
        sys.exit(f"BENCH_SIZES: full or small, not {sizes!r}")
    ctx = BenchContext(os.environ.get("DATABASE_URL", LOCAL_DATABASE_URL), small=sizes == "small")
    names = sys.argv[1:] or sorted(p.stem for p in Path(__file__).parent.glob("*_bench.py"))
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        for figure, value in module.run(ctx):
            print(f"{figure}={value}", flush=True)


if __name__ == "__main__":
    main()
