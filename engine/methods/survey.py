"""Survey: answer-option counts weighted into a score (e.g. A–E = 100/60/20/0/0 %), or a
satisfaction percentage; points = maximum × score ÷ `full_at`. Never self-scored."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import lcm

from ..core.i18n import N_
from .base import base_quantity
from .params import REQUIRED, Number, Param, Table, Text
from .proportional import FULL_AT, Proportional


@dataclass(frozen=True)
class SurveyParams:
    weights: tuple[tuple[str, Fraction], ...]  # empty for a satisfaction percentage
    full_at: Fraction
    words: str


class Survey(Proportional):
    """Scored like `proportional` once the answers are weighted into a score."""

    name = "survey"
    metric_kinds = ("responses", "percent")
    survey_only = True
    parameters = (
        Param("weights", Table(Number(maximum=Fraction(100), range_words=N_("a weight is a percent from 0 to 100")),
                               "a mapping of answer option to percent", keys=lambda metric: metric.options,
                               key_words=N_("answer option"), every=True, missing_words=N_("has no weight")),
              "responses metric: mapping answer option -> percent (0–100); every option needed", REQUIRED,
              kinds=("responses",)),
        Param("full_at", FULL_AT, N_("score (percent) from which the maximum is reached (default 100)"), 100),
        Param("label", Text(), N_("the criteria's words for the score"), "Điểm khảo sát (%)"),
    )

    def build(self, values, sub_max, metric, report):
        weights = values["weights"] or {}
        return SurveyParams(tuple((o, weights[o]) for o in metric.options if o in weights), values["full_at"],
                            values["label"])

    def quantity(self, params, metric, value, measure):
        if metric.kind != "responses":
            return base_quantity(metric, value, measure)
        counts = value.value
        weights = dict(params.weights)
        # the weights over their common denominator: the weighted sum in integers, one Fraction made
        common = lcm(*(w.denominator for w in weights.values()))
        whole = {o: w.numerator * (common // w.denominator) for o, w in weights.items()}
        return Fraction(sum(c * whole[o] for o, c in counts.items()), sum(counts.values()) * common)
