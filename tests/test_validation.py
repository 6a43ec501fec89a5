"""Bad criteria and evidence are reported as `file:line:col: message` with a non-zero exit, every
problem at once, and nothing in an input is ever executed.

Most cases are data: tests/cases/*.yaml, each run by `test_case` (format described there)."""
from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import openpyxl
import pytest
import yaml

from engine import load_criteria, load_evidence
from engine.core.errors import CriteriaError, EvidenceError, InputError

CASES = sorted((Path(__file__).parent / "cases").glob("*.yaml"))

CRITERIA_HEADER = """format: cchc-criteria/1
id: case
title: Trường hợp kiểm thử
year: 2023
issued_by: {decision: 1/QĐ-KT, issuer: Sở Nội vụ}
unit_types:
  - {id: department, label: "Sở, ban, ngành"}
  - {id: commune, label: UBND cấp xã}
"""
MARKER = re.compile(r"#<([\w-]+)")
PROBLEM_LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+)(?::(?P<col>\d+))?: (?P<message>.*)$")


def _expand(text: str) -> str:
    """`#header` → the usual criteria-set header; `#unit ID TYPE` → an evidence header."""
    out = []
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if stripped == "#header":
            out.append(CRITERIA_HEADER)
        elif stripped.startswith("#unit "):
            _, uid, utype = stripped.split()
            out.append(f"format: cchc-evidence/1\nunit: {{id: {uid}, name: Đơn vị {uid}, type: {utype}}}\n"
                       'period: "2023"\n')
        else:
            out.append(line)
    return "".join(out)


def _write_case(case: dict, root: Path, data_dir: Path) -> dict[str, tuple[str, int]]:
    """Write the case's files; return each `#<marker>` with its file and line."""
    markers: dict[str, tuple[str, int]] = {}
    for rel, source in (case.get("copy") or {}).items():
        shutil.copy(data_dir / source, root / rel)
    for rel, text in case["files"].items():
        text = _expand(text)
        for lineno, line in enumerate(text.splitlines(), start=1):
            m = MARKER.search(line)
            if m:
                assert m.group(1) not in markers, f"marker {m.group(1)} used twice"
                markers[m.group(1)] = (rel, lineno)
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return markers


def _check_problems(case: dict, stderr: str, markers: dict) -> None:
    reported = [PROBLEM_LINE.match(line) for line in stderr.splitlines()]
    reported = [m for m in reported if m]
    lines_of = {name: str(line) for name, (_, line) in markers.items()}
    for want in case["problems"]:
        file, line = markers[want["at"]] if "at" in want else (want["file"], want["line"])
        text = re.sub(r"\{(\w+)\}", lambda m: lines_of.get(m.group(1), m.group(0)), want["text"])
        hits = [m for m in reported if m["file"] == file and int(m["line"]) == line
                and ("col" not in want or int(m["col"] or 0) == want["col"]) and text in m["message"]]
        assert hits, f"expected at {file}:{line}: {text!r}\nreported:\n{stderr}"
    errors = [m for m in reported if not m["message"].startswith("warning:")]
    assert len(errors) == len(case["problems"]), f"unexpected problems reported:\n{stderr}"
    n = len(case["problems"])
    assert f"{n} problem{'s' if n != 1 else ''} found." in stderr


def _check_points(case: dict, out: Path) -> None:
    for unit, wants in (case.get("points") or {}).items():
        result = json.loads((out / "units" / f"{unit}.json").read_text("utf-8"))
        items = {i["code"]: i for i in result["items"]}
        areas = {a["code"]: a for a in result["areas"]}
        total = result["total"]
        for key, want in wants.items():
            got = {"total": total["points"], "max": total["max"], "index": total["index"],
                   "index_display": total["index_display"], "total_display": total["points_display"]}.get(key)
            if key.startswith("area-"):
                got = areas[key[5:]]["points"]
            elif key in items:
                got = items[key]["points"]
            assert got == str(want), f"unit {unit}, {key}: expected {want}, got {got}"
    for unit, wants in (case.get("status") or {}).items():
        result = json.loads((out / "units" / f"{unit}.json").read_text("utf-8"))
        got = {i["code"]: i["status"] for i in result["items"]}
        for code, status in wants.items():
            assert got[code] == status, f"unit {unit}, {code}: expected {status}, got {got[code]}"


