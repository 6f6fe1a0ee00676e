"""The meeting pages under /plan: the filtered map, dashboard, coverage, changes, print, exports."""

from collections.abc import Hashable, Iterator
from datetime import date, timedelta
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    render_template,
    request,
)
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.accounts.access import can_see_private, current_user, roles_required, signed_in
from tracker.city.districts import districts
from tracker.core import clock
from tracker.core.db import get_session, streamed_from_database
from tracker.core.errors import BadInput
from tracker.core.translate import gettext as _
from tracker.hazards import queries as hazard_queries
from tracker.hazards.codes import HAZARDS, LAYER_CREDITS, hazard_label
from tracker.indicators.definitions import DEFINITIONS, METHOD_TEXT, plan_shisaku, printed_row
from tracker.indicators.operations import record_figure
from tracker.indicators.queries import IndicatorValue, indicator_values
from tracker.maps.page_data import city_map_parts
from tracker.meeting import print_map, queries
from tracker.meeting.charts import year_chart
from tracker.meeting.exports import hazards_csv, indicator_years_csv, projects_csv_chunks
from tracker.meeting.filters import describe_filter
from tracker.plan.queries import names_by_code
from tracker.projects.models import Project
from tracker.projects.queries import ProjectFilter, status_counts, streamed_collection
from tracker.projects.register import visible_register_fields
from tracker.serving.answer_cache import keeping, kept, request_key
from tracker.serving.freshness import kept_for
from tracker.words.formatting import fiscal_year, parse_day
from tracker.words.i18n import locale
from tracker.words.vocab import KINDS, STATUSES
from tracker.worksfiles import writing

bp = Blueprint("meeting", __name__, url_prefix="/plan")

PAPER_SIZES = ("A4", "A3")
# /plan/changes without a date shows this many days back from today.
CHANGES_DEFAULT_DAYS = 30
# How many works the sheet lists and numbers on its map: what fits beside the map on one
# sheet; the rest are in the CSV.
PRINT_LIST_LIMIT = {"A4": 12, "A3": 24}
FIGURE_ROLES = ("staff", "admin")


def _filter() -> ProjectFilter:
    """Read and check the meeting filter from the query string."""
    filt = ProjectFilter.from_meeting_args(request.args, include_private=can_see_private())
    filt.check_codes(get_session())
    unknown = [d for d in filt.departments if d not in queries.departments(get_session())]
    if unknown:
        raise BadInput(
            _("「%(names)s」という担当課はありません", names=_("」「").join(unknown)),
            code="unknown_value",
            field="department",
        )
    return filt


def _query(filt: ProjectFilter, **extra: str) -> str:
    pairs = filt.query_args() + [(k, v) for k, v in extra.items() if v is not None]
    return urlencode(pairs)


def _fiscal_years() -> list[int]:
    return list(range(2016, fiscal_year(clock.today()) + 3))


def _can_record() -> bool:
    user = current_user()
    return user is not None and user.role in FIGURE_ROLES


@bp.get("")
def meeting_map() -> ResponseReturnValue:
    """Show the full-screen meeting map with its filters, counts and the list beside it."""
    session = get_session()
    filt = _filter()
    query = _query(filt)
    # One pass gives the counts by status and the sums of money.
    costs = queries.cost_totals(session, filt)
    counts = costs.counts()
    return render_template(
        "meeting/map.html",
        costs=costs,
        internal=filt.include_private,
        # The sidebar filters kinds: the map's layer box offers no second kind filter. The
        # tiles read the same filter as the list and the counts beside the map.
        map=city_map_parts(
            "web.project_page",
            query=query,
            count=sum(counts.values()),
            kind_control=False,
            restrictions_on=filt.as_of,
        ),
        filt=filt,
        query=query,
        counts=counts,
        total=sum(counts.values()),
        rows=queries.project_rows(session, filt),
        conditions=describe_filter(session, filt),
        list_limit=queries.LIST_LIMIT,
        kinds=KINDS,
        statuses=STATUSES,
        plan_items=queries.filter_plan_items(session),
        departments=queries.departments(session),
        fiscal_years=_fiscal_years(),
    )


