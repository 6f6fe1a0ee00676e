"""Residents subscribe, confirm, change and delete e-mail alerts; admins see the counts.

No account is needed: the secret link in each mail stands for the address. Every answer to
a subscription request is the same whether or not the address is known.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from shapely.geometry import Point
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.accounts.access import roles_required
from tracker.accounts.security import csrf
from tracker.alerts import stats
from tracker.alerts.models import FREQUENCIES, TOPICS, AlertSubscription
from tracker.alerts.operations import (
    ConfirmationExpired,
    Target,
    TooManyRequests,
    change_subscription,
    check_choices,
    check_email,
    check_radius,
    confirm_subscription,
    delete_subscriptions,
    is_expired,
    request_subscription,
)
from tracker.alerts.tokens import subscription_id_from
from tracker.city.places import RADIUS_CHOICES, find_place, start_places
from tracker.core import clock
from tracker.core.db import get_session
from tracker.core.errors import BadInput
from tracker.geo.geometry import check_lon_lat, distance_outside_city
from tracker.projects.models import Project
from tracker.projects.queries import project_or_404
from tracker.serving.input_guards import MAX_DB_INTEGER
from tracker.words.wording import distance_label

bp = Blueprint("alerts", __name__)

ONE_CLICK = ("List-Unsubscribe", "One-Click")
DEFAULT_TOPICS = ("restrictions", "start_finish")


@dataclass
class Form:
    """What the subscription form shows: the target, the choices and what was wrong."""

    project: Project | None = None
    place_key: str = ""
    lat: str = ""
    lon: str = ""
    radius: int = 1000
    email: str = ""
    topics: tuple[str, ...] = DEFAULT_TOPICS
    frequency: str = "standard"
    lang: str = "ja"
    errors: dict[str, str] = field(default_factory=dict)


def _split(error: BadInput) -> tuple[str, str]:
    """Return (field, message) of a refusal: the field it names (or "") and what is wrong."""
    return error.field or "", error.text


def _covering_radius(raw: Any) -> int:
    """Return the smallest offered radius that takes in the one /near showed (or the largest)."""
    try:
        asked = float(raw)
    except (TypeError, ValueError):
        return Form.radius
    return next((r for r in RADIUS_CHOICES if r >= asked), max(RADIUS_CHOICES))


def _read_target(session: Session, values: Mapping[str, str], form: Form) -> Target | None:
    """Fill the form's target from the values and return it checked (None when missing)."""
    if values.get("project"):
        try:
            project_id = int(values["project"])
        except ValueError:
            project_id = 0
        if not 0 < project_id <= MAX_DB_INTEGER:
            abort(404)
        form.project = project_or_404(session, project_id, include_private=False)
        return Target(project_id=form.project.id)
    try:
        raw_radius = values.get("radius", 1000)
        form.radius = check_radius(
            _covering_radius(raw_radius) if request.method == "GET" else raw_radius
        )
    except BadInput as error:
        form.errors.setdefault(*_split(error))
    if values.get("lat") or values.get("lon"):
        form.lat, form.lon = values.get("lat", ""), values.get("lon", "")
        try:
            lon, lat = check_lon_lat(float(form.lon), float(form.lat), field="place")
        except (ValueError, BadInput):
            form.errors["place"] = _(
                "地点の緯度・経度を読み取れませんでした。一覧から選んでください。"
            )
            return None
        beyond = distance_outside_city(session, Point(lon, lat))
        if beyond is not None and beyond > max(RADIUS_CHOICES):
            form.errors["place"] = _("阿蘇市から離れすぎています。市内の場所を選んでください。")
            return None
        return Target(lon=lon, lat=lat, radius_m=form.radius)
    form.place_key = values.get("place", "")
    place = find_place(session, form.place_key) if form.place_key else None
    if place is None:
        if form.place_key or request.method == "POST":
            form.errors["place"] = _("場所を一覧から選んでください。")
        return None
    return Target(lon=place.lon, lat=place.lat, radius_m=form.radius, place_key=place.key)


