"""Hostile and careless inputs, one class at a time: numbers in every written form, YAML 1.2 typing,
duplicated columns, defensive Excel reading and the limits on every input. Each is read correctly
or refused with a located message (exit 2), never scored wrong, never an internal error."""
from __future__ import annotations

import functools
import re
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import time

import zipfile
from fractions import Fraction as F
from pathlib import Path

import openpyxl
import pytest

from engine import load_criteria, load_evidence
from engine.core.errors import CriteriaError, EvidenceError, InputError
from engine.core.numbers import NumberError, TypedNumber, parse_number
from engine.inputs.yamlio import load_yaml

ROOT = Path(__file__).resolve().parent.parent

CRITERIA = """\
format: cchc-criteria/1
id: hostile
title: Bộ chỉ số thử
year: 2023
issued_by: {decision: 1/QĐ-THU, issuer: Sở Nội vụ}
unit_types: [{id: department, label: Sở}]
metrics:
  rate: {kind: percent, label: Tỷ lệ}
  late: {kind: count, label: Số báo cáo trễ}
max: 2
areas:
  - code: "1"
    title: Lĩnh vực
    max: 2
    criteria:
      - code: "1.1"
        title: Tiêu chí
        max: 2
        sub_criteria:
          - code: "1.1.1"
            title: Tỷ lệ
            max: 1
            method: tiers
            metric: rate
            params: {tiers: [{ge: 30, points: 1}, {lt: 30, points: 0}]}
          - code: "1.1.2"
            title: Trễ hạn
            max: 1
            method: tiers
            metric: late
            params: {tiers: [{le: 2, points: 1}, {gt: 2, points: 0}]}
"""
HEAD = ["unit_id", "unit_name", "unit_type", "period", "metric", "value", "numerator", "denominator"]


@pytest.fixture
def criteria(tmp_path_factory):
    path = tmp_path_factory.mktemp("criteria") / "criteria.yaml"
    path.write_text(CRITERIA, encoding="utf-8")
    return load_criteria(path)


def csv_file(folder: Path, rows: list[list[str]], header: list[str] = HEAD, name: str = "ev.csv") -> Path:
    path = folder / name
    path.write_text("\n".join(",".join(r) for r in [header] + rows) + "\n", encoding="utf-8")
    return path


def yaml_file(folder: Path, metrics: str, *, unit: str = "u1", period: str = '"2023"', name: str = "ev.yaml") -> Path:
    path = folder / name
    path.write_text(f"format: cchc-evidence/1\nunit: {{id: {unit}, name: Đơn vị, type: department}}\n"
                    f"period: {period}\nmetrics:\n{textwrap.indent(metrics, '  ')}", encoding="utf-8")
    return path


def refused(paths, criteria) -> list[str]:
    """Every problem of loading `paths`, as the user reads it."""
    with pytest.raises(InputError) as exc:
        load_evidence(paths if isinstance(paths, list) else [paths], criteria)
    return [str(p) for p in exc.value.problems]


def values(paths, criteria) -> dict[str, dict[str, object]]:
    ev = load_evidence(paths if isinstance(paths, list) else [paths], criteria)
    return {r.unit_id: {m: v.value for m, v in r.values.items()} for r in ev.records}


# ---------------------------------------------------------------- one grammar of numbers

@pytest.mark.parametrize("text, kw, expected", [
    ("93.54", {}, F(9354, 100)), ("93,54", {}, F(9354, 100)), ("30,5", {}, F(61, 2)),
    ("0,125", {}, F(1, 8)), ("-5", {}, F(-5)), ("017", {}, F(17)), ("2203", {"whole": True}, F(2203)),
    ("2.000", {}, F(2)),  # a decimal in a points field: a thousand points is out of range anyway
    ("57.000", {"percent": True}, F(57)), ("93.54%", {"percent": True}, F(9354, 100)),
    ("677/2203", {"percent": True}, F(67700, 2203)), ("677 / 2203", {"percent": True}, F(67700, 2203)),
    (TypedNumber("2.203"), {"whole": False}, F(2203, 1000)),
])
def test_the_grammar_reads_the_forms_people_write(text, kw, expected):
    assert parse_number(text, **kw) == expected


