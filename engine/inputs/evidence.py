"""Evidence records from YAML, CSV and Excel, validated against a criteria set.

YAML: one unit for one period per file. CSV / Excel: one row per metric value, any number of units
(columns in `CSV_COLUMNS`). Every problem is reported at once with its file and line (CSV row and
column, or Excel `Sheet!B7`).
"""
from __future__ import annotations

import calendar
import codecs
import csv
import difflib
import os
import re
import stat
from array import array
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from itertools import chain
from typing import Any, Iterable, Iterator, Optional, Union

from .. import methods
from . import workbook
from ..core.errors import EvidenceError, InputError, Location, Problem, did_you_mean
from ..core.i18n import _, both
from ..core.limits import limit
from ..core.memo import remember
from ..core.model import (Citation, CriteriaSet, EvidenceRecord, MetricSpec, MetricValue, Task)
from ..core.numbers import NumberError, exact_text
from .roundio import refuse_links
from .tables import (Cell, ProblemSink, Span, as_bool, as_date, as_int, as_number, cell_loc, cell_locator, cited,
                     _limit_once, column_names, columns_fit, load_mapping, located, nfc, picked_cells, plain_csv_file, plain_csv_rows,
                     read_each, read_table, rows_from_csv, rows_from_xlsx, scan_csv, span_cells, span_rows, table_rows,
                     taken_whole, text_of)
from .yamlio import Pos

CSV_COLUMNS = ("unit_id", "unit_name", "unit_type", "period", "metric", "option", "value",
               "numerator", "denominator", "document", "date", "issuer", "file", "reason",
               "not_applicable")
TASK_COLUMNS = ("task", "lead", "partners", "product", "deadline", "completed")
ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}


@dataclass(slots=True)
class RawValue:
    """One metric value before it is checked against the criteria set."""

    value: Any = None
    numerator: Any = None
    denominator: Any = None
    responses: Optional[dict] = None
    tasks: Optional[list] = None  # list of (dict, Location)
    citation: Optional[dict] = None
    reason: str = ""
    location: Optional[Location] = None
    value_pos: Optional[Pos] = None  # where a YAML `value` stands in `location`'s file (a table cell has its own)
    given: set = field(default_factory=set)  # which of value/numerator/... were present
    key_pos: Optional[Pos] = None  # where its metric id is written (a YAML key) in that file, when not `location`

    def value_at(self) -> Optional[Location]:
        own = text_of(self.value)[1]
        return own or (Location(self.location.file, *self.value_pos) if self.value_pos and self.location else None)

    def key_at(self) -> Optional[Location]:
        """Where its metric id is written: its YAML key, else `location`."""
        return Location(self.location.file, *self.key_pos) if self.key_pos and self.location else self.location


@dataclass
class RawUnit:
    unit_id: str
    unit_name: str
    unit_type: str
    period: str
    location: Location
    source: str
    folder: Path
    metrics: dict[str, RawValue] = field(default_factory=dict)
    criteria: Optional[tuple[str, Location]] = None  # the criteria set the file says it is for, and where
    not_applicable: dict[str, tuple[str, Location]] = field(default_factory=dict)  # code -> (reason, where)
    period_location: Optional[Location] = None


# ---------------------------------------------------------------- reading files

def _read_yaml(path: Path, name: str, sink: ProblemSink) -> list[RawUnit]:
    loaded = load_mapping(path, name, "evidence.schema.json", _("one unit's evidence"), sink)
    if loaded is None:
        return []
    doc = loaded[0]  # its mappings and lists (the schema holds) know where each entry stands

    def at(positions: Any, key: Any) -> Location:
        return located(name, *positions[key])

    u = doc["unit"]
    unit = RawUnit(nfc(u["id"]), nfc(u["name"]), nfc(u["type"]), nfc(doc["period"]), at(doc.value_pos, "unit"), name,
                    path.parent, period_location=at(doc.value_pos, "period"))
    if "criteria" in doc:
        unit.criteria = (nfc(str(doc["criteria"])), at(doc.key_pos, "criteria"))
    metrics = doc.get("metrics") or {}
    for mid, m in metrics.items():
        # the places of its key and value are kept as positions, made locations only when a problem names them
        raw = RawValue(m.get("value"), m.get("numerator"), m.get("denominator"), citation=m.get("citation"),
                       reason=nfc(m["reason"]) if "reason" in m else "", location=at(metrics.value_pos, mid),
                       value_pos=m.value_pos.get("value"), given=m.keys() & GIVEN_KEYS, key_pos=metrics.key_pos[mid])
        if "responses" in m:
            responses = m["responses"]
            raw.responses = {nfc(k): (v, at(responses.value_pos, k)) for k, v in responses.items()}
        if "tasks" in m:
            raw.tasks = [(t, at(m["tasks"].item_pos, i)) for i, t in enumerate(m["tasks"])]
        if "tasks_file" in m:
            raw.tasks = _read_task_file(path.parent, m["tasks_file"], at(m.value_pos, "tasks_file"), sink)
        unit.metrics[nfc(mid)] = raw
    not_applicable = doc.get("not_applicable") or {}
    for code, reason in not_applicable.items():
        unit.not_applicable[nfc(code)] = (nfc(reason), at(not_applicable.key_pos, code))  # the item's code
    return [unit]


REQUIRED_COLUMNS = ("unit_id", "unit_name", "unit_type", "period")


def _read_table(path: Path, name: str, sink: ProblemSink) -> list[RawUnit]:
    table = read_table(path, name, sink, CSV_COLUMNS, REQUIRED_COLUMNS)
    if table is None:
        return []
    header, rows, sheet = table
    return _table_units(path, name, header, picked_cells(CSV_COLUMNS, rows), sheet, sink)