@pytest.mark.parametrize("case_path", CASES, ids=lambda p: p.stem)
def test_case(case_path, tmp_path, monkeypatch, cchc, data_dir):
    """One case file: `files` (path → text; `#header`, `#unit ID TYPE` expand, `#<name>` marks a
    line), optional `copy` (path → file in tests/data), `run` (cchc arguments), `exit`, and any of
    `problems` (each `at: marker` or `file`/`line`, optional `col`, `text` found in the message;
    `{marker}` in a text is that marker's line), `points` / `status` (unit → code or total/max/
    index/area-N → value, read from the unit's JSON) and `absent` (files that must not exist)."""
    case = yaml.safe_load(case_path.read_text("utf-8"))
    markers = _write_case(case, tmp_path, data_dir)
    monkeypatch.chdir(tmp_path)
    result = cchc(*case["run"])
    assert result.exit_code == case["exit"], result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    if "problems" in case:
        _check_problems(case, result.stderr, markers)
    for name in case.get("absent") or ():
        assert not (tmp_path / name).exists(), f"{name} exists"
    if case["run"][0] == "score" and case["exit"] == 0:
        out = Path(case["run"][case["run"].index("--out") + 1])
        _check_points(case, out)
        # the reference evaluator agrees to the byte, apart from naming itself
        again = cchc(*case["run"][:-2], "--out", "out-reference", "--engine", "reference")
        assert again.exit_code == 0, again.stderr
        for f in sorted((out / "units").iterdir()):
            ref = (Path("out-reference") / "units" / f.name).read_text("utf-8")
            assert f.read_text("utf-8").replace('"engine":"durable"', '"engine":"reference"') == ref


def test_cases_exist():
    assert len(CASES) >= 15


# ---------------------------------------------------------------- the YAML loader itself

