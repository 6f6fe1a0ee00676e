"""Facts about this installation that outlive a restart, such as "no sample data here"."""

from datetime import datetime

from sqlalchemy import Text, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from tracker.core.db import Base, stamp_now

# Set by a production install and by remove-samples: load-data never brings the sample
# works back into this database.
NO_SAMPLES = "no_samples"


class SiteSetting(Base):
    """One named setting of the installation."""

    __tablename__ = "site_settings"

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    value: Mapped[str] = mapped_column(Text, server_default="")
    set_at: Mapped[datetime] = mapped_column(default=stamp_now, server_default=func.now())


def is_set(session: Session, name: str) -> bool:
    """Tell whether the setting exists."""
    return session.scalar(select(SiteSetting.name).where(SiteSetting.name == name)) is not None


def turn_on(session: Session, name: str, value: str = "") -> None:
    """Set the setting (again)."""
    session.execute(
        insert(SiteSetting)
        .values(name=name, value=value)
        .on_conflict_do_update(index_elements=["name"], set_={"value": value})
    )
