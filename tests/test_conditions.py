"""Compound conditions: a band that requires conditions on other metrics, knock-outs and
consistency rules — loaded with located errors, decided by the rule engine's joins and by the
reference evaluator alike, and shown by name in results."""
from __future__ import annotations

import json
from datetime import date
from fractions import Fraction as F

import pytest
import yaml

from builders import criteria_doc, record, value, write_criteria
from engine import decide, load_criteria
from engine.core.errors import CriteriaError, EngineError, EvidenceError
from engine.evaluation.reference import differences
from rules import evaluator as durable
from rules import get_evaluator
from rules.compile import MAX_FACTS_PER_RULE, compile_criteria

ENGINES = ("durable", "reference")
METRICS = {"on_time_rate": {"kind": "percent", "label": "Tỷ lệ hồ sơ đúng hạn"},
           "late_files": {"kind": "count", "label": "Số hồ sơ trễ hạn"},
           "head_disciplined": {"kind": "boolean", "label": "Người đứng đầu bị kỷ luật"},
           "plan_issued": {"kind": "date", "label": "Ngày ban hành kế hoạch", "deadline": date(2023, 1, 31)},
           "on_portal": {"kind": "count", "label": "Số TTHC trên Cổng DVC"},
           "published": {"kind": "count", "label": "Số TTHC đã công bố"}}
ABOVE_90 = {"max": 2, "method": "tiers", "metric": "on_time_rate", "params": {"tiers": [
    {"gt": 90, "points": 2, "label": "Trên 90%"}, {"le": 90, "points": 0, "label": "Từ 90% trở xuống"}]}}
UNLESS_LATE = {**ABOVE_90, "when": [{"band": "Trên 90%", "require": {"metric": "late_files", "eq": 0},
                                     "otherwise": {"points": 1, "label": "Trên 90% nhưng có hồ sơ trễ hạn"}}]}
KNOCK_OUT = [{"when": {"metric": "head_disciplined", "is": "yes"}, "cap": 0,
              "label": "Người đứng đầu bị kỷ luật về CCHC: 0 điểm"}]
PORTAL_RULE = {"id": "portal-published", "label": "TTHC trên Cổng = TTHC đã công bố",
               "require": {"metric": "on_portal", "eq": {"metric": "published"}}}


def _set(tmp_path, subs, consistency=None, name="c.yaml"):
    doc = criteria_doc([[subs]], METRICS)
    if consistency:
        doc["consistency"] = consistency
    return load_criteria(write_criteria(tmp_path / name, doc))


def _unit(uid, **values):
    kinds = {m: spec["kind"] for m, spec in METRICS.items()}
    return record(uid, {m: value(m, kinds[m], F(v) if kinds[m] in ("percent", "count") else v)
                        for m, v in values.items()})


def _both(cs, records):
    main = decide(cs, records, get_evaluator("durable"))
    assert differences(main, decide(cs, records, get_evaluator("reference"))) == []
    return {r.unit_id: r for r in main}


def test_a_band_that_requires_a_second_metric(tmp_path):
    """"Above 90 % unless a file was handled late": 2 points, 1 with late files, 0 at 90 % or below."""
    cs = _set(tmp_path, [UNLESS_LATE])
    got = _both(cs, [_unit("a", on_time_rate=F(9001, 100), late_files=0), _unit("b", on_time_rate=95, late_files=1),
                     _unit("c", on_time_rate=90, late_files=0), _unit("d", on_time_rate=90, late_files=3)])
    assert {u: (r.decisions[0].points, r.decisions[0].condition) for u, r in got.items()} == {
        "a": (2, "Trên 90%"), "b": (1, "Trên 90% nhưng có hồ sơ trễ hạn"),
        "c": (0, "Từ 90% trở xuống"), "d": (0, "Từ 90% trở xuống")}
    assert [i.metric for i in got["b"].decisions[0].inputs] == ["on_time_rate", "late_files"]