@pytest.mark.parametrize("text, kw, says", [
    ("2.000", {"whole": True}, "write 2000 or 2"),
    ("1,000", {"whole": True}, "write 1000 or 1"),
    ("2.203", {"whole": True}, "write 2203"),
    ("2 203", {}, "write 2203"), ("2\u00a0203", {}, "write 2203"), ("2\u202f203", {}, "write 2203"),
    ("1_000", {}, "write 1000"), ("1.000.000", {}, "write 1000000"), ("1,234,567.5", {}, "write 1234567.5"),
    ("2.203,5", {}, "write 2203.5"), ("1'000", {}, "write 1000"),
    ("１２", {}, "write 12"), ("٣٠", {}, "write 30"), ("۳۰", {}, "write 30"),
    ("93%%", {"percent": True}, "write 93%"), ("%93", {"percent": True}, "more than one % sign"),
    ("93%", {}, "write 93"), (TypedNumber("200%"), {}, "remove the cell's percentage format"),
    ("677/2203", {}, "only in a percent field"), ("677/2203%", {"percent": True}, "without %"),
    ("1/2^13000", {"percent": True}, "two whole numbers"), ("1/0", {"percent": True}, "denominator is 0"),
    ("1e5", {}, "write the number out in full, like 100000"), ("1.5E3", {}, "like 1500"),
    ("1e99999999", {}, "number out of range"), ("9" * 101, {}, "number out of range"),
    ("1/" + "9" * 101, {"percent": True}, "out of range"),
    ("nan", {}, "not a number"), ("inf", {}, "not a number"), ("", {}, "empty"), (".5", {}, "not a number"),
])
def test_the_grammar_refuses_ambiguous_and_foreign_forms_saying_what_to_write(text, kw, says):
    with pytest.raises(NumberError) as exc:
        parse_number(text, **kw)
    assert says in str(exc.value)


def test_a_ratio_in_a_percent_value_is_the_same_share_as_numerator_and_denominator(tmp_path, criteria):
    """`677/2203` in a value cell is 30.73 %, exactly like numerator 677 and denominator 2203 — in
    CSV, YAML and Excel alike."""
    share = F(67700, 2203)
    (tmp_path / "csv").mkdir()
    csv_file(tmp_path / "csv", [["a", "A", "department", "2023", "rate", "677/2203", "", ""],
                                ["b", "B", "department", "2023", "rate", "", "677", "2203"]])
    assert values(tmp_path / "csv", criteria) == {"a": {"rate": share}, "b": {"rate": share}}
    (tmp_path / "yaml").mkdir()
    yaml_file(tmp_path / "yaml", "rate: {value: 677/2203}\n")
    assert values(tmp_path / "yaml", criteria) == {"u1": {"rate": share}}
    (tmp_path / "xlsx").mkdir()
    xlsx_file(tmp_path / "xlsx" / "ev.xlsx", [["a", "A", "department", "2023", "rate", "677/2203"]])
    assert values(tmp_path / "xlsx", criteria) == {"a": {"rate": share}}


