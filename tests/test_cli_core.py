"""`cchc validate` and `cchc score` as a user runs them: exit codes, messages, output files that are
byte-identical from run to run, and a large run where every decision is accounted for."""
from __future__ import annotations

import csv
import json
import random
import shutil
from pathlib import Path

import pytest

from conftest import ENGLISH, VIETNAMESE

SMALL_SET = """format: cchc-criteria/1
id: small
title: Bộ chỉ số nhỏ
year: 2023
issued_by: {decision: 1/QĐ-KT, issuer: Sở Nội vụ}
unit_types:
  - {id: department, label: Sở}
  - {id: commune, label: Xã}
metrics:
  rate: {kind: percent, label: Tỷ lệ hồ sơ đúng hạn}
  online: {kind: percent, label: Tỷ lệ hồ sơ trực tuyến}
  late: {kind: count, label: Số báo cáo trễ hạn}
  awards: {kind: count, label: Số sáng kiến}
  inspected: {kind: boolean, label: Có kiểm tra}
  status: {kind: category, label: Tình trạng báo cáo, categories: [on_time, late, not_done]}
max: 10
areas:
  - code: "1"
    title: Chỉ đạo điều hành
    max: 5
    criteria:
      - code: "1.1"
        title: Kế hoạch
        max: 5
        sub_criteria:
          - {code: "1.1.1", title: Kiểm tra, max: 1, method: pass_fail, metric: inspected}
          - {code: "1.1.2", title: Báo cáo, max: 1, method: categories, metric: status,
             params: {points: {on_time: 1, late: 0.5, not_done: 0}}}
          - {code: "1.1.3", title: Báo cáo trễ, max: 1, method: deductions, metric: late, params: {per_occurrence: 0.25}}
          - {code: "1.1.4", title: Sáng kiến, max: 1, method: bonus, metric: awards, params: {per_occurrence: 0.5},
             applies_to: [department]}
          - {code: "1.1.5", title: Không trễ, max: 1, method: tiers, metric: late,
             params: {tiers: [{eq: 0, points: 1}, {gt: 0, points: 0}]}}
  - code: "2"
    title: Thủ tục hành chính
    max: 5
    criteria:
      - code: "2.1"
        title: Giải quyết hồ sơ
        max: 5
        sub_criteria:
          - code: "2.1.1"
            title: Đúng hạn
            max: 3
            method: tiers
            metric: rate
            params:
              tiers:
                - {ge: 98, points: 3}
                - {gt: 90, lt: 98, points: 2}
                - {ge: 70, le: 90, points: 1}
                - {lt: 70, points: 0}
          - {code: "2.1.2", title: Trực tuyến, max: 2, method: proportional, metric: online, params: {full_at: 50}}
"""
ITEMS = 7


def write_units(path: Path, n: int, seed: int = 7) -> dict:
    """n units (odd: departments, even: communes), every tenth without a status row and every
    seventh declaring 2.1.2 not applicable. Returns what the run must account for."""
    rnd = random.Random(seed)
    expect = {"decisions": 0, "not_applicable": 0, "missing_evidence": 0}
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["unit_id", "unit_name", "unit_type", "period", "metric", "value", "numerator", "denominator",
                    "document", "reason", "not_applicable"])
        for i in range(n):
            unit_type = "department" if i % 2 else "commune"
            head = [f"u{i:05d}", f"Đơn vị {i}", unit_type, "2023"]
            w.writerow(head + ["rate", f"{rnd.randint(6000, 10000) / 100:.2f}".replace(".", ","), "", "", "BC-1", "", ""])
            w.writerow(head + ["online", "", str(rnd.randint(0, 77)), "77", "BC-2", "", ""])
            w.writerow(head + ["late", str(rnd.randint(0, 5)), "", "", "", "", ""])
            w.writerow(head + ["awards", str(rnd.randint(0, 3)), "", "", "", "", ""])
            w.writerow(head + ["inspected", rnd.choice(["có", "không"]), "", "", "", "", ""])
            if i % 10:
                w.writerow(head + ["status", rnd.choice(["on_time", "late", "not_done"]), "", "", "", "", ""])
            else:
                expect["missing_evidence"] += 1
            na = (unit_type == "commune") + (i % 7 == 0)
            if i % 7 == 0:
                w.writerow(head + ["", "", "", "", "", "Không có dịch vụ công trực tuyến", "2.1.2"])
            expect["not_applicable"] += na
            expect["decisions"] += ITEMS
    return expect


@pytest.fixture
def small_set(tmp_path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL_SET, encoding="utf-8")
    return path


