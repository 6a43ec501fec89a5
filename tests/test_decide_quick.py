"""The quick ways of making records, deciding and encoding give what the general ways give: frozen
records made by `quickly_made` are the dataclass's own, a unit file made from encoded parts
(`unit_file`) is the general encoding of its document, outcomes kept per branch are those worked
out per quantity, and verdicts in any order give the same decisions."""
from __future__ import annotations

import dataclasses
import inspect
import itertools
from dataclasses import replace
from datetime import date
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builders import write_criteria
from engine import decide, load_criteria, load_evidence, methods
from engine.core import memo, model
from engine.core.errors import Location
from engine.evaluation import evaluate
from engine.storage import results
from rules import get_evaluator
from strategies import criteria_sets, scenarios, units

QUICK = (model.Citation, model.Task, model.MetricValue, model.Case, model.Verdict, model.Input, model.Decision,
         model.Rollup, model.UnitResult)
SCENARIOS = settings(max_examples=40, derandomize=True, database=None, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                            HealthCheck.function_scoped_fixture])
_files = itertools.count()


# ---------------------------------------------------------------- frozen records made quickly

def _general(cls):
    """`cls` as the plain frozen dataclass makes it: its own generated `__init__`."""
    return dataclasses.make_dataclass(cls.__name__, [(f.name, f.type, dataclasses.field(
        default=f.default, repr=f.repr, hash=f.hash, compare=f.compare))
                                                     for f in dataclasses.fields(cls)], frozen=True)


anything = st.one_of(st.none(), st.text(max_size=5), st.integers(), st.fractions(max_denominator=50),
                     st.tuples(st.text(max_size=3)), st.booleans())


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(QUICK), st.data())
def test_a_quickly_made_record_is_the_one_the_dataclass_makes(cls, data):
    general = _general(cls)
    assert inspect.signature(cls.__init__) == inspect.signature(general.__init__)
    fields = dataclasses.fields(cls)
    required = [f for f in fields if f.default is dataclasses.MISSING]
    given_fields = required + data.draw(st.lists(st.sampled_from(fields), unique=True), label="optional")
    values = {f.name: data.draw(anything, label=f.name) for f in given_fields}
    positional = data.draw(st.integers(0, len(required)), label="positional")
    args = [values[f.name] for f in required[:positional]]
    kwargs = {k: v for k, v in values.items() if k not in {f.name for f in required[:positional]}}
    made, expected = cls(*args, **kwargs), general(*args, **kwargs)
    assert vars(made) == vars(expected)
    assert list(vars(made)) == [f.name for f in fields]
    assert made == replace(made) and repr(made).partition("(")[2] == repr(expected).partition("(")[2]
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(made, fields[0].name, 1)


def test_records_a_quick_init_cannot_make_are_refused():
    @dataclasses.dataclass(frozen=True)
    class WithFactory:
        items: list = dataclasses.field(default_factory=list)

    @dataclasses.dataclass(frozen=True)
    class Checked:
        n: int

        def __post_init__(self):
            pass

    for cls in (WithFactory, Checked):
        with pytest.raises(TypeError):
            model.quickly_made(cls)


# ---------------------------------------------------------------- unit files made from encoded parts

@pytest.fixture(scope="module")
def sample_results(sample_criteria_path, data_dir):
    criteria = load_criteria(sample_criteria_path)
    evidence = load_evidence([data_dir / "evidence"], criteria)
    return criteria, decide(criteria, evidence.records, get_evaluator("durable"))


texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8) | st.sampled_from(
    [results._GAP, '"', "\\", "\x00", "\u2028", "Đạt ✓", "</script>"])
numbers = st.fractions(min_value=-10 ** 6, max_value=10 ** 6, max_denominator=10 ** 4) | st.integers(0, 10 ** 20)
citations = st.none() | st.builds(model.Citation, texts, st.none() | st.dates(date(1900, 1, 1), date(2100, 1, 1)),
                                  texts, texts)
locations = st.builds(Location, texts, st.integers(0, 10 ** 6), st.integers(0, 99), st.sampled_from(["", "Sheet!B7"]))


