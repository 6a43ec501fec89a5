"""Reports as Excel, Word and PDF files, opened with their own libraries (openpyxl, python-docx,
pypdf): what a reader sees — unit name, totals, index, rows, A4 pages, embedded fonts — and what a
spreadsheet program must never do (run text as a formula). Also the province profile and the
print fixes (full unit names, chart values clear of threshold lines, citations once per form).
"""
from __future__ import annotations

import io
import json
import re
import zipfile
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from test_reports import CRITERIA, province  # noqa: F401  (the province fixture)

ROOT = Path(__file__).resolve().parent.parent
PROFILE = ROOT / "profiles" / "tien-giang.yaml"
A4_PT = (595.28, 841.89)
FORMULA_TEXTS = ["=HYPERLINK(\"http://x\",\"y\")", "+1+2", "-3-4", "@SUM(A1)", "\tTab", "\rCR"]


# The units whose PDF is made (a department's, which the tests read, and a commune's): laying out a
# PDF costs about a second of CPU a unit, and the other units' PDFs were made only to be thrown away.
PDF_UNITS = ("so-tai-chinh", "xa-an-binh")


@pytest.fixture(scope="module")
def files(province):  # noqa: F811
    from reports import province_report_files, unit_report_files

    out = unit_report_files([province / "units"], CRITERIA, kinds=("xlsx", "docx"), report_date="2024-01-15",
                            profile=PROFILE)
    out.update(unit_report_files([province / "units" / f"{uid}.json" for uid in PDF_UNITS], CRITERIA,
                                 kinds=("pdf",), report_date="2024-01-15", profile=PROFILE))
    out.update(province_report_files(province, criteria=CRITERIA, kinds=("xlsx", "docx", "pdf"), profile=PROFILE))
    return out


def result(province, uid: str) -> dict:  # noqa: F811
    return json.loads((province / "units" / f"{uid}.json").read_text("utf-8"))


def number(cell) -> Fraction:
    return Fraction(Decimal(repr(cell.value)) if isinstance(cell.value, float) else cell.value)


# ---------------------------------------------------------------- Excel

def test_unit_sheet_is_the_official_table_with_real_numbers(files, province):  # noqa: F811
    import openpyxl

    doc = result(province, "so-tai-chinh")
    wb = openpyxl.load_workbook(io.BytesIO(files["so-tai-chinh.xlsx"]))
    ws = wb["Bảng điểm"]
    texts = {c.coordinate: c.value for row in ws.iter_rows() for c in row if c.value is not None}
    head_row = next(c.row for c in ws["A"] if c.value == "STT")
    assert [ws.cell(head_row, c).value for c in range(1, 8)] == [
        "STT", "Lĩnh vực / tiêu chí / tiêu chí thành phần", "Điểm tối đa", "Điểm", None,
        "Tài liệu kiểm chứng", "Giải trình"]
    assert [ws.cell(head_row + 1, c).value for c in (4, 5)] == ["Tự đánh giá", "Thẩm định"]
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert f"D{head_row}:E{head_row}" in merged and f"A{head_row}:A{head_row + 1}" in merged
    assert "SỞ TÀI CHÍNH" in texts.values() and "UBND TỈNH TIỀN GIANG" in texts.values()
    # one row per area, criterion and sub-criterion, then the two total rows
    body = [r for r in range(head_row + 3, ws.max_row + 1) if ws.cell(r, 2).value]
    codes = [ws.cell(r, 1).value for r in body]
    assert len([c for c in codes if c and c.count(".") == 2]) == len(doc["items"]) == 11
    total_row = next(r for r in body if ws.cell(r, 2).value == "TỔNG ĐIỂM")
    index_row = total_row + 1
    self_total = sum(Fraction(i["self_points"] if i.get("self_points") is not None else i["points"])
                     for i in doc["items"] if i["status"] != "not_applicable")
    assert number(ws.cell(total_row, 3)) == Fraction(doc["total"]["max"])
    assert number(ws.cell(total_row, 4)) == self_total
    assert number(ws.cell(total_row, 5)) == Fraction(doc["total"]["points"])
    assert abs(number(ws.cell(index_row, 5)) - Fraction(doc["total"]["index"])) < Fraction(1, 10**12)
    assert ws.cell(total_row, 4).data_type == "n" and "0.00" in ws.cell(total_row, 4).number_format
    # print set-up: A4, fit to width, the header rows on every page
    assert ws.page_setup.paperSize == 9 and ws.page_setup.fitToWidth == 1
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == f"${head_row}:${head_row + 2}"
    # citations: numbers in the table, each document once under it
    refs = [ws.cell(r, 6).value for r in body if ws.cell(r, 6).value]
    assert refs and all(re.fullmatch(r"\[\d+\](, \[\d+\])*", x) for x in refs)
    listed = [ws.cell(r, 1).value for r in range(total_row + 2, ws.max_row + 1) if ws.cell(r, 1).value]
    assert listed[0] == "Tài liệu kiểm chứng" and listed[1:] == [f"[{n}]" for n in range(1, len(listed))]


