"""what a works register holds: planned cost, contract amount and contractor, spending,
funding source and the responsible section

Revision ID: truth04
Revises: truth03
Create Date: 2026-11-29 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "truth04"
down_revision = "truth03"
branch_labels = None
depends_on = None

COLUMNS = (
    ("planned_cost", sa.BigInteger()),
    ("contract_amount", sa.BigInteger()),
    ("contractor", sa.Text()),
    ("spent_amount", sa.BigInteger()),
    ("funding", sa.Text()),
    ("responsible_section", sa.Text()),
)


def upgrade() -> None:
    for name, type_ in COLUMNS:
        op.add_column("projects", sa.Column(name, type_, nullable=True))
    op.create_check_constraint(
        op.f("ck_projects_amounts"),
        "projects",
        "planned_cost >= 0 AND contract_amount >= 0 AND spent_amount >= 0",
    )
    op.create_check_constraint(
        op.f("ck_projects_funding"),
        "projects",
        "funding IN ('city_own', 'disaster_recovery', 'other', 'social_capital_grant')",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_projects_funding"), "projects", type_="check")
    op.drop_constraint(op.f("ck_projects_amounts"), "projects", type_="check")
    for name, _type in reversed(COLUMNS):
        op.drop_column("projects", name)
