"""Synthetic projects inside the city, for load and speed measurements."""

from sqlalchemy import column, text
from sqlalchemy.orm import Session

from tracker.geo.geometry import CITY_CODE
from tracker.projects.departments import add_departments_of_works
from tracker.projects.history import REGISTERED_NOTE, append_loaded_history

# One statement makes every project: random points inside the boundary, short lines for the
# line kinds, random statuses and dates, and the plan items and indicators each kind serves.
# Kept in SQL so that 100,000 rows take seconds.
DEMO_INSERT = text(
    """
    WITH points AS (
        SELECT (ST_Dump(ST_GeneratePoints(b.geom, :count, :seed))).geom AS geom, b.geom AS city
        FROM city_boundaries b WHERE b.code = :code
    ), numbered AS (
        SELECT geom, city, row_number() OVER () AS n,
               (ARRAY['road','bridge','revetment','sabo','shelter','pavement','seismic'])
                   [1 + floor(random() * 7)::int] AS kind,
               (ARRAY['planned','design','construction','completed','suspended'])
                   [1 + floor(random() * 5)::int] AS status,
               DATE '2020-04-01' + floor(random() * 1500)::int AS planned_start,
               (ARRAY['建設課','農林整備課','防災情報室','まちづくり課'])
                   [1 + floor(random() * 4)::int] AS department
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
               department, random() < 0.95, true,
               -- A line starting near the edge is clipped to the city, keeping its first piece.
               CASE WHEN kind IN ('road', 'pavement', 'revetment')
                    THEN ST_GeometryN(ST_CollectionExtract(ST_Intersection(
                             ST_MakeLine(geom, ST_Translate(geom, 0.004 * (random() - 0.5),
                                                                  0.004 * (random() - 0.5))),
                             city), 2), 1)
                    ELSE geom END,
               planned_start - 90, planned_start - 90
        FROM numbered
        RETURNING id, kind
    ), plan_links AS (
        INSERT INTO project_plan_items (project_id, plan_item_id)
        SELECT i.id, pi.id
        FROM inserted i
        JOIN (VALUES ('road', 'p1.m2.i1'), ('road', 'p5.m13.s2'),
                     ('bridge', 'p1.m2.i1'), ('bridge', 'p5.m13.s1'),
                     ('revetment', 'p1.m2.i1'), ('revetment', 'p5.m13.s3'),
                     ('sabo', 'p1.m2.i2'), ('shelter', 'p1.m1.i5'),
                     ('pavement', 'p5.m13.s1'), ('seismic', 'p5.m13.s4'))
             AS k(kind, code) ON k.kind = i.kind
        JOIN plan_items pi ON pi.code = k.code
    ), indicator_links AS (
        INSERT INTO project_indicators (project_id, indicator_id)
        SELECT i.id, ind.id
        FROM inserted i
        JOIN (VALUES ('bridge', 'm13_bridges_repaired'), ('pavement', 'm13_pavement_renewed'),
                     ('road', 'm13_road_improved'), ('revetment', 'm13_revetment'))
             AS k(kind, code) ON k.kind = i.kind
        JOIN indicators ind ON ind.code = k.code
    )
    SELECT count(*) FROM inserted
    """
)


# Registered as planned; then one entry that reaches today's status on its date.
DEMO_HISTORY = text(
    """
    SELECT id AS project_id, created_at AS recorded_at, NULL AS previous_status,
           'planned' AS status, 0 AS progress, :registered AS note
    FROM projects WHERE id > :after
    UNION ALL
    SELECT id,
           (CASE status WHEN 'completed' THEN actual_end WHEN 'design' THEN planned_start - 30
                       ELSE actual_start END + TIME '09:00') AT TIME ZONE 'Asia/Tokyo',
           'planned', status, progress, ''
    FROM projects WHERE id > :after AND status <> 'planned'
    """
).columns(
    column("project_id"),
    column("recorded_at"),
    column("previous_status"),
    column("status"),
    column("progress"),
    column("note"),
)


def add_demo_projects(session: Session, count: int, *, seed: int = 1) -> int:
    """Add `count` synthetic projects inside the city boundary; return how many were added."""
    session.execute(text("SELECT setseed(:s)"), {"s": (seed % 1000) / 1000})
    after = session.scalar(text("SELECT coalesce(max(id), 0) FROM projects"))
    added = session.scalar(DEMO_INSERT, {"count": count, "seed": seed, "code": CITY_CODE})
    append_loaded_history(session, DEMO_HISTORY.bindparams(after=after, registered=REGISTERED_NOTE))
    # The departments the demo works name, so that people can be given them.
    add_departments_of_works(session)
    return added
