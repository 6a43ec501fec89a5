"""Fuzzing the loaders of evidence (YAML, CSV, Excel), criteria, survey and appraisal files: whatever
the bytes, a loader returns a result or raises the user-facing `InputError` whose every problem is
located in the file it read; no other exception ever escapes (the CLI would call it a bug, exit 4)."""
from __future__ import annotations

import string
from fractions import Fraction
from pathlib import Path

import openpyxl
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from engine import load_criteria, load_evidence
from engine.evaluation.appraisal import load_appraisal
from engine.core.errors import InputError
from engine.core.numbers import NumberError, TypedNumber, parse_number
from engine.inputs.survey_data import load_survey

from test_hostile_inputs import CRITERIA, HEAD

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
TRICKY = ["0", "1", "9", ".", ",", "%", "/", "-", "+", " ", "\u00a0", "_", "e", "E", "١", "１", "^", "'",
          "nan", "inf", "2.000", "1,000", "677/2203", "rate", "late", "a", "department", "2023", '"', "\n",
          "&", "*", "[", "{", ":", "!!python/object:os.system", "\x00", "\ufeff"]
text = st.lists(st.sampled_from(TRICKY) | st.text(max_size=3), max_size=8).map("".join)


def outcome(load, path: Path):
    """Load; on refusal check that every problem names the file read and says something."""
    try:
        return load()
    except InputError as exc:
        assert exc.problems
        for p in exc.problems:
            assert p.file.startswith(str(path)) and p.message, p
        return None


@given(text, st.booleans(), st.booleans(), st.booleans())
@example(".%", False, False, True)  # a typed cell's % text that is no number: refused, not a ValueError
@settings(max_examples=200, deadline=None)
def test_the_number_grammar_reads_or_refuses_with_a_message_never_anything_else(t, percent, whole, typed):
    try:
        value = parse_number(TypedNumber(t) if typed else t, percent=percent, whole=whole)
    except NumberError as exc:
        assert str(exc)
        return
    assert isinstance(value, Fraction)
    assert t.strip().isascii()  # a number is only ever read from ASCII digits and signs


@given(st.lists(st.lists(text, min_size=0, max_size=8), min_size=0, max_size=5), st.booleans())
@FUZZ
def test_csv_evidence_loads_or_is_refused_with_located_problems(tmp_path_factory, rows, with_head):
    folder = tmp_path_factory.mktemp("csv")
    criteria = _criteria(tmp_path_factory)
    lines = ([HEAD] if with_head else []) + rows
    path = folder / "ev.csv"
    path.write_text("\n".join(",".join(c.replace("\n", " ") for c in r) for r in lines), encoding="utf-8")
    outcome(lambda: load_evidence([path], criteria), path)


@given(st.lists(st.tuples(st.sampled_from(["rate", "late", "nope"]),
                          st.sampled_from(["value", "numerator", "denominator", "note", "bad"]),
                          text | st.integers() | st.sampled_from(["&a [1]", "*a", "!!int 017", "[[[[", "{a: 1}"])),
                max_size=5))
@FUZZ
def test_yaml_evidence_loads_or_is_refused_with_located_problems(tmp_path_factory, entries):
    folder = tmp_path_factory.mktemp("yaml")
    criteria = _criteria(tmp_path_factory)
    body = "".join(f"  {metric}:\n    {key}: {value}\n" for metric, key, value in entries)
    path = folder / "ev.yaml"
    path.write_text("format: cchc-evidence/1\nunit: {id: u1, name: U, type: department}\nperiod: '2023'\n"
                    f"metrics:\n{body}", encoding="utf-8")
    outcome(lambda: load_evidence([path], criteria), path)


cell = (text | st.integers(-10 ** 20, 10 ** 20) | st.floats(allow_nan=False, allow_infinity=False)
        | st.booleans() | st.none() | st.sampled_from(["=1+1", "rate", "late", "u1"]))


@given(st.lists(st.lists(cell, max_size=8), max_size=4), st.sampled_from(["General", "0%", "0.00", "@"]),
       st.sampled_from(["visible", "hidden"]))
@FUZZ
def test_excel_evidence_loads_or_is_refused_with_located_problems(tmp_path_factory, rows, fmt, state):
    folder = tmp_path_factory.mktemp("xlsx")
    criteria = _criteria(tmp_path_factory)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "evidence"
    ws.append(HEAD[:6])
    for r in rows:
        ws.append([_excel_safe(c) for c in r])
    for row in ws.iter_rows(min_row=2):
        for c in row:
            c.number_format = fmt
    if state == "hidden":
        wb.create_sheet("other")
        ws.sheet_state = "hidden"
    path = folder / "ev.xlsx"
    wb.save(path)
    outcome(lambda: load_evidence([path], criteria), path)


@given(st.binary(max_size=300))
@FUZZ
def test_bytes_that_are_no_workbook_are_refused(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("bin") / "ev.xlsx"
    path.write_bytes(b"PK\x03\x04" + data if data[:1] == b"\x00" else data)
    assert outcome(lambda: load_evidence([path], _criteria(tmp_path_factory)), path) is None


@given(st.lists(st.sampled_from(["max: 1\n", "max: 017\n", "max: 2.000\n", "max: 1:30\n", "areas: []\n",
                                 "areas: [[[[[\n", "x: &a [*a]\n", "id: 03717\n", "  - code: 1\n", "\t",
                                 "format: cchc-criteria/1\n", "metrics: {m: {kind: percent}}\n"]), max_size=8))
@FUZZ
def test_criteria_load_or_are_refused_with_located_problems(tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("crit") / "c.yaml"
    path.write_text(CRITERIA.split("areas:")[0] + "".join(lines), encoding="utf-8")
    outcome(lambda: load_criteria(path), path)


@given(st.lists(st.lists(text, max_size=6), max_size=4))
@FUZZ
def test_survey_and_appraisal_tables_load_or_are_refused_with_located_problems(tmp_path_factory, rows):
    criteria = _criteria(tmp_path_factory)
    folder = tmp_path_factory.mktemp("tables")
    survey = folder / "survey.csv"
    survey.write_text("\n".join(",".join(r) for r in [["unit_id", "metric", "value"]] + rows), encoding="utf-8")
    appraisal = folder / "appraisal.csv"
    appraisal.write_text("\n".join(",".join(r) for r in [["unit_id", "round", "item", "points"]] + rows),
                         encoding="utf-8")
    for load, path in ((lambda: load_survey([survey], criteria, []), survey),
                       (lambda: load_appraisal([appraisal], criteria), appraisal)):
        try:
            _, problems = load()
        except InputError as exc:
            problems = exc.problems
        assert all(p.file.startswith(str(path)) and p.message for p in problems)


def _excel_safe(value):
    """openpyxl refuses control characters in a text cell before cchc ever sees it."""
    if isinstance(value, str):
        return "".join(ch for ch in value if ch >= " " or ch == "\n")
    return value


_CRITERIA_CACHE: dict = {}


def _criteria(tmp_path_factory):
    if "set" not in _CRITERIA_CACHE:
        path = tmp_path_factory.mktemp("criteria") / "criteria.yaml"
        path.write_text(CRITERIA, encoding="utf-8")
        _CRITERIA_CACHE["set"] = load_criteria(path)
    return _CRITERIA_CACHE["set"]
