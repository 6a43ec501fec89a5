"""A scoring method added from outside the engine (tests/toy_method.py, registered through the
registry's public API) works end to end: its parameters are checked with located problems, `score`
decides it, appraisal admits only the points it gives, the mid-year check and the gap analysis give
its next threshold, and the unit report shows its band."""
from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

from builders import criteria_doc, write_criteria
from engine import load_criteria, methods
from engine.evaluation.appraisal import allowed_problem, allowed_values
from engine.core.errors import CriteriaError
from toy_method import Milestones

RATE = {"kind": "percent", "label": "Tỷ lệ hồ sơ giải quyết đúng hạn"}
ITEM = {"title": "Hồ sơ giải quyết đúng hạn", "max": 2, "method": "milestones", "metric": "rate",
        "params": {"full_at": 90, "half_at": 60, "label": "Tỷ lệ đúng hạn"}}
CITED = {"document": "12/BC", "issuer": "Sở Nội vụ"}


@pytest.fixture
def milestones():
    methods.register(Milestones())
    try:
        yield
    finally:
        methods.unregister("milestones")


@pytest.fixture
def province(tmp_path, milestones) -> Path:
    """A criteria set with a milestones item and a pass/fail item; three units at 95, 75 and 40 %."""
    doc = criteria_doc([[[ITEM, {"title": "Kiểm tra", "max": 1, "method": "pass_fail", "metric": "checked"}]]],
                       {"rate": RATE, "checked": {"kind": "boolean", "label": "Có kiểm tra"}})
    write_criteria(tmp_path / "criteria.yaml", doc)
    (tmp_path / "evidence").mkdir()
    for unit, rate in (("so-a", 95), ("so-b", 75), ("so-c", 40)):
        (tmp_path / "evidence" / f"{unit}.yaml").write_text(
            f"format: cchc-evidence/1\ncriteria: test-set\n"
            f"unit: {{id: {unit}, name: Sở {unit[-1].upper()}, type: department}}\nperiod: '2023'\n"
            f"metrics:\n  rate: {{value: {rate}, citation: {json.dumps(CITED)}}}\n"
            f"  checked: {{value: true, citation: {json.dumps(CITED)}}}\n", encoding="utf-8")
    return tmp_path


def test_the_registry_refuses_what_it_cannot_use(milestones):
    with pytest.raises(ValueError, match="already registered"):
        methods.register(Milestones())
    with pytest.raises(ValueError, match="built-in"):
        methods.unregister("tiers")

    class Careless(Milestones):
        name = "careless"
        metric_kinds = ("percentage",)

    with pytest.raises(ValueError, match="metric_kinds must name some of"):
        methods.register(Careless())
    assert "careless" not in methods.names()


def test_unknown_until_registered(tmp_path):
    path = write_criteria(tmp_path / "c.yaml", criteria_doc([[[ITEM]]], {"rate": RATE}))
    with pytest.raises(CriteriaError, match="unknown scoring method 'milestones'"):
        load_criteria(path)


@pytest.mark.parametrize("params, at, message", [
    ({"full_at": 90, "half_at": 95}, "half_at", "1.1.1: half_at must be below full_at"),
    ({"full_at": 120}, "full_at", "1.1.1: full_at must be above 0 and at most 100, got 120"),
    ({"half_at": 50}, "params", "1.1.1: full_at is missing: percent from which the item gives its maximum"),
    ({"full_at": 90, "lable": "x"}, "lable", "1.1.1: method milestones has no parameter 'lable' (did you mean "
                                             "'label'?); its parameters: full_at, half_at, label"),
    ({"full_at": 90, "label": ["a"]}, "label", "1.1.1: label: expected text, got a list"),
])
def test_its_parameters_are_checked_at_their_line(tmp_path, milestones, params, at, message):
    lines = ["format: cchc-criteria/1", "id: toy", "title: Bộ chỉ số", "year: 2023",
             "issued_by: {decision: 1/QĐ, issuer: UBND tỉnh}", "unit_types: [{id: department, label: Sở}]",
             "metrics:", "  rate: {kind: percent, label: Tỷ lệ}", "max: 1", "areas:",
             "  - {code: '1', title: A, max: 1, criteria: [{code: '1.1', title: B, max: 1, sub_criteria: [",
             "      {code: '1.1.1', title: C, max: 1, method: milestones, metric: rate,", "       params: {"]
    lines += [f"         {k}: {json.dumps(v)}," for k, v in params.items()]
    lines += ["       }}]}]}"]
    path = tmp_path / "criteria.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(CriteriaError) as exc:
        load_criteria(path)
    [problem] = exc.value.problems
    line = next((i for i, text in enumerate(lines, 1) if text.strip().startswith(f"{at}:")), 13)
    assert (problem.file, problem.line, problem.message) == (str(path), line, message)


