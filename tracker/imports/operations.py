"""Import a works list: every row checked by the same rules as the API, all or nothing.

A dry run does everything a real import does inside a savepoint and rolls it back, so what it
says each row would become is what the import does. A real import with any refused row
writes nothing.
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy import ARRAY, Integer, Text, any_, cast, or_, select
from sqlalchemy.orm import Session, selectinload

from tracker.accounts.models import User
from tracker.core.errors import BadInput
from tracker.core.translate import gettext as _
from tracker.geo.geometry import GeometryRefused, check_shape, is_position_only, parse_geometry
from tracker.geo.gisfiles import TARGET, read_crs, to_lonlat
from tracker.imports.reading import SourceTable, is_broken
from tracker.projects.models import Project
from tracker.projects.operations import (
    EDITABLE_FIELDS,
    NewProject,
    check_new_projects,
    create_projects,
    set_external_id,
    update_project,
    update_with_status,
)
from tracker.projects.register import AMOUNT_FIELDS, REGISTER_FIELDS, TEXT_FIELDS, parse_amount
from tracker.words.vocab import LINE_KINDS, kind_label
from tracker.worksfiles import values as cells
from tracker.worksfiles.columns import column_label, duplicated_fields, recognise

OUTCOMES = ("created", "updated", "unchanged", "refused")
# Told how far a long import has come: (stage, rows done, rows in all), stage "checking"
# (reading every row's cells) or "writing" (creating and updating works).
Progress = Callable[[str, int, int], None]
DATE_FIELDS = ("planned_start", "planned_end", "actual_start", "actual_end")


@dataclass
class RowResult:
    """What became (or would become) of one row."""

    line: int
    outcome: str
    name: str = ""
    project_id: int | None = None
    reason: str = ""
    # Every reason the row is refused for, found at once (each cell, the shape, what is missing).
    errors: list[BadInput] = field(default_factory=list)

    @property
    def error(self) -> BadInput | None:
        """Return the first reason the row is refused for, if it is."""
        return self.errors[0] if self.errors else None


@dataclass
class ImportReport:
    """The whole file's result: the column mapping, what was detected and every row's fate."""

    filename: str
    format: str
    notes: list[str]
    columns: list[tuple[str, str]]
    rows: list[RowResult] = field(default_factory=list)
    dry_run: bool = True
    written: bool = False

    @property
    def counts(self) -> dict[str, int]:
        """Count the rows by outcome, every outcome present."""
        counts = Counter(r.outcome for r in self.rows)
        return {outcome: counts.get(outcome, 0) for outcome in OUTCOMES}

    @property
    def refused(self) -> list[RowResult]:
        """Return the refused rows."""
        return [r for r in self.rows if r.outcome == "refused"]

    @property
    def unmapped(self) -> list[str]:
        """Return the headers no field was found for."""
        return [header for header, f in self.columns if not f]


class UnmappedColumns(BadInput):
    """Headers that name no known field: a person must say what they hold (or ignore them)."""

    def __init__(self, headers: list[str]) -> None:
        super().__init__(
            _(
                "見出しを読み取れない列があります: %(headers)s"
                "（列ごとに項目を選ぶか「読まない」にしてください）",
                headers=_("、").join(f"「{h}」" for h in headers),
            ),
            field="columns",
        )
        self.headers = headers


@dataclass
class _Row:
    line: int
    values: dict[str, Any]
    geometry: BaseGeometry | None
    result: RowResult


def import_table(
    session: Session,
    table: SourceTable,
    *,
    user: User | None,
    dry_run: bool,
    chosen: dict[str, str] | None = None,
    epsg: int | None = None,
    progress: Progress | None = None,
    position_only: bool = False,
) -> ImportReport:
    """Check every row of the table and, unless a dry run or any row is refused, import them.

    With `position_only`, a road, pavement or revetment given as one point (緯度/経度, or a
    point in a GIS file) is accepted and marked as known by its position only.
    """
    say = progress or _silent
    mapping = recognise(table.headers, chosen)
    report = ImportReport(
        table.filename,
        table.format,
        list(table.notes),
        [(h, mapping[i]) for i, h in enumerate(table.headers)],
        dry_run=dry_run,
    )
    if report.unmapped:
        raise UnmappedColumns(report.unmapped)
    twice = duplicated_fields(mapping)
    if twice:
        raise BadInput(
            _(
                "同じ項目を表す列が2つ以上あります: %(fields)s",
                fields=_("、").join(column_label(f) for f in twice),
            ),
            field="columns",
        )
    rows = _read_rows(table, mapping, epsg, say, position_only=position_only)
    report.rows = [row.result for row in rows]
    _refuse_duplicates(rows, "external_id", "事業番号")
    _refuse_duplicates(rows, "id", "ID")

    with session.begin_nested() as savepoint:
        existing = _match_existing(session, rows)
        new_rows = []
        for done, row in enumerate(rows):
            say("writing", done, len(rows))
            if row.result.outcome == "refused":
                continue
            project = existing.get(id(row))
            if project is None:
                new_rows.append(row)
            else:
                _update_row(
                    session,
                    row,
                    project,
                    user=user,
                    source=table.filename,
                    position_only=position_only,
                )
        _create_rows(session, new_rows, user=user, dry_run=dry_run)
        say("writing", len(rows), len(rows))
        if dry_run or report.refused:
            savepoint.rollback()
        else:
            report.written = True
    return report


def _silent(_stage: str, _done: int, _total: int) -> None:
    """Progress told to no one."""


def _read_rows(
    table: SourceTable,
    mapping: dict[int, str],
    epsg: int | None,
    say: Progress,
    *,
    position_only: bool,
) -> list[_Row]:
    """Parse every row's cells; a row is refused with every reason found in its cells, its
    shape and the fields a new work needs, all at once."""
    rows = []
    typed: list[tuple[int, BaseGeometry]] = []  # coordinates typed in the file, to transform
    for index, (line, raw) in enumerate(zip(table.lines, table.rows, strict=True)):
        say("checking", index, len(table.rows))
        given = {mapping[i]: v for i, v in enumerate(raw) if mapping.get(i) not in ("", "ignore")}
        result = RowResult(line, "", name=cells.text(given.get("name")))
        row = _Row(line, {}, None, result)
        rows.append(row)
        row.values, errors = _parse_cells(given)
        try:
            file_geometry = table.geometries[index] if table.geometries is not None else None
            if reason := is_broken(file_geometry):
                raise GeometryRefused(f"{reason}", reason="parse")
            if file_geometry is not None:
                row.geometry = file_geometry
            else:
                shape = _typed_geometry(given)
                if shape is not None and not cells.text(given.get("wkt")):
                    row.values["_latlon"] = True
                if shape is not None:
                    typed.append((len(rows) - 1, shape))
        except BadInput as exc:
            errors.append(exc)
        if errors:
            _refuse(result, *errors)
    if typed:
        # Coordinates typed into a table are JGD2011 lon/lat unless a CRS is chosen.
        crs = read_crs(f"EPSG:{epsg}", "epsg") if epsg else TARGET
        if crs.is_projected and any(rows[i].values.get("_latlon") for i, _ in typed):
            raise BadInput(
                "緯度・経度の列には経緯度の座標系（例 4301, 6668）を指定してください", field="epsg"
            )
        if not crs.is_projected:
            typed = [(i, g) for i, g in typed if not _latlon_swapped(rows[i], g)]
        moved = to_lonlat([g for _i, g in typed], crs)
        for (i, _shape), geometry in zip(typed, moved, strict=True):
            rows[i].geometry = geometry
    for row in rows:
        _check_row_shape(row, position_only=position_only)
        _check_new_row_complete(row)
    return rows


def _latlon_swapped(row: _Row, point: BaseGeometry) -> bool:
    """Refuse a row whose 緯度/経度 columns hold no latitude or longitude, saying so in the
    columns' own words (WKT's order is not the file's); True when refused."""
    if not row.values.get("_latlon"):
        return False
    lon, lat = point.bounds[0], point.bounds[1]  # a point: its only position
    if -90 <= lat <= 90 and -180 <= lon <= 180:
        return False
    if -90 <= lon <= 90 and -180 <= lat <= 180:
        words = _(
            "緯度の列（%(lat)s）と経度の列（%(lon)s）が入れ替わっているようです。"
            "緯度の列に 32.9 のような南北の値、経度の列に 131.0 のような東西の値を入れてください",
            lat=format(lat, "g"),
            lon=format(lon, "g"),
        )
    else:
        words = _(
            "緯度の列（%(lat)s）・経度の列（%(lon)s）が経緯度の範囲にありません"
            "（緯度は -90〜90、経度は -180〜180）",
            lat=format(lat, "g"),
            lon=format(lon, "g"),
        )
    _refuse(row.result, GeometryRefused(words, reason="not_lon_lat"))
    return True


