"""Each scoring method's outcome, written from its documented semantics (docs/criteria-format.md):
for an item and its quantity, the outcome's key (which names the criteria's words for it in the
loaded set) and its exact points, or None when no band holds the value. Only the parameters of the
loaded criteria set are read, never the branches built from them."""
from __future__ import annotations

from fractions import Fraction
from typing import Callable, Optional

from ...core.errors import EngineError
from ...core.model import Quantity, SubCriterion

Outcome = Optional[tuple[str, Fraction]]


class Overlap(Exception):
    """More than one band of an item holds the value."""


def _in_band(q: Fraction, band) -> bool:
    above_lo = band.lo is None or q > band.lo or (band.lo_closed and q == band.lo)
    below_hi = band.hi is None or q < band.hi or (band.hi_closed and q == band.hi)
    return above_lo and below_hi


def tiers(sub: SubCriterion, q: Quantity) -> Outcome:
    held = [n for n, tier in enumerate(sub.params.tiers, start=1) if _in_band(q, tier.interval)]
    if len(held) > 1:
        raise Overlap()
    if not held:
        return None
    return f"t{held[0]}", sub.params.tiers[held[0] - 1].points


def categories(sub: SubCriterion, q: Quantity) -> Outcome:
    for category, pts in sub.params.points:
        if category == q:
            return category, pts
    return None


def pass_fail(sub: SubCriterion, q: Quantity) -> Outcome:
    return {"yes": ("yes", sub.params.passed), "no": ("no", sub.params.failed)}.get(q)


def proportional(sub: SubCriterion, q: Quantity) -> Outcome:
    """max × q ÷ full_at, reaching the maximum at full_at (survey scores are scored the same way)."""
    share = q / sub.params.full_at
    return ("full", sub.max) if share >= 1 else ("part", share * sub.max)


def deductions(sub: SubCriterion, q: Quantity) -> Outcome:
    left = sub.max - sub.params.per_occurrence * q
    return ("floor", sub.params.floor) if left <= sub.params.floor else ("deduct", left)


def bonus(sub: SubCriterion, q: Quantity) -> Outcome:
    earned = sub.params.per_occurrence * q
    return ("cap", sub.params.cap) if earned >= sub.params.cap else ("bonus", earned)


def manual(sub: SubCriterion, q: Quantity) -> Outcome:
    return "entered", q


OUTCOMES: dict[str, Callable[[SubCriterion, Quantity], Outcome]] = {
    "tiers": tiers, "categories": categories, "pass_fail": pass_fail, "proportional": proportional,
    "survey": proportional, "deductions": deductions, "bonus": bonus, "manual": manual,
}


def outcome(sub: SubCriterion, q: Quantity) -> Outcome:
    try:
        scorer = OUTCOMES[sub.method]
    except KeyError:
        raise EngineError(f"item {sub.code}: the reference evaluator has no method {sub.method!r}") from None
    return scorer(sub, q)
