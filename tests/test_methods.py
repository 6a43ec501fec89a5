"""Each scoring method on its own: parameters and defaults, exact bounds, points worked out by
hand, and both evaluators giving the same decision."""
from __future__ import annotations

import itertools
from datetime import date
from fractions import Fraction as F
from pathlib import Path

import pytest

from builders import one_item, record, value, write_criteria
from engine import decide, load_criteria
from engine.core.errors import CriteriaError
from engine.methods import REGISTRY, check, names
from engine.core.model import Task
from engine.evaluation.reference import ReferenceEvaluator
from rules import get_evaluator

_files = itertools.count()


def _load(tmp_path: Path, sub: dict, metric: dict):
    return load_criteria(write_criteria(tmp_path / f"criteria-{next(_files)}.yaml", one_item(sub, metric)))


def score(tmp_path: Path, sub: dict, metric: dict, kind: str, values: list, **unit) -> list:
    """Score one item for one unit per value with both evaluators; return (points, condition) per
    value (`None` stands for missing evidence)."""
    cs = _load(tmp_path, sub, metric)
    records = [record(f"u{i:03d}", {} if v is None else {"m": v if hasattr(v, "kind") else value("m", kind, v)},
                      **unit) for i, v in enumerate(values)]
    durable = decide(cs, records, get_evaluator("durable"))
    reference = decide(cs, records, ReferenceEvaluator())
    assert durable == reference
    return [(r.decisions[0].points, r.decisions[0].condition) for r in durable]


def points(*args, **kwargs) -> list[F]:
    return [p for p, _ in score(*args, **kwargs)]


def test_the_registry_lists_every_method():
    assert names() == ["bonus", "categories", "deductions", "manual", "pass_fail", "proportional", "survey", "tiers"]
    for m in REGISTRY.values():
        check(m)  # a complete, well-formed declaration


def test_the_criteria_format_documents_every_method_and_parameter():
    doc = (Path(__file__).parent.parent / "docs" / "criteria-format.md").read_text("utf-8")
    for m in REGISTRY.values():
        assert f"`{m.name}`" in doc, m.name
        for p in m.parameters:
            assert f"`{p.name}`" in doc, f"{m.name}.{p.name}"


# ---------------------------------------------------------------- tiers

PERCENT = {"kind": "percent", "label": "Tỷ lệ"}
COUNT = {"kind": "count", "label": "Số lần"}

BANDS = {"max": 3, "method": "tiers", "params": {"tiers": [
    {"lt": 70, "points": 0},
    {"ge": 70, "lt": 90, "points": 1},
    {"eq": 90, "points": 1.5},
    {"gt": 90, "le": "99.5", "points": 2},
    {"gt": "99.5", "points": 3},
]}}


@pytest.mark.parametrize("given, expected, words", [
    ("0", "0", "< 70"), ("69.99", "0", "< 70"), ("70", "1", "≥ 70 và < 90"), ("89.999", "1", "≥ 70 và < 90"),
    ("90", "1.5", "= 90"), ("90.001", "2", "> 90 và ≤ 99,5"), ("99.5", "2", "> 90 và ≤ 99,5"),
    ("99.51", "3", "> 99,5"), ("100", "3", "> 99,5"),
])
def test_tier_bounds_are_exact(tmp_path, given, expected, words):
    [(pts, condition)] = score(tmp_path, BANDS, PERCENT, "percent", [F(given)])
    assert pts == F(expected)
    assert condition == words  # no label given: the bounds in words


def test_tiers_do_not_depend_on_the_order_bands_are_written_in(tmp_path):
    values = [F(v) for v in ("0", "70", "90", "99.5", "100", "2/3")]
    forward = points(tmp_path, BANDS, PERCENT, "percent", values)
    reverse = {**BANDS, "params": {"tiers": list(reversed(BANDS["params"]["tiers"]))}}
    assert points(tmp_path, reverse, PERCENT, "percent", values) == forward == [0, 1, F(3, 2), 2, 3, 0]


def test_tiers_on_a_fraction_that_does_not_terminate(tmp_path):
    """2/3 of files is 66.666…%: below 66.67, above 66.66, never rounded onto a bound."""
    sub = {"max": 1, "method": "tiers", "params": {"tiers": [{"ge": "66.67", "points": 1}, {"lt": "66.67", "points": 0}]}}
    lower = {"max": 1, "method": "tiers", "params": {"tiers": [{"gt": "66.66", "points": 1}, {"le": "66.66", "points": 0}]}}
    third = value("m", "percent", F(200, 3), numerator=2, denominator=3)
    assert points(tmp_path, sub, PERCENT, "percent", [third]) == [0]
    assert points(tmp_path, lower, PERCENT, "percent", [third]) == [1]


def test_tiers_on_a_count(tmp_path):
    sub = {"max": 2, "method": "tiers", "params": {"tiers": [
        {"eq": 0, "points": 2, "label": "Không có báo cáo trễ"}, {"ge": 1, "le": 2, "points": 1}, {"gt": 2, "points": 0}]}}
    got = score(tmp_path, sub, COUNT, "count", [F(0), F(1), F(2), F(3), F(10 ** 20)])
    assert got == [(2, "Không có báo cáo trễ"), (1, "≥ 1 và ≤ 2"), (1, "≥ 1 và ≤ 2"), (0, "> 2"), (0, "> 2")]


