"""From evidence to decisions: plan the cases, let an evaluator pick branches, prove completeness,
then compute exact points and roll them up."""
from __future__ import annotations

from collections import Counter
from fractions import Fraction
from operator import attrgetter
from typing import Iterable, Optional, Protocol, Sequence

from .. import methods
from ..core.aggregate import roll_up
from ..core.conditions import OTHERWISE, broken_text, knock_out_note, unchecked_text
from ..core.errors import EngineError, EvidenceError, IncompleteEvaluationError, Location, Problem
from ..core.i18n import _
from ..core.memo import ENTRIES as MEMO_ENTRIES
from ..methods.base import base_quantity
from ..core.model import (MISSING, NOTE_CONDITION_MISSING, NOTE_KNOCKED_OUT, NOTE_MISSING, NOTE_NO_BAND, NOTE_NO_CITATION, NOTE_NOT_FOR_UNIT_TYPE, Case,
                    CriteriaSet, Decision, EvidenceRecord, Input, SubCriterion, UnitResult, Verdict)
from ..core.numbers import exact_text


_ZERO = Fraction(0)


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
    subs = [(sub, sub.code, sub.metric, sub.applies_to, methods.get(sub.method).quantity, sub.params,
             criteria.metrics.get(sub.metric), sub.measure) for sub in criteria.sub_criteria()]
    add = cases.append
    for rec in records:
        values, unit_id, unit_type, declared = rec.values, rec.unit_id, rec.unit_type, rec.not_applicable
        for sub, code, metric, applies_to, quantity_of, params, spec, measure in subs:
            if (applies_to is not None and unit_type not in applies_to) or (declared and code in declared):
                reason = _not_applicable(sub, rec)
                if reason:
                    not_applicable.append(Decision(unit_id, code, "not_applicable", sub.method, _ZERO, sub.max,
                                                   **reason))
                    continue
            value = values.get(metric)
            add(Case(unit_id, code, None if value is None else quantity_of(params, spec, value, measure),
                     _extra(criteria, sub, rec) if sub.conditions else ()))
    return cases, not_applicable


def condition_quantities(criteria: CriteriaSet, metric_ids: Iterable[str], rec: EvidenceRecord) -> tuple:
    """What conditions test in each metric: (metric, its quantity, or None when the unit gives none)."""
    out = []
    for mid in metric_ids:
        value = rec.values.get(mid)
        out.append((mid, None if value is None else base_quantity(criteria.metrics[mid], value, "")))
    return tuple(out)


def _extra(criteria: CriteriaSet, sub: SubCriterion, rec: EvidenceRecord) -> tuple:
    return condition_quantities(criteria, sub.conditions.metrics(), rec) if sub.conditions else ()


def _not_applicable(sub: SubCriterion, rec: EvidenceRecord) -> dict:
    """Why the item is not applicable to the unit (a note code, or the unit's own reason), as the
    details of its decision; empty when it applies."""
    if not sub.applies(rec.unit_type):
        return {"notes": (NOTE_NOT_FOR_UNIT_TYPE,)}
    reason = rec.not_applicable.get(sub.code, "")
    return {"reason": reason} if reason else {}


def prove_complete(cases: Sequence[Case], verdicts: Sequence[Verdict]) -> bool:
    """Every case has exactly one verdict and no verdict answers a case not asked. True when the
    verdicts answer the cases one each, in their order: that proves it without counting."""
    if len(verdicts) == len(cases) and all(v.unit_id == c.unit_id and v.code == c.code
                                           for v, c in zip(verdicts, cases)):
        return True
    key = attrgetter("unit_id", "code")
    asked = Counter(map(key, cases))
    answered = Counter(map(key, verdicts))
    missing = [k for k in asked if answered[k] < asked[k]]
    duplicated = [k for k, n in answered.items() if n > asked.get(k, 0)]
    if missing or duplicated:
        raise IncompleteEvaluationError(missing, duplicated)
    return False


