"""Every write to reports: intake, the one state writer with its history, and triage.

`set_state` is the only place a report's state changes: it appends the history entry and
queues the reporter's mail (when the address is confirmed) in the same transaction, and the
reports merged into this one follow it.
"""

import hashlib
import hmac
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from geoalchemy2.elements import WKTElement
from shapely import wkt
from shapely.geometry import Point
from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker.accounts.departments import may_change_works_of
from tracker.accounts.models import Department, User
from tracker.alerts.operations import check_email
from tracker.core import clock
from tracker.core.errors import BadInput
from tracker.core.limits import check_text
from tracker.core.translate import gettext as _
from tracker.geo.geometry import check_lon_lat, distance_outside_city
from tracker.projects.history import StatusUpdate
from tracker.projects.models import Project
from tracker.projects.operations import create_project
from tracker.reports.links import new_link_nonce
from tracker.reports.models import (
    ANSWER_MAX,
    DESCRIPTION_MAX,
    OPEN_STATES,
    STATES,
    TRANSITIONS,
    Report,
    ReportCategory,
    ReportIntake,
    ReportMail,
    ReportPhoto,
    ReportStateChange,
)
from tracker.reports.photos import MAX_PHOTOS, CleanPhoto
from tracker.updates.photos import attach_photos, prepare_photo
from tracker.words.i18n import LANGUAGES

# Reports one device (its cookie) or one network address may send: enough for a resident
# walking a damaged road, too few to flood the triage queue.
LIMITS = ((5, timedelta(hours=1)), (20, timedelta(days=1)))
# An Open311 client (an app) files for many residents: its key has limits of its own.
API_KEY_LIMITS = ((300, timedelta(hours=1)), (2000, timedelta(days=1)))
INTAKE_LOG_KEPT = timedelta(days=1)
# A report of the same category this close, this recent, is likely the same thing.
DUPLICATE_RADIUS_M = 50
DUPLICATE_WINDOW = timedelta(days=14)
# A phone's position near the boundary may be off by this much.
BOUNDARY_SLACK_M = 100
# What a linked work's status means for its reports.
STATE_OF_STATUS = {
    "planned": "in_progress",
    "design": "in_progress",
    "construction": "in_progress",
    "suspended": "in_progress",
    "completed": "done",
}
# A work made from a report: the kind its category suggests.
KIND_OF_CATEGORY = {
    "road": "road",
    "slope": "sabo",
    "tree": "sabo",
    "flooding": "revetment",
    "structure": "bridge",
    "river": "revetment",
    "other": "sabo",
}


class TooManyReports(BadInput):
    """This device or address has sent as many reports as the limits allow for now."""

    status = 429
    code = "too_many_reports"


@dataclass
class NewReport:
    """A report as the form or the API sends it, before any check."""

    category: str
    lon: float | str | None
    lat: float | str | None
    description: str = ""
    email: str = ""
    lang: str = "ja"
    place_key: str | None = None
    made_at: datetime | None = None
    client_id: str | None = None
    photos: list[CleanPhoto] = field(default_factory=list)
    same_as: int | None = None
    channel: str = "web"


def keyed(kind: str, value: str) -> str:
    """Return a keyed hash of a device or address: the limits count it without keeping it."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"report-{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def check_category(session: Session, code: object) -> ReportCategory:
    """Return the active category with this code, or refuse it."""
    category = session.get(ReportCategory, code) if isinstance(code, str) and code else None
    if category is None or not category.active:
        raise BadInput(_("種類を選んでください"), field="category", code="unknown_category")
    return category


def check_place(session: Session, lon: object, lat: object) -> tuple[float, float]:
    """Return a point inside the city, or refuse it in words."""
    if lon is None or lat is None or lon == "" or lat == "":
        raise BadInput(_("場所を選んでください（地図、現在地、または地名から）"), field="place")
    try:
        lon_f, lat_f = float(lon), float(lat)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise BadInput(_("場所の緯度・経度を読み取れません"), field="place") from None
    lon_f, lat_f = check_lon_lat(lon_f, lat_f, field="place")
    beyond = distance_outside_city(session, Point(lon_f, lat_f))
    if beyond is not None and beyond > BOUNDARY_SLACK_M:
        raise BadInput(
            _(
                "この場所は阿蘇市の外です（市の区域から約 %(km).1f km）。阿蘇市内の場所を選んでください。",
                km=beyond / 1000,
            ),
            field="place",
            code="outside_city",
        )
    return lon_f, lat_f


def check_client_id(value: object) -> str | None:
    """Return the phone's key for one report (a UUID), or refuse a malformed one."""
    if value in (None, ""):
        return None
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise BadInput(_("送信の識別子が正しくありません"), field="client_id") from None