def test_tiers_on_a_task_list(tmp_path):
    tasks = [Task(f"Nhiệm vụ {i}", "Sở Nội vụ", "", "", date(2023, 6, 30), done)
             for i, done in enumerate([date(2023, 6, 30), date(2023, 7, 1), None])]
    sub = {"max": 2, "method": "tiers", "measure": "on_time_rate",
           "params": {"tiers": [{"ge": 50, "points": 2}, {"ge": 30, "lt": 50, "points": 1}, {"lt": 30, "points": 0}]}}
    # on time: 1 of 3 = 33.33…% → [30, 50) → 1 point; completion would be 2 of 3
    assert points(tmp_path, sub, {"kind": "tasks", "label": "Nhiệm vụ"}, "tasks", [tuple(tasks)]) == [1]
    sub["measure"] = "completion_rate"
    assert points(tmp_path, sub, {"kind": "tasks", "label": "Nhiệm vụ"}, "tasks", [tuple(tasks)]) == [2]


@pytest.mark.parametrize("tiers, message", [
    ([], "tiers: expected a non-empty list of bands"),
    ([{"points": 1}], "a band needs at least one bound: gt, ge, lt, le or eq"),
    ([{"eq": 5, "lt": 6, "points": 1}], "eq cannot be combined with other bounds"),
    ([{"gt": 5, "ge": 6, "points": 1}], "a band has two lower or two upper bounds"),
    ([{"ge": 5, "lt": 5, "points": 1}], "band ≥ 5 và < 5 is empty"),
    ([{"ge": "abc", "points": 1}], "expected an exact number, got 'abc'"),
    ([{"ge": 0, "points": -1}], "must be ≥ 0, got -1"),
    ([{"ge": 0, "points": 1.5}], "worth 1.5 points, more than the item's maximum of 1"),
    (["ge 0"], "expected a mapping with bounds, points and label"),
])
def test_bad_tiers(tmp_path, tiers, message):
    with pytest.raises(CriteriaError) as exc:
        _load(tmp_path, {"max": 1, "method": "tiers", "params": {"tiers": tiers}}, PERCENT)
    assert any(message in p.message for p in exc.value.problems), exc.value


# ---------------------------------------------------------------- categories and pass / fail

def test_categories_on_a_date_with_a_deadline(tmp_path):
    metric = {"kind": "date", "label": "Ngày ban hành", "deadline": date(2023, 1, 31)}
    sub = {"max": 1, "method": "categories", "params": {"points": {"on_time": 1, "late": 0.5, "not_done": 0}}}
    got = score(tmp_path, sub, metric, "date", [date(2023, 1, 30), date(2023, 1, 31), date(2023, 2, 1), None,
                                                value("m", "date", None)])
    assert got == [(1, "Đúng hạn"), (1, "Đúng hạn"), (F(1, 2), "Trễ hạn"), (0, ""), (0, "Không thực hiện")]


def test_categories_with_the_criteria_own_words(tmp_path):
    metric = {"kind": "category", "label": "Mức độ", "categories": ["full", "partial", "none"]}
    sub = {"max": 2, "method": "categories", "params": {
        "points": {"full": 2, "partial": 0.75, "none": 0}, "labels": {"partial": "Thực hiện một phần"}}}
    assert score(tmp_path, sub, metric, "category", ["partial", "full", "none"]) == [
        (F(3, 4), "Thực hiện một phần"), (2, "full"), (0, "none")]


def test_pass_fail_defaults_and_custom_points(tmp_path):
    metric = {"kind": "boolean", "label": "Có kiểm tra"}
    assert score(tmp_path, {"max": 1.5, "method": "pass_fail"}, metric, "boolean", [True, False]) == [
        (F(3, 2), "Đạt"), (0, "Không đạt")]
    sub = {"max": 1, "method": "pass_fail", "params": {"pass": 0.75, "fail": 0.25, "pass_label": "Có"}}
    assert score(tmp_path, sub, metric, "boolean", [True, False]) == [(F(3, 4), "Có"), (F(1, 4), "Không đạt")]


def test_categories_need_every_category(tmp_path):
    with pytest.raises(CriteriaError) as exc:
        _load(tmp_path, {"max": 1, "method": "categories", "params": {"points": {"yes": 1}}},
              {"kind": "boolean", "label": "B"})
    assert "category 'no' has no points (gap: every category must be scored)" in str(exc.value)


# ---------------------------------------------------------------- proportional and survey

def test_proportional_default_full_at_100(tmp_path):
    third = value("m", "percent", F(100, 3), numerator=1, denominator=3)
    got = points(tmp_path, {"max": 2, "method": "proportional"}, PERCENT, "percent",
                 [F(0), F("33.33"), third, F(100)])
    assert got == [0, F("0.6666"), F(2, 3), 2]


