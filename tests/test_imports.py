"""Importing works lists: formats, encodings, CRSs, the dry run and all-or-nothing writes."""

import io
import json
import zipfile
from datetime import date

import numpy as np
import pytest
import shapely
from openpyxl import Workbook
from pyproj import Transformer
from shapely.geometry import LineString, Point
from sqlalchemy import func, select

from tracker.core.errors import BadInput
from tracker.imports.operations import UnmappedColumns, import_table
from tracker.imports.reading import MAX_FILE_BYTES, read_table
from tracker.outbox.models import OutboxEvent
from tracker.projects.audit import ProjectChange
from tracker.projects.history import StatusUpdate
from tracker.projects.models import Project

MIYAJI = (131.11879, 32.937)
UCHINOMAKI = (131.04441, 32.94212)
HEADER = "事業番号,事業名,種別,状況,進捗率,担当課,計画開始,計画終了,緯度,経度"


def csv_bytes(lines: list[str], encoding: str = "utf-8", bom: bool = False) -> bytes:
    data = ("\r\n".join(lines) + "\r\n").encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def run(session, data: bytes, filename: str, *, dry_run=False, user=None, **options):
    epsg = options.pop("epsg", None)
    table = read_table(data, filename, epsg=epsg)
    return import_table(session, table, user=user, dry_run=dry_run, epsg=epsg, **options)


def count_projects(session) -> int:
    return session.scalar(select(func.count()).select_from(Project))


@pytest.fixture
def staff(make_user):
    # Of both departments the rows below give works.
    return make_user(role="staff", departments=["建設課", "土木課"])


@pytest.mark.parametrize(
    ("encoding", "bom", "said"),
    [
        ("cp932", False, "Shift_JIS（cp932）"),
        ("utf-8", True, "UTF-8（BOM付き）"),
        ("utf-8", False, "UTF-8"),
    ],
)
def test_csv_in_each_encoding_is_detected_and_said(session, staff, encoding, bom, said):
    data = csv_bytes(
        [HEADER, "A-1,宮地 橋梁補修,橋梁,未着手,0,建設課,R6.4.1,令和7年3月31日,32.937,131.11879"],
        encoding,
        bom,
    )
    report = run(session, data, "works.csv", user=staff)
    assert f"文字コード: {said}" in report.notes
    assert report.counts["created"] == 1 and report.written
    project = session.scalar(select(Project).where(Project.external_id == "A-1"))
    assert project.name == "宮地 橋梁補修" and project.kind == "bridge"
    assert (project.planned_start, project.planned_end) == (date(2024, 4, 1), date(2025, 3, 31))


def test_english_headers_codes_and_heisei_dates(session, staff):
    data = csv_bytes(
        [
            "external_id,name,kind,status,progress,department,planned_start,actual_start,lat,lon",
            "B-1,Road,road,design,10,建設課,H31.4.30,,32.937,131.11879",
        ]
    )
    report = run(session, data, "works.csv", user=staff)
    # A road must be a line: the same rule as the API, with the row's line number.
    assert [(r.line, r.outcome) for r in report.rows] == [(2, "refused")]
    assert "「線の種別も位置（点）だけで取り込む」にチェック" in report.rows[0].reason
    assert not report.written and count_projects(session) == 0


def test_wrong_encoding_is_refused_and_nothing_written(session, staff):
    before = count_projects(session)
    with pytest.raises(BadInput, match="UTF-16"):
        run(session, ("\ufeff" + HEADER).encode("utf-16"), "works.csv", user=staff)
    with pytest.raises(BadInput, match="UTF-8 でも Shift_JIS"):
        run(session, HEADER.encode() + b"\r\n\x81\xff,x\r\n", "works.csv", user=staff)
    assert count_projects(session) == before


