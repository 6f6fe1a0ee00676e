"""Withdraw (取り下げ), restore and delete works from the pages; list the withdrawn ones.

The rules are the operations' (tracker.projects.withdrawal): admins, and staff of the
work's department. Each action has its own page with the form, so that nothing is
withdrawn or deleted by a single stray click.
"""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from tracker.accounts.access import current_user, roles_required
from tracker.core.db import get_session
from tracker.core.errors import BadInput
from tracker.core.translate import gettext as _
from tracker.projects.models import Project
from tracker.projects.queries import project_or_404
from tracker.projects.withdrawal import (
    REASON_MAX,
    delete_project,
    records_by_people,
    restore_project,
    withdraw_project,
    withdrawn_works,
)
from tracker.words.i18n import refusal_text

bp = Blueprint("withdrawal", __name__)

EDITORS = ("admin", "staff")


def _project(project_id: int) -> Project:
    # Locked: a withdrawal and an edit of the same work queue up.
    return project_or_404(
        get_session(), project_id, include_private=True, include_withdrawn=True, lock=True
    )


@bp.route("/projects/<int:project_id>/withdraw", methods=["GET", "POST"])
@roles_required(*EDITORS)
def withdraw(project_id: int) -> ResponseReturnValue:
    """Ask for the reason, then withdraw the work: it leaves every public page and count."""
    project = _project(project_id)
    reason = request.form.get("withdrawn_reason", "")
    if request.method == "POST":
        try:
            withdraw_project(get_session(), project, reason=reason, user=current_user())
        except BadInput as exc:
            return _form(project, reason=reason, error=refusal_text(exc)), exc.status
        flash(_("事業を取り下げました。公開の地図・一覧・集計には表示されません"))
        return redirect(url_for("web.project_page", project_id=project.id), code=303)
    return _form(project, reason=reason)


def _form(project: Project, *, reason: str, error: str | None = None) -> str:
    return render_template(
        "editing/withdraw.html",
        project=project,
        reason=reason,
        error=error,
        reason_max=REASON_MAX,
    )


@bp.post("/projects/<int:project_id>/restore")
@roles_required(*EDITORS)
def restore(project_id: int) -> ResponseReturnValue:
    """Restore a withdrawn work: it is shown and counted again, as it was."""
    project = _project(project_id)
    try:
        restore_project(get_session(), project, user=current_user())
    except BadInput as exc:
        flash(refusal_text(exc))
        return redirect(url_for("web.project_page", project_id=project.id), code=303)
    flash(_("事業を元に戻しました"))
    return redirect(url_for("web.project_page", project_id=project.id), code=303)


@bp.route("/projects/<int:project_id>/delete", methods=["GET", "POST"])
@roles_required(*EDITORS)
def delete(project_id: int) -> ResponseReturnValue:
    """Confirm, then delete a work created by mistake (one nobody has recorded on)."""
    session = get_session()
    project = _project(project_id)
    if request.method == "POST":
        try:
            delete_project(session, project, user=current_user())
        except BadInput as exc:
            return _confirm(project, error=refusal_text(exc)), exc.status
        flash(_("事業「%(name)s」を削除しました", name=project.name))
        return redirect(url_for("withdrawal.withdrawn_list"), code=303)
    return _confirm(project, recorded=records_by_people(session, project.id))


def _confirm(project: Project, *, recorded: bool = False, error: str | None = None) -> str:
    return render_template("editing/delete.html", project=project, recorded=recorded, error=error)


@bp.get("/projects/withdrawn")
@roles_required(*EDITORS)
def withdrawn_list() -> ResponseReturnValue:
    """List the withdrawn works, newest withdrawal first, each with when, who and why."""
    return render_template("editing/withdrawn.html", works=withdrawn_works(get_session()))