def test_all_any_not_nest(tmp_path):
    """"Issued on time and complete, or late with no late files": all / any / not over three metrics."""
    sub = {**ABOVE_90, "when": [{"band": "Trên 90%", "require": {"any": [
        {"all": [{"metric": "plan_issued", "is": "on_time"}, {"not": {"metric": "late_files", "gt": 2}}]},
        {"metric": "head_disciplined", "is": "no"}]}}]}
    cs = _set(tmp_path, [sub])
    on_time, late = date(2023, 1, 31), date(2023, 2, 1)
    got = _both(cs, [
        _unit("a", on_time_rate=95, plan_issued=on_time, late_files=2, head_disciplined=True),
        _unit("b", on_time_rate=95, plan_issued=on_time, late_files=3, head_disciplined=True),
        _unit("c", on_time_rate=95, plan_issued=late, late_files=0, head_disciplined=False),
        _unit("d", on_time_rate=95, plan_issued=late, late_files=0, head_disciplined=True)])
    assert {u: r.decisions[0].points for u, r in got.items()} == {"a": 2, "b": 0, "c": 2, "d": 0}
    assert got["d"].decisions[0].condition.startswith("Trên 90%, nhưng không đạt điều kiện kèm theo")
    assert "2023-02-01 (late)" in [i.value for i in got["d"].decisions[0].inputs]


def test_a_knock_out_is_a_named_outcome_not_a_quiet_zero(tmp_path):
    cs = _set(tmp_path, [{**ABOVE_90, "knock_out": KNOCK_OUT}])
    got = _both(cs, [_unit("a", on_time_rate=95, head_disciplined=True),
                     _unit("b", on_time_rate=95, head_disciplined=False)])
    knocked = got["a"].decisions[0]
    assert (knocked.status, knocked.points, knocked.condition) == (
        "scored", 0, "Người đứng đầu bị kỷ luật về CCHC: 0 điểm")
    assert knocked.notes[0] == "knocked_out" and dict(knocked.note_values) == {
        "labels": "Người đứng đầu bị kỷ luật về CCHC: 0 điểm", "band": "Trên 90%", "points": "2"}
    assert got["b"].decisions[0].points == 2 and got["b"].decisions[0].condition == "Trên 90%"


def test_a_knock_out_caps_rather_than_zeroes(tmp_path):
    cap = [{"when": {"metric": "late_files", "ge": 5}, "cap": F(1, 2), "label": "Từ 5 hồ sơ trễ: tối đa 0,5"}]
    cs = _set(tmp_path, [{**ABOVE_90, "knock_out": cap}])
    got = _both(cs, [_unit("a", on_time_rate=95, late_files=5), _unit("b", on_time_rate=80, late_files=7),
                     _unit("c", on_time_rate=95, late_files=4)])
    assert {u: r.decisions[0].points for u, r in got.items()} == {"a": F(1, 2), "b": 0, "c": 2}


@pytest.mark.parametrize("absent, note", [
    ("late_files", (("condition_metric_missing",), (("metric", "late_files"),))),
    ("on_time_rate", (("missing_evidence",), ()))])
def test_missing_evidence_for_a_condition_names_the_metric(tmp_path, absent, note):
    cs = _set(tmp_path, [{**UNLESS_LATE, "knock_out": KNOCK_OUT}])
    values = {"on_time_rate": 95, "late_files": 0, "head_disciplined": False}
    del values[absent]
    [r] = _both(cs, [_unit("a", **values)]).values()
    d = r.decisions[0]
    assert (d.status, d.points, (d.notes, d.note_values)) == ("missing_evidence", 0, note)


def test_consistency_warning_reaches_results_and_error_refuses_with_locations(tmp_path):
    cs = _set(tmp_path, [ABOVE_90], [PORTAL_RULE])
    got = _both(cs, [_unit("a", on_time_rate=95, on_portal=10, published=12), _unit("b", on_time_rate=95, on_portal=12,
                                                                                    published=12),
                     _unit("c", on_time_rate=95, on_portal=12)])
    assert got["a"].warnings == ("unit a: consistency rule portal-published (TTHC trên Cổng = TTHC đã công bố) "
                                 "does not hold: on_portal = published; on_portal = 10 (generated:on_portal), "
                                 "published = 12 (generated:published)",)
    assert got["b"].warnings == ()
    assert got["c"].warnings[0].endswith("is not checked: no value for published")
    from engine.storage.results import result_files
    files = result_files(cs, list(got.values()), "durable", [])
    assert json.loads(files["units/a.json"])["warnings"] == list(got["a"].warnings)
    assert "warnings" not in json.loads(files["units/b.json"])
    assert json.loads(files["summary.json"])["warnings"] == [*got["a"].warnings, *got["c"].warnings]

    strict = _set(tmp_path, [ABOVE_90], [{**PORTAL_RULE, "severity": "error"}], "strict.yaml")
    for engine in ENGINES:
        with pytest.raises(EvidenceError) as caught:
            decide(strict, [_unit("a", on_time_rate=95, on_portal=10, published=12)], get_evaluator(engine))
        assert str(caught.value).startswith("generated:on_portal: unit a: consistency rule portal-published")