def _table_units(path: Path, name: str, header: list[str], rows: Iterable[tuple[int, tuple[str, ...]]], sheet: str,
                 sink: ProblemSink) -> list[RawUnit]:
    """The units of a table's rows (all of its rows, or every row of some of its units), each row
    the tuple of its cells in `CSV_COLUMNS`' order."""
    locate = cell_locator(name, header, sheet)
    folder = path.parent
    units: dict[tuple[str, str], RawUnit] = {}
    unit: Optional[RawUnit] = None  # the unit of the row before
    citations: dict[tuple[str, str, str, str], dict] = {}  # a unit's rows mostly cite one document alike
    for rowno, cells in rows:
        (unit_id, unit_name, unit_type, period, metric, option, value, numerator, denominator, document, when, issuer,
         file, reason, na) = cells
        if not (unit_id and unit_name and unit_type and period):
            for needed, text in zip(REQUIRED_COLUMNS, cells):
                if not text:
                    sink.add(locate(rowno, needed), _("{column} is empty").format(column=needed))
            continue
        if unit is None or unit_id != unit.unit_id or period != unit.period:
            unit = units.get((unit_id, period))
            if unit is None:
                unit = units[(unit_id, period)] = RawUnit(unit_id, unit_name, unit_type, period,
                                                          locate(rowno, "unit_id"), name, folder,
                                                          period_location=locate(rowno, "period"))
        if unit.unit_name != unit_name or unit.unit_type != unit_type:
            sink.add(locate(rowno, "unit_name"), _("unit {unit} is named or typed differently than on "
                                                   "{at}").format(unit=unit.unit_id, at=unit.location))
        if na:
            if metric:
                sink.add(locate(rowno, "not_applicable"),
                         _("a row gives either a metric or a not_applicable item, not both"))
            elif na in unit.not_applicable:
                sink.add(locate(rowno, "not_applicable"),
                         _("item {code} is declared not applicable twice").format(code=na))
            else:
                unit.not_applicable[na] = (reason, locate(rowno, "not_applicable"))
            continue
        if not metric:
            sink.add(locate(rowno, "metric"), _("metric is empty (or give not_applicable)"))
            continue
        # the citation of an earlier row written alike (`cited` finds nothing wrong in it)
        citation = citations.get((document, when, issuer, file)) if document else None
        if citation is None:
            citation = cited(document, when, issuer, file, lambda col: locate(rowno, col), sink)
            if document:
                citations[(document, when, issuer, file)] = citation
        existing = unit.metrics.get(metric)
        if option:
            raw = existing or RawValue(location=locate(rowno, "metric"), citation=citation)
            if existing is not None and raw.responses is None:
                sink.add(locate(rowno, "option"), _("metric {metric} is given twice (see {at})").format(
                    metric=metric, at=raw.location))
                continue
            raw.responses = raw.responses or {}
            raw.given.add("responses")
            if option in raw.responses:
                sink.add(locate(rowno, "option"), _("answer option {option!r} of {metric} is given twice").format(
                    option=option, metric=metric))
            raw.responses[option] = (value, locate(rowno, "value"))
            unit.metrics[metric] = raw
            continue
        if existing is not None:
            sink.add(locate(rowno, "metric"), _("metric {metric} of unit {unit} is given twice (first on {at})").format(
                metric=metric, unit=unit.unit_id, at=existing.location))
            continue
        raw = RawValue(location=locate(rowno, "metric"), citation=citation, reason=reason)
        given = raw.given
        if value != "":
            given.add("value")
            raw.value = Cell(value, locate, rowno, "value")  # located when a problem names it
        if numerator != "":
            given.add("numerator")
            raw.numerator = Cell(numerator, locate, rowno, "numerator")
        if denominator != "":
            given.add("denominator")
            raw.denominator = Cell(denominator, locate, rowno, "denominator")
        unit.metrics[metric] = raw
    return list(units.values())


def _read_task_file(folder: Path, ref: Any, location: Location, sink: ProblemSink, source: str = "") -> list:
    """A task list: a CSV / Excel file inside the evidence folder or, for a row of an intake
    workbook whose value is `Nhiệm vụ`, that sheet of the same workbook."""
    own_sheet = source.lower().endswith(".xlsx") and nfc(ref) == workbook.TASK_SHEET
    target = Path(source) if own_sheet else _inside(folder, str(ref), location, sink)
    if target is None:
        return []
    name = str(target)
    sheet = ""
    if target.suffix.lower() == ".xlsx":
        header, rows, sheet = rows_from_xlsx(target, name, sink, workbook.TASK_SHEET if own_sheet else "")
    else:
        plain = _plain_task_list(target, name)
        if plain is not None:
            return plain
        header, rows = rows_from_csv(target, name, sink)
    missing = [c for c in ("task", "lead", "deadline") if c not in header]
    if missing:
        sink.add(Location(name, 1, 1), _("task list needs columns {columns}; missing: {missing}").format(
            columns=", ".join(TASK_COLUMNS), missing=", ".join(missing)))
        return []
    # Extra columns (a row number, the deadline as printed…) are kept out of the score, but one that
    # looks like a misspelt task column is an error: `complete` must not quietly score 0 %.
    typos = [(h, close[0]) for h in header if h and h not in TASK_COLUMNS
             for close in [difflib.get_close_matches(h, TASK_COLUMNS, n=1, cutoff=0.8)] if close]
    for h, meant in typos:
        sink.add(cell_loc(name, header, 1, h, sheet), _("unknown column {column!r} in a task list (did you mean "
                                                         "{meant!r}?); expected: {columns}").format(
            column=h, meant=meant, columns=", ".join(TASK_COLUMNS)))
    if typos:
        return []
    locate = cell_locator(name, header, sheet)
    return [({k: v for k, v in cells.items() if k in TASK_COLUMNS and v != ""}, locate(rowno, "task"))
            for rowno, cells in rows]


def _plain_task_list(path: Path, name: str) -> Optional[list]:
    """What `_read_task_file` gives for a small plain CSV task list (`plain_csv_file`) with nothing
    to report: a header of task columns only, each once and written as named, and every row that
    is not blank of the header's width, its cells taken whole (`taken_whole`). None otherwise (then
    every check reads it and says what is wrong)."""
    rows = plain_csv_file(path)
    if rows is None:
        return None
    header = rows[0]
    if not ("task" in header and "lead" in header and "deadline" in header) or len(set(header)) < len(header) \
            or not TASK_COLUMNS_SET.issuperset(header) or len(header) > limit("columns"):
        return None
    width, most = len(header), _limit_once("string_chars")
    at = header.index("task") + 1
    items = []
    for rowno, row in enumerate(rows[1:], start=2):
        joined = "\n".join(row)
        if not joined.strip():  # a blank row
            continue
        if len(row) != width or not taken_whole(joined, row, most):
            return None
        items.append(({h: c for h, c in zip(header, map(str.strip, row)) if c}, located(name, rowno, at)))
    return items


