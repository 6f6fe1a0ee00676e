"""Staff add and lift the traffic restrictions of a project."""

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from tracker.accounts.access import roles_required
from tracker.db import get_session
from tracker.errors import BadInput
from tracker.formatting import parse_day, today_jst
from tracker.i18n import refusal_text
from tracker.projects.models import Project
from tracker.projects.queries import project_or_404
from tracker.restrictions.models import TrafficRestriction
from tracker.restrictions.operations import add_restriction, end_restriction
from tracker.vocab import RESTRICTION_KINDS

bp = Blueprint("restrictions", __name__)


def _restrictions(project: Project) -> list[TrafficRestriction]:
    return list(
        get_session().scalars(
            select(TrafficRestriction)
            .where(TrafficRestriction.project_id == project.id)
            .order_by(TrafficRestriction.starts_on.desc(), TrafficRestriction.id.desc())
        )
    )


@bp.route("/projects/<int:project_id>/restrictions", methods=["GET", "POST"])
@roles_required("staff", "admin")
def project_restrictions(project_id: int):
    """List a project's traffic restrictions and add one."""
    project = project_or_404(get_session(), project_id, include_private=True)
    error = None
    if request.method == "POST":
        form = request.form
        try:
            add_restriction(
                get_session(),
                project,
                kind=form.get("kind", ""),
                starts_on=parse_day(form.get("starts_on"), "starts_on"),
                ends_on=parse_day(form.get("ends_on"), "ends_on"),
                description=form.get("description", ""),
            )
        except BadInput as exc:
            error = refusal_text(exc)
        else:
            return redirect(url_for(".project_restrictions", project_id=project.id), code=303)
    html = render_template(
        "near/restrictions.html",
        project=project,
        restrictions=_restrictions(project),
        kinds=RESTRICTION_KINDS,
        today=today_jst(),
        error=error,
        form=request.form,
    )
    return html, 400 if error else 200


@bp.post("/restrictions/<int:restriction_id>/end")
@roles_required("staff", "admin")
def end(restriction_id: int):
    """Lift a restriction now."""
    restriction = get_session().get(TrafficRestriction, restriction_id)
    if restriction is None:
        abort(404, description=_("この規制は見つかりません"))
    end_restriction(get_session(), restriction)
    return redirect(url_for(".project_restrictions", project_id=restriction.project_id), code=303)
