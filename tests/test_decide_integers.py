"""Figures worked out in plain integers give exactly what the Fraction arithmetic gives: exact and
rounded texts from a numerator and a denominator, a roll-up's index from one gcd, survey scores and
proportional points made as one Fraction, the rule engine's question of a whole number; and a
decided piece is let go before the cycle collector runs again."""
from __future__ import annotations

import weakref
from contextlib import contextmanager
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from engine.core import memo
from engine.core.model import Case, Rollup, index_of, index_ratio
from engine.core.numbers import exact_text, ratio_display, ratio_text
from engine.methods.proportional import Proportional, ProportionalParams
from engine.methods.survey import Survey, SurveyParams
from engine.storage import results

SETTINGS = settings(max_examples=300, deadline=None)

# Figures as results hold them: small and huge, terminating decimals or not, and integers (`int`
# has a numerator and a denominator too).
fractions = (st.fractions(max_denominator=10 ** 6)
             | st.builds(lambda n, a, b: Fraction(n, 2 ** a * 5 ** b), st.integers(-10 ** 30, 10 ** 30),
                         st.integers(0, 40), st.integers(0, 40))
             | st.builds(Fraction, st.integers(-10 ** 30, 10 ** 30), st.integers(1, 10 ** 12)))
figures = fractions | st.integers(-10 ** 20, 10 ** 20)


# several figures over a few denominators, as results hold them: the memo of decimal places is used
few_denominators = st.lists(st.builds(Fraction, st.integers(-10 ** 6, 10 ** 6), st.sampled_from(
    [1, 2, 3, 4, 5, 6, 8, 10, 16, 20, 25, 40, 50, 100, 125, 1000, 96, 875, 3270000])), min_size=1, max_size=8)


@SETTINGS
@given(st.lists(fractions, min_size=1, max_size=3) | few_denominators, st.integers(0, 4), st.sampled_from([1, 2, 4096]))
@example([Fraction(1, 8)], 2, 4096).via("0.125: a half rounds up")
@example([Fraction(-5, 1000), Fraction(5, 2), Fraction(-1, 1000)], 2, 4096).via("halves and tiny negatives")
@example([Fraction(5, 2)], 0, 4096).via("no decimals")
def test_a_figure_is_written_from_its_integers_as_from_its_decimal(values, places, limit):
    """`ratio_text` against the decimal the Fraction is (no digit rounded: 200 digits of
    precision), with the memo of decimal places emptied at every entry or never; `ratio_display`
    against the Decimal rounded half-up."""
    old = memo.ENTRIES
    memo.ENTRIES = limit
    try:
        got = [(ratio_text(v.numerator, v.denominator), ratio_display(v.numerator, v.denominator, places))
               for v in values]
    finally:
        memo.ENTRIES = old
    for value, (text, shown) in zip(values, got):
        d = value.denominator
        for p in (2, 5):
            while d % p == 0:
                d //= p
        with localcontext(prec=200) as ctx:
            if d == 1:
                decimal = ctx.divide(value.numerator, value.denominator)
                expected = (format(decimal.normalize(), "f") if decimal == decimal.to_integral_value()
                            else format(decimal, "f"))
            else:
                expected = f"{value.numerator}/{value.denominator}"
            assert text == expected == exact_text(value)
            rounded = ctx.divide(value.numerator, value.denominator).quantize(Decimal(1).scaleb(-places),
                                                                              rounding=ROUND_HALF_UP)
            assert shown == format(rounded if rounded else abs(rounded), "f")  # never "-0.00"


@SETTINGS
@given(figures, figures)
@example(Fraction(3), 0).via("nothing applies: no index")
@example(Fraction(-1, 3), Fraction(-7, 2)).via("a negative maximum: the sign goes to the numerator")
def test_an_index_from_integers_is_the_fractions_index(points, maximum):
    expected = index_of(Fraction(points), Fraction(maximum))
    got = index_ratio(points, maximum)
    assert got == (None if expected is None else (expected.numerator, expected.denominator))


def _rollup_as_fractions(r: Rollup) -> dict:
    """A roll-up's fields through the number memos and Fraction arithmetic: the general way."""
    idx = r.index
    return {"code": r.code, "points": results.exact_json(r.points),
            "points_display": results.display_json(r.points), "max": results.exact_json(r.max),
            "index": results.exact_json(idx), "index_display": results.display_json(idx)}


@SETTINGS
@given(figures, fractions | st.integers(0, 10 ** 6).map(Fraction), st.sampled_from(["1.1", "total"]))
@example(Fraction(1, 3), Fraction(0), "total").via("nothing applies: no index")
def test_a_rollups_fields_written_from_integers_are_those_of_its_fractions(points, maximum, code):
    """Points as a Fraction or an integer (the maximum a Fraction, as the roll-up makes it)."""
    r = Rollup(code, points, maximum)
    assert results.rollup_json(r) == _rollup_as_fractions(r)


# weights as a survey item's params hold them: percents with up to two decimals, or thirds
weights = st.one_of(st.integers(0, 10000).map(lambda n: Fraction(n, 100)), st.integers(0, 300).map(lambda n: Fraction(n, 3)))


@SETTINGS
@given(st.lists(st.tuples(weights, st.integers(0, 10 ** 6)), min_size=1, max_size=6).filter(
    lambda options: sum(c for _w, c in options) > 0))
