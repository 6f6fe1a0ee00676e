"""completed_spans: the spans of time each work stood completed, kept by a statement trigger
on status_updates, so that the indicators of a million works read spans instead of passing
over every completed work's history.

Revision ID: cs1
Revises: tc1
Create Date: 2026-12-22 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "cs1"
down_revision = "tc1"
branch_labels = None
depends_on = None

# A span starts at an entry that changed to completed and lasts until the first later entry
# with another status (NULL while it still holds), history read in its order on site
# (observed_at, then id). One pass reads each work's history newest first, the order of its
# index: the entry before comes next, and the end is the earliest of those already read
# with another status.
SPANS_OF = """
SELECT id, project_id, observed_at, until
FROM (
  SELECT id, project_id, status, observed_at,
         lead(status) OVER newest_first AS before,
         min(observed_at) FILTER (WHERE status <> 'completed')
           OVER (newest_first ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS until
  FROM status_updates
  WHERE {works}
  WINDOW newest_first AS (PARTITION BY project_id ORDER BY observed_at DESC, id DESC)
) AS history
WHERE status = 'completed' AND before IS DISTINCT FROM 'completed'
"""

# History is only ever appended (status_updates refuses UPDATE and DELETE; a deleted work's
# rows go with it, and its spans with them). An entry may be placed before later ones, so
# the spans of each work written to are made again from its whole history. Appends to one
# work are made under its row lock (projects.lock_project), one transaction after another.
REFRESH = f"""
CREATE FUNCTION completed_spans_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM completed_spans WHERE project_id IN (SELECT project_id FROM new_rows);
  INSERT INTO completed_spans (update_id, project_id, since, until)
  {SPANS_OF.format(works="project_id IN (SELECT project_id FROM new_rows)")};
  RETURN NULL;
END $$"""


def upgrade() -> None:
    op.create_table(
        "completed_spans",
        sa.Column("update_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["update_id"], ["status_updates.id"],
            name=op.f("fk_completed_spans_update_id_status_updates"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_completed_spans")),
    )  # fmt: skip
    op.create_index(
        op.f("ix_completed_spans_project_id"), "completed_spans", ["project_id"], unique=False
    )
    op.execute(REFRESH)
    op.execute(
        "CREATE TRIGGER completed_spans_refresh AFTER INSERT ON status_updates"
        " REFERENCING NEW TABLE AS new_rows"
        " FOR EACH STATEMENT EXECUTE FUNCTION completed_spans_refresh()"
    )
    op.execute(
        "INSERT INTO completed_spans (update_id, project_id, since, until) "
        + SPANS_OF.format(works="true")
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER completed_spans_refresh ON status_updates")
    op.execute("DROP FUNCTION completed_spans_refresh()")
    op.drop_index(op.f("ix_completed_spans_project_id"), table_name="completed_spans")
    op.drop_table("completed_spans")
