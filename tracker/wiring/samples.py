"""Take the sample data out of a database: the sample works with their history, restrictions
and photos, and the sample indicator figures.

A sample work somebody has recorded on (a field update, an edit, a restriction change made
by a person) is kept unless the caller says otherwise: that record may be real. Each removed
work leaves a "delete" row in the works' audit trail.
"""

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, exists, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from tracker.core import site
from tracker.core.db import rows_changed
from tracker.core.errors import BadInput
from tracker.indicators.models import IndicatorFigure
from tracker.projects.audit import ProjectChange
from tracker.projects.history import StatusUpdate
from tracker.projects.models import Project
from tracker.restrictions.models import RestrictionChange, TrafficRestriction
from tracker.updates.models import Photo
from tracker.updates.sweep import sweep_photos

# How many of the works people recorded on a refusal names.
NAMED_IN_REFUSAL = 10


@dataclass
class SampleRemoval:
    """What remove_samples took out."""

    works: int = 0
    restrictions: int = 0
    updates: int = 0
    photos: int = 0
    figures: int = 0

    def lines(self) -> list[str]:
        """Say what was removed, one fact per line."""
        return [
            f"sample works removed: {self.works}"
            f" (with {self.updates} history entries, {self.restrictions} restrictions,"
            f" {self.photos} photos)",
            f"sample indicator figures removed: {self.figures}",
        ]


def _recorded_by_people() -> list:
    """Conditions that tell a sample work somebody has recorded on."""
    return [
        exists().where(StatusUpdate.project_id == Project.id, StatusUpdate.author_id.is_not(None)),
        exists().where(ProjectChange.project_id == Project.id, ProjectChange.user_id.is_not(None)),
        exists().where(
            TrafficRestriction.project_id == Project.id,
            RestrictionChange.restriction_id == TrafficRestriction.id,
            RestrictionChange.user_id.is_not(None),
        ),
    ]


def remove_samples(session: Session, *, include_recorded: bool = False) -> SampleRemoval:
    """Delete the sample data, refusing (BadInput, nothing changed) when people recorded on
    a sample work, unless `include_recorded`. The caller commits, then calls remove_photo_files."""
    recorded = session.scalars(
        select(Project.name)
        .where(Project.is_sample.is_(True), or_(*_recorded_by_people()))
        .order_by(Project.id)
    ).all()
    if recorded and not include_recorded:
        named = "、".join(recorded[:NAMED_IN_REFUSAL]) + (
            "…" if len(recorded) > NAMED_IN_REFUSAL else ""
        )
        raise BadInput(
            f"{len(recorded)} sample works have records made by people ({named}); "
            "they may be real: keep them, or remove them too with --include-recorded",
            code="samples_recorded",
        )
    samples = session.execute(
        select(Project.id, Project.name, Project.version).where(Project.is_sample.is_(True))
    ).all()
    ids = [row.id for row in samples]
    removal = SampleRemoval(
        works=len(ids),
        restrictions=_count(session, TrafficRestriction.project_id.in_(ids)),
        updates=_count(session, StatusUpdate.project_id.in_(ids)),
        photos=_count(
            session,
            Photo.update_id.in_(select(StatusUpdate.id).where(StatusUpdate.project_id.in_(ids))),
        ),
    )
    session.add_all(
        ProjectChange(
            project_id=row.id,
            user_id=None,
            action="delete",
            version=row.version,
            changes={"name": {"old": row.name, "new": None}, "sample": {"old": True, "new": None}},
        )
        for row in samples
    )
    session.flush()
    # History, restrictions, photos' rows, plan links and alerts go with their work (cascades).
    session.execute(delete(Project).where(Project.id.in_(ids)))
    removal.figures = rows_changed(
        session.execute(delete(IndicatorFigure).where(IndicatorFigure.is_sample.is_(True)))
    )
    site.turn_on(session, site.NO_SAMPLES, "removed")
    return removal


def _count(session: Session, condition: ColumnElement[bool]) -> int:
    return session.scalar(select(func.count()).where(condition)) or 0


def remove_photo_files(session: Session, upload_dir: str | Path) -> int:
    """Delete the photo files whose rows are gone (after the removal is committed)."""
    return sweep_photos(session, upload_dir).removed
