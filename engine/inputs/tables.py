"""Reading located inputs: YAML mappings, CSV and Excel rows, cells typed as people write them.

Every value keeps where it was read (a `Location`: `file:line:col`, CSV `file:row:col`, Excel
`file:Sheet!B7`), so that any later check can name the place. Shared by evidence, survey and appraisal files.
"""
from __future__ import annotations

import codecs
import csv
import io
import itertools
import os
import re
import unicodedata
import zipfile
import zlib
from operator import itemgetter
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable, Iterator, Optional

from . import workbook
from ..core.errors import InputError, Location, Problem
from ..core.i18n import _
from ..core.limits import NOT_A_FILE, check_file_size, limit, over
from ..core.numbers import TypedNumber, parse_number, to_fraction
from .schema import schema_problems
from .yamlio import key_position, load_yaml, position


def nfc(text: Any) -> str:
    """The text in Unicode NFC, stripped. ASCII text is already NFC: it skips the normalisation."""
    text = str(text)
    return (text if text.isascii() else unicodedata.normalize("NFC", text)).strip()


class ProblemSink:
    def __init__(self):
        self.problems: list[Problem] = []

    def add(self, location: Location, message: str, severity: str = "error") -> None:
        self.problems.append(Problem.at(location, message, severity))


def rows_from_csv(path: Path, name: str, sink: ProblemSink) -> tuple[list[str], list[tuple[int, dict]]]:
    """A CSV file's header and rows (`table_rows`); ([], []) with the problems in `sink` when the
    file or its header is refused. A small plain file (a task list) is read in one go."""
    plain = plain_csv_file(path)
    if plain is None:
        return scanned_rows(path, name, sink)
    header = column_names(plain[0], name, "", sink)
    if header is None:
        return [], []
    return header, list(table_rows(header, enumerate(plain[1:], start=2), name, sink))


SMALL_FILE = 1024 * 1024  # bytes: a file read whole by `plain_csv_file`


def plain_csv_file(path: Path) -> Optional[list[list[str]]]:
    """The rows `scan_csv` reads in a file of at most `SMALL_FILE` bytes that it would take whole:
    within the size and row limits, UTF-8 (after a byte order mark), not empty, and plain
    (`plain_csv_rows`). None otherwise: `scan_csv` then reads it and says what is wrong."""
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > SMALL_FILE or size > limit("file_mb") * MB:
                return None
            data = fh.read(size + 1)
        most = limit("rows") + 1
    except (InputError, OSError):
        return None
    if len(data) > size:  # grown while read
        return None
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        rows = plain_csv_rows(data.decode("utf-8"))
    except UnicodeDecodeError:
        return None
    return rows if rows and len(rows) <= most else None


def scanned_rows(path: Path, name: str, sink: ProblemSink) -> tuple[list[str], list[tuple[int, dict]]]:
    """`rows_from_csv` by `scan_csv`, whatever the file."""
    rows: list[list[str]] = []
    header = scan_csv(path, name, sink, lambda n, start, end, row: rows.append(row) if n > 1 else None)
    if header is None:
        return [], []
    return header, list(table_rows(header, enumerate(rows, start=2), name, sink))


class _Lines:
    """The lines of a CSV file as text, read one at a time (never the whole file), as
    `io.StringIO(text, newline="")` would give them; `at` is the byte offset after the last line
    given. A byte that is not UTF-8 ends the lines; `error` then says what and where."""

    def __init__(self, fh: BinaryIO):
        self.fh, self.at = fh, 0
        self.error: Optional[tuple[str, int]] = None
        self._bom = 0

    def __iter__(self) -> Iterator[str]:
        if self.error is not None:
            return
        for line in self.fh:
            if self.at == 0 and line.startswith(codecs.BOM_UTF8):
                self._bom = self.at = len(codecs.BOM_UTF8)
                line = line[self._bom:]
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError as exc:  # the byte as the whole file's decoding names it
                self.error = (exc.reason, self.at - self._bom + exc.start)
                return
            if "\r" not in text:
                self.at += len(line)
                yield text
                continue
            for part in io.StringIO(text, newline=""):  # a lone CR ends a line too
                self.at += len(part.encode("utf-8"))
                yield part

    def drain(self) -> None:
        """Read the rest, for its decoding only."""
        for _line in self:
            pass