def check_limits(
    session: Session,
    device_key: str,
    client_key: str,
    limits: tuple[tuple[int, timedelta], ...] = LIMITS,
) -> None:
    """Refuse a report past the limits of its device or its network address."""
    now = clock.now()
    for limit, window in limits:
        for column, value in (
            (ReportIntake.device_key, device_key),
            (ReportIntake.client_key, client_key),
        ):
            count = session.scalar(
                select(func.count())
                .select_from(ReportIntake)
                .where(column == value, ReportIntake.at > now - window)
            )
            if (count or 0) >= limit:
                hours = int(window.total_seconds() // 3600)
                raise TooManyReports(
                    _(
                        "短い間に多くの通報がありました（%(hours)d時間に%(limit)d件まで）。時間をおいてから送ってください。急ぎの危険は市役所へお電話ください。",
                        hours=hours,
                        limit=limit,
                    ),
                    field="limits",
                )


def possible_duplicates(
    session: Session, category: str, lon: float, lat: float, *, exclude: int | None = None
) -> list[Report]:
    """Return reports of this category within 50 m made in the last 14 days, nearest first."""
    point = func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326)
    query = (
        select(Report)
        .where(
            Report.category_code == category,
            Report.duplicate_of.is_(None),
            Report.state != "declined",
            Report.received_at > clock.now() - DUPLICATE_WINDOW,
            func.ST_DWithin(func.geography(Report.geom), func.geography(point), DUPLICATE_RADIUS_M),
        )
        .order_by(func.ST_Distance(func.geography(Report.geom), func.geography(point)))
        .limit(5)
    )
    if exclude is not None:
        query = query.where(Report.id != exclude)
    return list(session.scalars(query))


def create_report(
    session: Session,
    new: NewReport,
    *,
    device_key: str,
    client_key: str,
    limits: tuple[tuple[int, timedelta], ...] = LIMITS,
) -> Report:
    """Check and record a report with its photos, its first history entry and the mail that
    confirms its address; a resend of a report already received (same client_id) returns it.
    """
    client_id = check_client_id(new.client_id)
    if client_id is not None:
        existing = session.scalar(select(Report).where(Report.client_id == client_id))
        if existing is not None:
            return existing
    category = check_category(session, new.category)
    lon, lat = check_place(session, new.lon, new.lat)
    description = check_text("description", new.description, limit=DESCRIPTION_MAX)
    email = check_email(new.email) if (new.email or "").strip() else None
    if len(new.photos) > MAX_PHOTOS:
        raise BadInput(
            _("写真は%(n)d枚までです（%(given)d枚あります）", n=MAX_PHOTOS, given=len(new.photos)),
            field="photos",
            code="too_many_photos",
        )
    if not description and not new.photos:
        raise BadInput(_("写真か説明のどちらかを入れてください"), field="description")
    original = None
    if new.same_as is not None:
        original = session.get(Report, new.same_as)
        if original is None or original.category_code != category.code:
            raise BadInput(_("同じものとして選んだ通報が見つかりません"), field="same_as")
        original = _root(session, original)
    check_limits(session, device_key, client_key, limits)
    now = clock.now()
    # A phone's clock running ahead cannot date a report after it arrived.
    made_at = min(new.made_at or now, now)
    report = Report(
        category_code=category.code,
        geom=WKTElement(f"POINT({lon!r} {lat!r})", srid=4326),
        place_key=new.place_key or None,
        description=description,
        email=email,
        link_nonce=new_link_nonce(),
        lang=new.lang if new.lang in LANGUAGES else "ja",
        made_at=made_at,
        client_id=client_id,
        channel=new.channel,
        state=original.state if original is not None else "received",
        duplicate_of=original.id if original is not None else None,
        department=original.department if original is not None else None,
        project_id=original.project_id if original is not None else None,
    )
    report.photos = [
        ReportPhoto(
            content_type=p.content_type, width=p.width, height=p.height, data=p.data, thumb=p.thumb
        )
        for p in new.photos
    ]
    try:
        with session.begin_nested():
            session.add(report)
            session.flush()
    except IntegrityError:
        # The same report sent twice at once (a retry crossing the first send): the first
        # one stands, and this answer names it.
        existing = session.scalar(select(Report).where(Report.client_id == client_id))
        if client_id is None or existing is None:
            raise
        return existing
    session.add(ReportIntake(device_key=device_key, client_key=client_key))
    session.flush()
    session.add(ReportStateChange(report_id=report.id, previous_state=None, state=report.state))
    if email is not None:
        session.add(ReportMail(report_id=report.id, kind="confirm"))
    session.flush()
    return report