def decide(criteria: CriteriaSet, records: Sequence[EvidenceRecord],
           evaluator: Evaluator | WholeEvaluator) -> list[UnitResult]:
    """Score every unit; raise `IncompleteEvaluationError` unless every applicable item is decided once.
    A `WholeEvaluator` (the reference) is handed the whole job instead."""
    if not hasattr(evaluator, "verdicts"):
        return evaluator.decide(criteria, records)
    cases, fixed = plan(criteria, records)
    verdicts = evaluator.verdicts(criteria, cases)
    in_order = prove_complete(cases, verdicts)
    warnings = _consistency(criteria, records, evaluator)
    subs = {s.code: s for s in criteria.sub_criteria()}
    by_unit: dict[str, list[Decision]] = {r.unit_id: [] for r in records}
    for d in fixed:
        by_unit[d.unit_id].append(d)
    recs = {r.unit_id: r for r in records}
    outcomes, rollups = _shared(criteria)
    items = {code: (sub, methods.get(sub.method).points_from_branch) for code, sub in subs.items()}
    if in_order:
        asked = [c.quantity for c in cases]  # the verdicts answer the cases one each, in their order
        # so a unit's decisions are in the items' order, unless it has a not-applicable one
        unordered = {d.unit_id for d in fixed}
    else:
        quantities = {(c.unit_id, c.code): c.quantity for c in cases}
        asked = [quantities[(v.unit_id, v.code)] for v in verdicts]
        unordered = set(by_unit)
    for v, quantity in zip(verdicts, asked):
        sub, by_branch = items[v.code]
        by_unit[v.unit_id].append(_decision(criteria, sub, recs[v.unit_id], v, quantity, outcomes, by_branch))
    order = {code: i for i, code in enumerate(subs)}
    results = []
    for rec in sorted(records, key=lambda r: r.unit_id):
        decided = by_unit[rec.unit_id]
        decisions = tuple(sorted(decided, key=lambda d: order[d.code]) if rec.unit_id in unordered else decided)
        crit, areas, total = roll_up(criteria, decisions, rollups)
        results.append(UnitResult(rec.unit_id, rec.unit_name, rec.unit_type, rec.period, decisions, crit, areas,
                                  total, rec.source, warnings.get(rec.unit_id, ())))
    return results


_SHARED: list = []  # [criteria, outcomes, roll-ups] of the criteria set last decided


def _shared(criteria: CriteriaSet) -> tuple[dict, dict]:
    """What the units decided against `criteria` share, kept from call to call (the pieces of one
    run): what a verdict makes of a quantity (`_decision`) and the roll-ups (`roll_up`), each
    worked out once. Both depend on the criteria set and their keys alone, never on a unit."""
    shared = _SHARED[0] if _SHARED else None
    if shared is None or shared[0] is not criteria:
        shared = [criteria, {}, {}]
        _SHARED[:] = [shared]
    for kept in shared[1:]:  # bounded (engine.core.memo), checked once a call: a call adds one piece's worth
        if len(kept) >= MEMO_ENTRIES:
            kept.clear()
    return shared[1], shared[2]


def _consistency(criteria: CriteriaSet, records: Sequence[EvidenceRecord], evaluator) -> dict[str, tuple]:
    """Ask the evaluator which consistency rules each unit breaks; raise `EvidenceError` for every
    broken error rule, return the warnings per unit."""
    if not criteria.consistency:
        return {}
    asked = [(rec, rule, condition_quantities(criteria, rule.metrics(), rec))
             for rec in records for rule in criteria.consistency]
    answers = evaluator.consistency(criteria, [(rule, q) for _, rule, q in asked])
    warnings: dict[str, list[str]] = {}
    errors = []
    for (rec, rule, _), (broken, missing) in zip(asked, answers):
        if missing:
            warnings.setdefault(rec.unit_id, []).append(unchecked_text(rule, rec.unit_id, missing))
        elif broken:
            text = broken_text(rule, rec.unit_id, [(m, rec.values[m].text(), rec.values[m].location)
                                                    for m in rule.metrics()])
            if rule.severity == "error":
                errors.append(Problem.at(_first_location(rule, rec), text))
            else:
                warnings.setdefault(rec.unit_id, []).append(text)
    if errors:
        raise EvidenceError(errors)
    return {u: tuple(w) for u, w in warnings.items()}


def _first_location(rule, rec: EvidenceRecord) -> Location:
    return next((rec.values[m].location for m in rule.metrics() if m in rec.values), rule.location)


