"""The filtered list as CSV (UTF-8 with BOM, Japanese headers) and as GeoJSON."""

import csv
import io
import json

from shapely.geometry import LineString


def test_csv_opens_in_japanese_excel_with_japanese_headers(client, make_project):
    make_project(
        name="宮地橋 補修",
        kind="bridge",
        status="completed",
        progress=100,
        plan_item_codes=["p1.m2.i1"],
        indicator_codes=["m13_bridges_repaired"],
    )
    make_project(
        name="市道 改良",
        kind="road",
        status="construction",
        progress=30,
        geometry=LineString([(131.10, 32.94), (131.10, 32.945)]),
    )

    response = client.get("/plan/projects.csv?kind=bridge,road")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][:6] == ["ID", "事業名", "種別", "状況", "進捗（%）", "担当課"]
    assert "延長（m）" in rows[0] and "計画項目" in rows[0]
    body = {row[1]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert set(body) == {"宮地橋 補修", "市道 改良"}
    bridge, road = body["宮地橋 補修"], body["市道 改良"]
    assert (bridge["種別"], bridge["状況"], bridge["進捗（%）"]) == ("橋梁", "完了", "100")
    assert bridge["計画項目"] == "p1.m2.i1" and bridge["成果指標"] == "m13_bridges_repaired"
    assert (road["状況"], bridge["延長（m）"]) == ("工事中", "")
    assert abs(float(road["延長（m）"]) - 554.5) < 0.5  # 0.005° along a meridian


def test_csv_defuses_spreadsheet_formulas_in_names(client, make_project):
    make_project(name='=HYPERLINK("http://x")')
    rows = list(
        csv.reader(
            io.StringIO(client.get("/plan/projects.csv?kind=bridge").data.decode("utf-8-sig"))
        )
    )
    assert rows[1][1] == '\'=HYPERLINK("http://x")'


def test_csv_follows_the_filter_and_hides_staff_only_works(
    client, make_project, make_user, login_as
):
    make_project(name="公開の砂防", kind="sabo")
    make_project(name="内部の砂防", kind="sabo", is_public=False)

    def names():
        text = client.get("/plan/projects.csv?kind=sabo").data.decode("utf-8-sig")
        return {row[1] for row in list(csv.reader(io.StringIO(text)))[1:]}

    assert names() == {"公開の砂防"}
    login_as(make_user(role="viewer"))
    assert names() == {"公開の砂防", "内部の砂防"}


def test_geojson_export_downloads_the_filtered_features(client, make_project):
    kept = make_project(name="完了した橋", status="completed", progress=100)
    make_project(name="未着手の橋")
    response = client.get("/plan/projects.geojson?kind=bridge&status=completed&download=1")
    assert response.mimetype == "application/geo+json"
    assert "attachment" in response.headers["Content-Disposition"]
    body = json.loads(response.data)
    assert body["type"] == "FeatureCollection"
    assert [f["id"] for f in body["features"]] == [kept.id]
    assert body["features"][0]["geometry"]["type"] == "Point"