def scan_csv(path: Path, name: str, sink: ProblemSink,
             visit: Callable[[int, int, int, list[str]], None]) -> Optional[list[str]]:
    """Read a CSV file once, row by row, never whole: `visit(row number, start byte, end byte,
    cells)` sees each row (the header is row 1). Returns the header's column names once the whole
    file is UTF-8 CSV within the limits; else None, with the problem in `sink` (and whatever
    `visit` saw is to be dropped)."""
    try:
        check_file_size(path, name)
    except InputError as exc:
        sink.problems.extend(exc.problems)
        return None
    first: Optional[list[str]] = None
    problem: Optional[tuple[Location, str]] = None
    max_rows = limit("rows")
    with open(path, "rb") as fh:
        lines = _Lines(fh)
        reader = csv.reader(lines)
        n, start = 0, lines.at
        try:
            for row in reader:
                n += 1
                if n > max_rows + 1:
                    problem = (Location(name, n, 1), over("rows", _("more than {n} rows").format(n=max_rows)))
                    break
                if n == 1:
                    first = row
                visit(n, start, lines.at, row)
                start = lines.at
        except csv.Error as exc:
            problem = (Location(name, reader.line_num, 1), _("malformed CSV: {reason}").format(reason=exc))
        lines.drain()  # a file that is not UTF-8 is refused as a whole, whatever else is wrong in it
    if lines.error is not None:
        reason, byte = lines.error
        sink.add(Location(name), _("not UTF-8 text ({reason} at byte {byte})").format(reason=reason, byte=byte))
        return None
    if problem is not None:
        sink.add(*problem)
        return None
    if first is None:
        sink.add(Location(name, 1, 1), _("empty file: expected a header row"))
        return None
    return column_names(first, name, "", sink)


def plain_csv_rows(text: str) -> Optional[list[list[str]]]:
    """The rows `csv.reader` reads in `text` (whole lines) when none needs the reader: no quote, no
    carriage return, every line shorter than the reader's field limit — then each line is its
    cells split at commas (an empty line is the empty row). None otherwise."""
    if '"' in text or "\r" in text:
        return None
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    most = csv.field_size_limit()
    if len(text) >= most and max(map(len, lines)) >= most:
        return None
    return [line.split(",") if line else [] for line in lines]


def table_rows(header: list[str], rows: Iterable[tuple[int, list[str]]], name: str,
               sink: ProblemSink) -> Iterator[tuple[int, dict]]:
    """The CSV rows given (with their numbers) as cells by column name; a blank row is skipped, a
    row with a problem reported in `sink` and left out."""
    max_chars = _limit_once("string_chars")
    width = len(header) if "" not in header else -1  # rows of this width may be plain (every column named)
    for i, row in rows:
        joined = "\n".join(row)
        if not joined.strip():  # no cell holds anything but white space
            continue
        if len(row) == width and taken_whole(joined, row, max_chars):
            yield i, dict(zip(header, map(str.strip, row)))
            continue
        if len(row) > len(header):
            sink.add(Location(name, i, len(header) + 1), _("row has {n} cells, the header has {columns}").format(
                n=len(row), columns=len(header)))
            continue
        cells = _cells(header, row, lambda col: Location(name, i, col), sink, max_chars)
        if cells is not None:
            yield i, cells


Span = tuple[int, int, int]  # (start byte, end byte, number of its first row): rows that follow each other


def span_rows(path: Path, spans: Iterable[Span]) -> Iterator[tuple[int, list[str]]]:
    """The rows of a CSV file that stand in `spans` (found by `scan_csv`), with their numbers."""
    with open(path, "rb") as fh:
        for start, end, first in spans:
            fh.seek(start)
            text = fh.read(end - start).decode("utf-8")
            rows = plain_csv_rows(text)
            yield from enumerate(csv.reader(io.StringIO(text, newline="")) if rows is None else rows, start=first)


