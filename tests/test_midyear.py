"""Mid-year check: the elapsed share, the projection rule per metric kind, on track / at risk."""
from __future__ import annotations

import json
from datetime import date
from fractions import Fraction
from pathlib import Path

import pytest

from engine import load_criteria, load_evidence
from engine.core.errors import InputError
from engine.evaluation.midyear import check_targets, elapsed_from, midyear_json

ROOT = Path(__file__).parent.parent
DATA = Path(__file__).parent / "data" / "round"


@pytest.fixture(scope="module")
def criteria():
    return load_criteria(DATA / "criteria.yaml")


@pytest.fixture(scope="module")
def units(criteria):
    ev = load_evidence([DATA / "evidence"], criteria)
    out = check_targets(criteria, ev.records, elapsed_from(None, "4/12"))
    return {u.unit_id: {c.code: c for c in u.checks} for u in out}


def test_elapsed_share_of_the_year():
    assert elapsed_from("2023-04-30", None).fraction == Fraction(120, 365)
    assert elapsed_from("2023-04-30", None).as_of == date(2023, 4, 30)
    assert elapsed_from("2024-02-29", None).fraction == Fraction(60, 366)  # leap year
    assert elapsed_from("2023-12-31", None).fraction == 1
    assert elapsed_from(None, "4/12").fraction == Fraction(1, 3)
    assert elapsed_from(None, "0.25").fraction == elapsed_from(None, "25%").fraction == Fraction(1, 4)
    # as typed in Vietnamese: a decimal comma, a day-first date
    assert elapsed_from(None, "0,25").fraction == elapsed_from(None, "12,5%").fraction * 2 == Fraction(1, 4)
    assert elapsed_from("30/04/2023", None) == elapsed_from("2023-04-30", None)


@pytest.mark.parametrize("as_of, elapsed, where", [
    (None, None, "--as-of / --elapsed"), ("2023-04-30", "4/12", "--as-of / --elapsed"),
    ("31/04/2023", None, "--as-of"), ("2023/04/30", None, "--as-of"), (None, "0", "--elapsed"), (None, "13/12", "--elapsed"),
    (None, "bốn tháng", "--elapsed"),
])
def test_elapsed_errors_name_the_option(as_of, elapsed, where):
    with pytest.raises(InputError) as exc:
        elapsed_from(as_of, elapsed)
    assert exc.value.problems[0].file == where


def test_counts_are_extrapolated_linearly(units):
    awards = units["so-tu-phap"]["1.2.3"]  # bonus: 0.5 per award, cap 1 → target ≥ 2 awards
    assert (awards.rule, awards.value, awards.projected, awards.target) == ("extrapolated", 1, 3, "≥ 2")
    assert awards.status == "on_track" and awards.projected_points == 1
    late = units["xa-binh-minh"]["1.2.2"]  # deductions: 1 late report by month 4 → 3 by December
    assert (late.value, late.projected, late.target, late.status) == (1, 3, "= 0", "at_risk")
    assert late.projected_points == Fraction(1, 4)


def test_percentages_are_their_own_projection(units):
    on_time = units["so-tai-chinh"]["2.1.1"]  # tiers: ≥ 98 gives the best points
    assert (on_time.rule, on_time.value, on_time.projected) == ("rate", 95, 95)
    assert on_time.target == "≥ 98" and on_time.status == "at_risk" and on_time.projected_points == 2
    assert units["so-tu-phap"]["2.1.1"].status == "on_track"  # exactly 98: the boundary is reached
    online = units["so-tu-phap"]["2.1.2"]  # proportional, full at 50
    assert (online.projected, online.target, online.status) == (45, "≥ 50", "at_risk")
    assert online.projected_points == Fraction(27, 10)