def test_thousands_separators_are_refused_where_they_stand_in_every_format(tmp_path, criteria):
    csv_file(tmp_path, [["a", "A", "department", "2023", "late", "2.000"],
                        ["b", "B", "department", "2023", "late", '"1,000"'],
                        ["c", "C", "department", "2023", "late", "2 203"],
                        ["d", "D", "department", "2023", "late", "１２"],
                        ["e", "E", "department", "2023", "rate", "93%%"]], HEAD[:6])
    yaml_file(tmp_path, "late: {value: 2.000}\nrate: {value: 1_000}\n", unit="y")
    xlsx_file(tmp_path / "ev.xlsx", [["x", "X", "department", "2023", "late", "2.000"]])
    problems = refused(tmp_path, criteria)
    expected = [f"{tmp_path}/ev.csv:2:6: late: expected a count value, got '2.000': '2.000' is ambiguous",
                f"{tmp_path}/ev.csv:3:6: late: expected a count value, got '1,000': '1,000' is ambiguous",
                f"{tmp_path}/ev.csv:4:6: late: expected a count value, got '2 203': '2 203' has thousands",
                f"{tmp_path}/ev.csv:5:6: late: expected a count value, got '１２': '１２' uses non-ASCII digits",
                f"{tmp_path}/ev.csv:6:6: rate: expected a percent value, got '93%%': '93%%' has more than one",
                f"{tmp_path}/ev.xlsx:evidence!F2: late: expected a count value, got '2.000'",
                f"{tmp_path}/ev.yaml:5:17: late: expected a count value, got Decimal('2.000'): '2.000' is ambiguous",
                f"{tmp_path}/ev.yaml:6:17: rate: expected a percent value, got '1_000': '1_000' has thousands"]
    assert len(problems) == len(expected)
    for line, start in zip(sorted(problems), expected):
        assert line.startswith(start), (line, start)


# ---------------------------------------------------------------- YAML 1.2 typing

def test_yaml_integers_follow_yaml_1_2_and_ids_and_periods_keep_their_digits(tmp_path, criteria):
    """YAML 1.1 read `017` as octal 15, `1:30` as 90 and a period `03717` as the number 1999."""
    doc = load_yaml(yaml_file(tmp_path, "late: {value: 017}\n", unit="0123", period="03717"))
    assert doc["period"] == "03717" and doc["unit"]["id"] == "0123"
    assert values(tmp_path / "ev.yaml", criteria) == {"0123": {"late": 17}}
    typed = {text: load_yaml(_write(tmp_path / "t.yaml", f"v: {text}\n"))["v"]
             for text in ("017", "0x1F", "0o17", "1:30", "1_000", "yes", "off", ".inf", ".nan", "1e5", "12", "true")}
    assert typed == {"017": "017", "0x1F": "0x1F", "0o17": "0o17", "1:30": "1:30", "1_000": "1_000", "yes": "yes",
                     "off": "off", ".inf": ".inf", ".nan": ".nan", "1e5": "1e5", "12": 12, "true": True}
    yaml_file(tmp_path, "late: {value: 1:30}\n", name="ev.yaml")
    assert refused(tmp_path / "ev.yaml", criteria) == [
        f"{tmp_path}/ev.yaml:5:17: late: expected a count value, got '1:30': '1:30' is not a number"]


def test_an_explicit_yaml_int_tag_cannot_bring_octal_back(tmp_path):
    with pytest.raises(InputError, match=r"t.yaml:1:4: not a decimal integer: '017'"):
        load_yaml(_write(tmp_path / "t.yaml", "v: !!int 017\n"))


# ---------------------------------------------------------------- CSV header

def test_a_column_given_twice_in_different_case_is_refused(tmp_path, criteria):
    """`value` and `VALUE`: the last one used to win silently."""
    csv_file(tmp_path, [["a", "A", "department", "2023", "late", "1", "9"]], HEAD[:6] + ["VALUE"])
    assert refused(tmp_path, criteria) == [
        f"{tmp_path}/ev.csv:1:7: column 'value' is given twice (also column 6; names ignore case): keep one"]


def test_a_value_in_a_column_without_a_name_is_refused(tmp_path, criteria):
    csv_file(tmp_path, [["a", "A", "department", "2023", "late", "1", "9"]], HEAD[:6] + [""])
    assert refused(tmp_path, criteria) == [
        f"{tmp_path}/ev.csv:2:7: the value '9' stands in a column without a name in the header row"]


# ---------------------------------------------------------------- Excel, read defensively

def xlsx_file(path: Path, rows: list[list], *, header: list[str] = HEAD[:6], sheet: str = "evidence",
              edit=None) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(header)
    for r in rows:
        ws.append(r)
    if edit:
        edit(wb, ws)
    wb.save(path)
    return path


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def rewrite_part(path: Path, part: str, change) -> None:
    """Replace one part of an .xlsx by `change(old_bytes)`: what a forger or a broken tool writes."""
    with zipfile.ZipFile(path) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
    parts[part] = change(parts[part])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)


