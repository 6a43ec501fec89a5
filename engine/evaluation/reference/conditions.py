"""Compound conditions, decided directly on a unit's values (the semantics of
docs/criteria-format.md, "Compound conditions"): a band's requirement, knock-outs and consistency
rules. Every metric a condition names must have a value; the caller reports the first without one."""
from __future__ import annotations

from fractions import Fraction
from typing import Optional

from ...core.conditions import AllOf, AnyOf, Cond, Not, Relation, Comparison
from ...core.model import CriteriaSet, EvidenceRecord, MetricSpec, MetricValue, Quantity


def value_of(metric: MetricSpec, value: MetricValue) -> Quantity:
    """What a condition tests in a metric: the number, or the category (a date: on time or not)."""
    raw = value.value
    if metric.kind == "boolean":
        return "yes" if raw else "no"
    if metric.kind == "date":
        if raw is None:
            return "not_done"
        return "late" if metric.deadline is not None and raw > metric.deadline else "on_time"
    if metric.kind == "category":
        return raw
    return Fraction(raw)


def first_missing(names, rec: EvidenceRecord) -> Optional[str]:
    return next((m for m in names if m not in rec.values), None)


def _compare(a: Fraction, op: str, b: Fraction) -> bool:
    if op == "gt":
        return a > b
    if op == "ge":
        return a >= b
    if op == "lt":
        return a < b
    if op == "le":
        return a <= b
    if op == "eq":
        return a == b
    return a != b


def holds(cond: Cond, criteria: CriteriaSet, rec: EvidenceRecord) -> bool:
    def of(mid: str) -> Quantity:
        return value_of(criteria.metrics[mid], rec.values[mid])

    if isinstance(cond, Comparison):
        return of(cond.metric) == cond.value if cond.op == "is" else _compare(of(cond.metric), cond.op, cond.value)
    if isinstance(cond, Relation):
        return _compare(of(cond.metric), cond.op, of(cond.other))
    if isinstance(cond, Not):
        return not holds(cond.part, criteria, rec)
    if isinstance(cond, AllOf):
        return all(holds(p, criteria, rec) for p in cond.parts)
    if isinstance(cond, AnyOf):
        return any(holds(p, criteria, rec) for p in cond.parts)
    raise TypeError(f"not a condition: {cond!r}")
