"""Gap analysis: for every applicable item below its best, where the unit stands, the next threshold
of the criteria set, and the points at stake. Pure computation on exact numbers; no rendering.

The unit's result gives the points and the exact quantity each condition was tested on; the criteria
set gives the thresholds. A quantity is used only if it reproduces the self-assessed points, so an
edited or mismatched result never drives the analysis.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Optional, Sequence

from engine import methods
from engine.model import Category, CriteriaSet, Interval, MetricSpec, Quantity, SubCriterion
from engine.numbers import to_fraction

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


def _points_for(sub: SubCriterion, q: Quantity) -> Optional[Fraction]:
    branch = next((b for b in sub.branches if b.condition.contains(q)), None)
    if branch is None:
        return None
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


def current(sub: SubCriterion, metric: MetricSpec, item: dict) -> Current:
    """The unit's current value on an item: the exact quantity its result says the condition was
    tested on, kept only if it gives the self-assessed points back."""
    if item["status"] == "missing_evidence":
        return Current(None, "Chưa có số liệu")
    raw = item["inputs"][0]["value"] if item.get("inputs") else ""
    given = item.get("quantity")
    if given is None:
        return Current(None, raw)
    q: Optional[Quantity] = str(given) if metric.kind in ("date", "boolean", "category") else _fraction(str(given))
    self_points = to_fraction(item.get("self_points") or item["points"])
    if q is None or (item["status"] != "no_matching_band" and _points_for(sub, q) != self_points):
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


def _bound(iv: Interval, q: Optional[Fraction], unit: str) -> str:
    """The bound of a better band that the value has to cross, e.g. `≥ 98 %`."""
    if iv.lo is not None and iv.hi is not None and iv.lo == iv.hi:
        return f"= {compact(iv.lo)}{unit}"
    below = q is not None and iv.lo is not None and (q < iv.lo or (q == iv.lo and not iv.lo_closed))
    above = q is not None and iv.hi is not None and (q > iv.hi or (q == iv.hi and not iv.hi_closed))
    lo = f"{'≥' if iv.lo_closed else '>'} {compact(iv.lo)}{unit}" if iv.lo is not None else ""
    hi = f"{'≤' if iv.hi_closed else '<'} {compact(iv.hi)}{unit}" if iv.hi is not None else ""
    if below:
        return lo
    if above:
        return hi
    return " và ".join(t for t in (lo, hi) if t)


def _distance(iv: Interval, q: Fraction) -> Fraction:
    if iv.lo is not None and q < iv.lo:
        return iv.lo - q
    if iv.hi is not None and q > iv.hi:
        return q - iv.hi
    return Fraction(0)


def best_points(sub: SubCriterion) -> Fraction:
    p = sub.params
    if sub.method == "tiers":
        return max(t.points for t in p.tiers)
    if sub.method == "categories":
        return max(pts for _, pts in p.points)
    if sub.method == "pass_fail":
        return max(p.passed, p.failed)
    if sub.method == "bonus":
        return p.cap
    return sub.max


def _best_words(sub: SubCriterion, metric: MetricSpec) -> str:
    """The criteria's words for the item's best outcome."""
    p = sub.params
    unit = _unit_suffix(metric)
    if sub.method == "tiers":
        top = max(p.tiers, key=lambda t: t.points)
        return f"{top.label} ({_bound(top.interval, None, unit)})"
    if sub.method == "categories":
        best = max(p.points, key=lambda cp: cp[1])[0]
        return dict(p.labels)[best]
    if sub.method == "pass_fail":
        return p.pass_label
    if sub.method in ("proportional", "survey"):
        return f"{p.words} ≥ {compact(p.full_at)}: điểm tối đa"
    if sub.method == "deductions":
        return f"Không có lần nào ({p.words}: trừ {compact(p.per_occurrence)} điểm)"
    if sub.method == "bonus":
        need = math.ceil(p.cap / p.per_occurrence)
        return f"Đạt {need} lần ({p.words}: cộng {compact(p.per_occurrence)} điểm, tối đa {compact(p.cap)} điểm)"
    return f"tối đa {compact(sub.max)} điểm"


def _next(sub: SubCriterion, metric: MetricSpec, cur: Current, points: Fraction,
          best: Fraction) -> tuple[str, Fraction]:
    """The next threshold in the criteria's words and the points reaching it adds."""
    p = sub.params
    q = cur.quantity
    unit = _unit_suffix(metric)
    if sub.method == "tiers":
        better = [t for t in p.tiers if t.points > points]
        nearest = min(better, key=lambda t: (t.points, _distance(t.interval, q) if q is not None else 0))
        return f"{nearest.label} ({_bound(nearest.interval, q, unit)})", nearest.points - points
    if sub.method == "categories":
        labels = dict(p.labels)
        cat, pts = min(((c, v) for c, v in p.points if v > points), key=lambda cv: cv[1])
        return labels[cat], pts - points
    if sub.method == "pass_fail":
        return p.pass_label, p.passed - points
    if sub.method in ("proportional", "survey"):
        words = f"{p.words} ≥ {compact(p.full_at)}: điểm tối đa"
        if isinstance(q, Fraction) and q < p.full_at:
            words += f" (cần thêm {num(p.full_at - q)} điểm phần trăm)"
        return words, best - points
    if sub.method == "deductions":
        if isinstance(q, Fraction):
            n = compact(q)
            return (f"Giảm {n} lần, còn 0 lần ({p.words}: trừ {compact(p.per_occurrence)} điểm)",
                    best - points)
        return _best_words(sub, metric), best - points
    if sub.method == "bonus":
        need = math.ceil(p.cap / p.per_occurrence)
        if isinstance(q, Fraction) and q < need:
            return (f"Thêm {compact(need - q)} lần, đạt {need} lần ({p.words}: cộng "
                    f"{compact(p.per_occurrence)} điểm, tối đa {compact(p.cap)} điểm)", best - points)
        return _best_words(sub, metric), best - points
    return f"Điểm do Hội đồng thẩm định đánh giá, tối đa {compact(sub.max)} điểm", best - points


