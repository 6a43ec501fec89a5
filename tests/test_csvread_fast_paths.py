"""The quick ways of reading a CSV file's rows give exactly what the general ways give: the rows of
plain spans picked into tuples without a dictionary per row."""
from __future__ import annotations

import codecs
import csv
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from engine.core.errors import Location
from engine.core.model import MetricSpec
from engine.inputs import evidence, tables
from engine.inputs.evidence import CSV_COLUMNS
from engine.inputs.tables import (Cell, ProblemSink, column_names, picked_cells, scan_csv, span_cells, span_rows,
                                  table_rows)

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

plain_cell = st.text(st.sampled_from("ab 7eé\u0301\u2028\t"), max_size=6)  # NFD é, white space
cell = plain_cell | st.text(st.sampled_from("a,\"\r"), max_size=3)  # quoted, a line ended by CR
row = st.lists(plain_cell, min_size=3, max_size=3) | st.lists(cell, max_size=5)  # mostly the header's width
named = st.sampled_from(["unit_id", "metric", "value", "other", "reason"])
header = st.lists(named, min_size=3, max_size=3, unique=True) | st.lists(
    named | st.just(""), min_size=1, max_size=4, unique_by=lambda h: h or object())  # a column without a name


def outcome(read):
    sink = ProblemSink()
    try:
        return read(sink), sink.problems
    except csv.Error as exc:
        return str(exc), sink.problems


@SETTINGS
@given(header, st.lists(row.map(",".join), max_size=12), st.lists(st.booleans(), max_size=12),
       st.lists(st.booleans(), max_size=12), st.sampled_from(["3", "5", "20000"]),
       st.sampled_from([CSV_COLUMNS, ("value",), ("nothing", "metric")]))
@example(["unit_id", "metric", "value"],
         ["u1,m, 7 ", "u1,m2,8", "", " , ,", "u2,m,9,9", "u2,e\u0301,x", "u3,\"a,b\",c"], [True] * 7, [True] * 7,
         "20000", CSV_COLUMNS)
@example(["unit_id", "", "value"], ["u1,,7", "u1,x,7"], [], [], "20000", CSV_COLUMNS)  # a value without a column name
def test_rows_picked_from_spans_are_the_rows_read_by_every_check(monkeypatch, names, lines, cuts, kept, most,
                                                                 columns):
    """A file's rows as the index finds them, cut into spans anywhere between rows, some rows left
    out: every kept row, as a tuple of the evidence columns, and every problem, as `table_rows`
    reads them from `span_rows`."""
    monkeypatch.setenv("CCHC_MAX_STRING_CHARS", most)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "e.csv"
        path.write_bytes(("\n".join([",".join(names)] + lines) + "\n").encode("utf-8"))
        found: list[tuple[int, int, int]] = []
        names = scan_csv(path, "e.csv", ProblemSink(), lambda n, start, end, _row: found.append((start, end, n)))
        if names is None:
            return
        spans: list[list[int]] = []
        for i, (start, end, n) in enumerate(found[1:]):
            if not (kept[i] if i < len(kept) else True):
                continue
            if spans and spans[-1][1] == start and not (cuts[i] if i < len(cuts) else False):
                spans[-1][1] = end
            else:
                spans.append([start, end, n])
        spans_ = [tuple(s) for s in spans]
        quick = outcome(lambda sink: list(span_cells(path, spans_, names, columns, "e.csv", sink)))
        general = outcome(lambda sink: list(picked_cells(columns, table_rows(names, span_rows(path, spans_), "e.csv",
                                                                                   sink))))
    assert quick == general


file_text = st.lists(st.lists(st.text(st.sampled_from("ab 7\"\r\x00e\u0301é"), max_size=4), max_size=4).map(",".join),
                     max_size=6).map("\n".join)


@SETTINGS
@given(file_text, st.sampled_from(["", "\n"]), st.sampled_from([b"", codecs.BOM_UTF8, b"\xff"]),
       st.sampled_from(["2", "1000000"]), st.sampled_from([8, tables.SMALL_FILE]))
