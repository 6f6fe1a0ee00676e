"""Staff triage of reports (/staff/reports), on a phone and a desk: the queue on a list and
a map, and for each report accept, answer, link to a work, create a work from it, merge,
reject with a reason, assign a department; and the Open311 API keys.

Each action is one POST form (no JavaScript needed) that redirects back to the report.
"""

import hashlib
import re
import secrets
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from sqlalchemy import select

from tracker.accounts.access import current_user, roles_required
from tracker.accounts.models import Department, User
from tracker.city.places import find_place, start_places
from tracker.core import clock
from tracker.core.db import get_session
from tracker.core.errors import BadInput
from tracker.core.limits import check_name
from tracker.core.translate import gettext as _
from tracker.projects.models import Project
from tracker.reports import queries
from tracker.reports.models import STATES, Open311Key, Report, ReportCategory
from tracker.reports.operations import (
    KIND_OF_CATEGORY,
    accept,
    assign_department,
    check_may_triage,
    create_project_from_report,
    link_project,
    merge,
    possible_duplicates,
    reject,
    set_answer,
    set_state,
)
from tracker.reports.views import map_config
from tracker.serving.assets import vendor_url
from tracker.words.vocab import KINDS

bp = Blueprint("staff_reports", __name__)


@bp.context_processor
def _page_helpers() -> dict:
    return {"vendor_url": vendor_url}


def _user() -> User:
    user = current_user()
    assert user is not None  # roles_required let it through
    return user


def _report(report_id: int) -> Report:
    report = get_session().get(Report, report_id)
    if report is None:
        abort(404)
    return report


@bp.get("/staff/reports")
@roles_required("staff", "admin")
def queue() -> ResponseReturnValue:
    """The reports waiting for this person's departments, newest or nearest first."""
    session = get_session()
    user = _user()
    state = request.args.get("state", "open")
    near = None
    place = (
        find_place(session, request.args.get("place", "")) if request.args.get("place") else None
    )
    if place is not None:
        near = (place.lon, place.lat)
    else:
        try:
            near = (float(request.args["lon"]), float(request.args["lat"]))
        except (KeyError, ValueError):
            near = None
    rows = queries.staff_queue(session, user, state=state, near=near)
    lang = str(get_locale())
    points = []
    for report, _distance in rows:
        lon, lat = queries.point_of(report)
        points.append(
            {
                "id": report.id,
                "lon": lon,
                "lat": lat,
                "colour": report_colour(report.state),
                "category": report.category.label(lang),
                "stateLabel": _(STATES[report.state]),
                "url": url_for(".detail", report_id=report.id),
            }
        )
    return render_template(
        "reports/staff_queue.html",
        rows=rows,
        state=state,
        states=STATES,
        lang=lang,
        places=start_places(session),
        place_key=request.args.get("place", ""),
        open_count=queries.count_open(session, user),
        config=map_config(points=points),
    )


def report_colour(state: str) -> str:
    """Return the traffic-light colour of a state."""
    from tracker.reports.models import STATE_COLOURS

    return STATE_COLOURS[state]


@bp.get("/staff/reports/<int:report_id>")
@roles_required("staff", "admin")
def detail(report_id: int) -> ResponseReturnValue:
    """One report with every triage action."""
    session = get_session()
    report = _report(report_id)
    lon, lat = queries.lon_lat(session, report)
    lang = str(get_locale())
    return render_template(
        "reports/staff_detail.html",
        report=report,
        lang=lang,
        lon=lon,
        lat=lat,
        states=STATES,
        history=queries.public_history(session, report),
        merged=queries.merged_into(session, report),
        similar=possible_duplicates(session, report.category_code, lon, lat, exclude=report.id),
        project=session.get(Project, report.project_id) if report.project_id else None,
        departments=list(session.scalars(select(Department.name).order_by(Department.name))),
        kinds=KINDS,
        default_kind=KIND_OF_CATEGORY.get(report.category_code, "sabo"),
        config=map_config(
            center=[lat, lon],
            points=[
                {
                    "id": report.id,
                    "lon": lon,
                    "lat": lat,
                    "colour": report_colour(report.state),
                    "category": report.category.label(lang),
                    "stateLabel": _(STATES[report.state]),
                }
            ],
        ),
    )


ACTIONS = ("accept", "answer", "state", "reject", "department", "link", "create", "merge")


