"""Ranking (xếp hạng) and classification (xếp loại) within the groups a criteria set declares, and
the comparison with last year's round.

Rules (docs/annual-round.md):
- units are ranked within their group by exact index (a Fraction, never a rounded display value);
- equal index → equal rank, and the next rank skips (1, 2, 2, 4: "competition" ranking); units of
  equal index are listed by unit id;
- class = the first band (bands are listed highest minimum first) with index ≥ band.min, inclusive
  and exact; an index below every band's minimum has no class (null, counted as unclassified);
- a unit whose applicable maximum is 0 has no index: no rank, no class, listed last;
- a unit whose type is in no group is reported as ungrouped: no rank, no class;
- rank change = previous rank − rank (positive: moved up), only when the unit stayed in the same
  group; index change = index − previous index.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from pathlib import Path
from typing import Mapping, Optional, Sequence

from ..core.errors import InputError, Problem
from ..core.i18n import _
from ..core.model import Band, CriteriaSet, Group, index_of
from ..core.numbers import display, exact_text, to_fraction
from ..storage.outdir import recover
from ..storage.results import display_json as _d, exact_json as _x
from ..inputs.schema import schema_problems
from ..inputs.yamlio import load_yaml, position

ROUND_FORMAT = "cchc-round/1"


@dataclass(frozen=True)
class UnitScore:
    unit_id: str
    name: str
    type: str
    points: Fraction  # final (appraised) points
    max: Fraction  # the unit's applicable maximum
    self_points: Fraction  # before appraisal
    appraised_items: int = 0

    # worked out once each (a Fraction division): a national round sorts and writes them many times over
    @cached_property
    def index(self) -> Optional[Fraction]:
        return index_of(self.points, self.max)

    @cached_property
    def self_index(self) -> Optional[Fraction]:
        return index_of(self.self_points, self.max)


@dataclass(frozen=True)
class PreviousUnit:
    """A unit as last year's round summary shows it."""

    unit_id: str
    name: str
    type: str
    group: Optional[str]  # None: it was ungrouped
    index: Optional[Fraction]
    rank: Optional[int]
    klass: Optional[str]


@dataclass(frozen=True)
class PreviousRound:
    path: str
    criteria_id: str
    year: int
    period: str
    units: Mapping[str, PreviousUnit]


@dataclass(frozen=True)
class Standing:
    """One unit's place in this round, and against last year's round when one was given."""

    score: UnitScore
    group: Optional[str]
    rank: Optional[int]
    klass: Optional[str]
    previous: Optional[PreviousUnit] = None
    compared: bool = False  # a previous round was given

    @cached_property
    def index_change(self) -> Optional[Fraction]:
        idx = self.score.index
        if self.previous is None or self.previous.index is None or idx is None:
            return None
        return idx - self.previous.index

    @property
    def rank_change(self) -> Optional[int]:
        p = self.previous
        if p is None or p.rank is None or self.rank is None or p.group != self.group:
            return None
        return p.rank - self.rank

    @property
    def yoy(self) -> Optional[str]:
        if not self.compared:
            return None
        return "new" if self.previous is None else "continuing"


@dataclass(frozen=True)
class GroupRanking:
    group: Group
    standings: tuple[Standing, ...]  # best first; equal index listed by unit id
    class_counts: tuple[tuple[str, int], ...]  # band label → units, in band order
    unclassified: int


@dataclass(frozen=True)
class Ranking:
    groups: tuple[GroupRanking, ...]
    ungrouped: tuple[Standing, ...]  # by unit id
    vanished: tuple[PreviousUnit, ...]  # in last year's round, not in this one (by unit id)
    previous: Optional[PreviousRound]


def classify(index: Optional[Fraction], bands: Sequence[Band]) -> Optional[str]:
    """The first band (highest minimum first) whose minimum the index reaches; None below all."""
    return classes([index], bands)[0]


def classes(indices: Sequence[Optional[Fraction]], bands: Sequence[Band]) -> list[Optional[str]]:
    """`classify` of each of `indices`, listed highest first (None last): each compared with one
    band's minimum at a time, walking down the bands as the indices fall."""
    out: list[Optional[str]] = []
    band = 0
    for index in indices:
        if index is None:
            out.append(None)
            continue
        while band < len(bands) and index < bands[band].min:
            band += 1
        out.append(bands[band].label if band < len(bands) else None)
    return out


def competition_ranks(indices: Sequence[Optional[Fraction]]) -> list[Optional[int]]:
    """Ranks of `indices` listed highest first (None last): 1 + the number of strictly greater
    indices (1, 2, 2, 4); None has no rank."""
    ranks: list[Optional[int]] = []
    for pos, index in enumerate(indices, start=1):
        if index is None:
            ranks.append(None)
        elif pos > 1 and index == indices[pos - 2]:
            ranks.append(ranks[-1])
        else:
            ranks.append(pos)
    return ranks


def best_first(scores: Sequence[UnitScore]) -> list[UnitScore]:
    """`scores` by exact index, highest first, those of equal index by unit id, and those without
    an index last (by unit id). Sorted on each index's nearest float (a sort in C; the rounding is
    monotonic, so only indices sharing a float can come out of order), then checked pair by pair
    on the exact indices: any pair out of order, and the whole is sorted on the exact indices. A
    float never decides the order."""
    def hint(s: UnitScore) -> tuple:
        return (True, 0.0, s.unit_id) if s.index is None else (False, -float(s.index), s.unit_id)

    ordered = sorted(scores, key=hint)
    for a, b in zip(ordered, ordered[1:]):
        if b.index is None:
            break  # (those without an index: by unit id, after every other)
        if not (a.index > b.index or (a.index == b.index and a.unit_id < b.unit_id)):
            return sorted(scores, key=lambda s: (s.index is None, -(s.index or 0), s.unit_id))
    return ordered