TASK_COLUMNS_SET = frozenset(TASK_COLUMNS)


def _inside(folder: Path, ref: str, location: Location, sink: ProblemSink) -> Optional[Path]:
    """Resolve a file reference inside the evidence folder; refuse anything that escapes it."""
    return _plainly_inside(folder, ref) or checked_inside(folder, ref, location, sink)


def checked_inside(folder: Path, ref: str, location: Location, sink: ProblemSink) -> Optional[Path]:
    """`_inside` by every check, in the order their problems are told."""
    if not ref or Path(ref).is_absolute():
        sink.add(location, _("file reference {ref!r} must be a relative path inside the evidence folder").format(ref=ref))
        return None
    base = folder.resolve()
    target = (base / ref).resolve()
    if base != target and base not in target.parents:
        sink.add(location, _("file reference {ref!r} escapes the evidence folder {folder}").format(ref=ref, folder=folder))
        return None
    steps = [folder.joinpath(*Path(ref).parts[:i + 1]) for i in range(len(Path(ref).parts))]
    linked = next((p for p in steps if p.is_symlink()), None)
    if linked is not None:
        sink.add(location, _("file reference {ref!r}: {linked} is a symbolic link; inputs are read from real files only").format(
            ref=ref, linked=linked))
        return None
    if not target.is_file():
        sink.add(location, _("referenced file {ref!r} does not exist in {folder}").format(ref=ref, folder=folder))
        return None
    return target


def _plainly_inside(folder: Path, ref: str) -> Optional[Path]:
    """What `_inside` gives for a reference made of plain names (no `..`, `.` or empty step) to a
    regular file, no step of it a symbolic link: the file under the resolved folder, with a system
    call per step instead of paths built and resolved. None when it is not so plain (the general
    checks then decide and speak)."""
    parts = ref.split("/")
    if not ref or "" in parts or "." in parts or ".." in parts:
        return None
    step = str(folder)
    for part in parts:
        step = os.path.join(step, part)
        try:
            mode = os.lstat(step).st_mode
        except (OSError, ValueError):
            return None
        if stat.S_ISLNK(mode):
            return None
    if not stat.S_ISREG(mode):
        return None
    where = str(folder)
    real = _REAL_FOLDERS.get(where)
    if real is None:
        real = os.path.realpath(where)
        if os.path.isabs(where):  # a relative name resolves from the working folder, which may change
            remember(_REAL_FOLDERS, where, real)
    return Path(os.path.join(real, ref))


_REAL_FOLDERS: dict[str, str] = {}  # evidence folders resolved, by absolute name: each unit's task list is in one


# ---------------------------------------------------------------- typing against the criteria


_DEADLINES: dict[tuple[str, Optional[int]], date] = {}  # deadlines read, by (text, year): task lists repeat them


def _deadline(text: Any, year: Optional[int]) -> date:
    """A task deadline as the annexes write it: a date; `Quý I`…`Quý IV` or `Tháng 1`…`Tháng 12`
    (of the period's year, or `năm 2022` / `/2022`); `Năm 2023`; or `Thường xuyên` (ongoing: judged
    at the end of the period's year)."""
    if text.__class__ is not str:
        return read_deadline(text, year)
    key = (text, year)
    found = _DEADLINES.get(key)
    if found is None:
        found = remember(_DEADLINES, key, read_deadline(text, year))
    return found


def read_deadline(text: Any, year: Optional[int]) -> date:
    """`_deadline` read afresh."""
    try:
        return as_date(text)
    except ValueError:
        pass
    t = re.sub(r"\s+năm\s+(\d{4})$", r"/\1", nfc(text).lower())
    m = re.fullmatch(r"năm\s+(\d{4})", t)
    if m or (t == "thường xuyên" and year):
        y = int(m.group(1)) if m else year
        return date(y, 12, 31)
    m = re.fullmatch(r"quý\s+([ivx]+|[1-4])(?:\s*/\s*(\d{4}))?", t)
    if m and year:
        g = m.group(1)
        q = int(g) if g.isdigit() else ROMAN.get(g)
        if q is None:
            raise ValueError
        y = int(m.group(2) or year)
        month = q * 3
        return date(y, month, calendar.monthrange(y, month)[1])
    m = re.fullmatch(r"tháng\s+(\d{1,2})(?:\s*/\s*(\d{4}))?", t)
    if m and year and 1 <= int(m.group(1)) <= 12:
        y, month = int(m.group(2) or year), int(m.group(1))
        return date(y, month, calendar.monthrange(y, month)[1])
    raise ValueError


def _period_year(period: str) -> Optional[int]:
    m = re.match(r"(\d{4})", period)
    return int(m.group(1)) if m else None


_CITATIONS: dict[tuple, Citation] = {}  # citations without a file, by what was written: rows repeat them
# The last citation `_CITATIONS` gave, with what was written (held, so never mistaken for another): a
# table's rows that cite alike share what was written (`_table_units`), and follow each other.
_LAST_CITED: list = [None, None]


def _citation(raw: Optional[dict], unit: RawUnit, location: Location, sink: ProblemSink) -> Optional[Citation]:
    if not raw:
        return None
    if raw is _LAST_CITED[0]:
        return _LAST_CITED[1]
    if not raw.get("file"):
        document, issuer, when = key = (raw.get("document"), raw.get("issuer"), raw.get("date"))
        if (document.__class__ is str and (issuer is None or issuer.__class__ is str)
                and (when is None or when.__class__ in (str, date))):
            found = _CITATIONS.get(key)
            if found is None:
                errors_before = len(sink.problems)
                found = _written_citation(raw, unit, location, sink)
                if len(sink.problems) > errors_before:
                    return found
                remember(_CITATIONS, key, found)
            _LAST_CITED[:] = raw, found
            return found
    return _written_citation(raw, unit, location, sink)


