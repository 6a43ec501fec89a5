"""Pass / fail: the item's maximum (or `pass` points) when met, else `fail` points (0)."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..core.model import Branch, Category
from ..core.i18n import N_
from .base import LABELS, ScoringMethod, Target
from .params import ITEM_MAX, Number, Param, Text


@dataclass(frozen=True)
class PassFailParams:
    passed: Fraction
    failed: Fraction
    pass_label: str
    fail_label: str


class PassFail(ScoringMethod):
    name = "pass_fail"
    points_from_branch = True
    metric_kinds = ("boolean",)
    parameters = (
        Param("pass", Number(points=True), N_("points when met (default: the item's maximum)"), ITEM_MAX),
        Param("fail", Number(points=True), N_("points when not met (default 0)"), 0),
        Param("pass_label", Text(), N_("the criteria's words for met"), "Đạt"),
        Param("fail_label", Text(), N_("the words for not met"), "Không đạt"),
    )

    def build(self, values, sub_max, metric, report):
        return PassFailParams(values["pass"], values["fail"], values["pass_label"], values["fail_label"])

    def branches(self, params, sub_max, metric):
        return (Branch("yes", params.pass_label, Category("yes")),
                Branch("no", params.fail_label, Category("no")))

    def points(self, params, sub_max, branch, quantity):
        return params.passed if branch == "yes" else params.failed

    def point_values(self, sub):
        return tuple(sorted({sub.params.passed, sub.params.failed}, reverse=True))

    def best(self, sub, wording=LABELS):
        return Target(self.best_points(sub), sub.params.pass_label, sub.params.pass_label, "yes")

    def next_target(self, sub, points, quantity, wording=LABELS):
        return Target(sub.params.passed, sub.params.pass_label, sub.params.pass_label, "yes")
