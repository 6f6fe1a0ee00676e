"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) at /open311/v2/.

discovery, services, service definitions, POST requests (with an API key staff manage at
/staff/reports/keys), GET requests with its filters and GET requests/{id}; each as .json or
.xml, UTF-8, times in ISO 8601 with their offset (Japan time). Reports filed here are
reports like any other: the same checks, limits of their own per key, the staff queue.
Like the /api, it is exempt from CSRF: a key, not a cookie, says who files.
"""

from datetime import datetime, timedelta
from typing import Any
from xml.etree import ElementTree as ET

from flask import Blueprint, Response, json, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from sqlalchemy import select

from tracker.accounts.security import csrf
from tracker.core import clock
from tracker.core.clock import JST
from tracker.core.db import get_session
from tracker.core.errors import BadInput
from tracker.core.translate import gettext as _
from tracker.reports import queries
from tracker.reports.models import (
    CLOSED_STATES,
    OPEN_STATES,
    Open311Key,
    Report,
    ReportCategory,
)
from tracker.reports.operations import API_KEY_LIMITS, NewReport, create_report, keyed
from tracker.reports.staff import key_hash
from tracker.reports.views import categories

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
csrf.exempt(bp)

FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
# GeoReport v2: without dates, the last 90 days; at most 1000 requests.
DEFAULT_WINDOW = timedelta(days=90)
MAX_REQUESTS = 1000
CHANGESET = "2026-12-14T09:00:00+09:00"
AGENCY = "阿蘇市"


def _answer(fmt: str, data: Any, root: str, item: str, status: int = 200) -> Response:
    if fmt == "json":
        body = json.dumps(data, ensure_ascii=False)
    else:
        body = ET.tostring(_xml(root, item, data), encoding="unicode", xml_declaration=False)
        body = '<?xml version="1.0" encoding="utf-8"?>\n' + body
    response = Response(body.encode("utf-8"), status=status, content_type=FORMATS[fmt])
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _xml(root: str, item: str, data: Any) -> ET.Element:
    element = ET.Element(root)
    for entry in data if isinstance(data, list) else [data]:
        child = ET.SubElement(element, item) if isinstance(data, list) else element
        _fill(child, entry)
    return element


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            if isinstance(inner, list):
                holder = ET.SubElement(element, key)
                for each in inner:
                    _fill(ET.SubElement(holder, key[:-1] if key.endswith("s") else key), each)
            else:
                _fill(ET.SubElement(element, key), inner)
    elif value is None:
        return
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    else:
        element.text = str(value)


def _error(fmt: str, status: int, description: str) -> Response:
    return _answer(fmt, [{"code": status, "description": description}], "errors", "error", status)


def _fmt(fmt: str) -> str:
    return fmt if fmt in FORMATS else "json"


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(JST).isoformat(timespec="seconds") if value else None


@bp.get("/discovery.<fmt>")
def discovery(fmt: str) -> ResponseReturnValue:
    """Where the endpoint is and what it speaks."""
    fmt = _fmt(fmt)
    data = {
        "changeset": CHANGESET,
        "contact": _("阿蘇市 建設課"),
        "key_service": _("APIキーは市の職員が発行します（/staff/reports/keys）"),
        "endpoints": [
            {
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": url_for("open311.services", fmt="json", _external=True).rsplit("/", 1)[0],
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }
        ],
    }
    return _answer(fmt, data, "discovery", "discovery")


def _service(category: ReportCategory, lang: str) -> dict:
    return {
        "service_code": category.code,
        "service_name": category.label(lang),
        "description": category.label(lang),
        "metadata": False,
        "type": "realtime",
        "keywords": "",
        "group": _("道路・河川などの損傷"),
    }


@bp.get("/services.<fmt>")
def services(fmt: str) -> ResponseReturnValue:
    """The categories a report may have."""
    fmt = _fmt(fmt)
    lang = str(get_locale())
    data = [_service(c, lang) for c in categories(get_session())]
    return _answer(fmt, data, "services", "service")


@bp.get("/services/<code>.<fmt>")
def service_definition(code: str, fmt: str) -> ResponseReturnValue:
    """A service's definition: no attributes beyond the standard fields."""
    fmt = _fmt(fmt)
    category = get_session().get(ReportCategory, code)
    if category is None or not category.active:
        return _error(fmt, 404, _("このサービスはありません: %(code)s", code=code))
    return _answer(fmt, {"service_code": code, "attributes": []}, "service_definition", "")