def _written_citation(raw: dict, unit: RawUnit, location: Location, sink: ProblemSink) -> Citation:
    d = None
    if raw.get("date") not in (None, ""):
        try:
            d = as_date(raw["date"])
        except ValueError:
            sink.add(location, _("citation date {date!r} is not a date (YYYY-MM-DD or dd/mm/yyyy)").format(
                date=raw["date"]))
    file = nfc(raw.get("file") or "")
    if file:
        if _inside(unit.folder, file, location, sink) is None:
            file = ""
    return Citation(nfc(raw["document"]), d, nfc(raw.get("issuer") or ""), file)


ALLOWED_KEYS = {"percent": frozenset({"value", "numerator", "denominator"}), "responses": frozenset({"responses"}),
                "tasks": frozenset({"tasks", "tasks_file"})}  # what each kind of metric takes; else a value
VALUE_ONLY = frozenset({"value"})
GIVEN_KEYS = VALUE_ONLY.union(*ALLOWED_KEYS.values())  # the keys of a YAML metric that give its value


_TYPED: dict[tuple, Any] = {}  # clean values by (kind, text) of a lone value, or (kind, type, text) of a YAML one
TYPED_BY_TEXT = frozenset({"percent", "count", "points", "boolean", "date"})  # kinds whose value is its text's alone
_UNTYPED = object()
# The values YAML loads a scalar as (besides text), each told apart from others of its type by its text:
# a decimal keeps its digits as written (`2.000` and `2.0` are equal numbers but two keys).
_LOADED_SCALARS = frozenset({int, bool, Decimal, date, datetime})


def typed_value(spec: MetricSpec, raw: RawValue, unit: RawUnit, sink: ProblemSink) -> Optional[MetricValue]:
    """`spec`'s value in `raw`, checked; None with the problems in `sink`. A lone value written as
    text (or loaded from YAML as a number, boolean or date) whose (kind, text) was typed cleanly
    before takes that value again, its citation still checked."""
    written = raw.value
    text = written.text if written.__class__ is Cell else written
    if spec.kind not in TYPED_BY_TEXT or raw.given != VALUE_ONLY:
        return typed_anew(spec, raw, unit, sink)
    if text.__class__ is str:
        key: tuple = (spec.kind, text)
    elif text.__class__ in _LOADED_SCALARS:
        key = (spec.kind, text.__class__, str(text))
    else:
        return typed_anew(spec, raw, unit, sink)
    value = _TYPED.get(key, _UNTYPED)
    if value is _UNTYPED:
        value = plain_number(spec.kind, _NUMBER_TEXT[text.__class__](text)) if text.__class__ in _NUMBER_TEXT \
            else _UNTYPED
        if value is _UNTYPED:
            typed = typed_anew(spec, raw, unit, sink)
            if typed is not None:
                remember(_TYPED, key, typed.value)
            return typed
        remember(_TYPED, key, value)
    errors_before = len(sink.problems)
    citation = _citation(raw.citation, unit, raw.location, sink)
    if len(sink.problems) > errors_before:
        return None
    return MetricValue(spec.id, spec.kind, value, citation, raw.location, None, None, raw.reason)


# What `plain_number` reads of a value: a text as written; a YAML decimal or integer by the text
# `as_number` reads it by (a decimal keeps its digits: `2.000` stays ambiguous in a count)
_NUMBER_TEXT = {str: str, Decimal: lambda d: format(d, "f"), int: str}
_PLAIN_NUMBER = re.compile(r"([0-9]{1,50})(?:[.,]([0-9]{1,50}))?")  # ASCII digits, one separator, short of MAX_DIGITS


def plain_number(kind: str, text: str) -> Any:
    """The value `typed_anew` gives a lone value of a percent, count or points metric written
    plainly (ASCII digits with at most one decimal separator, no white space, a percent at most
    100, a count without separator); `_UNTYPED` for any other text or kind."""
    m = _PLAIN_NUMBER.fullmatch(text)
    if m is None:
        return _UNTYPED
    digits, frac = m.groups()
    if kind == "count":
        return int(digits) if frac is None else _UNTYPED
    if kind != "percent" and kind != "points":
        return _UNTYPED
    if frac is None:  # the value is n / den: a percent is at most 100, compared in integers
        n = int(digits)
        den = 1
    else:
        n, den = int(digits + frac), 10 ** len(frac)
    if kind == "percent" and n > 100 * den:
        return _UNTYPED
    return Fraction(n) if den == 1 else Fraction(n, den)


