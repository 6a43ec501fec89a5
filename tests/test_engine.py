"""The engine end to end: the sample data worked out by hand, the completeness proof, the result
JSON and its schema, exact numbers, and every durable_rules trap of DURABLE-RULES.md with its guard."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from fractions import Fraction as F
from pathlib import Path

import jsonschema
import pytest

from builders import criteria_doc, one_item, record, value, write_criteria
from engine import decide, load_criteria, load_evidence
from engine.core.errors import EngineError, IncompleteEvaluationError
from engine.evaluation.evaluate import plan, prove_complete
from engine.core.model import MISSING, Case, Verdict
from engine.core.numbers import display, exact_text, round_half_up, to_fraction
from engine.evaluation.reference import ReferenceEvaluator
from engine.storage.results import encode, result_files, summary_json, unit_json
from engine.inputs.schema import load_schema
from rules import get_evaluator
from rules import evaluator as durable
from rules.compile import MAX_RULES_PER_RULESET, compile_criteria

ENGINES = ["durable", "reference"]


@pytest.fixture(scope="module")
def sample(sample_criteria_path, data_dir):
    criteria = load_criteria(sample_criteria_path)
    return criteria, load_evidence([data_dir / "evidence"], criteria)


# ---------------------------------------------------------------- the sample data, by hand

# Sở Nội vụ (department), tests/data/evidence/so-noi-vu.yaml:
#   1.1.1 issued 2023-01-20, deadline 2023-01-31 → on time → 1
#   1.1.2 3 tasks, 2 completed → 66.67 % < 80 → 0
#   1.1.3 late → 0.5
#   1.2.1 inspected → 1;  1.2.2 1 − 2 × 0.25 = 0.5;  1.2.3 5 × 0.5 = 2.5, capped → 1;  1.2.4 manual 0.75
#   2.1.1 93.54 % ∈ (90, 98) → 2;  2.1.2 3 × (677/2203 × 100) ÷ 50 = 4062/2203
#   3.1.1 (60·100 + 30·60 + 10·20) ÷ 100 = 80 % → 4 × 0.8 = 3.2;  3.1.2 2 × 85.5 % = 1.71
#   total 4.75 + (2 + 4062/2203) + 4.91 = 1487449/110150 of 20 → index 1487449/22030 (67.52 %)
SO_NOI_VU = {"1.1.1": "1", "1.1.2": "0", "1.1.3": "0.5", "1.2.1": "1", "1.2.2": "0.5", "1.2.3": "1",
             "1.2.4": "0.75", "2.1.1": "2", "2.1.2": "4062/2203", "3.1.1": "3.2", "3.1.2": "1.71"}
# UBND xã An Bình (commune), tests/data/evidence/communes.csv:
#   1.1.1 issued 2023-02-10 → late → 0.5;  1.1.2 no task list → 0 (missing evidence);  1.1.3 → 1
#   1.2.1 "không" → 0;  1.2.2 no late report → 1;  1.2.3 1 × 0.5 = 0.5;  1.2.4 departments only → n/a
#   2.1.1 "98,0" → ≥ 98 → 3;  2.1.2 declared not applicable
#   3.1.1 (10·100 + 10·60) ÷ 20 = 80 % → 3.2;  3.1.2 2 × 70 % = 1.4
#   total 10.6 of 20 − 1 − 3 = 16 → 66.25 %
XA_AN_BINH = {"1.1.1": "0.5", "1.1.2": "0", "1.1.3": "1", "1.2.1": "0", "1.2.2": "1", "1.2.3": "0.5",
              "1.2.4": "0", "2.1.1": "3", "2.1.2": "0", "3.1.1": "3.2", "3.1.2": "1.4"}


@pytest.mark.parametrize("engine", ENGINES)
def test_sample_units_worked_out_by_hand(sample, engine):
    criteria, evidence = sample
    so, xa = decide(criteria, evidence.records, get_evaluator(engine))
    assert {d.code: exact_text(d.points) for d in so.decisions} == SO_NOI_VU
    assert {d.code: exact_text(d.points) for d in xa.decisions} == XA_AN_BINH
    assert (so.total.points, so.total.max, so.total.index) == (F(1487449, 110150), 20, F(1487449, 22030))
    assert (xa.total.points, xa.total.max, xa.total.index) == (F("10.6"), 16, F("66.25"))
    assert {d.code: d.status for d in xa.decisions if d.status != "scored"} == {
        "1.1.2": "missing_evidence", "1.2.4": "not_applicable", "2.1.2": "not_applicable"}
    assert [(d.notes, d.reason) for d in xa.decisions if d.code in ("1.2.4", "2.1.2")] == [
        (("not_for_unit_type",), ""), ((), "Xã chưa triển khai dịch vụ công trực tuyến")]


def test_decisions_carry_their_evidence_and_the_criteria_words(sample):
    criteria, evidence = sample
    so = decide(criteria, evidence.records, ReferenceEvaluator())[0]
    d = {x.code: x for x in so.decisions}
    assert d["2.1.1"].condition == "Trên 90% đến dưới 98%"
    [inp] = d["2.1.1"].inputs
    assert (inp.metric, inp.value, inp.citation.document) == ("on_time_rate", "93.54", "101/BC-SNV")
    assert str(inp.location).endswith("so-noi-vu.yaml:13:17")
    assert d["2.1.2"].inputs[0].value == "677/2203"
    assert d["1.1.2"].inputs[0].value == "completion_rate = 200/3 % (3 tasks)"
    assert d["1.2.2"].notes == ("no_citation",)  # no citation given
    assert d["3.1.1"].inputs[0].value == "A: 60, B: 30, C: 10, D: 0, E: 0 → 80 %"


def test_consistency_warnings_name_both_places(sample):
    _, evidence = sample
    [w] = evidence.warnings
    assert w.severity == "warning"
    assert "procedures_total is 2033 but its parts add up to 2025" in w.message
    assert "so-noi-vu.yaml:34:18" in w.message and "so-noi-vu.yaml:35:18" in w.message


# ---------------------------------------------------------------- the completeness proof

class Dropping(durable.DurableEvaluator):
    """Loses the verdict of one case, as an engine that drops a batch would."""

    def verdicts(self, criteria, cases):
        return super().verdicts(criteria, cases)[:-1]


class Doubling(durable.DurableEvaluator):
    def verdicts(self, criteria, cases):
        out = super().verdicts(criteria, cases)
        return out + out[:1]


class Straying(durable.DurableEvaluator):
    """Answers one case that was never asked (another unit) instead of a real one."""

    def verdicts(self, criteria, cases):
        out = super().verdicts(criteria, cases)
        return out[:-1] + [replace(out[-1], unit_id="not-a-unit")]


def test_a_dropped_verdict_is_caught(sample):
    criteria, evidence = sample
    with pytest.raises(IncompleteEvaluationError) as exc:
        decide(criteria, evidence.records, Dropping())
    assert exc.value.missing == [("xa-an-binh", "3.1.2")] and exc.value.duplicated == []
    assert "no decision for unit xa-an-binh, item 3.1.2" in str(exc.value)


def test_a_duplicated_verdict_is_caught(sample):
    criteria, evidence = sample
    with pytest.raises(IncompleteEvaluationError) as exc:
        decide(criteria, evidence.records, Doubling())
    assert exc.value.duplicated == [("so-noi-vu", "1.1.1")] and exc.value.missing == []


def test_a_verdict_for_a_case_never_asked_is_caught(sample):
    criteria, evidence = sample
    with pytest.raises(IncompleteEvaluationError) as exc:
        decide(criteria, evidence.records, Straying())
    assert exc.value.missing == [("xa-an-binh", "3.1.2")]
    assert exc.value.duplicated == [("not-a-unit", "3.1.2")]


def test_every_applicable_pair_gets_exactly_one_case(sample):
    criteria, evidence = sample
    cases, not_applicable = plan(criteria, evidence.records)
    pairs = [(c.unit_id, c.code) for c in cases] + [(d.unit_id, d.code) for d in not_applicable]
    assert sorted(pairs) == sorted((r.unit_id, s.code) for r in evidence.records for s in criteria.sub_criteria())
    prove_complete(cases, durable.DurableEvaluator().verdicts(criteria, cases))  # does not raise


def test_the_proof_reports_many_problems_briefly():
    cases = [Case(f"u{i}", "1.1.1", F(1)) for i in range(200)]
    with pytest.raises(IncompleteEvaluationError) as exc:
        prove_complete(cases, [])
    assert len(exc.value.missing) == 200
    assert str(exc.value).endswith("... and 150 more")


def test_an_unknown_branch_from_an_evaluator_is_an_engine_error(sample):
    criteria, evidence = sample

    class Inventing(durable.DurableEvaluator):
        def verdicts(self, criteria, cases):
            out = super().verdicts(criteria, cases)
            return [replace(v, branch="t9") if v.branch == "t1" else v for v in out]

    with pytest.raises(EngineError, match="unknown branch 't9'"):
        decide(criteria, evidence.records, Inventing())


# ---------------------------------------------------------------- durable_rules traps and guards

def _tiers_set(n_items: int, set_id: str) -> dict:
    """n items; item i (from 0) gives 1 point from a rate ≥ i mod 100, else 0."""
    subs = [{"max": 1, "method": "tiers", "metric": "rate", "params": {"tiers": [
        {"lt": i % 100, "points": 0}, {"ge": i % 100, "points": 1}]}} for i in range(n_items)]
    return criteria_doc([[subs]], {"rate": {"kind": "percent", "label": "Tỷ lệ"}}, set_id=set_id)


def test_a_set_needing_more_than_511_rules_is_split_and_scores_right(tmp_path):
    cs = load_criteria(write_criteria(tmp_path / "big.yaml", _tiers_set(200, "big")))
    compiled = compile_criteria(cs)
    sizes = sorted(len(r) for r in compiled.rulesets.values())
    assert sum(sizes) == 200 * 3  # two bands and a missing-evidence rule per item
    assert len(sizes) == 2 and max(sizes) <= MAX_RULES_PER_RULESET < 512
    records = [record("u50", {"rate": value("rate", "percent", F(50))}), record("u0", {"rate": value("rate", "percent", F(0))}),
               record("u100", {"rate": value("rate", "percent", F(100))})]
    results = {r.unit_id: r for r in decide(cs, records, get_evaluator("durable"))}
    # item i scores when its threshold i mod 100 ≤ the rate: at 50 that is 51 of every 100 items
    assert results["u50"].total.points == 102
    assert results["u0"].total.points == 2
    assert results["u100"].total.points == 200
    assert results == {r.unit_id: r for r in decide(cs, records, ReferenceEvaluator())}


def test_the_same_set_loaded_twice_is_registered_once(tmp_path, monkeypatch, sample_criteria_path):
    first = load_criteria(sample_criteria_path)
    copy = tmp_path / "elsewhere.yaml"
    shutil.copy(sample_criteria_path, copy)
    second = load_criteria(copy)
    assert first.content_hash == second.content_hash
    ev = durable.DurableEvaluator()
    rec = [record("u", {"awards": value("awards", "count", F(1))})]
    decide(first, rec, ev)
    calls = []
    real = durable.host().set_rulesets
    monkeypatch.setattr(durable.host(), "set_rulesets", lambda d: calls.append(list(d)) or real(d))
    registered = set(durable._REGISTERED)
    decide(second, rec, ev)
    decide(second, rec, get_evaluator("durable"))
    assert calls == [] and durable._REGISTERED == registered


@pytest.mark.parametrize("given, expected", [
    (2 ** 53 - 2, 0), (2 ** 53 - 1, 1), (2 ** 53, 1), (2 ** 53 + 1, 1), (10 ** 30, 1), (10 ** 99, 1)])
def test_values_beyond_2_to_the_53_compare_exactly(tmp_path, given, expected):
    """A bound just below 2^53 and values around and far beyond it: the fact saturates at 2^53,
    which is still above every bound the engine is given."""
    doc = one_item({"max": 1, "method": "tiers", "params": {"tiers": [
        {"lt": 2 ** 53 - 1, "points": 0}, {"ge": 2 ** 53 - 1, "points": 1}]}}, {"kind": "count", "label": "Số"})
    cs = load_criteria(write_criteria(tmp_path / "c.yaml", doc))
    recs = [record("u", {"m": value("m", "count", F(given))})]
    for engine in ENGINES:
        [r] = decide(cs, recs, get_evaluator(engine))
        assert r.total.points == expected, engine


def test_a_bound_the_engine_cannot_compare_exactly_is_refused_clearly(tmp_path, cchc):
    doc = one_item({"max": 1, "method": "tiers", "params": {"tiers": [
        {"lt": 2 ** 60, "points": 0}, {"ge": 2 ** 60, "points": 1}]}}, {"kind": "count", "label": "Số"})
    crit = write_criteria(tmp_path / "c.yaml", doc)
    cs = load_criteria(crit)
    recs = [record("u", {"m": value("m", "count", F(2 ** 60))})]
    with pytest.raises(EngineError, match=r"item 1\.1\.1: bound 1152921504606846976 .* use --engine reference"):
        decide(cs, recs, get_evaluator("durable"))
    assert decide(cs, recs, ReferenceEvaluator())[0].total.points == 1
    ev = tmp_path / "ev.csv"
    ev.write_text("unit_id,unit_name,unit_type,period,metric,value\nu,U,department,2023,m,5\n", encoding="utf-8")
    result = cchc("score", crit, ev, "--out", tmp_path / "out")
    assert result.exit_code == 3
    assert result.stderr.startswith("error: item 1.1.1: bound") and "Traceback" not in result.stderr
    assert cchc("score", crit, ev, "--out", tmp_path / "out", "--engine", "reference").exit_code == 0


def test_the_engine_really_compares_binary_floats():
    """The trap itself: durable_rules says 0.1 + 0.2 ≤ 0.3 is false, and `'10' == 10`. Facts are
    therefore integers (scaled) and categories prefixed strings."""
    fired = []

    class Host(durable._Host):
        def get_action(self, name):
            return lambda c: fired.append(name)

    h = Host()
    h.set_rulesets({"float_trap": {
        "le": {"all": [{"m": {"$and": [{"k": "f"}, {"$lte": {"x": 0.3}}]}}], "run": "le"},
        "eq": {"all": [{"m": {"$and": [{"k": "s"}, {"x": 10}]}}], "run": "eq"}}})
    try:
        h.assert_fact("float_trap", {"id": 1, "k": "f", "x": 0.1 + 0.2})
    except Exception:  # MessageNotHandledException: no rule matched
        pass
    h.assert_fact("float_trap", {"id": 2, "k": "s", "x": "10"})
    assert fired == ["eq"]


@pytest.mark.parametrize("num, den, bound, expected", [
    (57, 100, "57", 1), (56, 100, "57", 0), (3, 1000, "0.3", 1), (2999, 1000000, "0.3", 0),
    (1, 3, "33.33", 1), (1, 3, "33.34", 0), (2, 3, "66.67", 0), (1, 7, "14.285714", 1),
])
def test_ratios_on_a_bound_are_exact(tmp_path, num, den, bound, expected):
    """57 of 100 is exactly 57 %; 3 of 1000 is exactly 0.3 %; a third never rounds up to 33.34 %."""
    doc = one_item({"max": 1, "method": "tiers", "params": {"tiers": [
        {"ge": bound, "points": 1}, {"lt": bound, "points": 0}]}}, {"kind": "percent", "label": "Tỷ lệ"})
    cs = load_criteria(write_criteria(tmp_path / "c.yaml", doc))
    recs = [record("u", {"m": value("m", "percent", F(100 * num, den), numerator=num, denominator=den)})]
    for engine in ENGINES:
        assert decide(cs, recs, get_evaluator(engine))[0].total.points == expected, engine


def test_decimals_are_exact_not_binary():
    assert to_fraction("0.1") + to_fraction("0.2") == to_fraction("0.3")
    f = durable.fact(Case("u", "1.1.1", to_fraction("0.1") + to_fraction("0.2")), 10, "s")
    assert (f["vf"], f["vc"]) == (3, 3)
    f = durable.fact(Case("u", "1.1.1", F(1, 3)), 100, "s")
    assert (f["vf"], f["vc"]) == (33, 34)
    with pytest.raises(TypeError):
        to_fraction(0.1)  # a binary float is never accepted as a number


def test_a_value_no_band_holds_is_reported_not_scored_zero(tmp_path):
    """durable_rules raises MessageNotHandledException for a fact no rule matches; the evaluator
    turns it into 'no band', like the reference evaluator does."""
    doc = one_item({"max": 1, "method": "tiers", "params": {"tiers": [{"le": 100, "points": 1}]}},
                   {"kind": "percent", "label": "Tỷ lệ"})
    cs = load_criteria(write_criteria(tmp_path / "c.yaml", doc))
    cases = [Case("u", "1.1.1", F(150)), Case("v", "1.1.1", F(100)), Case("w", "1.1.1", None)]
    expected = [Verdict("u", "1.1.1", None), Verdict("v", "1.1.1", "t1"), Verdict("w", "1.1.1", MISSING)]
    assert durable.DurableEvaluator().verdicts(cs, cases) == expected
    records = [record("u", {"m": value("m", "percent", F(150))}), record("v", {"m": value("m", "percent", F(100))}),
               record("w", {})]
    by_reference = ReferenceEvaluator().decide(cs, records)
    assert [r.decisions[0].status for r in by_reference] == ["no_matching_band", "scored", "missing_evidence"]


def test_an_exception_inside_an_action_is_not_swallowed(tmp_path, monkeypatch):
    def broken(self, name):
        def action(c):
            raise RuntimeError("boom")
        return action

    # a bound no other test uses, so that its ruleset is registered here, while actions are broken
    doc = one_item({"max": 1, "method": "tiers", "params": {"tiers": [
        {"lt": "31.4159", "points": 0}, {"ge": "31.4159", "points": 1}]}}, {"kind": "percent", "label": "Tỷ lệ"})
    cs = load_criteria(write_criteria(tmp_path / "c.yaml", doc))
    monkeypatch.setattr(durable._Host, "get_action", broken)
    compiled = compile_criteria(cs)
    assert not set(compiled.rulesets) & durable._REGISTERED
    with pytest.raises(EngineError, match="boom"):
        decide(cs, [record("u", {"m": value("m", "percent", F(50))})], durable.DurableEvaluator())


NO_BAND_FIRST = """
from fractions import Fraction
from pathlib import Path
from builders import one_item, write_criteria
from engine import load_criteria
from engine.core.model import Case
from rules.evaluator import DurableEvaluator
doc = one_item({"max": 1, "method": "tiers", "params": {"tiers": [{"le": 100, "points": 1}]}},
               {"kind": "percent", "label": "Tỷ lệ"})