SHEET = "xl/worksheets/sheet1.xml"
ROW = ["a", "A", "department", "2023", "late", 1]


@pytest.mark.parametrize("state", ["hidden", "veryHidden"])
def test_a_hidden_sheet_is_never_scored(tmp_path, criteria, state):
    def hide(wb, ws):
        wb.create_sheet("visible")
        ws.sheet_state = state
    xlsx_file(tmp_path / "ev.xlsx", [ROW], edit=hide)
    [problem] = refused(tmp_path, criteria)
    assert problem.startswith(f"{tmp_path}/ev.xlsx:evidence!A1: the sheet 'evidence' is "
                              f"{'hidden' if state == 'hidden' else 'very hidden'}: unhide it")


def test_a_formula_is_refused_by_its_cell_whatever_its_cached_value_says(tmp_path, criteria):
    """A forged cache (`<v>0</v>` beside a formula giving 9) would score whatever the forger wants."""
    xlsx_file(tmp_path / "ev.xlsx", [ROW[:5] + ["=4+5"]])
    rewrite_part(tmp_path / "ev.xlsx", SHEET, lambda xml: re.sub(rb"<f>4\+5</f><v ?/>|<f>4\+5</f><v></v>", b"<f>4+5</f><v>0</v>", xml))
    assert b"<v>0</v>" in zipfile.ZipFile(tmp_path / "ev.xlsx").read(SHEET)
    assert refused(tmp_path, criteria) == [f"{tmp_path}/ev.xlsx:evidence!F2: a formula: cchc reads values only "
                                           "(copy the cells and paste them as values)"]


def test_a_count_in_a_percent_formatted_cell_is_refused_and_a_percent_is_read(tmp_path, criteria):
    def fmt(wb, ws):
        ws["F2"].number_format = "0%"
        ws["F3"].number_format = "0.00%"
    xlsx_file(tmp_path / "ev.xlsx", [ROW, ["b", "B", "department", "2023", "rate", 0.3073]], edit=fmt)
    assert refused(tmp_path, criteria) == [
        f"{tmp_path}/ev.xlsx:evidence!F2: late: expected a count value, got '200%'"[:0]
        + f"{tmp_path}/ev.xlsx:evidence!F2: late: expected a count value, got '100%': the cell stores 1 but is "
          "formatted as a percentage (shows 100%); this value is a plain number: remove the cell's percentage format"]
    xlsx_file(tmp_path / "ev.xlsx", [["b", "B", "department", "2023", "rate", 0.3073]],
              edit=lambda wb, ws: setattr(ws["F2"], "number_format", "0.00%"))
    assert values(tmp_path, criteria) == {"b": {"rate": F(3073, 100)}}


def test_rows_past_a_stale_dimension_are_read(tmp_path, criteria):
    """Excel shows every row whatever `<dimension>` says; a reader trusting it dropped unit b."""
    xlsx_file(tmp_path / "ev.xlsx", [ROW, ["b", "B", "department", "2023", "late", 5]])
    rewrite_part(tmp_path / "ev.xlsx", SHEET, lambda xml: re.sub(rb'<dimension ref="A1:F3" ?/>',
                                                                  b'<dimension ref="A1:F2" />', xml))
    assert b'ref="A1:F2"' in zipfile.ZipFile(tmp_path / "ev.xlsx").read(SHEET)
    assert values(tmp_path, criteria) == {"a": {"late": 1}, "b": {"late": 5}}


def test_a_huge_claimed_dimension_costs_nothing(tmp_path, criteria):
    xlsx_file(tmp_path / "ev.xlsx", [ROW])
    rewrite_part(tmp_path / "ev.xlsx", SHEET, lambda xml: re.sub(rb'<dimension ref="A1:F2" ?/>',
                                                                  b'<dimension ref="A1:XFD1048576" />', xml))
    started = time.process_time()
    assert values(tmp_path, criteria) == {"a": {"late": 1}}
    assert time.process_time() - started < 2


