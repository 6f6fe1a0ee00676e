"""The residents' side: the /report form (no account, no JavaScript needed), the public
map and list of accepted reports, a report's own page, its photos, and the reporter's
confirm and unsubscribe links.

The public never sees a reporter's address, and sees a report's text, photos and place only
once staff have accepted it; a report's own page otherwise shows its category, its state
and the city's answer, which is what its reporter needs.
"""

import hashlib
import json
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from tracker.accounts.access import current_user
from tracker.accounts.security import csrf
from tracker.city.places import find_place, start_places
from tracker.core.db import get_session
from tracker.core.errors import BadInput
from tracker.core.translate import gettext as _
from tracker.maps.city_map import ASO_CENTER, BASE_LAYERS, MAX_ZOOM
from tracker.maps.page_data import map_labels
from tracker.reports import queries
from tracker.reports.links import nonce_matches, read_link_token
from tracker.reports.models import (
    STATE_COLOURS,
    STATES,
    Report,
    ReportCategory,
    ReportPhoto,
)
from tracker.reports.operations import (
    LIMITS,
    NewReport,
    confirm_address,
    create_report,
    forget_address,
    keyed,
    possible_duplicates,
)
from tracker.reports.photos import MAX_PHOTOS, clean_photo
from tracker.serving.assets import vendor_url

bp = Blueprint("reports", __name__, static_folder="static", static_url_path="/reports-static")


@bp.context_processor
def _page_helpers() -> dict:
    return {"vendor_url": vendor_url}


DEVICE_COOKIE = "report_device"
DEVICE_COOKIE_MAX_AGE = 400 * 86400


def _lang() -> str:
    return str(get_locale())


def categories(session: Session) -> list[ReportCategory]:
    """Return the categories offered, in their order."""
    return list(
        session.scalars(
            select(ReportCategory)
            .where(ReportCategory.active.is_(True))
            .order_by(ReportCategory.position, ReportCategory.code)
        )
    )


def map_config(**extra: Any) -> dict:
    """Return what the report scripts need to draw a map; names travel as data."""
    labels = map_labels()
    _name, tileset, ext = BASE_LAYERS[0]
    return {
        "center": list(ASO_CENTER),
        "tiles": f"https://cyberjapandata.gsi.go.jp/xyz/{tileset}/{{z}}/{{x}}/{{y}}.{ext}",
        "attribution": labels["attribution"],
        "attributionPrefix": labels["attribution_prefix"],
        "zoom": labels["zoom"],
        "maxZoom": MAX_ZOOM,
        "colours": STATE_COLOURS,
        **extra,
    }


def _device() -> tuple[str, bool]:
    """Return this browser's device id (from its cookie), and whether it is new."""
    value = request.cookies.get(DEVICE_COOKIE, "")
    if len(value) == 32 and value.isalnum():
        return value, False
    return secrets.token_hex(16), True


def _with_device(response: BaseResponse, device: str, new: bool) -> BaseResponse:
    if new:
        response.set_cookie(
            DEVICE_COOKIE,
            device,
            max_age=DEVICE_COOKIE_MAX_AGE,
            httponly=True,
            samesite="Lax",
            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        )
    return response


