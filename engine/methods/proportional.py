"""Proportional: maximum × value ÷ `full_at` (default 100 %), capped at the maximum."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..core.model import Branch, Interval
from ..core.i18n import N_
from ..core.numbers import display, words_number
from .base import LABELS, ScoringMethod, Target, interval_words
from .params import Number, Param, Text

FULL_AT = Number(above=Fraction(0), maximum=Fraction(100))


@dataclass(frozen=True)
class ProportionalParams:
    full_at: Fraction
    words: str


class Proportional(ScoringMethod):
    """Also the outcomes of every method scored as maximum × value ÷ `full_at` (survey): their
    params carry `full_at` and `words`."""

    name = "proportional"
    metric_kinds = ("percent", "tasks")
    parameters = (
        Param("full_at", FULL_AT, N_("value (percent) from which the maximum is reached (default 100)"), 100),
        Param("label", Text(), N_("the criteria's words for the value (default: Tỷ lệ đạt)"),
              "Tỷ lệ đạt (%)"),
    )

    def build(self, values, sub_max, metric, report):
        return ProportionalParams(values["full_at"], values["label"])

    def branches(self, params, sub_max, metric):
        at = words_number(params.full_at)
        return (
            Branch("full", f"{params.words} ≥ {at}: điểm tối đa", Interval(lo=params.full_at, lo_closed=True)),
            Branch("part", f"{params.words} < {at}: điểm tối đa × giá trị ÷ {at}",
                   Interval(hi=params.full_at, hi_closed=False)),
        )

    def points(self, params, sub_max, branch, quantity):
        if branch == "full":
            return sub_max
        # sub_max × quantity ÷ full_at as one Fraction of integers (two Fraction operations cost twice)
        at = params.full_at
        points = Fraction(sub_max.numerator * quantity.numerator * at.denominator,
                          sub_max.denominator * quantity.denominator * at.numerator)
        return points

    def best(self, sub, wording=LABELS):
        p = sub.params
        return Target(sub.max, interval_words(Interval(lo=p.full_at), wording),
                      f"{p.words} ≥ {wording.number(p.full_at)}: điểm tối đa", "full")

    def next_target(self, sub, points, quantity, wording=LABELS):
        best = self.best(sub, wording)
        if isinstance(quantity, Fraction) and quantity < sub.params.full_at:
            short = display(sub.params.full_at - quantity, vietnamese=True)
            return Target(best.points, best.values, f"{best.words} (cần thêm {short} điểm phần trăm)", best.branch)
        return best
