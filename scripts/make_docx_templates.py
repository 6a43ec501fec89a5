"""Build the shipped Word templates reports/templates/unit.docx and province.docx with python-docx.

    .venv/bin/python scripts/make_docx_templates.py

The templates hold docxtpl tags (`{{ … }}`, `{%tr for … %}` for table rows, `{%p … %}` for
paragraphs, `{% cellbg … %}` for row shading); the variables are the HTML's plus those of
reports/docx.py `word_fields` (docs/reports.md). A province may open either file in Word, restyle it
(fonts, margins, widths, colours, its own letterhead) keeping the tags, and pass its folder with
`--templates`. Rerun this script only to rebuild the shipped ones from scratch.
"""
from __future__ import annotations

import sys
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reports.office import fixed_package  # noqa: E402

OUT = ROOT / "reports" / "templates"
CENTER = WD_ALIGN_PARAGRAPH.CENTER


def new_document(landscape: bool = False) -> Document:
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (Mm(297), Mm(210)) if landscape else (Mm(210), Mm(297))
    section.left_margin, section.right_margin = Mm(20), Mm(15)
    section.top_margin, section.bottom_margin = Mm(15), Mm(15)
    normal = doc.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(12)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), "Times New Roman")
    normal.paragraph_format.space_after = Pt(2)
    doc.core_properties.author = "cchc"
    doc.core_properties.title = "{{ title }}"
    return doc


def para(container, text: str = "", *, bold: bool = False, italic: bool = False, size: float = 0,
         align=None, space_after: float = -1):
    p = container.add_paragraph()
    if text:
        run = p.add_run(text)
        run.bold, run.italic = bold or None, italic or None
        if size:
            run.font.size = Pt(size)
    if align is not None:
        p.alignment = align
    if space_after >= 0:
        p.paragraph_format.space_after = Pt(space_after)
    return p


def cell_text(cell, text: str, *, bold: bool = False, italic: bool = False, size: float = 10, align=None) -> None:
    p = cell.paragraphs[0]
    run = p.add_run(text)
    run.bold, run.italic = bold or None, italic or None
    run.font.size = Pt(size)
    p.paragraph_format.space_after = Pt(0)
    if align is not None:
        p.alignment = align


def no_borders(table) -> None:
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        e = OxmlElement(f"w:{edge}")
        e.set(qn("w:val"), "nil")
        borders.append(e)
    table._tbl.tblPr.append(borders)


