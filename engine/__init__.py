"""cchc engine: load → evaluate → aggregate. Never prints; never imports the CLI or templates."""
from __future__ import annotations


from .criteria import load_criteria
from .evaluate import Evaluator, decide
from .evidence import EvidenceSet, load_evidence
from .model import CriteriaSet, UnitResult

__all__ = ["load_criteria", "load_evidence", "decide", "score", "CriteriaSet", "UnitResult", "EvidenceSet"]


def score(criteria: CriteriaSet, evidence: EvidenceSet, evaluator: Evaluator) -> list[UnitResult]:
    return decide(criteria, evidence.records, evaluator)
