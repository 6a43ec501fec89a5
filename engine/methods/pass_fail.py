"""Pass / fail: the item's maximum (or `pass` points) when met, else `fail` points (0)."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..model import Branch, Category
from .base import ScoringMethod, number, within_max


@dataclass(frozen=True)
class PassFailParams:
    passed: Fraction
    failed: Fraction
    pass_label: str
    fail_label: str


class PassFail(ScoringMethod):
    name = "pass_fail"
    metric_kinds = ("boolean",)
    parameters = {
        "pass": "points when met (default: the item's maximum)",
        "fail": "points when not met (default 0)",
        "pass_label": "the criteria's words for met", "fail_label": "the words for not met",
    }
    defaults = {"fail": 0, "pass_label": "Đạt", "fail_label": "Không đạt"}

    def parse(self, raw, sub_max, metric, report):
        passed = number(raw.get("pass", sub_max), ("pass",), report)
        failed = number(raw.get("fail", 0), ("fail",), report)
        within_max(passed, sub_max, ("pass",), report)
        within_max(failed, sub_max, ("fail",), report)
        if passed is None or failed is None or passed > sub_max or failed > sub_max:
            return None
        return PassFailParams(passed, failed, str(raw.get("pass_label", self.defaults["pass_label"])),
                              str(raw.get("fail_label", self.defaults["fail_label"])))

    def branches(self, params, sub_max, metric):
        return (Branch("yes", params.pass_label, Category("yes")),
                Branch("no", params.fail_label, Category("no")))

    def points(self, params, sub_max, branch, quantity):
        return params.passed if branch == "yes" else params.failed