def _decision(criteria: CriteriaSet, sub: SubCriterion, rec: EvidenceRecord, v: Verdict, quantity,
              outcomes: Optional[dict] = None, by_branch: bool = False) -> Decision:
    """The unit's decision on an item from the evaluator's verdict. What a verdict makes of a
    quantity (status, points, label, notes) depends on nothing of the unit else: with `outcomes`
    it is worked out once for all units that share it (`by_branch`: all units in the same branch,
    whatever their quantity, when the item's method takes its points from the branch alone), and
    only the inputs are the unit's own."""
    value = rec.values.get(sub.metric)
    inputs = ()
    notes: tuple[str, ...] = ()
    if value is not None:
        text = value.text()
        if sub.measure:
            text = f"{sub.measure} = {exact_text(quantity)} % ({text})"
        elif quantity.__class__ is Fraction and value.kind == "responses":
            text = f"{text} → {exact_text(quantity)} %"
        elif quantity.__class__ is str and value.kind == "date":
            text = f"{text} ({quantity})"
        citation = value.citation
        inputs = (Input(sub.metric, text, citation, value.location),)
        if sub.conditions:
            inputs += _condition_inputs(criteria, sub, rec)
            if citation is None or any(i.citation is None for i in inputs):
                notes = (NOTE_NO_CITATION,)
        elif citation is None:
            notes = (NOTE_NO_CITATION,)
    branch = v.branch
    if branch == MISSING:
        if v.missing_metric:
            return Decision(rec.unit_id, sub.code, "missing_evidence", sub.method, _ZERO, sub.max,
                            notes=(NOTE_CONDITION_MISSING,), note_values=(("metric", v.missing_metric),))
        return Decision(rec.unit_id, sub.code, "missing_evidence", sub.method, _ZERO, sub.max,
                        notes=(NOTE_MISSING,))
    if branch is None:
        return Decision(rec.unit_id, sub.code, "no_matching_band", sub.method, _ZERO, sub.max,
                        inputs=inputs, notes=(NOTE_NO_BAND,), quantity=quantity)
    if outcomes is None:
        points, label, knocked = _outcome(sub, rec, v, quantity)
    else:
        if by_branch:
            key = (sub.code, branch, v.knock_outs)
        elif quantity.__class__ is Fraction:  # Fractions hash slowly: one is keyed by its two integers
            key = (sub.code, branch, v.knock_outs, quantity.numerator, quantity.denominator)
        else:
            key = (sub.code, branch, v.knock_outs, quantity)
        found = outcomes.get(key)
        if found is None:
            found = outcomes[key] = _outcome(sub, rec, v, quantity)
        points, label, knocked = found
    if knocked is not None:
        return Decision(rec.unit_id, sub.code, "scored", sub.method, points, sub.max, label, inputs,
                        (NOTE_KNOCKED_OUT,) + notes, quantity, note_values=knocked)
    return Decision(rec.unit_id, sub.code, "scored", sub.method, points, sub.max, label, inputs, notes, quantity)


def _outcome(sub: SubCriterion, rec: EvidenceRecord, v: Verdict, quantity) -> tuple:
    """A matched branch's points and label, and the words of the knock-outs that capped them (None
    when none held)."""
    key = v.branch[:-len(OTHERWISE)] if v.branch.endswith(OTHERWISE) else v.branch
    branch = next((b for b in sub.branches if b.key == key), None)
    requirement = sub.conditions.requirement(key) if sub.conditions else None
    if branch is None or (key != v.branch and requirement is None):
        raise EngineError(_("evaluator returned unknown branch {branch!r} for item {code}").format(
            branch=v.branch, code=sub.code))
    if key != v.branch:
        points, label = requirement.points, requirement.label
    else:
        points, label = methods.get(sub.method).points(sub.params, sub.max, branch.key, quantity), branch.label
    if not 0 <= points <= sub.max:
        raise EngineError(_("item {code} of unit {unit}: {points} points is outside "
                            "[0, {max}]").format(
                                code=sub.code, unit=rec.unit_id, points=exact_text(points), max=exact_text(sub.max)))
    if v.knock_outs:
        held = [sub.conditions.knock_outs[n] for n in v.knock_outs]
        knocked = knock_out_note(held, label, points)
        points = min([points] + [k.cap for k in held])
        label = "; ".join(k.label for k in held)
        return points, label, knocked
    return points, label, None


def _condition_inputs(criteria: CriteriaSet, sub: SubCriterion, rec: EvidenceRecord) -> tuple[Input, ...]:
    """The values the item's conditions read, besides its own metric, as the trace shows them."""
    if not sub.conditions:
        return ()
    out = []
    for mid in sub.conditions.metrics():
        value = rec.values.get(mid)
        if mid == sub.metric or value is None:
            continue
        text = value.text()
        if value.kind == "date":
            text = f"{text} ({base_quantity(criteria.metrics[mid], value, '')})"
        out.append(Input(mid, text, value.citation, value.location))
    return tuple(out)
