"""From evidence to decisions: plan the cases, let an evaluator pick branches, prove completeness,
then compute exact points and roll them up."""
from __future__ import annotations

from collections import Counter
from fractions import Fraction
from typing import Iterable, Protocol, Sequence

from . import methods
from .aggregate import roll_up
from .errors import EngineError, IncompleteEvaluationError
from .i18n import _
from .model import (MISSING, NOTE_MISSING, NOTE_NO_BAND, NOTE_NO_CITATION, NOTE_NOT_FOR_UNIT_TYPE, Case,
                    CriteriaSet, Decision, EvidenceRecord, Input, SubCriterion, UnitResult, Verdict)
from .numbers import exact_text


class Evaluator(Protocol):
    """Picks, for each case, the branch whose condition the quantity meets."""

    name: str

    def verdicts(self, criteria: CriteriaSet, cases: Sequence[Case]) -> list[Verdict]: ...


class WholeEvaluator(Protocol):
    """Scores every unit by a separately written whole path of its own (engine/reference): quantity,
    points, roll-ups and totals, with nothing taken from this module, the methods or the roll-up."""

    name: str

    def decide(self, criteria: CriteriaSet, records: Sequence[EvidenceRecord]) -> list[UnitResult]: ...


def plan(criteria: CriteriaSet, records: Iterable[EvidenceRecord]) -> tuple[list[Case], list[Decision]]:
    """Every (unit, sub-criterion): a case for the evaluator, or a not-applicable decision."""
    cases, not_applicable = [], []
    subs = criteria.sub_criteria()
    for rec in records:
        for sub in subs:
            reason = _not_applicable(sub, rec)
            if reason:
                not_applicable.append(Decision(rec.unit_id, sub.code, "not_applicable", sub.method,
                                               Fraction(0), sub.max, note=reason))
                continue
            value = rec.values.get(sub.metric)
            quantity = None
            if value is not None:
                m = methods.get(sub.method)
                quantity = m.quantity(sub.params, criteria.metrics[sub.metric], value, sub.measure)
            cases.append(Case(rec.unit_id, sub.code, quantity))
    return cases, not_applicable


def _not_applicable(sub: SubCriterion, rec: EvidenceRecord) -> str:
    if not sub.applies(rec.unit_type):
        return NOTE_NOT_FOR_UNIT_TYPE.format(unit_type=rec.unit_type)
    return rec.not_applicable.get(sub.code, "")


def prove_complete(cases: Sequence[Case], verdicts: Sequence[Verdict]) -> None:
    """Every case has exactly one verdict and no verdict answers a case not asked."""
    asked = Counter((c.unit_id, c.code) for c in cases)
    answered = Counter((v.unit_id, v.code) for v in verdicts)
    missing = [k for k in asked if answered[k] < asked[k]]
    duplicated = [k for k, n in answered.items() if n > asked.get(k, 0)]
    if missing or duplicated:
        raise IncompleteEvaluationError(missing, duplicated)


def decide(criteria: CriteriaSet, records: Sequence[EvidenceRecord],
           evaluator: Evaluator | WholeEvaluator) -> list[UnitResult]:
    """Score every unit; raise `IncompleteEvaluationError` unless every applicable item is decided once.
    A `WholeEvaluator` (the reference) is handed the whole job instead."""
    if not hasattr(evaluator, "verdicts"):
        return evaluator.decide(criteria, records)
    cases, fixed = plan(criteria, records)
    verdicts = evaluator.verdicts(criteria, cases)
    prove_complete(cases, verdicts)
    subs = {s.code: s for s in criteria.sub_criteria()}
    by_unit: dict[str, list[Decision]] = {r.unit_id: [] for r in records}
    for d in fixed:
        by_unit[d.unit_id].append(d)
    quantities = {(c.unit_id, c.code): c.quantity for c in cases}
    recs = {r.unit_id: r for r in records}
    for v in verdicts:
        sub = subs[v.code]
        by_unit[v.unit_id].append(_decision(criteria, sub, recs[v.unit_id], v, quantities[(v.unit_id, v.code)]))
    order = {code: i for i, code in enumerate(subs)}
    results = []
    for rec in sorted(records, key=lambda r: r.unit_id):
        decisions = tuple(sorted(by_unit[rec.unit_id], key=lambda d: order[d.code]))
        crit, areas, total = roll_up(criteria, decisions)
        results.append(UnitResult(rec.unit_id, rec.unit_name, rec.unit_type, rec.period, decisions, crit, areas,
                                  total, rec.source))
    return results


def _decision(criteria: CriteriaSet, sub: SubCriterion, rec: EvidenceRecord, v: Verdict, quantity) -> Decision:
    value = rec.values.get(sub.metric)
    inputs = ()
    notes = []
    if value is not None:
        text = value.text()
        if sub.measure:
            text = f"{sub.measure} = {exact_text(quantity)} % ({text})"
        elif isinstance(quantity, Fraction) and value.kind == "responses":
            text = f"{text} → {exact_text(quantity)} %"
        elif isinstance(quantity, str) and value.kind == "date":
            text = f"{text} ({quantity})"
        inputs = (Input(sub.metric, text, value.citation, value.location),)
        if value.citation is None:
            notes.append(NOTE_NO_CITATION)
    if v.branch == MISSING:
        return Decision(rec.unit_id, sub.code, "missing_evidence", sub.method, Fraction(0), sub.max,
                        note=NOTE_MISSING)
    if v.branch is None:
        return Decision(rec.unit_id, sub.code, "no_matching_band", sub.method, Fraction(0), sub.max,
                        inputs=inputs, note=NOTE_NO_BAND, quantity=quantity)
    branch = next((b for b in sub.branches if b.key == v.branch), None)
    if branch is None:
        raise EngineError(_("evaluator returned unknown branch {branch!r} for item {code}").format(
            branch=v.branch, code=sub.code))
    points = methods.get(sub.method).points(sub.params, sub.max, branch.key, quantity)
    if not 0 <= points <= sub.max:
        raise EngineError(_("item {code} of unit {unit}: {points} points is outside "
                            "[0, {max}]").format(
                                code=sub.code, unit=rec.unit_id, points=exact_text(points), max=exact_text(sub.max)))
    return Decision(rec.unit_id, sub.code, "scored", sub.method, points, sub.max, branch.label, inputs,
                    "; ".join(notes), quantity)