def typed_anew(spec: MetricSpec, raw: RawValue, unit: RawUnit, sink: ProblemSink) -> Optional[MetricValue]:
    """`typed_value` by every check, whatever was typed before."""
    where = raw.location
    kind = spec.kind
    errors_before = len(sink.problems)
    citation = _citation(raw.citation, unit, where, sink)  # checked even when the value is wrong

    def bad(message: str, at: Optional[Location] = None) -> None:
        sink.add(at or where, f"{spec.id}: {message}")

    if kind == "tasks" and raw.given == {"value"} and isinstance(raw.value, Cell):
        # a CSV / Excel row names the unit's task list file in its value cell
        raw.tasks = _read_task_file(unit.folder, raw.value.text, raw.value.location, sink, unit.source)
        raw.given = {"tasks_file"}
        if len(sink.problems) > errors_before:
            return None
    allowed = ALLOWED_KEYS.get(kind, VALUE_ONLY)
    extra = raw.given - allowed
    if extra:
        bad(_("a {kind} metric does not take {keys}").format(kind=kind, keys=", ".join(sorted(extra))))
        return None
    if not raw.given:
        bad(_("no value given (a {kind} metric needs {keys})").format(kind=kind, keys=_(" or ").join(sorted(allowed))))
        return None
    value: Any = None
    num = den = None
    try:
        if kind == "percent":
            if "numerator" in raw.given or "denominator" in raw.given:
                if "value" in raw.given:
                    bad(_("give either value or numerator/denominator, not both"))
                    return None
                try:
                    num, den = as_int(raw.numerator), as_int(raw.denominator)
                except (ValueError, TypeError, ArithmeticError) as exc:
                    bad(_("numerator and denominator must both be whole numbers") + _detail(exc),
                        text_of(raw.numerator)[1])
                    return None
                if num < 0 or den <= 0:
                    bad(_("numerator must be ≥ 0 and denominator > 0, got {num}/{den}").format(num=num, den=den))
                    return None
                if num > den:
                    bad(_("numerator {num} is greater than denominator {den}").format(num=num, den=den))
                    return None
                value = Fraction(100 * num, den)
            else:
                value = as_number(raw.value, percent=True)
                if not 0 <= value.numerator <= 100 * value.denominator:  # 0 ≤ value ≤ 100, in integers
                    bad(_("a percent must be from 0 to 100, got {value}").format(value=exact_text(value)), text_of(raw.value)[1])
                    return None
        elif kind == "count":
            value = as_int(raw.value)
            if value < 0:
                bad(_("a count cannot be negative, got {value}").format(value=value), text_of(raw.value)[1])
                return None
        elif kind == "points":
            value = as_number(raw.value)
            if value < 0:
                bad(_("points cannot be negative, got {value}").format(value=exact_text(value)), text_of(raw.value)[1])
                return None
        elif kind == "boolean":
            value = as_bool(raw.value)
        elif kind == "date":
            text, _at = text_of(raw.value)
            value = None if text in (None, "", "not_done") else as_date(raw.value)
        elif kind == "category":
            text, at = text_of(raw.value)
            value = nfc(text) if text is not None else ""
            if value not in spec.categories:
                bad(_("{value!r} is not one of the categories: {categories}").format(
                    value=value, categories=", ".join(spec.categories)), at)
                return None
        elif kind == "responses":
            counts = {}
            for opt, (v, at) in (raw.responses or {}).items():
                if opt not in spec.options:
                    bad(_("unknown answer option {option!r}; the options are: {options}").format(
                        option=opt, options=", ".join(spec.options)), at)
                    continue
                try:
                    c = plain_number("count", v) if v.__class__ is str else _UNTYPED
                    if c is _UNTYPED:
                        c = as_int(v)
                except (ValueError, TypeError, ArithmeticError) as exc:
                    bad(_("response count for {option!r} must be a whole number, got {value!r}").format(
                        option=opt, value=text_of(v)[0]) + _detail(exc), at)
                    continue
                if c < 0:
                    bad(_("response count for {option!r} cannot be negative").format(option=opt), at)
                    continue
                counts[opt] = c
            if len(sink.problems) > errors_before:
                return None
            if sum(counts.values()) == 0:
                bad(_("no responses: at least one answer must be counted"))
                return None
            value = {o: counts.get(o, 0) for o in spec.options}
        elif kind == "tasks":
            value = _tasks(raw.tasks or [], _period_year(unit.period), spec, sink, where)
            if value is None:
                return None
    except (ValueError, TypeError, ArithmeticError) as exc:
        text, at = text_of(raw.value)[0], raw.value_at()
        bad(_("expected a {kind} value, got {value!r}").format(kind=kind, value=text) + _detail(exc), at)
        return None
    if len(sink.problems) > errors_before:
        return None
    return MetricValue(spec.id, kind, value, citation, where, num, den, raw.reason)


def _detail(exc: Exception) -> str:
    """What the number grammar says about a refused number (what to write instead), if it spoke."""
    return f": {exc}" if isinstance(exc, NumberError) else ""


def _tasks(items: list, year: Optional[int], spec: MetricSpec, sink: ProblemSink,
           where: Location) -> Optional[tuple[Task, ...]]:
    tasks, ok = [], True
    for item, at in items:
        if not isinstance(item, dict) or not item.get("task") or not item.get("lead") or not item.get("deadline"):
            sink.add(at, f"{spec.id}: " + _("a task needs task, lead and deadline"))
            ok = False
            continue
        try:
            deadline = _deadline(item["deadline"], year)
        except ValueError:
            sink.add(at, f"{spec.id}: " + _("deadline {deadline!r} is not a date, 'Quý I'–'Quý IV' or "
                                             "'Tháng 1'–'Tháng 12'").format(deadline=item["deadline"]))
            ok = False
            continue
        completed = None
        if item.get("completed") not in (None, ""):
            try:
                completed = as_date(item["completed"])
            except ValueError:
                sink.add(at, f"{spec.id}: " + _("completed {date!r} is not a date").format(date=item["completed"]))
                ok = False
                continue
        partners = item.get("partners") or ""
        if isinstance(partners, list):
            partners = ", ".join(nfc(p) for p in partners)
        tasks.append(Task(nfc(item["task"]), nfc(item["lead"]), nfc(partners), nfc(item.get("product") or ""),
                          deadline, completed))
    if not ok:
        return None
    if not tasks:
        sink.add(items[0][1] if items else where, f"{spec.id}: " + _("the task list is empty"))
        return None
    return tuple(tasks)


UNIT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _fits(unit: RawUnit, criteria: CriteriaSet) -> bool:
    return unit.unit_type in criteria.unit_type_ids() and set(unit.metrics) <= set(criteria.metrics)


@dataclass(frozen=True)
class _Checking:
    """What `_record` asks of a criteria set for every unit, worked out once: its items by code, its
    unit types, and the items whose scoring method checks a value itself (`check_value`)."""

    criteria: CriteriaSet
    subs: dict
    unit_types: set
    checked: tuple  # (item, its method's check_value)


_CHECKING: list[_Checking] = []  # for the criteria set of the last unit


def _checking(criteria: CriteriaSet) -> _Checking:
    if _CHECKING and _CHECKING[0].criteria is criteria:
        return _CHECKING[0]
    subs = {s.code: s for s in criteria.sub_criteria()}
    checked = tuple((s, method.check_value) for s in subs.values() for method in [methods.get(s.method)]
                    if type(method).check_value is not methods.ScoringMethod.check_value)
    _CHECKING[:] = [_Checking(criteria, subs, criteria.unit_type_ids(), checked)]
    return _CHECKING[0]