def test_score_decides_it_and_the_report_shows_its_band(province, cchc):
    r = cchc("validate", province / "criteria.yaml", province / "evidence")
    assert r.exit_code == 0, r.output
    r = cchc("score", province / "criteria.yaml", province / "evidence", "--out", province / "out")
    assert r.exit_code == 0, r.output
    items = {u: json.loads((province / "out" / "units" / f"{u}.json").read_text("utf-8"))["items"][0]
             for u in ("so-a", "so-b", "so-c")}
    assert [(i["method"], i["points"], i["condition"]) for i in items.values()] == [
        ("milestones", "2", "Tỷ lệ đúng hạn ≥ 90"), ("milestones", "1", "Tỷ lệ đúng hạn ≥ 60 và < 90"),
        ("milestones", "0", "Tỷ lệ đúng hạn < 60")]

    r = cchc("report", "unit", province / "out" / "units", "--criteria", province / "criteria.yaml",
             "--format", "md", "--out", province / "reports", "--date", "2024-01-15")
    assert r.exit_code == 0, r.output
    form = (province / "reports" / "so-b.md").read_text("utf-8")
    assert "Mức: Tỷ lệ đúng hạn ≥ 60 và \\< 90" in form  # the band, in the criteria's words (`<` escaped)
    assert "Tỷ lệ đúng hạn ≥ 90 %" in form  # the gap analysis: the next threshold
    low = (province / "reports" / "so-c.md").read_text("utf-8")
    assert "Tỷ lệ đúng hạn ≥ 60 %: một nửa số điểm" in low


def test_gaps_give_its_next_threshold(province):
    from engine import decide
    from engine.inputs.evidence import load_evidence
    from engine.storage.documents import unit_result_bytes
    from engine.storage.results import result_files
    from reports.gaps import gap_report
    from rules import get_evaluator

    cs = load_criteria(province / "criteria.yaml")
    evaluator = get_evaluator("durable")
    results = decide(cs, load_evidence([province / "evidence"], cs).records, evaluator)
    files = result_files(cs, results, evaluator.name, [])
    gaps = {u: gap_report(cs, unit_result_bytes(u, files[f"units/{u}.json"]).items).gaps
            for u in ("so-a", "so-b", "so-c")}
    assert gaps["so-a"] == ()
    [b], [c] = gaps["so-b"], gaps["so-c"]
    assert (b.value, b.target, b.gain, b.best) == ("75,00 %", "Tỷ lệ đúng hạn ≥ 90 %", 1, 2)
    assert (c.value, c.target, c.gain, c.best) == ("40,00 %", "Tỷ lệ đúng hạn ≥ 60 %: một nửa số điểm", 1, 2)


def test_midyear_projects_against_its_best_outcome(province, cchc):
    r = cchc("midyear", province / "criteria.yaml", province / "evidence", "--elapsed", "6/12",
             "--out", province / "mid")
    assert r.exit_code == 0, r.output
    doc = json.loads((province / "mid" / "midyear.json").read_text("utf-8"))
    targets = {u["id"]: u["targets"][0] for u in doc["units"]}
    assert {u: (t["method"], t["target"], t["best_points"], t["status"]) for u, t in targets.items()} == {
        "so-a": ("milestones", "≥ 90", "2", "on_track"), "so-b": ("milestones", "≥ 90", "2", "at_risk"),
        "so-c": ("milestones", "≥ 90", "2", "at_risk")}
    assert targets["so-b"]["condition"] == "Tỷ lệ đúng hạn ≥ 60 và < 90"


def test_appraisal_admits_only_the_points_it_gives(province, cchc):
    cs = load_criteria(province / "criteria.yaml")
    sub = next(s for s in cs.sub_criteria() if s.method == "milestones")
    assert allowed_values(sub) == (2, 1, 0)
    assert allowed_problem(sub, Fraction(1)) is None
    assert allowed_problem(sub, Fraction(3, 2)) == (
        "1.5 points is not a value the rule of item 1.1.1 (milestones) gives; allowed: 2, 1, 0")

    appraisal = province / "appraisal" / "so-b.yaml"
    appraisal.parent.mkdir()
    text = ("format: cchc-appraisal/1\ncriteria: test-set\nunit: so-b\nrounds:\n"
            "  - round: 1\n    appraiser: Hội đồng thẩm định\n    items:\n"
            "      '1.1.1': {points: POINTS, reason: Số liệu chưa khớp báo cáo}\n")
    appraisal.write_text(text.replace("POINTS", "1.5"), encoding="utf-8")
    args = ("round", province / "criteria.yaml", "--evidence", province / "evidence", "--appraisal",
            province / "appraisal", "--no-survey", "--workers", "1", "--out", province / "round")
    r = cchc(*args)
    assert r.exit_code == 2
    assert f"{appraisal}:8:" in r.stderr and "allowed: 2, 1, 0" in r.stderr

    appraisal.write_text(text.replace("POINTS", "0"), encoding="utf-8")
    r = cchc(*args)
    assert r.exit_code == 0, r.output
    item = json.loads((province / "round" / "units" / "so-b.json").read_text("utf-8"))["items"][0]
    assert (item["self_points"], item["points"]) == ("1", "0")


def test_a_parameter_table_with_a_mistake_is_refused_when_registered():
    from engine.methods import Number, Param

    class Twice(Milestones):
        name = "twice"
        parameters = (Param("full_at", Number(), "a"), Param("full_at", Number(), "b"))

    class Untyped(Milestones):
        name = "untyped"
        parameters = (Param("full_at", int, "a number"),)

    with pytest.raises(ValueError, match="declared twice"):
        methods.register(Twice())
    with pytest.raises(ValueError, match="is not a Param of type Number, Text, Table or Records"):
        methods.register(Untyped())
    assert not {"twice", "untyped"} & set(methods.names())