cs = load_criteria(write_criteria(Path("c.yaml"), doc))
ev = DurableEvaluator()
print(ev.verdicts(cs, [Case("u", "1.1.1", Fraction(150))]))
print(ev.verdicts(cs, [Case("v", "1.1.1", Fraction(150)), Case("w", "1.1.1", None)]))
"""


def test_a_unit_whose_only_value_fits_no_band_does_not_crash_the_process(tmp_path):
    """durable_rules 2.0.28 dies (segmentation fault) when a state whose facts all went unhandled
    is deleted, unless some earlier state was deleted before — so this runs in a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
    run = subprocess.run([sys.executable, "-c", NO_BAND_FIRST], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        "[Verdict(unit_id='u', code='1.1.1', branch=None)]",
        "[Verdict(unit_id='v', code='1.1.1', branch=None), Verdict(unit_id='w', code='1.1.1', branch='missing')]"]


def test_scoring_the_same_units_twice_in_one_process(sample):
    """Fact ids carry a run id: asserting the same unit and item again is not 'already observed'."""
    criteria, evidence = sample
    ev = get_evaluator("durable")
    assert decide(criteria, evidence.records, ev) == decide(criteria, evidence.records, ev)


# ---------------------------------------------------------------- the result JSON

@pytest.fixture(scope="module")
def result_schema():
    schema = load_schema("result.schema.json")
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def test_results_match_their_schema(sample, result_schema):
    criteria, evidence = sample
    for engine in ENGINES:
        results = decide(criteria, evidence.records, get_evaluator(engine))
        files = result_files(criteria, results, engine, [str(w) for w in evidence.warnings])
        assert sorted(files) == ["summary.json", "units/so-noi-vu.json", "units/xa-an-binh.json"]
        for data in files.values():
            result_schema.validate(json.loads(data))