def _record(unit: RawUnit, criteria: CriteriaSet, sink: ProblemSink) -> Optional[EvidenceRecord]:
    checking = _checking(criteria)
    if not UNIT_ID.match(unit.unit_id):
        sink.add(unit.location, _("unit id {unit!r} must use only letters, digits, '.', '_' and '-' "
                                  "(it names the unit's result file)").format(unit=unit.unit_id))
    if unit.unit_type not in checking.unit_types:
        sink.add(unit.location, _("unknown unit type {type!r} for criteria set {id}; declared: {types}").format(
            type=unit.unit_type, id=criteria.id, types=", ".join(sorted(criteria.unit_type_ids()))))
    subs = checking.subs
    unknown = sorted(unit.metrics.keys() - criteria.metrics.keys())
    if len(unknown) >= 2 and len(unknown) == len(unit.metrics):  # evidence for another criteria set
        sink.add(unit.location, _("none of the {n} metrics of unit {unit} is in the criteria set {id} (first: "
                                  "{first}): is this evidence for another criteria set?").format(
            n=len(unknown), unit=unit.unit_id, id=criteria.id, first=", ".join(unknown[:3])))
        return None
    values = {}
    for mid, raw in sorted(unit.metrics.items()):
        spec = criteria.metrics.get(mid)
        if spec is None:
            sink.add(raw.key_at(),
                     _("unknown metric {metric!r}: the criteria set {id} has no such metric{hint}").format(
                         metric=mid, id=criteria.id, hint=did_you_mean(mid, criteria.metrics)
                         or _(" (its metrics are listed in {file})").format(file=criteria.path)))
            continue
        mv = typed_value(spec, raw, unit, sink)
        if mv is not None:
            values[mid] = mv
    for s, check_value in checking.checked:
        mv = values.get(s.metric)
        if mv is not None:
            problem = check_value(s.params, s.max, mv)
            if problem:
                sink.add(unit.metrics[s.metric].location, _("{metric} (item {code}): {problem}").format(
                    metric=s.metric, code=s.code, problem=problem))
    na = {}
    for code, (reason, at) in sorted(unit.not_applicable.items()):
        if code not in subs:
            sink.add(at, _("not_applicable names unknown item {code!r}{hint}").format(
                code=code, hint=did_you_mean(code, subs)))
        elif not reason:
            sink.add(at, _("item {code} is declared not applicable without a reason").format(code=code))
        else:
            na[code] = reason
    return EvidenceRecord(unit.unit_id, unit.unit_name, unit.unit_type, unit.period, values, na, unit.source,
                          unit.location, unit.period_location,
                          {code: at for code, (_reason, at) in sorted(unit.not_applicable.items()) if code in na})


def consistency_warnings(criteria: CriteriaSet, record: EvidenceRecord) -> list[Problem]:
    """Figures that the criteria set says must agree but do not: warnings naming both places."""
    out = []
    for check in criteria.checks:
        vals = {m: record.values[m] for m in check.metrics if m in record.values}
        label = f" ({check.label})" if check.label else ""
        if check.kind == "sum":
            total = record.values.get(check.total)
            if total is None or len(vals) != len(check.metrics):
                continue
            parts = sum((Fraction(v.value) for v in vals.values()), Fraction(0))
            if parts != total.value:
                detail = " + ".join(f"{m} {exact_text(Fraction(v.value))} ({v.location})" for m, v in vals.items())
                out.append(_warning(total.location, *both(
                    "unit {unit}: {total} is {value} but its parts add up to {parts}: {detail}{label}",
                    unit=record.unit_id, total=check.total, value=exact_text(Fraction(total.value)),
                    parts=exact_text(parts), detail=detail, label=label)))
        elif len(vals) >= 2:
            first_id, first = next(iter(vals.items()))
            for m, v in vals.items():
                if Fraction(v.value) != Fraction(first.value):
                    out.append(_warning(v.location, *both(
                        "unit {unit}: {metric} is {value} here but {first} is {first_value} at {at}; they should "
                        "agree{label}", unit=record.unit_id, metric=m, value=exact_text(Fraction(v.value)),
                        first=first_id, first_value=exact_text(Fraction(first.value)), at=first.location,
                        label=label)))
    return out


def _warning(location: Location, message: str, translated: str) -> Problem:
    return Problem.at(location, message, "warning", translated)


@dataclass(frozen=True)
class EvidenceSet:
    records: tuple[EvidenceRecord, ...]
    warnings: tuple[Problem, ...]
    files: tuple[Path, ...]


def evidence_files(paths: Iterable[Path | str]) -> list[Path]:
    """The evidence files named, with folders expanded to the YAML / CSV / Excel files inside
    (task lists referenced by `tasks_file` are skipped: they are read through their unit); links
    are refused."""
    paths = list(paths)
    refuse_links(paths)
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():  # task folders not walked: one may hold tens of thousands of task lists
            found = []
            for folder, subfolders, names in os.walk(p):
                subfolders[:] = [d for d in subfolders if d != "tasks"]
                found += [f for f in map(Path(folder).joinpath, names)
                          if f.suffix.lower() in (".yaml", ".yml", ".csv", ".xlsx")
                          and not f.name.startswith(("tasks", ".")) and f.is_file()]
            out += sorted(found)
        else:
            out.append(p)
    return out


def found_evidence_files(paths: Iterable[Path | str]) -> list[Path]:
    """`evidence_files`; an `EvidenceError` when there are none."""
    paths = list(paths)
    files = evidence_files(paths)
    if not files:
        raise EvidenceError([Problem(", ".join(map(str, paths)) or "(none)", message=_("no evidence files found"))])
    return files


def load_evidence(paths: Iterable[Path | str], criteria: CriteriaSet) -> EvidenceSet:
    """Load evidence files (or folders of them) for one criteria set; raise `EvidenceError` with
    every problem found."""
    sink = ProblemSink()
    files = found_evidence_files(paths)
    records = _records(_read_files(files, sink), criteria, sink)
    errors = [p for p in sink.problems if p.severity == "error"]
    if errors:
        raise EvidenceError(errors)
    records.sort(key=lambda r: r.unit_id)  # before the warnings, so neither depends on file order
    warnings = [w for r in records for w in consistency_warnings(criteria, r)]
    return EvidenceSet(tuple(records), tuple(warnings), tuple(files))


def _read_files(files: Iterable[Path], sink: ProblemSink) -> list[RawUnit]:
    return read_each(files, _("evidence"), sink, lambda f, name: _read_yaml(f, name, sink),
                     lambda f, name: _read_table(f, name, sink))


