"""Sample detours held once: the sample data stored the 門前町線 detour twice, as its closure's
detour and again as a restriction of kind 迂回路 whose red section hid the green dots. The second
copy (a sample work's 迂回路 restriction whose line is another of its restrictions' detour, never
changed by a person) goes; the closure keeps its detour.

Revision ID: fo1
Revises: pos1
Create Date: 2026-12-20 09:00:00
"""

from alembic import op


revision = "fo1"
down_revision = "pos1"
branch_labels = None
depends_on = None

DUPLICATE_DETOURS = """
DELETE FROM traffic_restrictions AS copy
USING projects AS p
WHERE p.id = copy.project_id
  AND p.is_sample
  AND copy.kind = 'detour'
  AND copy.geom IS NOT NULL
  AND EXISTS (
      SELECT 1 FROM traffic_restrictions AS owner
      WHERE owner.project_id = copy.project_id AND owner.id <> copy.id
        AND owner.detour_geom IS NOT NULL AND ST_Equals(owner.detour_geom, copy.geom))
  AND NOT EXISTS (
      SELECT 1 FROM restriction_changes AS c
      WHERE c.restriction_id = copy.id AND c.user_id IS NOT NULL)
"""


def upgrade() -> None:
    op.execute(DUPLICATE_DETOURS)


def downgrade() -> None:
    # The copy was a mistake of the sample data; it is not put back.
    pass
