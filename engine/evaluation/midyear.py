"""Mid-year check: is each unit on pace to reach the criteria set's annual targets?

A target is the best outcome of a self-assessed item read from a number (tiers, proportional,
deductions, bonus: metrics of kind percent, count or tasks). From year-to-date evidence and the share
of the year elapsed, each item's value is projected to the year's end:

- a count (files, reports, awards, late reports …) accumulates over the year: linear
  extrapolation, value ÷ elapsed;
- a task list's completion (completion_rate, on_time_rate) accumulates too: rate ÷ elapsed, capped
  at 100 %;
- a percentage (a rate or share, e.g. files handled on time) does not accumulate: the rate itself is
  the projection.

The projection is scored with the item's own rule; the item is `on_track` when that gives its best
points, else `at_risk`; `no_data` when the year-to-date evidence has no value for it.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction
from typing import Optional, Sequence

from .. import methods
from ..core.errors import InputError, Problem
from ..core.i18n import _
from ..core.model import CriteriaSet, EvidenceRecord, SubCriterion
from ..core.numbers import display, exact_text, to_fraction

MIDYEAR_FORMAT = "cchc-midyear/1"
PROJECTED_KINDS = ("percent", "count", "tasks")
STATUSES = ("on_track", "at_risk", "no_data")
TARGET_WORDING = methods.Wording(exact_text)  # a target in the JSON: exact, as written in the criteria


@dataclass(frozen=True)
class Elapsed:
    """The share of the period elapsed: from `--as-of` (days of its calendar year, 1 January
    counted, the day itself included) or given directly (`--elapsed 4/12`)."""

    fraction: Fraction
    as_of: Optional[date] = None


def elapsed_from(as_of: Optional[str], elapsed: Optional[str]) -> Elapsed:
    """Exactly one of `as_of` (YYYY-MM-DD) and `elapsed` (a fraction `4/12`, a decimal `0.25` or a
    percent `25%`), in (0, 1]."""
    if (as_of is None) == (elapsed is None):
        raise InputError([Problem("--as-of / --elapsed", message=_("give exactly one of --as-of DATE and "
                                                                    "--elapsed FRACTION"))])
    if as_of is not None:
        text = as_of.strip()
        try:  # 2020-04-30, or as written in Vietnamese: 30/04/2020
            day = datetime.strptime(text, "%d/%m/%Y").date() if "/" in text else date.fromisoformat(text)
        except ValueError:
            raise InputError([Problem("--as-of", message=_("{value!r} is not a date written YYYY-MM-DD or "
                                                           "dd/mm/yyyy").format(value=as_of))]) from None
        days = 366 if calendar.isleap(day.year) else 365
        return Elapsed(Fraction(day.timetuple().tm_yday, days), day)
    text = elapsed.strip()
    if "," in text and "." not in text:  # the Vietnamese decimal comma: 0,33
        text = text.replace(",", ".")
    try:
        value = to_fraction(text[:-1]) / 100 if text.endswith("%") else to_fraction(text)
    except (ValueError, TypeError, ArithmeticError):
        raise InputError([Problem("--elapsed", message=_("{value!r} is not an exact fraction (e.g. 4/12, 0,25 or "
                                                         "25%)").format(value=elapsed))]) from None
    if not 0 < value <= 1:
        raise InputError([Problem("--elapsed", message=_("the share of the year elapsed must be above 0 and at "
                                                         "most 1, got {value}").format(value=exact_text(value)))])
    return Elapsed(value)


@dataclass(frozen=True)
class TargetCheck:
    code: str
    title: str
    metric: str
    kind: str
    method: str
    rule: str  # "extrapolated" (counts, task lists) or "rate" (percentages)
    target: str  # the values that give the item's best points
    best_points: Fraction
    max: Fraction
    status: str  # on_track / at_risk / no_data
    value: Optional[Fraction] = None  # year to date
    projected: Optional[Fraction] = None  # at the end of the period, at the current pace
    projected_points: Optional[Fraction] = None
    condition: str = ""  # the item's words for the band the projection falls in
    location: str = ""


@dataclass(frozen=True)
class UnitMidyear:
    unit_id: str
    name: str
    type: str
    period: str
    checks: tuple[TargetCheck, ...]

    def count(self, status: str) -> int:
        return sum(1 for c in self.checks if c.status == status)


def targets(criteria: CriteriaSet) -> list[SubCriterion]:
    """Self-assessed items read from a number: the ones a mid-year check projects."""
    return [s for s in criteria.sub_criteria()
            if s.source == "self" and criteria.metrics[s.metric].kind in PROJECTED_KINDS]


def check_unit(criteria: CriteriaSet, rec: EvidenceRecord, elapsed: Elapsed) -> UnitMidyear:
    checks = []
    for sub in targets(criteria):
        if not sub.applies(rec.unit_type) or sub.code in rec.not_applicable:
            continue
        spec = criteria.metrics[sub.metric]
        rule = "rate" if spec.kind == "percent" else "extrapolated"
        method = methods.get(sub.method)
        best = method.best(sub, TARGET_WORDING)
        base = dict(code=sub.code, title=sub.title, metric=sub.metric, kind=spec.kind, method=sub.method, rule=rule,
                    target=best.values, best_points=best.points, max=sub.max)
        value = rec.values.get(sub.metric)
        if value is None:
            checks.append(TargetCheck(status="no_data", **base))
            continue
        q = method.quantity(sub.params, spec, value, sub.measure)
        projected = q if rule == "rate" else q / elapsed.fraction
        if spec.kind == "tasks":
            projected = min(projected, Fraction(100))
        hits = [b for b in sub.branches if b.condition.contains(projected)]
        points = method.points(sub.params, sub.max, hits[0].key, projected) if len(hits) == 1 else None
        status = "on_track" if points is not None and points >= best.points else "at_risk"
        checks.append(TargetCheck(status=status, value=q, projected=projected, projected_points=points,
                                  condition=hits[0].label if len(hits) == 1 else "", location=str(value.location), **base))
    return UnitMidyear(rec.unit_id, rec.unit_name, rec.unit_type, rec.period, tuple(checks))


def check_targets(criteria: CriteriaSet, records: Sequence[EvidenceRecord], elapsed: Elapsed) -> list[UnitMidyear]:
    return [check_unit(criteria, r, elapsed) for r in sorted(records, key=lambda r: r.unit_id)]


def _x(v: Optional[Fraction]) -> Optional[str]:
    return None if v is None else exact_text(v)


def _d(v: Optional[Fraction]) -> Optional[str]:
    return None if v is None else display(v)


def midyear_json(criteria: CriteriaSet, units: Sequence[UnitMidyear], elapsed: Elapsed) -> dict:
    return {
        "format": MIDYEAR_FORMAT,
        "criteria": {"id": criteria.id, "title": criteria.title, "year": criteria.year,
                     "sha256": criteria.content_hash},
        "elapsed": exact_text(elapsed.fraction),
        "elapsed_display": display(elapsed.fraction * 100),
        "as_of": elapsed.as_of.isoformat() if elapsed.as_of else None,
        "rules": {"percent": "rate", "count": "extrapolated", "tasks": "extrapolated"},
        "units": [{
            "id": u.unit_id, "name": u.name, "type": u.type, "period": u.period,
            "counts": {s: u.count(s) for s in STATUSES},
            "targets": [{
                "code": c.code, "title": c.title, "metric": c.metric, "kind": c.kind, "method": c.method,
                "rule": c.rule, "status": c.status, "target": c.target,
                "best_points": exact_text(c.best_points), "max": exact_text(c.max),
                "value": _x(c.value), "value_display": _d(c.value),
                "projected": _x(c.projected), "projected_display": _d(c.projected),
                "projected_points": _x(c.projected_points), "projected_points_display": _d(c.projected_points),
                "condition": c.condition, "location": c.location,
            } for c in u.checks],
        } for u in units],
    }