def _request_data(report: Report, lang: str) -> dict:
    closed = report.state in CLOSED_STATES
    data: dict[str, Any] = {
        "service_request_id": str(report.id),
        "status": "closed" if closed else "open",
        "status_notes": report.public_answer or None,
        "service_name": report.category.label(lang),
        "service_code": report.category_code,
        "description": report.description if report.is_public else None,
        "agency_responsible": AGENCY,
        "service_notice": None,
        "requested_datetime": _iso(report.made_at),
        "updated_datetime": _iso(report.state_changed_at),
        "expected_datetime": None,
        "address": None,
        "address_id": None,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": None,
    }
    if report.is_public:
        lon, lat = queries.point_of(report)
        data["lat"], data["long"] = lat, lon
        if report.photos:
            data["media_url"] = url_for(
                "reports.photo", photo_id=report.photos[0].id, variant="display", _external=True
            )
    return data


def _parse_time(raw: str, field: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadInput(
            _("日時はISO 8601で指定してください: %(value)s", value=raw), field=field
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=JST)


@bp.get("/requests.<fmt>")
def list_requests(fmt: str) -> ResponseReturnValue:
    """Requests with the filters of the specification; newest first."""
    fmt = _fmt(fmt)
    session = get_session()
    args = request.args
    query = select(Report).where(Report.duplicate_of.is_(None))
    try:
        if args.get("service_request_id"):
            ids = [int(i) for i in args["service_request_id"].split(",") if i.strip().isdigit()]
            query = query.where(Report.id.in_(ids))
        else:
            query = query.where(Report.is_public.is_(True))
            end = _parse_time(args["end_date"], "end_date") if args.get("end_date") else clock.now()
            start = (
                _parse_time(args["start_date"], "start_date")
                if args.get("start_date")
                else end - DEFAULT_WINDOW
            )
            query = query.where(Report.made_at >= start, Report.made_at <= end)
            if args.get("service_code"):
                query = query.where(Report.category_code.in_(args["service_code"].split(",")))
            status = args.get("status")
            if status:
                wanted = set(status.split(","))
                if not wanted <= {"open", "closed"}:
                    raise BadInput(_("status は open か closed です"), field="status")
                states = [
                    *(OPEN_STATES if "open" in wanted else ()),
                    *(CLOSED_STATES if "closed" in wanted else ()),
                ]
                query = query.where(Report.state.in_(states))
    except BadInput as error:
        return _error(fmt, 400, error.text)
    reports = session.scalars(
        query.order_by(Report.made_at.desc(), Report.id.desc()).limit(MAX_REQUESTS)
    )
    lang = str(get_locale())
    return _answer(fmt, [_request_data(r, lang) for r in reports], "service_requests", "request")


@bp.get("/requests/<int:request_id>.<fmt>")
def one_request(request_id: int, fmt: str) -> ResponseReturnValue:
    """One request, as a list of one (as the specification answers)."""
    fmt = _fmt(fmt)
    report = get_session().get(Report, request_id)
    if report is None:
        return _error(fmt, 404, _("この通報はありません: %(id)d", id=request_id))
    data = [_request_data(report, str(get_locale()))]
    return _answer(fmt, data, "service_requests", "request")


def _api_key(raw: str) -> Open311Key | None:
    if not raw:
        return None
    return get_session().scalar(
        select(Open311Key).where(
            Open311Key.key_hash == key_hash(raw), Open311Key.revoked_at.is_(None)
        )
    )


@bp.post("/requests.<fmt>")
def create_request(fmt: str) -> ResponseReturnValue:
    """File a report with an API key: the same checks as the form, the key's own limits."""
    fmt = _fmt(fmt)
    session = get_session()
    values = request.values
    key = _api_key(values.get("api_key", ""))
    if key is None:
        return _error(fmt, 403, _("api_key がないか、無効です"))
    description = values.get("description", "")
    try:
        report = create_report(
            session,
            NewReport(
                category=values.get("service_code", ""),
                lon=values.get("long"),
                lat=values.get("lat"),
                description=description,
                email=values.get("email", ""),
                lang=str(get_locale()),
                channel="open311",
            ),
            device_key=keyed("api-key", str(key.id)),
            client_key=keyed("api-key", str(key.id)),
            limits=API_KEY_LIMITS,
        )
    except BadInput as error:
        session.rollback()
        return _error(fmt, error.status, error.text)
    data = [
        {
            "service_request_id": str(report.id),
            "service_notice": _("受け付けました"),
            "account_id": None,
        }
    ]
    return _answer(fmt, data, "service_requests", "request", 201)