def _account(out: Path, n: int, expect: dict) -> None:
    units = sorted((out / "units").glob("*.json"))
    assert len(units) == n
    counts = {"decisions": 0, "scored": 0, "not_applicable": 0, "missing_evidence": 0, "no_matching_band": 0}
    for f in units:
        data = json.loads(f.read_text("utf-8"))
        assert len(data["items"]) == ITEMS and len({i["code"] for i in data["items"]}) == ITEMS
        counts["decisions"] += len(data["items"])
        for status, k in data["status_counts"].items():
            counts[status] += k
    assert counts["decisions"] == expect["decisions"] == n * ITEMS
    assert counts["not_applicable"] == expect["not_applicable"]
    assert counts["missing_evidence"] == expect["missing_evidence"]
    assert counts["no_matching_band"] == 0
    assert counts["scored"] == n * ITEMS - expect["not_applicable"] - expect["missing_evidence"]
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert [u["id"] for u in summary["units"]] == [f.stem for f in units]


def test_a_thousand_units_every_decision_accounted_for(tmp_path, small_set, cchc):
    expect = write_units(tmp_path / "units.csv", 1000)
    result = cchc("score", small_set, tmp_path / "units.csv", "--out", tmp_path / "out", "--rows", "3")
    assert result.exit_code == 0, result.stderr
    assert f"1000 unit(s), {1000 * ITEMS} decisions (durable engine)" in result.stdout
    _account(tmp_path / "out", 1000, expect)


def test_twenty_thousand_units_every_decision_accounted_for(tmp_path, small_set, cchc):
    """More than one durable_rules batch could ever hold (16,000 events lost actions silently), all in
    one process (one worker: each of two would see half; and two cost more CPU than one)."""
    expect = write_units(tmp_path / "units.csv", 20000)
    result = cchc("score", small_set, tmp_path / "units.csv", "--out", tmp_path / "out", "--rows", "3",
                  "--workers", "1")
    assert result.exit_code == 0, result.stderr
    assert f"20000 unit(s), {20000 * ITEMS} decisions (durable engine)" in result.stdout
    _account(tmp_path / "out", 20000, expect)


# ---------------------------------------------------------------- score

def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.json"))}


def test_score_writes_results_and_repeats_them_byte_for_byte(tmp_path, sample_criteria_path, data_dir, cchc,
                                                             monkeypatch):
    for k, v in VIETNAMESE.items():
        monkeypatch.setenv(k, v)
    first = cchc("score", sample_criteria_path, data_dir / "evidence", "--out", tmp_path / "a")
    assert first.exit_code == 0, first.stderr
    assert "2 đơn vị, 22 kết quả chấm tiêu chí (bộ máy chấm durable)" in first.stdout
    assert "Sở Nội vụ" in first.stdout and "13,50" in first.stdout and "67,52" in first.stdout
    assert "cảnh báo: đơn vị so-noi-vu: procedures_total là 2033" in first.stderr  # warned, not refused
    for k, v in ENGLISH.items():  # the results do not depend on the reader's language
        monkeypatch.setenv(k, v)
    again = cchc("score", sample_criteria_path, data_dir / "evidence" / "so-noi-vu.yaml",
                 data_dir / "evidence" / "communes.csv", "--out", tmp_path / "b")
    assert again.exit_code == 0
    assert "2 unit(s), 22 decisions (durable engine)" in again.stdout and "13.50" in again.stdout
    assert "warning: unit so-noi-vu: procedures_total is 2033" in again.stderr
    a, b = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    assert sorted(a) == [".cchc-out.json", "summary.json", "units/so-noi-vu.json", "units/xa-an-binh.json"]
    assert a == b
    ref = cchc("score", sample_criteria_path, data_dir / "evidence", "--out", tmp_path / "r", "-e", "reference")
    assert ref.exit_code == 0
    assert {k: v.replace(b'"engine":"reference"', b'"engine":"durable"') for k, v in _tree(tmp_path / "r").items()} == a


