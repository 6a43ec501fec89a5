"""Criteria compiled into durable_rules rulesets, and the registry of evaluators."""
from __future__ import annotations

from engine.core.errors import CchcError
from engine.evaluation.evaluate import Evaluator, WholeEvaluator
from engine.core.i18n import _
from engine.evaluation.reference import ReferenceEvaluator

ENGINES = ("durable", "reference")


def get_evaluator(name: str) -> Evaluator | WholeEvaluator:
    """`durable` (the rule engine) or `reference` (the whole scoring path written again in plain
    Python, for cross-checks)."""
    if name == "durable":
        from .evaluator import DurableEvaluator

        return DurableEvaluator()
    if name == "reference":
        return ReferenceEvaluator()
    raise CchcError(_("unknown engine {engine!r}; valid engines: {engines}").format(
        engine=name, engines=', '.join(ENGINES)))
