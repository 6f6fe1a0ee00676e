"""The downloadable template: the headers the import reads, with one example row."""

import csv
import io

from tracker.worksfiles.columns import FIELDS

# (header, example) in the order the template lists them.
TEMPLATE = [
    ("事業番号", "R6-001"),
    ("事業名", "市道○○線 道路改良（例）"),
    ("種別", "道路"),
    ("状況", "設計中"),
    ("進捗（%）", 10),
    ("担当課", "建設課"),
    ("予定開始", "R6.4.1"),
    ("予定終了", "令和7年3月31日"),
    ("実績開始", ""),
    ("実績終了", ""),
    ("公開", "公開"),
    ("説明", "例の行です。消してから使ってください"),
    ("計画項目", "p1.m2.i1"),
    ("成果指標", "m13_road_improved"),
    ("更新メモ", ""),
    ("緯度", ""),
    ("経度", ""),
    ("形状（WKT）", "LINESTRING (131.1 32.94, 131.1 32.945)"),
    ("施設ID", ""),
    ("事業費（円）", 48510000),
    ("契約額（円）", ""),
    ("施工業者", ""),
    ("執行額（円）", ""),
    ("財源", "社会資本整備総合交付金"),
    ("担当係", "道路維持係"),
]
assert all(any(h in headers for headers in FIELDS.values()) for h, _v in TEMPLATE)


def template_csv() -> bytes:
    """Return the template as CSV for Excel (UTF-8 with BOM)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([h for h, _v in TEMPLATE])
    writer.writerow([v for _h, v in TEMPLATE])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def template_xlsx() -> bytes:
    """Return the template as an Excel workbook."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.worksheet.worksheet import Worksheet

    book = Workbook()
    sheet = book.active
    if not isinstance(sheet, Worksheet):
        raise TypeError("a new workbook starts with a worksheet")
    sheet.title = "事業一覧"
    sheet.append([h for h, _v in TEMPLATE])
    sheet.append([v for _h, v in TEMPLATE])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
