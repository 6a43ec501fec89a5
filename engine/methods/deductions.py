"""Deductions: start from the maximum, minus `per_occurrence` for each occurrence, floored."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..i18n import _
from ..model import Branch, Interval
from ..numbers import exact_text, words_number
from .base import ScoringMethod, number


@dataclass(frozen=True)
class DeductionsParams:
    per_occurrence: Fraction
    floor: Fraction
    words: str


class Deductions(ScoringMethod):
    name = "deductions"
    metric_kinds = ("count",)
    parameters = {"per_occurrence": "points taken off for each occurrence (> 0)",
                  "floor": "the lowest the item can go (default 0)",
                  "label": "the criteria's words for one occurrence"}
    defaults = {"floor": 0, "label": "Mỗi lần vi phạm"}

    def parse(self, raw, sub_max, metric, report):
        per = number(raw.get("per_occurrence"), ("per_occurrence",), report)
        floor = number(raw.get("floor", 0), ("floor",), report)
        if per is None or floor is None:
            return None
        if per == 0:
            report(("per_occurrence",), _("per_occurrence must be above 0"))
            return None
        if floor > sub_max:
            report(("floor",), _("floor {floor} is above the item's maximum {max}").format(
                floor=exact_text(floor), max=exact_text(sub_max)))
            return None
        return DeductionsParams(per, floor, str(raw.get("label", self.defaults["label"])))

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
