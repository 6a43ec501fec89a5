"""Manual: points a person enters within [0, max] on an allowed step, with a reason and evidence."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..core.model import Always, Branch
from ..core.i18n import N_, _
from ..core.numbers import exact_text
from .base import LABELS, ScoringMethod, Target
from .params import Number, Param, Text


@dataclass(frozen=True)
class ManualParams:
    step: Fraction
    words: str


class Manual(ScoringMethod):
    name = "manual"
    metric_kinds = ("points",)
    parameters = (
        Param("step", Number(above=Fraction(0)), N_("allowed step of the entered points (default 0.25)"), Fraction(1, 4)),
        Param("label", Text(), N_("the criteria's words for how the points are judged"),
              "Điểm do người chấm nhập, có lý do và tài liệu kiểm chứng"),
    )

    def build(self, values, sub_max, metric, report):
        return ManualParams(values["step"], values["label"])

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

    def appraisal_problem(self, sub, points):
        if points % sub.params.step:
            return _("{points} points is not a multiple of the step {step} of item {code} (manual)").format(
                points=exact_text(points), step=exact_text(sub.params.step), code=sub.code)
        return None

    def next_target(self, sub, points, quantity, wording=LABELS):
        most = wording.number(sub.max)
        return Target(sub.max, "điểm tối đa", f"Điểm do Hội đồng thẩm định đánh giá, tối đa {most} điểm", "entered")