def test_province_sheet_ranks_with_real_numbers(files, province):  # noqa: F811
    import openpyxl

    doc = json.loads((province / "round.json").read_text("utf-8"))
    wb = openpyxl.load_workbook(io.BytesIO(files["province.xlsx"]))
    for g in doc["groups"]:
        ws = next(wb[n] for n in wb.sheetnames if n == g["label"][:31])
        head = next(c.row for c in ws["A"] if c.value == "Thứ hạng")
        first = head + 2  # last year's columns sit under one merged heading
        rows = [r for r in range(first, ws.max_row + 1) if ws.cell(r, 2).value]
        assert [ws.cell(r, 2).value for r in rows] == [u["name"] for u in g["units"]]
        for r, u in zip(rows, g["units"]):
            assert ws.cell(r, 1).value == u["rank"]
            assert abs(number(ws.cell(r, 5)) - Fraction(u["index"])) < Fraction(1, 10**12)
            assert ws.cell(r, 6).value == u["class"]
        assert ws.page_setup.paperSize == 9 and ws.print_title_rows == f"${head}:${head + 1}"
    counts = wb["Xếp loại"]
    got = {(r[0].value, r[1].value): r[2].value for r in counts.iter_rows(min_row=2)}
    for g in doc["groups"]:
        for c in g["class_counts"]:
            assert got[(g["label"], c["class"])] == c["count"]


def _xlsx_writers(tmp_path, province):  # noqa: F811
    """Every xlsx this project writes, each fed text that looks like a formula."""
    from engine import load_criteria
    from reports import province_report_files, unit_report_files
    from reports.intake import IntakeUnit, intake_workbook

    doc = result(province, "so-noi-vu")
    doc["unit"]["name"] = FORMULA_TEXTS[0]
    doc["items"][0]["inputs"][0]["citation"]["document"] = FORMULA_TEXTS[1]
    doc["items"][1]["reason"] = FORMULA_TEXTS[2]
    unit_file = tmp_path / "unit.json"
    unit_file.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    rd = json.loads((province / "round.json").read_text("utf-8"))
    for u, text in zip(rd["groups"][0]["units"], FORMULA_TEXTS[3:]):
        u["name"] = text
    rd["groups"][0]["label"] = FORMULA_TEXTS[0]
    folder = tmp_path / "round"
    folder.mkdir()
    (folder / "round.json").write_text(json.dumps(rd, ensure_ascii=False), encoding="utf-8")
    cs = load_criteria(CRITERIA)
    return {
        "unit": unit_report_files([unit_file], CRITERIA, kinds=("xlsx",))["so-noi-vu.xlsx"],
        "province": province_report_files(folder, kinds=("xlsx",))["province.xlsx"],
        "intake": intake_workbook(cs, IntakeUnit("x", FORMULA_TEXTS[4], "department"),
                                  {m: t for m, t in zip(sorted(cs.metrics), FORMULA_TEXTS)}),
    }


@pytest.mark.parametrize("writer", ["unit", "province", "intake"])
def test_no_xlsx_writer_lets_text_become_a_formula(tmp_path, province, writer):  # noqa: F811
    import openpyxl

    data = _xlsx_writers(tmp_path, province)[writer]
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/sheet"):
                assert b"<f>" not in z.read(name) and b"<f " not in z.read(name), name
    wb = openpyxl.load_workbook(io.BytesIO(data))
    seen = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value.startswith(("=", "+", "-", "@", "\t", "\r")):
                    assert c.data_type == "s" and c.quotePrefix, (ws.title, c.coordinate, c.value)
                    seen.add(c.value)
    assert seen & set(FORMULA_TEXTS), "the hostile texts were written"


def test_put_writes_exact_numbers_and_plain_text():
    from openpyxl import Workbook

    from reports.office import put

    ws = Workbook().active
    assert put(ws, 1, 1, Fraction(9354, 100)).value == Decimal("93.54")
    assert put(ws, 1, 2, Fraction(1, 3)).value == Decimal(1) / Decimal(3)
    c = put(ws, 1, 3, "=1+1")
    assert (c.value, c.data_type, c.quotePrefix) == ("=1+1", "s", True)
    assert put(ws, 1, 4, "a\x00b").value == "ab"  # a control character an .xlsx cannot hold


# ---------------------------------------------------------------- Word