PAYLOADS = [
    "!!python/object/apply:os.system ['touch {marker}']",
    "!!python/object/new:os.system ['touch {marker}']",
    "!!python/object/apply:subprocess.call [['touch', '{marker}']]",
    "!!python/name:os.system",
    "!<tag:yaml.org,2002:python/object/apply:os.system> ['touch {marker}']",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_python_tags_are_refused_and_not_run(payload, tmp_path, sample_criteria_path):
    marker = tmp_path / "pwned"
    crit = tmp_path / "criteria.yaml"
    crit.write_text(f"format: cchc-criteria/1\nid: {payload.format(marker=marker)}\n", encoding="utf-8")
    with pytest.raises(CriteriaError) as exc:
        load_criteria(crit)
    assert "custom YAML tags are refused" in str(exc.value) or "constructor" in str(exc.value)
    assert exc.value.problems[0].line == 2
    ev = tmp_path / "ev.yaml"
    ev.write_text("format: cchc-evidence/1\nunit: {id: a, name: A, type: department}\nperiod: '2023'\n"
                  f"metrics:\n  awards: {{value: {payload.format(marker=marker)}}}\n", encoding="utf-8")
    with pytest.raises(EvidenceError) as exc:
        load_evidence([ev], load_criteria(sample_criteria_path))
    assert exc.value.problems[0].line == 5
    assert not marker.exists()


def test_no_unsafe_yaml_loading_in_the_code():
    root = Path(__file__).parent.parent
    for py in [*root.glob("engine/**/*.py"), *root.glob("rules/**/*.py"), root / "cli.py"]:
        text = py.read_text("utf-8")
        for m in re.finditer(r"yaml\.(load|load_all|unsafe_load|full_load)\(([^)]*)\)", text):
            assert "Loader=SafeLineLoader" in m.group(2) or "SafeLoader" in m.group(2), f"{py}: {m.group(0)}"


def test_numbers_with_absurd_exponents_are_refused_quickly(tmp_path, sample_criteria_path):
    """`1.0e-10000000` would take seconds to become a Fraction; it is refused where it stands."""
    head = "format: cchc-evidence/1\nunit: {id: a, name: A, type: department}\nperiod: '2023'\nmetrics:\n"
    (tmp_path / "a.yaml").write_text(head + "  on_time_rate: {value: 1.0e-10000000}\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text(head.replace("id: a", "id: b") + f"  awards: {{value: {'9' * 5000}}}\n",
                                     encoding="utf-8")
    (tmp_path / "c.csv").write_text("unit_id,unit_name,unit_type,period,metric,value\n"
                                    "c,C,department,2023,awards,1e99999999\n", encoding="utf-8")
    started = time.process_time()  # CPU, not wall: other work on the machine must not fail the test
    with pytest.raises(EvidenceError) as exc:
        load_evidence([tmp_path], load_criteria(sample_criteria_path))
    assert time.process_time() - started < 5
    assert [(p.file[-6:], p.line, p.col) for p in exc.value.problems] == [
        ("a.yaml", 5, 25), ("b.yaml", 5, 19), ("/c.csv", 2, 6)]
    assert all("number out of range" in p.message for p in exc.value.problems[:2])
    assert exc.value.problems[2].message.startswith("awards: expected a count value, got '1e99999999': number out "
                                                    "of range")


def test_every_problem_of_every_file_is_reported_at_once(tmp_path, sample_criteria_path, cchc):
    (tmp_path / "a.yaml").write_text(
        "format: cchc-evidence/1\nunit: {id: a, name: A, type: department}\nperiod: '2023'\n"
        "metrics:\n  awards: {value: -1}\n  on_time_rate: {value: 120}\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text(
        "unit_id,unit_name,unit_type,period,metric,value\nb,B,commune,2023,late_reports,-2\n"
        "b,B,commune,2023,nope,1\n", encoding="utf-8")
    result = cchc("validate", "--criteria", sample_criteria_path, tmp_path)
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if PROBLEM_LINE.match(line)]
    assert [line.split(": ", 1)[0] for line in lines] == [
        f"{tmp_path}/a.yaml:5:11", f"{tmp_path}/a.yaml:6:17", f"{tmp_path}/b.csv:2:6", f"{tmp_path}/b.csv:3:5"]
    assert "4 problems found." in result.stderr


# ---------------------------------------------------------------- Excel evidence

HEADER = ["unit_id", "unit_name", "unit_type", "period", "metric", "option", "value", "numerator",
          "denominator", "document", "date", "issuer", "file", "reason", "not_applicable"]


def _workbook(path: Path, rows: list[list], sheet: str = "evidence") -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(HEADER)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def _row(unit: str, utype: str, metric: str = "", value=None, *, option: str = "", num=None, den=None,
         document: str = "", na: str = "", reason: str = "") -> list:
    return [unit, f"Đơn vị {unit}", utype, "2023", metric, option, value, num, den, document, None, None,
            None, reason, na]


def test_excel_evidence_scores_like_csv(tmp_path, sample_criteria_path, data_dir):
    """The commune of tests/data/evidence/communes.csv, typed into a workbook with real cell
    types (numbers, booleans, dates), gives the same decisions."""
    import datetime

    rows = [
        _row("xa-an-binh", "commune", "plan_issued", datetime.datetime(2023, 2, 10), document="03/KH-UBND"),
        _row("xa-an-binh", "commune", "report_status", "on_time", document="15/BC-UBND"),
        _row("xa-an-binh", "commune", "inspected", False),
        _row("xa-an-binh", "commune", "on_time_rate", 98.0, document="20/BC-UBND"),
        _row("xa-an-binh", "commune", "late_reports", 0),
        _row("xa-an-binh", "commune", "awards", 1),
        _row("xa-an-binh", "commune", "satisfaction", 10, option="A", document="KS-2023"),
        _row("xa-an-binh", "commune", "satisfaction", 10, option="B"),
        _row("xa-an-binh", "commune", "leader_survey", 70, document="KS-LD"),
        _row("xa-an-binh", "commune", na="2.1.2", reason="Xã chưa triển khai dịch vụ công trực tuyến"),
    ]
    book = _workbook(tmp_path / "communes.xlsx", rows)
    criteria = load_criteria(sample_criteria_path)
    from_excel = load_evidence([book], criteria).records[0]
    from_csv = load_evidence([data_dir / "evidence" / "communes.csv"], criteria).records[0]
    assert from_excel.values.keys() == from_csv.values.keys()
    for key in from_csv.values:
        assert from_excel.values[key].value == from_csv.values[key].value, key
    assert from_excel.not_applicable == from_csv.not_applicable
    assert str(from_excel.values["on_time_rate"].location) == f"{book}:evidence!E5"