def _records(units: Iterable[RawUnit], criteria: CriteriaSet, sink: ProblemSink,
             firsts: Optional[list[tuple[str, Location, str]]] = None) -> list[EvidenceRecord]:
    """The records of units read, in their order: a unit given twice is reported at its second
    place; every unit's first place goes to `firsts` (unit id, where, evidence file)."""
    seen: dict[str, RawUnit] = {}
    records = []
    for unit in units:
        first = seen.get(unit.unit_id)
        if first is not None:
            sink.add(unit.location, _("duplicate unit {unit!r}: already given at {at}").format(
                unit=unit.unit_id, at=first.location))
            continue
        seen[unit.unit_id] = unit
        if firsts is not None:
            firsts.append((unit.unit_id, unit.location, unit.source))
        if unit.criteria is not None and unit.criteria[0] != criteria.id and not _fits(unit, criteria):
            # evidence for another set: one message at its `criteria:` line, not one per metric (a set
            # that shares the file's metric ids and unit type, as a what-if or next year's set, reads it)
            declared, where = unit.criteria
            sink.add(where, _("this evidence is for the criteria set {declared}, but it is being checked against "
                              "the criteria set {id} ({file}): give the criteria set {declared}, or correct this "
                              "line if the file is meant for {id}").format(
                declared=declared, id=criteria.id, file=criteria.path))
            continue
        rec = _record(unit, criteria, sink)
        if rec is not None:
            records.append(rec)
    return records


# ---------------------------------------------------------------- evidence read in pieces

@dataclass(frozen=True)
class TableUnits:
    """Some units of a CSV evidence file, to be read from where their rows stand (byte spans, in
    file order, found by `evidence_pieces`) rather than from the whole file."""

    path: Path
    header: tuple[str, ...]
    # each span's start byte, end byte and first row in turn: a national run's index is tens of
    # thousands of spans, held as numbers in an array rather than as tuples of three int objects
    flat_spans: array
    units: int
    given: frozenset[str] = frozenset()  # its units an earlier CSV file gives: read (a duplicate), never typed
    stamp: Optional[tuple[int, ...]] = None  # the file's identity, size and times of change when indexed (`file_stamp`)

    @property
    def spans(self) -> Iterator[Span]:
        """The spans, in file order."""
        numbers = iter(self.flat_spans)
        return zip(numbers, numbers, numbers)


EvidencePiece = Union[tuple[Path, ...], TableUnits]  # some evidence files, or some units of one CSV file


_SMALLEST = 16  # units of the smallest piece `_cuts` makes


def file_stamp(path: Path | str) -> Optional[tuple[int, ...]]:
    """A file's identity, size and times of change (None: gone): a CSV file is read piece by
    piece, from the byte spans found when it was indexed, which hold only while it is not written
    to; and a run's bundle holds the files it read only while they are not written to before it
    copies them (engine.storage.bundle.ReadStamps). (The time its inode changed moves with every
    write, even one whose time of change is set back afterwards; another file renamed over it has
    another inode.)"""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def stamps(pieces: Iterable[EvidencePiece]) -> dict[str, tuple[int, ...]]:
    """The stamp (`file_stamp`) each CSV file of `pieces` had when it was indexed, by path."""
    return {str(p.path): p.stamp for p in pieces if isinstance(p, TableUnits) and p.stamp is not None}


def _changed(path: Path, sink: ProblemSink) -> None:
    sink.problems.append(changed_file(path))


def changed_file(path: Path | str) -> Problem:
    """The problem of a file written to while a run read it."""
    return Problem.at(Location(str(path)), _("the file changed while it was being read: run again once nothing "
                                             "writes to it"))