def test_a_survey_score_in_integers_is_the_weighted_fraction(options):
    names = [f"o{i}" for i in range(len(options))]
    params = SurveyParams(tuple((n, w) for n, (w, _c) in zip(names, options)), Fraction(100), "")
    counts = {n: c for n, (_w, c) in zip(names, options)}
    metric = type("Metric", (), {"kind": "responses"})()
    value = type("Value", (), {"value": counts})()
    expected = sum((w * c for w, c in options), Fraction(0)) / sum(c for _w, c in options)
    got = Survey().quantity(params, metric, value, "")
    assert got == expected and type(got) is Fraction


@SETTINGS
@given(fractions.filter(lambda f: f > 0), fractions, fractions.filter(lambda f: f > 0))
def test_proportional_points_in_integers_are_the_fractions_product(sub_max, quantity, full_at):
    params = ProportionalParams(full_at, "")
    got = Proportional().points(params, sub_max, "part", quantity)
    assert got == sub_max * quantity / full_at and type(got) is Fraction
    assert Proportional().points(params, sub_max, "full", quantity) is sub_max


def _question_in_general(case: Case, scale: int) -> tuple:
    """The rule engine's question by Fraction arithmetic, every value saturated."""
    from rules.evaluator import _saturate

    q = case.quantity
    if q is None:
        return (case.code, "missing")
    if isinstance(q, Fraction):
        scaled = q * scale
        return (case.code, "value", _saturate(scaled.numerator // scaled.denominator),
                _saturate(-((-scaled.numerator) // scaled.denominator)))
    return (case.code, "cat", q)


@SETTINGS
@given(st.none() | st.sampled_from(["on_time", "c:x"]) | fractions | st.integers(-2 ** 60, 2 ** 60).map(Fraction),
       st.sampled_from([1, 3, 10, 100, 2 ** 20]))
@example(Fraction(2 ** 53), 1).via("a whole number on the limit")
@example(Fraction(-2 ** 53 - 1), 1).via("a whole number past the limit: saturated")
@example(Fraction(2 ** 54 + 1, 2), 1).via("floor and ceiling either side of the limit")
def test_the_question_of_a_whole_or_unsaturated_value_is_the_general_one(quantity, scale):
    from rules.evaluator import question

    case = Case("u", "1.1", quantity)
    assert question(case, scale) == _question_in_general(case, scale)


# ---------------------------------------------------------------- the completeness proof

def _counted(cases, verdicts):
    """The proof by counting every (unit, item) asked and answered: the general way."""
    from collections import Counter

    asked = Counter((c.unit_id, c.code) for c in cases)
    answered = Counter((v.unit_id, v.code) for v in verdicts)
    return ([k for k in asked if answered[k] < asked[k]], [k for k, n in answered.items() if n > asked.get(k, 0)])


pairs = st.lists(st.tuples(st.sampled_from("uv"), st.sampled_from(["1.1", "1.2"])), max_size=5)


@SETTINGS
@given(pairs, st.data())
def test_verdicts_in_the_cases_order_prove_complete_as_counting_does(asked, data):
    """Verdicts answering the cases in their order (the rule engine's way), or shuffled, cut short,
    doubled or answering other cases: the proof holds, or names the same pairs, as counting does."""
    from engine.core.errors import IncompleteEvaluationError
    from engine.core.model import Verdict
    from engine.evaluation.evaluate import prove_complete

    answered = data.draw(st.sampled_from([asked, asked[:-1], asked + asked[-1:], asked[::-1]]) | pairs)
    cases = [Case(u, code, None) for u, code in asked]
    verdicts = [Verdict(u, code, "t1") for u, code in answered]
    missing, duplicated = _counted(cases, verdicts)
    if missing or duplicated:
        with pytest.raises(IncompleteEvaluationError) as raised:
            prove_complete(cases, verdicts)
        assert (raised.value.missing, raised.value.duplicated) == (sorted(missing), sorted(duplicated))
    else:
        assert prove_complete(cases, verdicts) == (answered == asked)


# ---------------------------------------------------------------- a decided piece let go

def test_a_decided_piece_is_let_go_before_the_collector_runs_again(sample_criteria_path, data_dir, monkeypatch):
    """`decide_chunk` with an encoder: when its block of fewer collections ends (and the collector
    runs again at its usual pace), the piece's results are gone, so the collector has none to walk."""
    from engine import load_criteria, load_evidence
    from engine.round import pool
    from engine.round.scoring import encoded
    from rules import get_evaluator

    criteria = load_criteria(sample_criteria_path)
    records = load_evidence([data_dir / "evidence"], criteria).records
    kept: list = []
    alive_on_leaving: list[int] = []

    def finish(*args):
        kept.extend(weakref.ref(r) for r in args[1])
        return encoded(*args)

    real = pool.fewer_collections

    @contextmanager
    def watched(*args):
        with real(*args):
            yield
            alive_on_leaving.append(sum(ref() is not None for ref in kept))

    monkeypatch.setattr(pool, "fewer_collections", watched)
    host = pool.Host(criteria, get_evaluator, "durable", finish=finish)
    kind, lines, n = host.decide_chunk(records)
    assert kind == "ok" and n == len(records) == len(lines) == len(kept) > 0
    assert alive_on_leaving == [0]


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__])
