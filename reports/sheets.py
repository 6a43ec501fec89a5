"""Excel score sheets (`report … --format xlsx`): the official table of a unit's self-assessment and
the province's ranking, from the same context as the HTML. Numbers are numbers (exact values,
shown with 2 decimals); every cell goes through `office.put`.
"""
from __future__ import annotations

from typing import Any, Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from .office import put, workbook_bytes

THIN = Side(style="thin", color="000000")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEAD_FILL = PatternFill("solid", fgColor="EEF0F4")
AREA_FILL = PatternFill("solid", fgColor="DFE4EC")
CRITERION_FILL = PatternFill("solid", fgColor="F3F5F8")
WRAP = Alignment(wrap_text=True, vertical="top")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
FONT = "Times New Roman"

UNIT_COLUMNS = (("STT", 7), ("Lĩnh vực / tiêu chí / tiêu chí thành phần", 48), ("Điểm tối đa", 9),
                ("Tự đánh giá", 9), ("Thẩm định", 9), ("Tài liệu kiểm chứng", 26), ("Giải trình", 40))


def _page_setup(ws: Any, header_rows: str, landscape: bool) -> None:
    """A4, fit to the page width (as many pages down as needed), header rows on every page."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = header_rows
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.print_options.horizontalCentered = True


def _letterhead(ws: Any, issuer_lines: Sequence[str], date_line: str, width: int) -> int:
    """Issuing body on the left, the national motto on the right; returns the next free row."""
    split = max(2, width // 2 - 1)
    motto = ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", date_line]
    for i in range(max(len(issuer_lines), len(motto))):
        row = i + 1
        if i < len(issuer_lines):
            ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=split)
            c = put(ws, row, 1, issuer_lines[i])
            c.font, c.alignment = Font(name=FONT, bold=True), CENTER
        if i < len(motto):
            ws.merge_cells(start_row=row, start_column=split + 1, end_row=row, end_column=width)
            c = put(ws, row, split + 1, motto[i])
            c.font = Font(name=FONT, bold=i < 2, italic=i == 2)
            c.alignment = CENTER
    return max(len(issuer_lines), len(motto)) + 2


def _title(ws: Any, row: int, width: int, text: str, bold: bool = True, italic: bool = False) -> int:
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
    c = put(ws, row, 1, text)
    c.font, c.alignment = Font(name=FONT, bold=bold, italic=italic, size=13 if bold else 11), CENTER
    ws.row_dimensions[row].height = 32 if len(text) > 90 else 18
    return row + 1


def _head(c: Any) -> None:
    c.font, c.alignment, c.border, c.fill = Font(name=FONT, bold=True), CENTER, BOX, HEAD_FILL


def _body(c: Any, bold: bool = False, fill: Any = None, align: Any = WRAP) -> None:
    c.font, c.alignment, c.border = Font(name=FONT, bold=bold), align, BOX
    if fill is not None:
        c.fill = fill


def unit_workbook(ctx: dict) -> bytes:
    """The self-assessment form as a sheet `Bảng điểm`, and its citations under the table."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Bảng điểm"
    width = len(UNIT_COLUMNS)
    for i, (_, w) in enumerate(UNIT_COLUMNS, 1):
        ws.column_dimensions[get_column_letter(i)].width = w
    p = ctx["profile"]
    lines = ([p["unit_parent"]] if p["unit_parent"] else []) + [ctx["unit"]["name_upper"]]
    place = f"{p['place']}, " if p["place"] else ""
    row = _letterhead(ws, lines, place + ctx["report_date"], width)
    row = _title(ws, row, width, ctx["title"])
    row = _title(ws, row, width, f"({ctx['criteria']['basis']})", bold=False, italic=True)
    row = _title(ws, row, width, f"Đơn vị: {ctx['unit']['name']} ({ctx['unit']['type_label']}); "
                                 f"năm đánh giá: {ctx['period']}", bold=False)
    row += 1
    top = row
    # Header: STT, title, max, then "Điểm" over self/appraised, then evidence and explanation.
    for col, (label, _) in enumerate(UNIT_COLUMNS, 1):
        if col in (4, 5):
            _head(put(ws, row + 1, col, label))
            continue
        ws.merge_cells(start_row=row, start_column=col, end_row=row + 1, end_column=col)
        _head(put(ws, row, col, label))
        _head(ws.cell(row=row + 1, column=col))
    ws.merge_cells(start_row=row, start_column=4, end_row=row, end_column=5)
    _head(put(ws, row, 4, "Điểm"))
    _head(ws.cell(row=row, column=5))
    for col in range(1, width + 1):
        c = put(ws, row + 2, col, f"({col})")
        _body(c, align=CENTER)
        c.font = Font(name=FONT, italic=True, size=9)
    header_rows = f"{top}:{row + 2}"
    row += 3
    for r in ctx["rows"]:
        bold = r["kind"] != "item"
        fill = AREA_FILL if r["kind"] == "area" else CRITERION_FILL if r["kind"] == "criterion" else None
        v = r["values"]
        title = r["title"] + (f"\n{r['result']}" if r["result"] else "")
        explanation = "\n".join((["Cần giải trình."] if r["needs_explanation"] else []) + r["explanation"])
        cells = [r["stt"], title, v["max"],
                 "Không áp dụng" if r["not_applicable"] else v["self"],
                 None if r["not_applicable"] else v["appraised"],
                 r.get("refs_text", "") if r["kind"] == "item" else "", explanation]
        for col, value in enumerate(cells, 1):
            _body(put(ws, row, col, value), bold=bold, fill=fill,
                  align=CENTER if col == 1 else WRAP)
        if r["not_applicable"]:
            ws.merge_cells(start_row=row, start_column=4, end_row=row, end_column=5)
        row += 1
    t = ctx["total"]["values"]
    for label, mx, own, appraised in (("TỔNG ĐIỂM", t["max"], t["self"], t["appraised"]),
                                      ("CHỈ SỐ CẢI CÁCH HÀNH CHÍNH (%)", 100, t["self_index"], t["appraised_index"])):
        for col, value in enumerate(("", label, mx, own, appraised, "", ""), 1):
            _body(put(ws, row, col, value), bold=True, fill=AREA_FILL)
        row += 1
    ws.freeze_panes = ws.cell(row=top + 3, column=3)
    if ctx["citations"]:
        row += 1
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
        put(ws, row, 1, "Tài liệu kiểm chứng").font = Font(name=FONT, bold=True)
        for c in ctx["citations"]:
            row += 1
            put(ws, row, 1, f"[{c['no']}]").font = Font(name=FONT)
            ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=width)
            put(ws, row, 2, c["text"]).font = Font(name=FONT)
    if ctx.get("warnings"):  # what the criteria set's consistency rules say of the unit's figures
        row += 1
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
        put(ws, row, 1, "Cảnh báo về tính nhất quán của số liệu").font = Font(name=FONT, bold=True)
        for w in ctx["warnings"]:
            row += 1
            ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
            put(ws, row, 1, w).font = Font(name=FONT)
    _page_setup(ws, header_rows, landscape=True)
    return workbook_bytes(wb)


