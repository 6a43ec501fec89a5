"""Appraisal rounds: allowed points per method, located errors, round 2 over round 1."""
from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

from engine import load_criteria
from engine.evaluation.appraisal import allowed_problem
from engine.core.errors import InputError
from engine.round.output import round_files
from engine.round.run import run_round
from rules import get_evaluator

DATA = Path(__file__).parent / "data" / "round"


@pytest.fixture(scope="module")
def criteria():
    return load_criteria(DATA / "criteria.yaml")


def run(criteria, appraisal, survey=(DATA / "survey",)):
    return run_round(criteria, [DATA / "evidence"], factory=get_evaluator, engine="reference",
                     survey_paths=list(survey), appraisal_paths=list(appraisal))


def problems_of(criteria, appraisal) -> list[str]:
    with pytest.raises(InputError) as exc:
        run(criteria, appraisal)
    return [str(p) for p in exc.value.problems]


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text("utf-8").splitlines(), 1) if needle in line)


@pytest.mark.parametrize("code, good, bad", [
    ("1.1.2", ["2", "1", "0"], ["1.5", "0.5"]),          # tiers: the tier points
    ("1.1.1", ["1", "0.5", "0"], ["0.75", "0.25"]),      # categories
    ("1.2.1", ["1", "0"], ["0.5"]),                      # pass_fail
    ("1.2.2", ["1", "0.75", "0.25", "0"], ["0.6", "0.1"]),  # deductions 0.25 each from 1, floor 0
    ("1.2.3", ["0", "0.5", "1"], ["0.25", "0.75"]),      # bonus 0.5 each, cap 1
    ("1.2.4", ["0", "0.25", "0.75", "1"], ["0.3", "0.1"]),  # manual, step 0.25
    ("2.1.2", ["0", "1/3", "2.4", "3"], []),             # proportional: any exact value in [0, max]
])
def test_allowed_points_follow_the_items_rule(criteria, code, good, bad):
    sub = next(s for s in criteria.sub_criteria() if s.code == code)
    for p in good:
        assert allowed_problem(sub, Fraction(p)) is None, (code, p)
    for p in bad:
        assert allowed_problem(sub, Fraction(p)) is not None, (code, p)
    assert "outside [0," in allowed_problem(sub, sub.max + Fraction(1, 100))
    assert "outside [0," in allowed_problem(sub, Fraction(-1, 4))


def test_round_two_overrides_round_one_and_every_round_is_kept(criteria):
    result = run(criteria, [DATA / "appraisal"])
    files = round_files(result)
    snv = json.loads(files["units/so-noi-vu.json"])
    items = {i["code"]: i for i in snv["items"]}
    # 1.1.2: self 2 → round 1: 1 → round 2 (after the unit's explanation): 2
    plan = items["1.1.2"]
    assert (plan["self_points"], plan["appraised_points"], plan["points"]) == ("2", "2", "2")
    assert [(r["round"], r["points"], r["accepted"]) for r in plan["appraisal_rounds"]] == [
        (1, "1", False), (2, "2", True)]
    assert plan["appraisal_rounds"][1]["explanation"].startswith("Đơn vị bổ sung Biên bản")
    assert plan["appraisal_rounds"][0]["appraiser"] == "Tổ thẩm định — Sở Nội vụ"
    # 1.2.4: adjusted in round 1 only, so round 1 stands
    assert (items["1.2.4"]["self_points"], items["1.2.4"]["points"]) == ("0.75", "0.5")
    assert items["1.2.4"]["appraisal_rounds"][0]["reason"] == "Mô hình mới chỉ áp dụng tại 1 đơn vị"
    # 2.1.1 accepted: the self-assessed points stand
    assert items["2.1.1"]["appraised_points"] == "3" and items["2.1.1"]["appraisal_rounds"][0]["accepted"]
    # not appraised: null, and no rounds
    assert items["1.1.1"]["appraised_points"] is None and items["1.1.1"]["appraisal_rounds"] == []
    # totals from final points, self-assessed total beside them
    assert snv["self_total"]["points"] == "18.63" and snv["total"]["points"] == "18.38"
    assert snv["total"]["index"] == "91.9"
    # CSV appraisal of a commune: 0.5 (late) → round 1: 0 → round 2: 0.5 with the explanation
    xa = {i["code"]: i for i in json.loads(files["units/xa-an-binh.json"])["items"]}
    assert [r["points"] for r in xa["1.1.1"]["appraisal_rounds"]] == ["0", "0.5"]
    assert xa["1.1.1"]["points"] == "0.5" and xa["1.1.1"]["appraisal_rounds"][1]["date"] == "2024-02-01"


BAD_YAML = """\
format: cchc-appraisal/1
criteria: round-2023
unit: so-noi-vu
rounds:
  - round: 1
    appraiser: Tổ thẩm định
    items:
      "1.1.2": {points: 1.5, reason: Giữa hai mức}
      "9.9.9": {points: 1, reason: Không có mục này}
      "1.2.4": {points: 0.3, reason: Lệch bước}
      "2.1.1": {points: 2}
      "3.1.1": {points: 2, reason: Khảo sát}
      "1.2.3": {accept: true, points: 1}
      "1.2.2": {points: 5, reason: Quá tối đa}
"""


