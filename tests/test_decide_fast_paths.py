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
