"""Create and edit projects (staff and admins): the form, the drawing map, stale-save checks."""

import json
from typing import Any

from flask import Blueprint, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

# SelectChoice came in WTForms 3.3; types-WTForms does not have it yet.
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]

from tracker.accounts.access import current_user, roles_required
from tracker.accounts.departments import department_refusal, may_change_works_of
from tracker.accounts.models import Department
from tracker.core.db import get_session
from tracker.core.errors import BadInput
from tracker.core.translate import gettext as _
from tracker.editing.details import detail_fields, sent_details
from tracker.editing.forms import ProjectForm
from tracker.editing.map import build_editor_map
from tracker.facilities.models import Facility
from tracker.geo.geometry import GeometryRefused, parse_geometry, to_geojson
from tracker.maps.city_map import render_parts
from tracker.maps.page_data import city_boundary_geojson, map_labels, static_url
from tracker.plan.models import PlanItem
from tracker.plan.queries import names_by_code
from tracker.projects.departments import WithdrawnWork, usable_departments
from tracker.projects.models import Project
from tracker.projects.operations import (
    AUDITED_FIELDS,
    StaleEdit,
    create_project,
    project_values,
    update_project,
)
from tracker.projects.queries import project_or_404
from tracker.serving.assets import vendor_url
from tracker.serving.input_guards import MAX_DB_INTEGER
from tracker.words.i18n import refusal_text
from tracker.words.vocab import KINDS, STATUSES, field_label, field_value

bp = Blueprint(
    "editing",
    __name__,
    static_folder="static",
    static_url_path="/static/editing",
)

EDITORS = ("admin", "staff")