def test_score_refuses_bad_evidence_and_writes_nothing(tmp_path, sample_criteria_path, data_dir, cchc):
    ev = tmp_path / "ev"
    shutil.copytree(data_dir / "evidence", ev)
    (ev / "bad.csv").write_text("unit_id,unit_name,unit_type,period,metric,value\nx,X,commune,2023,on_time_rate,150\n",
                                encoding="utf-8")
    result = cchc("score", sample_criteria_path, ev, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == f"{ev}/bad.csv:2:6: on_time_rate: a percent must be from 0 to 100, got 150"
    assert "1 problem found." in result.stderr
    assert not (tmp_path / "out").exists()


def test_score_with_an_unknown_engine(tmp_path, sample_criteria_path, data_dir, cchc):
    result = cchc("score", sample_criteria_path, data_dir / "evidence", "--out", tmp_path / "o", "--engine", "drools")
    assert result.exit_code == 2
    assert "unknown engine 'drools'; valid engines: durable, reference" in result.stderr


def test_score_with_a_missing_criteria_file(tmp_path, data_dir, cchc):
    result = cchc("score", tmp_path / "nope.yaml", data_dir / "evidence", "--out", tmp_path / "o")
    assert result.exit_code == 2
    assert f"{tmp_path}/nope.yaml: file not found" in result.stderr


# ---------------------------------------------------------------- validate

def test_validate_the_sample(sample_criteria_path, data_dir, cchc):
    result = cchc("validate", sample_criteria_path, data_dir / "evidence")
    assert result.exit_code == 0, result.stderr
    assert "ok — criteria set sample-2023, 11 sub-criteria" in result.stdout
    assert "evidence ok: 2 unit(s) in 2 file(s)" in result.stdout
    assert "warning:" in result.stderr and "problem" not in result.stderr


def test_validate_a_criteria_set_alone(sample_criteria_path, cchc):
    result = cchc("validate", sample_criteria_path)
    assert result.exit_code == 0 and "11 sub-criteria" in result.stdout


def test_validate_evidence_needs_its_criteria_set(data_dir, cchc):
    result = cchc("validate", data_dir / "evidence" / "communes.csv")
    assert result.exit_code == 2
    assert "evidence is checked against a criteria set: pass --criteria FILE" in result.stderr


def test_validate_a_file_that_does_not_exist(tmp_path, sample_criteria_path, cchc):
    result = cchc("validate", sample_criteria_path, tmp_path / "missing.csv")
    assert result.exit_code == 2
    assert f"{tmp_path}/missing.csv: file not found" in result.stderr


def test_validate_reports_criteria_and_evidence_problems_together(tmp_path, sample_criteria_path, cchc):
    bad = tmp_path / "bad.yaml"
    bad.write_text(sample_criteria_path.read_text("utf-8").replace("max: 20\n", "max: 21\n"), encoding="utf-8")
    ev = tmp_path / "ev.csv"
    ev.write_text("unit_id,unit_name,unit_type,period,metric,value\nx,X,commune,2023,awards,-1\n", encoding="utf-8")
    result = cchc("validate", bad, sample_criteria_path, "-c", sample_criteria_path, ev)
    assert result.exit_code == 2
    assert f"{bad}:47:1: the criteria set has max 21 but its areas add up to 20" in result.stderr
    assert f"{ev}:2:6: awards: a count cannot be negative, got -1" in result.stderr
    assert "2 problems found." in result.stderr


def test_a_criteria_set_named_twice_is_checked_once(tmp_path, sample_criteria_path, cchc):
    bad = tmp_path / "bad.yaml"
    bad.write_text(sample_criteria_path.read_text("utf-8").replace("max: 20\n", "max: 21\n"), encoding="utf-8")
    result = cchc("validate", bad, "--criteria", bad)
    assert result.exit_code == 2
    assert result.stderr.count("the criteria set has max 21") == 1 and "1 problem found." in result.stderr


def test_no_traceback_even_for_an_internal_error(tmp_path, sample_criteria_path, data_dir, cchc, monkeypatch):
    import engine.evaluation.evaluate

    def broken(*args, **kwargs):
        raise ZeroDivisionError("something went wrong inside")

    monkeypatch.setattr(engine.evaluation.evaluate, "plan", broken)
    monkeypatch.delenv("CCHC_DEBUG", raising=False)
    result = cchc("score", sample_criteria_path, data_dir / "evidence", "--out", tmp_path / "o")
    assert result.exit_code == 4
    assert result.stderr.splitlines()[-1] == ("internal error: ZeroDivisionError: something went wrong inside "
                                              "(set CCHC_DEBUG=1 for details)")
    assert "Traceback" not in result.stderr


def test_the_library_never_imports_the_command_line():
    """engine/, rules/ and reports/ are the library: cli.py and commands/ call them, never the
    other way round (no import of either, at any level of a module)."""
    import ast

    root = Path(__file__).resolve().parent.parent
    offenders = []
    for package in ("engine", "rules", "reports"):
        for path in sorted((root / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                         [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
                offenders += [f"{path.relative_to(root)}: {n}" for n in names
                              if n.split(".")[0] in ("cli", "commands", "typer", "rich")]
    assert offenders == []