def _check_row_shape(row: _Row, *, position_only: bool) -> None:
    """Check the row's shape against the kind the row gives, beside its other reasons; a line
    kind given as a point is accepted only with `position_only`, and the refusal says how."""
    kind = row.values.get("kind")
    if row.geometry is None or kind is None:
        return
    try:
        check_shape(row.geometry, kind, point_allowed=position_only)
    except GeometryRefused as exc:
        if exc.reason == "type" and kind in LINE_KINDS and row.geometry.geom_type == "Point":
            exc = GeometryRefused(_point_for_line_words(kind, row), reason="type")
        _refuse(row.result, exc)
        return
    except BadInput as exc:
        _refuse(row.result, exc)
        return
    if is_position_only(row.geometry, kind):
        row.values["position_only"] = True


def _point_for_line_words(kind: str, row: _Row) -> str:
    """Say how to import a road, pavement or revetment a file gives as one point."""
    if row.values.get("_latlon"):
        return _(
            "「%(kind)s」は線で管理する種別ですが、緯度・経度の1点しかありません。"
            "位置だけで取り込むには「線の種別も位置（点）だけで取り込む」にチェックを入れて"
            "もう一度試行してください。線で取り込むには形状（WKT）の列に LINESTRING を書いてください",
            kind=kind_label(kind),
        )
    return _(
        "「%(kind)s」は線で管理する種別ですが、形状が1点です。"
        "位置だけで取り込むには「線の種別も位置（点）だけで取り込む」にチェックを入れて"
        "もう一度試行してください。そうでなければ線の形状にしてください",
        kind=kind_label(kind),
    )