def _page(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template(template, lang=str(get_locale()), **context), status


@bp.route("/alerts/new", methods=["GET", "POST"])
def subscribe() -> ResponseReturnValue:
    """Offer e-mail alerts for a place or a work, and take a request for them."""
    session = get_session()
    form = Form(lang=str(get_locale()))
    values = request.form if request.method == "POST" else request.args
    target = _read_target(session, values, form)
    if request.method == "GET":
        form.errors.pop("radius", None)
        return _form_page(form, 200)
    form.email = values.get("email", "").strip()
    form.topics = tuple(values.getlist("topics"))
    form.frequency = values.get("frequency", "")
    form.lang = values.get("lang", "")
    try:
        email = check_email(form.email)
    except BadInput as error:
        form.errors.setdefault(*_split(error))
    try:
        choices = check_choices(form.topics, form.frequency, form.lang)
    except BadInput as error:
        form.errors.setdefault(*_split(error))
    if form.errors or target is None:
        return _form_page(form, 400)
    try:
        request_subscription(
            session,
            email=email,
            target=target,
            choices=choices,
            client=request.remote_addr or "unknown",
        )
    except TooManyRequests:
        html, _status = _page("alerts/notice.html", kind="too_many")
        return html, 429, {"Retry-After": "3600"}
    return redirect(url_for(".requested"), code=303)


def _form_page(form: Form, status: int) -> ResponseReturnValue:
    places = start_places(get_session())
    return _page(
        "alerts/subscribe.html",
        status,
        form=form,
        places=places,
        radii=RADIUS_CHOICES,
        topics=TOPICS,
        frequencies=FREQUENCIES,
        distance_label=distance_label,
    )


@bp.get("/alerts/requested")
def requested() -> ResponseReturnValue:
    """Say what happens next, the same for every address."""
    return _page("alerts/notice.html", kind="requested")


def _subscription_or_404(token: str) -> AlertSubscription:
    subscription_id = subscription_id_from(token)
    sub = get_session().get(AlertSubscription, subscription_id) if subscription_id else None
    if sub is None:
        abort(404, description=_("この登録は見つかりません。削除されたか、期限が切れています。"))
    return sub


def _describe(sub: AlertSubscription) -> dict:
    session = get_session()
    if sub.project_id is not None:
        project = session.get(Project, sub.project_id)
        return {"project": project, "place": None, "where": None}
    place = find_place(session, sub.place_key) if sub.place_key else None
    lat, lon = session.execute(select(func.ST_Y(sub.geom), func.ST_X(sub.geom))).one()
    if sub.radius_m is None:
        raise ValueError(f"subscription {sub.id} watches a place but has no radius")
    return {
        "project": None,
        "place": place,
        "where": (lat, lon),
        "radius": distance_label(sub.radius_m),
    }


@bp.route("/alerts/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str) -> ResponseReturnValue:
    """Show what is to be confirmed; confirm it when the button is pressed."""
    session = get_session()
    sub = _subscription_or_404(token)
    if sub.confirmed_at is not None:
        return redirect(url_for(".manage", token=token), code=303)
    if is_expired(sub, clock.now()):
        return _page("alerts/notice.html", 410, kind="expired")
    if request.method == "POST":
        try:
            confirm_subscription(session, sub)
        except ConfirmationExpired:
            return _page("alerts/notice.html", 410, kind="expired")
        return redirect(url_for(".manage", token=token, done="confirmed"), code=303)
    return _page(
        "alerts/confirm.html", sub=sub, token=token, topics=TOPICS, frequencies=FREQUENCIES,
        **_describe(sub),
    )  # fmt: skip


@bp.route("/alerts/manage/<token>", methods=["GET", "POST"])
def manage(token: str) -> ResponseReturnValue:
    """Show a subscription and change what it hears about, how often and in which language."""
    session = get_session()
    sub = _subscription_or_404(token)
    if sub.confirmed_at is None:
        return redirect(url_for(".confirm", token=token), code=303)
    error = None
    if request.method == "POST":
        try:
            choices = check_choices(
                request.form.getlist("topics"),
                request.form.get("frequency", ""),
                request.form.get("lang", ""),
            )
        except BadInput as refusal:
            error = _split(refusal)[1]
        else:
            change_subscription(session, sub, choices)
            return redirect(url_for(".manage", token=token, done="saved"), code=303)
    return _page(
        "alerts/manage.html",
        400 if error else 200,
        sub=sub,
        token=token,
        error=error,
        done=request.args.get("done"),
        topics=TOPICS,
        frequencies=FREQUENCIES,
        **_describe(sub),
    )


@bp.route("/alerts/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: the mail program posts with no cookie; the signed token is the key
def unsubscribe(token: str) -> ResponseReturnValue:
    """Offer to stop the alerts; a POST with List-Unsubscribe=One-Click deletes them at once."""
    if request.method == "GET":
        _subscription_or_404(token)
        return _page("alerts/unsubscribe.html", token=token)
    if request.form.get(ONE_CLICK[0]) != ONE_CLICK[1]:
        abort(400, description=_("配信停止の送信内容が正しくありません。"))
    subscription_id = subscription_id_from(token)
    if subscription_id is None:
        abort(404, description=_("この登録は見つかりません。削除されたか、期限が切れています。"))
    # Deleting one that is gone already answers the same: the alerts have stopped.
    delete_subscriptions(get_session(), AlertSubscription.id == subscription_id)
    return _page("alerts/notice.html", kind="unsubscribed")


@bp.get("/admin/alerts")
@roles_required("admin")
def admin_counts() -> ResponseReturnValue:
    """Show how many subscribe and how many mails went out, waited or failed, day by day."""
    session = get_session()
    return _page(
        "alerts/admin.html",
        subscriptions=stats.subscription_counts(session),
        days=stats.mails_by_day(session),
        failed=stats.failed_mails(session),
    )
