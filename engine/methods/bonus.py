"""Bonus: `per_occurrence` points for each occurrence, up to a cap (default the item's maximum)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from ..core.model import Branch, Interval
from ..core.i18n import N_, _
from ..core.numbers import exact_text, words_number
from .base import LABELS, ScoringMethod, Target
from .params import ITEM_MAX, REQUIRED, Number, Param, Text


@dataclass(frozen=True)
class BonusParams:
    per_occurrence: Fraction
    cap: Fraction
    words: str


class Bonus(ScoringMethod):
    name = "bonus"
    metric_kinds = ("count",)
    parameters = (
        Param("per_occurrence", Number(above=Fraction(0)), N_("points for each occurrence (> 0)"), REQUIRED),
        Param("cap", Number(points=True), N_("the most the item can give (default: its maximum)"), ITEM_MAX),
        Param("label", Text(), N_("the criteria's words for one occurrence"), "Mỗi thành tích"),
    )

    def build(self, values, sub_max, metric, report):
        return BonusParams(values["per_occurrence"], values["cap"], values["label"])

    def branches(self, params, sub_max, metric):
        limit = params.cap / params.per_occurrence
        per, cap = words_number(params.per_occurrence), words_number(params.cap)
        return (
            Branch("bonus", f"{params.words}: cộng {per} điểm", Interval(hi=limit, hi_closed=False)),
            Branch("cap", f"{params.words}: cộng {per} điểm, tối đa {cap} điểm",
                   Interval(lo=limit, lo_closed=True)),
        )

    def points(self, params, sub_max, branch, quantity):
        return params.cap if branch == "cap" else quantity * params.per_occurrence

    def appraisal_problem(self, sub, points):
        p = sub.params
        if points != p.cap and (points > p.cap or points % p.per_occurrence):
            return _("{points} points cannot result from item {code}'s bonus: allowed "
                     "k × {per} (k = 0, 1, …) up to {cap}").format(
                points=exact_text(points), code=sub.code, per=exact_text(p.per_occurrence), cap=exact_text(p.cap))
        return None

    def best_points(self, sub):
        return sub.params.cap

    def _occurrences(self, sub, wording) -> str:
        p = sub.params
        return (f"{p.words}: cộng {wording.number(p.per_occurrence)} điểm, "
                f"tối đa {wording.number(p.cap)} điểm")

    def best(self, sub, wording=LABELS):
        p = sub.params
        need = math.ceil(p.cap / p.per_occurrence)
        return Target(p.cap, f"≥ {wording.number(p.cap / p.per_occurrence)}",
                      f"Đạt {need} lần ({self._occurrences(sub, wording)})", "cap")

    def next_target(self, sub, points, quantity, wording=LABELS):
        best = self.best(sub, wording)
        need = math.ceil(sub.params.cap / sub.params.per_occurrence)
        if isinstance(quantity, Fraction) and quantity < need:
            more = wording.number(need - quantity)
            return Target(best.points, best.values,
                          f"Thêm {more} lần, đạt {need} lần ({self._occurrences(sub, wording)})", best.branch)
        return best
