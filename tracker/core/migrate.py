"""Run Alembic from the app's configuration."""

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from config import ROOT


def alembic_config(database_url: str, connection: Connection | None = None) -> Config:
    """Build an Alembic configuration for the given database."""
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s")
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(
    database_url: str, revision: str = "heads", connection: Connection | None = None
) -> None:
    """Apply the migrations up to the given revision."""
    command.upgrade(alembic_config(database_url, connection), revision)


def downgrade(database_url: str, revision: str) -> None:
    """Undo the migrations down to the given revision."""
    command.downgrade(alembic_config(database_url), revision)
