"""Tiers: bands on a numeric metric with explicit, exact bounds (`> 90`, `[70, 90)`, `= 100`)."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..i18n import _
from ..model import Branch, Interval
from ..numbers import words_number
from .base import ScoringMethod, number, within_max

BOUND_KEYS = ("gt", "ge", "lt", "le", "eq")
SYMBOLS = {"gt": ">", "ge": "≥", "lt": "<", "le": "≤", "eq": "="}


@dataclass(frozen=True)
class Tier:
    interval: Interval
    points: Fraction
    label: str


@dataclass(frozen=True)
class TiersParams:
    tiers: tuple[Tier, ...]


def describe(bounds: dict) -> str:
    return " và ".join(f"{SYMBOLS[k]} {words_number(v)}" for k, v in bounds.items())


class Tiers(ScoringMethod):
    name = "tiers"
    metric_kinds = ("percent", "count", "tasks")
    parameters = {
        "tiers": "list of bands; each has bounds (gt, ge, lt, le or eq), points, and label "
                 "(the criteria's own words)",
    }

    def parse(self, raw, sub_max, metric, report):
        items = raw.get("tiers")
        if not isinstance(items, list) or not items:
            report(("tiers",), _("tiers: expected a non-empty list of bands"))
            return None
        tiers, ok = [], True
        for i, item in enumerate(items):
            path = ("tiers", i)
            if not isinstance(item, dict):
                report(path, _("expected a mapping with bounds, points and label"))
                ok = False
                continue
            stray = [k for k in item if k not in BOUND_KEYS + ("points", "label")]
            if stray:
                report(path, _("unknown key(s) in a band: {keys}; a band has "
                               "{bounds}, points and label (quote a label that has a comma)").format(
                                   keys=', '.join(map(str, stray)), bounds=', '.join(BOUND_KEYS)))
                ok = False
                continue
            bounds = {}
            for key in BOUND_KEYS:
                if key in item:
                    value = number(item[key], path + (key,), report, minimum=None)
                    if value is None:
                        ok = False
                    else:
                        bounds[key] = value
            if not bounds:
                report(path, _("a band needs at least one bound: gt, ge, lt, le or eq"))
                ok = False
                continue
            if "eq" in bounds and len(bounds) > 1:
                report(path, _("eq cannot be combined with other bounds"))
                ok = False
                continue
            if ("gt" in bounds and "ge" in bounds) or ("lt" in bounds and "le" in bounds):
                report(path, _("a band has two lower or two upper bounds"))
                ok = False
                continue
            pts = number(item.get("points"), path + ("points",), report)
            within_max(pts, sub_max, path + ("points",), report)
            if pts is None or pts > sub_max:
                ok = False
                continue
            if "eq" in bounds:
                iv = Interval(bounds["eq"], True, bounds["eq"], True)
            else:
                lo_key = "gt" if "gt" in bounds else "ge" if "ge" in bounds else None
                hi_key = "lt" if "lt" in bounds else "le" if "le" in bounds else None
                iv = Interval(bounds.get(lo_key) if lo_key else None, lo_key != "gt",
                              bounds.get(hi_key) if hi_key else None, hi_key != "lt")
                if iv.lo is not None and iv.hi is not None and (
                        iv.lo > iv.hi or (iv.lo == iv.hi and not (iv.lo_closed and iv.hi_closed))):
                    report(path, _("band {band} is empty").format(band=describe(bounds)))
                    ok = False
                    continue
            label = str(item.get("label") or describe(bounds))
            tiers.append(Tier(iv, pts, label))
        return TiersParams(tuple(tiers)) if ok else None

    def branches(self, params, sub_max, metric):
        return tuple(Branch(f"t{i + 1}", t.label, t.interval) for i, t in enumerate(params.tiers))

    def points(self, params, sub_max, branch, quantity):
        return params.tiers[int(branch[1:]) - 1].points