@pytest.mark.parametrize("stored, says", [
    (b"NaN", "cannot read as an Excel workbook"), (b"nan", "cannot read as an Excel workbook"),
    (b"1e999", "got 'inf'"), (b"-1E999", "got '-inf'"), (b"9" * 5000, "cannot read as an Excel workbook"),
])
def test_nan_and_infinite_cells_are_refused(tmp_path, criteria, stored, says):
    xlsx_file(tmp_path / "ev.xlsx", [ROW[:5] + [7]])
    rewrite_part(tmp_path / "ev.xlsx", SHEET, lambda xml: xml.replace(b"<v>7</v>", b"<v>" + stored + b"</v>"))
    [problem] = refused(tmp_path, criteria)
    assert problem.startswith(f"{tmp_path}/ev.xlsx:") and says in problem


def entity_sheet(declarations: bytes, text: bytes) -> bytes:
    """A worksheet whose one inline-string cell is an XML entity declared in its DOCTYPE."""
    return (b'<?xml version="1.0"?><!DOCTYPE worksheet [' + declarations + b']>'
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            b'<row r="1"><c r="A1" t="inlineStr"><is><t>' + text + b'</t></is></c></row></sheetData></worksheet>')


BILLION_LAUGHS = entity_sheet(b'<!ENTITY lol "lol">' + b"".join(
    b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10) for i in range(1, 10)),
    b"&lol9;")
XXE = entity_sheet(b'<!ENTITY xxe SYSTEM "file:///etc/passwd">', b"&xxe;")


@pytest.mark.parametrize("part, content", [
    (SHEET, BILLION_LAUGHS), (SHEET, XXE),
    (SHEET, b"<worksheet><sheetData><row r='1'><c r='A1'"), ("xl/workbook.xml", b"not xml at all"),
], ids=["billion-laughs", "external-entity", "truncated-sheet", "broken-workbook"])
def test_malformed_or_entity_laden_xml_is_refused(tmp_path, criteria, part, content):
    xlsx_file(tmp_path / "ev.xlsx", [ROW])
    rewrite_part(tmp_path / "ev.xlsx", part, lambda _: content)
    started = time.process_time()  # CPU, not wall (as below): other work on the machine must not fail the test
    [problem] = refused(tmp_path, criteria)
    assert time.process_time() - started < 2
    assert problem.startswith(f"{tmp_path}/ev.xlsx: cannot read as an Excel workbook (.xlsx): ")
    assert "root:" not in problem  # nothing of /etc/passwd


def zip_bomb(path: Path, *, inflated_mb: int, lie: bool = False) -> Path:
    """A valid workbook plus one part of zeros inflating to `inflated_mb`; with `lie`, the archive's
    directory declares that part as 1 KB."""
    path.write_bytes(_bomb_bytes(inflated_mb, lie))
    return path


@functools.lru_cache(maxsize=None)
def _bomb_bytes(inflated_mb: int, lie: bool) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        return _build_bomb(Path(tmp) / "bomb.xlsx", inflated_mb, lie).read_bytes()


def _build_bomb(path: Path, inflated_mb: int, lie: bool) -> Path:
    xlsx_file(path, [ROW])
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as z:
        with z.open("xl/media/padding.bin", "w", force_zip64=True) as part:
            block = bytes(1024 * 1024)
            for _ in range(inflated_mb):
                part.write(block)
    if lie:
        data = bytearray(path.read_bytes())
        name = b"xl/media/padding.bin"
        for sig, size_at in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):
            at = 0
            while (at := data.find(sig, at)) != -1:
                name_at = at + (46 if sig == b"PK\x01\x02" else 30)
                if data[name_at:name_at + len(name)] == name:
                    data[at + size_at:at + size_at + 4] = (1024).to_bytes(4, "little")
                at += 4
        path.write_bytes(bytes(data))
    return path