def span_cells(path: Path, spans: Iterable[Span], header: list[str], columns: tuple[str, ...], name: str,
               sink: ProblemSink) -> Iterator[tuple[int, tuple[str, ...]]]:
    """What `table_rows` gives for the rows of `spans`, each as the tuple of its cells in `columns`'
    order ("" for a column the header lacks). A span whose text is plain (`plain_csv_rows`, in
    NFC, every line shorter than the longest cell allowed) and whose header names every column
    has its rows of the header's width split, stripped and picked here; any other row is read by
    `table_rows`."""
    width = len(header) if "" not in header else -1
    at = [header.index(c) if c in header else len(header) for c in columns]
    pick = itemgetter(*at) if len(at) > 1 else lambda cells: tuple(cells[i] for i in at)
    most = _limit_once("string_chars")
    with open(path, "rb") as fh:
        for start, end, first in spans:
            fh.seek(start)
            text = fh.read(end - start).decode("utf-8")
            rows = plain_csv_rows(text)
            if rows is None:
                rows = list(csv.reader(io.StringIO(text, newline="")))
            elif width > 0 and (text.isascii() or unicodedata.is_normalized("NFC", text)) \
                    and (len(text) < most() or max(map(len, text.split("\n"))) < most()):
                for i, row in enumerate(rows, start=first):
                    if len(row) == width:
                        cells = [c.strip() for c in row]
                        if any(cells):
                            cells.append("")
                            yield i, pick(cells)
                    else:
                        yield from picked_cells(columns, table_rows(header, [(i, row)], name, sink))
                continue
            yield from picked_cells(columns, table_rows(header, enumerate(rows, start=first), name, sink))


def picked_cells(columns: tuple[str, ...], rows: Iterable[tuple[int, dict]]) -> Iterator[tuple[int, tuple[str, ...]]]:
    """Rows of cells by column name as tuples of their cells in `columns`' order ("" when absent)."""
    for i, cells in rows:
        yield i, tuple([cells.get(c, "") for c in columns])


def taken_whole(joined: str, row: list[str], max_chars: Callable[[], int]) -> bool:
    """Whether `_cells` takes every cell of a row (`joined`: its cells joined by line breaks) as it
    stands, stripped, with nothing to report, when the row has the header's width and every column
    has a name."""
    return joined.isascii() and len(joined) - len(row) < max_chars() or _plain_row(joined, row, max_chars())


def _plain_row(joined: str, row: list[str], most: int) -> bool:
    """Whether `_cells` would take every cell of a CSV row as it stands, stripped: each is in NFC
    (checked on the row joined by line breaks, which NFC never composes across) and none is longer
    than `most`; with every column named, a row of the header's width then has nothing to report."""
    return ((joined.isascii() or unicodedata.is_normalized("NFC", joined))
            and (len(joined) - len(row) + 1 <= most or max(map(len, row)) <= most))


def column_names(raw: Iterable[Any], name: str, sheet: str, sink: ProblemSink) -> Optional[list[str]]:
    """Column names, lower-case; None (with the problems in `sink`) when a name is given twice,
    whatever its case (`value` and `VALUE`: which one would count?), or there are too many."""
    header = [nfc(h).lower() if h is not None else "" for h in raw]
    where = (lambda i: Location.in_sheet(name, sheet, _column(i), 1)) if sheet else (lambda i: Location(name, 1, i))
    if len(header) > limit("columns"):
        sink.add(where(1), over("columns", _("the header has {n} columns").format(n=len(header))))
        return None
    first: dict[str, int] = {}
    ok = True
    for i, h in enumerate(header, start=1):
        if h and h in first:
            sink.add(where(i), _("column {column!r} is given twice (also column {first}; names ignore case): "
                                 "keep one").format(column=h, first=first[h]))
            ok = False
        first.setdefault(h, i)
    return header if ok else None


