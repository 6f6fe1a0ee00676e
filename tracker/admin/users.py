"""/admin/users: the city's people, their invitations, the departments and the audit.

Each change is a small form posted to its own address; once done the page is shown again
(post, redirect, get) with a line saying what was done. A refusal shows the page with the
reason at the top (400) and nothing written.
"""

from collections.abc import Callable

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from tracker.accounts import people
from tracker.accounts.access import current_user, roles_required
from tracker.accounts.audit import ACTIONS
from tracker.accounts.links import send_reset_link
from tracker.accounts.models import ROLES, AccountEvent, Department, User
from tracker.admin.departments import (
    add_department,
    department_uses,
    remove_department,
    rename_department,
)
from tracker.core.db import get_session
from tracker.core.errors import BadInput
from tracker.core.translate import gettext as _
from tracker.core.translate import lazy_gettext as _l

bp = Blueprint(
    "admin_users",
    __name__,
    # No url_prefix: the hashed static files are served at static_url_path as it is.
    static_folder="static",
    static_url_path="/static/admin",
)

# How many audit rows the people page shows; the audit page shows this many a page.
AUDIT_ON_PAGE = 20
AUDIT_PER_PAGE = 50
LANGUAGE_NAMES = {"ja": "日本語", "en": "English"}
# The fields a refusal or the audit names, as the page labels them.
FIELD_NAMES = {
    "login": _l("ログイン名"),
    "display_name": _l("表示名"),
    "email": _l("メールアドレス"),
    "language": _l("メールの言語"),
    "role": _l("役割"),
    "departments": _l("担当課"),
    "department": _l("担当課"),
}


def _me() -> User:
    user = current_user()
    if user is None:  # roles_required let no one else through
        abort(401)
    return user


def _recent_events(session: Session, *, limit: int, offset: int = 0) -> list[AccountEvent]:
    return list(
        session.scalars(
            select(AccountEvent)
            .options(selectinload(AccountEvent.actor), selectinload(AccountEvent.user))
            .order_by(AccountEvent.at.desc(), AccountEvent.id.desc())
            .limit(limit)
            .offset(offset)
        )
    )


def _page(*, error: BadInput | None = None, form: dict | None = None) -> ResponseReturnValue:
    session = get_session()
    users = list(
        session.scalars(
            select(User)
            .options(selectinload(User.departments), selectinload(User.passkeys))
            .order_by(User.is_active.desc(), func.lower(User.login))
        )
    )
    departments = list(session.scalars(select(Department).order_by(Department.name)))
    events = _recent_events(session, limit=AUDIT_ON_PAGE + 1)
    body = render_template(
        "admin/users.html",
        users=users,
        departments=departments,
        uses=department_uses(session),
        pending=people.pending_invitations(session),
        events=events[:AUDIT_ON_PAGE],
        more_events=len(events) > AUDIT_ON_PAGE,
        roles=ROLES,
        actions=ACTIONS,
        language_names=LANGUAGE_NAMES,
        field_names=FIELD_NAMES,
        me=_me(),
        error=error,
        form=form or {},
    )
    return body, 400 if error else 200, {"Cache-Control": "no-store"}


def _change(done: Callable[[], str], operation: Callable[[Session], object]) -> ResponseReturnValue:
    """Run one change; on success say `done()`, on refusal show the page with nothing written."""
    session = get_session()
    try:
        operation(session)
    except BadInput as refusal:
        session.rollback()
        return _page(error=refusal, form=request.form.to_dict(flat=True))
    flash(done())
    return redirect(url_for(".people_page"), 303)


def _person(user_id: int) -> User:
    user = get_session().get(User, user_id)
    if user is None:
        abort(404)
    return user


def _department(department_id: int) -> Department:
    department = get_session().get(Department, department_id)
    if department is None:
        abort(404)
    return department


@bp.get("/admin/users")
@roles_required("admin")
def people_page() -> ResponseReturnValue:
    """Show every account, the invitation form, the departments and the latest changes."""
    return _page()


@bp.post("/admin/users/invite")
@roles_required("admin")
def invite() -> ResponseReturnValue:
    """Create an account and mail its person an invitation."""
    form = request.form

    def run(session: Session) -> None:
        people.invite(
            session,
            actor=_me(),
            login=form.get("login", ""),
            display_name=form.get("display_name", ""),
            email=form.get("email", ""),
            role=form.get("role", ""),
            departments=people.find_departments(session, form.getlist("departments")),
            language=form.get("language", "ja"),
        )

    return _change(
        lambda: _("%(login)s さんに招待のメールを送りました", login=form.get("login", "").strip()),
        run,
    )


@bp.post("/admin/users/<int:user_id>/resend")
@roles_required("admin")
def resend(user_id: int) -> ResponseReturnValue:
    """Mail a pending invitee a new invitation; the earlier link stops working."""
    user = _person(user_id)
    return _change(
        lambda: _("%(login)s さんに招待のメールを送り直しました", login=user.login),
        lambda session: people.resend_invitation(session, user, actor=_me()),
    )


