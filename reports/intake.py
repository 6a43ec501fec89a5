"""The intake workbook (`cchc template`): what an agency fills for one criteria set, in Vietnamese.

Sheets (layout in engine/inputs/workbook.py, which the evidence loader reads back):
- `Hướng dẫn`: how to fill it, the columns, the accepted values per kind, the unit types;
- `Số liệu`: one row per metric (per answer option for a survey-count metric), showing the codes
  and titles of the sub-criteria reading it, the unit of measure, the allowed values (enforced by
  data validation) and last year's value; the cells to fill are unlocked, the rest protected;
- `Nhiệm vụ`: the task list of the year's plan, as in the plans' annexes.

Metrics of sub-criteria scored from the survey (điều tra xã hội học) are marked: in the annual round
the survey data gives them, and the agency leaves them empty.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from engine.inputs import workbook as layout
from engine.core.errors import InputError, Problem
from engine.core.i18n import _
from engine.core.model import CriteriaSet, MetricSpec

from .load import RESULT_FORMATS, read_json, unit_result
from .office import put, workbook_bytes
from .text import compact

TASK_ROWS = 40  # empty, unlocked rows of the task sheet
FONT = "Times New Roman"
HEAD = PatternFill("solid", fgColor="DDE4EE")
FIXED = PatternFill("solid", fgColor="F2F2F2")
THIN = Side(style="thin", color="999999")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
OPEN = Protection(locked=False)

UNIT_OF_MEASURE = {"percent": "%", "count": "số lượng", "boolean": "Có / Không", "date": "ngày",
                   "category": "mức", "responses": "số phiếu", "points": "điểm", "tasks": "danh sách nhiệm vụ"}
WIDTHS = {"STT": 5, "Mã tiêu chí thành phần": 12, "Tiêu chí thành phần": 46, "Chỉ tiêu": 40, "Đơn vị tính": 11,
          "Giá trị hợp lệ": 28, "Năm trước": 14, "Mã chỉ tiêu": 22, "Phương án trả lời": 10, "Giá trị": 14,
          "Tử số": 9, "Mẫu số": 9, "Số, ký hiệu văn bản": 18, "Ngày văn bản": 12, "Cơ quan ban hành": 22,
          "Tệp tài liệu": 24, "Giải trình": 30, "Mã đơn vị": 18, "Tên đơn vị": 26, "Loại đơn vị": 12,
          "Kỳ đánh giá": 10, "Không áp dụng (mã tiêu chí)": 14}


@dataclass(frozen=True)
class IntakeUnit:
    id: str = ""
    name: str = ""
    type: str = ""


def allowed_values(spec: MetricSpec) -> str:
    return {
        "percent": "0 – 100 (hoặc tử số / mẫu số)",
        "count": "số nguyên ≥ 0",
        "boolean": "Có / Không",
        "date": "dd/mm/yyyy; để trống nếu chưa thực hiện",
        "category": " / ".join(spec.categories),
        "responses": "số phiếu, nguyên ≥ 0",
        "points": "số điểm ≥ 0, kèm giải trình",
        "tasks": f"chọn '{layout.TASK_SHEET}' và điền sheet {layout.TASK_SHEET}",
    }.get(spec.kind, "")


def previous_values(path: Optional[Path], unit_id: str) -> tuple[IntakeUnit, dict[str, str]]:
    """Last year's unit (id, name, type) and, from a unit result, its values by metric (as written
    in that result); from a round summary only the unit."""
    if path is None:
        return IntakeUnit(), {}
    doc = read_json(path)
    fmt = str(doc.get("format", ""))
    if fmt.startswith(RESULT_FORMATS):
        result = unit_result(path, doc)
        if unit_id and result.unit_id != unit_id:
            raise InputError([Problem(str(path), message=_("this result is unit {unit!r}, not {expected!r}").format(
                unit=result.unit_id, expected=unit_id))])
        values: dict[str, str] = {}
        for item in result.items:
            for i in item.inputs:
                if i.value != "":
                    values.setdefault(i.metric, i.value)
        return IntakeUnit(result.unit_id, result.unit_name, result.unit_type), values
    if fmt.startswith("cchc-round/"):
        units = [u for g in doc.get("groups", []) for u in g.get("units", [])] + \
            list((doc.get("ungrouped") or {}).get("units", []))
        for u in units:
            if u.get("id") == unit_id:
                return IntakeUnit(u["id"], u.get("name", ""), u.get("type", "")), {}
        raise InputError([Problem(str(path), message=_("unit {unit!r} is not in this round "
                                                       "(pass --unit with one of its unit ids)").format(unit=unit_id))])
    raise InputError([Problem(str(path), message=_("not a unit result nor a round summary (format {format!r})").format(
        format=fmt))])


def intake_unit(criteria: CriteriaSet, unit_id: Optional[str], name: Optional[str], unit_type: Optional[str],
                previous: Optional[Path]) -> tuple[IntakeUnit, dict[str, str]]:
    """The unit a workbook is pre-filled for (none: a blank workbook), from the options and last year."""
    if previous is not None and not unit_id and not str(read_json(previous).get("format", "")).startswith(
            RESULT_FORMATS):
        raise InputError([Problem(str(previous), message=_("a round summary holds many units: pass --unit ID"))])
    last, values = previous_values(previous, unit_id or "")
    unit = IntakeUnit(unit_id or last.id, name or last.name, unit_type or last.type)
    if unit.id and not (unit.name and unit.type):
        raise InputError([Problem("--unit", message=(
            _("unit {unit!r}: give its --name and --type, or --previous with last year's result").format(
                unit=unit.id)))])
    if unit.type and unit.type not in criteria.unit_type_ids():
        raise InputError([Problem("--type", message=(
            _("unknown unit type {type!r} for criteria set {id}; declared: "
              "{types}").format(type=unit.type, id=criteria.id, types=', '.join(sorted(criteria.unit_type_ids())))))])
    return unit, values


def _metric_rows(criteria: CriteriaSet, unit_type: str) -> list[tuple[MetricSpec, list]]:
    """Each metric an agency reports, with the sub-criteria reading it, in the criteria's order."""
    rows: dict[str, list] = {}
    for s in criteria.sub_criteria():
        if unit_type and not s.applies(unit_type):
            continue
        rows.setdefault(s.metric, []).append(s)
    return [(criteria.metrics[m], subs) for m, subs in rows.items()]