def test_excel_errors_are_located_by_sheet_and_cell(tmp_path, sample_criteria_path, cchc):
    rows = [
        _row("so-a", "department", "on_time_rate", 101),
        _row("so-a", "department", "late_reports", -3),
        _row("so-a", "department", "web_rate", 5),
        _row("", "department", "awards", 1),
        _row("so-a", "department", "online_rate", None, num=30, den=20),
    ]
    book = _workbook(tmp_path / "so.xlsx", rows, sheet="Số liệu")
    result = cchc("validate", "-c", sample_criteria_path, book)
    assert result.exit_code == 2
    assert f"{book}:Số liệu!G2: on_time_rate: a percent must be from 0 to 100, got 101" in result.stderr
    assert f"{book}:Số liệu!G3: late_reports: a count cannot be negative, got -3" in result.stderr
    assert f"{book}:Số liệu!E4: unknown metric 'web_rate'" in result.stderr
    assert f"{book}:Số liệu!A5: unit_id is empty" in result.stderr
    assert f"{book}:Số liệu!E6: online_rate: numerator 30 is greater than denominator 20" in result.stderr
    assert "5 problems found." in result.stderr


def test_a_broken_workbook_is_a_located_error(tmp_path, sample_criteria_path, cchc):
    book = tmp_path / "broken.xlsx"
    book.write_bytes(b"PK\x03\x04 not really a workbook")
    result = cchc("validate", "-c", sample_criteria_path, book)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{book}: cannot read as an Excel workbook")


# ---------------------------------------------------------------- odd inputs never give a traceback

@pytest.mark.parametrize("content", [
    b"", b"\xff\xfe\x00bad utf-16", b"- just\n- a list\n", b"format: cchc-criteria/1\n", b"{{{",
    b"format: cchc-criteria/1\nmax: .nan\n", b"format: cchc-criteria/1\nyear: 1:30\n",
])
def test_odd_criteria_files_are_input_errors(content, tmp_path, cchc):
    f = tmp_path / "criteria.yaml"
    f.write_bytes(content)
    with pytest.raises(InputError):
        load_criteria(f)
    result = cchc("validate", f)
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert result.stderr.startswith(str(f))


@pytest.mark.parametrize("content", [
    b"", b"unit_id\n", b'unit_id,unit_name,unit_type,period\n"unclosed,x\n', b"\xff\xfe\x00",
    b"unit_id,unit_name,unit_type,period,colour\na,A,department,2023,red\n",
])
def test_odd_csv_files_are_input_errors(content, tmp_path, sample_criteria_path, cchc):
    f = tmp_path / "ev.csv"
    f.write_bytes(content)
    result = cchc("validate", "-c", sample_criteria_path, f)
    assert result.exit_code == 2, result.stdout
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert result.stderr.startswith(str(f))


def test_each_missing_key_is_named_once(tmp_path):
    """The schema finds one problem per missing key: each names its own key, not the first one's."""
    path = tmp_path / "criteria.yaml"
    path.write_text("id: x\ntitle: Bộ tiêu chí\n", "utf-8")
    with pytest.raises(CriteriaError) as exc:
        load_criteria(path)
    missing = [re.search(r"'(\w+)' is a required property", p.message) for p in exc.value.problems]
    keys = [m.group(1) for m in missing if m]
    assert len(keys) >= 5 and len(keys) == len(set(keys)) and {"format", "areas", "year"} <= set(keys), keys
