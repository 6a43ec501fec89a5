"""Ranking within groups, classification by bands at their exact boundaries, year over year."""
from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from engine import load_criteria
from engine.core.errors import InputError
from engine.core.model import Band
from engine.evaluation.ranking import (PreviousRound, PreviousUnit, UnitScore, best_first, classes, classify,
                            competition_ranks, load_previous, rank_units)
from engine.evaluation.ranking import standing_json

DATA = Path(__file__).parent / "data" / "round"
BANDS = (Band("Tốt", Fraction(90)), Band("Khá", Fraction(80)), Band("Trung bình", Fraction(70)),
         Band("Yếu", Fraction(0)))


@pytest.fixture(scope="module")
def criteria():
    return load_criteria(DATA / "criteria.yaml")


def dept(uid: str, index: Fraction, max_: Fraction = Fraction(20), type_: str = "department") -> UnitScore:
    """A unit whose index is exactly `index` (points = index × max ÷ 100)."""
    return UnitScore(uid, uid.upper(), type_, index * max_ / 100, max_, index * max_ / 100)


def test_band_boundary_is_inclusive_and_exact():
    assert classify(Fraction(90), BANDS) == "Tốt"
    assert classify(Fraction(89999, 1000), BANDS) == "Khá"
    assert classify(Fraction(90) - Fraction(1, 10 ** 30), BANDS) == "Khá"  # 89.999…, no rounding up
    assert classify(Fraction(80), BANDS) == "Khá"
    assert classify(Fraction(0), BANDS) == "Yếu"
    assert classify(Fraction(100), BANDS) == "Tốt"


def test_index_below_every_band_has_no_class():
    national = (Band("A", Fraction(90)), Band("B", Fraction(80)), Band("C", Fraction(70)))
    assert classify(Fraction(70), national) == "C"
    assert classify(Fraction(6999, 100), national) is None
    assert classify(None, national) is None


def test_equal_index_equal_rank_and_the_next_rank_skips():
    f = Fraction
    assert competition_ranks([f(95), f(90), f(90), f(85)]) == [1, 2, 2, 4]
    assert competition_ranks([f(90), f(90), f(90), f(80)]) == [1, 1, 1, 4]
    assert competition_ranks([f(99), f(91), f(91), f(91), f(50)]) == [1, 2, 2, 2, 5]
    assert competition_ranks([f(90), f(80), None, None]) == [1, 2, None, None]


def test_ranking_uses_exact_index_not_the_rounded_display(criteria):
    # 90.004 and 90.001 both display as 90.00 but are not tied
    a = dept("a", Fraction(90004, 1000))
    b = dept("b", Fraction(90001, 1000))
    g = rank_units(criteria, [b, a]).groups[0]
    assert [(s.score.unit_id, s.rank) for s in g.standings] == [("a", 1), ("b", 2)]


def test_indices_that_share_a_float_are_still_ranked_exactly(criteria):
    """90 + 10⁻³⁰ and 90 are the same float: sorted on floats alone, "a" (the lower) would come
    first by its id; the exact check puts "b" first."""
    a = dept("a", Fraction(90))
    b = dept("b", Fraction(90) + Fraction(1, 10 ** 30))
    g = rank_units(criteria, [a, b]).groups[0]
    assert [(s.score.unit_id, s.rank) for s in g.standings] == [("b", 1), ("a", 2)]


# indices near each other and near float boundaries: n/d + tiny, ties through different maxima
_INDICES = st.one_of(st.none(), st.fractions(min_value=0, max_value=100, max_denominator=10 ** 6),
                     st.builds(lambda n, k: Fraction(n) + Fraction(k, 10 ** 40), st.integers(0, 3), st.integers(-2, 2)))


@given(st.lists(st.tuples(st.sampled_from("abcdefgh"), _INDICES), max_size=30))
def test_best_first_is_the_exact_sort(entries):
    scores = [UnitScore(f"{uid}{k}", uid, "department", index or Fraction(0), Fraction(100 if index is not None else 0),
                        Fraction(0)) for k, (uid, index) in enumerate(entries)]
    exact = sorted(scores, key=lambda s: (s.index is None, -(s.index or 0), s.unit_id))
    assert [s.unit_id for s in best_first(scores)] == [s.unit_id for s in exact]


@given(st.lists(_INDICES, max_size=30))
def test_classes_of_indices_highest_first_are_each_classified_alone(indices):
    indices = sorted((i for i in indices if i is not None), reverse=True) + [None] * indices.count(None)
    assert classes(indices, BANDS) == [None if i is None else next((b.label for b in BANDS if i >= b.min), None)
                                       for i in indices]
    greater = [None if i is None else 1 + sum(1 for j in indices if j is not None and j > i) for i in indices]
    assert competition_ranks(indices) == greater

def test_three_equal_units_share_a_rank_and_are_listed_by_id(criteria):
    # index 91 reached through different maxima: 18.2 / 20 and 17.29 / 19 are both exactly 91
    scores = [dept("z-top", Fraction(95)), dept("c", Fraction(91)), dept("a", Fraction(91), Fraction(19)),
              dept("b", Fraction(91)), dept("last", Fraction(90))]
    g = rank_units(criteria, scores).groups[0]
    assert [(s.score.unit_id, s.rank, s.klass) for s in g.standings] == [
        ("z-top", 1, "Tốt"), ("a", 2, "Tốt"), ("b", 2, "Tốt"), ("c", 2, "Tốt"), ("last", 5, "Tốt")]