def intake_workbook(criteria: CriteriaSet, unit: IntakeUnit = IntakeUnit(),
                    previous: Optional[dict[str, str]] = None) -> bytes:
    wb = Workbook()
    guide = wb.active
    guide.title = layout.GUIDE_SHEET
    data = wb.create_sheet(layout.DATA_SHEET)
    tasks = wb.create_sheet(layout.TASK_SHEET)
    metrics = _metric_rows(criteria, unit.type)
    _guide(guide, criteria, unit)
    _data(data, criteria, unit, metrics, previous or {})
    _tasks(tasks)
    wb.active = 1
    return workbook_bytes(wb)


def _header(ws, columns) -> None:
    for col, (_, label) in enumerate(columns, 1):
        c = put(ws, 1, col, label)
        c.font, c.fill, c.border = Font(name=FONT, bold=True), HEAD, BOX
        c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(col)].width = WIDTHS.get(label, 16)
    ws.row_dimensions[1].height = 45
    ws.freeze_panes = "D2"


def _protect(ws) -> None:
    """Headers and shown columns locked, the cells to fill open; no password (it guards against
    slips, not people), and columns may still be resized."""
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.protection.autoFilter = False


def _data(ws, criteria: CriteriaSet, unit: IntakeUnit, metrics, previous: dict[str, str]) -> None:
    columns = layout.DATA_COLUMNS
    col = {c: i for i, (c, _) in enumerate(columns, 1) if c}
    _header(ws, columns)
    shown = {"": None}
    unit_cells = {"unit_id": unit.id, "unit_name": unit.name, "unit_type": unit.type, "period": str(criteria.year)}
    validations: dict[str, DataValidation] = {}

    def validation(key: str, **kwargs) -> DataValidation:
        if key not in validations:
            dv = DataValidation(allow_blank=True, showErrorMessage=True, errorTitle="Giá trị không hợp lệ", **kwargs)
            ws.add_data_validation(dv)
            validations[key] = dv
        return validations[key]

    row = 2
    for n, (spec, subs) in enumerate(metrics, 1):
        options = spec.options if spec.kind == "responses" else ("",)
        for option in options:
            shown = [n, "; ".join(s.code for s in subs),
                     "\n".join(s.title + (" (điều tra xã hội học)" if s.source == "survey" else "") for s in subs),
                     spec.label,
                     UNIT_OF_MEASURE.get(spec.kind, ""), allowed_values(spec), previous.get(spec.id, "")]
            for c, value in enumerate(shown, 1):
                cell = put(ws, row, c, value)
                cell.alignment, cell.fill, cell.border = Alignment(wrap_text=True, vertical="top"), FIXED, BOX
            put(ws, row, col["metric"], spec.id).fill = FIXED
            put(ws, row, col["option"], option or None).fill = FIXED
            for key in layout.ENTRY_COLUMNS + tuple(unit_cells):
                cell = ws.cell(row=row, column=col[key])
                cell.protection, cell.border = OPEN, BOX
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            for key, value in unit_cells.items():
                put(ws, row, col[key], value or None).protection = OPEN
            value_ref = f"{get_column_letter(col['value'])}{row}"
            if spec.kind == "percent":
                validation("percent", type="decimal", operator="between", formula1="0", formula2="100",
                           error="Tỷ lệ phần trăm từ 0 đến 100.").add(value_ref)
                for k in ("numerator", "denominator"):
                    validation("whole", type="whole", operator="greaterThanOrEqual", formula1="0",
                               error="Số nguyên không âm.").add(f"{get_column_letter(col[k])}{row}")
            elif spec.kind in ("count", "responses"):
                validation("whole", type="whole", operator="greaterThanOrEqual", formula1="0",
                           error="Số nguyên không âm.").add(value_ref)
            elif spec.kind == "points":
                top = max(s.max for s in subs)
                validation(f"points-{top}", type="decimal", operator="between", formula1="0",
                           formula2=str(float(top)), error=f"Số điểm từ 0 đến {compact(top)}.").add(value_ref)
            elif spec.kind == "boolean":
                validation("boolean", type="list", formula1='"Có,Không"', error="Chọn Có hoặc Không.").add(value_ref)
            elif spec.kind == "tasks":
                validation("tasks", type="list", formula1=f'"{layout.TASK_SHEET}"',
                           error=f"Chọn {layout.TASK_SHEET}.").add(value_ref)
            elif spec.kind == "category":
                listed = ",".join(spec.categories)
                if all("," not in c and '"' not in c for c in spec.categories) and len(listed) <= 250:
                    validation(f"category-{spec.id}", type="list", formula1=f'"{listed}"',
                               error=f"Chọn một trong: {', '.join(spec.categories)}.").add(value_ref)
            row += 1
    types = ",".join(t.id for t in criteria.unit_types)
    if len(types) <= 250:
        validation("unit_type", type="list", formula1=f'"{types}"', error="Chọn loại đơn vị của bộ chỉ số.").add(
            f"{get_column_letter(col['unit_type'])}2:{get_column_letter(col['unit_type'])}{max(row - 1, 2)}")
    _protect(ws)
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(row - 1, 1)}"