@bp.post("/admin/users/<int:user_id>/role")
@roles_required("admin")
def change_role(user_id: int) -> ResponseReturnValue:
    """Give a person another role."""
    user = _person(user_id)
    return _change(
        lambda: _("%(login)s さんの役割を変更しました", login=user.login),
        lambda session: people.change_role(
            session, user, request.form.get("role", ""), actor=_me()
        ),
    )


@bp.post("/admin/users/<int:user_id>/departments")
@roles_required("admin")
def change_departments(user_id: int) -> ResponseReturnValue:
    """Set whose works a person may change."""
    user = _person(user_id)
    return _change(
        lambda: _("%(login)s さんの担当課を変更しました", login=user.login),
        lambda session: people.change_departments(
            session,
            user,
            people.find_departments(session, request.form.getlist("departments")),
            actor=_me(),
        ),
    )


@bp.post("/admin/users/<int:user_id>/details")
@roles_required("admin")
def change_details(user_id: int) -> ResponseReturnValue:
    """Change a person's name, e-mail address and the language of their mails."""
    user = _person(user_id)
    form = request.form
    return _change(
        lambda: _("%(login)s さんの登録内容を変更しました", login=user.login),
        lambda session: people.change_details(
            session,
            user,
            actor=_me(),
            display_name=form.get("display_name", ""),
            email=form.get("email", ""),
            language=form.get("language", ""),
        ),
    )


@bp.post("/admin/users/<int:user_id>/deactivate")
@roles_required("admin")
def deactivate(user_id: int) -> ResponseReturnValue:
    """Stop a person's account; their signed-in browsers are signed out."""
    user = _person(user_id)
    return _change(
        lambda: _("%(login)s さんの利用を停止しました", login=user.login),
        lambda session: people.deactivate(session, user, actor=_me()),
    )


@bp.post("/admin/users/<int:user_id>/reactivate")
@roles_required("admin")
def reactivate(user_id: int) -> ResponseReturnValue:
    """Let a person sign in again."""
    user = _person(user_id)
    return _change(
        lambda: _("%(login)s さんの利用を再開しました", login=user.login),
        lambda session: people.reactivate(session, user, actor=_me()),
    )


@bp.post("/admin/users/<int:user_id>/reset")
@roles_required("admin")
def send_reset(user_id: int) -> ResponseReturnValue:
    """Mail a person a one-hour link to choose a new password."""
    user = _person(user_id)

    def run(session: Session) -> None:
        if not user.is_active:
            raise BadInput(_("利用停止中のアカウントには送れません"), code="inactive")
        if not user.email:
            raise BadInput(
                _(
                    "%(login)s さんにはメールアドレスがありません。先に登録してください",
                    login=user.login,
                ),
                code="no_email",
            )
        send_reset_link(session, user, actor=_me())

    return _change(
        lambda: _("%(login)s さんにパスワード再設定のメールを送りました", login=user.login), run
    )


@bp.post("/admin/users/departments")
@roles_required("admin")
def add_department_view() -> ResponseReturnValue:
    """Add a department to the list."""
    name = request.form.get("name", "")
    return _change(
        lambda: _("担当課「%(name)s」を追加しました", name=name.strip()),
        lambda session: add_department(session, name, actor=_me()),
    )


@bp.post("/admin/users/departments/<int:department_id>/rename")
@roles_required("admin")
def rename_department_view(department_id: int) -> ResponseReturnValue:
    """Rename a department, and every work of it."""
    department = _department(department_id)
    name = request.form.get("name", "")
    renamed: list[int] = []
    return _change(
        lambda: _(
            "担当課の名前を「%(name)s」に変えました（工事%(works)d件）",
            name=name.strip(),
            works=renamed[0],
        ),
        lambda session: renamed.append(rename_department(session, department, name, actor=_me())),
    )


@bp.post("/admin/users/departments/<int:department_id>/remove")
@roles_required("admin")
def remove_department_view(department_id: int) -> ResponseReturnValue:
    """Remove a department that no work and no person names."""
    department = _department(department_id)
    name = department.name
    return _change(
        lambda: _("担当課「%(name)s」を削除しました", name=name),
        lambda session: remove_department(session, department, actor=_me()),
    )


@bp.get("/admin/users/audit")
@roles_required("admin")
def audit_page() -> ResponseReturnValue:
    """Show every account change, newest first, a page at a time."""
    page = request.args.get("page", 1, type=int) or 1
    page = max(page, 1)
    events = _recent_events(
        get_session(), limit=AUDIT_PER_PAGE + 1, offset=(page - 1) * AUDIT_PER_PAGE
    )
    body = render_template(
        "admin/users_audit.html",
        events=events[:AUDIT_PER_PAGE],
        page=page,
        has_next=len(events) > AUDIT_PER_PAGE,
        field_names=FIELD_NAMES,
        roles=ROLES,
        actions=ACTIONS,
    )
    return body, 200, {"Cache-Control": "no-store"}
