"""A lone value as YAML loads it (an integer, a decimal keeping its digits, a boolean, a date, a text)
typed the quick way (`typed_value`: read as plain digits, or taken again by its kind and text) is
what every check gives (`typed_anew`): the same value, the same problems, again and again."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from engine.core.errors import Location
from engine.core.model import MetricSpec
from engine.inputs import evidence
from engine.inputs.evidence import RawUnit, RawValue, typed_anew, typed_value
from engine.inputs.tables import ProblemSink

SPECS = [MetricSpec("m", kind, "m") for kind in ("percent", "count", "points", "boolean", "date")]
decimal = st.builds(lambda sign, whole, frac: Decimal(f"{sign}{whole}.{frac}"), st.sampled_from(["", "", "-"]),
                    st.sampled_from(["0", "1", "2", "99", "100", "101", "1" * 60]),
                    st.sampled_from(["0", "5", "000", "01", "54", "9" * 55]))
loaded = st.one_of(decimal, st.integers(-3, 3), st.sampled_from([100, 101, 10 ** 60, 2023]), st.booleans(),
                   st.just(date(2023, 2, 6)), st.sampled_from(["12.5", "2.000", "x", "có", "2023-05-02"]))
citation = st.none() | st.fixed_dictionaries({"document": st.sampled_from(["", "0/BC-UBND"])},
                                              optional={"date": st.sampled_from(["2023-01-02", "2023-02-30"])})


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(SPECS), loaded, citation), min_size=1, max_size=8))
@example([(SPECS[1], Decimal("2.000"), None)]).via("two thousand or two: ambiguous in a count")
@example([(SPECS[0], Decimal("100.0"), None), (SPECS[0], Decimal("100.01"), None)]).via("a percent's upper end")
@example([(SPECS[1], 7, None), (SPECS[0], 7, None), (SPECS[2], -1, None)]).via("integers of each kind")
def test_a_loaded_value_typed_quickly_is_what_every_check_gives(items):
    evidence._TYPED.clear()
    unit = RawUnit("u1", "U", "district", "2023", Location("e.yaml", 2, 1), "e.yaml", Path("."))
    for row, (spec, value, cited) in enumerate(items + items, start=2):
        raws = [RawValue(value=value, location=Location("e.yaml", row, 3), citation=cited, given={"value"},
                         value_pos=(row + 1, 12)) for _ in range(2)]
        quick, general = ProblemSink(), ProblemSink()
        assert typed_value(spec, raws[0], unit, quick) == typed_anew(spec, raws[1], unit, general)
        assert quick.problems == general.problems