def test_a_zip_bomb_is_refused_by_its_directory_before_anything_is_inflated(tmp_path, criteria):
    zip_bomb(tmp_path / "ev.xlsx", inflated_mb=300)
    assert (tmp_path / "ev.xlsx").stat().st_size < 1024 * 1024
    started = time.process_time()
    assert refused(tmp_path, criteria) == [
        f"{tmp_path}/ev.xlsx: the workbook unpacks to 300.0 MB, over the limit of 100 MB "
        "(set CCHC_MAX_XLSX_MB to raise it)"]
    assert time.process_time() - started < 1


@pytest.mark.parametrize("device", ["/dev/zero", "fifo"])
def test_what_is_not_a_file_is_refused_before_it_is_read(tmp_path, criteria, device):
    """A device or a pipe has no size to check and may never end: refused as input, by name."""
    if device == "fifo":
        device = tmp_path / "pipe.yaml"
        os.mkfifo(device)  # (opened for reading, it would wait for a writer for ever)
    expected = f"{device}: not a file (a folder, a device or a pipe): expected a file"
    with pytest.raises(CriteriaError) as caught:
        load_criteria(Path(device))
    assert [p.text() for p in caught.value.problems] == [expected]
    with pytest.raises(InputError) as caught:
        load_yaml(Path(device))
    assert [p.text() for p in caught.value.problems] == [expected]
    with pytest.raises(EvidenceError) as caught:
        load_evidence([Path(device)], criteria)
    assert expected in [p.text() for p in caught.value.problems]


def test_a_huge_criteria_set_is_refused_by_its_size_before_it_is_read(tmp_path, monkeypatch):
    path = tmp_path / "set.yaml"
    with path.open("wb") as f:
        f.truncate(200 * 1024 * 1024)
    read = []
    monkeypatch.setattr(Path, "read_bytes", lambda self: read.append(self) or b"")
    with pytest.raises(CriteriaError) as caught:
        load_criteria(path)
    assert [p.text() for p in caught.value.problems] == [
        f"{path}: file is 200.0 MB, over the limit of 50 MB (set CCHC_MAX_FILE_MB to raise it)"]
    assert read == []


def test_a_zip_bomb_with_a_lying_directory_is_refused_without_inflating_it(tmp_path, criteria):
    zip_bomb(tmp_path / "ev.xlsx", inflated_mb=50, lie=True)
    [problem] = refused(tmp_path, criteria)
    assert problem.startswith(f"{tmp_path}/ev.xlsx: ")
    assert "larger than the workbook declares" in problem or "cannot read as an Excel workbook" in problem


def test_a_workbook_of_too_many_parts_is_refused(tmp_path, criteria, monkeypatch):
    monkeypatch.setenv("CCHC_MAX_XLSX_PARTS", "5")
    xlsx_file(tmp_path / "ev.xlsx", [ROW])
    [problem] = refused(tmp_path, criteria)
    assert "over the limit of 5 parts (set CCHC_MAX_XLSX_PARTS to raise it)" in problem


# ---------------------------------------------------------------- limits on every input

def test_a_huge_file_is_refused_by_its_size_before_it_is_read(tmp_path, criteria):
    for name in ("big.yaml", "big.csv", "big.xlsx"):
        with (tmp_path / name).open("wb") as f:  # sparse: 200 MB on paper, nothing on disk
            f.truncate(200 * 1024 * 1024)
    started = time.process_time()
    assert refused(tmp_path, criteria) == [
        f"{tmp_path}/{name}: file is 200.0 MB, over the limit of 50 MB (set CCHC_MAX_FILE_MB to raise it)"
        for name in ("big.csv", "big.xlsx", "big.yaml")]
    assert time.process_time() - started < 1


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    lines = ['a0: &a0 "' + "x" * 10 + '"']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def test_a_yaml_alias_bomb_is_refused_while_it_is_read(tmp_path, criteria):
    """Nine levels of nine aliases: 387 million values from 2 KB."""
    bomb = alias_bomb()
    path = yaml_file(tmp_path, "late:\n  value: 1\n  note:\n" + textwrap.indent(bomb, "    "))
    assert path.stat().st_size < 2048
    started = time.process_time()
    [problem] = refused(tmp_path, criteria)
    assert time.process_time() - started < 1
    assert "the document is too large (aliases counted as copies), over the limit of 200000 nodes " \
           "(set CCHC_MAX_YAML_NODES to raise it)" in problem and problem.startswith(f"{path}:")