def test_dry_run_lists_every_row_and_writes_nothing(session, staff, make_project):
    existing = make_project(name="宮地橋", external_id="A-9")
    data = csv_bytes(
        [
            HEADER,
            "A-1,新しい橋,橋梁,未着手,0,建設課,2024-04-01,2025-03-31,32.937,131.11879",
            f"A-9,宮地橋,橋梁,設計中,20,建設課,2022-04-01,2023-03-31,{MIYAJI[1]},{MIYAJI[0]}",
            "A-2,遠い橋,橋梁,未着手,0,建設課,,,33.5,131.5",
            "A-3,壊れた日付,橋梁,未着手,0,建設課,2024-02-30,,32.937,131.11879",
            "A-1,重複,橋梁,未着手,0,建設課,,,32.937,131.11879",
            f"A-10,unchanged?,,,,,,,{MIYAJI[1]},{MIYAJI[0]}",
        ]
    )
    before = count_projects(session)
    report = run(session, data, "works.csv", dry_run=True, user=staff)
    outcomes = [(r.line, r.outcome) for r in report.rows]
    assert outcomes == [
        (2, "created"),
        (3, "updated"),
        (4, "refused"),
        (5, "refused"),
        (6, "refused"),
        (7, "refused"),
    ]
    reasons = {r.line: r.reason for r in report.rows}
    assert "阿蘇市の区域から" in reasons[4]
    assert "実在しない日付" in reasons[5]
    assert "2 行目と重複" in reasons[6]
    assert "name" in reasons[7] or "kind" in reasons[7]
    assert not report.written
    session.refresh(existing)
    assert count_projects(session) == before and existing.status == "planned"


def test_real_import_is_all_or_nothing(session, staff):
    data = csv_bytes(
        [
            HEADER,
            "A-1,新しい橋,橋梁,未着手,0,建設課,,,32.937,131.11879",
            "A-2,遠い橋,橋梁,未着手,0,建設課,,,33.5,131.5",
        ]
    )
    before = count_projects(session)
    report = run(session, data, "works.csv", user=staff)
    assert report.counts == {"created": 1, "updated": 0, "unchanged": 0, "refused": 1}
    assert not report.written and count_projects(session) == before


def test_reimport_updates_in_place_audited_and_through_the_history(session, staff):
    first = csv_bytes(
        [HEADER, "A-1,宮地 橋梁補修,橋梁,工事中,30,建設課,2024-04-01,2025-03-31,32.937,131.11879"]
    )
    run(session, first, "works.csv", user=staff)
    project = session.scalar(select(Project).where(Project.external_id == "A-1"))
    again = run(session, first, "works.csv", user=staff)
    assert [r.outcome for r in again.rows] == ["unchanged"]

    changed = csv_bytes(
        [HEADER, "A-1,宮地橋 補修工事,橋梁,工事中,60,建設課,2024-04-01,2025-03-31,32.937,131.11879"]
    )
    report = run(session, changed, "works.csv", user=staff)
    assert [(r.outcome, r.project_id) for r in report.rows] == [("updated", project.id)]
    session.refresh(project)
    assert (project.name, project.progress) == ("宮地橋 補修工事", 60)
    assert count_projects(session) == 1
    history = session.scalars(
        select(StatusUpdate).where(StatusUpdate.project_id == project.id).order_by(StatusUpdate.id)
    ).all()
    assert [(u.status, u.progress) for u in history][-1] == ("construction", 60)
    assert "works.csv から取込" in history[-1].note
    audited = session.scalars(
        select(ProjectChange.changes).where(ProjectChange.project_id == project.id)
    ).all()
    assert any("name" in c and c["name"]["new"] == "宮地橋 補修工事" for c in audited)


def test_a_row_that_changes_status_and_fields_is_one_edit(session, staff):
    run(session, csv_bytes([HEADER, "A-1,橋,橋梁,工事中,30,建設課,,,32.937,131.11879"]), "w.csv")
    project = session.scalar(select(Project).where(Project.external_id == "A-1"))
    version = project.version
    audits_before = count_audits(session, project.id)
    events_before = count_events(session, project.id)

    report = run(
        session,
        csv_bytes([HEADER, "A-1,宮地橋,橋梁,完了,100,土木課,,,32.937,131.11879"]),
        "w.csv",
        user=staff,
    )

    assert [r.outcome for r in report.rows] == ["updated"]
    session.refresh(project)
    assert (project.name, project.department, project.status) == ("宮地橋", "土木課", "completed")
    assert project.version == version + 1
    assert count_audits(session, project.id) == audits_before + 1
    change = session.scalars(
        select(ProjectChange)
        .where(ProjectChange.project_id == project.id)
        .order_by(ProjectChange.id.desc())
    ).first()
    assert change.version == project.version and change.user_id == staff.id
    assert {"name", "department", "status", "progress", "actual_end"} <= set(change.changes)
    assert change.changes["status"] == {"old": "construction", "new": "completed"}
    # Still news for residents: a change of status.
    assert count_events(session, project.id) == events_before + 1