def _root(session: Session, report: Report) -> Report:
    """Return the report a chain of duplicates ends at."""
    seen = {report.id}
    while report.duplicate_of is not None:
        parent = session.get(Report, report.duplicate_of)
        if parent is None or parent.id in seen:
            break
        seen.add(parent.id)
        report = parent
    return report


def confirm_address(session: Session, report: Report) -> None:
    """Mark the reporter's address confirmed: from now on each change of state is mailed."""
    if report.email is not None and report.email_confirmed_at is None:
        report.email_confirmed_at = clock.now()
        session.flush()


def forget_address(session: Session, report: Report) -> None:
    """Forget the reporter's address and its waiting mails (the unsubscribe link)."""
    report.email = None
    report.email_confirmed_at = None
    report.link_nonce = new_link_nonce()
    for mail in session.scalars(
        select(ReportMail).where(ReportMail.report_id == report.id, ReportMail.status == "waiting")
    ):
        session.delete(mail)
    session.flush()


def set_state(
    session: Session, report: Report, state: str, *, note: str = "", user: User | None = None
) -> bool:
    """Move a report to a state, with its history entry and the reporter's mail; the reports
    merged into it follow. Returns False when it was in that state already."""
    if state not in STATES:
        raise BadInput(_("不明な状態です: %(state)s", state=state), field="state")
    note = check_text("note", note, limit=ANSWER_MAX)
    if report.state == state:
        return False
    if state not in TRANSITIONS[report.state]:
        raise BadInput(
            _(
                "「%(old)s」から「%(new)s」には変えられません",
                old=_(STATES[report.state]),
                new=_(STATES[state]),
            ),
            field="state",
        )
    for each in [report, *_followers(session, report)]:
        _write_state(session, each, state, note, user)
    return True


def _followers(session: Session, report: Report) -> list[Report]:
    return list(session.scalars(select(Report).where(Report.duplicate_of == report.id)))


def _write_state(
    session: Session, report: Report, state: str, note: str, user: User | None
) -> None:
    change = ReportStateChange(
        report_id=report.id,
        previous_state=report.state,
        state=state,
        note=note,
        author_id=user.id if user else None,
    )
    session.add(change)
    report.state = state
    report.state_changed_at = clock.now()
    session.flush()
    if report.email is not None and report.email_confirmed_at is not None:
        session.add(ReportMail(report_id=report.id, kind="state", state_change_id=change.id))
        session.flush()


def check_may_triage(user: User, report: Report) -> None:
    """Refuse a change by someone outside the report's department (unassigned: any staff)."""
    if user.role == "admin":
        return
    if user.role != "staff" or (
        report.department is not None and not may_change_works_of(user, report.department)
    ):
        raise BadInput(
            _("この通報は「%(department)s」の担当です。", department=report.department or "-"),
            code="not_your_department",
        )


def accept(session: Session, report: Report, user: User, *, answer: str | None = None) -> None:
    """Accept a report: it is shown to the public, and is being looked at."""
    check_may_triage(user, report)
    report.is_public = True
    if answer is not None:
        report.public_answer = check_text("answer", answer, limit=ANSWER_MAX)
    if report.state == "received":
        set_state(session, report, "checking", user=user)
    session.flush()


def set_answer(session: Session, report: Report, user: User, answer: str) -> None:
    """Write the staff's public answer."""
    check_may_triage(user, report)
    report.public_answer = check_text("answer", answer, limit=ANSWER_MAX)
    session.flush()


