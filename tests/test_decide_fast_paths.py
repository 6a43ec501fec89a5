"""The quick ways of deciding, rolling up and encoding results give exactly what the general ways
give: display texts made from integers, outcomes and roll-ups shared between pieces of units,
result files encoded from fragments made once."""
from __future__ import annotations

from decimal import Decimal, localcontext
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core.numbers import display, round_half_up

SETTINGS = settings(max_examples=400, deadline=None)

fractions = st.fractions(max_denominator=10 ** 6) | st.builds(Fraction, st.integers(-10 ** 30, 10 ** 30),
                                                                st.integers(1, 10 ** 12))


@SETTINGS
@given(fractions, st.integers(0, 6), st.booleans())
def test_display_text_is_the_rounded_decimals_text(value, places, vietnamese):
    """As `round_half_up`'s Decimal shows it, given the digits it needs (with the default 28, a
    figure past 10^26 could not be shown at all)."""
    with localcontext(prec=200):
        text = format(round_half_up(value, places), "f")
    assert display(value, places, vietnamese=vietnamese) == (text.replace(".", ",") if vietnamese else text)


def test_display_of_whole_numbers_and_tiny_negatives():
    assert display(Fraction(5)) == "5.00" and display(7) == "7.00"
    assert display(Fraction(-1, 1000)) == "0.00" == format(round_half_up(Fraction(-1, 1000)), "f")
    assert display(Fraction(-5, 1000)) == "-0.01"
    assert format(Decimal("-0.00"), "f") == "-0.00"  # what a Decimal would show, and display never does


# ---------------------------------------------------------------- outcomes and roll-ups shared by pieces

import itertools  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from hypothesis import HealthCheck  # noqa: E402

from builders import write_criteria  # noqa: E402
from engine import decide, load_criteria  # noqa: E402
from engine.evaluation import evaluate  # noqa: E402
from rules import get_evaluator  # noqa: E402
from strategies import scenarios  # noqa: E402

_files = itertools.count()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("decide-fast-paths")


def _fresh(criteria, records, evaluator):
    """Every unit decided by itself, nothing kept from an earlier call: the general way."""
    out = []
    for r in records:
        evaluate._SHARED.clear()
        out += decide(criteria, [r], evaluator)
    return out


@settings(max_examples=60, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
@given(scenario=scenarios(), piece=st.integers(1, 4), limit=st.sampled_from([1, 3, 20_000]))
def test_outcomes_and_roll_ups_kept_between_pieces_are_what_each_unit_would_get_alone(workdir, scenario, piece,
                                                                                        limit, monkeypatch):
    """Pieces of units decided one after the other, against two criteria sets in turn (the same
    items in other words), with what they share kept from piece to piece (and emptied when full):
    the same results as each unit decided by itself."""
    monkeypatch.setattr(evaluate, "MEMO_ENTRIES", limit)
    doc, records = scenario
    sets = [(load_criteria(write_criteria(workdir / f"c-{next(_files)}.yaml", d)), records)
            for d in (doc, _reworded(doc))]
    evaluator = get_evaluator("durable")
    alone = [_fresh(criteria, records, evaluator) for criteria, records in sets]
    evaluate._SHARED.clear()
    got: list[list] = [[], []]
    for start in range(0, max(len(r) for _c, r in sets), piece):
        for k, (criteria, records) in enumerate(sets):
            if records[start:start + piece]:
                got[k] += decide(criteria, records[start:start + piece], evaluator)
    for k in range(2):
        assert sorted(got[k], key=lambda u: u.unit_id) == sorted(alone[k], key=lambda u: u.unit_id)


def _reworded(doc):
    """The criteria set with every title and label in other words."""
    if isinstance(doc, dict):
        return {k: v + " (khác)" if k in ("title", "label") and isinstance(v, str) else _reworded(v)
                for k, v in doc.items()}
    if isinstance(doc, list):
        return [_reworded(v) for v in doc]
    return doc


def test_the_collector_is_set_back_after_a_piece_even_when_it_fails():
    import gc

    from engine.round.pool import fewer_collections

    before = gc.get_threshold()
    with pytest.raises(ZeroDivisionError):
        with fewer_collections(123_456):
            assert gc.get_threshold() == (123_456, *before[1:])
            1 / 0
    assert gc.get_threshold() == before
