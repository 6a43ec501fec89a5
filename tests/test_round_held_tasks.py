"""A round's unit files are finished piece by piece, each piece given its units' standings when its
task is taken (engine.round.pool `_HeldTasks`), each standing made once (engine.round.output
`UnitStandings`), rather than all of them before the first piece is sent."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace

from engine import load_criteria
from engine.evaluation.ranking import UnitScore, rank_units, standing_json
from engine.round import output, pool

DATA = Path(__file__).parent / "data" / "round"


def test_a_pieces_task_is_made_when_it_is_taken_and_once():
    made = []

    def given(units):
        made.append(tuple(units))
        return (tuple(units),)

    tasks = pool._HeldTasks([("a", "b"), ("c",)], len, given, "claims")
    assert len(tasks) == 2 and made == []
    assert tasks[1] == (1, len, (("c",),), "claims") and made == [("c",)]
    assert tasks[1] == (1, len, (("c",),), "claims") and made == [("c",)]
    assert tasks[0] == (0, len, (("a", "b"),), "claims") and made == [("c",), ("a", "b")]


def test_the_standings_are_those_of_the_ranking_each_made_once(monkeypatch):
    criteria = load_criteria(DATA / "criteria.yaml")
    types = [t for g in criteria.groups for t in g.unit_types] + ["no-group"]
    scores = [UnitScore(f"u{i}", f"U {i}", types[i % len(types)], Fraction(i % 7, 2), Fraction(5), Fraction(i % 5, 3))
              for i in range(12)]
    ranking = rank_units(criteria, scores)
    result = SimpleNamespace(ranking=ranking, units=[SimpleNamespace(unit_id=s.unit_id, evidence_source="e.yaml")
                                                     for s in scores])
    calls = []
    monkeypatch.setattr(output, "standing_json", lambda st: calls.append(st.score.unit_id) or standing_json(st))
    standings = output.UnitStandings(result)
    assert calls == [] and sorted(standings) == sorted(s.unit_id for s in scores) and len(standings) == 12
    everyone = [(st, g.group.label, len(g.standings)) for g in ranking.groups for st in g.standings] + \
        [(st, "", 0) for st in ranking.ungrouped]
    for st, label, size in everyone:
        unit = st.score.unit_id
        assert standings.part(unit) == output.standing_part(st, label, size, standing_json(st))
        assert standings[unit] == standing_json(st)
    assert sorted(calls) == sorted(s.unit_id for s in scores)  # once each
