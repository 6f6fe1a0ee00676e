"""User and API token tables."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.db import Base

# admin: users and everything; staff: create and edit projects, post updates;
# viewer: planning members who see staff-only projects and fields but change nothing.
ROLES = {"admin": "管理者", "staff": "職員", "viewer": "閲覧者"}


class User(Base):
    """A person who signs in."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('admin', 'staff', 'viewer')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(Text, unique=True)
    display_name: Mapped[str] = mapped_column(Text, server_default="")
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(server_default="true")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    tokens: Mapped[list["ApiToken"]] = relationship(back_populates="user")

    @property
    def can_write(self) -> bool:
        """Tell whether this user may create and change projects."""
        return self.role in ("admin", "staff")


class ApiToken(Base):
    """A bearer token for the API; only its hash is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(Text, unique=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="tokens")
