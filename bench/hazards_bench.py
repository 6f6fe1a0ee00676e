"""Works per hazard zone at 100,000 projects against 5,000 zone polygons: the overlay query
alone, the same as of a past day, and the /plan/hazards page that shows it (same run).

The zones are added for the run and removed afterwards, so the bench database stays as it was.
"""

import random
from datetime import date

import shapely
from shapely.geometry import box
from sqlalchemy import create_engine, delete, text
from sqlalchemy.orm import Session

from bench.run import city_points, timed_ms
from tracker.hazards.loading import HazardLoad, replace_layer
from tracker.hazards.models import HazardLayer, HazardZone
from tracker.hazards.queries import works_in_zones
from tracker.projects.queries import ProjectFilter

PROJECTS = 100_000
ZONES = 5_000
# Half the side of a zone in degrees (about 130 m across), like the smaller 警戒区域.
HALF = 0.0006
SEDIMENT = (("steep_slope", "土砂災害警戒区域"), ("debris_flow", "土砂災害特別警戒区域"),
            ("landslide", "土砂災害警戒区域"))  # fmt: skip


def _zones(session: Session, count: int) -> tuple[list, list]:
    centres = city_points(session, count, seed=13)
    rng = random.Random(3)
    sediment, flood = [], []
    for n, (x, y) in enumerate(centres):
        half = HALF * rng.uniform(0.5, 1.5)
        wkb = shapely.to_wkb(box(x - half, y - half, x + half, y + half))
        if n % 4 == 3:
            flood.append(("flood", "0.5〜3.0m", "", wkb))
        else:
            hazard, zone_class = SEDIMENT[n % 3]
            sediment.append((hazard, zone_class, f"区域 {n}", wkb))
    return sediment, flood


def run(ctx):
    """Yield the hazard overlay figures."""
    n = ctx.size(PROJECTS)
    url = ctx.database(n)
    engine = create_engine(url)
    with Session(engine) as session:
        sediment, flood = _zones(session, ctx.size(ZONES))
        replace_layer(session, "sediment", sediment, HazardLoad("sediment", "bench"))
        replace_layer(session, "flood", flood, HazardLoad("flood", "bench"))
        session.commit()
    session = Session(engine)
    try:
        session.execute(text("ANALYZE hazard_zones"))
        everything = ProjectFilter(include_private=True)
        found = works_in_zones(session, everything)
        yield (
            f"hazard_overlay_ms_{n}",
            round(timed_ms(lambda: works_in_zones(session, everything), 7), 1),
        )
        yield f"hazard_overlay_pairs_{n}", len(found)
        past = ProjectFilter(include_private=True, as_of=date(2023, 3, 31))
        yield (
            f"hazard_overlay_as_of_ms_{n}",
            round(timed_ms(lambda: works_in_zones(session, past), 5), 1),
        )
        client = ctx.app(n).test_client()
        assert client.get("/plan/hazards").status_code == 200
        yield f"hazard_page_ms_{n}", round(timed_ms(lambda: client.get("/plan/hazards"), 5), 1)
    finally:
        session.rollback()
        session.execute(delete(HazardZone))
        session.execute(delete(HazardLayer))
        session.commit()
        session.close()
        engine.dispose()