def reject(session: Session, report: Report, user: User, *, reason: str, hide: bool) -> None:
    """Decline a report with a reason the reporter reads; `hide` keeps it off the public view
    (personal or abusive content)."""
    check_may_triage(user, report)
    reason = check_text("reason", reason, limit=ANSWER_MAX, required=True)
    if hide:
        report.is_public = False
    report.public_answer = reason
    set_state(session, report, "declined", note=reason, user=user)


def assign_department(session: Session, report: Report, user: User, department: str) -> None:
    """Give a report to a department: it shows in that department's queue only."""
    check_may_triage(user, report)
    name = session.scalar(select(Department.name).where(Department.name == department))
    if name is None:
        raise BadInput(_("担当課を一覧から選んでください"), field="department")
    report.department = name
    for each in _followers(session, report):
        each.department = name
    session.flush()


def link_project(session: Session, report: Report, user: User, project: Project) -> None:
    """Link a report to the work that deals with it; its state follows the work's status."""
    check_may_triage(user, report)
    if project.withdrawn_at is not None:
        raise BadInput(_("取り下げた工事には結び付けられません"), field="project")
    report.project_id = project.id
    report.is_public = True
    for each in _followers(session, report):
        each.project_id = project.id
    session.flush()
    set_state(
        session,
        report,
        STATE_OF_STATUS[project.status],
        user=user,
        note=_("工事「%(name)s」として対応します", name=project.name),
    )


def create_project_from_report(
    session: Session, report: Report, user: User, *, name: str, kind: str, department: str
) -> Project:
    """Create a work at the report's place, with its description and photos, and link it."""
    check_may_triage(user, report)
    point = session.scalar(select(func.ST_AsText(Report.geom)).where(Report.id == report.id))
    project = create_project(
        session,
        name=name,
        kind=kind,
        geometry=wkt.loads(str(point)),
        department=department,
        description=report.description,
        user=user,
        # A report is a point: a road or revetment made from it is placed by position only
        # until staff draw its line.
        position_only=True,
    )
    first = session.scalar(select(StatusUpdate).where(StatusUpdate.project_id == project.id))
    photos = [*report.photos, *[p for d in _followers(session, report) for p in d.photos]]
    if first is not None and photos:
        attach_photos(
            session, first, [prepare_photo(p.data, f"report-{report.id}.jpg") for p in photos][:10]
        )
    link_project(session, report, user, project)
    return project


def merge(session: Session, report: Report, user: User, into: Report) -> None:
    """Merge a report into another of the same thing: it follows that one from now on."""
    check_may_triage(user, report)
    into = _root(session, into)
    if into.id == report.id:
        raise BadInput(_("同じ通報どうしはまとめられません"), field="into")
    report.duplicate_of = into.id
    for each in _followers(session, report):
        each.duplicate_of = into.id
    report.project_id = into.project_id
    report.department = into.department
    session.flush()
    if report.state != into.state and into.state in TRANSITIONS[report.state]:
        for each in [report, *_followers(session, report)]:
            _write_state(session, each, into.state, _("同じ内容の通報にまとめました"), user)


def follow_project_status(session: Session, update: StatusUpdate) -> None:
    """Move the reports linked to a work whose status just changed (a history hook)."""
    state = STATE_OF_STATUS.get(update.status)
    if state is None:
        return
    reports = session.scalars(
        select(Report).where(Report.project_id == update.project_id, Report.duplicate_of.is_(None))
    )
    for report in reports:
        if report.state != state and state in TRANSITIONS[report.state]:
            set_state(session, report, state)


def visible_to(user: User) -> ColumnElement[bool]:
    """Return the condition on reports a staff member's queue shows."""
    if user.role == "admin":
        return Report.id.isnot(None)
    return Report.department.is_(None) | Report.department.in_(user.department_names)


def purge_intake_log(session: Session) -> int:
    """Forget intake log rows older than the longest limit window."""
    result = session.execute(
        delete(ReportIntake).where(ReportIntake.at < clock.now() - INTAKE_LOG_KEPT)
    )
    return result.rowcount or 0  # type: ignore[attr-defined]


def open_states() -> tuple[str, ...]:
    """Return the states in which a report still waits for the city."""
    return OPEN_STATES
