"""The contract every scoring method declares, and the helpers they share."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any, Callable, ClassVar, Mapping, Optional, Sequence

from ..core.conditions import BandRequirement, KnockOut, describe, limit_words, lowest_cap, requirement_words
from ..core.model import (BOOLEAN_CATEGORIES, DATE_CATEGORIES, Branch, Interval, MetricSpec, MetricValue, Quantity,
                     SubCriterion)
from ..core.i18n import _
from ..core.numbers import exact_text, words_number
from .params import Param, Report


@dataclass(frozen=True)
class Domain:
    """The values a quantity can take: a real or integer range, or a set of categories."""

    kind: str  # "real", "int" or "categories"
    lo: Optional[Fraction] = None
    hi: Optional[Fraction] = None
    categories: tuple[str, ...] = ()


PERCENT = Domain("real", Fraction(0), Fraction(100))
COUNT = Domain("int", Fraction(0), None)


@dataclass(frozen=True)
class Wording:
    """How the numbers of a condition are written: `number` writes a constant of the criteria, `unit`
    follows a metric's value (` %`). The default is the criteria's own labels: exact, decimal comma."""

    number: Callable[[Fraction], str] = words_number
    unit: str = ""

    def value(self, x: Fraction) -> str:
        return f"{self.number(x)}{self.unit}"


LABELS = Wording()


def interval_words(iv: Interval, wording: Wording = LABELS, toward: Optional[Fraction] = None) -> str:
    """An exact interval in words: `= 90`, `≥ 70 và < 90`, `> 99,5`. `toward`: a value outside the
    interval, for which only the bound it has to cross is said (`≥ 98 %` for a value below)."""
    if iv.lo is not None and iv.lo == iv.hi and iv.lo_closed and iv.hi_closed:
        return f"= {wording.value(iv.lo)}"
    lo = f"{'≥' if iv.lo_closed else '>'} {wording.value(iv.lo)}" if iv.lo is not None else ""
    hi = f"{'≤' if iv.hi_closed else '<'} {wording.value(iv.hi)}" if iv.hi is not None else ""
    if toward is not None and lo and (toward < iv.lo or (toward == iv.lo and not iv.lo_closed)):
        return lo
    if toward is not None and hi and (toward > iv.hi or (toward == iv.hi and not iv.hi_closed)):
        return hi
    return " và ".join(t for t in (lo, hi) if t) or "mọi giá trị"


@dataclass(frozen=True)
class Target:
    """An outcome a unit can aim for on an item: its points, the values that reach it in symbols
    (`≥ 98`: what a projection is compared with) and in the criteria's words (what a reader is told);
    `branch`: the key of the band it names, when it names one (its `when` requirement is then told)."""

    points: Fraction
    values: str
    words: str
    branch: str = ""


class ScoringMethod:
    """A scoring method: its name, the metric kinds it reads, its declared parameters, how it turns a
    value into a branch (an exact condition) and points, and the answers to every question asked
    about an item scored by it (allowed appraisal points, best points, the next threshold, the words
    for its band). The questions take the loaded item (`sub`: its `params` are what `build` made)."""

    name: ClassVar[str]
    metric_kinds: ClassVar[tuple[str, ...]]
    parameters: ClassVar[tuple[Param, ...]] = ()
    survey_only: ClassVar[bool] = False
    # `points` reads the branch alone, never the quantity: a unit's points then follow from its
    # item and branch, worked out once for every unit in that branch (engine/evaluation/evaluate.py)
    points_from_branch: ClassVar[bool] = False

    def build(self, values: dict, sub_max: Fraction, metric: MetricSpec, report: Report) -> Any:
        """Freeze the parameters (`values`: each declared parameter, checked and defaulted); check
        what needs several of them together; report problems and return None when invalid."""
        raise NotImplementedError

    def branches(self, params: Any, sub_max: Fraction, metric: MetricSpec) -> tuple[Branch, ...]:
        raise NotImplementedError

    def points(self, params: Any, sub_max: Fraction, branch: str, quantity: Quantity) -> Fraction:
        raise NotImplementedError

    def domain(self, params: Any, metric: MetricSpec) -> Domain:
        return quantity_domain(metric)

    def quantity(self, params: Any, metric: MetricSpec, value: MetricValue, measure: str) -> Quantity:
        return base_quantity(metric, value, measure)

    def check_value(self, params: Any, sub_max: Fraction, value: MetricValue) -> Optional[str]:
        """A problem with an evidence value that only this method can see (e.g. manual steps)."""
        return None

    # ------------------------------------------------------------ questions about a loaded item

    def point_values(self, sub: SubCriterion) -> Optional[tuple[Fraction, ...]]:
        """Every point value the rule gives, highest first, when it lists them; None for a range."""
        return None

    def appraisal_problem(self, sub: SubCriterion, points: Fraction) -> Optional[str]:
        """Why an appraiser cannot give `points` (already within [0, max]) under this rule, or None."""
        values = self.point_values(sub)
        if values is not None and points not in values:
            return _("{points} points is not a value the rule of item {code} ({method}) gives; allowed: "
                     "{allowed}").format(points=exact_text(points), code=sub.code, method=sub.method,
                                         allowed=", ".join(exact_text(v) for v in values))
        return None

    def best_points(self, sub: SubCriterion) -> Fraction:
        """The most the rule lets the item give."""
        values = self.point_values(sub)
        return values[0] if values else sub.max

    def best(self, sub: SubCriterion, wording: Wording = LABELS) -> Target:
        """The item's best outcome."""
        return Target(self.best_points(sub), "điểm tối đa", f"tối đa {wording.number(sub.max)} điểm")

    def next_target(self, sub: SubCriterion, points: Fraction, quantity: Optional[Quantity],
                    wording: Wording = LABELS) -> Target:
        """The nearest outcome above `points` (the item's points now; `quantity`: the value they were
        decided on, None when unknown). Asked only while `points` is below the best points."""
        return self.best(sub, wording)

    # -------------------- the same questions under the item's conditions (not overridden by methods)

    def reachable(self, sub: SubCriterion, held: Sequence[KnockOut] = ()) -> Fraction:
        """The most the item can give while the knock-outs `held` hold: its best points, at most
        their lowest cap."""
        cap = lowest_cap(held)
        best = self.best_points(sub)
        return best if cap is None else min(best, cap)

    def best_reachable(self, sub: SubCriterion, held: Sequence[KnockOut] = (), wording: Wording = LABELS,
                       names: Optional[Mapping[str, str]] = None) -> Target:
        """`best` under the item's conditions: the requirement of its band named, capped by `held`."""
        return _under_conditions(sub, self.best(sub, wording), held, wording, names)

    def next_reachable(self, sub: SubCriterion, points: Fraction, quantity: Optional[Quantity],
                       held: Sequence[KnockOut] = (), failed: Optional[BandRequirement] = None,
                       wording: Wording = LABELS, names: Optional[Mapping[str, str]] = None) -> Target:
        """`next_target` under the item's conditions. `held`: the knock-outs that hold (nothing above
        their cap is promised; at the cap, the target says so and adds nothing); `failed`: the
        requirement of the band the value is in, when it failed (meeting it is the next step)."""
        cap = lowest_cap(held)
        if cap is not None and points >= cap:
            return Target(points, "", f"Không thể đạt thêm điểm: {limit_words(held, wording.number)}")
        if failed is not None and isinstance(quantity, (Fraction, str)):
            band = self.points(sub.params, sub.max, failed.branch, quantity)
            if band > points:
                return _under_conditions(sub, Target(band, "", f"Mức «{failed.band_label}»", failed.branch), held,
                                         wording, names)
        return _under_conditions(sub, self.next_target(sub, points, quantity, wording), held, wording, names)

    def band_words(self, sub: SubCriterion, condition: str) -> str:
        """The band a decision fell in, for a reader, when the result alone does not say it (the
        decision's `condition`: its branch's label); empty otherwise."""
        return ""