@st.composite
def changed(draw, decision):
    """`decision` with any of its own values changed (its code stays: titles are looked up by it)."""
    inputs = tuple(replace(i, value=draw(texts), citation=draw(citations), location=draw(locations))
                   for i in decision.inputs)
    return replace(decision, status=draw(st.sampled_from(model.STATUSES)), method=draw(texts),
                   points=draw(numbers), max=draw(numbers), condition=draw(texts), inputs=inputs,
                   notes=tuple(draw(st.lists(texts, max_size=2))), reason=draw(texts),
                   quantity=draw(st.none() | numbers | texts),
                   note_values=tuple(draw(st.dictionaries(texts, texts, max_size=2)).items()))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), limit=st.sampled_from([1, 2, 4096]))
def test_a_unit_file_made_from_parts_is_the_general_encoding(sample_results, data, limit, monkeypatch):
    """Whatever an item's values hold (quotes, control characters, the cutting mark itself, numbers
    as Fractions or integers, no citation), and with memos emptied at every entry."""
    monkeypatch.setattr(memo, "ENTRIES", limit)
    criteria, decided = sample_results
    result = data.draw(st.sampled_from(decided), label="unit")
    decisions = tuple(data.draw(changed(d), label=d.code) if data.draw(st.booleans(), label="change") else d
                      for d in result.decisions)
    total = replace(result.total, points=data.draw(numbers, label="total"))
    result = replace(result, decisions=decisions, total=total, unit_name=data.draw(texts, label="name"))
    assert results.unit_file(criteria, result, "durable") == results.encode(results.unit_json(criteria, result,
                                                                                              "durable"))


def test_what_orjson_refuses_is_encoded_by_the_general_path(sample_results):
    criteria, decided = sample_results
    huge = replace(criteria, year=10 ** 30)  # beyond 64 bits: the standard library writes it
    result = decided[0]
    assert results.unit_file(huge, result, "durable") == results.encode(results.unit_json(huge, result, "durable"))
    assert b'"year":1000000000000000000000000000000' in results.unit_file(huge, result, "durable")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("decide-quick")


@SCENARIOS
@given(scenario=scenarios())
def test_unit_files_of_scored_scenarios_are_the_general_encoding(workdir, scenario):
    doc, records = scenario
    criteria = load_criteria(write_criteria(workdir / f"c-{next(_files)}.yaml", doc))
    for result in decide(criteria, records, get_evaluator("durable")):
        assert results.unit_file(criteria, result, "e") == results.encode(results.unit_json(criteria, result, "e"))


# ---------------------------------------------------------------- outcomes per branch, verdicts in any order

class _Reversed:
    """The durable evaluator's verdicts, last first."""

    name = "reversed"

    def __init__(self):
        self.inner = get_evaluator("durable")

    def verdicts(self, criteria, cases):
        return self.inner.verdicts(criteria, cases)[::-1]

    def consistency(self, criteria, questions):
        return self.inner.consistency(criteria, questions)


@st.composite
def crowded(draw):
    """A criteria set and many units, so that units share items and branches with other quantities."""
    doc, plan = draw(criteria_sets(max_items=6))
    return doc, draw(units(plan, min_size=5, max_size=12))


def _alone(criteria, records, evaluator):
    """Every unit decided by itself, nothing kept from an earlier unit: the general way."""
    out = []
    for r in records:
        evaluate._SHARED.clear()
        out += decide(criteria, [r], evaluator)
    return sorted(out, key=lambda u: u.unit_id)


@SCENARIOS
@given(scenario=crowded())
def test_outcomes_kept_per_branch_are_those_worked_out_per_quantity(workdir, scenario):
    """Outcomes kept per branch for the methods that say their points follow from it, shared by
    every unit, against each unit decided alone with every outcome worked out from its quantity."""
    doc, records = scenario
    criteria = load_criteria(write_criteria(workdir / f"c-{next(_files)}.yaml", doc))
    evaluate._SHARED.clear()
    quick = decide(criteria, records, get_evaluator("durable"))
    declared = {type(m): vars(type(m)).get("points_from_branch") for m in methods.REGISTRY.values()}
    try:
        for cls in declared:
            cls.points_from_branch = False
        general = _alone(criteria, records, get_evaluator("durable"))
    finally:
        for cls, flag in declared.items():
            if flag is None:
                del cls.points_from_branch
            else:
                cls.points_from_branch = flag
    assert quick == general


@SCENARIOS
@given(scenario=crowded())
def test_verdicts_in_any_order_decide_alike(workdir, scenario):
    doc, records = scenario
    criteria = load_criteria(write_criteria(workdir / f"c-{next(_files)}.yaml", doc))
    assert decide(criteria, records, _Reversed()) == decide(criteria, records, get_evaluator("durable"))
