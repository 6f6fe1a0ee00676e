"""Export then import of the same file changes nothing, in every format."""

from datetime import date

import pytest
from shapely.geometry import LineString, MultiPoint, Point, Polygon
from sqlalchemy import func, select

from tracker.facilities.models import Facility
from tracker.imports.operations import import_table
from tracker.imports.reading import read_table
from tracker.projects.audit import ProjectChange
from tracker.projects.history import StatusUpdate
from tracker.worksfiles.columns import recognise

FORMATS = {
    "csv": "projects.csv",
    "xlsx": "projects.xlsx",
    "gpkg": "projects.gpkg",
    "shp.zip": "projects.shp.zip",
    "geojson": "projects.geojson?download=1",
}


@pytest.fixture
def works(make_project, session):
    """A few works of every shape, status and field the exports carry."""
    shelter_id = session.scalar(select(Facility.id).order_by(Facility.id).limit(1))
    made = [
        make_project(
            name="宮地橋 補修",
            kind="bridge",
            status="completed",
            progress=100,
            actual_start=date(2022, 5, 1),
            actual_end=date(2023, 2, 1),
            plan_item_codes=["p1.m2.i1"],
            indicator_codes=["m13_bridges_repaired"],
            external_id="R6-001",
            description="- 支承の取替え",
            details={"bridge_number": "B-12", "span_m": 35.5},
            planned_cost=48_510_000,
            contract_amount=45_100_000,
            contractor="=阿蘇建設（株）",
            spent_amount=45_100_000,
            funding="disaster_recovery",
            responsible_section="道路維持係",
        ),
        make_project(
            name='=HYPERLINK("x") 市道',
            kind="road",
            status="construction",
            progress=30,
            geometry=LineString([(131.10, 32.94), (131.10123456789, 32.945)]),
            is_public=False,
        ),
        make_project(
            name="内牧 砂防",
            kind="sabo",
            geometry=Polygon([(131.04, 32.94), (131.05, 32.94), (131.05, 32.95), (131.04, 32.94)]),
            planned_start=None,
            planned_end=None,
        ),
        make_project(
            name="避難所 耐震化（2棟）",
            kind="seismic",
            geometry=MultiPoint([(131.11, 32.93), (131.12, 32.935)]),
            facility_id=shelter_id,
            planned_cost=120_000_000,
            funding="social_capital_grant",
        ),
        make_project(name="点の橋", kind="bridge", geometry=Point(131.118791234567, 32.9371234567)),
    ]
    return made


def history_and_audit_size(session) -> tuple[int, int]:
    return (
        session.scalar(select(func.count()).select_from(StatusUpdate)),
        session.scalar(select(func.count()).select_from(ProjectChange)),
    )


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_export_then_import_changes_nothing(fmt, client, session, make_user, login_as, works):
    user = make_user(role="staff")
    login_as(user)
    path, _sep, query = FORMATS[fmt].partition("?")
    response = client.get(f"/plan/{path}?kind=bridge,road,sabo,seismic&{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    filename = "export." + ("zip" if fmt == "shp.zip" else fmt)
    table = read_table(response.data, filename)
    # Staff exports carry the whole works register and the facility a work is on.
    register = {"planned_cost", "contract_amount", "contractor", "spent_amount", "funding",
                "responsible_section", "facility_id"}  # fmt: skip
    assert register <= set(recognise(table.headers).values())
    before = history_and_audit_size(session)

    report = import_table(session, table, user=user, dry_run=False)

    outcomes = [(r.line, r.name, r.outcome, r.reason) for r in report.rows]
    ours = {r.project_id for r in report.rows}
    assert {w.id for w in works} <= ours
    assert all(r.outcome == "unchanged" for r in report.rows), outcomes
    assert history_and_audit_size(session) == before


def test_shapefile_export_is_cp932_with_short_field_names(client, works):
    import io
    import zipfile

    from tracker.worksfiles.columns import SHAPEFILE_NAMES

    data = client.get("/plan/projects.shp.zip?kind=bridge").data
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = sorted(archive.namelist())
    assert names == [f"aso_projects_point.{ext}" for ext in ("cpg", "dbf", "prj", "shp", "shx")]
    assert archive.read("aso_projects_point.cpg").decode().strip().upper() in ("CP932", "932")
    dbf = archive.read("aso_projects_point.dbf")
    assert "宮地橋 補修".encode("cp932") in dbf and "橋梁".encode("cp932") in dbf
    count = (int.from_bytes(dbf[8:10], "little") - 33) // 32
    fields = {dbf[32 + 32 * i : 43 + 32 * i].split(b"\0")[0].decode() for i in range(count)}
    # The description stays out: a .dbf text field holds 254 bytes.
    # So do the works register's spending, funding and section: for signed-in users only.
    internal = ("description", "spent_amount", "funding", "responsible_section")
    expected = {n for f, n in SHAPEFILE_NAMES.items() if f not in internal}
    assert fields == expected and all(len(n) <= 10 for n in fields)
    assert "JGD_2011" in archive.read("aso_projects_point.prj").decode()


def test_xlsx_export_has_japanese_headers_and_defused_text(client, works, make_user, login_as):
    import io

    from openpyxl import load_workbook

    login_as(make_user(role="viewer"))
    data = client.get("/plan/projects.xlsx?kind=road").data
    sheet = load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("ID", "事業名", "種別", "状況")
    assert rows[0][-1] == "形状（WKT）"
    assert rows[1][1] == '=HYPERLINK("x") 市道'
    assert sheet.cell(2, 2).data_type == "s"
