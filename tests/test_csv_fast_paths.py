"""The quick ways of reading CSV evidence give exactly what the general ways give: plain spans split
without the CSV reader, clean values typed once per text, file references checked with a system call
per step, deadlines read once per text, cells located only when asked."""
from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from engine.core.errors import Location
from engine.core.model import MetricSpec
from engine.core.numbers import TypedNumber
from engine.inputs import evidence
from engine.inputs.evidence import RawUnit, RawValue, checked_inside, read_deadline, typed_anew, typed_value
from engine.inputs.tables import Cell, ProblemSink, cell_locator, plain_csv_rows

SETTINGS = settings(max_examples=400, deadline=None)


def outcome(read, *args):
    try:
        return read(*args)
    except (ValueError, ArithmeticError, csv.Error) as exc:
        return type(exc), str(exc)


csv_text = st.text(st.sampled_from("ab ,,\n\n\"\r\t\x00é\u2028\x1c"), max_size=30)


@SETTINGS
@given(csv_text, st.sampled_from([3, 6, 131072]))
def test_a_plain_text_splits_into_the_rows_the_csv_reader_reads(text, field_limit):
    before = csv.field_size_limit(field_limit)
    try:
        quick = plain_csv_rows(text)
        general = outcome(lambda t: list(csv.reader(io.StringIO(t, newline=""))), text)
    finally:
        csv.field_size_limit(before)
    if '"' not in text and "\r" not in text and max(map(len, text.split("\n"))) < field_limit:
        assert quick is not None  # the quick way is taken whenever it can be
    if quick is not None:
        assert quick == general


SPECS = [MetricSpec("m", kind, "m") for kind in ("percent", "count", "points", "boolean", "date")] + [
    MetricSpec("m", "category", "m", categories=("a", "b")), MetricSpec("m", "category", "m", categories=("b",))]
value_text = st.sampled_from(["12", "12.5", "93,54", "93.54%", "677/2203", "2.000", "-1", "101", "0", " 7 ", "1e3",
                              "x", "có", "true", "Không", "2023-05-02", "31/02/2023", "2/5/2023", "not_done", "",
                              "a", "b", "１２"])
citation = st.none() | st.fixed_dictionaries({"document": st.sampled_from(["", "0/BC-UBND", "12/QĐ"])}, optional={
    "date": st.sampled_from(["", "2023-01-02", "2023-02-30", "hôm qua"]), "issuer": st.sampled_from(["", "UBND"])})


around = st.tuples(citation, st.sampled_from([{"value"}, {"value", "numerator"}]), st.sampled_from(["", "ước tính"]))


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(SPECS), value_text, st.booleans(), around), min_size=1, max_size=8))
@example([(SPECS[1], "2.000", True, (None, {"value"}, ""))])  # two thousand from a spreadsheet, ambiguous as text
@example([(SPECS[5], "a", False, (None, {"value"}, "")), (SPECS[6], "a", False, (None, {"value"}, ""))])
def test_a_value_typed_once_per_text_is_what_every_check_gives(items):
    """Values as rows give them (texts repeat, some typed by a spreadsheet, some wrong, some cited
    wrongly, some given with other fields, some with a reason): the value and the problems are those
    of the whole check, every time. Each value comes again with the next one's citation, fields
    and reason, typed the same way and the other way."""
    evidence._TYPED.clear()
    unit = RawUnit("u1", "U", "district", "2023", Location("e.csv", 2, 1), "e.csv", Path("."))
    locate = cell_locator("e.csv", ["unit_id", "metric", "value"], "")
    shifted = [(k, t, typed, items[(i + 1) % len(items)][3]) for i, (k, t, typed, _a) in enumerate(items)]
    flipped = [(k, t, not typed, a) for k, t, typed, a in shifted]
    for row, (spec, text, typed, (cited, given, reason)) in enumerate(items + shifted + flipped + items, start=2):
        raws = [RawValue(value=Cell(TypedNumber(text) if typed else text, locate, row, "value"),
                         location=locate(row, "metric"), citation=cited, given=set(given), reason=reason)
                for _ in range(2)]
        quick, general = ProblemSink(), ProblemSink()
        assert typed_value(spec, raws[0], unit, quick) == typed_anew(spec, raws[1], unit, general)
        assert quick.problems == general.problems


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(["Quý 4", "Quý IV", "quý 5", "Tháng 12", "Tháng 13", "Năm 2023",
                                           "Thường xuyên", "2023-05-02", "31/02/2023", "x"]),
                          st.sampled_from([2023, 2024, None])), max_size=8))
