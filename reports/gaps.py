"""Gap analysis: for every applicable item below its best, where the unit stands, the next threshold
of the criteria set, and the points at stake. Pure computation on exact numbers; no rendering.

The unit's result gives the points and the exact quantity each condition was tested on; the criteria
set gives the thresholds. A quantity is used only if it reproduces the self-assessed points, so an
edited or mismatched result never drives the analysis.

An item's conditions (docs/criteria-format.md, "Compound conditions") count as its result tells them:
a knock-out that holds for the unit caps what the item can still give, and the gap says so by name;
a band reached without its extra requirement makes that requirement the next step; a target band
that has a requirement names it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Optional, Sequence

from engine import methods
from engine.core.conditions import BandRequirement, KnockOut, limit_words, lowest_cap
from engine.core.model import NOTE_KNOCKED_OUT, Category, CriteriaSet, MetricSpec, Quantity, SubCriterion
from engine.core.numbers import to_fraction
from engine.storage.documents import ResultItem

from .text import compact, num, vn_date

NEEDS_DATA = ("missing_evidence", "no_matching_band")


@dataclass(frozen=True)
class Current:
    """Where the unit stands on an item: the quantity the criteria test (None when unknown) and how
    a reader reads it."""

    quantity: Optional[Quantity]
    text: str


@dataclass(frozen=True)
class Gap:
    code: str
    title: str
    method: str
    status: str
    points: Fraction  # the item's points now (final points when appraised)
    max: Fraction
    best: Fraction  # the most the criteria let this item give
    value: str  # the current value as a reader reads it
    target: str  # the next threshold, in the criteria's words
    gain: Fraction  # points reaching the next threshold adds
    survey: bool  # scored from the sociological survey, not by the unit
    limit: str = ""  # why `best` is below what the criteria give the item (knock-outs that hold), if it is

    @property
    def stake(self) -> Fraction:
        """Points still reachable on this item."""
        return self.best - self.points


@dataclass(frozen=True)
class GapReport:
    gaps: tuple[Gap, ...]  # sorted: most points at stake first
    reachable: Fraction  # total points still reachable
    next_gain: Fraction  # points if every item reached its next threshold


def _unit_suffix(metric: MetricSpec) -> str:
    return " %" if metric.kind in ("percent", "tasks", "responses") else ""


@dataclass(frozen=True)
class Outcome:
    """What the unit's figures gave an item before any knock-out, as its result tells: the words of
    the outcome, its points (the self-assessed ones), the requirement of the band the value is in
    when it failed, and the knock-outs that hold."""

    label: str
    points: Fraction
    failed: Optional[BandRequirement] = None
    held: tuple[KnockOut, ...] = ()


def outcome(sub: SubCriterion, item: ResultItem) -> Outcome:
    self_points = item.own_points
    label = item.condition
    conds = sub.conditions
    if conds is None:
        return Outcome(label, self_points)
    held: tuple[KnockOut, ...] = ()
    if NOTE_KNOCKED_OUT in item.notes:
        told = item.note_values
        held = conds.named(told.get("labels", ""))
        label, given = told.get("band", ""), _fraction(told.get("points", ""))
        self_points = self_points if given is None else given
    return Outcome(label, self_points, conds.failed_requirement(label), held)


def _points_for(sub: SubCriterion, q: Quantity, failed: Optional[BandRequirement] = None) -> Optional[Fraction]:
    branch = next((b for b in sub.branches if b.condition.contains(q)), None)
    if branch is None:
        return None
    if failed is not None and failed.branch == branch.key:
        return failed.points
    return methods.get(sub.method).points(sub.params, sub.max, branch.key, q)


def _category_label(sub: SubCriterion, value: str) -> str:
    for b in sub.branches:
        if isinstance(b.condition, Category) and b.condition.value == value:
            return b.label
    return value


def _fraction(text: str) -> Optional[Fraction]:
    try:
        return to_fraction(text)
    except (TypeError, ValueError, ArithmeticError, ZeroDivisionError):
        return None


def current(sub: SubCriterion, metric: MetricSpec, item: ResultItem) -> Current:
    """The unit's current value on an item: the exact quantity its result says the condition was
    tested on, kept only if it gives the self-assessed points back."""
    if item.status == "missing_evidence":
        return Current(None, "Chưa có số liệu")
    raw = item.inputs[0].value if item.inputs else ""
    given = item.quantity
    if given is None:
        return Current(None, raw)
    q: Optional[Quantity] = given if metric.kind in ("date", "boolean", "category") else _fraction(given)
    was = outcome(sub, item)
    if q is None or (item.status != "no_matching_band" and _points_for(sub, q, was.failed) != was.points):
        return Current(None, raw)
    return Current(q, _describe(sub, metric, q, raw))


def _describe(sub: SubCriterion, metric: MetricSpec, q: Quantity, raw: str) -> str:
    """The current value as a reader reads it, with the input's detail where it helps."""
    if isinstance(q, str):
        label = _category_label(sub, q)
        m = re.match(r"(\d{4}-\d{2}-\d{2}) ", raw)
        return f"{vn_date(m[1])} ({label})" if metric.kind == "date" and m else label
    if metric.kind == "tasks":
        m = re.search(r"\((\d+) tasks\)", raw)
        return f"{num(q)} % (trên {m[1]} nhiệm vụ)" if m else f"{num(q)} %"
    if metric.kind == "responses":
        return f"{num(q)} % (điểm khảo sát)"
    if metric.kind == "percent":
        return f"{num(q)} % ({raw})" if "/" in raw else f"{num(q)} %"
    if metric.kind == "count":
        return f"{metric.label}: {compact(q)}"
    return f"{num(q)} điểm"