def _limit_once(name: str) -> Callable[[], int]:
    """The limit `name`, read from the environment when first asked for and then kept: a table's
    rows all ask for it, and a file read with none of them does not read (or refuse) it."""
    found: list[int] = []

    def most() -> int:
        if not found:
            found.append(limit(name))
        return found[0]

    return most


def _cells(header: list[str], row: Iterable[Any], where: Callable[[int], Location], sink: ProblemSink,
           max_chars: Callable[[], int], shown: frozenset[int] = frozenset()) -> Optional[dict]:
    """A row's cells by column name; None (with the problems in `sink`) when a text is longer than
    `max_chars()` or a value stands in a column without a name. Columns in `shown` (1-based) only
    show something to the person filling the sheet (engine/inputs/workbook.py) and are not read."""
    most = max_chars()
    cells: dict[str, str] = {}
    ok = True
    for i, (h, c) in enumerate(itertools.zip_longest(header, row, fillvalue=""), start=1):
        if c.__class__ is str and c.isascii():  # most cells: already NFC (and `nfc` costs a call)
            text = c.strip()
        else:
            text = c if isinstance(c, TypedNumber) else nfc(c)
        if len(text) > most:
            sink.add(where(i), over("string_chars", _("a text of {n} characters").format(n=len(text))))
            ok = False
        elif i in shown:
            continue
        elif text and not h:
            sink.add(where(i), _("the value {value!r} stands in a column without a name in the header row").format(
                value=text[:40]))
            ok = False
        elif h:
            cells[h] = text
    return cells if ok else None


