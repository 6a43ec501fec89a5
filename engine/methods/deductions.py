"""Deductions: start from the maximum, minus `per_occurrence` for each occurrence, floored."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..core.model import Branch, Interval
from ..core.i18n import N_, _
from ..core.numbers import exact_text, words_number
from .base import LABELS, ScoringMethod, Target
from .params import REQUIRED, Number, Param, Text


@dataclass(frozen=True)
class DeductionsParams:
    per_occurrence: Fraction
    floor: Fraction
    words: str


class Deductions(ScoringMethod):
    name = "deductions"
    metric_kinds = ("count",)
    parameters = (
        Param("per_occurrence", Number(above=Fraction(0)), N_("points taken off for each occurrence (> 0)"), REQUIRED),
        Param("floor", Number(points=True), N_("the lowest the item can go (default 0)"), 0),
        Param("label", Text(), N_("the criteria's words for one occurrence"), "Mỗi lần vi phạm"),
    )

    def build(self, values, sub_max, metric, report):
        return DeductionsParams(values["per_occurrence"], values["floor"], values["label"])

    def branches(self, params, sub_max, metric):
        limit = (sub_max - params.floor) / params.per_occurrence
        per, floor = words_number(params.per_occurrence), words_number(params.floor)
        return (
            Branch("deduct", f"{params.words}: trừ {per} điểm", Interval(hi=limit, hi_closed=False)),
            Branch("floor", f"{params.words}: trừ {per} điểm, tối thiểu còn {floor} điểm",
                   Interval(lo=limit, lo_closed=True)),
        )

    def points(self, params, sub_max, branch, quantity):
        if branch == "floor":
            return params.floor
        return sub_max - quantity * params.per_occurrence

    def appraisal_problem(self, sub, points):
        p, mx = sub.params, sub.max
        if points != p.floor and (points < p.floor or (mx - points) % p.per_occurrence):
            return _("{points} points cannot result from item {code}'s deductions: allowed "
                     "{max} − k × {per} (k = 0, 1, …) down to {floor}").format(
                points=exact_text(points), code=sub.code, max=exact_text(mx), per=exact_text(p.per_occurrence),
                floor=exact_text(p.floor))
        return None

    def best(self, sub, wording=LABELS):
        p = sub.params
        return Target(sub.max, f"= {wording.number(Fraction(0))}",
                      f"Không có lần nào ({p.words}: trừ {wording.number(p.per_occurrence)} điểm)",
                      "deduct" if sub.max > p.floor else "floor")  # the band of no occurrence

    def next_target(self, sub, points, quantity, wording=LABELS):
        best = self.best(sub, wording)
        if not isinstance(quantity, Fraction):
            return best
        p = sub.params
        return Target(best.points, best.values, f"Giảm {wording.number(quantity)} lần, còn 0 lần ({p.words}: "
                                                f"trừ {wording.number(p.per_occurrence)} điểm)", best.branch)