@bp.get("/costs")
def costs() -> ResponseReturnValue:
    """Show what the filtered works cost: in all, by status, by kind and by plan item."""
    filt = _filter()
    return render_template(
        "meeting/costs.html",
        costs=queries.cost_totals(get_session(), filt, by=queries.COST_GROUPS),
        internal=filt.include_private,
        filt=filt,
        query=_query(filt),
    )


# A whole-city answer streams; one up to this size is also kept for its data version (the
# meeting map asks for the same filtered layer again and again).
KEPT_GEOJSON_BYTES = 8 * 1024 * 1024


def _day() -> tuple[Hashable, ...]:
    return (clock.today(),)


def _day_and_language() -> tuple[Hashable, ...]:
    # Plan items, indicators and the kind's own fields are named in the reader's language.
    return (clock.today(), locale())


@bp.get("/projects.geojson")
@kept_for(_day, signed_in)
def features() -> Response:
    """Answer the filtered projects as GeoJSON: the meeting map's layer and its export.

    Streamed from a server-side cursor, so that a whole city never lies in a worker's memory.
    """
    filt = _filter()
    key = request_key(filt.include_private, clock.today())
    body = kept(key)
    if body is None:
        body = streamed_from_database(
            lambda session: keeping(key, streamed_collection(session, filt), KEPT_GEOJSON_BYTES)
        )
    response = Response(body, mimetype="application/geo+json")
    if request.args.get("download"):
        response.headers["Content-Disposition"] = _attachment("aso_projects", "geojson", filt.as_of)
    return response