def _made_at(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadInput(_("作成時刻を読み取れません"), field="made_at") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def read_form(session: Session, values: Any, files: Any) -> NewReport:
    """Build a report from the form's fields and files (a named place when no point came)."""
    lon, lat = values.get("lon") or None, values.get("lat") or None
    place_key = values.get("place") or None
    if (lon is None or lat is None) and place_key:
        place = find_place(session, place_key)
        if place is None:
            raise BadInput(_("場所を一覧から選んでください"), field="place")
        lon, lat = place.lon, place.lat
    uploads = [f for f in files.getlist("photos") if f and f.filename]
    if len(uploads) > MAX_PHOTOS:
        raise BadInput(
            _("写真は%(n)d枚までです（%(given)d枚あります）", n=MAX_PHOTOS, given=len(uploads)),
            field="photos",
            code="too_many_photos",
        )
    photos = [clean_photo(f.read(), f.filename or "", f.mimetype or "") for f in uploads]
    same_as = values.get("same_as")
    return NewReport(
        category=values.get("category", ""),
        lon=lon,
        lat=lat,
        description=values.get("description", ""),
        email=values.get("email", ""),
        lang=values.get("lang") or _lang(),
        place_key=place_key,
        made_at=_made_at(values.get("made_at")),
        client_id=values.get("client_id") or None,
        photos=photos,
        same_as=int(same_as) if same_as and same_as.isdigit() else None,
    )


def _form_page(status: int = 200, **context: Any) -> tuple[str, int]:
    return _form_html(**context), status


def _form_html(**context: Any) -> str:
    session = get_session()
    values = context.pop("values", None) or request.values
    return render_template(
        "reports/report.html",
        lang=_lang(),
        categories=categories(session),
        places=start_places(session),
        values=values,
        max_photos=MAX_PHOTOS,
        limits=LIMITS,
        config=map_config(
            sendUrl=url_for("reports.send"),
            serviceWorker=url_for("reports.service_worker"),
            scope=url_for("reports.report_page"),
            similarUrl=url_for("reports.similar"),
            text={
                "locating": _("現在地を調べています…"),
                "noLocation": _(
                    "現在地がわかりませんでした。地図をタップするか、地名を選んでください。"
                ),
                "queued": _(
                    "電波がないため、この通報はこの端末に保存しました。電波が戻ると自動で送ります。"
                ),
                "sent": _("通報を受け付けました。受付番号: "),
                "waiting": _("送信待ちの通報: "),
                "same": _("同じものです（写真を追加）"),
                "nearby": _(
                    "近くに同じ種類の通報があります。同じものなら、そちらに写真を追加できます。"
                ),
            },
        ),
        **context,
    )


# What the report page needs to open without signal (the map tiles excepted).
OFFLINE_ASSETS = (
    ("static", "css/site.css"),
    ("editing.static", "forms.css"),
    ("reports.static", "reports.css"),
    ("reports.static", "report.js"),
)
VENDOR_ASSETS = ("leaflet/dist/leaflet.css", "leaflet/dist/leaflet.js")
SW_SCRIPT = Path(__file__).parent / "static" / "report_sw.js"


@bp.get("/report-sw.js")
def service_worker() -> ResponseReturnValue:
    """Serve the report page's service worker (scope /report), with the assets it keeps."""
    assets = [url_for(endpoint, filename=name) for endpoint, name in OFFLINE_ASSETS]
    assets += [vendor_url(path) for path in VENDOR_ASSETS]
    script = SW_SCRIPT.read_text(encoding="utf-8")
    version = hashlib.sha256("\n".join([*assets, script]).encode()).hexdigest()[:12]
    config = {"version": version, "page": url_for("reports.report_page"), "precache": assets}
    response = Response(f"self.ASO_REPORT_SW = {json.dumps(config)};\n{script}")
    response.mimetype = "application/javascript"
    # Browsers check for a new worker on each visit; an old cached one would pin old assets.
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/report")
def report_page() -> ResponseReturnValue:
    """The form a resident reports damage with."""
    return _form_page()


@bp.post("/report")
def report_post() -> ResponseReturnValue:
    """Take a report from the plain form: refusals in words, a likely duplicate shown first."""
    session = get_session()
    device, new_device = _device()
    try:
        report_in = read_form(session, request.form, request.files)
        if report_in.same_as is None and not request.form.get("new_anyway"):
            category = session.get(ReportCategory, report_in.category)
            if category is not None and report_in.lon is not None and report_in.lat is not None:
                try:
                    similar = possible_duplicates(
                        session, category.code, float(report_in.lon), float(report_in.lat)
                    )
                except (TypeError, ValueError):
                    similar = []
                if similar:
                    return _form_page(200, similar=similar, reselect_photos=bool(report_in.photos))
        report = create_report(
            session,
            report_in,
            device_key=keyed("device", device),
            client_key=keyed("address", request.remote_addr or "unknown"),
        )
    except BadInput as error:
        session.rollback()
        page = Response(_form_html(error=error), error.status)
        return _with_device(page, device, new_device)
    response = redirect(url_for("reports.thanks", report_id=report.id), code=303)
    return _with_device(response, device, new_device)


@bp.post("/report/send")
@csrf.exempt  # anonymous, no authority to forge; sent from the phone's outbox, maybe hours later
def send() -> ResponseReturnValue:
    """Take a report from the page's script (at once, or later from the phone's outbox):
    201 with its number, or the refusal in words as JSON."""
    session = get_session()
    device, new_device = _device()
    try:
        report = create_report(
            session,
            read_form(session, request.form, request.files),
            device_key=keyed("device", device),
            client_key=keyed("address", request.remote_addr or "unknown"),
        )
    except BadInput as error:
        session.rollback()
        body: dict[str, Any] = {"error": error.text, "field": error.field, "code": error.code}
        return _with_device(jsonify(body), device, new_device), error.status
    body = {
        "id": report.id,
        "made_at": report.made_at.isoformat(),
        "received_at": report.received_at.isoformat(),
        "url": url_for("reports.thanks", report_id=report.id),
    }
    return _with_device(jsonify(body), device, new_device), 201


@bp.get("/report/similar")
def similar() -> ResponseReturnValue:
    """Reports of a category within 50 m from the last 14 days: public words only."""
    session = get_session()
    try:
        lon, lat = float(request.args["lon"]), float(request.args["lat"])
    except (KeyError, ValueError):
        return jsonify([])
    found = possible_duplicates(session, request.args.get("category", ""), lon, lat)
    return jsonify([queries.public_summary(r, _lang()) for r in found])


@bp.get("/report/thanks/<int:report_id>")
def thanks(report_id: int) -> ResponseReturnValue:
    """Say the report arrived, with its number and what happens next."""
    report = get_session().get(Report, report_id)
    if report is None:
        abort(404)
    return render_template("reports/thanks.html", report=report, lang=_lang())


@bp.get("/reports")
def public_list() -> ResponseReturnValue:
    """Accepted reports on a map and in a list, newest first."""
    session = get_session()
    reports = queries.public_reports(session, state=request.args.get("state") or None)
    lang = _lang()
    return render_template(
        "reports/list.html",
        reports=reports,
        lang=lang,
        states=STATES,
        state=request.args.get("state") or "",
        config=map_config(points=[queries.public_summary(r, lang) for r in reports]),
    )


@bp.get("/reports/<int:report_id>")
def public_report(report_id: int) -> ResponseReturnValue:
    """One report: state, category, the city's answer; text, photos and place once accepted."""
    session = get_session()
    report = session.get(Report, report_id)
    if report is None:
        abort(404)
    lang = _lang()
    return render_template(
        "reports/detail.html",
        report=report,
        lang=lang,
        history=queries.public_history(session, report),
        point=queries.lon_lat(session, report) if report.is_public else None,
        config=map_config(
            points=[queries.public_summary(report, lang)] if report.is_public else []
        ),
    )


@bp.get("/reports/photos/<int:photo_id>/<any(display, thumb):variant>")
def photo(photo_id: int, variant: str) -> ResponseReturnValue:
    """A report's photo, re-encoded without metadata: public once accepted, staff always."""
    session = get_session()
    found = session.get(ReportPhoto, photo_id)
    if found is None:
        abort(404)
    user = current_user()
    staff = user is not None and user.role in ("staff", "admin")
    if not (found.report.is_public or staff):
        abort(404)
    data = found.data if variant == "display" else found.thumb
    mimetype = found.content_type if variant == "display" else "image/jpeg"
    response = Response(data, mimetype=mimetype)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.cache_control.max_age = 3600
    if found.report.is_public:
        response.cache_control.public = True
    else:
        response.cache_control.private = True
    return response


def _report_by_token(purpose: str, token: str) -> Report:
    report_id = read_link_token(purpose, token)
    report = get_session().get(Report, report_id) if report_id is not None else None
    if (
        report is None
        or report.email is None
        or not nonce_matches(token, purpose, report.link_nonce)
    ):
        abort(
            404,
            description=_("このリンクは使えません。期限が切れたか、アドレスが削除されています。"),
        )
    return report


@bp.route("/reports/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str) -> ResponseReturnValue:
    """The link of the confirmation mail: a page whose button confirms the address."""
    report = _report_by_token("confirm", token)
    if request.method == "POST":
        confirm_address(get_session(), report)
        return render_template("reports/notice.html", kind="confirmed", report=report)
    return render_template("reports/notice.html", kind="confirm", report=report, token=token)


@bp.route("/reports/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: the mail program posts with no cookie; the signed token is the key
def unsubscribe(token: str) -> ResponseReturnValue:
    """Forget the reporter's address: a page with a button, or the mail program's one POST."""
    report = _report_by_token("unsubscribe", token)
    if request.method == "POST":
        forget_address(get_session(), report)
        return render_template("reports/notice.html", kind="unsubscribed", report=report)
    return render_template("reports/notice.html", kind="unsubscribe", report=report, token=token)


def nearby_reports(lat: float, lon: float, radius_m: int) -> list[dict]:
    """The accepted reports within a circle, nearest first (for /near, as a template global)."""
    return [
        queries.public_summary(r, _lang())
        for r in queries.public_reports_near(get_session(), lon, lat, radius_m)
    ]


def init_app(app: Any) -> None:
    """Register the blueprints, the template globals and the follower of works' status."""
    from tracker.projects.history import STATUS_FOLLOWERS
    from tracker.reports import cli, open311, staff
    from tracker.reports.operations import follow_project_status

    app.register_blueprint(bp)
    app.register_blueprint(staff.bp)
    app.register_blueprint(open311.bp)
    cli.init_app(app)
    app.add_template_global(nearby_reports, "nearby_reports")
    app.add_template_global(STATES, "report_states")
    app.add_template_global(STATE_COLOURS, "report_state_colours")
    if follow_project_status not in STATUS_FOLLOWERS:
        STATUS_FOLLOWERS.append(follow_project_status)