def test_a_row_that_changes_the_number_and_status_is_one_edit(session, staff, make_project):
    project = make_project(name="狩尾橋", status="construction", progress=10)
    version = project.version
    audits_before = count_audits(session, project.id)
    report = run(
        session,
        csv_bytes(["ID,事業番号,進捗率", f"{project.id},B-7,40"]),
        "w.csv",
        user=staff,
    )
    assert [r.outcome for r in report.rows] == ["updated"]
    session.refresh(project)
    assert (project.external_id, project.progress, project.version) == ("B-7", 40, version + 1)
    assert count_audits(session, project.id) == audits_before + 1


def count_audits(session, project_id: int) -> int:
    return session.scalar(
        select(func.count())
        .select_from(ProjectChange)
        .where(ProjectChange.project_id == project_id)
    )


def count_events(session, project_id: int) -> int:
    return session.scalar(
        select(func.count()).select_from(OutboxEvent).where(OutboxEvent.project_id == project_id)
    )


def test_a_status_change_the_table_forbids_is_refused_with_the_reason(session, staff):
    run(session, csv_bytes([HEADER, "A-1,橋,橋梁,工事中,30,建設課,,,32.937,131.11879"]), "w.csv")
    report = run(
        session, csv_bytes([HEADER, "A-1,橋,橋梁,未着手,0,建設課,,,32.937,131.11879"]), "w.csv"
    )
    assert report.rows[0].outcome == "refused"
    assert "「工事中」から「未着手」には変更できません" in report.rows[0].reason
    suspend = csv_bytes([HEADER, "A-1,橋,橋梁,中断,30,建設課,,,32.937,131.11879"])
    assert "理由をメモ" in run(session, suspend, "w.csv").rows[0].reason


def test_unrecognised_header_must_be_named_before_importing(session, staff):
    data = csv_bytes(["事業名,種別,担当課,緯度,経度,謎の列", "橋,橋梁,建設課,32.937,131.11879,x"])
    with pytest.raises(UnmappedColumns) as refused:
        run(session, data, "w.csv", user=staff)
    assert refused.value.headers == ["謎の列"]
    report = run(session, data, "w.csv", user=staff, chosen={"謎の列": "description"})
    assert report.counts["created"] == 1
    assert session.scalar(select(Project.description).where(Project.name == "橋")) == "x"


def test_xlsx_with_excel_dates(session, staff):
    book = Workbook()
    sheet = book.active
    sheet.append(["事業番号", "事業名", "種別", "担当課", "計画開始", "WKT"])
    sheet.append(
        [
            "X-1",
            "市道改良",
            "道路",
            "建設課",
            date(2024, 4, 1),
            "LINESTRING (131.10 32.94, 131.10 32.945)",
        ]
    )
    out = io.BytesIO()
    book.save(out)
    report = run(session, out.getvalue(), "works.xlsx", user=staff)
    assert [(r.line, r.outcome) for r in report.rows] == [(2, "created")]
    project = session.scalar(select(Project).where(Project.external_id == "X-1"))
    assert project.kind == "road" and project.planned_start == date(2024, 4, 1)


