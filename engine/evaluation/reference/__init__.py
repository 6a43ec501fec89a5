"""The reference evaluator: a second, separately written implementation of the whole scoring path
(the quantity read from the evidence, each method's points, not-applicable items, missing evidence,
values no band holds, the roll-ups, the totals and the index), in plain Python with `Fraction`
arithmetic and no rule engine.

It shares only the loaded models (the criteria set, the evidence records, the result data shape)
with the main path; it imports nothing from engine.methods, engine.evaluation.evaluate, engine.core.aggregate or
rules (tests/test_differential.py checks this), so a slip in one implementation shows up as a
difference between the two."""
from __future__ import annotations

from typing import Sequence

from ...core.model import CriteriaSet, EvidenceRecord, UnitResult
from .compare import differences, index
from .score import score_units

__all__ = ["ReferenceEvaluator", "differences", "index", "score_units"]


class ReferenceEvaluator:
    """`--engine reference`: decides every unit by itself rather than picking branches for the
    main path (engine.evaluation.evaluate.decide hands it the whole job)."""

    name = "reference"

    def decide(self, criteria: CriteriaSet, records: Sequence[EvidenceRecord]) -> list[UnitResult]:
        return score_units(criteria, records)
