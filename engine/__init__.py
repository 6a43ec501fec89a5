"""cchc engine: load → evaluate → aggregate. Never prints; never imports the CLI or templates."""
from __future__ import annotations


from .inputs.criteria import load_criteria
from .evaluation.evaluate import Evaluator, decide
from .inputs.evidence import EvidenceSet, load_evidence
from .core.model import CriteriaSet, UnitResult

__all__ = ["load_criteria", "load_evidence", "decide", "score", "CriteriaSet", "UnitResult", "EvidenceSet"]


def score(criteria: CriteriaSet, evidence: EvidenceSet, evaluator: Evaluator) -> list[UnitResult]:
    return decide(criteria, evidence.records, evaluator)
