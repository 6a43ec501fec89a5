"""What every spreadsheet and Word file this project writes shares: the one way a value goes into a
cell (text never taken as a formula, exact numbers as numbers), and packages made byte-identical
from the same inputs (no clock in the zip entries or the document properties).
"""
from __future__ import annotations

import io
import re
import zipfile
from decimal import Decimal
from fractions import Fraction
from typing import Any, Optional

from engine.core.numbers import exact_text, is_terminating

# Text starting with one of these is a formula (or the start of one) to a spreadsheet program.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Control characters an .xlsx cannot hold (tab, line feed and carriage return it can).
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# Two decimals; the Vietnamese locale tag makes Excel and LibreOffice show `93,54`.
NUMBER_FORMAT = "[$-42A]0.00"
INTEGER_FORMAT = "0"
FIXED_TIME = (2000, 1, 1, 0, 0, 0)
_CORE_DATES = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:(?:created|modified)>)")


def cell_number(value: Fraction) -> Decimal:
    """An exact value as the number written into a cell: exact when it terminates (`93.54`), else
    to 15 significant digits (what a spreadsheet holds)."""
    if is_terminating(value):
        return Decimal(exact_text(value))
    return Decimal(value.numerator) / Decimal(value.denominator)


def put(ws: Any, row: int, column: int, value: Any, number_format: Optional[str] = None) -> Any:
    """Write one cell. Text is always stored as text: a value such as `=HYPERLINK(…)`, `+1`, `-x`
    or `@SUM(…)` is kept as written and marked quote-prefixed, so neither openpyxl nor a
    spreadsheet program ever reads it as a formula. Fractions and Decimals are numbers."""
    cell = ws.cell(row=row, column=column)
    if value is None:
        cell.value = None
    elif isinstance(value, bool):
        cell.value = value
    elif isinstance(value, (Fraction, Decimal, int)):
        cell.value = cell_number(Fraction(value)) if isinstance(value, Fraction) else value
        cell.number_format = number_format or (INTEGER_FORMAT if isinstance(value, int) else NUMBER_FORMAT)
    else:
        text = _ILLEGAL.sub("", str(value))
        cell.value = text
        cell.data_type = "s"
        if text.startswith(FORMULA_START):
            cell.quotePrefix = True
    return cell


def fixed_package(data: bytes) -> bytes:
    """A zip package (.xlsx, .docx) rewritten with fixed entry times and document dates, entries
    in their own order: the same content gives the same bytes."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = _CORE_DATES.sub(rb"\g<1>2000-01-01T00:00:00Z\g<2>", body)
            entry = zipfile.ZipInfo(info.filename, FIXED_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, body)
    return out.getvalue()


def workbook_bytes(wb: Any) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return fixed_package(buf.getvalue())