def _column(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


def rows_from_xlsx(path: Path, name: str, sink: ProblemSink,
                   sheet: str = "") -> tuple[list[str], list[tuple[int, dict]], str]:
    """The table on `sheet`, or on the workbook's data sheet (engine/inputs/workbook.py), read defensively:
    the archive's declared sizes are checked before anything is inflated; the sheet read must be
    visible; formulas are refused (values only); every row Excel shows is read, whatever the
    stored dimension says; rows and columns are limited. Headers of the intake layout are read as
    the columns they stand for; its rows nobody filled are skipped."""
    import openpyxl

    try:
        check_file_size(path, name)
        _check_archive(path, name)
    except InputError as exc:
        sink.problems.extend(exc.problems)
        return [], [], ""
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a broken workbook
        sink.add(Location(name), _("cannot read as an Excel workbook (.xlsx): {reason}").format(reason=_reason(exc)))
        return [], [], ""
    try:
        title = sheet or workbook.data_sheet(wb.sheetnames)
        if title not in wb.sheetnames:
            sink.add(Location.in_sheet(name, wb.sheetnames[0], "A", 1), _("no sheet {sheet!r}: {expected}").format(
                sheet=title or workbook.DATA_SHEET, expected=workbook.expected_sheet()))
            return [], [], ""
        ws = wb[title]
        if ws.sheet_state != "visible":
            sink.add(Location.in_sheet(name, ws.title, "A", 1), _("the sheet {sheet!r} is {state}: "
                                                    "unhide it (or move the rows to a visible sheet); only what "
                                                    "a person can see is read").format(
                sheet=ws.title, state=_("very hidden") if ws.sheet_state == "veryHidden" else _("hidden")))
            return [], [], ws.title
        rows = _sheet_rows(ws, name, sink)
    except InputError as exc:
        sink.problems.extend(exc.problems)
        return [], [], ""
    except Exception as exc:  # noqa: BLE001 - a malformed sheet fails while it is parsed
        sink.add(Location(name), _("cannot read as an Excel workbook (.xlsx): {reason}").format(reason=_reason(exc)))
        return [], [], ""
    finally:
        wb.close()
    if rows is None:
        return [], [], ws.title
    if not rows or rows[0][0] != 1:
        sink.add(Location.in_sheet(name, ws.title, "A", 1), _("empty sheet: expected a header row"))
        return [], [], ws.title
    written = column_names(rows[0][1], name, ws.title, sink)
    if written is None:
        return [], [], ws.title
    header = [workbook.column_of(h) for h in written]
    intake = header != written
    shown = frozenset(i for i, (w, h) in enumerate(zip(written, header), start=1) if w and not h)
    out = []
    max_chars = _limit_once("string_chars")
    for i, row in rows[1:]:
        if all(c is None or str(c).strip() == "" for c in row):
            continue
        values = [c.date().isoformat() if isinstance(c, datetime) else c.isoformat() if isinstance(c, date)
                  else "" if c is None else c for c in row]
        cells = _cells(header, values, lambda col: Location.in_sheet(name, ws.title, _column(col), i), sink, max_chars,
                       shown)
        if cells is None or (intake and workbook.unfilled(cells)):
            continue
        out.append((i, cells))
    return header, out, ws.title


def _reason(exc: Exception) -> str:
    return str(exc) or type(exc).__name__


MB = 1024 * 1024


def _check_archive(path: Path, name: str) -> None:
    """Refuse a workbook whose parts are too many or too large by the archive's own directory,
    before anything is inflated; then inflate each part in small steps to check that it is no
    larger than it declares (a zip bomb with a lying directory)."""
    def refuse(message: str) -> None:
        raise InputError([Problem(name, message=message)])

    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if len(infos) > limit("xlsx_parts"):
                refuse(over("xlsx_parts", _("the workbook holds {n} files").format(n=len(infos))))
            total = sum(i.file_size for i in infos)
            if total > limit("xlsx_mb") * MB:
                refuse(over("xlsx_mb", _("the workbook unpacks to {size} MB").format(size=f"{total / MB:.1f}")))
            for info in infos:
                if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                    refuse(_("part {part!r} is compressed in a way Excel does not use").format(part=info.filename))
                with archive.open(info) as part:
                    while part.read(64 * 1024):
                        pass
                    inflater = getattr(part, "_decompressor", None)
                    if info.compress_type == zipfile.ZIP_DEFLATED and not getattr(inflater, "eof", True):
                        refuse(_("part {part!r} is larger than the workbook declares").format(part=info.filename))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, EOFError,
            ValueError, zlib.error) as exc:
        refuse(_("cannot read as an Excel workbook (.xlsx): {reason}").format(reason=_reason(exc)))
    except OSError as exc:
        refuse(_("cannot read: {reason}").format(reason=exc.strerror or exc))


def _sheet_rows(ws: Any, name: str, sink: ProblemSink) -> Optional[list[tuple[int, tuple]]]:
    """Every stored row of the sheet with its number, not as its <dimension> claims; None (with the
    problems in `sink`) on a formula or past a limit."""
    ws.reset_dimensions()  # a stale or forged <dimension> must neither hide rows nor invent them
    max_rows, max_cols = limit("rows"), limit("columns")
    rows = []
    formulas = 0
    for i, row in enumerate(ws.iter_rows(), start=1):
        if i > max_rows + 1:
            sink.add(Location.in_sheet(name, ws.title, "A", i), over("rows", _("more than {n} rows").format(n=max_rows)))
            return None
        if not row:  # a row the sheet does not store
            continue
        last = max((c.column for c in row if getattr(c, "value", None) is not None), default=0)
        if last > max_cols:
            sink.add(Location.in_sheet(name, ws.title, _column(last), i), over("columns", _("a value in column {n}").format(n=last)))
            return None
        for c in row:
            if getattr(c, "data_type", "") == "f":
                formulas += 1
                if formulas <= 20:
                    sink.add(Location(name, cell=f"{ws.title}!{c.coordinate}"), _("a formula: cchc reads values only "
                                                                        "(copy the cells and paste them as values)"))
        rows.append((i, tuple(_xlsx_value(c) for c in row[:last])))
    return None if formulas else rows