def test_unit_docx_reads_as_the_form(files, province):  # noqa: F811
    import docx
    from docx.shared import Mm

    doc = result(province, "so-tai-chinh")
    d = docx.Document(io.BytesIO(files["so-tai-chinh.docx"]))
    text = "\n".join(p.text for p in d.paragraphs)
    assert "BẢNG TỰ ĐÁNH GIÁ, CHẤM ĐIỂM CHỈ SỐ CẢI CÁCH HÀNH CHÍNH NĂM 2023" in text
    assert "Đơn vị: Sở Tài chính" in text and "chỉ số CCHC: 54,95 %" in text
    assert "Tổng điểm tự đánh giá: 11,74; tổng điểm thẩm định: 10,99" in text
    letterhead = d.tables[0].rows[0].cells[0].text
    assert "UBND TỈNH TIỀN GIANG" in letterhead and "SỞ TÀI CHÍNH" in letterhead
    assert "Tiền Giang, ngày 15 tháng 01 năm 2024" in d.tables[0].rows[0].cells[1].text
    table = d.tables[1]
    rows = [[c.text for c in r.cells] for r in table.rows]
    body = rows[3:]
    assert len(body) == 3 + 4 + len(doc["items"]) + 2  # areas, criteria, items, totals
    assert body[-2][1:5] == ["TỔNG ĐIỂM", "20,00", "11,74", "10,99"]
    assert body[-1][3:5] == ["58,70 %", "54,95 %"]
    assert "Tài liệu kiểm chứng" in text and re.search(r"^\[1\] ", text, re.M)
    section = d.sections[0]
    assert abs(section.page_width - Mm(210)) < Mm(1) and abs(section.page_height - Mm(297)) < Mm(1)


def test_province_docx_lists_every_unit_and_the_signer(files, province):  # noqa: F811
    import docx

    rd = json.loads((province / "round.json").read_text("utf-8"))
    d = docx.Document(io.BytesIO(files["province.docx"]))
    ranking = d.tables[1:1 + len(rd["groups"])]
    for g, t in zip(rd["groups"], ranking):
        names = [r.cells[1].text for r in t.rows[1:]]
        assert names == [u["name"] for u in g["units"]]
        assert t.rows[1].cells[4].text == g["units"][0]["index_display"].replace(".", ",")
    signature = d.tables[-1].rows[0].cells
    assert "GIÁM ĐỐC" in signature[1].text and "Lưu VT, CCHC" in signature[0].text
    assert "SỞ NỘI VỤ" in d.tables[0].rows[0].cells[0].text


def test_a_province_restyles_the_word_template(tmp_path, province):  # noqa: F811
    import docx

    from reports import unit_report_files
    from reports.render import SHIPPED

    own = tmp_path / "templates"
    own.mkdir()
    d = docx.Document(str(SHIPPED / "unit.docx"))
    d.add_paragraph("Mẫu của tỉnh: {{ unit.name }} đạt {{ total.index }}")
    d.save(str(own / "unit.docx"))
    out = unit_report_files([province / "units" / "so-noi-vu.json"], CRITERIA, kinds=("docx",), templates=own)
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(out["so-noi-vu.docx"])).paragraphs)
    assert "Mẫu của tỉnh: Sở Nội vụ đạt 97,20 %" in text


# ---------------------------------------------------------------- PDF

def _pdf(data: bytes):
    import pypdf

    return pypdf.PdfReader(io.BytesIO(data))


def embedded_fonts(reader) -> set[str]:
    names = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                d = descendant.get_object()["/FontDescriptor"].get_object()
                assert any(k in d for k in ("/FontFile", "/FontFile2", "/FontFile3")), d["/FontName"]
                names.add(str(d["/FontName"]).split("+")[-1])
    return names


def test_unit_pdf_is_a4_with_its_figures_and_embedded_vietnamese_fonts(files):
    reader = _pdf(files["so-tai-chinh.pdf"])
    for page in reader.pages:
        box = page.mediabox
        assert abs(float(box.width) - A4_PT[0]) < 1 and abs(float(box.height) - A4_PT[1]) < 1
    text = "\n".join(p.extract_text() for p in reader.pages)
    for expected in ("BẢNG TỰ ĐÁNH GIÁ, CHẤM ĐIỂM", "Sở Tài chính", "11,74", "10,99", "54,95 %", "TỔNG ĐIỂM",
                     "Tiền Giang, ngày 15 tháng 01 năm 2024"):
        assert expected in text, expected
    fonts = embedded_fonts(reader)
    assert fonts and all(f.startswith("DejaVu-Serif") for f in fonts), fonts  # one family, every glyph
    assert len(reader.pages) <= 4