@bp.post("/staff/reports/<int:report_id>/<action>")
@roles_required("staff", "admin")
def act(report_id: int, action: str) -> ResponseReturnValue:
    """Carry out one triage action; a refusal is said in words on the report's page."""
    if action not in ACTIONS:
        abort(404)
    session = get_session()
    report = _report(report_id)
    user = _user()
    form = request.form
    try:
        check_may_triage(user, report)
        if action == "accept":
            accept(session, report, user, answer=form.get("answer"))
            message = _("受け付けて公開しました")
        elif action == "answer":
            set_answer(session, report, user, form.get("answer", ""))
            message = _("回答を保存しました")
        elif action == "state":
            set_state(session, report, form.get("state", ""), note=form.get("note", ""), user=user)
            message = _("状態を変えました")
        elif action == "reject":
            reject(
                session, report, user, reason=form.get("reason", ""), hide=bool(form.get("hide"))
            )
            message = _("対応しないことにしました")
        elif action == "department":
            assign_department(session, report, user, form.get("department", ""))
            message = _("担当課を決めました")
        elif action == "link":
            project = _project(form.get("project_id", ""))
            link_project(session, report, user, project)
            message = _("工事に結び付けました")
        elif action == "create":
            project = create_project_from_report(
                session,
                report,
                user,
                name=form.get("name", ""),
                kind=form.get("kind", ""),
                department=form.get("department", ""),
            )
            message = _("工事を作成しました: %(name)s", name=project.name)
        else:
            into = _report_or_refuse(form.get("into", ""))
            merge(session, report, user, into)
            message = _("通報 %(id)d にまとめました", id=into.id)
    except BadInput as error:
        session.rollback()
        flash(error.text, "error")
        return redirect(url_for(".detail", report_id=report_id), code=303)
    flash(message, "success")
    return redirect(url_for(".detail", report_id=report_id), code=303)


def _project(raw: str) -> Project:
    project = get_session().get(Project, int(raw)) if raw.strip().isdigit() else None
    if project is None:
        raise BadInput(_("工事の番号が見つかりません"), field="project_id")
    return project


def _report_or_refuse(raw: str) -> Report:
    report = get_session().get(Report, int(raw)) if raw.strip().isdigit() else None
    if report is None:
        raise BadInput(_("まとめ先の通報番号が見つかりません"), field="into")
    return report


def key_hash(key: str) -> str:
    """Return the hash an Open311 key is kept as."""
    return hashlib.sha256(key.encode()).hexdigest()


@bp.route("/staff/reports/keys", methods=["GET", "POST"])
@roles_required("staff", "admin")
def keys() -> ResponseReturnValue:
    """Open311 API keys: create one (shown once), or revoke one."""
    session = get_session()
    new_key = None
    context: dict[str, Any] = {}
    if request.method == "POST":
        if request.form.get("revoke", "").isdigit():
            key = session.get(Open311Key, int(request.form["revoke"]))
            if key is not None and key.revoked_at is None:
                key.revoked_at = clock.now()
                flash(_("キーを無効にしました"), "success")
        else:
            name = (request.form.get("name") or "").strip()[:100]
            if not name:
                context["error"] = _("キーの用途（アプリ名など）を入力してください")
            else:
                new_key = secrets.token_urlsafe(24)
                session.add(
                    Open311Key(name=name, key_hash=key_hash(new_key), created_by=_user().id)
                )
                session.flush()
    listed = list(session.scalars(select(Open311Key).order_by(Open311Key.created_at.desc())))
    return render_template("reports/keys.html", keys=listed, new_key=new_key, **context)


CODE_PATTERN = re.compile(r"[a-z][a-z0-9_]{1,31}")


@bp.route("/admin/report-categories", methods=["GET", "POST"])
@roles_required("admin")
def categories_page() -> ResponseReturnValue:
    """The categories residents choose from: rename, reorder, retire (never delete: reports
    keep theirs) or add one."""
    session = get_session()
    error = None
    if request.method == "POST":
        form = request.form
        try:
            code = form.get("code", "").strip()
            name_ja = check_name("name_ja", form.get("name_ja"), limit=100)
            name_en = check_name("name_en", form.get("name_en"), limit=100)
            try:
                position = int(form.get("position", "0"))
            except ValueError:
                raise BadInput(_("順番は数字で入れてください"), field="position") from None
            category = session.get(ReportCategory, code)
            if form.get("new"):
                if not CODE_PATTERN.fullmatch(code):
                    raise BadInput(
                        _("コードは半角英小文字で始まる英数字と _ で、2〜32文字です"), field="code"
                    )
                if category is not None:
                    raise BadInput(_("このコードはもう使われています"), field="code")
                category = ReportCategory(code=code)
                session.add(category)
            elif category is None:
                abort(404)
            category.name_ja, category.name_en, category.position = name_ja, name_en, position
            category.active = bool(form.get("active")) or bool(form.get("new"))
            session.flush()
            flash(_("種類を保存しました"), "success")
            return redirect(url_for(".categories_page"), code=303)
        except BadInput as refused:
            session.rollback()
            error = refused.text
    listed = list(
        session.scalars(
            select(ReportCategory).order_by(ReportCategory.position, ReportCategory.code)
        )
    )
    return render_template("reports/categories.html", categories=listed, error=error), (
        400 if error else 200
    )
