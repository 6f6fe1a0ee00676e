"""Photo metadata; the image files themselves live on disk under UPLOAD_DIR."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Text, func
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from tracker.core.db import Base, stamp_now
from tracker.projects.history import StatusUpdate

CONTENT_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
MAX_PHOTO_BYTES = 10 * 1024 * 1024


class Photo(Base):
    """A photo attached to one status update; appended with it, never changed."""

    __tablename__ = "photos"
    __table_args__ = (
        CheckConstraint(
            "content_type IN ('image/jpeg', 'image/png', 'image/webp')", name="content_type"
        ),
        CheckConstraint(f"size_bytes BETWEEN 1 AND {MAX_PHOTO_BYTES}", name="size_bytes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[int] = mapped_column(
        ForeignKey("status_updates.id", ondelete="CASCADE"), index=True
    )
    # Names the files on disk; random, so nothing about the photo can be guessed from it.
    storage_key: Mapped[str] = mapped_column(Text, unique=True)
    content_type: Mapped[str] = mapped_column(Text)
    original_name: Mapped[str] = mapped_column(Text, server_default="")
    size_bytes: Mapped[int]
    # Of the upright image.
    width: Mapped[int]
    height: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=stamp_now, server_default=func.now())

    update: Mapped[StatusUpdate] = relationship(
        backref=backref("photos", order_by="Photo.id", lazy="selectin")
    )

    @property
    def extension(self) -> str:
        """Return the file extension of the original upload."""
        return CONTENT_TYPES[self.content_type]