@example("task,lead\nA,B", "\n", b"", "1000000", tables.SMALL_FILE)
def test_a_small_plain_file_read_whole_gives_what_scanning_it_gives(monkeypatch, text, end, prefix, rows, small):
    """A file's header, rows and problems are the same read whole (a task list) as scanned row by
    row, whatever it holds: quotes, CR, NUL, NFD text, a byte order mark or a byte that is not
    UTF-8, more rows than allowed, more bytes than a file read whole may have."""
    monkeypatch.setenv("CCHC_MAX_ROWS", rows)
    monkeypatch.setattr(tables, "SMALL_FILE", small)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "tasks.csv"
        path.write_bytes(prefix + (text + end).encode("utf-8"))
        quick = outcome(lambda sink: tables.rows_from_csv(path, "tasks.csv", sink))
        general = outcome(lambda sink: tables.scanned_rows(path, "tasks.csv", sink))
        taken = tables.plain_csv_file(path) is not None
    assert quick == general
    if prefix != b"\xff" and text and '"' not in text and "\r" not in text and rows != "2" and small > 8:
        assert taken  # the quick way is taken whenever it can be


def test_a_file_over_the_size_limit_is_refused_whatever_way_it_is_read(monkeypatch, tmp_path):
    monkeypatch.setenv("CCHC_MAX_FILE_MB", "1")
    monkeypatch.setattr(tables, "SMALL_FILE", 4 * 1024 * 1024)
    path = tmp_path / "tasks.csv"
    path.write_text("task,lead\n" + "a,b\n" * 300_000)
    quick = outcome(lambda sink: tables.rows_from_csv(path, "tasks.csv", sink))
    assert quick == outcome(lambda sink: tables.scanned_rows(path, "tasks.csv", sink))
    assert quick[0] == ([], []) and "file is 1.1 MB" in quick[1][0].message


index_cell = st.sampled_from(["u1", "u2", " u1 ", "e\u0301", "é", "", " ", "x,y", "\x00", "\t"])
index_line = st.lists(index_cell, max_size=6).map(",".join)
FITS = "unit_id,unit_name,unit_type,period,metric"


def index_of(path, monkeypatch, plain):
    if not plain:
        monkeypatch.setattr(evidence, "_plain_index", lambda path, index: None)
    found = outcome(lambda sink: evidence._index_table(path, "e.csv", sink))
    return found[0] and (found[0][0], {u: list(s) for u, s in found[0][1].items()}), found[1]


def plainly_indexed(path):
    """What `_plain_index` finds (None when it does not read the file) and what scanning it finds."""
    quick, general = evidence._TableIndex(), evidence._TableIndex()
    first = evidence._plain_index(path, quick)
    header = scan_csv(path, "e.csv", ProblemSink(), general.visit)
    return [(found, dict(ix.units), ix.rows_from, ix.rows_to) for found, ix in ((first, quick), (header, general))]


@SETTINGS
@given(st.sampled_from([FITS, FITS, "metric,unit_id,unit_name,unit_type,period", "unit_id,bogus", "value", "",
                        "\"unit_id\",metric"]),
       st.lists(index_line, max_size=8), st.sampled_from(["", "", "", "u1,\"a,b\"", "u2,a\rb"]),
       st.sampled_from(["", "\n"]), st.sampled_from([b"", b"", codecs.BOM_UTF8, b"\xff"]),
       st.sampled_from(["3", "1000000", "1000000"]), st.sampled_from([6, 60, 131072, 131072]),
       st.sampled_from([4, evidence.PLAIN_BLOCK]))