def test_geojson_import(session, staff):
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": list(MIYAJI)},
                "properties": {"事業名": "GeoJSON の橋", "種別": "橋梁", "担当課": "建設課"},
            },
            {
                "type": "Feature",
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [131.1, 32.9],
                            [131.11, 32.91],
                            [131.11, 32.9],
                            [131.1, 32.91],
                            [131.1, 32.9],
                        ]
                    ],
                },
                "properties": {"事業名": "ねじれた面", "種別": "砂防・治山", "担当課": "建設課"},
            },
        ],
    }
    report = run(session, json.dumps(doc).encode(), "w.geojson", user=staff)
    assert [r.outcome for r in report.rows] == ["created", "refused"]
    assert "invalid" in report.rows[1].reason or "不正" in report.rows[1].reason


def write_shapefile_zip(tmp_path, geoms, fields: dict, *, crs="EPSG:6670", encoding="cp932",
                        cpg=True, prj=True) -> bytes:  # fmt: skip
    from pyogrio import raw

    path = tmp_path / "works.shp"
    raw.write(
        str(path),
        np.array([shapely.to_wkb(g) for g in geoms], dtype=object),
        [np.array(v, dtype=object) for v in fields.values()],
        list(fields),
        driver="ESRI Shapefile",
        geometry_type=geoms[0].geom_type,
        crs=crs,
        encoding=encoding,
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for ext in (
            (".shp", ".shx", ".dbf") + ((".prj",) if prj else ()) + ((".cpg",) if cpg else ())
        ):
            archive.write(tmp_path / f"works{ext}", f"works{ext}")
    return out.getvalue()


def plane_ii(lon, lat):
    """Project lon/lat to JGD2011 平面直角座標系 II (easting, northing)."""
    return Transformer.from_crs("EPSG:6668", "EPSG:6670", always_xy=True).transform(lon, lat)


def test_zipped_shapefile_in_plane_rectangular_ii_without_cpg(session, staff, tmp_path):
    point = Point(*plane_ii(*MIYAJI))
    data = write_shapefile_zip(
        tmp_path, [point], {"name": ["宮地の橋"], "kind": ["橋梁"], "dept": ["建設課"]}, cpg=False
    )
    report = run(session, data, "works.zip", user=staff)
    assert any("cp932" in note for note in report.notes)
    assert any("EPSG:6670" in note for note in report.notes)
    assert report.counts["created"] == 1
    x, y = session.execute(
        select(func.ST_X(Project.geom), func.ST_Y(Project.geom)).where(Project.name == "宮地の橋")
    ).one()
    assert abs(x - MIYAJI[0]) < 1e-7 and abs(y - MIYAJI[1]) < 1e-7


def test_tokyo_datum_is_transformed_not_taken_as_jgd(session, staff, tmp_path):
    # The same spot written in 日本測地系 lon/lat lies about 400 m from its JGD2011 numbers.
    tokyo = Transformer.from_crs("EPSG:6668", "EPSG:4301", always_xy=True).transform(*MIYAJI)
    data = write_shapefile_zip(
        tmp_path, [Point(*tokyo)], {"name": ["旧測地系の橋"], "kind": ["橋梁"], "dept": ["建設課"]},
        crs="EPSG:4301",
    )  # fmt: skip
    report = run(session, data, "works.zip", user=staff)
    assert any("日本測地系" in note for note in report.notes)
    distance = session.scalar(
        select(
            func.ST_Distance(
                func.geography(Project.geom), func.geography(func.ST_MakePoint(*MIYAJI))
            )
        ).where(Project.name == "旧測地系の橋")
    )
    assert distance < 5  # metres: transformed with the datum shift
    raw_offset = Point(*tokyo).distance(Point(*MIYAJI)) * 111_000
    assert raw_offset > 300  # taking the numbers as JGD would have been that far off


def test_unknown_crs_broken_zip_and_large_file_are_refused(session, staff, tmp_path):
    before = count_projects(session)
    data = write_shapefile_zip(
        tmp_path, [Point(*MIYAJI)], {"name": ["x"], "kind": ["橋梁"], "dept": ["建設課"]}, prj=False
    )
    with pytest.raises(BadInput, match="座標系"):
        run(session, data, "works.zip", user=staff)
    with pytest.raises(BadInput, match="zip"):
        run(session, data[: len(data) // 2], "works.zip", user=staff)
    with pytest.raises(BadInput, match="大きすぎます"):
        run(session, b"0" * (50 * 1024 * 1024), "works.csv", user=staff)
    assert MAX_FILE_BYTES < 50 * 1024 * 1024
    assert count_projects(session) == before


def test_chosen_epsg_for_csv_wkt(session, staff):
    x, y = plane_ii(*MIYAJI)
    data = csv_bytes(["事業名,種別,担当課,WKT", f"平面直角の橋,橋梁,建設課,POINT ({x} {y})"])
    report = run(session, data, "w.csv", user=staff, epsg=6670)
    assert report.counts["created"] == 1
    geom = session.scalar(
        select(func.ST_AsText(Project.geom)).where(Project.name == "平面直角の橋")
    )
    assert shapely.from_wkt(geom).distance(Point(*MIYAJI)) < 1e-7


def test_lines_from_gpkg(session, staff, tmp_path):
    from pyogrio import raw

    line = LineString([UCHINOMAKI, (UCHINOMAKI[0] + 0.003, UCHINOMAKI[1])])
    path = tmp_path / "w.gpkg"
    raw.write(
        str(path),
        np.array([shapely.to_wkb(line)], dtype=object),
        [np.array(["内牧の道"], dtype=object), np.array(["道路"], dtype=object),
         np.array(["建設課"], dtype=object)],
        ["事業名", "種別", "担当課"],
        driver="GPKG", geometry_type="LineString", crs="EPSG:6668",
    )  # fmt: skip
    report = run(session, path.read_bytes(), "w.gpkg", user=staff)
    assert report.counts["created"] == 1


def test_a_prj_that_names_no_known_crs_is_refused(session, staff, tmp_path):
    data = write_shapefile_zip(
        tmp_path, [Point(*MIYAJI)], {"name": ["x"], "kind": ["橋梁"], "dept": ["建設課"]}
    )
    archive = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as rewritten:
        for name in archive.namelist():
            body = (
                b'PROJCS["nowhere",GEOGCS["nothing"]]'
                if name.endswith(".prj")
                else archive.read(name)
            )
            rewritten.writestr(name, body)
    before = count_projects(session)
    with pytest.raises(BadInput, match="座標系"):
        run(session, out.getvalue(), "works.zip", user=staff)
    assert count_projects(session) == before


def test_the_works_register_by_japanese_or_english_headers_with_the_same_refusals(session, staff):
    japanese = csv_bytes(
        [
            HEADER + ",事業費,契約額,施工業者,執行額,財源,担当係",
            "C-1,宮地 橋梁補修,橋梁,未着手,0,建設課,R6.4.1,R7.3.31,32.937,131.11879,"
            '"48,510,000",４５１０００００円,阿蘇建設（株）,0,市単独,道路維持係',
        ]
    )
    report = run(session, japanese, "works.csv", user=staff)
    assert report.counts["created"] == 1, report.rows[0].reason
    project = session.scalar(select(Project).where(Project.external_id == "C-1"))
    assert (project.planned_cost, project.contract_amount, project.spent_amount) == (
        48_510_000,
        45_100_000,
        0,
    )
    assert (project.contractor, project.funding, project.responsible_section) == (
        "阿蘇建設（株）",
        "city_own",
        "道路維持係",
    )
    english = "external_id,planned_cost,contract_amount,contractor,spent_amount,funding"
    for row, refusal in (
        ("C-1,-5,,,,", "planned_cost: 金額にマイナスは使えません"),
        ("C-1,,約1億,,,", "contract_amount: 金額は円単位の整数で"),
        ("C-1,,,,12.5,", "spent_amount: 金額は円単位の整数で"),
        ("C-1,,,,,国費", "funding: 「国費」は使えません"),
    ):
        report = run(session, csv_bytes([english, row]), "works.csv", user=staff)
        assert [r.outcome for r in report.rows] == ["refused"], row
        assert report.rows[0].reason.startswith(refusal), report.rows[0].reason
        assert not report.written
    session.refresh(project)
    assert project.planned_cost == 48_510_000
