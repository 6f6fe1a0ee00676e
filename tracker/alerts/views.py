"""Residents subscribe, confirm, change and delete e-mail alerts; admins see the counts.

No account is needed: the signed links in each mail stand for the address (one per purpose:
tracker.alerts.tokens). Every answer to a subscription request, or to a request for a new
manage link, is the same whether or not the address is known.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from shapely.geometry import Point
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from tracker.accounts.access import roles_required
from tracker.accounts.security import csrf
from tracker.alerts import retrying, stats
from tracker.alerts.models import FREQUENCIES, TOPICS, AlertSubscription
from tracker.alerts.operations import (
    CONFIRM_WITHIN,
    Target,
    TooManyRequests,
    change_subscription,
    check_choices,
    check_email,
    check_radius,
    confirm_subscription,
    delete_subscriptions,
    request_manage_link,
    request_subscription,
)
from tracker.alerts.tokens import (
    LIFETIMES,
    Link,
    Purpose,
    legacy_subscription_id,
    nonce_matches,
    read_token,
    token_for,
)
from tracker.city.places import RADIUS_CHOICES, find_place, start_places
from tracker.core import clock
from tracker.core.db import get_session
from tracker.core.errors import BadInput
from tracker.core.translate import gettext as _
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


def _not_found() -> NoReturn:
    abort(404, description=_("この登録は見つかりません。削除されたか、期限が切れています。"))


def _row(link: Link | None) -> AlertSubscription | None:
    """Return the subscription a link names, if that very row still exists."""
    if link is None:
        return None
    sub = get_session().get(AlertSubscription, link.subscription_id)
    return sub if sub is not None and nonce_matches(link, sub.link_nonce) else None


def _manage_url(sub: AlertSubscription, done: str | None = None) -> str:
    """Return the manage page with a link made now (after proving one holds a mail)."""
    if done is None:
        return url_for(".manage", token=token_for("manage", sub))
    return url_for(".manage", token=token_for("manage", sub), done=done)


def _link_expired(token: str) -> ResponseReturnValue:
    """Say the link has expired and offer a new one by mail."""
    lifetime = LIFETIMES["manage"]
    days = lifetime.days if lifetime else 0
    return _page("alerts/notice.html", 410, kind="link_expired", token=token, days=days)


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
    now = clock.now()
    link = read_token("confirm", token)
    if link is not None:
        sub, fresh = _row(link), link.is_fresh(now)
    else:
        legacy_id = legacy_subscription_id(token)
        if legacy_id is None:
            _not_found()
        # A link mailed before links had purposes: the old rule, 48 hours from the request.
        sub = session.get(AlertSubscription, legacy_id)
        fresh = sub is not None and sub.created_at >= now - CONFIRM_WITHIN
    if not fresh:
        if sub is not None and sub.confirmed_at is not None:
            return _link_expired(token)
        return _page("alerts/notice.html", 410, kind="expired")
    if sub is None:
        _not_found()
    if sub.confirmed_at is not None:
        return redirect(_manage_url(sub), code=303)
    if request.method == "POST":
        confirm_subscription(session, sub)
        return redirect(_manage_url(sub, done="confirmed"), code=303)
    return _page(
        "alerts/confirm.html", sub=sub, token=token, topics=TOPICS, frequencies=FREQUENCIES,
        **_describe(sub),
    )  # fmt: skip


@bp.route("/alerts/manage/<token>", methods=["GET", "POST"])
def manage(token: str) -> ResponseReturnValue:
    """Show a subscription and change what it hears about, how often and in which language."""
    session = get_session()
    link = read_token("manage", token)
    if link is None:
        if legacy_subscription_id(token) is None:
            _not_found()
        # Links from before purposes no longer open the settings; a new one is a click away.
        return _link_expired(token)
    if not link.is_fresh(clock.now()):
        return _link_expired(token)
    sub = _row(link)
    if sub is None or sub.confirmed_at is None:
        _not_found()
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
        unsubscribe_token=token_for("unsubscribe", sub),
        error=error,
        done=request.args.get("done"),
        topics=TOPICS,
        frequencies=FREQUENCIES,
        **_describe(sub),
    )


def _subscription_behind(token: str) -> AlertSubscription | None:
    """Return the subscription any of our links names (expired or not), None when it is gone;
    404 when the token is none of ours."""
    purposes: tuple[Purpose, ...] = ("manage", "unsubscribe", "confirm")
    for purpose in purposes:
        link = read_token(purpose, token)
        if link is not None:
            return _row(link)
    legacy_id = legacy_subscription_id(token)
    if legacy_id is None:
        _not_found()
    return get_session().get(AlertSubscription, legacy_id)


@bp.post("/alerts/links/<token>")
def new_manage_link(token: str) -> ResponseReturnValue:
    """Mail a new manage link to the subscription's own address; answer the same whatever
    happens (gone, unconfirmed, over the address's limit, or mailed)."""
    sub = _subscription_behind(token)
    try:
        request_manage_link(get_session(), sub, client=request.remote_addr or "unknown")
    except TooManyRequests:
        html, _status = _page("alerts/notice.html", kind="too_many")
        return html, 429, {"Retry-After": "3600"}
    return redirect(url_for(".link_sent"), code=303)


@bp.get("/alerts/link-sent")
def link_sent() -> ResponseReturnValue:
    """Say a new link is on its way, if the subscription still exists."""
    return _page("alerts/notice.html", kind="link_sent")


@bp.route("/alerts/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: the mail program posts with no cookie; the signed token is the key
def unsubscribe(token: str) -> ResponseReturnValue:
    """Offer to stop the alerts; a POST with List-Unsubscribe=One-Click deletes them at once.

    Its links never expire: they work from every mail sent while the subscription exists,
    those mailed before links had purposes included."""
    if request.method == "POST" and request.form.get(ONE_CLICK[0]) != ONE_CLICK[1]:
        abort(400, description=_("配信停止の送信内容が正しくありません。"))
    s = AlertSubscription
    link = read_token("unsubscribe", token)
    where: ColumnElement[bool]
    if link is not None:
        where = (s.id == link.subscription_id) & (s.link_nonce == link.nonce)
    else:
        legacy_id = legacy_subscription_id(token)
        if legacy_id is None:
            _not_found()
        where = s.id == legacy_id
    session = get_session()
    if request.method == "GET":
        if session.scalar(select(s.id).where(where)) is None:
            _not_found()
        return _page("alerts/unsubscribe.html", token=token)
    # Deleting one that is gone already answers the same: the alerts have stopped.
    delete_subscriptions(session, where)
    return _page("alerts/notice.html", kind="unsubscribed")


@bp.get("/admin/alerts")
@roles_required("admin")
def admin_counts() -> ResponseReturnValue:
    """Show how many subscribe and how many mails went out, waited or failed, day by day."""
    return _admin_page()


def _admin_page(error: BadInput | None = None) -> ResponseReturnValue:
    session = get_session()
    return _page(
        "alerts/admin.html",
        status=error.status if error is not None else 200,
        subscriptions=stats.subscription_counts(session),
        days=stats.mails_by_day(session),
        failed=stats.failed_mails(session),
        error=error,
    )


@bp.post("/admin/alerts/failed/<int:delivery_id>/retry")
@roles_required("admin")
def retry_failed_mail(delivery_id: int) -> ResponseReturnValue:
    """Send one failed mail again with the next send-alerts run."""
    try:
        retrying.retry_failed_mail(get_session(), delivery_id)
    except BadInput as error:
        return _admin_page(error)
    flash(_("このメールを送信待ちに戻しました。次の送信で送ります"))
    return redirect(url_for("alerts.admin_counts"), code=303)


@bp.post("/admin/alerts/failed/retry")
@roles_required("admin")
def retry_failed_mails() -> ResponseReturnValue:
    """Send every failed mail again (those whose subscription still exists)."""
    done = retrying.retry_all_failed_mails(get_session())
    flash(_("送れなかったメール%(n)d通を送信待ちに戻しました。次の送信で送ります", n=done.retried))
    if done.gone:
        flash(_("登録が削除されたメール%(n)d通は送り直せません", n=done.gone))
    return redirect(url_for("alerts.admin_counts"), code=303)