def repeat_header(row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    e = OxmlElement("w:tblHeader")
    e.set(qn("w:val"), "true")
    tr_pr.append(e)


def shade(cell, color: str) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    e = OxmlElement("w:shd")
    e.set(qn("w:val"), "clear")
    e.set(qn("w:color"), "auto")
    e.set(qn("w:fill"), color)
    tc_pr.append(e)


def widths(table, mm: list[float]) -> None:
    table.autofit = False
    for row in table.rows:
        for cell, w in zip(row.cells, mm):
            cell.width = Mm(w)


def letterhead(doc, number: bool) -> None:
    t = doc.add_table(rows=1, cols=2)
    no_borders(t)
    widths(t, [70, 105])
    left, right = t.rows[0].cells
    cell_text(left, "{{ letterhead }}", bold=True, size=12, align=CENTER)
    para(left, "———", align=CENTER, space_after=0)
    if number:
        para(left, "{{ profile.document_number }}", size=12, align=CENTER, space_after=0)
    cell_text(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold=True, size=12, align=CENTER)
    para(right, "Độc lập - Tự do - Hạnh phúc", bold=True, size=13, align=CENTER, space_after=0)
    para(right, "———————", align=CENTER, space_after=0)
    para(right, "{{ date_line }}", italic=True, align=CENTER, space_after=0)


def header_cells(table, texts: list[str]) -> None:
    for cell, text in zip(table.rows[0].cells, texts):
        cell_text(cell, text, bold=True, align=CENTER)
        shade(cell, "EEF0F4")


def unit_template() -> Document:
    doc = new_document()
    letterhead(doc, number=False)
    para(doc, "{{ title }}", bold=True, size=13, align=CENTER, space_after=0)
    para(doc, "({{ criteria.basis }})", italic=True, align=CENTER)
    para(doc, "Đơn vị: {{ unit.name }} ({{ unit.type_label }}); năm đánh giá: {{ period }}."
              "{% if standing %} Xếp hạng: {{ standing.text }}.{% endif %}")
    para(doc, "Tổng điểm tự đánh giá: {{ total.self }}{% if total.appraised %}; tổng điểm thẩm định: "
              "{{ total.appraised }}{% endif %}; điểm tối đa áp dụng: {{ total.max }}; chỉ số CCHC: "
              "{{ total.index }}; tiêu chí thành phần cần giải trình: {{ counts.needs_explanation }}.")
    t = doc.add_table(rows=8, cols=7)
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    header_cells(t, ["STT", "Lĩnh vực / tiêu chí / tiêu chí thành phần", "Điểm tối đa", "Điểm", "",
                     "Tài liệu kiểm chứng", "Giải trình"])
    for col in (0, 1, 2, 5, 6):
        t.cell(0, col).merge(t.cell(1, col))
    t.cell(0, 3).merge(t.cell(0, 4))
    for col, text in ((3, "Tự đánh giá"), (4, "Thẩm định")):
        cell_text(t.cell(1, col), text, bold=True, align=CENTER)
        shade(t.cell(1, col), "EEF0F4")
    for col in range(7):
        cell_text(t.cell(2, col), f"({col + 1})", italic=True, size=9, align=CENTER)
    for r in (0, 1, 2):
        repeat_header(t.rows[r])
    cell_text(t.cell(3, 0), "{%tr for r in rows %}")
    row = ["{{ r.stt }}", "{{ r.text }}", "{% if r.not_applicable %}({{ r.max }}){% else %}{{ r.max }}{% endif %}",
           "{% if r.not_applicable %}Không áp dụng{% else %}{{ r.self }}{% endif %}", "{{ r.appraised }}",
           "{% if r.kind == 'item' %}{{ r.refs_text or ('' if r.not_applicable else 'Chưa có') }}{% endif %}",
           "{{ r.notes }}"]
    for col, text in enumerate(row):
        cell_text(t.cell(4, col), "{% cellbg r.shade %}" + text, align=CENTER if col in (0, 2, 3, 4) else None)
    cell_text(t.cell(5, 0), "{%tr endfor %}")
    for r, cells in ((6, ["", "TỔNG ĐIỂM", "{{ total.max }}", "{{ total.self }}", "{{ total.appraised }}", "", ""]),
                     (7, ["", "CHỈ SỐ CẢI CÁCH HÀNH CHÍNH (%)", "100,00 %", "{{ total.self_index }}",
                          "{{ total.appraised_index }}", "", ""])):
        for col, text in enumerate(cells):
            cell_text(t.cell(r, col), text, bold=True, align=CENTER if col in (2, 3, 4) else None)
            shade(t.cell(r, col), "DFE4EC")
    widths(t, [13, 62, 14, 14, 14, 22, 36])
    para(doc, "{%p if citations %}")
    para(doc, "Tài liệu kiểm chứng", bold=True, space_after=0)
    para(doc, "{%p for c in citations %}")
    para(doc, "[{{ c.no }}] {{ c.text }}", size=10, space_after=0)
    para(doc, "{%p endfor %}")
    para(doc, "{%p endif %}")
    sign = doc.add_table(rows=1, cols=2)
    no_borders(sign)
    for cell, (role, hint) in zip(sign.rows[0].cells, (("NGƯỜI LẬP BIỂU", "(Ký, ghi rõ họ tên)"),
                                                       ("THỦ TRƯỞNG ĐƠN VỊ", "(Ký, ghi rõ họ tên và đóng dấu)"))):
        cell_text(cell, role, bold=True, size=12, align=CENTER)
        para(cell, hint, italic=True, align=CENTER)
    return doc


def province_template() -> Document:
    doc = new_document()
    letterhead(doc, number=True)
    para(doc, "{{ title }}", bold=True, size=13, align=CENTER, space_after=0)
    para(doc, "({{ criteria.basis }})", italic=True, align=CENTER)
    para(doc, "Năm đánh giá: {{ period }}; số đơn vị được đánh giá: {{ unit_count }}."
              "{% if has_previous %} So sánh với kết quả năm {{ previous_period }}.{% endif %}")
    para(doc, "{%p for g in groups %}")
    para(doc, "{{ loop.index | roman }}. {{ g.label }}", bold=True)
    para(doc, "{{ g.size }} đơn vị; chỉ số bình quân: {{ g.average or '—' }}. Xếp loại: {% for b in g.bands %}"
              "{{ b.label }} ({{ b.rule }}){% if not loop.last %}; {% endif %}{% endfor %}.", italic=True, size=11)
    t = doc.add_table(rows=4, cols=7)
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    header_cells(t, ["Thứ hạng", "Đơn vị", "Điểm đạt", "Điểm tối đa", "Chỉ số (%)", "Xếp loại",
                     "Tăng/giảm so với năm trước (điểm %)"])
    repeat_header(t.rows[0])
    cell_text(t.cell(1, 0), "{%tr for u in g.units %}")
    for col, text in enumerate(["{{ u.rank or '—' }}", "{{ u.name }}", "{{ u.points }}", "{{ u.max }}",
                                "{{ u.index }}", "{{ u.class or '—' }}", "{{ u.index_change }}"]):
        cell_text(t.cell(2, col), text, align=None if col == 1 else CENTER)
    cell_text(t.cell(3, 0), "{%tr endfor %}")
    widths(t, [17, 63, 18, 18, 18, 22, 24])
    para(doc, "Số đơn vị theo xếp loại: {% for c in g.class_counts %}{{ c.label }}: {{ c.count }}"
              "{% if not loop.last %}; {% endif %}{% endfor %}; tổng: {{ g.size }}.", size=11)
    para(doc, "{%p endfor %}")
    para(doc, "{%p if ungrouped %}")
    para(doc, "Đơn vị không thuộc nhóm xếp hạng: {% for u in ungrouped %}{{ u.name }} ({{ u.index }} %)"
              "{% if not loop.last %}; {% endif %}{% endfor %}.", size=11)
    para(doc, "{%p endif %}")
    sign = doc.add_table(rows=1, cols=2)
    no_borders(sign)
    left, right = sign.rows[0].cells
    cell_text(left, "{% if profile.recipients %}Nơi nhận:{% endif %}", bold=True, italic=True, size=11)
    para(left, "{{ recipients }}", size=10)
    cell_text(right, "{{ signer }}", bold=True, size=12, align=CENTER)
    para(right, "(Ký, ghi rõ họ tên và đóng dấu)", italic=True, align=CENTER)
    para(right, "")
    para(right, "")
    para(right, "{{ profile.signer_name }}", bold=True, align=CENTER)
    return doc


def save(doc: Document, path: Path) -> None:
    import io

    buf = io.BytesIO()
    doc.save(buf)
    path.write_bytes(fixed_package(buf.getvalue()))
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    save(unit_template(), OUT / "unit.docx")
    save(province_template(), OUT / "province.docx")
