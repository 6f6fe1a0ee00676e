"""work_cells: works counted per cell of the vector tiles' grid (tracker/ogc/cells.py), kept by
statement triggers on projects, so that low-zoom tiles of a million works read counts.

Revision ID: tc1
Revises: rp1
Create Date: 2026-12-21 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "tc1"
down_revision = "rp1"
branch_labels = None
depends_on = None

# Half the width of the Web Mercator world (tiles.py WORLD); cells of zoom 15 are a quarter
# of its tiles, WORLD / 2^16 metres; a work is small at zoom z up to WORLD / 2^(z + 2).
KEY = """
    floor((r.mercator_x + 20037508.342789244) / (20037508.342789244 / 65536))::integer AS cx,
    floor((r.mercator_y + 20037508.342789244) / (20037508.342789244 / 65536))::integer AS cy,
    r.kind,
    r.is_public,
    (SELECT coalesce(max(z), -1) FROM generate_series(0, 15) AS z
      WHERE r.mercator_size <= 20037508.342789244 / power(2, z + 2))::smallint AS small_to_zoom
"""

# The change each statement makes, netted per cell: an edit that moves no work between cells
# (a status, a note) writes nothing here. Upserts go in key order, so that two statements
# changing the same cells wait for each other instead of deadlocking.
ADDED = f"SELECT {KEY}, 1 AS change FROM new_rows AS r WHERE r.withdrawn_at IS NULL"
REMOVED = f"SELECT {KEY}, -1 AS change FROM old_rows AS r WHERE r.withdrawn_at IS NULL"
CHANGES = {"insert": ADDED, "update": f"{ADDED} UNION ALL {REMOVED}", "delete": REMOVED}
TRANSITIONS = {
    "insert": "NEW TABLE AS new_rows",
    "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "delete": "OLD TABLE AS old_rows",
}


def _count_function(event: str) -> str:
    return f"""
CREATE FUNCTION work_cells_{event}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO work_cells AS c (cx, cy, kind, is_public, small_to_zoom, works)
  SELECT cx, cy, kind, is_public, small_to_zoom, sum(change)
  FROM ({CHANGES[event]}) AS changes
  GROUP BY cx, cy, kind, is_public, small_to_zoom
  HAVING sum(change) <> 0
  ORDER BY cx, cy, kind, is_public, small_to_zoom
  ON CONFLICT (cx, cy, kind, is_public, small_to_zoom)
  DO UPDATE SET works = c.works + excluded.works;
  RETURN NULL;
END $$"""


EMPTIED = """
CREATE FUNCTION work_cells_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE work_cells;
  RETURN NULL;
END $$"""


def upgrade() -> None:
    op.create_table(
        "work_cells",
        sa.Column("cx", sa.Integer(), nullable=False),
        sa.Column("cy", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("small_to_zoom", sa.SmallInteger(), nullable=False),
        sa.Column("works", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "cx", "cy", "kind", "is_public", "small_to_zoom", name=op.f("pk_work_cells")
        ),
    )
    for event, transition in TRANSITIONS.items():
        op.execute(_count_function(event))
        op.execute(
            f"CREATE TRIGGER work_cells_{event} AFTER {event.upper()} ON projects"
            f" REFERENCING {transition} FOR EACH STATEMENT EXECUTE FUNCTION work_cells_{event}()"
        )
    op.execute(EMPTIED)
    op.execute(
        "CREATE TRIGGER work_cells_truncate AFTER TRUNCATE ON projects"
        " FOR EACH STATEMENT EXECUTE FUNCTION work_cells_truncate()"
    )
    op.execute(
        f"""INSERT INTO work_cells (cx, cy, kind, is_public, small_to_zoom, works)
        SELECT cx, cy, kind, is_public, small_to_zoom, count(*)
        FROM (SELECT {KEY} FROM projects AS r WHERE r.withdrawn_at IS NULL) AS keys
        GROUP BY cx, cy, kind, is_public, small_to_zoom"""
    )


def downgrade() -> None:
    for event in (*TRANSITIONS, "truncate"):
        op.execute(f"DROP TRIGGER work_cells_{event} ON projects")
        op.execute(f"DROP FUNCTION work_cells_{event}()")
    op.drop_table("work_cells")
