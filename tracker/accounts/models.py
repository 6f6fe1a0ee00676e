"""Accounts: users, departments, API tokens, sign-in sessions and attempts, second factors,
one-time links and the audit of account changes."""

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, LargeBinary, Table, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.core.db import Base, stamp_now
from tracker.words.vocab import N_

# admin: users and everything; staff: create and edit projects, post updates;
# viewer: planning members who see staff-only projects and fields but change nothing.
# Marked for the catalogue: a role is named in the reader's language where it is shown.
ROLES = {"admin": N_("管理者"), "staff": N_("職員"), "viewer": N_("閲覧者")}


# Which departments' works a person may change (projects.department holds the name).
user_departments = Table(
    "user_departments",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("department_id", ForeignKey("departments.id", ondelete="CASCADE"), primary_key=True),
)


class Department(Base):
    """A 課 of the city (担当課), as works name it; managed on the admin page."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    created_at: Mapped[datetime] = mapped_column(default=stamp_now, server_default=func.now())


class User(Base):
    """A person who signs in."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'staff', 'viewer')", name="role"),
        CheckConstraint("language IN ('ja', 'en')", name="language"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(Text, unique=True)
    display_name: Mapped[str] = mapped_column(Text, server_default="")
    # Where invitations, reset links and notices of changes go; people made on the command
    # line before may have none.
    email: Mapped[str | None] = mapped_column(Text)
    # The language of the mails the person is sent.
    language: Mapped[str] = mapped_column(Text, server_default="ja")
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(server_default="true")
    created_at: Mapped[datetime] = mapped_column(default=stamp_now, server_default=func.now())
    last_sign_in_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]
    # The TOTP secret (base32), set once the person confirmed a first code with it.
    totp_secret: Mapped[str | None] = mapped_column(Text)
    # The time-step (unix time // 30) of the last code accepted: a code works once.
    totp_last_step: Mapped[int | None]

    tokens: Mapped[list["ApiToken"]] = relationship(back_populates="user")
    departments: Mapped[list[Department]] = relationship(
        secondary=user_departments, order_by=Department.name
    )
    passkeys: Mapped[list["Passkey"]] = relationship(back_populates="user")

    @property
    def department_names(self) -> list[str]:
        """Return the names of the departments whose works this person may change."""
        return [d.name for d in self.departments]

    @property
    def has_second_factor(self) -> bool:
        """Tell whether signing in asks this person for a second factor."""
        return self.totp_secret is not None or bool(self.passkeys)

    @property
    def can_write(self) -> bool:
        """Tell whether this user may create and change projects."""
        return self.role in ("admin", "staff")

    @property
    def label(self) -> str:
        """Return the name people read: the display name, or the login."""
        return self.display_name or self.login


# One account per address, whatever its letter case.
Index("ix_users_email", func.lower(User.email), unique=True)


class ApiToken(Base):
    """A bearer token for the API; only its hash is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(Text, unique=True)
    # What the token is for, as its owner named it ("QGIS on the works PC").
    name: Mapped[str] = mapped_column(Text, server_default="")
    created_at: Mapped[datetime] = mapped_column(default=stamp_now, server_default=func.now())
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
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
    # The browser's User-Agent and the address it signed in from, shown on the person's own
    # sessions page so that they can tell their devices apart.
    user_agent: Mapped[str] = mapped_column(Text, server_default="")
    address: Mapped[str] = mapped_column(Text, server_default="")

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


class RecoveryCode(Base):
    """One single-use code that stands in for the second factor; only its hash is kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=stamp_now, server_default=func.now())
    used_at: Mapped[datetime | None]


class Passkey(Base):
    """A WebAuthn credential: a second factor, or a sign-in without a password."""

    __tablename__ = "passkeys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(server_default="0")
    name: Mapped[str] = mapped_column(Text, server_default="")
    created_at: Mapped[datetime] = mapped_column(default=stamp_now, server_default=func.now())
    last_used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="passkeys")


class AccountLink(Base):
    """A one-time link sent by mail: an invitation (72 hours) or a password reset (1 hour)."""

    __tablename__ = "account_links"
    __table_args__ = (CheckConstraint("purpose IN ('invite', 'reset')", name="purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(Text)
    token_hash: Mapped[str] = mapped_column(Text, unique=True)
    created_at: Mapped[datetime] = mapped_column(default=stamp_now, server_default=func.now())
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class AccountEvent(Base):
    """One change to an account: who did it (None: the person themselves or the command
    line), to whom, what, and when. Never holds a password, a secret or a token."""

    __tablename__ = "account_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=stamp_now, server_default=func.now(), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict] = mapped_column(JSONB, server_default="{}")

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