def test_province_pdf_first_page_is_not_blank(files, province):  # noqa: F811
    rd = json.loads((province / "round.json").read_text("utf-8"))
    reader = _pdf(files["province.pdf"])
    first = reader.pages[0].extract_text()
    g = rd["groups"][0]
    assert "BÁO CÁO TỔNG HỢP" in first and f"I. {g['label'].upper()}" in first
    assert all(u["name"] in first for u in g["units"])  # its chart and ranking start on page 1


def test_the_same_inputs_give_the_same_bytes(province):  # noqa: F811
    from reports import unit_report_files

    one = unit_report_files([province / "units" / "so-noi-vu.json"], CRITERIA, kinds=("xlsx", "docx", "pdf"))
    two = unit_report_files([province / "units" / "so-noi-vu.json"], CRITERIA, kinds=("xlsx", "docx", "pdf"))
    assert one == two


# ---------------------------------------------------------------- who issues the document; print fixes

def test_profile_names_the_issuer_and_signer_and_nothing_internal(files):
    import pypdf  # noqa: F401

    text = "\n".join(p.extract_text() for p in _pdf(files["province.pdf"]).pages)
    assert "UBND TỈNH TIỀN GIANG" in text and "SỞ NỘI VỤ" in text and "GIÁM ĐỐC" in text
    assert "Nơi nhận" in text


def test_a_prose_decision_is_not_printed_as_the_basis():
    from reports.text import basis

    assert basis("Bộ tiêu chí X", "Xây dựng từ Kế hoạch — không phải văn bản ban hành bộ chỉ số",
                 "Chủ tịch UBND tỉnh (ban hành kế hoạch)") == "Theo Bộ tiêu chí X"
    assert basis("Bộ chỉ số", "1/QĐ-UBND", "UBND tỉnh") == "Theo Bộ chỉ số ban hành kèm theo Quyết định số 1/QĐ-UBND của UBND tỉnh"


def test_the_shipped_criteria_sets_print_no_internal_caveat(tmp_path):
    from engine import load_criteria
    from reports.province import province_context
    from reports.unit import unit_context  # noqa: F401

    for path in sorted((ROOT / "criteria").glob("*.yaml")):
        cs = load_criteria(path)
        ctx = province_context({"criteria": {"id": cs.id, "title": cs.title, "decision": cs.decision},
                                "groups": [], "period": "2023"}, cs)
        printed = " ".join([ctx["criteria"]["basis"], ctx["issuer"], *ctx["profile"]["signer_lines"]])
        assert "không phải văn bản ban hành" not in printed and "(ban hành kế hoạch)" not in printed, path.name


def test_profile_errors_are_located(tmp_path):
    from engine.core.errors import InputError
    from reports.profile import load_profile

    bad = tmp_path / "p.yaml"
    bad.write_text("format: cchc-profile/1\nprovince: X\nplace: X\nissuer_lines: [A]\n"
                   "signer_lines: []\nsigner: Y\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        load_profile(bad)
    messages = [str(p) for p in e.value.problems]
    assert any(m.startswith(f"{bad}:5:15: signer_lines needs at least one line") for m in messages), messages
    assert any(m.startswith(f"{bad}:6:1: unknown key 'signer'") for m in messages), messages
    assert load_profile(PROFILE).issuer_lines == ("UBND TỈNH TIỀN GIANG", "SỞ NỘI VỤ")


def _chart(names: list[str]):
    from reports.province import _chart

    rows = [{"id": f"u{i}", "name": n, "index": "90,00", "index_value": Fraction(90 - i), "class": "Tốt"}
            for i, n in enumerate(names)]
    return _chart(rows, [{"label": "Tốt", "min": Fraction(85)}, {"label": "Khá", "min": Fraction(70)},
                         {"label": "Trung bình", "min": Fraction(0)}])


def test_chart_prints_full_names_and_keeps_values_clear_of_threshold_lines():
    long = "Ban Quản lý các khu công nghiệp và khu kinh tế tỉnh Tiền Giang và các cụm công nghiệp trực thuộc"
    chart = _chart([long, "Sở Nội vụ"] + [f"UBND xã {i}" for i in range(28)])
    label = chart["labels"][0]
    assert " ".join(line["text"] for line in label["lines"]) == long and "…" not in str(chart["labels"])
    furthest_line = max(float(b["x"]) for b in chart["band_lines"])
    for bar in chart["bars"]:
        assert float(bar["value_x"]) > float(chart["x1"]) > furthest_line
    ys = [float(b["y"]) for b in chart["bars"]]
    assert all(b - a >= float(chart["bars"][0]["height"]) for a, b in zip(ys, ys[1:]))  # rows never overlap