def test_the_schema_rejects_floats_and_non_canonical_numbers(sample, result_schema):
    criteria, evidence = sample
    doc = unit_json(criteria, decide(criteria, evidence.records, ReferenceEvaluator())[0], "reference")
    result_schema.validate(doc)
    for bad in (13.5, "13.50", "1/1", "-1", " 2", "1e3", "0.5/3"):
        broken = json.loads(json.dumps(doc))
        broken["total"]["points"] = bad
        with pytest.raises(jsonschema.ValidationError):
            result_schema.validate(broken)


def test_a_unit_where_nothing_applies_has_no_index(tmp_path, result_schema):
    doc = one_item({"max": 1, "method": "pass_fail", "applies_to": ["department"]}, {"kind": "boolean", "label": "Có"})
    cs = load_criteria(write_criteria(tmp_path / "c.yaml", doc))
    [r] = decide(cs, [record("xa", {}, unit_type="commune")], ReferenceEvaluator())
    data = unit_json(cs, r, "reference")
    assert (data["total"]["max"], data["total"]["index"], data["total"]["index_display"]) == ("0", None, None)
    result_schema.validate(data)
    result_schema.validate(summary_json(cs, [r], "reference", []))


def test_result_files_are_canonical_and_repeatable(sample):
    criteria, evidence = sample
    a = result_files(criteria, decide(criteria, evidence.records, get_evaluator("durable")), "durable", [])
    b = result_files(criteria, decide(criteria, evidence.records, get_evaluator("durable")), "durable", [])
    assert a == b
    for data in a.values():
        assert data.endswith(b"}\n") and b"\\u" not in data  # UTF-8, not escaped
        doc = json.loads(data)
        assert encode(doc) == data == (json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
                                       + "\n").encode("utf-8")  # sorted keys, compact


