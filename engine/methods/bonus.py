"""Bonus: `per_occurrence` points for each occurrence, up to a cap (default the item's maximum)."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..i18n import _
from ..model import Branch, Interval
from ..numbers import words_number
from .base import ScoringMethod, number, within_max


@dataclass(frozen=True)
class BonusParams:
    per_occurrence: Fraction
    cap: Fraction
    words: str


class Bonus(ScoringMethod):
    name = "bonus"
    metric_kinds = ("count",)
    parameters = {"per_occurrence": "points for each occurrence (> 0)",
                  "cap": "the most the item can give (default: its maximum)",
                  "label": "the criteria's words for one occurrence"}
    defaults = {"label": "Mỗi thành tích"}

    def parse(self, raw, sub_max, metric, report):
        per = number(raw.get("per_occurrence"), ("per_occurrence",), report)
        cap = number(raw.get("cap", sub_max), ("cap",), report)
        within_max(cap, sub_max, ("cap",), report)
        if per is None or cap is None or cap > sub_max:
            return None
        if per == 0:
            report(("per_occurrence",), _("per_occurrence must be above 0"))
            return None
        return BonusParams(per, cap, str(raw.get("label", self.defaults["label"])))

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