def group_of(criteria: CriteriaSet) -> dict[str, Group]:
    return {t: g for g in criteria.groups for t in g.unit_types}


def rank_units(criteria: CriteriaSet, scores: Sequence[UnitScore],
               previous: Optional[PreviousRound] = None) -> Ranking:
    groups = group_of(criteria)
    prev_units = previous.units if previous else {}
    compared = previous is not None
    members: dict[str, list[UnitScore]] = {g.id: [] for g in criteria.groups}
    ungrouped_scores = []
    for s in scores:
        g = groups.get(s.type)
        if g is None:
            ungrouped_scores.append(s)
        else:
            members[g.id].append(s)
    out = []
    for g in criteria.groups:
        units = best_first(members[g.id])
        indices = [s.index for s in units]
        standings = tuple(Standing(s, g.id, r, k, prev_units.get(s.unit_id), compared)
                          for s, r, k in zip(units, competition_ranks(indices), classes(indices, g.bands)))
        counts = tuple((b.label, sum(1 for st in standings if st.klass == b.label)) for b in g.bands)
        out.append(GroupRanking(g, standings, counts, sum(1 for st in standings if st.klass is None)))
    ungrouped = tuple(Standing(s, None, None, None, prev_units.get(s.unit_id), compared)
                      for s in sorted(ungrouped_scores, key=lambda s: s.unit_id))
    present = {s.unit_id for s in scores}
    vanished = tuple(u for uid, u in sorted(prev_units.items()) if uid not in present)
    return Ranking(tuple(out), ungrouped, vanished, previous)


# ---------------------------------------------------------------- last year's round

class PreviousRoundError(InputError):
    """Last year's round summary cannot be read."""


def load_previous(path: Path | str) -> PreviousRound:
    """Read a round summary (`round.json` of an earlier run) as last year's result."""
    path = Path(path)
    name = str(path)
    recover(path)  # a run interrupted while replacing its folder leaves the previous results to put back
    doc = load_yaml(path, name)  # JSON is read as YAML so that every problem keeps its line
    if not isinstance(doc, dict):
        raise PreviousRoundError([Problem(name, 1, 1, _("expected a round summary (round.json) at the top level"))])
    problems = schema_problems(doc, "round.schema.json", name)
    if problems:
        raise PreviousRoundError(problems)
    units: dict[str, PreviousUnit] = {}
    first: dict[str, tuple[int, int]] = {}
    lists = [(g["id"], ("groups", gi, "units"), g["units"]) for gi, g in enumerate(doc["groups"])]
    lists.append((None, ("ungrouped", "units"), doc["ungrouped"]["units"]))
    for gid, path_, items in lists:
        for ui, u in enumerate(items):
            line, col = position(doc, list(path_) + [ui])
            if u["id"] in first:
                problems.append(Problem(name, line, col, _("unit {unit!r} appears twice (first on line {line})").format(
                    unit=u["id"], line=first[u["id"]][0])))
                continue
            first[u["id"]] = (line, col)
            index = None if u["index"] is None else to_fraction(u["index"])
            units[u["id"]] = PreviousUnit(u["id"], u["name"], u["type"], gid, index, u["rank"], u["class"])
    if problems:
        raise PreviousRoundError(problems)
    return PreviousRound(name, doc["criteria"]["id"], int(doc["criteria"]["year"]), str(doc["period"]),
                         dict(sorted(units.items())))


# ---------------------------------------------------------------- the ranking as JSON (round.json)

def standing_json(st: Standing) -> dict:
    s, p = st.score, st.previous
    return {
        "id": s.unit_id, "name": s.name, "type": s.type,
        "points": _x(s.points), "points_display": _d(s.points), "max": _x(s.max),
        "index": _x(s.index), "index_display": _d(s.index),
        "self_points": _x(s.self_points), "self_index": _x(s.self_index), "self_index_display": _d(s.self_index),
        "appraised_items": s.appraised_items,
        "rank": st.rank, "class": st.klass,
        "previous_index": _x(p.index) if p else None, "previous_index_display": _d(p.index) if p else None,
        "index_change": _x(st.index_change), "index_change_display": _d(st.index_change),
        "previous_rank": p.rank if p else None, "previous_class": p.klass if p else None,
        "rank_change": st.rank_change, "yoy": st.yoy,
    }


def ranking_json(r: Ranking, standings: Optional[Mapping[str, dict]] = None) -> dict:
    """The ranking part of round.json: groups with their bands, standings and class counts, the
    ungrouped units and the units gone since last year (`standings`: each unit's `standing_json`,
    if already made)."""
    def one(st: Standing) -> dict:
        return standing_json(st) if standings is None else standings[st.score.unit_id]

    return {
        "groups": [{
            "id": g.group.id, "label": g.group.label, "unit_types": list(g.group.unit_types),
            "bands": [{"label": b.label, "min": exact_text(b.min), "min_display": display(b.min)}
                      for b in g.group.bands],
            "size": len(g.standings),
            "units": [one(st) for st in g.standings],
            "class_counts": [{"class": label, "count": n} for label, n in g.class_counts],
            "unclassified": g.unclassified,
        } for g in r.groups],
        "ungrouped": {"unit_types": sorted({st.score.type for st in r.ungrouped}),
                      "units": [one(st) for st in r.ungrouped]},
        "vanished": [_vanished_json(u) for u in r.vanished],
    }


def _vanished_json(u: PreviousUnit) -> dict:
    return {"id": u.unit_id, "name": u.name, "type": u.type, "previous_group": u.group,
            "previous_index": _x(u.index), "previous_index_display": _d(u.index),
            "previous_rank": u.rank, "previous_class": u.klass}