def test_deep_nesting_and_self_reference_are_refused_with_a_location(tmp_path, criteria):
    deep = yaml_file(tmp_path, "late: {value: 1, note: " + "[" * 5000 + "]" * 5000 + "}\n")
    [problem] = refused(deep, criteria)
    assert problem.startswith(f"{deep}:5:") and "nesting is too deep, over the limit of 50 levels" in problem
    loop = yaml_file(tmp_path, "late: {value: 1, note: &a [*a]}\n", name="loop.yaml")
    [problem] = refused(loop, criteria)
    assert problem.startswith(f"{loop}:5:") and "an alias refers to a node that contains it" in problem


def test_long_texts_and_too_many_rows_or_columns_are_refused(tmp_path, criteria, monkeypatch):
    monkeypatch.setenv("CCHC_MAX_STRING_CHARS", "50")
    monkeypatch.setenv("CCHC_MAX_ROWS", "3")
    monkeypatch.setenv("CCHC_MAX_COLUMNS", "7")
    (tmp_path / "a").mkdir()
    yaml_file(tmp_path / "a", f"late: {{value: 1, note: {'x' * 51}}}\n")
    csv_file(tmp_path / "a", [["a", "A", "department", "2023", "late", "y" * 51]], HEAD[:6])
    csv_file(tmp_path / "a", [["b", "B", "department", "2023", "late", "1"]] * 4, HEAD[:6], name="rows.csv")
    csv_file(tmp_path / "a", [], HEAD, name="cols.csv")
    xlsx_file(tmp_path / "a" / "rows.xlsx", [ROW] * 4)
    problems = refused(tmp_path / "a", criteria)
    assert [p.split(": ", 1)[0] for p in problems] == [
        f"{tmp_path}/a/cols.csv:1:1", f"{tmp_path}/a/ev.csv:2:6", f"{tmp_path}/a/ev.yaml:5:26",
        f"{tmp_path}/a/rows.csv:5:1", f"{tmp_path}/a/rows.xlsx:evidence!A5"]
    assert "the header has 8 columns, over the limit of 7 columns (set CCHC_MAX_COLUMNS" in problems[0]
    assert "a text of 51 characters, over the limit of 50 characters (set CCHC_MAX_STRING_CHARS" in problems[1]
    assert "a text of 51 characters, over the limit of 50 characters" in problems[2]
    assert "more than 3 rows, over the limit of 3 rows (set CCHC_MAX_ROWS to raise it)" in problems[3]
    assert "more than 3 rows" in problems[4]


def test_a_limit_is_raised_by_its_variable_and_a_bad_setting_is_refused(tmp_path, criteria, monkeypatch, cchc):
    monkeypatch.setenv("CCHC_MAX_ROWS", "1")
    csv_file(tmp_path, [["a", "A", "department", "2023", "late", "1"], ["a", "A", "department", "2023", "rate", "40"]],
             HEAD[:6])
    assert "over the limit of 1 rows" in refused(tmp_path, criteria)[0]
    monkeypatch.setenv("CCHC_MAX_ROWS", "10")
    assert values(tmp_path, criteria) == {"a": {"late": 1, "rate": 40}}
    monkeypatch.setenv("CCHC_MAX_ROWS", "lots")
    result = cchc("validate", "--criteria", criteria.path, tmp_path)
    assert result.exit_code == 2
    assert "CCHC_MAX_ROWS: must be a whole number above 0 (rows), got 'lots'" in result.stderr


