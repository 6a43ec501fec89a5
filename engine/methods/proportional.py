"""Proportional: maximum × value ÷ `full_at` (default 100 %), capped at the maximum."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..i18n import _
from ..numbers import exact_text
from .base import ScoringMethod, number, proportional_branches


@dataclass(frozen=True)
class ProportionalParams:
    full_at: Fraction
    words: str


class Proportional(ScoringMethod):
    name = "proportional"
    metric_kinds = ("percent", "tasks")
    parameters = {"full_at": "value (percent) from which the maximum is reached (default 100)",
                  "label": "the criteria's words for the value (default: Tỷ lệ đạt)"}
    defaults = {"full_at": 100, "label": "Tỷ lệ đạt (%)"}

    def parse(self, raw, sub_max, metric, report):
        full_at = number(raw.get("full_at", 100), ("full_at",), report)
        if full_at is None:
            return None
        if not 0 < full_at <= 100:
            report(("full_at",), _("full_at must be above 0 and at most 100, got {value}").format(
                value=exact_text(full_at)))
            return None
        return ProportionalParams(full_at, str(raw.get("label", self.defaults["label"])))

    def branches(self, params, sub_max, metric):
        return proportional_branches(params.full_at, params.words)

    def points(self, params, sub_max, branch, quantity):
        return sub_max if branch == "full" else sub_max * quantity / params.full_at