def gap_for(sub: SubCriterion, metric: MetricSpec, item: dict) -> Optional[Gap]:
    """The gap on one item, or None when it is not applicable or already at its best."""
    if item["status"] == "not_applicable":
        return None
    points = to_fraction(item["points"])
    best = best_points(sub)
    if points >= best:
        return None
    cur = current(sub, metric, item)
    if item["status"] in NEEDS_DATA:
        verb = ("bổ sung số liệu và tài liệu kiểm chứng" if item["status"] == "missing_evidence"
                else "rà soát số liệu (giá trị không thuộc mức điểm nào)")
        target, gain = f"{verb.capitalize()}; mức cao nhất: {_best_words(sub, metric)}", best - points
    else:
        target, gain = _next(sub, metric, cur, points, best)
    return Gap(sub.code, sub.title, sub.method, item["status"], points, to_fraction(item["max"]), best,
               cur.text, target, gain, sub.source == "survey")


def gap_report(criteria: CriteriaSet, items: Sequence[dict]) -> GapReport:
    """Every gap of a unit, most points at stake first (then the larger next step, then the criteria's
    order), with the total still reachable."""
    subs = {s.code: s for s in criteria.sub_criteria()}
    order = {code: i for i, code in enumerate(subs)}
    gaps = []
    for item in items:
        sub = subs[item["code"]]
        g = gap_for(sub, criteria.metrics[sub.metric], item)
        if g is not None:
            gaps.append(g)
    gaps.sort(key=lambda g: (-g.stake, -g.gain, order[g.code]))
    return GapReport(tuple(gaps), sum((g.stake for g in gaps), Fraction(0)),
                     sum((g.gain for g in gaps), Fraction(0)))
