"""The line reader of plain YAML reads each line's text once per run (`_LINE_SHAPES`) and places it in
the tree line by line: a line met before, wherever it stood and under whatever limits, gives the
same data at the same places, and the same refusals, as the walk over libyaml's events."""
from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from engine.inputs import yamlio

from test_fast_paths import _loaded_by, _same_outcome
from test_yaml_plain_lines import LIMITS, Walked, plain_text

pytestmark = pytest.mark.skipif(not hasattr(yamlio, "CSafeLineLoader"), reason="PyYAML without libyaml")


def _moved(text: str, order: list[int], indents: list[int]) -> str:
    """The lines of `text` in another order, some of them indented by another step: the same line
    texts in other places of another tree (or of none)."""
    lines = text.split("\n")
    moved = [lines[i % len(lines)] for i in order] or lines
    return "\n".join(" " * step + line if step else line for line, step in zip(moved, indents + [0] * len(moved)))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(plain_text, LIMITS), min_size=1, max_size=3),
       st.lists(st.integers(0, 60), max_size=12), st.lists(st.sampled_from([0, 0, 0, 1, 2, 4]), max_size=12))
@example([("a: 1\nb:\n  c: {d: xy, e: f}\n", None), ("a: 1\nb:\n  c: {d: xy, e: f}\n", ("CCHC_MAX_STRING_CHARS", "1"))],
         [], []).via("a line read before, then under a lower text limit")
@example([("a:\n  b: 1\n", None), ("b: 1\na:\n", None)], [1, 0], [2]).via("a line seen nested, then at the top")
@example([("a: {b: c, d: e}\n", None), ("x:\n  a: {b: c, d: e}\n", ("CCHC_MAX_YAML_NODES", "7"))],
         [], []).via("a mapping in braces met again over the node limit")
@example([("a: {b: c}\n", None), ("a: {b: c}\n", ("CCHC_MAX_YAML_DEPTH", "2"))], [], []).via("again over the depth")
def test_lines_read_before_anywhere_read_as_the_walk_reads_them(texts, order, indents):
    moved = _moved(texts[0][0], order, indents)
    for text, limit in texts + [(moved, limit) for limit in (None, ("CCHC_MAX_STRING_CHARS", "3"), texts[-1][1])]:
        _same_outcome(*_loaded_by(text, limit, Walked, yamlio.CSafeLineLoader))


number_like = st.text(st.sampled_from("0123456789+-.e_:x "), min_size=1, max_size=56) | st.builds(
    lambda sign, digits, frac: f"{sign}{digits}{frac}", st.sampled_from(["", "-", "+"]),
    st.sampled_from(["0", "00", "1", "10", "9" * 49, "9" * 50, "9" * 101]), st.sampled_from(["", ".", ".0", ".50", ".5" * 30]))


@settings(max_examples=400, deadline=None)
@given(number_like, st.sampled_from([None, ("CCHC_MAX_STRING_CHARS", "3")]))
@example("-0", None).via("an integer")
@example("+1.50", None).via("a decimal keeps its digits")
@example("1" * 50 + ".5", None).via("just past a short number")
def test_a_number_read_from_its_text_is_what_its_constructor_builds(text, limit):
    """A plain integer or decimal is built from its text (int or Decimal) as the resolvers and the
    constructors build it, at the same place; anything else is left to them."""
    _same_outcome(*_loaded_by(f"a: {text}\nb: {{c: {text}}}\n", limit, Walked, yamlio.CSafeLineLoader))
