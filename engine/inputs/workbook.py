"""The intake workbook's layout (`cchc template`): its sheets and Vietnamese column headers.

One home for what the writer (reports/intake.py) lays out and the reader (engine/inputs/tables.py) reads
back: a data sheet `Số liệu` whose header names the evidence columns in Vietnamese (each read as the
CSV column it stands for), columns that only show things to the person filling it (code, title, unit
of measure, allowed values, last year's value: read as unnamed, never scored), an instructions sheet
and a task-list sheet.
"""
from __future__ import annotations

import unicodedata
from typing import Optional, Sequence

from ..core.i18n import _

DATA_SHEET = "Số liệu"
GUIDE_SHEET = "Hướng dẫn"
TASK_SHEET = "Nhiệm vụ"
LEGACY_SHEET = "evidence"  # the plain layout: CSV column names on the sheet `evidence` (or the first)

# (column, header) of the data sheet, in order. `column` is the evidence column it is read as, or ""
# for a column that only shows something.
DATA_COLUMNS: tuple[tuple[str, str], ...] = (
    ("", "STT"),
    ("", "Mã tiêu chí thành phần"),
    ("", "Tiêu chí thành phần"),
    ("", "Chỉ tiêu"),
    ("", "Đơn vị tính"),
    ("", "Giá trị hợp lệ"),
    ("", "Năm trước"),
    ("metric", "Mã chỉ tiêu"),
    ("option", "Phương án trả lời"),
    ("value", "Giá trị"),
    ("numerator", "Tử số"),
    ("denominator", "Mẫu số"),
    ("document", "Số, ký hiệu văn bản"),
    ("date", "Ngày văn bản"),
    ("issuer", "Cơ quan ban hành"),
    ("file", "Tệp tài liệu"),
    ("reason", "Giải trình"),
    ("unit_id", "Mã đơn vị"),
    ("unit_name", "Tên đơn vị"),
    ("unit_type", "Loại đơn vị"),
    ("period", "Kỳ đánh giá"),
    ("not_applicable", "Không áp dụng (mã tiêu chí)"),
)
# What a person types; a data row whose entry cells are all empty was not filled (missing evidence).
ENTRY_COLUMNS = ("value", "numerator", "denominator", "document", "date", "issuer", "file", "reason",
                 "not_applicable")

TASK_COLUMNS: tuple[tuple[str, str], ...] = (
    ("", "STT"),
    ("task", "Nhiệm vụ"),
    ("lead", "Cơ quan chủ trì"),
    ("partners", "Cơ quan phối hợp"),
    ("product", "Sản phẩm"),
    ("deadline", "Thời hạn hoàn thành"),
    ("completed", "Ngày hoàn thành"),
)


def _key(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip().lower()


HEADERS = {_key(h): c for c, h in DATA_COLUMNS + TASK_COLUMNS}
LABELS = {c: h for c, h in DATA_COLUMNS + TASK_COLUMNS if c}


def unfilled(cells: dict) -> bool:
    """A row of the intake layout nobody filled: every cell a person types is empty (its code,
    title and unit cells come pre-filled)."""
    return not any(cells.get(c) for c in ENTRY_COLUMNS + tuple(c for c, _ in TASK_COLUMNS if c))


def column_of(header: str) -> str:
    """The evidence column a header names: a Vietnamese header of the intake layout is read as its
    column ("" for a column that only shows something); any other header as itself."""
    return HEADERS.get(_key(header), header)


def label(column: str) -> str:
    """`period` → `'period' (Kỳ đánh giá)`: how an error names a column to someone holding either layout."""
    return f"{column!r} ({LABELS[column]})" if column in LABELS else repr(column)


def data_sheet(sheetnames: Sequence[str]) -> Optional[str]:
    """The sheet holding the evidence table: `Số liệu` or `evidence`, else the first sheet that is
    neither the instructions nor the task list; None for a workbook with no such sheet."""
    for name in (DATA_SHEET, LEGACY_SHEET):
        if name in sheetnames:
            return name
    rest = [s for s in sheetnames if s not in (GUIDE_SHEET, TASK_SHEET)]
    return rest[0] if rest else None


def expected_sheet() -> str:
    return _("the evidence table is read from the sheet '{data}' (or '{legacy}'), else the first "
             "sheet other than '{guide}' and '{tasks}', with its header in row 1").format(
        data=DATA_SHEET, legacy=LEGACY_SHEET, guide=GUIDE_SHEET, tasks=TASK_SHEET)