def test_proportional_is_capped_from_full_at(tmp_path):
    sub = {"max": 3, "method": "proportional", "params": {"full_at": 80}}
    assert points(tmp_path, sub, PERCENT, "percent", [F(40), F("79.99"), F(80), F(95)]) == [
        F(3, 2), F("2.999625"), 3, 3]


def test_survey_from_answer_counts(tmp_path):
    metric = {"kind": "responses", "label": "Phiếu", "options": ["A", "B", "C", "D", "E"]}
    sub = {"max": 2, "method": "survey", "params": {"weights": {"A": 100, "B": 60, "C": 20, "D": 0, "E": 0}}}
    answers = [{"A": 0, "B": 0, "C": 0, "D": 0, "E": 7}, {"A": 1, "B": 1, "C": 1, "D": 0, "E": 0},
               {"A": 5, "B": 0, "C": 0, "D": 0, "E": 0}]
    # E only → 0 %; (100 + 60 + 20) / 3 = 60 % → 1.2; A only → 100 % → 2
    assert points(tmp_path, sub, metric, "responses", answers) == [0, F(6, 5), 2]


def test_survey_from_a_satisfaction_percentage(tmp_path):
    sub = {"max": 2, "method": "survey", "params": {"full_at": 90}}
    assert points(tmp_path, sub, PERCENT, "percent", [F(45), F(90), F("92.5")]) == [1, 2, 2]


# ---------------------------------------------------------------- deductions, bonus, manual

def test_deductions_with_a_floor(tmp_path):
    sub = {"max": 2, "method": "deductions", "params": {"per_occurrence": 0.5, "floor": 0.5}}
    # 2 − n × 0.5, never below 0.5: the floor is reached at n = 3
    assert score(tmp_path, sub, COUNT, "count", [F(0), F(1), F(2), F(3), F(40)]) == [
        (2, "Mỗi lần vi phạm: trừ 0,5 điểm"), (F(3, 2), "Mỗi lần vi phạm: trừ 0,5 điểm"),
        (1, "Mỗi lần vi phạm: trừ 0,5 điểm"), (F(1, 2), "Mỗi lần vi phạm: trừ 0,5 điểm, tối thiểu còn 0,5 điểm"),
        (F(1, 2), "Mỗi lần vi phạm: trừ 0,5 điểm, tối thiểu còn 0,5 điểm")]


def test_deductions_that_do_not_divide_the_maximum(tmp_path):
    sub = {"max": 1, "method": "deductions", "params": {"per_occurrence": 0.3, "label": "Mỗi báo cáo trễ"}}
    # 1 − 3 × 0.3 = 0.1; 4 × 0.3 = 1.2 > 1 → floor 0
    assert points(tmp_path, sub, COUNT, "count", [F(3), F(4)]) == [F(1, 10), 0]


def test_bonus_with_a_cap_below_the_maximum(tmp_path):
    sub = {"max": 2, "method": "bonus", "params": {"per_occurrence": 0.4, "cap": 1.5}}
    # n × 0.4 up to 1.5: 3 → 1.2; 4 → 1.6 capped to 1.5
    assert points(tmp_path, sub, COUNT, "count", [F(0), F(3), F(4), F(10 ** 18)]) == [0, F(6, 5), F(3, 2), F(3, 2)]


def test_manual_points_are_taken_as_entered(tmp_path):
    v = value("m", "points", F("0.75"), reason="Mô hình được nhân rộng", citation=None)
    assert score(tmp_path, {"max": 1, "method": "manual"}, {"kind": "points", "label": "Điểm"}, "points", [v]) == [
        (F(3, 4), "Điểm do người chấm nhập, có lý do và tài liệu kiểm chứng")]


@pytest.mark.parametrize("sub, message", [
    ({"method": "deductions", "params": {"per_occurrence": 0}}, "per_occurrence must be above 0"),
    ({"method": "deductions", "params": {"per_occurrence": 1, "floor": 2}}, "worth 2 points, more than the item's maximum of 1"),
    ({"method": "bonus", "params": {"per_occurrence": 0.5, "cap": 1.5}}, "worth 1.5 points, more than the item's maximum of 1"),
    ({"method": "bonus", "params": {}}, "per_occurrence is missing: points for each occurrence (> 0)"),
    ({"method": "manual", "params": {"step": 0}}, "step must be above 0"),
])
def test_bad_count_and_manual_parameters(tmp_path, sub, message):
    metric = {"kind": "points" if sub["method"] == "manual" else "count", "label": "X"}
    with pytest.raises(CriteriaError) as exc:
        _load(tmp_path, {"max": 1, **sub}, metric)
    assert any(message in p.message for p in exc.value.problems), exc.value


@pytest.mark.parametrize("full_at", [0, 150, "-5"])
def test_full_at_is_a_percent_above_zero(tmp_path, full_at):
    for method in ("proportional", "survey"):
        with pytest.raises(CriteriaError) as exc:
            _load(tmp_path, {"max": 1, "method": method, "params": {"full_at": full_at}}, PERCENT)
        assert len(exc.value.problems) == 1
        assert "full_at" in str(exc.value) or "must be ≥ 0" in str(exc.value)