def _check_new_row_complete(row: _Row) -> None:
    """Name what a row that can only be a new work lacks (no ID or 事業番号 to match), beside
    its other reasons; a row that may update a stored work is judged once it is matched."""
    if row.values.get("id") is not None or row.values.get("external_id"):
        return
    missing = _missing_fields(row)
    if missing:
        _refuse(row.result, _missing_error(missing))


def _missing_fields(row: _Row) -> list[str]:
    """Return the fields a new work needs that the row does not give (a refused cell is not
    missing: it is refused for what it holds)."""
    refused = {error.field for error in row.result.errors}
    missing = [f for f in ("name", "kind", "department") if not row.values.get(f)]
    missing = [f for f in missing if f not in refused]
    if row.geometry is None and "geometry" not in refused:
        missing.append("geometry")
    return missing


def _missing_error(missing: list[str]) -> BadInput:
    labels = _("、").join(column_label(f if f != "geometry" else "wkt") for f in missing)
    return BadInput(
        _("新しい事業に必要な %(labels)s がありません", labels=labels), field=missing[0]
    )


def _parse_cells(given: dict[str, Any]) -> tuple[dict[str, Any], list[BadInput]]:
    """Read every cell of a row: the values read, and why each cell that cannot be read
    cannot (all of them, not only the first)."""
    parsed: dict[str, Any] = {}
    errors: list[BadInput] = []
    for name, value in given.items():
        if name in ("lat", "lon", "wkt"):
            continue
        try:
            parsed[name] = _parse_cell(name, value)
        except BadInput as exc:
            errors.append(exc)
    for name in ("kind", "status", "progress"):
        if name in given and cells.text(given[name]) == "":
            parsed.pop(name, None)  # an empty cell keeps what is stored (or the default)
    if "external_id" in parsed and not parsed["external_id"]:
        parsed["external_id"] = None
    return parsed, errors