def province_workbook(ctx: dict) -> bytes:
    """One sheet per group (ranking, class, last year when known) and a sheet of class counts."""
    wb = Workbook()
    wb.remove(wb.active)
    prev = ctx["has_previous"]
    columns = [("Thứ hạng", 9), ("Đơn vị", 42), ("Điểm đạt", 10), ("Điểm tối đa", 10), ("Chỉ số (%)", 10),
               ("Xếp loại", 14)]
    if prev:
        py = ctx["previous_period"]
        columns += [(f"Chỉ số năm {py} (%)", 11), ("Tăng/giảm (điểm %)", 11), (f"Thứ hạng năm {py}", 10)]
    p = ctx["profile"]
    place = f"{p['place']}, " if p["place"] else ""
    counts_ws = None
    for g in ctx["groups"]:
        ws = wb.create_sheet(_sheet_title(g["label"], wb.sheetnames))
        width = len(columns)
        for i, (_, w) in enumerate(columns, 1):
            ws.column_dimensions[get_column_letter(i)].width = w
        row = _letterhead(ws, p["issuer_lines"], place + ctx["report_date"], width)
        row = _title(ws, row, width, ctx["title"])
        row = _title(ws, row, width, g["label"], bold=False)
        top = row + 1
        row = top
        if prev:  # last year's columns under one merged heading
            for col, (label, _) in enumerate(columns[:6], 1):
                ws.merge_cells(start_row=row, start_column=col, end_row=row + 1, end_column=col)
                _head(put(ws, row, col, label))
                _head(ws.cell(row=row + 1, column=col))
            ws.merge_cells(start_row=row, start_column=7, end_row=row, end_column=9)
            _head(put(ws, row, 7, "So với năm trước"))
            for col in (8, 9):
                _head(ws.cell(row=row, column=col))
            for col, (label, _) in enumerate(columns[6:], 7):
                _head(put(ws, row + 1, col, label))
            row += 2
        else:
            for col, (label, _) in enumerate(columns, 1):
                _head(put(ws, row, col, label))
            row += 1
        header_rows = f"{top}:{row - 1}"
        for u in g["units"]:
            v = u["values"]
            cells = [v["rank"], u["name"], v["points"], v["max"], v["index"], u["class"]]
            if prev:
                cells += [v["previous_index"], v["index_change"], v["previous_rank"]]
            for col, value in enumerate(cells, 1):
                _body(put(ws, row, col, value), align=CENTER if col in (1, 6, 9) else WRAP)
            row += 1
        ws.freeze_panes = ws.cell(row=top + (2 if prev else 1), column=3)
        _page_setup(ws, header_rows, landscape=prev)
        if counts_ws is None:
            counts_ws = wb.create_sheet("Xếp loại")
            for col, (label, w) in enumerate((("Nhóm", 40), ("Xếp loại", 16), ("Số đơn vị", 12)), 1):
                counts_ws.column_dimensions[get_column_letter(col)].width = w
                _head(put(counts_ws, 1, col, label))
            _page_setup(counts_ws, "1:1", landscape=False)
        for c in g["class_counts"] + [{"label": "Tổng", "count": g["size"]}]:
            r = counts_ws.max_row + 1
            for col, value in enumerate((g["label"], c["label"], c["count"]), 1):
                _body(put(counts_ws, r, col, value), bold=c["label"] == "Tổng")
    if ctx["ungrouped"]:
        ws = wb.create_sheet("Không xếp hạng")
        for col, label in enumerate(("Đơn vị", "Loại đơn vị", "Điểm đạt", "Điểm tối đa", "Chỉ số (%)"), 1):
            _head(put(ws, 1, col, label))
            ws.column_dimensions[get_column_letter(col)].width = 40 if col == 1 else 14
        for r, u in enumerate(ctx["ungrouped"], 2):
            v = u["values"]
            for col, value in enumerate((u["name"], u["type_label"], v["points"], v["max"], v["index"]), 1):
                _body(put(ws, r, col, value))
        _page_setup(ws, "1:1", landscape=False)
    if not wb.sheetnames:
        put(wb.create_sheet("Xếp hạng"), 1, 1, "Không có đơn vị nào.")
    return workbook_bytes(wb)


def _sheet_title(label: str, taken: Sequence[str]) -> str:
    """A sheet name Excel accepts (≤ 31 characters, none of []:*?/\\), unique in the workbook."""
    base = "".join(" " if ch in "[]:*?/\\" else ch for ch in label).strip()[:31] or "Nhóm"
    name, n = base, 2
    while name in taken:
        suffix = f" ({n})"
        name, n = base[:31 - len(suffix)] + suffix, n + 1
    return name
