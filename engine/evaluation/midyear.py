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

The projection is scored with the item's own rule and its conditions (docs/criteria-format.md,
"Compound conditions"), the metrics they read projected by the same rules (other kinds as they are);
the item is `on_track` when that gives its best points, else `at_risk`; `no_data` when the
year-to-date evidence has no value for it or for a metric its conditions read. A knock-out that
already holds on the year-to-date figures caps the best points still reachable, and `limit` says
why; the target names the extra requirement of the best band.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction
from typing import Optional, Sequence

from .. import methods
from ..core.conditions import holds, limit_words, lowest_cap
from ..core.errors import InputError, Problem
from ..core.i18n import _
from ..core.model import CriteriaSet, EvidenceRecord, Quantity, SubCriterion
from ..core.numbers import display, exact_text, to_fraction
from .evaluate import condition_quantities

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
    best_points: Fraction  # the most the item can still give (a knock-out that holds caps it)
    max: Fraction
    status: str  # on_track / at_risk / no_data
    value: Optional[Fraction] = None  # year to date
    projected: Optional[Fraction] = None  # at the end of the period, at the current pace
    projected_points: Optional[Fraction] = None
    condition: str = ""  # the item's words for the band the projection falls in
    location: str = ""
    limit: str = ""  # why `best_points` is below the item's best: the knock-outs that hold


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


def project(kind: str, value: Quantity, elapsed: Elapsed) -> Quantity:
    """A year-to-date value at the end of the period, at the current pace (see the module's rules)."""
    if kind == "percent" or not isinstance(value, Fraction):
        return value
    projected = value / elapsed.fraction
    return min(projected, Fraction(100)) if kind == "tasks" else projected


def check_unit(criteria: CriteriaSet, rec: EvidenceRecord, elapsed: Elapsed) -> UnitMidyear:
    checks = []
    for sub in targets(criteria):
        if not sub.applies(rec.unit_type) or sub.code in rec.not_applicable:
            continue
        spec = criteria.metrics[sub.metric]
        rule = "rate" if spec.kind == "percent" else "extrapolated"
        method = methods.get(sub.method)
        conds = sub.conditions
        now = dict(condition_quantities(criteria, conds.metrics(), rec)) if conds else {}
        absent = next((m for m, q in now.items() if q is None), None)
        held = conds.held(now) if conds and absent is None else ()
        best = method.best_reachable(sub, held, TARGET_WORDING)
        base = dict(code=sub.code, title=sub.title, metric=sub.metric, kind=spec.kind, method=sub.method, rule=rule,
                    target=best.values, best_points=best.points, max=sub.max,
                    limit=limit_words(held, TARGET_WORDING.number) if best.points < method.best_points(sub) else "")
        value = rec.values.get(sub.metric)
        if value is None:
            checks.append(TargetCheck(status="no_data", **base))
            continue
        q = method.quantity(sub.params, spec, value, sub.measure)
        projected = project(spec.kind, q, elapsed)
        if absent is not None:
            checks.append(TargetCheck(status="no_data", value=q, projected=projected, location=str(value.location),
                                      condition=f"thiếu số liệu chỉ tiêu {absent} mà điều kiện của tiêu chí cần",
                                      **base))
            continue
        hits = [b for b in sub.branches if b.condition.contains(projected)]
        points, label = None, ""
        if len(hits) == 1:
            paced = {m: project(criteria.metrics[m].kind, v, elapsed) for m, v in now.items()}
            points, label = _scored(sub, method, hits[0], projected, paced, held)
        status = "on_track" if points is not None and points >= method.best_points(sub) else "at_risk"
        checks.append(TargetCheck(status=status, value=q, projected=projected, projected_points=points,
                                  condition=label, location=str(value.location), **base))
    return UnitMidyear(rec.unit_id, rec.unit_name, rec.unit_type, rec.period, tuple(checks))


def _scored(sub: SubCriterion, method, branch, projected: Quantity, paced: dict, held: tuple) -> tuple[Fraction, str]:
    """The points and words of a projection in `branch`, under the item's conditions read on the
    projected figures (`paced`); `held`: the knock-outs that hold already."""
    points, label = method.points(sub.params, sub.max, branch.key, projected), branch.label
    conds = sub.conditions
    if conds is None:
        return points, label
    required = conds.requirement(branch.key)
    if required is not None and not holds(required.require, paced):
        points, label = required.points, required.label
    knocked = tuple(k for k in conds.knock_outs if k in held or k in conds.held(paced))
    if knocked:
        points, label = min(points, lowest_cap(knocked)), "; ".join(k.label for k in knocked)
    return points, label


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
                "condition": c.condition, "location": c.location, "limit": c.limit,
            } for c in u.checks],
        } for u in units],
    }