@bp.route("/projects/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def new_project() -> ResponseReturnValue:
    """Show the empty project form, and create the project from it."""
    form = ProjectForm()
    catalogue = _fill_choices(form, department=None)
    problem = None
    if form.validate_on_submit():
        try:
            geometry = parse_geometry(form.geometry.data)
            project = create_project(
                get_session(),
                name=form.name.data or "",
                kind=form.kind.data,
                geometry=geometry,
                department=form.department.data or "",
                status=form.status.data,
                progress=form.progress.data or 0,  # InputRequired: a number by now
                planned_start=form.planned_start.data,
                planned_end=form.planned_end.data,
                actual_start=form.actual_start.data,
                actual_end=form.actual_end.data,
                is_public=bool(form.public.data),
                description=form.description.data or "",
                plan_item_codes=form.plan_items.data or [],
                indicator_codes=form.indicators.data or [],
                facility_id=int(form.facility_id.data) if form.facility_id.data else None,
                details=sent_details(form.kind.data),
                user=current_user(),
                **form.register(),
            )
        except BadInput as exc:
            problem = exc
        else:
            return redirect(url_for("web.project_page", project_id=project.id))
    return _render(form, catalogue, project=None, problem=problem)


@bp.route("/projects/<int:project_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit_project(project_id: int) -> ResponseReturnValue:
    """Show a project's form, and save it unless someone else saved in between."""
    session = get_session()
    # A withdrawn work's form opens, saying that saving waits for it to be restored.
    project = project_or_404(
        session, project_id, include_private=True, include_withdrawn=True, lock=True
    )
    current = project_values(project)
    form = ProjectForm()
    # Status and progress change through status updates, which keep their own history.
    del form.status, form.progress
    catalogue = _fill_choices(form, department=project.department)
    if not form.is_submitted():
        _load(form, project, current)
        return _render(form, catalogue, project=project)

    problem = conflicts = None
    if form.validate():
        try:
            geometry = parse_geometry(form.geometry.data)
            update_project(
                session,
                project,
                form.changes(geometry) | {"details": sent_details(form.kind.data)},
                expected_version=_int(form.version.data),
                user=current_user(),
            )
        except StaleEdit:
            conflicts = _conflicts(form, current)
            # The form now stands on the stored version: saving again is a deliberate
            # choice made after seeing what changed, not a silent overwrite.
            form.version.data = str(project.version)
            form.loaded.data = json.dumps(current, ensure_ascii=False)
        except BadInput as exc:
            problem = exc
        else:
            return redirect(url_for("web.project_page", project_id=project.id))
    return _render(form, catalogue, project=project, problem=problem, conflicts=conflicts)


def _int(value: Any) -> int:
    # A version the form cannot have been loaded at (garbage, or too large for the
    # database) is stale: the person sees what is stored now.
    try:
        number = int(value)
    except (TypeError, ValueError):
        return -1
    return number if 0 <= number <= MAX_DB_INTEGER else -1


def _load(form: ProjectForm, project: Project, values: dict) -> None:
    for name in ("name", "kind", "planned_start", "planned_end", "actual_start", "actual_end"):
        form[name].data = getattr(project, name)
    form.department.data = project.department
    form.public.data = project.is_public
    form.description.data = project.description
    form.geometry.data = json.dumps(values["geometry"])
    form.plan_items.data = values["plan_items"]
    form.indicators.data = values["indicators"]
    form.facility_id.data = str(project.facility_id or "")
    form.load_register(project)
    form.version.data = str(project.version)
    form.loaded.data = json.dumps(values, ensure_ascii=False)


def _conflicts(form: ProjectForm, current: dict) -> list[dict]:
    """Return the fields someone else changed since the form was loaded: theirs and yours."""
    try:
        loaded = json.loads(form.loaded.data or "{}")
    except ValueError:
        loaded = {}
    yours = (
        {name: form[name].data for name in ("name", "kind", "planned_start", "planned_end")}
        | {
            "actual_start": form.actual_start.data,
            "actual_end": form.actual_end.data,
            "department": form.department.data,
            "public": bool(form.public.data),
            "description": form.description.data or "",
            "plan_items": sorted(form.plan_items.data or []),
            "indicators": sorted(form.indicators.data or []),
            "facility_id": int(form.facility_id.data) if form.facility_id.data else None,
            "geometry": None,
            "details": sent_details(form.kind.data),
        }
        | form.register()
    )
    rows = []
    names = names_by_code(get_session())
    for field in AUDITED_FIELDS:
        if field in loaded and loaded[field] == current[field]:
            continue
        rows.append(
            {
                "label": field_label(field),
                "theirs": field_value(field, current[field], names),
                "yours": field_value(field, yours[field], names) if field in yours else "—",
                "before": field_value(field, loaded.get(field), names) if field in loaded else "—",
            }
        )
    return rows


def _fill_choices(form: ProjectForm, *, department: str | None) -> list[dict]:
    """Give the department and plan-link fields their choices; return the measures to group
    the plan links by. `department` is the work's own, offered even when the person may not
    give it (the save is then refused, saying who may) or it is not in the departments table."""
    session = get_session()
    user = current_user()
    known = list(session.scalars(select(Department.name).order_by(Department.name)))
    usable = usable_departments(user, known) if user is not None else []
    if department is not None and department not in usable:
        usable = [department, *usable]
    # Department names are data: marked Japanese on an English page too.
    form.department.choices = [
        SelectChoice(name, name, render_kw={"lang": "ja"}) for name in usable
    ]
    items = session.scalars(select(PlanItem)).all()
    by_parent: dict[int | None, list[PlanItem]] = {}
    for item in items:
        by_parent.setdefault(item.parent_id, []).append(item)
    for children in by_parent.values():
        # Initiatives first, then 施策, each in the plan's order.
        children.sort(key=lambda i: (i.level != "initiative", i.number))
    catalogue = []
    plan_choices, indicator_choices = [], []
    for policy in sorted(by_parent.get(None, []), key=lambda i: i.number):
        for measure in sorted(by_parent.get(policy.id, []), key=lambda i: i.number):
            children = by_parent.get(measure.id, [])
            catalogue.append(
                {
                    "policy": policy,
                    "measure": measure,
                    "items": children,
                    "indicators": list(measure.indicators),
                }
            )
            plan_choices += [SelectChoice(i.code, i.name) for i in (measure, *children)]
            indicator_choices += [SelectChoice(i.code, i.name) for i in measure.indicators]
    form.plan_items.choices = plan_choices
    form.indicators.choices = indicator_choices
    facilities = session.execute(
        select(Facility.id, Facility.name)
        .where(Facility.withdrawn_at.is_(None))
        .order_by(Facility.name, Facility.id)
    )
    form.facility_id.choices = [SelectChoice("", _("（なし）"))] + [
        # Facility names are data: marked Japanese on an English page too.
        SelectChoice(str(facility_id), name, render_kw={"lang": "ja"})
        for facility_id, name in facilities
    ]
    return catalogue


def _render(
    form: ProjectForm,
    catalogue: list[dict],
    *,
    project: Project | None,
    problem: BadInput | None = None,
    conflicts: list[dict] | None = None,
) -> ResponseReturnValue:
    """Render the form page; 400 when something was refused, 409 on a stale save."""
    repaired = location = None
    message = refusal_text(problem) if problem is not None else None
    # A work of another department says at once who may change it (saving is refused).
    user = current_user()
    notice = None
    if project is not None and project.withdrawn_at is not None:
        notice = WithdrawnWork().text
    elif (
        project is not None
        and user is not None
        and not may_change_works_of(user, project.department)
    ):
        notice = department_refusal(user, project.department)
    if isinstance(problem, GeometryRefused):
        message = problem.text
        if problem.repaired is not None:
            repaired = to_geojson(problem.repaired)
        location = problem.location
    try:
        shown = parse_geometry(form.geometry.data)
        geometry = to_geojson(shown)
    except GeometryRefused:
        geometry = None
    m = build_editor_map(
        boundary=city_boundary_geojson(),
        geometry=geometry,
        repaired=repaired,
        problem_at=location,
        textarea_id="geometry",
        vendor_url=vendor_url,
        static_url=static_url,
        editor_js_url=url_for("editing.static", filename="project_editor.js"),
        labels=map_labels(),
    )
    if conflicts is not None:
        status = 409
    elif problem is not None:
        status = problem.status
    elif form.errors:
        status = 400
    else:
        status = 200
    return (
        render_template(
            "editing/project_form.html",
            form=form,
            project=project,
            catalogue=catalogue,
            map=render_parts(m),
            message=message,
            notice=notice,
            repaired=repaired,
            conflicts=conflicts,
            statuses=STATUSES,
            detail_fields=detail_fields(
                form.kind.data or next(iter(KINDS)),
                project.details if project is not None else {},
                sent=form.is_submitted(),
            ),
        ),
        status,
    )
