"""The reference evaluator: plain Python, exact Fraction comparisons, no rule engine. It answers
the same question as the durable_rules evaluator and is used to cross-check it."""
from __future__ import annotations

from typing import Sequence

from .model import MISSING, Case, CriteriaSet, Verdict


class ReferenceEvaluator:
    name = "reference"

    def verdicts(self, criteria: CriteriaSet, cases: Sequence[Case]) -> list[Verdict]:
        branches = {s.code: s.branches for s in criteria.sub_criteria()}
        out = []
        for case in cases:
            if case.quantity is None:
                out.append(Verdict(case.unit_id, case.code, MISSING))
                continue
            hits = [b.key for b in branches[case.code] if b.condition.contains(case.quantity)]
            # Overlapping bands give two verdicts, which the completeness proof rejects.
            out.extend(Verdict(case.unit_id, case.code, k) for k in hits or [None])
        return out