def _xlsx_value(cell: Any) -> Any:
    """A cell's value as the reader sees it: a number is its exact decimal text (the shortest that
    the stored binary float rounds back to), marked as typed; a number formatted as a percentage
    (0.9354 shown as 93,54 %) is the percentage it shows, with its % sign."""
    value = getattr(cell, "value", None)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    number = Decimal(repr(value) if isinstance(value, float) else str(value))
    if not number.is_finite():
        return TypedNumber(str(value))
    if "%" in (getattr(cell, "number_format", "") or ""):
        return TypedNumber(format(number * 100, "f") + "%")
    return TypedNumber(format(number, "f"))


def cell_loc(name: str, header: list[str], row: int, column: str, sheet: str) -> Location:
    """Where the cell of `column` (by its header name; the first column when it has none) stands in
    row `row` of a CSV file or of the sheet `sheet`."""
    return cell_locator(name, header, sheet)(row, column)


def cell_locator(name: str, header: list[str], sheet: str) -> Callable[[int, str], Location]:
    """`cell_loc` for the many cells of one table: its columns are looked up once."""
    index: dict[str, int] = {}
    for i, h in enumerate(header, start=1):
        index.setdefault(h, i)
    if sheet:
        letters = {h: _column(i) for h, i in index.items()}
        first = _column(1)
        return lambda row, column: Location.in_sheet(name, sheet, letters.get(column, first), row)
    return lambda row, column: located(name, row, index.get(column, 1))


_new = object.__new__


def located(file: str, line: int, col: int) -> Location:
    """`Location(file, line, col)`, its fields stored straight into its `__dict__` (in their order)
    instead of through the frozen dataclass's `__init__`: a table locates every row it reads."""
    loc = _new(Location)
    fields = loc.__dict__
    fields["file"] = file
    fields["line"] = line
    fields["col"] = col
    fields["cell"] = ""
    return loc


class Cell:
    """Text of a CSV / Excel cell with its location: typed only once the metric's kind is known.
    Given a table's `cell_locator` (with the row and column) instead of a `Location`, it builds its
    location only when asked: most cells are clean and never name their place."""

    __slots__ = ("text", "_where", "_row", "_column")

    def __init__(self, text: str, where: Location | Callable[[int, str], Location], row: int = 0, column: str = ""):
        self.text, self._where, self._row, self._column = text, where, row, column

    @property
    def location(self) -> Location:
        where = self._where
        return where if where.__class__ is Location else where(self._row, self._column)


def text_of(v: Any) -> tuple[Any, Optional[Location]]:
    """Unwrap a table cell to its text and own location (YAML values have none)."""
    if isinstance(v, Cell):
        return v.text, v.location
    return v, None


def as_number(v: Any, *, percent: bool = False, whole: bool = False) -> Fraction:
    """A number in the one grammar of numbers (`parse_number`), from a YAML value or a table cell;
    `percent` for a percent field, where `93.54%` and the share `677/2203` are read too."""
    v, _ = text_of(v)
    if isinstance(v, bool) or v is None:
        raise ValueError
    if isinstance(v, Decimal):  # a YAML decimal keeps its digits as written: `2.000` stays ambiguous
        return parse_number(format(v, "f"), percent=percent, whole=whole)
    if isinstance(v, str):
        return parse_number(v, percent=percent, whole=whole)
    return to_fraction(v)


def as_int(v: Any) -> int:
    f = as_number(v, whole=True)
    if f.denominator != 1:
        raise ValueError
    return int(f)


DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")
# The two forms as people write them in ASCII digits (`2023-05-02`, `2/5/2023`), read without
# strptime; anything else (other digits, spaces, ...) is left to strptime, which decides as before.
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_DMY_DATE = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")


