"""Reading located inputs: YAML mappings, CSV and Excel rows, cells typed as people write them.

Every value keeps where it was read (`file:line:col`, CSV `file:row:col`, Excel `file:Sheet!B7`),
so that any later check can name the place. Shared by evidence, survey and appraisal files.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

from . import workbook
from .errors import Problem
from .numbers import parse_number, to_fraction
from .schema import schema_problems
from .yamlio import load_yaml, position


def nfc(text: Any) -> str:
    return unicodedata.normalize("NFC", str(text)).strip()


class ProblemSink:
    def __init__(self):
        self.problems: list[Problem] = []

    def add(self, location: str, message: str, severity: str = "error") -> None:
        file, _, rest = location.partition("\x1f")
        if rest and re.fullmatch(r"\d+:\d+", rest):
            line, col = rest.split(":")
            self.problems.append(Problem(file, int(line), int(col), message, severity=severity))
        else:
            self.problems.append(Problem(file, message=message, where=rest, severity=severity))


def loc(file: str, where: str) -> str:
    """Internal location key: file and position joined by a separator that cannot occur in paths."""
    return f"{file}\x1f{where}"


def show_loc(location: str) -> str:
    file, _, where = location.partition("\x1f")
    return f"{file}:{where}" if where else file


def rows_from_csv(path: Path, name: str, sink: ProblemSink) -> tuple[list[str], list[tuple[int, dict]]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        sink.add(loc(name, ""), f"not UTF-8 text ({exc.reason} at byte {exc.start})")
        return [], []
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        rows = list(reader)
    except csv.Error as exc:
        sink.add(loc(name, ""), f"malformed CSV: {exc}")
        return [], []
    if not rows:
        sink.add(loc(name, "1:1"), "empty file: expected a header row")
        return [], []
    header = [nfc(h).lower() for h in rows[0]]
    out = []
    for i, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) > len(header):
            sink.add(loc(name, f"{i}:{len(header) + 1}"), f"row has {len(row)} cells, the header has {len(header)}")
            continue
        out.append((i, {h: nfc(c) for h, c in zip(header, row)}))
    return header, out


def rows_from_xlsx(path: Path, name: str, sink: ProblemSink,
                   sheet: str = "") -> tuple[list[str], list[tuple[int, dict]], str]:
    """The table on `sheet`, or on the workbook's data sheet (engine/workbook.py). Headers of the
    intake layout are read as the columns they stand for; its rows nobody filled are skipped."""
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        sink.add(loc(name, ""), f"cannot read as an Excel workbook (.xlsx): {exc}")
        return [], [], ""
    title = sheet or workbook.data_sheet(wb.sheetnames)
    if title not in wb.sheetnames:
        sink.add(loc(name, f"{wb.sheetnames[0]}!A1"), f"no sheet {title or workbook.DATA_SHEET!r}: "
                                                      f"{workbook.expected_sheet()}")
        wb.close()
        return [], [], ""
    ws = wb[title]
    rows = [tuple(_xlsx_value(c) for c in row) for row in ws.iter_rows()]
    wb.close()
    if not rows:
        sink.add(loc(name, f"{ws.title}!A1"), "empty sheet: expected a header row")
        return [], [], ws.title
    written = [nfc(h).lower() if h is not None else "" for h in rows[0]]
    header = [workbook.column_of(h) for h in written]
    intake = header != written
    out = []
    for i, row in enumerate(rows[1:], start=2):
        if all(c is None or str(c).strip() == "" for c in row):
            continue
        cells = {}
        for h, c in zip(header, row):
            if isinstance(c, datetime):
                c = c.date().isoformat()
            elif isinstance(c, date):
                c = c.isoformat()
            cells[h] = "" if c is None else nfc(c)
        if intake and workbook.unfilled(cells):
            continue
        out.append((i, cells))
    return header, out, ws.title


def _xlsx_value(cell: Any) -> Any:
    """A cell's value as the reader sees it: a number formatted as a percentage (0.9354 shown as
    93,54 %) is the percentage; binary floats become the shortest text that round-trips."""
    value = getattr(cell, "value", None)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    text = repr(value) if isinstance(value, float) else str(value)
    if "%" in (getattr(cell, "number_format", "") or ""):
        text = format(Decimal(text) * 100, "f")
    return text


def cell_loc(name: str, header: list[str], row: int, column: str, sheet: str) -> str:
    if sheet:
        from openpyxl.utils import get_column_letter

        idx = header.index(column) + 1 if column in header else 1
        return loc(name, f"{sheet}!{get_column_letter(idx)}{row}")
    idx = header.index(column) + 1 if column in header else 1
    return loc(name, f"{row}:{idx}")


@dataclass(frozen=True)
class Cell:
    """Text of a CSV / Excel cell with its location: typed only once the metric's kind is known."""

    text: str
    location: str


