"""User, API token, sign-in session and sign-in attempt tables."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.core.db import Base, stamp_now
from tracker.words.vocab import N_

# admin: users and everything; staff: create and edit projects, post updates;
# viewer: planning members who see staff-only projects and fields but change nothing.
# Marked for the catalogue: a role is named in the reader's language where it is shown.
ROLES = {"admin": N_("管理者"), "staff": N_("職員"), "viewer": N_("閲覧者")}


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
    created_at: Mapped[datetime] = mapped_column(default=stamp_now, server_default=func.now())

    tokens: Mapped[list["ApiToken"]] = relationship(back_populates="user")

    @property
    def can_write(self) -> bool:
        """Tell whether this user may create and change projects."""
        return self.role in ("admin", "staff")

    @property
    def label(self) -> str:
        """Return the name people read: the display name, or the login."""
        return self.display_name or self.login


class ApiToken(Base):
    """A bearer token for the API; only its hash is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(Text, unique=True)
    created_at: Mapped[datetime] = mapped_column(default=stamp_now, server_default=func.now())
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="tokens")


class LoginSession(Base):
    """One signed-in browser. The session cookie carries a random id; only its hash is kept.

    Flask's cookie is signed, not stored: without this row a copied cookie would stay valid
    after sign-out. Ending the row (sign-out) makes that cookie worthless at once.
    """

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(Text, unique=True)
    created_at: Mapped[datetime] = mapped_column(default=stamp_now, server_default=func.now())
    # Refreshed at most once a minute while the session is used (see access.py).
    last_seen_at: Mapped[datetime] = mapped_column(default=stamp_now, server_default=func.now())
    ended_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class LoginAttempt(Base):
    """One try at signing in, kept in the database so that every worker sees the same count."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_login_at", "login", "at"),
        Index("ix_login_attempts_address_at", "address", "at"),
        Index("ix_login_attempts_device_at", "device", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=stamp_now, server_default=func.now())
    login: Mapped[str] = mapped_column(Text)
    address: Mapped[str] = mapped_column(Text)
    # Set when the browser showed a device cookie of this login's user (see throttle.py).
    device: Mapped[str | None] = mapped_column(Text)
    succeeded: Mapped[bool]