# ---------------------------------------------------------------- exact numbers

@pytest.mark.parametrize("value, text", [
    (F(0), "0"), (F(10), "10"), (F(3, 2), "1.5"), (F(1, 4), "0.25"), (F(1, 3), "1/3"), (F(4062, 2203), "4062/2203"),
    (F(1, 2 ** 40), "0.0000000000009094947017729282379150390625"),
    (F(123456789012345678901234567890123), "123456789012345678901234567890123"),
    (F(-3, 4), "-0.75"), (F(1, 1000), "0.001"),
])
def test_exact_text(value, text):
    assert exact_text(value) == text
    assert to_fraction(text) == value  # and it reads back as the same number


@pytest.mark.parametrize("value, shown", [
    ("2.675", "2.68"), ("0.125", "0.13"), ("1.005", "1.01"), ("1/3", "0.33"), ("2/3", "0.67"),
    ("99.995", "100.00"), ("1487449/22030", "67.52"), ("0", "0.00"), ("0.004999", "0.00"), ("-0.125", "-0.13"),
])
def test_display_rounds_half_up_exactly(value, shown):
    """Half-up on the exact value (binary floats would show 2.675 as 2.67 and 1.005 as 1.00)."""
    assert display(to_fraction(value)) == shown
    assert display(to_fraction(value), vietnamese=True) == shown.replace(".", ",")