def test_appraisal_errors_name_file_and_line(criteria, tmp_path):
    bad = tmp_path / "so-noi-vu.yaml"
    bad.write_text(BAD_YAML, "utf-8")
    ghost = tmp_path / "ghost.yaml"
    ghost.write_text(BAD_YAML.replace("unit: so-noi-vu", "unit: so-ma").replace("round-2023", "khac"), "utf-8")
    text = problems_of(criteria, [bad, ghost])

    def has(path, needle, message):
        line = line_of(path, needle)
        assert any(t.startswith(f"{path}:{line}:") and message in t for t in text), (needle, message, text)

    has(bad, '"1.1.2"', "1.5 points is not a value the rule of item 1.1.2 (tiers) gives; allowed: 2, 1, 0")
    has(bad, '"9.9.9"', "appraisal of unknown item '9.9.9'")
    has(bad, '"1.2.4"', "not a multiple of the step 0.25")
    has(bad, '"2.1.1"', "appraised 2 points instead of the self-assessed 3 without a reason")
    has(bad, '"3.1.1"', "scored from survey data")
    has(bad, '"1.2.3"', "give either accept")
    has(bad, '"1.2.2"', "outside [0, 1]")
    has(ghost, "unit: so-ma", "appraisal of unknown unit 'so-ma'")
    has(ghost, "criteria: khac", "appraisal is for criteria set 'khac'")


def test_csv_appraisal_errors_name_row_and_column(criteria, tmp_path):
    bad = tmp_path / "tham-dinh.csv"
    bad.write_text(
        "unit_id,round,item,accept,points,reason,appraiser,explanation,date\n"
        "xa-an-binh,1,1.2.4,,1,Mô hình,Tổ,,\n"           # 1.2.4 applies to departments only
        "xa-an-binh,1,2.1.2,,1,Có dịch vụ,Tổ,,\n"         # declared not applicable by the unit
        "xa-an-binh,x,1.1.1,,1,Lý do,Tổ,,\n"              # round not a number
        "xa-an-binh,1,1.1.3,,\"0,7\",Lý do,Tổ,,\n"        # categories: 1 / 0.5 / 0 only
        "xa-an-binh,1,1.2.1,có,,,,,\n"                   # no appraiser
        "xa-an-binh,1,1.1.3,có,,,Tổ,,\n", "utf-8")
    text = problems_of(criteria, [bad])
    assert f"{bad}:2:5: item 1.2.4 does not apply to unit xa-an-binh (type commune); it is not scored, " \
           "so not appraised" in text
    assert any(t.startswith(f"{bad}:3:5:") and "declared item 2.1.2 not applicable" in t for t in text)
    assert any(t.startswith(f"{bad}:4:2:") and "round must be a whole number" in t for t in text)
    assert any(t.startswith(f"{bad}:5:5:") and "0.7 points is not a value" in t for t in text)
    assert any(t.startswith(f"{bad}:6:3:") and "the appraiser is missing" in t for t in text)
    assert len(text) == 5, text  # the valid row 7 adds nothing


def test_missing_reason_for_an_adjustment_is_an_error_but_accepting_needs_none(criteria, tmp_path):
    f = tmp_path / "a.csv"
    f.write_text("unit_id,round,item,accept,points,reason,appraiser,explanation,date\n"
                 "so-tu-phap,1,2.1.1,,3,,Tổ,,\n"       # equal to the self-assessed 3: no reason needed
                 "so-tu-phap,1,1.2.3,có,,,Tổ,,\n"
                 "so-tu-phap,1,1.1.1,,0.5,,Tổ,,\n", "utf-8")  # 1 → 0.5 without a reason
    text = problems_of(criteria, [f])
    assert text == [f"{f}:4:5: unit so-tu-phap, item 1.1.1: appraised 0.5 points instead of the "
                    "self-assessed 1 without a reason (điều chỉnh cần lý do)"]


def test_round_two_needs_round_one_and_an_item_once_per_round(criteria, tmp_path):
    f = tmp_path / "a.yaml"
    f.write_text("""\
format: cchc-appraisal/1
unit: so-tai-chinh
rounds:
  - round: 2
    appraiser: Hội đồng
    items:
      "1.1.1": {accept: true}
""", "utf-8")
    g = tmp_path / "b.csv"
    g.write_text("unit_id,round,item,accept,points,reason,appraiser\n"
                 "so-tu-phap,1,1.1.1,có,,,Tổ\n"
                 "so-tu-phap,1,1.1.1,,0.5,Trễ,Tổ\n", "utf-8")
    text = problems_of(criteria, [f, g])
    assert any(t.startswith(f"{f}:7:") and "round 2 of unit so-tai-chinh has no round 1" in t for t in text), text
    assert any(t.startswith(f"{g}:3:5:") and f"appraised twice in round 1 (first on {g}:2:3)" in t
               for t in text), text


def test_appraisal_file_format_errors_are_located(criteria, tmp_path):
    f = tmp_path / "a.yaml"
    f.write_text("format: cchc-appraisal/1\nunit: so-noi-vu\nrounds:\n  - round: 0\n    items: {}\n"
                 "    reviewer: x\n", "utf-8")
    text = problems_of(criteria, [f])
    assert any(t.startswith(f"{f}:6:5:") and "unknown key 'reviewer'" in t for t in text), text
    assert any(t.startswith(f"{f}:4:") and "rounds.0.round" in t for t in text), text
