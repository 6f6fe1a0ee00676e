"""Synthetic projects inside the city, for load and speed measurements."""

from sqlalchemy import text
from sqlalchemy.orm import Session

from tracker.geometry import CITY_CODE

# One statement makes every project: random points inside the boundary, short lines for the
# line kinds, random statuses and dates. Kept in SQL so that 100,000 rows take seconds.
DEMO_INSERT = text(
    """
    WITH points AS (
        SELECT (ST_Dump(ST_GeneratePoints(b.geom, :count, :seed))).geom AS geom
        FROM city_boundaries b WHERE b.code = :code
    ), numbered AS (
        SELECT geom, row_number() OVER () AS n,
               (ARRAY['road','bridge','revetment','sabo','shelter','pavement','seismic'])
                   [1 + floor(random() * 7)::int] AS kind,
               (ARRAY['planned','design','construction','completed','suspended'])
                   [1 + floor(random() * 5)::int] AS status,
               DATE '2020-04-01' + floor(random() * 1500)::int AS planned_start
        FROM points
    ), inserted AS (
        INSERT INTO projects (name, kind, status, progress, planned_start, planned_end,
                              actual_start, actual_end, department, is_public, is_sample, geom,
                              created_at, updated_at)
        SELECT 'デモ事業 ' || n, kind, status,
               CASE status WHEN 'completed' THEN 100 WHEN 'planned' THEN 0
                           ELSE floor(random() * 100)::int END,
               planned_start, planned_start + 365,
               CASE WHEN status IN ('construction', 'completed', 'suspended')
                    THEN planned_start + 30 END,
               CASE WHEN status = 'completed' THEN planned_start + 330 END,
               '建設課', random() < 0.95, true,
               CASE WHEN kind IN ('road', 'pavement', 'revetment')
                    THEN ST_MakeLine(geom, ST_Translate(geom, 0.004 * (random() - 0.5),
                                                              0.004 * (random() - 0.5)))
                    ELSE geom END,
               planned_start - 90, planned_start - 90
        FROM numbered
        RETURNING id, status, progress, created_at
    )
    INSERT INTO status_updates (project_id, recorded_at, previous_status, status, progress, note)
    SELECT id, created_at, NULL, status, progress, '登録' FROM inserted
    """
)


def add_demo_projects(session: Session, count: int, *, seed: int = 1) -> int:
    """Add `count` synthetic projects inside the city boundary; return how many were added."""
    session.execute(text("SELECT setseed(:s)"), {"s": (seed % 1000) / 1000})
    result = session.execute(DEMO_INSERT, {"count": count, "seed": seed, "code": CITY_CODE})
    return result.rowcount
