"""Manual: points a person enters within [0, max] on an allowed step, with a reason and evidence."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..core.model import Always, Branch
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
        Param("step", Number(above=Fraction(0)), "allowed step of the entered points (default 0.25)", Fraction(1, 4)),
        Param("label", Text(), "the criteria's words for how the points are judged",
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
            return f"manual points {exact_text(pts)} exceed the item's maximum {exact_text(sub_max)}"
        if pts % params.step:
            return f"manual points {exact_text(pts)} are not a multiple of the step {exact_text(params.step)}"
        if not value.reason:
            return "manual points need a reason"
        if value.citation is None:
            return "manual points need a citation (tài liệu kiểm chứng)"
        return None

    def appraisal_problem(self, sub, points):
        if points % sub.params.step:
            return (f"{exact_text(points)} points is not a multiple of the step {exact_text(sub.params.step)} "
                    f"of item {sub.code} (manual)")
        return None

    def next_target(self, sub, points, quantity, wording=LABELS):
        most = wording.number(sub.max)
        return Target(sub.max, "điểm tối đa", f"Điểm do Hội đồng thẩm định đánh giá, tối đa {most} điểm")