def _parse_cell(name: str, value: Any) -> Any:
    """Read one cell as the field it is in."""
    if name in DATE_FIELDS:
        return cells.parse_date(value, name)
    if name == "kind":
        return cells.parse_kind(value) if cells.text(value) else None
    if name == "status":
        return cells.parse_status(value) if cells.text(value) else None
    if name == "progress":
        return cells.parse_progress(value) if cells.text(value) else None
    if name == "public":
        return True if cells.text(value) == "" else cells.parse_public(value)
    if name in ("plan_items", "indicators"):
        return cells.parse_codes(value)
    if name in AMOUNT_FIELDS:
        return parse_amount(cells.text(value), name)
    if name == "funding":
        return cells.parse_funding(value)
    if name in TEXT_FIELDS:
        return cells.unquoted(cells.text(value)) or None
    if name == "id":
        text = cells.text(value)
        if not text.isdigit():
            raise BadInput(f"台帳の番号（整数）ではありません（{text[:20]}）", field="id")
        return int(text)
    if name == "facility_id":
        text = cells.text(value)
        if text and not text.isdigit():
            raise BadInput(f"施設の番号（整数）ではありません（{text[:20]}）", field="facility_id")
        return int(text) if text else None
    return cells.unquoted(cells.text(value))


def _typed_geometry(given: dict[str, Any]) -> BaseGeometry | None:
    """Return the WKT or lat/lon a row gives, in the file's coordinates."""
    if cells.text(given.get("wkt")):
        return parse_geometry(cells.text(given["wkt"]))
    lat, lon = cells.text(given.get("lat")), cells.text(given.get("lon"))
    if lat or lon:
        if not (lat and lon):
            raise GeometryRefused("緯度と経度の両方が必要です", reason="missing")
        return Point(cells.parse_number(lon, "lon"), cells.parse_number(lat, "lat"))
    return None


def _refuse(result: RowResult, *errors: BadInput) -> None:
    """Mark a row refused, adding these reasons to any it has."""
    result.outcome = "refused"
    result.errors.extend(errors)
    result.reason = "; ".join(str(error) for error in result.errors)


def _refuse_duplicates(rows: list[_Row], name: str, label: str) -> None:
    first: dict[Any, int] = {}
    for row in rows:
        value = row.values.get(name)
        if value is None or row.result.outcome == "refused":
            continue
        if value in first:
            _refuse(
                row.result,
                BadInput(f"{label} {value} は {first[value]} 行目と重複しています", field=name),
            )
        else:
            first[value] = row.line


def _match_existing(session: Session, rows: list[_Row]) -> dict[int, Project]:
    """Find the stored project each row names by ID or 事業番号 (keyed by the row's id())."""
    ids = {r.values["id"] for r in rows if r.values.get("id") is not None}
    numbers = {r.values["external_id"] for r in rows if r.values.get("external_id")}
    if not ids and not numbers:
        return {}
    found = session.scalars(
        select(Project)
        # Arrays, not IN lists: ten thousand numbers are one parameter, not a long statement.
        .where(
            or_(
                Project.id == any_(cast(list(ids), ARRAY(Integer))),
                Project.external_id == any_(cast(list(numbers), ARRAY(Text))),
            )
        )
        .options(selectinload(Project.plan_items), selectinload(Project.indicators))
    ).all()
    by_id = {p.id: p for p in found}
    by_number = {p.external_id: p for p in found if p.external_id}
    matched = {}
    for row in rows:
        if row.result.outcome == "refused":
            continue
        pid, number = row.values.get("id"), row.values.get("external_id")
        project = by_id.get(pid) if pid is not None else None
        if pid is not None and project is None:
            _refuse(row.result, BadInput(f"ID {pid} の事業はこの台帳にありません", field="id"))
            continue
        other = by_number.get(number) if number else None
        if project is not None and other is not None and other.id != project.id:
            _refuse(
                row.result,
                BadInput(
                    f"事業番号 {number} は別の事業（ID {other.id}）のものです", field="external_id"
                ),
            )
            continue
        project = project or other
        if project is not None:
            matched[id(row)] = project
    return matched