def text_of(v: Any) -> tuple[Any, str]:
    """Unwrap a table cell to its text and own location (YAML values have none)."""
    if isinstance(v, Cell):
        return v.text, v.location
    return v, ""


def as_number(v: Any) -> Fraction:
    v, _ = text_of(v)
    if isinstance(v, bool) or v is None:
        raise ValueError
    if isinstance(v, str):
        return parse_number(v)
    return to_fraction(v)


def as_int(v: Any) -> int:
    f = as_number(v)
    if f.denominator != 1:
        raise ValueError
    return int(f)


def as_date(v: Any) -> date:
    v, _ = text_of(v)
    if isinstance(v, date):
        return v
    text = str(v).strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    raise ValueError


def as_bool(v: Any) -> bool:
    v, _ = text_of(v)
    if isinstance(v, bool):
        return v
    text = str(v).strip().lower()
    if text in ("true", "yes", "có", "co", "1", "đạt", "x"):
        return True
    if text in ("false", "no", "không", "khong", "0", "không đạt"):
        return False
    raise ValueError


def load_mapping(path: Path, name: str, schema: str, what: str,
                 sink: ProblemSink) -> Optional[tuple[dict, Callable[..., str]]]:
    """A YAML file whose top level is one mapping checked against a JSON Schema: the document and
    a function giving the location of a key path in it; None (with the problems in `sink`) if not."""
    doc = load_yaml(path, name)
    if not isinstance(doc, dict):
        sink.add(loc(name, "1:1"), f"expected a mapping ({what}) at the top level")
        return None
    problems = schema_problems(doc, schema, name)
    if problems:
        sink.problems.extend(problems)
        return None

    def at(*path_) -> str:
        line, col = position(doc, list(path_))
        return loc(name, f"{line}:{col}")

    return doc, at


def row_citation(cells: dict, at: Callable[[str], str], sink: ProblemSink) -> Optional[dict]:
    """The citation a table row gives in its document / date / issuer / file columns."""
    if cells.get("document"):
        citation = {"document": cells["document"], "issuer": cells.get("issuer", ""), "file": cells.get("file", "")}
        if cells.get("date"):
            citation["date"] = cells["date"]
        return citation
    if cells.get("date") or cells.get("issuer") or cells.get("file"):
        sink.add(at("document"), "a citation needs its document number")
    return None


def read_table(path: Path, name: str, sink: ProblemSink, columns: tuple[str, ...],
               required: tuple[str, ...]) -> Optional[tuple[list[str], list[tuple[int, dict]], str]]:
    """A CSV or Excel table whose header must use `columns` and hold `required`: (header, rows,
    sheet — empty for a CSV), or None with every header problem in `sink`."""
    sheet = ""
    if path.suffix.lower() == ".xlsx":
        header, rows, sheet = rows_from_xlsx(path, name, sink)
    else:
        header, rows = rows_from_csv(path, name, sink)
    if not header:
        return None
    bad = False
    for h in header:
        if h and h not in columns:
            sink.add(cell_loc(name, header, 1, h, sheet), f"unknown column {h!r}; expected: {', '.join(columns)}")
            bad = True
    for needed in required:
        if needed not in header:
            where = f" on sheet {sheet!r}: {workbook.expected_sheet()}" if sheet else ""
            sink.add(cell_loc(name, header, 1, header[0], sheet), f"missing column {workbook.label(needed)}{where}")
            bad = True
    return None if bad else (header, rows, sheet)


def read_each(files: Iterable[Path], what: str, sink: ProblemSink, read_yaml: Callable[[Path, str], list],
              read_table_file: Callable[[Path, str], list]) -> list:
    """Read every file by its format (YAML, or CSV / Excel); problems of any file go to `sink`."""
    from .errors import InputError

    out: list = []
    for f in files:
        name = str(f)
        if not f.is_file():
            sink.add(loc(name, ""), "file not found")
            continue
        suffix = f.suffix.lower()
        try:
            if suffix in (".yaml", ".yml"):
                out += read_yaml(f, name)
            elif suffix in (".csv", ".xlsx"):
                out += read_table_file(f, name)
            else:
                sink.add(loc(name, ""), f"unsupported {what} format: expected .yaml, .yml, .csv or .xlsx")
        except InputError as exc:
            sink.problems.extend(exc.problems)
    return out