def _wording(metric: MetricSpec) -> methods.Wording:
    """A report's words for a condition: constants as written (2 decimals at most), with the unit."""
    return methods.Wording(compact, _unit_suffix(metric))


def gap_for(sub: SubCriterion, metric: MetricSpec, item: ResultItem, names: Optional[dict] = None) -> Optional[Gap]:
    """The gap on one item, or None when it is not applicable or already at its best. An item a
    knock-out holds below its best is a gap too, with nothing reachable: the gap says why.
    `names`: words for the metrics its conditions read."""
    if item.status == "not_applicable":
        return None
    points = item.points
    method = methods.get(sub.method)
    if points >= method.best_points(sub):
        return None
    was = outcome(sub, item) if item.status == "scored" else Outcome("", points)
    best = max(method.reachable(sub, was.held), points)  # an appraiser may have given more than a cap
    cur = current(sub, metric, item)
    wording = _wording(metric)
    if item.status in NEEDS_DATA:
        verb = ("bổ sung số liệu và tài liệu kiểm chứng" if item.status == "missing_evidence"
                else "rà soát số liệu (giá trị không thuộc mức điểm nào)")
        highest = method.best_reachable(sub, (), wording, names).words
        target, gain = f"{verb.capitalize()}; mức cao nhất: {highest}", best - points
    else:
        nearest = method.next_reachable(sub, points, cur.quantity, was.held, was.failed, wording, names)
        target, gain = nearest.words, max(nearest.points - points, Fraction(0))
    limit = limit_words(was.held, wording.number) if was.held and lowest_cap(was.held) < method.best_points(sub) else ""
    return Gap(sub.code, sub.title, sub.method, item.status, points, item.max, best,
               cur.text, target, gain, sub.source == "survey", limit)


def gap_report(criteria: CriteriaSet, items: Sequence[ResultItem]) -> GapReport:
    """Every gap of a unit, most points at stake first (then the larger next step, then the criteria's
    order), with the total still reachable."""
    subs = {s.code: s for s in criteria.sub_criteria()}
    order = {code: i for i, code in enumerate(subs)}
    names = {mid: spec.label for mid, spec in criteria.metrics.items()}
    gaps = []
    for item in items:
        sub = subs[item.code]
        g = gap_for(sub, criteria.metrics[sub.metric], item, names)
        if g is not None:
            gaps.append(g)
    gaps.sort(key=lambda g: (-g.stake, -g.gain, order[g.code]))
    return GapReport(tuple(gaps), sum((g.stake for g in gaps), Fraction(0)),
                     sum((g.gain for g in gaps), Fraction(0)))