def _update_row(
    session: Session,
    row: _Row,
    project: Project,
    *,
    user: User | None,
    source: str,
    position_only: bool,
) -> None:
    """Bring one stored project to the row's values (status through the history), or refuse."""
    result = row.result
    result.project_id = project.id
    before = project.version
    values = row.values
    changes = {f: values[f] for f in (*EDITABLE_FIELDS, "external_id") if f in values}
    if row.geometry is not None:
        changes["geometry"] = row.geometry
    try:
        with session.begin_nested():
            status = values.get("status", project.status)
            progress = values.get("progress", project.progress)
            if status != project.status or progress != project.progress:
                actual_end = values.get("actual_end", project.actual_end)
                # One edit: the status through the history, the fields and the number with it.
                update_with_status(
                    session,
                    project,
                    changes,
                    status=status,
                    progress=progress,
                    # The rules judge the file's own note: the name of the file must not
                    # stand in for the reason a reopening, a suspension or lower progress needs.
                    note=values.get("note", ""),
                    fallback_note=f"{source} から取込",
                    actual_end=actual_end if status == "completed" else None,
                    user=user,
                    point_allowed=position_only,
                )
            else:
                if "external_id" in changes:
                    set_external_id(session, project, changes.pop("external_id"), user=user)
                update_project(
                    session,
                    project,
                    changes,
                    expected_version=project.version,
                    user=user,
                    point_allowed=position_only,
                )
    except BadInput as exc:
        kind = values.get("kind", project.kind)
        point = row.geometry is not None and row.geometry.geom_type == "Point"
        if isinstance(exc, GeometryRefused) and exc.reason == "type" and point:
            exc = GeometryRefused(_point_for_line_words(kind, row), reason="type")
        _refuse(result, exc)
        return
    result.outcome = "updated" if project.version != before else "unchanged"
    result.name = project.name


def _create_rows(session: Session, rows: list[_Row], *, user: User | None, dry_run: bool) -> None:
    """Create the rows that name no stored project, all at once (only checked in a dry run)."""
    specs, ready = [], []
    for row in rows:
        missing = _missing_fields(row)
        if missing or row.geometry is None:
            _refuse(row.result, _missing_error(missing or ["geometry"]))
            continue
        v = row.values
        specs.append(
            NewProject(
                name=v["name"],
                kind=v["kind"],
                geometry=row.geometry,
                department=v["department"],
                status=v.get("status", "planned"),
                progress=v.get("progress", 0),
                planned_start=v.get("planned_start"),
                planned_end=v.get("planned_end"),
                actual_start=v.get("actual_start"),
                actual_end=v.get("actual_end"),
                is_public=v.get("public", True),
                description=v.get("description", ""),
                external_id=v.get("external_id"),
                plan_item_codes=tuple(v.get("plan_items", ())),
                indicator_codes=tuple(v.get("indicators", ())),
                facility_id=v.get("facility_id"),
                register=tuple((f, v[f]) for f in REGISTER_FIELDS if f in v),
                position_only=v.get("position_only", False),
            )
        )
        ready.append(row)
    if not ready:
        return
    outcomes = (check_new_projects if dry_run else create_projects)(session, specs, user=user)
    for row, outcome in zip(ready, outcomes, strict=True):
        if isinstance(outcome, BadInput):
            _refuse(row.result, outcome)
        else:
            row.result.outcome = "created"
            row.result.project_id = outcome if isinstance(outcome, int) else None