@pytest.mark.parametrize("write", [
    lambda d: yaml_file(d, "late: {value: 1, note: " + "[" * 3000 + "]" * 3000 + "}\n"),
    lambda d: yaml_file(d, "late:\n  value: 1\n  note:\n" + textwrap.indent(alias_bomb(), "    ")),
    lambda d: csv_file(d, [["a", "A", "department", "2023", "rate", "1/2^13000"]], HEAD[:6]),
    lambda d: rewrite_part(xlsx_file(d / "ev.xlsx", [ROW[:5] + [7]]), SHEET,
                           lambda xml: xml.replace(b"<v>7</v>", b"<v>NaN</v>")),
    lambda d: rewrite_part(xlsx_file(d / "ev.xlsx", [ROW]), SHEET, lambda _: BILLION_LAUGHS),
], ids=["deep-nesting", "alias-bomb", "huge-exponent", "nan-cell", "entity-xml"])
def test_the_command_line_answers_hostile_files_with_exit_2_and_a_location(tmp_path, cchc, write):
    (tmp_path / "ev").mkdir()
    _write(tmp_path / "criteria.yaml", CRITERIA)
    write(tmp_path / "ev")
    result = cchc("score", tmp_path / "criteria.yaml", tmp_path / "ev", "--out", tmp_path / "out")
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith(str(tmp_path / "ev")) and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- time and memory, bounded

BOUNDED = """
import resource, sys, time
from pathlib import Path
from engine import load_criteria, load_evidence
from engine.core.errors import InputError
criteria = load_criteria(Path(sys.argv[1]))
started = time.process_time()  # CPU, not wall: other work on the machine must not fail the test
try:
    load_evidence([Path(sys.argv[2])], criteria)
    print("ACCEPTED")
except InputError as exc:
    print("REFUSED", exc.problems[0])
print(f"SECONDS {time.process_time() - started:.3f}")
# VmHWM: this process image's own peak (ru_maxrss would carry the forking test runner's over exec)
peak_kb = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(f"PEAK_MB {peak_kb / 1024:.1f}")
"""


def run_bounded(criteria_path: Path, evidence: Path, *, memory_mb: int = 1024, timeout: int = 30):
    """Load `evidence` in a child process that cannot take more than `memory_mb` of address space
    nor `timeout` seconds: a regression fails the test instead of hanging or swapping the machine.
    Returns (stdout, peak resident MB)."""
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 1024 * 1024,) * 2)

    proc = subprocess.Popen([sys.executable, "-c", BOUNDED, str(criteria_path), str(evidence)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=limit,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"loading {evidence.name} took more than {timeout} s")
    assert proc.returncode == 0, err.decode()
    text = out.decode()
    return text, float(text.rsplit("PEAK_MB ", 1)[1])  # the child's own peak, whatever ran before it


@pytest.mark.parametrize("make", [
    lambda d: yaml_file(d, "late:\n  value: 1\n  note:\n" + textwrap.indent(alias_bomb(), "    ")),
    lambda d: zip_bomb(d / "ev.xlsx", inflated_mb=300),
    lambda d: zip_bomb(d / "ev.xlsx", inflated_mb=90, lie=True),
    lambda d: rewrite_part(xlsx_file(d / "ev.xlsx", [ROW]), SHEET, lambda xml: xml.replace(
        b'<dimension ref="A1:F2" />', b'<dimension ref="A1:XFD1048576" />').replace(
        b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>')),
], ids=["yaml-alias-bomb", "xlsx-zip-bomb", "xlsx-lying-zip-bomb", "xlsx-huge-dimension"])
def test_hostile_files_of_a_few_kilobytes_are_refused_in_under_a_cpu_second_and_200_mb(tmp_path, make):
    _write(tmp_path / "criteria.yaml", CRITERIA)
    (tmp_path / "ev").mkdir()
    make(tmp_path / "ev")
    size = sum(f.stat().st_size for f in (tmp_path / "ev").iterdir())
    assert size < 2 * 1024 * 1024
    out, peak_mb = run_bounded(tmp_path / "criteria.yaml", tmp_path / "ev")
    assert "REFUSED" in out, out
    seconds = float(out.rsplit("SECONDS ", 1)[1].split()[0])
    assert seconds < 1, out
    assert peak_mb < 200, (peak_mb, out)
