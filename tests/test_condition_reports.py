"""Compound conditions beyond the score: the gap analysis and the mid-year check never promise more
than a knock-out that holds allows and say why, a band's extra requirement is named as the step to
take, and a unit's consistency warnings reach its report and the round's summary."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from fractions import Fraction as F

import pytest

from builders import criteria_doc, record, value, write_criteria
from engine import decide, load_criteria
from engine.evaluation.midyear import check_unit, elapsed_from, midyear_json
from engine.round.output import round_files
from engine.round.run import run_round
from engine.storage.documents import UnitResultDoc, unit_result
from engine.storage.results import unit_json
from reports.gaps import gap_report
from reports.render import produce
from reports.unit import unit_context
from rules import get_evaluator

METRICS = {"on_time_rate": {"kind": "percent", "label": "Tỷ lệ hồ sơ đúng hạn"},
           "late_files": {"kind": "count", "label": "Số hồ sơ trễ hạn"},
           "head_disciplined": {"kind": "boolean", "label": "Người đứng đầu bị kỷ luật"},
           "on_portal": {"kind": "count", "label": "Số TTHC trên Cổng DVC"},
           "published": {"kind": "count", "label": "Số TTHC đã công bố"}}
TIERS = {"tiers": [{"gt": 90, "points": 2, "label": "Trên 90%"}, {"le": 90, "points": 0, "label": "Từ 90% trở xuống"}]}
DISCIPLINED = "Người đứng đầu bị kỷ luật về CCHC: 0 điểm"
LATE = "Từ 5 hồ sơ trễ hạn: tối đa 0,5 điểm"
SUBS = [
    # 1.1.1: zeroed while the head is disciplined
    {"max": 2, "method": "tiers", "metric": "on_time_rate", "params": TIERS,
     "knock_out": [{"when": {"metric": "head_disciplined", "is": "yes"}, "cap": 0, "label": DISCIPLINED}]},
    # 1.1.2: capped at 0.5 from five late files
    {"max": 2, "method": "tiers", "metric": "on_time_rate", "params": TIERS,
     "knock_out": [{"when": {"metric": "late_files", "ge": 5}, "cap": F(1, 2), "label": LATE}]},
    # 1.1.3: the top band needs no late file
    {"max": 2, "method": "tiers", "metric": "on_time_rate", "params": TIERS,
     "when": [{"band": "Trên 90%", "require": {"metric": "late_files", "eq": 0},
               "otherwise": {"points": 1, "label": "Trên 90% nhưng có hồ sơ trễ hạn"}}]},
]
PORTAL_RULE = {"id": "portal-published", "label": "TTHC trên Cổng = TTHC đã công bố",
               "require": {"metric": "on_portal", "eq": {"metric": "published"}}}


@pytest.fixture
def criteria(tmp_path):
    doc = criteria_doc([[SUBS]], METRICS)
    doc["consistency"] = [PORTAL_RULE]
    return load_criteria(write_criteria(tmp_path / "c.yaml", doc))


def _unit(uid, **values):
    kinds = {m: spec["kind"] for m, spec in METRICS.items()}
    return record(uid, {m: value(m, kinds[m], F(v) if kinds[m] in ("percent", "count") else v)
                        for m, v in values.items()})


def _doc(criteria, rec, engine="durable") -> UnitResultDoc:
    [result] = decide(criteria, [rec], get_evaluator(engine))
    return unit_result(Path("units/u.json"), json.loads(json.dumps(unit_json(criteria, result, engine))))


@pytest.mark.parametrize("engine", ["durable", "reference"])
def test_gaps_never_promise_more_than_a_knock_out_allows_and_say_why(criteria, engine):
    doc = _doc(criteria, _unit("a", on_time_rate=80, late_files=6, head_disciplined=True, on_portal=3,
                               published=3), engine)
    gaps = {g.code: g for g in gap_report(criteria, doc.items).gaps}
    zeroed, capped, required = gaps["1.1.1"], gaps["1.1.2"], gaps["1.1.3"]
    # at its cap already: listed with nothing reachable, and why
    assert (zeroed.points, zeroed.best, zeroed.stake, zeroed.gain) == (0, 0, 0, 0)
    assert DISCIPLINED in zeroed.target and zeroed.target.startswith("Không thể đạt thêm điểm")
    assert DISCIPLINED in zeroed.limit and zeroed.value == "80,00 %"
    # below its cap: the next band is the target, but only the cap is promised
    assert (capped.best, capped.stake, capped.gain) == (F(1, 2), F(1, 2), F(1, 2))
    assert capped.target.startswith("Trên 90% (> 90 %)") and LATE in capped.target and "tối đa 0,5 điểm" in capped.target
    # the band reached names the requirement it also needs
    assert (required.best, required.gain) == (2, 2)
    assert required.target == "Trên 90% (> 90 %), kèm điều kiện: Số hồ sơ trễ hạn = 0"
    report = gap_report(criteria, doc.items)
    assert report.reachable == F(1, 2) + 2 and report.next_gain == F(1, 2) + 2


def test_a_band_reached_without_its_requirement_makes_the_requirement_the_next_step(criteria):
    doc = _doc(criteria, _unit("b", on_time_rate=95, late_files=1, head_disciplined=False, on_portal=3, published=3))
    gaps = {g.code: g for g in gap_report(criteria, doc.items).gaps}
    assert set(gaps) == {"1.1.3"}  # 1.1.1 and 1.1.2 are at their best
    g = gaps["1.1.3"]
    assert (g.points, g.best, g.gain, g.value) == (1, 2, 1, "95,00 %")  # the value is still read from the result
    assert g.target == "Mức «Trên 90%», kèm điều kiện: Số hồ sơ trễ hạn = 0" and g.limit == ""


def test_midyear_caps_the_reachable_points_names_the_knock_out_and_the_requirement(criteria):
    elapsed = elapsed_from(None, "6/12")
    unit = check_unit(criteria, _unit("a", on_time_rate=95, late_files=2, head_disciplined=True), elapsed)
    checks = {c.code: c for c in unit.checks}
    zeroed, capped, required = checks["1.1.1"], checks["1.1.2"], checks["1.1.3"]
    assert (zeroed.best_points, zeroed.projected_points, zeroed.status) == (0, 0, "at_risk")
    assert DISCIPLINED in zeroed.limit and zeroed.condition == DISCIPLINED
    # 2 late files in half a year: 4 at this pace, below the knock-out's 5: nothing caps it yet
    assert (capped.best_points, capped.projected_points, capped.status, capped.limit) == (2, 2, "on_track", "")
    # the top band needs no late file: the target says so, and the projection misses it
    assert required.target == "> 90 và late_files = 0"
    assert (required.projected_points, required.condition, required.status) == (
        1, "Trên 90% nhưng có hồ sơ trễ hạn", "at_risk")
    paced = check_unit(criteria, _unit("b", on_time_rate=95, late_files=3, head_disciplined=False), elapsed)
    late = {c.code: c for c in paced.checks}["1.1.2"]
    # 6 late files at this pace: the knock-out holds on the projection, not yet on the figures
    assert (late.best_points, late.projected_points, late.condition, late.status) == (2, F(1, 2), LATE, "at_risk")
    missing = check_unit(criteria, _unit("c", on_time_rate=95), elapsed)
    assert all(c.status == "no_data" and "head_disciplined" in c.condition
               for c in missing.checks if c.code == "1.1.1")
    target = midyear_json(criteria, [unit], elapsed)["units"][0]["targets"][0]
    assert (target["best_points"], target["limit"]) == ("0", zeroed.limit)


def test_the_unit_report_shows_consistency_warnings_and_knock_outs_in_words(criteria, monkeypatch):
    monkeypatch.setenv("LANGUAGE", "vi")  # the notes are in the reader's language
    doc = _doc(criteria, _unit("a", on_time_rate=95, late_files=0, head_disciplined=True, on_portal=10,
                               published=12))
    assert doc.data["warnings"]
    ctx = unit_context(criteria, doc)
    assert ctx["warnings"] == doc.data["warnings"]
    row = next(r for r in ctx["rows"] if r.get("code") == "1.1.1")
    assert row["explanation"][0] == (f"Điều kiện loại trừ: {DISCIPLINED}; theo số liệu đạt mức «Trên 90%» = 2 điểm.")
    assert row["result"] == "Kết quả: 95,00 %; Mức: Trên 90%"  # the band the figures reached, not the knock-out
    for kind in ("md", "html"):
        text = produce("unit", kind, ctx, None).decode("utf-8")
        assert "Cảnh báo về tính nhất quán của số liệu" in text and "portal-published" in text
        assert f"Điều kiện loại trừ: {DISCIPLINED}" in text
    from openpyxl import load_workbook
    from io import BytesIO

    sheet = load_workbook(BytesIO(produce("unit", "xlsx", ctx, None))).active
    cells = [c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    assert "Cảnh báo về tính nhất quán của số liệu" in cells and doc.data["warnings"][0] in cells
    clean = unit_context(criteria, _doc(criteria, _unit("b", on_time_rate=95, late_files=0, head_disciplined=False,
                                                        on_portal=12, published=12)))
    assert clean["warnings"] == [] and "Cảnh báo" not in produce("unit", "md", clean, None).decode("utf-8")


def test_a_condition_metric_without_a_value_is_owed_an_explanation(criteria):
    doc = _doc(criteria, _unit("a", on_time_rate=95, on_portal=1, published=1))
    row = next(r for r in unit_context(criteria, doc)["rows"] if r.get("code") == "1.1.1")
    assert row["needs_explanation"] and "«Người đứng đầu bị kỷ luật»" in row["explanation"][0]


def test_round_json_lists_the_units_consistency_warnings(tmp_path, criteria):
    ev = tmp_path / "ev.csv"
    ev.write_text("unit_id,unit_name,unit_type,period,metric,value\n"
                  "u,U,department,2023,on_time_rate,95\nu,U,department,2023,late_files,0\n"
                  "u,U,department,2023,head_disciplined,no\n"
                  "u,U,department,2023,on_portal,10\nu,U,department,2023,published,12\n"
                  "v,V,department,2023,on_time_rate,95\nv,V,department,2023,late_files,0\n"
                  "v,V,department,2023,head_disciplined,no\n"
                  "v,V,department,2023,on_portal,12\nv,V,department,2023,published,12\n", encoding="utf-8")
    result = run_round(criteria, [ev], factory=get_evaluator, engine="durable")
    files = {name: json.loads(data) for name, data in round_files(result).items()}
    broken = files["units/u.json"]["warnings"]
    assert len(broken) == 1 and broken[0].startswith("unit u: consistency rule portal-published")
    assert broken[0] in files["round.json"]["warnings"]
    assert not any(w.startswith("unit v:") for w in files["round.json"]["warnings"])
