"""Traffic restriction table: what a work does to the roads, and when."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Text, func, literal_column
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.db import Base
from tracker.projects.models import Project

# Codes stored in the table, with the words residents read (translated in the UI).
RESTRICTION_KINDS = {
    "closed": "通行止め",
    "alternating": "片側交互通行",
    "detour": "迂回路",
    "lane": "車線規制",
    "other": "通行規制",
}

DESCRIPTION_MAX = 200


def _sql_list(values) -> str:
    return "(" + ", ".join(f"'{v}'" for v in sorted(values)) + ")"


class TrafficRestriction(Base):
    """A restriction on traffic caused by a project, public as soon as it is recorded."""

    __tablename__ = "traffic_restrictions"
    __table_args__ = (
        CheckConstraint(f"kind IN {_sql_list(RESTRICTION_KINDS)}", name="kind"),
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="dates"),
        CheckConstraint(f"char_length(description) <= {DESCRIPTION_MAX}", name="description"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(Text)
    starts_on: Mapped[date]
    # None: until further notice.
    ends_on: Mapped[date | None]
    description: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # Set when staff lift the restriction early; the announced dates stay as they were.
    ended_at: Mapped[datetime | None]

    project: Mapped[Project] = relationship()

    def applies_on(self, day: date) -> bool:
        """Tell whether the restriction is in force on the day."""
        return (
            self.ended_at is None
            and self.starts_on <= day
            and (self.ends_on is None or day <= self.ends_on)
        )


# The nearby search reads projects nearest-first off this index (migration 0005). It belongs to
# the projects table but is declared here, beside the other table the nearby search adds, so that
# comparing the models with the migrations does not take it for a stray index.
# Written as PostgreSQL reflects it, so that the comparison sees the same expression.
Index(
    "ix_projects_geog",
    literal_column("(geom)::geography"),
    postgresql_using="gist",
    _table=Project.__table__,
)
