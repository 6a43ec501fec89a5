"""Manual: points a person enters within [0, max] on an allowed step, with a reason and evidence."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..i18n import _
from ..model import Always, Branch
from ..numbers import exact_text
from .base import ScoringMethod, number


@dataclass(frozen=True)
class ManualParams:
    step: Fraction
    words: str


class Manual(ScoringMethod):
    name = "manual"
    metric_kinds = ("points",)
    parameters = {"step": "allowed step of the entered points (default 0.25)",
                  "label": "the criteria's words for how the points are judged"}
    defaults = {"step": Fraction(1, 4), "label": "Điểm do người chấm nhập, có lý do và tài liệu kiểm chứng"}

    def parse(self, raw, sub_max, metric, report):
        step = number(raw.get("step", self.defaults["step"]), ("step",), report)
        if step is None:
            return None
        if step <= 0:
            report(("step",), _("step must be above 0"))
            return None
        return ManualParams(step, str(raw.get("label", self.defaults["label"])))

    def branches(self, params, sub_max, metric):
        return (Branch("entered", params.words, Always()),)

    def points(self, params, sub_max, branch, quantity):
        return quantity

    def check_value(self, params, sub_max, value):
        pts = value.value
        if pts > sub_max:
            return _("manual points {points} exceed the item's maximum {max}").format(
                points=exact_text(pts), max=exact_text(sub_max))
        if pts % params.step:
            return _("manual points {points} are not a multiple of the step {step}").format(
                points=exact_text(pts), step=exact_text(params.step))
        if not value.reason:
            return _("manual points need a reason")
        if value.citation is None:
            return _("manual points need a citation (tài liệu kiểm chứng)")
        return None