def test_a_consistency_error_exits_2_naming_the_evidence_line(tmp_path, cchc):
    doc = criteria_doc([[[ABOVE_90]]], METRICS)
    doc["consistency"] = [{**PORTAL_RULE, "severity": "error"}]
    crit = write_criteria(tmp_path / "c.yaml", doc)
    ev = tmp_path / "ev.csv"
    ev.write_text("unit_id,unit_name,unit_type,period,metric,value\n"
                  "u,U,department,2023,on_time_rate,95\nu,U,department,2023,on_portal,10\n"
                  "u,U,department,2023,published,12\n", encoding="utf-8")
    for engine in ENGINES:
        result = cchc("score", crit, ev, "--out", tmp_path / engine, "--engine", engine)
        assert result.exit_code == 2, result.stderr
        assert f"{ev}:3" in result.stderr and "portal-published" in result.stderr
        assert "Traceback" not in result.stderr and not (tmp_path / engine).exists()


def test_unknown_metrics_and_bands_are_refused_at_load_with_line_and_suggestion(tmp_path):
    sub = {**ABOVE_90, "when": [{"band": "Tren 90%", "require": {"metric": "late_file", "eq": 0}}],
           "knock_out": [{"when": {"metric": "head_disciplined", "is": "maybe"}, "label": "x"}]}
    doc = criteria_doc([[[sub]]], METRICS)
    doc["consistency"] = [{"id": "k", "require": {"metric": "on_portal", "eq": {"metric": "publish"}}}]
    path = tmp_path / "c.yaml"  # block style, one key a line, so that lines can be checked
    plain = json.loads(json.dumps(doc, default=lambda x: int(x) if isinstance(x, F) else x.isoformat()))
    plain["metrics"]["plan_issued"]["deadline"] = date(2023, 1, 31)
    path.write_text(yaml.safe_dump(plain, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(CriteriaError) as caught:
        load_criteria(path)
    text = str(caught.value)
    lines = path.read_text(encoding="utf-8").splitlines()
    for needle, where in [("no band 'Tren 90%'", "band: Tren 90%"), ("'late_file'", "metric: late_file"),
                          ("'maybe'", "is: maybe"), ("'publish'", "metric: publish")]:
        [problem] = [p for p in caught.value.problems if needle in p.message]
        assert where in lines[problem.line - 1], (needle, problem)
    assert "'Trên 90%'" in text and "'late_files'" in text and "'published'" in text  # did you mean
    assert "yes, no" in text


@pytest.mark.parametrize("condition, message", [
    ({"metric": "on_time_rate", "is": "yes"}, "exactly one of: gt, ge, lt, le, eq, ne"),
    ({"metric": "on_time_rate", "ge": 1, "lt": 2}, "exactly one of"),
    ({"metric": "on_time_rate", "eq": {"metric": "late_files"}}, "only when both are counts"),
    ({"metric": "late_files", "eq": {"metric": "late_files"}}, "compared with itself"),
    ({"all": []}, "non-empty list"),
    ({"not": {"metric": "late_files", "gt": 0}, "all": []}, "stands alone"),
    ({"metric": "late_files", "gt": 0.5}, None),
    ({"metric": "late_files", "gt": "x"}, "expected an exact number"),
])
def test_malformed_conditions_are_refused(tmp_path, condition, message):
    doc = criteria_doc([[[{**ABOVE_90, "knock_out": [{"when": condition, "label": "k"}]}]]], METRICS)
    if message is None:
        load_criteria(write_criteria(tmp_path / "c.yaml", doc))
        return
    with pytest.raises(CriteriaError, match=message):
        load_criteria(write_criteria(tmp_path / "c.yaml", doc))


def test_the_rule_engine_joins_the_units_facts(tmp_path):
    """The compound decision is made by durable_rules rules over several facts of one question,
    not by Python after the engine."""
    cs = _set(tmp_path, [UNLESS_LATE], [PORTAL_RULE])
    rules = {name: r for rs in compile_criteria(cs).rulesets.values() for name, r in rs.items()}
    band = [r for name, r in rules.items() if name.startswith("x:1.1.1#b:t1~")]
    assert band and all(len(r["all"]) == 2 and {"q": {"p0": "q"}} in r["all"][1]["p1"]["$and"] for r in band)
    portal = [r for name, r in rules.items() if name.startswith("x:k:portal-published#v~")]
    assert portal and {"$neq": {"vf": {"p0": "vf"}}} in portal[0]["all"][1]["p1"]["$and"]


def test_each_distinct_question_is_asked_once(tmp_path):
    cs = _set(tmp_path, [UNLESS_LATE])
    ev = durable.DurableEvaluator()
    units = [_unit(f"u{i}", on_time_rate=95, late_files=i % 2) for i in range(10)]
    units += [_unit(f"v{i}", on_time_rate=95, late_files=1, head_disciplined=bool(i % 2)) for i in range(4)]
    decide(cs, units, ev)
    assert (ev.asked, ev.distinct) == (14, 2)  # (95 %, 0 late) and (95 %, 1 late); other metrics are not read


def test_counts_beyond_2_to_the_53_compared_with_each_other_are_refused_by_the_engine(tmp_path):
    cs = _set(tmp_path, [ABOVE_90], [PORTAL_RULE])
    units = [_unit("a", on_time_rate=95, on_portal=2 ** 53 + 1, published=2 ** 53)]
    with pytest.raises(EngineError, match="cannot be compared exactly with another metric.*use --engine reference"):
        decide(cs, units, get_evaluator("durable"))
    assert decide(cs, units, get_evaluator("reference"))[0].warnings[0].startswith("unit a: consistency rule")


def test_a_condition_joining_more_facts_than_a_rule_holds_is_refused(tmp_path):
    metrics = {**METRICS, **{f"c{i}": {"kind": "count", "label": f"c{i}"} for i in range(MAX_FACTS_PER_RULE)}}
    sub = {**ABOVE_90, "when": [{"band": "Trên 90%", "require": {
        "all": [{"metric": f"c{i}", "ge": 1} for i in range(MAX_FACTS_PER_RULE)]}}]}
    cs = load_criteria(write_criteria(tmp_path / "c.yaml", criteria_doc([[[sub]]], metrics)))
    units = [record("a", {"on_time_rate": value("on_time_rate", "percent", F(95)),
                          **{f"c{i}": value(f"c{i}", "count", F(1)) for i in range(MAX_FACTS_PER_RULE)}})]
    with pytest.raises(EngineError, match=f"joins more than {MAX_FACTS_PER_RULE} metrics"):
        decide(cs, units, get_evaluator("durable"))
    assert decide(cs, units, get_evaluator("reference"))[0].decisions[0].points == 2


def test_fifteen_joined_metrics_still_work_in_the_engine(tmp_path):
    n = MAX_FACTS_PER_RULE - 1  # with the item's own fact: the most one rule joins
    metrics = {**METRICS, **{f"c{i}": {"kind": "count", "label": f"c{i}"} for i in range(n)}}
    sub = {**ABOVE_90, "when": [{"band": "Trên 90%", "require": {"all": [{"metric": f"c{i}", "ge": 1} for i in range(n)]}}]}
    cs = load_criteria(write_criteria(tmp_path / "c.yaml", criteria_doc([[[sub]]], metrics)))
    full = {"on_time_rate": value("on_time_rate", "percent", F(95)), **{f"c{i}": value(f"c{i}", "count", F(1))
                                                                         for i in range(n)}}
    one_short = {**full, "c7": value("c7", "count", F(0))}
    got = _both(cs, [record("a", full), record("b", one_short)])
    assert (got["a"].decisions[0].points, got["b"].decisions[0].points) == (2, 0)


def test_an_appraiser_may_give_what_a_condition_gives(tmp_path):
    """`otherwise` points and knock-out caps are values of the item, as its bands' points are."""
    from engine.evaluation.appraisal import allowed_problem, allowed_values

    cap = [{"when": {"metric": "late_files", "ge": 5}, "cap": F(1, 2), "label": "tối đa 0,5"}]
    [sub] = _set(tmp_path, [{**UNLESS_LATE, "knock_out": cap}]).sub_criteria()
    assert allowed_values(sub) == (2, 1, F(1, 2), 0)
    assert allowed_problem(sub, F(1, 2)) is None and allowed_problem(sub, F(3, 2)) is not None
