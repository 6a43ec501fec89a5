"""The quick ways of reading YAML evidence give exactly what the general ways give: a number,
boolean or date loaded from YAML typed once per (kind, type, text), places kept as positions."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from engine.core.errors import Location
from engine.core.model import MetricSpec
from engine.inputs import evidence
from engine.inputs.evidence import RawUnit, RawValue, typed_anew, typed_value
from engine.inputs.tables import ProblemSink

SPECS = [MetricSpec("m", kind, "m") for kind in ("percent", "count", "points", "boolean", "date")] + [
    MetricSpec("m", "category", "m", categories=("a", "b"))]
# as the YAML loader gives them: equal numbers written otherwise (`2.0`, `2.000`, `2`), a boolean and
# the integer equal to it, dates and a date with a time, texts, nothing
loaded = st.sampled_from([Decimal("12"), Decimal("12.5"), Decimal("2.0"), Decimal("2.000"), Decimal("-1"),
                          Decimal("101"), Decimal("0"), Decimal("0.0"), Decimal("-0"), Decimal("93.54"), 12, 2, 0, 1,
                          -1, 101, True, False, date(2023, 5, 2), datetime(2023, 5, 2, 10, 30), None, "12", "2.000",
                          "x", "a", "true", "2023-05-02"])
citation = st.none() | st.fixed_dictionaries({"document": st.sampled_from(["", "0/BC-UBND", "12/QĐ"])}, optional={
    "date": st.sampled_from(["", date(2023, 1, 2), "2023-02-30"]), "issuer": st.sampled_from(["", "UBND"])})
around = st.tuples(citation, st.sampled_from([{"value"}, {"value", "numerator"}]), st.sampled_from(["", "ước tính"]))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(SPECS), loaded, around), min_size=1, max_size=8))
@example([(SPECS[1], Decimal("2.0"), (None, {"value"}, "")), (SPECS[1], Decimal("2.000"), (None, {"value"}, ""))])
@example([(SPECS[1], 1, (None, {"value"}, "")), (SPECS[1], True, (None, {"value"}, ""))])
def test_a_loaded_value_typed_once_per_text_is_what_every_check_gives(items):
    """Values as YAML files give them (repeated, some equal to others without being the same, some
    wrong, some cited wrongly, some given with other fields): the value and the problems are those
    of the whole check, every time, and again with the next one's citation, fields and reason."""
    evidence._TYPED.clear()
    unit = RawUnit("u1", "U", "district", "2023", Location("e.yaml", 3, 7), "e.yaml", Path("."))
    shifted = [(k, v, items[(i + 1) % len(items)][2]) for i, (k, v, _a) in enumerate(items)]
    for line, (spec, value, (cited, given_, reason)) in enumerate(items + shifted + items, start=5):
        raws = [RawValue(value, location=Location("e.yaml", line, 5), value_pos=(line + 1, 12), key_pos=(line, 3),
                         citation=cited, given=set(given_), reason=reason) for _ in range(2)]
        quick, general = ProblemSink(), ProblemSink()
        assert typed_value(spec, raws[0], unit, quick) == typed_anew(spec, raws[1], unit, general)
        assert quick.problems == general.problems


@given(st.integers(1, 10 ** 6), st.integers(1, 500), st.booleans())
def test_places_kept_as_positions_are_the_locations_they_stand_for(line, column, cell_given):
    """A YAML value's and key's place, kept as a position, is the location in the file of the
    metric; a table cell's own location comes first."""
    from engine.inputs.tables import Cell

    where = Location("e.yaml", line, 3)
    raw = RawValue(Cell("7", Location("e.csv", 2, 6)) if cell_given else Decimal("7"), location=where,
                   value_pos=(line + 1, column), key_pos=(line, column))
    assert raw.value_at() == (Location("e.csv", 2, 6) if cell_given else Location("e.yaml", line + 1, column))
    assert raw.key_at() == Location("e.yaml", line, column)
    assert RawValue(location=where).key_at() == where and RawValue(location=where).value_at() is None