def _tasks(ws) -> None:
    _header(ws, layout.TASK_COLUMNS)
    ws.freeze_panes = "B2"
    for row in range(2, TASK_ROWS + 2):
        put(ws, row, 1, row - 1).fill = FIXED
        for col in range(2, len(layout.TASK_COLUMNS) + 1):
            cell = ws.cell(row=row, column=col)
            cell.protection, cell.border = OPEN, BOX
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    _protect(ws)


def _guide(ws, criteria: CriteriaSet, unit: IntakeUnit) -> None:
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 90
    lines: list[tuple[str, str]] = [
        ("PHIẾU NHẬP SỐ LIỆU CHỈ SỐ CẢI CÁCH HÀNH CHÍNH", ""),
        ("Bộ chỉ số", f"{criteria.title} ({criteria.id}, năm {criteria.year})"),
        ("Đơn vị", f"{unit.name} — mã {unit.id}, loại {unit.type}" if unit.id else
         "Điền Mã đơn vị, Tên đơn vị, Loại đơn vị, Kỳ đánh giá trên mỗi dòng có số liệu của sheet Số liệu."),
        ("", ""),
        ("Cách điền", ""),
        ("1", f"Sheet '{layout.DATA_SHEET}': mỗi dòng là một chỉ tiêu; cột Mã tiêu chí thành phần, Tiêu chí thành phần, "
              "Chỉ tiêu, Đơn vị tính, Giá trị hợp lệ, Năm trước chỉ để xem (đã khóa)."),
        ("2", "Điền Giá trị (hoặc Tử số và Mẫu số cho tỷ lệ %), và tài liệu kiểm chứng: Số, ký hiệu văn bản; "
              "Ngày văn bản; Cơ quan ban hành; Tệp tài liệu (đường dẫn tương đối tới tệp nằm cùng thư mục)."),
        ("3", "Dòng để trống toàn bộ các cột cần điền được coi là chưa có số liệu (thiếu tài liệu kiểm chứng: "
              "0 điểm, cần giải trình)."),
        ("4", f"Nhiệm vụ trong Kế hoạch CCHC: điền sheet '{layout.TASK_SHEET}' (như phụ lục kế hoạch), rồi chọn "
              f"'{layout.TASK_SHEET}' ở cột Giá trị của dòng chỉ tiêu nhiệm vụ."),
        ("5", "Tiêu chí không áp dụng với đơn vị: thêm một dòng, để trống Mã chỉ tiêu, ghi mã tiêu chí ở cột "
              "Không áp dụng (mã tiêu chí) và lý do ở cột Giải trình (sheet đang khóa: bỏ khóa Review → Unprotect)."),
        ("6", "Kiểm tra tệp: cchc validate --criteria <bộ chỉ số>.yaml <tệp>.xlsx — mỗi lỗi chỉ rõ sheet và ô."),
        ("", ""),
        ("Giá trị hợp lệ", ""),
        ("Tỷ lệ (%)", "số từ 0 đến 100 (93,54 hoặc 93.54), hoặc Tử số và Mẫu số là số nguyên"),
        ("Số lượng", "số nguyên ≥ 0"),
        ("Có / Không", "Có, Không (hoặc Đạt, Không đạt)"),
        ("Ngày", "dd/mm/yyyy; để trống nếu chưa thực hiện"),
        ("Mức", "một trong các mức ghi ở cột Giá trị hợp lệ"),
        ("Điểm", "số điểm tự chấm, kèm Giải trình và tài liệu kiểm chứng"),
        ("", ""),
        ("Loại đơn vị", ""),
    ] + [(t.id, t.label) for t in criteria.unit_types] + [
        ("", ""),
        ("Điều tra xã hội học", "Chỉ tiêu ghi (điều tra xã hội học): kết quả điều tra do cơ quan tổng hợp cung cấp; "
                                "đơn vị để trống khi số liệu điều tra được tổng hợp riêng."),
    ]
    for r, (a, b) in enumerate(lines, 1):
        put(ws, r, 1, a).font = Font(name=FONT, bold=not b or r == 1)
        cell = put(ws, r, 2, b)
        cell.font, cell.alignment = Font(name=FONT), Alignment(wrap_text=True, vertical="top")
    ws["A1"].font = Font(name=FONT, bold=True, size=14)