@example(FITS, ["u1,m,1", "u1,n,2", "", "u2,m,1", "u1,p,3", " , ", "u2,n,2"], "", "", b"", "1000000", 131072, 4)
@example(FITS, [",u1", "", ""], "", "", b"", "1000000", 131072, 4)  # a blank row after a row without a unit
@example(FITS, ["u1,a", "u1,b", "u2,c", "u2,d"], "", "", b"", "3", 131072, 4)  # one row too many
@example(FITS, ["u1,a", "u1," + "b" * 70], "", "", b"", "1000000", 60, 4)  # a field over the reader's limit
@example(FITS, ["u1,a", "u2,b", "u3,c"], "u1,\"a,b\"", "", b"", "1000000", 131072, 4)  # a quote in a later block
@example(FITS, ["e\u0301,a", "\u00e9,b"], "", "", b"", "1000000", 131072, 4)  # the same unit in NFD and NFC
@example(FITS, ["u1,a", "u1,b", "u10,c", "u1,d"], "", "", b"", "1000000", 131072, 1024)  # a unit named as another begins
@example(FITS, ["u1,a", " ,", " ,x", "u1,b"], "", "", b"", "1000000", 131072, 1024)  # a blank row, then one without a unit
@example(FITS, ["u1,a", "u1,b", "u1,c", "u1,d"], "", "", b"", "1000000", 131072, 9)  # a unit's rows across blocks
def test_a_plain_file_is_indexed_as_scanning_it_indexes_it(monkeypatch, head, lines, spoiler, end, prefix, rows, field,
                                                            block):
    """Where each unit's rows stand, and every problem, are the same found by cutting plain lines
    at commas as by scanning them with the CSV reader: units given in turns, blank and empty rows,
    white space, NFD text, quotes, CR, NUL, a byte order mark or a byte that is not UTF-8, a last
    line without its line break, more rows than allowed, a field longer than the reader's limit,
    lines cut across blocks, a header that does not fit (every row then checked)."""
    monkeypatch.setenv("CCHC_MAX_ROWS", rows)
    before = csv.field_size_limit(field)
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "e.csv"
            spoilt = lines[:len(lines) // 2] + [spoiler] + lines[len(lines) // 2:] if spoiler else lines
            path.write_bytes(prefix + ("\n".join([head] + spoilt) + end).encode("utf-8"))
            with monkeypatch.context() as patch:
                patch.setattr(evidence, "PLAIN_BLOCK", block)
                quick = index_of(path, patch, True)
                (first, *found), (header, *scanned) = plainly_indexed(path)
            with monkeypatch.context() as patch:
                general = index_of(path, patch, False)
    finally:
        csv.field_size_limit(before)
    assert quick == general
    if first is not None:
        assert header is not None and found == scanned
        assert column_names(first, "e.csv", "", ProblemSink()) == header
    if head.startswith("unit_id") and prefix != b"\xff" and not spoiler and rows != "3" \
            and max(map(len, [head] + lines)) < field:
        assert first is not None  # the quick way is taken whenever it can be


number_text = st.text(st.sampled_from("0123456789.,% -/e１"), max_size=8) | st.from_regex(
    r"[0-9]{1,4}([.,][0-9]{1,3})?", fullmatch=True)


@SETTINGS
@given(st.sampled_from(["percent", "count", "points", "boolean", "date", "category"]), number_text)
@example("percent", "100.00")
@example("percent", "100.01")
@example("count", "2.000")
@example("points", "0,5")
def test_a_plainly_written_number_is_typed_as_every_check_types_it(kind, text):
    """A number typed straight from its digits is the value every check gives it, with no problem;
    anything else (other kinds, white space, signs, groups, exponents, out of range) is left to them."""
    quick = evidence.plain_number(kind, text)
    if quick is evidence._UNTYPED:
        return
    unit = evidence.RawUnit("u1", "U", "district", "2023", Location("e.csv", 2, 1), "e.csv", Path("."))
    sink = ProblemSink()
    typed = evidence.typed_anew(MetricSpec("m", kind, "m"), evidence.RawValue(
        value=Cell(text, Location("e.csv", 2, 7)), location=Location("e.csv", 2, 5), given={"value"}), unit, sink)
    assert not sink.problems and typed is not None
    assert typed.value == quick and type(typed.value) is type(quick)


@SETTINGS
@given(st.dictionaries(st.sampled_from(["A", "B", "Z"]), number_text | st.sampled_from(["", " 7 ", "x", "0"]),
                       max_size=3))
@example({"A": "2.000", "B": "0"})
@example({"A": "0", "B": "0"})
def test_response_counts_written_plainly_are_typed_as_every_check_types_them(monkeypatch, counts):
    """A survey metric's answer counts give the same value and the same problems, each count typed
    straight from its digits or by every check."""
    spec = MetricSpec("m", "responses", "m", options=("A", "B"))
    unit = evidence.RawUnit("u1", "U", "district", "2023", Location("e.csv", 2, 1), "e.csv", Path("."))

    def typed():
        sink = ProblemSink()
        raw = evidence.RawValue(location=Location("e.csv", 2, 5), given={"responses"}, responses={
            option: (text, Location("e.csv", row, 7)) for row, (option, text) in enumerate(counts.items(), start=2)})
        return evidence.typed_anew(spec, raw, unit, sink), sink.problems

    quick = typed()
    monkeypatch.setattr(evidence, "plain_number", lambda kind, text: evidence._UNTYPED)
    assert quick == typed()