def test_task_completion_is_extrapolated_and_capped(units, criteria, tmp_path):
    assert units["so-noi-vu"]["1.1.2"].projected == 100  # 100 % done already: capped, not 300 %
    ytd = tmp_path / "ytd.yaml"
    ytd.write_text("""\
format: cchc-evidence/1
unit: {id: so-a, name: Sở A, type: department}
period: "2023"
metrics:
  plan_tasks:
    tasks:
      - {task: Kế hoạch, lead: Sở A, deadline: Quý I, completed: 2023-03-01}
      - {task: Kiểm tra, lead: Sở A, deadline: Tháng 6}
      - {task: Tập huấn, lead: Sở A, deadline: Tháng 9}
      - {task: Báo cáo, lead: Sở A, deadline: 2023-12-15}
""", "utf-8")
    ev = load_evidence([ytd], criteria)
    (u,) = check_targets(criteria, ev.records, elapsed_from("2023-04-30", None))
    plan = {c.code: c for c in u.checks}["1.1.2"]
    # 1 of 4 tasks by 30 April: 25 % ÷ 120/365 = 76.04… % < 80 → the lowest tier: at risk
    assert plan.value == 25 and plan.projected == Fraction(25) / Fraction(120, 365)
    assert plan.status == "at_risk" and plan.projected_points == 0
    assert {c.code: c.status for c in u.checks}["2.1.1"] == "no_data"


def test_survey_and_non_numeric_items_are_not_targets(units):
    assert set(units["so-noi-vu"]) == {"1.1.2", "1.2.2", "1.2.3", "2.1.1", "2.1.2"}
    assert "2.1.2" not in units["xa-an-binh"]  # declared not applicable by the unit
    assert units["xa-an-binh"]["1.1.2"].status == "no_data"


def test_midyear_on_the_shipped_four_month_report(cchc, tmp_path):
    """Tiền Giang's four-month report (2020) against the 2023 province-wide targets, at 4/12."""
    res = cchc("midyear", ROOT / "criteria" / "tien-giang-2023-province.yaml",
               ROOT / "examples" / "tien-giang-2020-4thang" / "evidence", "--elapsed", "4/12", "--out", tmp_path)
    assert res.exit_code == 0, res.stderr
    doc = json.loads((tmp_path / "midyear.json").read_text("utf-8"))
    assert doc["format"] == "cchc-midyear/1" and doc["elapsed"] == "1/3" and doc["elapsed_display"] == "33.33"
    (unit,) = doc["units"]
    targets = {t["code"]: t for t in unit["targets"]}
    on_time = targets["3.2.1"]  # 93.54 % of files on time against ≥ 98 %
    assert (on_time["value"], on_time["projected"], on_time["target"], on_time["status"]) == (
        "93.54", "93.54", "≥ 98", "at_risk")
    assert on_time["rule"] == "rate"
    assert targets["6.1.1"]["status"] == "on_track"
    assert unit["counts"]["at_risk"] == sum(1 for t in unit["targets"] if t["status"] == "at_risk") >= 1
    assert f"1 unit(s), {unit['counts']['at_risk']} target(s) at risk" in res.stdout
    # the same inputs give the same bytes
    again = tmp_path / "again"
    cchc("midyear", ROOT / "criteria" / "tien-giang-2023-province.yaml",
         ROOT / "examples" / "tien-giang-2020-4thang" / "evidence", "--elapsed", "4/12", "--out", again)
    assert (again / "midyear.json").read_bytes() == (tmp_path / "midyear.json").read_bytes()


def test_midyear_json_keys(criteria, units):
    ev = load_evidence([DATA / "evidence"], criteria)
    doc = midyear_json(criteria, check_targets(criteria, ev.records, elapsed_from("2023-04-30", None)),
                       elapsed_from("2023-04-30", None))
    assert doc["as_of"] == "2023-04-30" and doc["elapsed"] == "24/73"
    t = doc["units"][0]["targets"][0]
    assert set(t) == {"code", "title", "metric", "kind", "method", "rule", "status", "target", "best_points",
                      "max", "value", "value_display", "projected", "projected_display", "projected_points",
                      "projected_points_display", "condition", "location", "limit"}


def test_midyear_bad_option_exits_2(cchc):
    res = cchc("midyear", DATA / "criteria.yaml", DATA / "evidence", "--elapsed", "5/4")
    assert res.exit_code == 2 and "--elapsed: the share of the year elapsed must be above 0" in res.stderr
