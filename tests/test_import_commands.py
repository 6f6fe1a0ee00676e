"""The command-line import of works lists and of hazard layers."""

from sqlalchemy import func, select

from tests.hazard_files import a33_zip, square
from tracker.hazards.models import HazardZone
from tracker.projects.models import Project

ROWS = "事業番号,事業名,種別,担当課,緯度,経度\r\nC-1,宮地の橋,橋梁,建設課,32.937,131.11879\r\n"


def test_import_projects_dry_run_then_import(app, session, tmp_path):
    path = tmp_path / "works.csv"
    path.write_bytes(ROWS.encode("cp932"))
    runner = app.test_cli_runner()

    dry = runner.invoke(args=["import-projects", str(path), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "文字コード: Shift_JIS（cp932）" in dry.output and "2: 追加 宮地の橋" in dry.output
    assert session.scalar(select(Project).where(Project.external_id == "C-1")) is None

    done = runner.invoke(args=["import-projects", str(path)])
    assert done.exit_code == 0 and "取り込みました" in done.output
    assert session.scalar(select(Project.name).where(Project.external_id == "C-1")) == "宮地の橋"


def test_import_projects_refuses_and_says_why(app, session, tmp_path):
    path = tmp_path / "works.csv"
    path.write_bytes((ROWS + "C-2,遠い橋,橋梁,建設課,33.5,131.5\r\n").encode())
    result = app.test_cli_runner().invoke(args=["import-projects", str(path)])
    assert result.exit_code != 0
    assert "3: 取込不可 遠い橋" in result.output and "何も書き込んでいません" in result.output
    assert session.scalar(select(func.count()).where(Project.external_id.in_(["C-1", "C-2"]))) == 0

    odd = tmp_path / "odd.csv"
    odd.write_bytes("事業名,謎\r\nx,y\r\n".encode())
    result = app.test_cli_runner().invoke(args=["import-projects", str(odd)])
    assert result.exit_code != 0 and "「謎」" in result.output


def test_import_hazards_command(app, session, tmp_path):
    path = tmp_path / "A33.zip"
    path.write_bytes(a33_zip(tmp_path / "a33", [(square(131.11879, 32.937), 2, 1, "宮地川")]))
    result = app.test_cli_runner().invoke(args=["import-hazards", str(path), "--kind", "sediment"])
    assert result.exit_code == 0, result.output
    assert "cp932" in result.output and "市にかかる 1" in result.output
    assert session.scalar(select(HazardZone.hazard)) == "debris_flow"

    wrong = app.test_cli_runner().invoke(args=["import-hazards", str(path), "--kind", "flood"])
    assert wrong.exit_code != 0 and "A31_001" in wrong.output
    assert session.scalar(select(func.count()).select_from(HazardZone)) == 1
