"""A scoring method written outside the engine, in this one file: `milestones` gives an item's full
points from `full_at` percent, half of them from `half_at`, none below. Registered by the tests that
use it through `engine.methods.register`, the way a program adds its own method."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from engine.methods import LABELS, REQUIRED, Number, Param, ScoringMethod, Target, Text, interval_words
from engine.core.model import Branch, Interval

PERCENT = Number(above=Fraction(0), maximum=Fraction(100))


@dataclass(frozen=True)
class MilestonesParams:
    full_at: Fraction
    half_at: Fraction
    words: str


class Milestones(ScoringMethod):
    name = "milestones"
    metric_kinds = ("percent",)
    parameters = (
        Param("full_at", PERCENT, "percent from which the item gives its maximum", REQUIRED),
        Param("half_at", PERCENT, "percent from which it gives half its maximum (default 50)", 50),
        Param("label", Text(), "the criteria's words for the value", "Tỷ lệ"),
    )

    def build(self, values, sub_max, metric, report):
        if values["half_at"] >= values["full_at"]:
            report(("half_at",), "half_at must be below full_at")
            return None
        return MilestonesParams(values["full_at"], values["half_at"], values["label"])

    def _intervals(self, params) -> dict[str, Interval]:
        return {"full": Interval(lo=params.full_at),
                "half": Interval(params.half_at, True, params.full_at, False),
                "none": Interval(hi=params.half_at, hi_closed=False)}

    def branches(self, params, sub_max, metric):
        return tuple(Branch(key, f"{params.words} {interval_words(iv)}", iv)
                     for key, iv in self._intervals(params).items())

    def points(self, params, sub_max, branch, quantity):
        return {"full": sub_max, "half": sub_max / 2, "none": Fraction(0)}[branch]

    def point_values(self, sub):
        return (sub.max, sub.max / 2, Fraction(0))

    def best(self, sub, wording=LABELS):
        iv = self._intervals(sub.params)["full"]
        return Target(sub.max, interval_words(iv, wording), f"{sub.params.words} {interval_words(iv, wording)}")

    def next_target(self, sub, points, quantity, wording=LABELS):
        if points >= sub.max / 2:
            return self.best(sub, wording)
        iv = self._intervals(sub.params)["half"]
        bound = interval_words(iv, wording, toward=quantity if isinstance(quantity, Fraction) else None)
        return Target(sub.max / 2, bound, f"{sub.params.words} {bound}: một nửa số điểm")

    def band_words(self, sub, condition):
        return condition