def _under_conditions(sub: SubCriterion, target: Target, held: Sequence[KnockOut], wording: Wording,
                      names: Optional[Mapping[str, str]]) -> Target:
    """A method's target with what the item's conditions add: the requirement of the band it names
    (of every band whose failed requirement gives less, when it names none), and the cap of `held`."""
    conds = sub.conditions
    if conds is None:
        return target
    if target.branch:
        needed = [r for r in conds.requirements if r.branch == target.branch]
    else:
        needed = [r for r in conds.requirements if r.points < target.points]
    values, words, points = target.values, target.words, target.points
    for r in needed:
        values = f"{values} và {describe(r.require)}" if values else describe(r.require)
        words = f"{words}, {requirement_words(r, names)}"
    cap = lowest_cap(held)
    if cap is not None and cap < points:
        points, words = cap, f"{words}; {limit_words(held, wording.number)}"
    return Target(points, values, words, target.branch)


def quantity_domain(metric: MetricSpec) -> Domain:
    if metric.kind in ("percent", "tasks", "responses"):
        return PERCENT
    if metric.kind == "count":
        return COUNT
    if metric.kind == "points":
        return Domain("real", Fraction(0), None)
    if metric.kind == "date":
        return Domain("categories", categories=DATE_CATEGORIES)
    if metric.kind == "boolean":
        return Domain("categories", categories=BOOLEAN_CATEGORIES)
    return Domain("categories", categories=metric.categories)


def date_status(deadline: Optional[date], done: Optional[date]) -> str:
    if done is None:
        return "not_done"
    return "on_time" if deadline is None or done <= deadline else "late"


def base_quantity(metric: MetricSpec, value: MetricValue, measure: str) -> Quantity:
    v = value.value
    if metric.kind == "tasks":
        tasks = v
        if not tasks:
            return Fraction(0)
        if measure == "on_time_rate":
            hits = sum(1 for t in tasks if t.completed is not None and t.completed <= t.deadline)
        else:
            hits = sum(1 for t in tasks if t.completed is not None)
        return Fraction(hits * 100, len(tasks))
    if metric.kind == "date":
        return date_status(metric.deadline, v)
    if metric.kind == "boolean":
        return "yes" if v else "no"
    if metric.kind == "category":
        return v
    return v if v.__class__ is Fraction else Fraction(v)  # a Fraction is immutable: kept as it is
