"""Survey: answer-option counts weighted into a score (e.g. A–E = 100/60/20/0/0 %), or a
satisfaction percentage; points = maximum × score ÷ `full_at`. Never self-scored."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..i18n import _
from ..numbers import exact_text
from .base import ScoringMethod, base_quantity, number, proportional_branches


@dataclass(frozen=True)
class SurveyParams:
    weights: tuple[tuple[str, Fraction], ...]  # empty for a satisfaction percentage
    full_at: Fraction
    words: str


class Survey(ScoringMethod):
    name = "survey"
    metric_kinds = ("responses", "percent")
    survey_only = True
    parameters = {
        "weights": "responses metric: mapping answer option -> percent (0–100); every option needed",
        "full_at": "score (percent) from which the maximum is reached (default 100)",
        "label": "the criteria's words for the score",
    }
    defaults = {"full_at": 100, "label": "Điểm khảo sát (%)"}

    def parse(self, raw, sub_max, metric, report):
        full_at = number(raw.get("full_at", 100), ("full_at",), report)
        if full_at is None:
            return None
        if not 0 < full_at <= 100:
            report(("full_at",), _("full_at must be above 0 and at most 100, got {value}").format(
                value=exact_text(full_at)))
            return None
        weights: dict[str, Fraction] = {}
        ok = True
        if metric.kind == "responses":
            raw_w = raw.get("weights")
            if not isinstance(raw_w, dict):
                report(("weights",), _("weights: expected a mapping of answer option to percent"))
                return None
            for opt in metric.options:
                if opt not in raw_w:
                    report(("weights",), _("answer option {option!r} has no weight").format(option=opt))
                    ok = False
            for opt, w in raw_w.items():
                if opt not in metric.options:
                    report(("weights", opt), _("unknown answer option {option!r}; the metric has: {options}").format(
                        option=opt, options=', '.join(metric.options)))
                    ok = False
                    continue
                value = number(w, ("weights", opt), report)
                if value is None or value > 100:
                    if value is not None:
                        report(("weights", opt), _("a weight is a percent from 0 to 100, got {value}").format(
                            value=exact_text(value)))
                    ok = False
                    continue
                weights[opt] = value
        elif "weights" in raw:
            report(("weights",), _("weights apply to a responses metric, not to a percentage"))
            ok = False
        if not ok:
            return None
        return SurveyParams(tuple((o, weights[o]) for o in metric.options if o in weights), full_at,
                            str(raw.get("label", self.defaults["label"])))

    def quantity(self, params, metric, value, measure):
        if metric.kind != "responses":
            return base_quantity(metric, value, measure)
        counts = value.value
        total = sum(counts.values())
        weights = dict(params.weights)
        return Fraction(sum(c * weights[o] for o, c in counts.items()), total)

    def branches(self, params, sub_max, metric):
        return proportional_branches(params.full_at, params.words)

    def points(self, params, sub_max, branch, quantity):
        return sub_max if branch == "full" else sub_max * quantity / params.full_at
