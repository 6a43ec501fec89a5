"""Tiers: bands on a numeric metric with explicit, exact bounds (`> 90`, `[70, 90)`, `= 100`)."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Optional

from ..core.model import Branch, Interval
from ..core.i18n import N_, _
from .base import LABELS, ScoringMethod, Target, interval_words
from .params import REQUIRED, Number, Param, Records, Text

BOUND_KEYS = ("gt", "ge", "lt", "le", "eq")
BOUND_WORDS = {"gt": "above (>)", "ge": "at least (≥)", "lt": "below (<)", "le": "at most (≤)", "eq": "exactly (=)"}


@dataclass(frozen=True)
class Tier:
    interval: Interval
    points: Fraction
    label: str


@dataclass(frozen=True)
class TiersParams:
    tiers: tuple[Tier, ...]


def band_interval(band: dict) -> Interval:
    if band["eq"] is not None:
        return Interval(band["eq"], True, band["eq"], True)
    lo_key = "gt" if band["gt"] is not None else "ge" if band["ge"] is not None else None
    hi_key = "lt" if band["lt"] is not None else "le" if band["le"] is not None else None
    return Interval(band[lo_key] if lo_key else None, lo_key != "gt", band[hi_key] if hi_key else None, hi_key != "lt")


def band_problem(band: dict) -> Optional[str]:
    """What is wrong with one band's bounds, if anything."""
    given = [k for k in BOUND_KEYS if band[k] is not None]
    if not given:
        return _("a band needs at least one bound: gt, ge, lt, le or eq")
    if "eq" in given and len(given) > 1:
        return _("eq cannot be combined with other bounds")
    if ("gt" in given and "ge" in given) or ("lt" in given and "le" in given):
        return _("a band has two lower or two upper bounds")
    iv = band_interval(band)
    if iv.lo is not None and iv.hi is not None and (
            iv.lo > iv.hi or (iv.lo == iv.hi and not (iv.lo_closed and iv.hi_closed))):
        return _("band {band} is empty").format(band=interval_words(iv))
    return None


def _distance(iv: Interval, q: Fraction) -> Fraction:
    if iv.lo is not None and q < iv.lo:
        return iv.lo - q
    if iv.hi is not None and q > iv.hi:
        return q - iv.hi
    return Fraction(0)


class Tiers(ScoringMethod):
    name = "tiers"
    points_from_branch = True
    metric_kinds = ("percent", "count", "tasks")
    parameters = (
        Param("tiers", Records(
            tuple(Param(k, Number(minimum=None), f"the value is {BOUND_WORDS[k]} this") for k in BOUND_KEYS)
            + (Param("points", Number(points=True), N_("points of the band"), REQUIRED),
               Param("label", Text(), N_("the criteria's own words for the band (default: its bounds)"))),
            N_("band"), shape=N_("bounds, points and label"), note=N_("quote a label that has a comma"), check=band_problem),
              "list of bands; each has bounds (gt, ge, lt, le or eq), points, and label "
              "(the criteria's own words)", REQUIRED),
    )

    def build(self, values, sub_max, metric, report):
        return TiersParams(tuple(Tier(band_interval(b), b["points"], b["label"] or interval_words(band_interval(b)))
                                 for b in values["tiers"]))

    def branches(self, params, sub_max, metric):
        return tuple(Branch(f"t{i + 1}", t.label, t.interval) for i, t in enumerate(params.tiers))

    def points(self, params, sub_max, branch, quantity):
        return params.tiers[int(branch[1:]) - 1].points

    def point_values(self, sub):
        return tuple(sorted({t.points for t in sub.params.tiers}, reverse=True))

    def best(self, sub, wording=LABELS):
        best = self.best_points(sub)
        n, top = max(enumerate(sub.params.tiers, start=1), key=lambda nt: nt[1].points)
        return Target(best, " hoặc ".join(interval_words(t.interval, wording) for t in sub.params.tiers
                                          if t.points == best),
                      f"{top.label} ({interval_words(top.interval, wording)})", f"t{n}")

    def next_target(self, sub, points, quantity, wording=LABELS):
        better = [(n, t) for n, t in enumerate(sub.params.tiers, start=1) if t.points > points]
        if not better:
            return self.best(sub, wording)
        known = isinstance(quantity, Fraction)
        n, nearest = min(better, key=lambda nt: (nt[1].points, _distance(nt[1].interval, quantity) if known else 0))
        bound = interval_words(nearest.interval, wording, toward=quantity if known else None)
        return Target(nearest.points, bound, f"{nearest.label} ({bound})", f"t{n}")

    def band_words(self, sub, condition):
        return condition
