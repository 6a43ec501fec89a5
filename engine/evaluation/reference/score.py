"""The whole path for every unit: which items apply, the evidence each reads, the decision with its
trace, and the exact roll-ups over the applicable items."""
from __future__ import annotations

from fractions import Fraction
from typing import Sequence

from ...core.conditions import broken_text, unchecked_text
from ...core.errors import EngineError, EvidenceError, IncompleteEvaluationError, Problem
from ...core.model import (NOTE_CONDITION_MISSING, NOTE_KNOCKED_OUT, NOTE_MISSING, NOTE_NO_BAND, NOTE_NO_CITATION, NOTE_NOT_FOR_UNIT_TYPE, CriteriaSet,
                     Decision, EvidenceRecord, Input, MetricValue, Quantity, Rollup, SubCriterion, UnitResult)
from ...core.numbers import exact_text
from .conditions import first_missing, holds, value_of
from .points import Overlap, outcome
from .quantity import quantity_of


def _trace_text(sub: SubCriterion, value: MetricValue, q: Quantity) -> str:
    """The input as the trace shows it: the value as given, and what the item computed from it."""
    given = value.text()
    if sub.measure:
        return f"{sub.measure} = {exact_text(q)} % ({given})"
    if value.kind == "responses" and isinstance(q, Fraction):
        return f"{given} → {exact_text(q)} %"
    if value.kind == "date" and isinstance(q, str):
        return f"{given} ({q})"
    return given


def _label(sub: SubCriterion, key: str) -> str:
    """The criteria's own words for an outcome, as the loaded set names them."""
    for branch in sub.branches:
        if branch.key == key:
            return branch.label
    raise EngineError(f"item {sub.code}: the criteria set has no words for outcome {key!r}")


def decide_item(criteria: CriteriaSet, sub: SubCriterion, rec: EvidenceRecord) -> Decision:
    def made(status: str, points: Fraction = Fraction(0), **details) -> Decision:
        return Decision(rec.unit_id, sub.code, status, sub.method, points, sub.max, **details)

    if sub.applies_to is not None and rec.unit_type not in sub.applies_to:
        return made("not_applicable", notes=(NOTE_NOT_FOR_UNIT_TYPE,))
    if sub.code in rec.not_applicable and rec.not_applicable[sub.code]:
        return made("not_applicable", reason=rec.not_applicable[sub.code])
    value = rec.values.get(sub.metric)
    if value is None:
        return made("missing_evidence", notes=(NOTE_MISSING,))
    conds = sub.conditions
    absent = first_missing(conds.metrics(), rec) if conds else None
    if absent:
        return made("missing_evidence", notes=(NOTE_CONDITION_MISSING,), note_values=(("metric", absent),))
    q = quantity_of(sub, criteria.metrics[sub.metric], value)
    inputs = (Input(sub.metric, _trace_text(sub, value, q), value.citation, value.location),)
    if conds:
        inputs += tuple(_condition_input(criteria, m, rec.values[m]) for m in conds.metrics() if m != sub.metric)
    try:
        found = outcome(sub, q)
    except Overlap:
        raise IncompleteEvaluationError([], [(rec.unit_id, sub.code)]) from None
    if found is None:
        return made("no_matching_band", inputs=inputs, notes=(NOTE_NO_BAND,), quantity=q)
    key, points = found
    label = _label(sub, key)
    required = next((r for r in conds.requirements if r.branch == key), None) if conds else None
    if required is not None and not holds(required.require, criteria, rec):
        points, label = required.points, required.label
    if points < 0 or points > sub.max:
        raise EngineError(f"unit {rec.unit_id}, item {sub.code}: {exact_text(points)} points, but the item "
                          f"is worth 0 to {exact_text(sub.max)}")
    notes = (NOTE_NO_CITATION,) if any(i.citation is None for i in inputs) else ()
    knocked = [k for k in (conds.knock_outs if conds else ()) if holds(k.when, criteria, rec)]
    if knocked:
        names = "; ".join(k.label for k in knocked)
        values = (("labels", names), ("band", label), ("points", exact_text(points)))
        points = min(points, *(k.cap for k in knocked))
        return made("scored", points, condition=names, inputs=inputs, notes=(NOTE_KNOCKED_OUT,) + notes,
                    quantity=q, note_values=values)
    return made("scored", points, condition=label, inputs=inputs, notes=notes, quantity=q)


def _condition_input(criteria: CriteriaSet, mid: str, value: MetricValue) -> Input:
    shown = value.text()
    if value.kind == "date":
        shown = f"{shown} ({value_of(criteria.metrics[mid], value)})"
    return Input(mid, shown, value.citation, value.location)


def consistency_of(criteria: CriteriaSet, rec: EvidenceRecord) -> tuple[tuple[str, ...], list[Problem]]:
    """The unit's consistency warnings, and a problem for each broken rule of severity error."""
    warnings, errors = [], []
    for rule in criteria.consistency:
        absent = first_missing(rule.metrics(), rec)
        if absent:
            warnings.append(unchecked_text(rule, rec.unit_id, absent))
            continue
        if holds(rule.require, criteria, rec):
            continue
        shown = [(m, rec.values[m].text(), rec.values[m].location) for m in rule.metrics()]
        text = broken_text(rule, rec.unit_id, shown)
        if rule.severity == "error":
            errors.append(Problem.at(rec.values[rule.metrics()[0]].location, text))
        else:
            warnings.append(text)
    return tuple(warnings), errors


def _sum(rollups: Sequence[Rollup], code: str) -> Rollup:
    return Rollup(code, sum((r.points for r in rollups), Fraction(0)),
                  sum((r.max for r in rollups), Fraction(0)))


def score_unit(criteria: CriteriaSet, rec: EvidenceRecord, every_code: Sequence[str],
               warnings: tuple[str, ...] = ()) -> UnitResult:
    decisions, criterion_rollups, area_rollups = [], [], []
    for area in criteria.areas:
        in_area = []
        for criterion in area.criteria:
            mine = [decide_item(criteria, sub, rec) for sub in criterion.sub_criteria]
            decisions.extend(mine)
            counted = [Rollup(d.code, d.points, d.max) for d in mine if d.status != "not_applicable"]
            in_area.append(_sum(counted, criterion.code))
        criterion_rollups.extend(in_area)
        area_rollups.append(_sum(in_area, area.code))
    total = _sum(area_rollups, "total")
    codes = [d.code for d in decisions]
    if codes != every_code:
        raise IncompleteEvaluationError([(rec.unit_id, c) for c in every_code if c not in codes],
                                        [(rec.unit_id, c) for c in set(codes) if codes.count(c) > 1])
    return UnitResult(rec.unit_id, rec.unit_name, rec.unit_type, rec.period, tuple(decisions),
                      tuple(criterion_rollups), tuple(area_rollups), total, rec.source, warnings)


def score_units(criteria: CriteriaSet, records: Sequence[EvidenceRecord]) -> list[UnitResult]:
    """Every unit, in unit-id order, every item of the set decided exactly once."""
    every_code = [sub.code for area in criteria.areas for c in area.criteria for sub in c.sub_criteria]
    ordered = sorted(records, key=lambda r: r.unit_id)
    checked = [consistency_of(criteria, rec) for rec in ordered]
    errors = [p for _, found in checked for p in found]
    if errors:
        raise EvidenceError(errors)
    return [score_unit(criteria, rec, every_code, warnings) for rec, (warnings, _) in zip(ordered, checked)]