def test_display_to_other_places():
    assert str(round_half_up(F(1, 8), 1)) == "0.1" and str(round_half_up(F(3, 8), 2)) == "0.38"
    assert display(F(2, 3), 0) == "1"


def test_the_rule_engine_is_asked_each_distinct_question_once(tmp_path, monkeypatch):
    """1,000 units share a handful of (item, scaled value) questions: the engine sees each once and
    every unit still gets its own verdict, which the completeness proof checks case by case."""
    doc = one_item({"max": 1, "method": "tiers", "params": {"tiers": [
        {"ge": 50, "points": 1}, {"lt": 50, "points": 0}]}}, {"kind": "percent", "label": "Tỷ lệ"})
    cs = load_criteria(write_criteria(tmp_path / "c.yaml", doc))
    values = [F(30), F(50), F(99, 2), F(97, 2), None]  # 49.5 and 48.5 are different scaled facts
    cases = [Case(f"u{i:04d}", "1.1.1", values[i % len(values)]) for i in range(1000)]
    asked = []
    real = durable.host().assert_fact
    monkeypatch.setattr(durable.host(), "assert_fact", lambda rs, f: asked.append(f) or real(rs, f))
    ev = durable.DurableEvaluator()
    got = ev.verdicts(cs, cases)
    assert (ev.asked, ev.distinct, len(asked)) == (1000, 5, 5)
    expected = {F(30): "t2", F(50): "t1", F(99, 2): "t2", F(97, 2): "t2", None: MISSING}
    assert got == [Verdict(c.unit_id, c.code, expected[c.quantity]) for c in cases]
    prove_complete(cases, got)
    with pytest.raises(IncompleteEvaluationError):
        prove_complete(cases + [Case("extra", "1.1.1", F(30))], got)


@pytest.mark.skipif(not hasattr(__import__("signal"), "pthread_sigmask"), reason="signal masks (POSIX)")
@pytest.mark.parametrize("name", ["SIGINT", "SIGTERM"])
def test_a_ctrl_c_while_the_rule_engine_runs_an_action_interrupts_the_run(sample, monkeypatch, name):
    """durable_rules keeps any exception raised in an action in the state it returns: a Ctrl-C that
    lands there must still end the run as an interruption, not be lost or become an engine failure;
    so must a SIGTERM, which a round started from the command line takes as a Ctrl-C."""
    import signal

    criteria, evidence = sample
    cases, _ = plan(criteria, evidence.records)
    signum = getattr(signal, name)

    class Signalling(list):
        def append(self, item):  # runs inside the engine's action, as a Ctrl-C may
            os.kill(os.getpid(), signum)
            super().append(item)

    def stop(_signum, _frame):
        raise KeyboardInterrupt

    monkeypatch.setattr(durable, "_SINK", Signalling())
    before = signal.signal(signum, stop) if name == "SIGTERM" else None
    try:
        with pytest.raises(KeyboardInterrupt):
            durable.DurableEvaluator().verdicts(criteria, cases)
    finally:
        if before is not None:
            signal.signal(signum, before)