def test_a_deadline_read_once_per_text_is_what_reading_it_gives(items):
    evidence._DEADLINES.clear()
    for text, year in items:
        assert outcome(evidence._deadline, text, year) == outcome(read_deadline, text, year)


@SETTINGS
@given(st.integers(1, 10 ** 6), st.sampled_from(["unit_id", "value", "nothing"]), st.sampled_from(["", "Dữ liệu"]))
def test_a_cell_located_when_asked_is_where_the_locator_puts_it(row, column, sheet):
    header = ["unit_id", "metric", "value"]
    locate = cell_locator("e.xlsx" if sheet else "e.csv", header, sheet)
    assert Cell("7", locate, row, column).location == locate(row, column) == Cell("7", locate(row, column)).location


@pytest.fixture(scope="module")
def evidence_folder(tmp_path_factory):
    """A folder with files, a sub-folder, links inside and out, and a link to the folder itself."""
    root = tmp_path_factory.mktemp("refs")
    folder = root / "ev"
    (folder / "tasks").mkdir(parents=True)
    (folder / "a.csv").write_text("task\n")
    (folder / "tasks" / "b.csv").write_text("task\n")
    (root / "outside.csv").write_text("task\n")
    (folder / "link.csv").symlink_to(folder / "a.csv")
    (folder / "linked").symlink_to(folder / "tasks")
    (folder / "out.csv").symlink_to(root / "outside.csv")
    (root / "ev-link").symlink_to(folder)
    os.mkfifo(folder / "pipe")
    return root


ref_step = st.sampled_from(["a.csv", "tasks", "b.csv", "link.csv", "linked", "out.csv", "pipe", "..", ".", "",
                            "nope.csv", "ev", "outside.csv", "a.csv\x00"])


@SETTINGS
@given(st.lists(ref_step, min_size=1, max_size=3).map("/".join), st.booleans(), st.booleans())
@example("linked/b.csv", False, False)
@example("tasks/../a.csv", False, True)
@example("tasks/./b.csv", False, False)
def test_a_plain_file_reference_resolves_as_every_check_resolves_it(evidence_folder, ref, absolute, through_link):
    folder = evidence_folder / ("ev-link" if through_link else "ev")
    ref = "/" + ref if absolute else ref
    quick = evidence._plainly_inside(folder, ref)
    sink = ProblemSink()
    general = outcome(checked_inside, folder, ref, Location("e.csv", 2, 7), sink)  # a NUL byte: ValueError
    if quick is not None:
        assert quick == general and not sink.problems
    if ref in ("a.csv", "tasks/b.csv"):
        assert quick is not None  # the quick way is taken for plain references


def test_a_file_reference_that_is_not_plain_is_still_refused_as_before(evidence_folder):
    folder = evidence_folder / "ev"
    for ref, says in (("link.csv", "is a symbolic link"), ("linked/b.csv", "is a symbolic link"), ("../outside.csv", "escapes the evidence folder"),
                      ("out.csv", "escapes the evidence folder"), ("tasks", "does not exist"),
                      ("/etc/passwd", "must be a relative path")):
        sink = ProblemSink()
        assert evidence._inside(folder, ref, Location("e.csv", 2, 7), sink) is None
        assert len(sink.problems) == 1 and says in sink.problems[0].message and sink.problems[0].line == 2


def test_typing_remembers_only_clean_values(tmp_path):
    evidence._TYPED.clear()
    unit = RawUnit("u1", "U", "district", "2023", Location("e.csv", 2, 1), "e.csv", tmp_path)
    for text in ("101", "50", "x"):
        typed_value(MetricSpec("m", "percent", "m"), RawValue(value=Cell(text, Location("e.csv", 3, 7)),
                                                              location=Location("e.csv", 3, 5), given={"value"}),
                    unit, ProblemSink())
    assert list(evidence._TYPED) == [("percent", "50")]