@bp.get("/projects.csv")
@kept_for(_day_and_language, signed_in)
def projects_csv_export() -> Response:
    """Answer the filtered list as CSV for Excel (UTF-8 with BOM, Japanese headers).

    Streamed: the headers leave at once and the rows follow as they are read, never the
    whole file in memory; a client (or proxy) holding this data version's copy gets 304.
    """
    filt = _filter()
    register = visible_register_fields(internal=filt.include_private)
    names = names_by_code(get_session())

    def chunks(session: Session) -> Iterator[bytes]:
        rows = queries.streamed_project_rows(session, filt, with_geometry=True)
        yield from projects_csv_chunks(rows, register=register, as_of=filt.as_of, names=names)

    response = Response(streamed_from_database(chunks), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = _attachment("aso_projects", "csv", filt.as_of)
    return response


# Format → (writer, MIME type, file extension).
FILE_EXPORTS = {
    "xlsx": (
        writing.projects_xlsx,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xlsx",
    ),
    "gpkg": (writing.projects_gpkg, "application/geopackage+sqlite3", "gpkg"),
    "shp.zip": (writing.projects_shapefile_zip, "application/zip", "shp.zip"),
}


@bp.get("/projects.<any(xlsx, gpkg, 'shp.zip'):fmt>")
def projects_file_export(fmt: str) -> Response:
    """Answer the filtered list as Excel, GeoPackage or zipped Shapefile, ready to import again."""
    write, mimetype, ext = FILE_EXPORTS[fmt]
    filt = _filter()
    rows = queries.project_rows(get_session(), filt, limit=None, with_geometry=True)
    register = visible_register_fields(internal=filt.include_private)
    if fmt == "xlsx":
        # Plan items and indicators are read by their names beside their codes.
        body = writing.projects_xlsx(
            rows, register=register, as_of=filt.as_of, names=names_by_code(get_session())
        )
    else:
        body = write(rows, register=register, as_of=filt.as_of)
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = _attachment("aso_projects", ext, filt.as_of)
    return response


def _attachment(stem: str, ext: str, as_of: date | None = None) -> str:
    """Name a download by its contents and date: the date it shows (as_of), else today's."""
    if as_of is not None:
        return f'attachment; filename="{stem}_asof_{as_of:%Y%m%d}.{ext}"'
    stamp = clock.now_jst().strftime("%Y%m%d")
    return f'attachment; filename="{stem}_{stamp}.{ext}"'


def _as_of() -> date | None:
    return parse_day(request.args.get("as_of"), "as_of")


def _hazard_overlay(session: Session, filt: ProjectFilter) -> tuple[list, list]:
    """Return the filtered works and the designated shelters in hazard zones."""
    works = hazard_queries.works_in_zones(session, filt)
    shelters = hazard_queries.shelters_in_zones(session, as_of=filt.as_of)
    return works, shelters


@bp.get("/hazards")
def hazards() -> ResponseReturnValue:
    """Show, per hazard, the works inside or crossing a zone and the shelters inside one."""
    session = get_session()
    filt = _filter()
    works, shelters = _hazard_overlay(session, filt)
    sections = []
    for hazard in HAZARDS:
        exposed = [w for w in works if w.hazard == hazard]
        counts = dict.fromkeys(STATUSES, 0)
        for work in exposed:
            counts[work.status] += 1
        sections.append(
            {
                "hazard": hazard,
                # The page lists the first ones; the CSV carries them all.
                "works": exposed[: queries.LIST_LIMIT],
                "total": len(exposed),
                "shelters": [s for s in shelters if s.hazard == hazard],
                "counts": counts,
            }
        )
    return render_template(
        "meeting/hazards.html",
        sections=sections,
        layers=hazard_queries.loaded_layers(session),
        loaded=hazard_queries.loaded_hazards(session),
        filt=filt,
        query=_query(filt),
        statuses=STATUSES,
        credits=LAYER_CREDITS,
        hazard_label=hazard_label,
    )


@bp.get("/hazards.csv")
def hazards_csv_export() -> Response:
    """Answer the works and shelters in hazard zones as CSV for Excel."""
    filt = _filter()
    works, shelters = _hazard_overlay(get_session(), filt)
    response = Response(hazards_csv(works, shelters), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = _attachment("aso_hazard_overlay", "csv", filt.as_of)
    return response


@bp.get("/indicators")
def dashboard() -> ResponseReturnValue:
    """Show measure 13's indicators: baseline, target, current, progress and a yearly chart."""
    as_of = _as_of()
    values = indicator_values(get_session(), as_of=as_of, include_private=can_see_private())
    return render_template(
        "meeting/indicators.html",
        values=values,
        charts={v.code: year_chart(v, locale()) for v in values},
        as_of=as_of,
        can_record=_can_record(),
        fiscal_years=_fiscal_years(),
    )


def _indicator(code: str) -> tuple[IndicatorValue, date | None]:
    """Return one indicator's values at ?as_of=, or answer 404."""
    as_of = _as_of()
    values = indicator_values(get_session(), as_of=as_of, include_private=can_see_private())
    value = next((v for v in values if v.code == code), None)
    if value is None:
        abort(404, description=_("この成果指標は見つかりません"))
    return value, as_of


@bp.get("/indicators/<code>")
def indicator_page(code: str) -> ResponseReturnValue:
    """Show one indicator: its meaning, the plan's row, how it is counted, its years, its works."""
    value, as_of = _indicator(code)
    session = get_session()
    definition = DEFINITIONS.get(code)
    counted = sorted(value.project_ids)
    pages = max(1, -(-len(counted) // INDICATOR_WORKS_PER_PAGE))
    page = min(_page_number(), pages)
    shown = counted[(page - 1) * INDICATOR_WORKS_PER_PAGE : page * INDICATOR_WORKS_PER_PAGE]
    projects = session.scalars(
        select(Project).where(Project.id.in_(shown)).order_by(Project.id)
    ).all()
    return render_template(
        "meeting/indicator.html",
        v=value,
        as_of=as_of,
        chart=year_chart(value, locale()),
        definition=definition,
        shisaku=plan_shisaku(session, definition.shisaku) if definition else None,
        printed=printed_row(current_app.config["GEODATA_DIR"], value.name),
        method_text=METHOD_TEXT[value.method],
        projects=projects,
        counted_total=len(counted),
        page=page,
        pages=pages,
    )


# An indicator counts thousands of works in a large city: its page lists them this many at
# a time (the meeting map shows them all).
INDICATOR_WORKS_PER_PAGE = 100


def _page_number() -> int:
    raw = request.args.get("page", "1")
    if not raw.isdigit() or int(raw) < 1 or len(raw) > 6:
        raise BadInput(
            _("ページは 1 以上の整数で指定してください"), code="out_of_range", field="page"
        )
    return int(raw)


@bp.get("/indicators/<code>.csv")
def indicator_csv(code: str) -> Response:
    """Answer one indicator's yearly values as CSV for Excel."""
    value, as_of = _indicator(code)
    response = Response(indicator_years_csv(value, as_of), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = _attachment(f"aso_indicator_{code}", "csv", as_of)
    return response


@bp.post("/indicators/figures")
@roles_required(*FIGURE_ROLES)
def record_indicator_figure() -> ResponseReturnValue:
    """Record a yearly figure for an indicator with its source, then show the dashboard."""
    form = request.form
    raw_year = (form.get("fiscal_year") or "").strip()
    # isdigit() alone lets through digits int() cannot read, such as "²".
    if not (raw_year.isascii() and raw_year.isdigit()):
        raise BadInput(
            _("年度を西暦で選んでください（例: 2024）"), code="invalid_format", field="fiscal_year"
        )
    figure = record_figure(
        get_session(),
        indicator_code=form.get("indicator", ""),
        fiscal_year=int(raw_year),
        value=form.get("value", ""),
        source=form.get("source", ""),
        note=form.get("note", ""),
        recorded_by=current_user(),
    )
    return render_template("meeting/figure_recorded.html", figure=figure), 201


@bp.get("/coverage")
def coverage() -> ResponseReturnValue:
    """Show Policy 1's initiatives with their projects' status counts, and the ones with none."""
    as_of = _as_of()
    rows = queries.policy1_coverage(get_session(), include_private=can_see_private(), as_of=as_of)
    return render_template(
        "meeting/coverage.html",
        rows=rows,
        gaps=[r for r in rows if r.total == 0],
        statuses=STATUSES,
        as_of=as_of,
    )


@bp.get("/changes")
def changes() -> ResponseReturnValue:
    """List every change since a date (the last CHANGES_DEFAULT_DAYS days unless one is
    chosen): new projects, status changes, completions, progress reports and restrictions
    added, changed or lifted."""
    chosen = parse_day(request.args.get("since"), "since")
    until = parse_day(request.args.get("until"), "until")
    since = chosen or clock.today() - timedelta(days=CHANGES_DEFAULT_DAYS)
    if until and until < since:
        raise BadInput(_("開始日より前の日付です"), code="ends_before_start", field="until")
    found, totals = queries.changes_since(
        get_session(), since, until=until, include_private=can_see_private()
    )
    return render_template(
        "meeting/changes.html",
        since=since,
        default_range=chosen is None,
        default_days=CHANGES_DEFAULT_DAYS,
        categories=queries.CHANGE_CATEGORIES,
        until=until,
        changes=found,
        totals=totals,
        limit=queries.CHANGES_LIMIT,
        kinds=KINDS,
        statuses=STATUSES,
    )


@bp.get("/print")
def print_sheet() -> ResponseReturnValue:
    """Show a printable sheet (A4 or A3 landscape): map picture, counts and indicators."""
    size = (request.args.get("size") or "A4").upper()
    if size not in PAPER_SIZES:
        raise BadInput(
            _("A4 か A3 を指定してください（%(value)s）", value=request.args.get("size", "")[:10]),
            code="unknown_value",
            field="size",
        )
    session = get_session()
    filt = _filter()
    counts = status_counts(session, filt)
    rows = queries.project_rows(session, filt, limit=PRINT_LIST_LIMIT[size])
    parts = queries.map_svg_parts(session, filt)
    return render_template(
        "meeting/print.html",
        size=size,
        filt=filt,
        query=_query(filt),
        conditions=describe_filter(session, filt),
        counts=counts,
        total=sum(counts.values()),
        rows=rows,
        picture=print_map.layout(parts, rows, districts(), locale()) if parts else None,
        values=indicator_values(session, as_of=filt.as_of, include_private=filt.include_private),
        statuses=STATUSES,
        kinds=KINDS,
        printed_at=clock.now_jst(),
    )
