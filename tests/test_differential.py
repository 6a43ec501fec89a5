"""Differential test: the durable_rules evaluator and the plain-Python reference evaluator give the
same decisions and totals on random criteria sets (every method, exact decimal bounds, bands in
any order, items for some unit types only) and random evidence that sits on the bounds."""
from __future__ import annotations

import resource

import pytest
from hypothesis import HealthCheck, given, settings

from builders import write_criteria
from engine import decide, load_criteria
from engine.evaluate import plan
from engine.reference import ReferenceEvaluator
from rules import get_evaluator
from rules import evaluator as durable
from strategies import scenarios

EXAMPLES = int(__import__("os").environ.get("CCHC_DIFF_EXAMPLES", 1000))
RAN = {"examples": 0, "decisions": 0, "on_a_bound": 0}
DURABLE, REFERENCE = get_evaluator("durable"), ReferenceEvaluator()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("differential")


def _on_a_bound(criteria, records) -> int:
    """How many cases put a number exactly on one of its item's bounds."""
    bounds = {s.code: {x for b in s.branches for x in (getattr(b.condition, "lo", None), getattr(b.condition, "hi", None))
                       if x is not None} for s in criteria.sub_criteria()}
    cases, _ = plan(criteria, records)
    return sum(1 for c in cases if c.quantity is not None and c.quantity in bounds[c.code])


@settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None, print_blob=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(scenario=scenarios())
def test_durable_and_reference_agree(workdir, scenario):
    doc, records = scenario
    criteria = load_criteria(write_criteria(workdir / "criteria.yaml", doc))
    by_durable = decide(criteria, records, DURABLE)
    by_reference = decide(criteria, records, REFERENCE)
    assert [d for r in by_durable for d in r.decisions] == [d for r in by_reference for d in r.decisions]
    assert [(r.total, r.areas, r.criteria) for r in by_durable] == [(r.total, r.areas, r.criteria) for r in by_reference]
    assert by_durable == by_reference
    n_items = len(criteria.sub_criteria())
    assert all(len(r.decisions) == n_items for r in by_durable)
    RAN["examples"] += 1
    RAN["decisions"] += len(records) * n_items
    RAN["on_a_bound"] += _on_a_bound(criteria, records)


def test_enough_cases_ran():
    """Reported with -s: how much the differential test covered, and what it cost."""
    if RAN["examples"] == 0:
        pytest.skip("the differential test did not run in this session")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"\ndifferential: {RAN['examples']} criteria sets, {RAN['decisions']} decisions, "
          f"{RAN['on_a_bound']} values exactly on a bound, {len(durable._REGISTERED)} rulesets registered, "
          f"peak RSS {rss} MB")
    assert RAN["examples"] >= EXAMPLES
    assert rss < 2048  # MB: a ruleset per distinct random set stays registered for the whole process
    assert RAN["on_a_bound"] >= EXAMPLES  # on average at least one value per set sits on a bound