def as_date(v: Any) -> date:
    """A date written `YYYY-MM-DD` or `dd/mm/yyyy` (or a date already); ValueError if not."""
    v, _ = text_of(v)
    if isinstance(v, date):
        return v
    text = str(v).strip()
    m = _ISO_DATE.fullmatch(text)
    if m:
        return date(int(m[1]), int(m[2]), int(m[3]))  # ValueError for a day the month does not have
    m = _DMY_DATE.fullmatch(text)
    if m:
        return date(int(m[3]), int(m[2]), int(m[1]))
    if "-" not in text and "/" not in text:  # both forms need their separator (`Quý I` is no date)
        raise ValueError
    return strptime_date(text)


def strptime_date(text: str) -> date:
    """`text` read by strptime in the accepted forms, in their order; ValueError if none fits."""
    for fmt in DATE_FORMATS:
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
                 sink: ProblemSink) -> Optional[tuple[dict, Callable[..., Location]]]:
    """A YAML file whose top level is one mapping checked against a JSON Schema: the document and
    a function giving the location of a key path's value in it (`key=True`: of its last key); None
    (with the problems in `sink`) if not."""
    doc = load_yaml(path, name)
    if not isinstance(doc, dict):
        sink.add(Location(name, 1, 1), _("expected a mapping ({what}) at the top level").format(what=what))
        return None
    problems = schema_problems(doc, schema, name)
    if problems:
        sink.problems.extend(problems)
        return None

    def at(*path_, key: bool = False) -> Location:
        return Location(name, *(key_position if key else position)(doc, list(path_)))

    return doc, at


def row_citation(cells: dict, at: Callable[[str], Location], sink: ProblemSink) -> Optional[dict]:
    """The citation a table row gives in its document / date / issuer / file columns."""
    get = cells.get
    return cited(get("document", ""), get("date", ""), get("issuer", ""), get("file", ""), at, sink)


def cited(document: str, when: str, issuer: str, file: str, at: Callable[[str], Location],
          sink: ProblemSink) -> Optional[dict]:
    """`row_citation` of a row's document, date, issuer and file cells ("" for a column not given)."""
    if document:
        citation = {"document": document, "issuer": issuer, "file": file}
        if when:
            citation["date"] = when
        return citation
    if when or issuer or file:
        sink.add(at("document"), _("a citation needs its document number"))
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
    return (header, rows, sheet) if columns_fit(header, name, sink, columns, required, sheet) else None


def columns_fit(header: list[str], name: str, sink: ProblemSink, columns: tuple[str, ...], required: tuple[str, ...],
                sheet: str = "") -> bool:
    """Whether a table's header uses only `columns` and holds `required`; each problem in `sink`."""
    bad = False
    for h in header:
        if h and h not in columns:
            sink.add(cell_loc(name, header, 1, h, sheet), _("unknown column {column!r}; expected: {columns}").format(
                column=h, columns=", ".join(columns)))
            bad = True
    for needed in required:
        if needed not in header:
            where = _(" on sheet {sheet!r}: {expected}").format(sheet=sheet, expected=workbook.expected_sheet()) if sheet else ""
            sink.add(cell_loc(name, header, 1, header[0] if header else "", sheet), _("missing column {column}{where}").format(
                column=workbook.label(needed), where=where))
            bad = True
    return not bad


def read_each(files: Iterable[Path], what: str, sink: ProblemSink, read_yaml: Callable[[Path, str], list],
              read_table_file: Callable[[Path, str], list]) -> list:
    """Read every file by its format (YAML, or CSV / Excel); problems of any file go to `sink`."""
    from ..core.errors import InputError

    out: list = []
    for f in files:
        name = str(f)
        if not f.is_file():
            sink.add(Location(name), _(NOT_A_FILE) if os.path.exists(f) else _("file not found"))
            continue
        suffix = f.suffix.lower()
        try:
            if suffix in (".yaml", ".yml"):
                out += read_yaml(f, name)
            elif suffix in (".csv", ".xlsx"):
                out += read_table_file(f, name)
            else:
                sink.add(Location(name), _("unsupported {what} format: expected .yaml, .yml, .csv or .xlsx").format(
                    what=what))
        except InputError as exc:
            sink.problems.extend(exc.problems)
    return out