def test_boundary_units_classified_per_group_bands(criteria):
    scores = [dept("at-90", Fraction(90)), dept("just-below", Fraction(89999, 1000)),
              dept("xa-85", Fraction(85), Fraction(19), "commune"),
              dept("xa-below", Fraction(85) - Fraction(1, 10 ** 9), Fraction(19), "commune")]
    r = rank_units(criteria, scores)
    by_id = {s.score.unit_id: s for g in r.groups for s in g.standings}
    assert by_id["at-90"].klass == "Tốt" and by_id["just-below"].klass == "Khá"
    assert by_id["xa-85"].klass == "Xuất sắc" and by_id["xa-below"].klass == "Đạt"
    deps, comms = r.groups
    assert dict(deps.class_counts) == {"Tốt": 1, "Khá": 1, "Trung bình": 0, "Yếu": 0}
    assert dict(comms.class_counts) == {"Xuất sắc": 1, "Đạt": 1}
    assert deps.unclassified == comms.unclassified == 0


def test_unit_types_in_no_group_are_reported_ungrouped(criteria):
    r = rank_units(criteria, [dept("kho-bac", Fraction(99), type_="agency"), dept("so-a", Fraction(50))])
    assert [s.score.unit_id for s in r.ungrouped] == ["kho-bac"]
    st = r.ungrouped[0]
    assert st.rank is None and st.klass is None and st.group is None
    assert [s.rank for s in r.groups[0].standings] == [1]  # the agency did not take rank 1


def test_a_unit_without_applicable_maximum_is_not_ranked(criteria):
    empty = UnitScore("empty", "E", "department", Fraction(0), Fraction(0), Fraction(0))
    g = rank_units(criteria, [empty, dept("x", Fraction(10))]).groups[0]
    assert [(s.score.unit_id, s.rank, s.klass) for s in g.standings] == [("x", 1, "Yếu"), ("empty", None, None)]
    assert g.unclassified == 1


def test_year_over_year_changes(criteria):
    prev = PreviousRound("prev.json", "round-2022", 2022, "2022", {
        "a": PreviousUnit("a", "A", "department", "departments", Fraction(80), 2, "Khá"),
        "b": PreviousUnit("b", "B", "department", "departments", Fraction(95), 1, "Tốt"),
        "moved": PreviousUnit("moved", "M", "agency", None, Fraction(70), None, None),
        "gone": PreviousUnit("gone", "G", "department", "departments", Fraction(60), 3, "Yếu"),
    })
    scores = [dept("a", Fraction(9025, 100)), dept("b", Fraction(90)), dept("moved", Fraction(75)),
              dept("new", Fraction(85))]
    r = rank_units(criteria, scores, prev)
    by_id = {s.score.unit_id: s for s in r.groups[0].standings}
    a, b = by_id["a"], by_id["b"]
    assert a.index_change == Fraction(1025, 100) and a.rank_change == 1  # 2 → 1: moved up
    assert b.index_change == -5 and b.rank_change == -1
    assert by_id["moved"].rank_change is None  # ungrouped last year: no rank to compare
    assert by_id["moved"].index_change == 5
    assert by_id["new"].yoy == "new" and by_id["new"].previous is None and a.yoy == "continuing"
    assert [u.unit_id for u in r.vanished] == ["gone"]
    row = standing_json(a)
    assert row["index_change"] == "10.25" and row["previous_rank"] == 2 and row["previous_class"] == "Khá"
    # without a previous round nothing is compared
    assert rank_units(criteria, scores).groups[0].standings[0].yoy is None


def test_previous_round_is_read_with_positions(tmp_path):
    prev = load_previous(DATA / "previous" / "round-2022.json")
    assert prev.year == 2022 and prev.units["so-noi-vu"].rank == 2
    assert prev.units["so-noi-vu"].index == Fraction(885, 10)
    assert prev.units["kho-bac"].group is None

    doc = json.loads((DATA / "previous" / "round-2022.json").read_text("utf-8"))
    doc["groups"][0]["units"][1]["id"] = doc["groups"][0]["units"][0]["id"]
    doc["groups"][0]["units"][2]["index"] = "ninety"
    bad = tmp_path / "round.json"
    bad.write_text(json.dumps(doc, ensure_ascii=False, indent=2), "utf-8")
    with pytest.raises(InputError) as exc:
        load_previous(bad)
    text = [str(p) for p in exc.value.problems]
    lines = bad.read_text("utf-8").splitlines()
    ninety = next(i for i, line in enumerate(lines, 1) if '"ninety"' in line)
    assert any(t.startswith(f"{bad}:{ninety}:") and "not a valid identifier" in t for t in text), text

    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "cchc-round/1",\n  "groups": [,]}\n', "utf-8")
    with pytest.raises(InputError) as exc:
        load_previous(broken)
    assert str(exc.value.problems[0]).startswith(f"{broken}:2:")


def test_duplicate_unit_in_previous_round_is_located(tmp_path):
    doc = json.loads((DATA / "previous" / "round-2022.json").read_text("utf-8"))
    doc["groups"][0]["units"][1]["id"] = doc["groups"][0]["units"][0]["id"]
    bad = tmp_path / "round.json"
    bad.write_text(json.dumps(doc, ensure_ascii=False, indent=2), "utf-8")
    with pytest.raises(InputError) as exc:
        load_previous(bad)
    (p,) = exc.value.problems
    assert p.file == str(bad) and p.line > 1 and "appears twice" in p.message
