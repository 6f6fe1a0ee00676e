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
from tracker.geo.geometry import GeometryRefused, parse_geometry
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
    error: BadInput | None = None


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
            "見出しを読み取れない列があります: "
            + "、".join(f"「{h}」" for h in headers)
            + "（列ごとに項目を選ぶか「読まない」にしてください）",
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
) -> ImportReport:
    """Check every row of the table and, unless a dry run or any row is refused, import them."""
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
            "同じ項目を表す列が2つ以上あります: " + "、".join(column_label(f) for f in twice),
            field="columns",
        )
    rows = _read_rows(table, mapping, epsg, say)
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
                _update_row(session, row, project, user=user, source=table.filename)
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
    table: SourceTable, mapping: dict[int, str], epsg: int | None, say: Progress
) -> list[_Row]:
    """Parse every row's cells; a row with an unreadable cell is refused with the reason."""
    rows = []
    typed: list[tuple[int, BaseGeometry]] = []  # coordinates typed in the file, to transform
    for index, (line, raw) in enumerate(zip(table.lines, table.rows, strict=True)):
        say("checking", index, len(table.rows))
        given = {mapping[i]: v for i, v in enumerate(raw) if mapping.get(i) not in ("", "ignore")}
        result = RowResult(line, "refused", name=cells.text(given.get("name")))
        row = _Row(line, {}, None, result)
        rows.append(row)
        try:
            row.values = _parse_cells(given)
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
            _refuse(result, exc)
            continue
        result.outcome = ""
    if typed:
        # Coordinates typed into a table are JGD2011 lon/lat unless a CRS is chosen.
        crs = read_crs(f"EPSG:{epsg}", "epsg") if epsg else TARGET
        if crs.is_projected and any(rows[i].values.get("_latlon") for i, _ in typed):
            raise BadInput(
                "緯度・経度の列には経緯度の座標系（例 4301, 6668）を指定してください", field="epsg"
            )
        moved = to_lonlat([g for _i, g in typed], crs)
        for (i, _shape), geometry in zip(typed, moved, strict=True):
            rows[i].geometry = geometry
    return rows


def _parse_cells(given: dict[str, Any]) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for name, value in given.items():
        if name in ("lat", "lon", "wkt"):
            continue
        if name in DATE_FIELDS:
            parsed[name] = cells.parse_date(value, name)
        elif name == "kind":
            parsed[name] = cells.parse_kind(value)
        elif name == "status":
            parsed[name] = cells.parse_status(value)
        elif name == "progress":
            parsed[name] = cells.parse_progress(value)
        elif name == "public":
            parsed[name] = True if cells.text(value) == "" else cells.parse_public(value)
        elif name in ("plan_items", "indicators"):
            parsed[name] = cells.parse_codes(value)
        elif name in AMOUNT_FIELDS:
            parsed[name] = parse_amount(cells.text(value), name)
        elif name == "funding":
            parsed[name] = cells.parse_funding(value)
        elif name in TEXT_FIELDS:
            parsed[name] = cells.unquoted(cells.text(value)) or None
        elif name == "id":
            text = cells.text(value)
            if not text.isdigit():
                raise BadInput(f"台帳の番号（整数）ではありません（{text[:20]}）", field="id")
            parsed[name] = int(text)
        elif name == "facility_id":
            text = cells.text(value)
            if text and not text.isdigit():
                raise BadInput(
                    f"施設の番号（整数）ではありません（{text[:20]}）", field="facility_id"
                )
            parsed[name] = int(text) if text else None
        else:
            parsed[name] = cells.unquoted(cells.text(value))
    for name in ("kind", "status", "progress"):
        if name in given and cells.text(given[name]) == "":
            del parsed[name]  # an empty cell keeps what is stored (or the default)
    if "external_id" in parsed and not parsed["external_id"]:
        parsed["external_id"] = None
    return parsed


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


def _refuse(result: RowResult, error: BadInput) -> None:
    result.outcome = "refused"
    result.error = error
    result.reason = str(error)


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
    session: Session, row: _Row, project: Project, *, user: User | None, source: str
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
                )
            else:
                if "external_id" in changes:
                    set_external_id(session, project, changes.pop("external_id"), user=user)
                update_project(
                    session, project, changes, expected_version=project.version, user=user
                )
    except BadInput as exc:
        _refuse(result, exc)
        return
    result.outcome = "updated" if project.version != before else "unchanged"
    result.name = project.name


def _create_rows(session: Session, rows: list[_Row], *, user: User | None, dry_run: bool) -> None:
    """Create the rows that name no stored project, all at once (only checked in a dry run)."""
    specs, ready = [], []
    for row in rows:
        missing = [f for f in ("name", "kind", "department") if not row.values.get(f)]
        if row.geometry is None:
            missing.append("geometry")
        if missing or row.geometry is None:
            labels = "、".join(column_label(f if f != "geometry" else "wkt") for f in missing)
            _refuse(
                row.result, BadInput(f"新しい事業に必要な {labels} がありません", field=missing[0])
            )
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
