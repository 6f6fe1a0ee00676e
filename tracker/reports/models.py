"""Damage reports, their categories, photos, state history, mails, intake log and API keys.

A report's state is written only by `operations.set_state`, which appends a history row
with it (the same rule as a work's status). The reporter's address is kept in the report
row alone, never in a mail row, and is forgotten when the reporter unsubscribes.
"""

from datetime import datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    SmallInteger,
    Text,
    func,
    literal_column,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.core.db import Base, stamp_now
from tracker.words.vocab import N_, sql_list

# The states of a report, in order, with the traffic-light colour My City Report uses:
# red waiting for the city, amber being looked at, yellow being dealt with, green done,
# grey not to be dealt with.
STATES = {
    "received": N_("受付"),
    "checking": N_("確認中"),
    "in_progress": N_("対応中"),
    "done": N_("対応済"),
    "declined": N_("対応しない"),
}
STATE_COLOURS = {
    "received": "#c62828",
    "checking": "#e65100",
    "in_progress": "#f9a825",
    "done": "#2e7d32",
    "declined": "#616161",
}
OPEN_STATES = ("received", "checking", "in_progress")
CLOSED_STATES = ("done", "declined")
# Where each state may go; the same state again is never a change.
TRANSITIONS = {
    "received": frozenset({"checking", "in_progress", "done", "declined"}),
    "checking": frozenset({"received", "in_progress", "done", "declined"}),
    "in_progress": frozenset({"checking", "done", "declined"}),
    "done": frozenset({"in_progress"}),
    "declined": frozenset({"checking", "in_progress"}),
}
# The seven categories a report starts with (admins may add, rename or retire them).
DEFAULT_CATEGORIES = (
    ("road", "道路の陥没・損傷", "Sunken or damaged road"),
    ("slope", "落石・土砂崩れ", "Rockfall or landslide"),
    ("tree", "倒木", "Fallen tree"),
    ("flooding", "冠水・排水不良", "Flooding or poor drainage"),
    ("structure", "橋・ガードレール・標識の損傷", "Damaged bridge, guard rail or sign"),
    ("river", "河川・水路の損傷", "Damaged river or channel"),
    ("other", "その他", "Other"),
)
MAX_EMAIL_LENGTH = 254
DESCRIPTION_MAX = 2000
ANSWER_MAX = 2000
MAIL_KINDS = ("confirm", "state")
MAIL_STATUSES = ("waiting", "sent", "failed")
# web: the /report page; open311: the GeoReport API.
CHANNELS = ("web", "open311")


class ReportCategory(Base):
    """One kind of thing a resident can report, named in both languages."""

    __tablename__ = "report_categories"

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    name_ja: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    active: Mapped[bool] = mapped_column(server_default="true")

    def label(self, locale: str) -> str:
        """Return the name to show in this language."""
        return self.name_en if locale == "en" else self.name_ja


class Report(Base):
    """What a resident saw, where, and what became of it."""

    __tablename__ = "reports"
    __table_args__ = (
        CheckConstraint(f"state IN {sql_list(STATES)}", name="state"),
        CheckConstraint(f"channel IN {sql_list(CHANNELS)}", name="channel"),
        CheckConstraint("duplicate_of IS NULL OR duplicate_of <> id", name="not_own_duplicate"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("report_categories.code"), index=True)
    geom: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))
    # The named place it was reported from, when one was chosen (the marker may have moved).
    place_key: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, server_default="")
    # Optional; mailed only once confirmed, and forgotten when the reporter unsubscribes.
    email: Mapped[str | None] = mapped_column(Text)
    email_confirmed_at: Mapped[datetime | None]
    link_nonce: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(Text, server_default="ja")
    # When the resident made it (the phone's clock, which may be hours before it arrived).
    made_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=stamp_now, server_default=func.now())
    # The phone's key for one report: a resend of the same report finds the first.
    client_id: Mapped[str | None] = mapped_column(Text, unique=True)
    channel: Mapped[str] = mapped_column(Text, server_default="web")
    state: Mapped[str] = mapped_column(Text, server_default="received")
    state_changed_at: Mapped[datetime] = mapped_column(default=stamp_now, server_default=func.now())
    # Shown to the public once staff accept it; a report declined as personal or abusive
    # never is.
    is_public: Mapped[bool] = mapped_column(server_default="false")
    department: Mapped[str | None] = mapped_column(Text, index=True)
    public_answer: Mapped[str] = mapped_column(Text, server_default="")
    project_id: Mapped[int | None] = mapped_column(
        ForeignKey("projects.id", ondelete="SET NULL"), index=True
    )
    duplicate_of: Mapped[int | None] = mapped_column(
        ForeignKey("reports.id", ondelete="SET NULL"), index=True
    )

    category: Mapped[ReportCategory] = relationship(lazy="joined")
    photos: Mapped[list["ReportPhoto"]] = relationship(
        order_by="ReportPhoto.id", back_populates="report", cascade="all, delete-orphan"
    )


# Duplicates within 50 m and the reports near a place read this, as the nearby search does.
Index(
    "ix_reports_geog",
    literal_column("(geom)::geography"),
    postgresql_using="gist",
    _table=Report.__table__,
)


class ReportPhoto(Base):
    """A photo of a report, re-encoded without any metadata (the original is not kept)."""

    __tablename__ = "report_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    content_type: Mapped[str] = mapped_column(Text)
    width: Mapped[int]
    height: Mapped[int]
    # Read only when a photo is served: lists name photos by id.
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    thumb: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)

    report: Mapped[Report] = relationship(back_populates="photos")


class ReportStateChange(Base):
    """One entry of a report's state history; appended, never changed."""

    __tablename__ = "report_state_changes"
    __table_args__ = (CheckConstraint(f"state IN {sql_list(STATES)}", name="state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=stamp_now, server_default=func.now())
    previous_state: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(Text)
    # What the reporter is told (a rejection's reason, the answer); empty for none.
    note: Mapped[str] = mapped_column(Text, server_default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ReportMail(Base):
    """A mail owed to a report's confirmed address (or its one confirmation mail)."""

    __tablename__ = "report_mails"
    __table_args__ = (
        CheckConstraint(f"kind IN {sql_list(MAIL_KINDS)}", name="kind"),
        CheckConstraint(f"status IN {sql_list(MAIL_STATUSES)}", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(Text)
    state_change_id: Mapped[int | None] = mapped_column(
        ForeignKey("report_state_changes.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[str] = mapped_column(Text, server_default="waiting")
    created_at: Mapped[datetime] = mapped_column(default=stamp_now, server_default=func.now())
    sent_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)


class ReportIntake(Base):
    """One report received, by keyed hashes of the device and the address: the limits'
    count. No report id, no address: kept a day."""

    __tablename__ = "report_intake_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=stamp_now, server_default=func.now(), index=True)
    device_key: Mapped[str] = mapped_column(Text, index=True)
    client_key: Mapped[str] = mapped_column(Text, index=True)


class Open311Key(Base):
    """An API key an Open311 client files reports with; only its hash is kept."""

    __tablename__ = "open311_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    key_hash: Mapped[str] = mapped_column(Text, unique=True)
    created_at: Mapped[datetime] = mapped_column(default=stamp_now, server_default=func.now())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None]