def _cuts(units: int, size: int, last: bool) -> list[tuple[int, int]]:
    """Where `units` units are cut into pieces of `size` (the numbers of the first and after the
    last of each); `last`, the pieces are the run's last: then, past two pieces, the last two
    pieces' worth are cut into pieces of a quarter of the size (when that is `_SMALLEST` units or
    more: a piece has its own costs besides its units'), so that the processes sharing the pieces,
    each ending with the one it has, end close together."""
    small = max(1, size // 4)
    tail = 2 * size if last and units > 2 * size and small >= _SMALLEST else 0
    bounds = list(range(0, units - tail, size)) + list(range(units - tail, units, small))
    return list(zip(bounds, bounds[1:] + [units]))


def evidence_pieces(paths: Iterable[Path | str], units_per_piece: int, files_per_piece: int,
                    sink: ProblemSink) -> list[EvidencePiece]:
    """The contents of the evidence files named, in pieces that can be read one at a time
    (`read_piece`): a CSV file is indexed (where each unit's rows stand: merged byte spans, no
    rows) and its units cut into pieces of `units_per_piece`, in the order they first appear
    (the last CSV file's last units, when no other file follows, into smaller ones: `_cuts`);
    other files go `files_per_piece` to a piece. The problems of a CSV file's header, or of the
    file as a whole, go to `sink` (its rows are then only checked, never read into units)."""
    files = found_evidence_files(paths)
    pieces: list[EvidencePiece] = []
    others: list[Path] = []
    earlier: set[str] = set()  # the units of the CSV files before
    for k, f in enumerate(files):
        if f.suffix.lower() != ".csv" or not f.is_file():
            others.append(f)
            if len(others) == files_per_piece:
                pieces.append(tuple(others))
                others = []
            continue
        if others:
            pieces.append(tuple(others))
            others = []
        stamp = file_stamp(f)
        index = _index_table(f, str(f), sink)
        if index is None:
            continue
        if file_stamp(f) != stamp:
            _changed(f, sink)
            continue
        header, units = index
        keys = list(units)
        for start, end in _cuts(len(keys), units_per_piece, k == len(files) - 1):
            some = keys[start:end]
            spans: list[Span] = []
            for key in some:
                flat = units.pop(key)
                spans += [(flat[j], flat[j + 1], flat[j + 2]) for j in range(0, len(flat), 3)]
            spans.sort()  # rows in file order, as a whole-file read meets them
            pieces.append(TableUnits(f, tuple(header), array("q", chain.from_iterable(spans)), len(some),
                                     frozenset(earlier.intersection(some)), stamp))
        earlier.update(keys)
    if others:
        pieces.append(tuple(others))
    return pieces


def _index_table(path: Path, name: str, sink: ProblemSink) -> Optional[tuple[list[str], dict[str, array]]]:
    """Where each unit's rows stand in a CSV evidence file, by the text of its unit_id cell in the
    order units first appear: flat (start byte, end byte, first row) triples, the rows that follow
    each other merged. None (the problems in `sink`) when the file or its header is refused."""
    index = _TableIndex()
    first = _plain_index(path, index)
    if first is None:
        index = _TableIndex()
        header = scan_csv(path, name, sink, index.visit)
    else:
        header = column_names(first, name, "", sink)
    if header is None:
        return None
    if not columns_fit(header, name, sink, CSV_COLUMNS, REQUIRED_COLUMNS):
        if index.rows_to > index.rows_from:  # every row is still checked, as when the file is read whole
            for _row in table_rows(header, span_rows(path, [(index.rows_from, index.rows_to, 2)]), name, sink):
                pass
        return None
    return header, index.units


class _TableIndex:
    """`_index_table`'s units, filled row by row."""

    def __init__(self) -> None:
        self.units: dict[str, array] = {}
        self.column: Optional[int] = None  # of unit_id
        self.last: Optional[str] = None  # the unit of the row before
        self.rows_from = self.rows_to = 0  # where the data rows start and end

    def named(self, row: list[str], end: int) -> None:
        """The header row, ending at byte `end`."""
        names = [nfc(h).lower() for h in row]
        self.column = names.index("unit_id") if "unit_id" in names else None
        self.rows_from = end

    def visit(self, n: int, start: int, end: int, row: list[str]) -> None:
        """`scan_csv`'s visit of each row."""
        if n == 1:
            self.named(row, end)
            return
        self.rows_to = end
        if not "".join(row).strip():  # a blank row (no cell holds anything but white space): skipped by every reader
            return
        col = self.column
        self.add(nfc(row[col]) if col is not None and col < len(row) else "", start, end, n)

    def add(self, unit: str, start: int, end: int, n: int) -> None:
        """Row `n` of `unit`, from byte `start` to `end`."""
        spans = self.units.get(unit)
        if spans is None:
            spans = self.units[unit] = array("q")
        elif self.last == unit and spans[-2] == start:
            spans[-2] = end
            return
        spans.extend((start, end, n))
        self.last = unit


PLAIN_BLOCK = 1024 * 1024  # bytes read at a time by `_plain_index`


def _plain_index(path: Path, index: _TableIndex) -> Optional[list[str]]:
    """What `scan_csv(path, ..., index.visit)` does to `index`, for a file that is plain throughout
    (UTF-8 without a quote or a carriage return, every line shorter than the CSV reader's field
    limit, within the size and row limits, a header row): each line is cut at its commas as bytes
    and only its unit_id cell decoded. The header's cells; None when the file is not so plain (then
    `index` is to be dropped and the file scanned)."""
    try:
        most = limit("rows") + 1
        if path.stat().st_size > limit("file_mb") * 1024 * 1024:
            return None
        fh = open(path, "rb")
    except (InputError, OSError):
        return None
    field = csv.field_size_limit()
    with fh:
        head = fh.readline()
        start = len(head)
        if head.startswith(codecs.BOM_UTF8):
            head = head[len(codecs.BOM_UTF8):]
        if len(head) >= field:
            return None
        try:
            rows = plain_csv_rows(head.decode("utf-8"))
        except UnicodeDecodeError:
            return None
        if not rows:
            return None
        index.named(rows[0], start)
        col, n, rest, add = index.column, 1, b"", index.add
        if col is None:
            return None
        unit = spans = None  # the unit of the row before, its spans
        # the unit_id cell of the row before and its comma, when it is the first cell and names a unit: a
        # line that starts with it is the next row of that unit (its rows mostly follow each other)
        same: Optional[bytes] = None
        while True:
            block = fh.read(PLAIN_BLOCK)
            data = rest + block
            if block:  # whole lines now, the rest with the next block
                cut = data.rfind(b"\n") + 1
                data, rest = data[:cut], data[cut:]
            elif data:  # the last line, without its line break: read as if it had one, then put right
                data += b"\n"
            if b'"' in data or b"\r" in data:
                return None
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                return None
            lines = data.split(b"\n")
            lines.pop()  # after the last line break
            if n + len(lines) > most:
                return None
            blank = False
            for line in lines:
                n += 1
                if len(line) >= field:
                    return None
                end = start + len(line) + 1
                if same is not None and line.startswith(same):
                    spans[-2] = start = end
                    continue
                cells = line.split(b",", col + 1)
                text = cells[col].decode("utf-8") if col < len(cells) else ""
                before, unit = unit, text.strip() if text.isascii() else nfc(text)
                if unit and unit == before and spans[-2] == start:  # the next row of the same unit
                    spans[-2] = end
                    blank = False
                else:
                    blank = not unit and not line.decode("utf-8").replace(",", "").strip()
                    if blank:
                        unit = before
                    else:
                        add(unit, start, end, n)
                        spans = index.units[unit]
                same = cells[0] + b"," if col == 0 and unit and not blank and len(cells) > 1 else None
                start = end
            if block:
                continue
            if data:  # the last line had no line break
                start -= 1
                if not blank:
                    spans[-2] = start
            index.rows_to = start if n > 1 else 0
            return rows[0]


def read_piece(piece: EvidencePiece, criteria: CriteriaSet) -> tuple[list[EvidenceRecord], list[Problem],
                                                                     list[tuple[str, Location, str]]]:
    """Read and type one piece of evidence (see `evidence_pieces`): its records, the problems found
    (errors only), and the first place of every unit read (unit id, where, evidence file), whether
    or not it could be typed — so that a unit also given in another piece is found."""
    sink = ProblemSink()
    if isinstance(piece, TableUnits):
        if file_stamp(piece.path) != piece.stamp:
            _changed(piece.path, sink)
            return [], sink.problems, []
        name = str(piece.path)
        header = list(piece.header)
        rows = span_cells(piece.path, piece.spans, header, CSV_COLUMNS, name, sink)
        units = _table_units(piece.path, name, header, rows, "", sink)
    else:
        units = _read_files(piece, sink)
    firsts: list[tuple[str, Location, str]] = []
    given = piece.given if isinstance(piece, TableUnits) else frozenset()
    firsts += [(u.unit_id, u.location, u.source) for u in units if u.unit_id in given]
    records = _records([u for u in units if u.unit_id not in given], criteria, sink, firsts)
    return records, [p for p in sink.problems if p.severity == "error"], firsts
