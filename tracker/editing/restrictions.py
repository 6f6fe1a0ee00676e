"""Staff add, change and lift the traffic restrictions of a project: draw the closed section
and the detour on a map, or paste them as GeoJSON or WKT."""

import json
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select

from tracker.accounts.access import current_user, roles_required
from tracker.core import clock
from tracker.core.db import get_session
from tracker.core.errors import BadInput
from tracker.core.translate import gettext as _
from tracker.editing.map import build_restriction_map
from tracker.geo.geometry import GeometryRefused, parse_geometry, to_geojson
from tracker.maps.city_map import render_parts
from tracker.maps.page_data import city_boundary_geojson, map_labels, static_url
from tracker.projects.models import Project
from tracker.projects.queries import project_feature, project_or_404
from tracker.restrictions.models import TrafficRestriction
from tracker.restrictions.operations import (
    StaleRestriction,
    add_restriction,
    change_restriction,
    end_restriction,
    restriction_values,
)
from tracker.restrictions.wording import hours_label
from tracker.serving.assets import vendor_url
from tracker.serving.input_guards import MAX_DB_INTEGER
from tracker.words.formatting import parse_day
from tracker.words.vocab import RESTRICTION_DAYS, RESTRICTION_KINDS, restriction_field_label

bp = Blueprint("restrictions", __name__)

EDITORS = ("staff", "admin")


def _restrictions(project_id: int) -> list[TrafficRestriction]:
    return list(
        get_session().scalars(
            select(TrafficRestriction)
            .where(TrafficRestriction.project_id == project_id)
            .order_by(TrafficRestriction.starts_on.desc(), TrafficRestriction.id.desc())
        )
    )


def _geometry(raw: str | None) -> BaseGeometry | None:
    return parse_geometry(raw) if raw and raw.strip() else None


def _read_form(form: Mapping[str, str]) -> dict:
    """Return the restriction fields a form sent (dates and lines parsed, the rest as text)."""
    return {
        "kind": form.get("kind", ""),
        "starts_on": parse_day(form.get("starts_on"), "starts_on"),
        "ends_on": parse_day(form.get("ends_on"), "ends_on"),
        "days": form.get("days") or "every_day",
        "time_from": form.get("time_from", ""),
        "time_until": form.get("time_until", ""),
        "description": form.get("description", ""),
        "reason": form.get("reason", ""),
        "contact": form.get("contact", ""),
        "section": _geometry(form.get("section")),
        "detour": _geometry(form.get("detour")),
    }


def _refusal(error: BadInput) -> str:
    """Say why in the reader's language, without the field's internal name."""
    return error.text


def _form_values(
    restriction: TrafficRestriction | None, form: Mapping[str, str] | None
) -> Mapping[str, Any]:
    """Return what the form shows: what was sent, else the stored restriction, else defaults."""
    if form:
        return form
    if restriction is None:
        return {"starts_on": clock.today().isoformat(), "days": "every_day"}
    values = restriction_values(restriction)
    shown = {
        field: "" if values[field] is None else str(values[field])
        for field in ("kind", "starts_on", "ends_on", "days", "description", "reason", "contact")
    }
    for field in ("time_from", "time_until"):
        shown[field] = values[field].strftime("%H:%M") if values[field] else ""
    for field in ("section", "detour"):
        shown[field] = json.dumps(to_geojson(values[field])) if values[field] is not None else ""
    shown["version"] = str(restriction.version)
    return shown


def _shown_line(raw: str | None) -> dict | None:
    try:
        shape = _geometry(raw)
    except GeometryRefused:
        return None
    return to_geojson(shape) if shape is not None else None


def _render(
    project: Project,
    *,
    restriction: TrafficRestriction | None = None,
    error: str | None = None,
    stale: list[str] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    # A stale save shows what is stored now; any other refusal keeps what was typed.
    form = _form_values(restriction, None if stale is not None else request.form)
    session = get_session()
    feature_text = project_feature(session, project.id, include_private=True)
    if feature_text is None:
        abort(404)
    feature = json.loads(feature_text)
    m = build_restriction_map(
        boundary=city_boundary_geojson(),
        project_geometry=feature["geometry"],
        section=_shown_line(form.get("section")),
        detour=_shown_line(form.get("detour")),
        vendor_url=vendor_url,
        static_url=static_url,
        editor_js_url=url_for("editing.static", filename="restriction_editor.js"),
        project_editor_js_url=url_for("editing.static", filename="project_editor.js"),
        labels=map_labels(),
    )
    html = render_template(
        "near/restrictions.html",
        project=project,
        restriction=restriction,
        restrictions=_restrictions(project.id),
        kinds=RESTRICTION_KINDS,
        days=RESTRICTION_DAYS,
        hours_label=hours_label,
        today=clock.today(),
        now=clock.now(),
        error=error,
        stale=stale,
        form=form,
        map=render_parts(m),
    )
    return html, status


@bp.route("/projects/<int:project_id>/restrictions", methods=["GET", "POST"])
@roles_required(*EDITORS)
def project_restrictions(project_id: int) -> ResponseReturnValue:
    """List a project's traffic restrictions and add one."""
    session = get_session()
    project = project_or_404(session, project_id, include_private=True)
    if request.method == "POST":
        try:
            add_restriction(session, project, user=current_user(), **_read_form(request.form))
        except BadInput as exc:
            return _render(project, error=_refusal(exc), status=exc.status)
        return redirect(url_for(".project_restrictions", project_id=project.id), code=303)
    return _render(project)


@bp.route("/restrictions/<int:restriction_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit(restriction_id: int) -> ResponseReturnValue:
    """Change a restriction, unless someone else changed it since the form was opened."""
    session = get_session()
    restriction = _restriction_or_404(restriction_id, lock=request.method == "POST")
    project = restriction.project
    if request.method == "POST":
        try:
            change_restriction(
                session,
                restriction,
                _read_form(request.form),
                expected_version=_version(request.form.get("version")),
                user=current_user(),
            )
        except StaleRestriction as stale:
            names = [restriction_field_label(f) for f in stale.changed_fields]
            return _render(project, restriction=restriction, stale=names, status=409)
        except BadInput as exc:
            return _render(project, restriction=restriction, error=_refusal(exc), status=exc.status)
        return redirect(url_for(".project_restrictions", project_id=project.id), code=303)
    return _render(project, restriction=restriction)


@bp.post("/restrictions/<int:restriction_id>/end")
@roles_required(*EDITORS)
def end(restriction_id: int) -> ResponseReturnValue:
    """Lift a restriction now."""
    restriction = _restriction_or_404(restriction_id, lock=True)
    try:
        end_restriction(get_session(), restriction, user=current_user())
    except BadInput as exc:
        return _render(restriction.project, error=_refusal(exc), status=exc.status)
    return redirect(url_for(".project_restrictions", project_id=restriction.project_id), code=303)


def _restriction_or_404(restriction_id: int, *, lock: bool = False) -> TrafficRestriction:
    query = select(TrafficRestriction).where(TrafficRestriction.id == restriction_id)
    if lock:
        # Held until the request ends: two saves of one version cannot both pass.
        query = query.with_for_update().execution_options(populate_existing=True)
    restriction = get_session().scalar(query)
    if restriction is None:
        abort(404, description=_("この規制は見つかりません"))
    return restriction


def _version(raw: Any) -> int:
    try:
        number = int(raw)
    except (TypeError, ValueError):
        return -1
    return number if 0 <= number <= MAX_DB_INTEGER else -1
