"""What an item tests, read from one evidence value: a percent, a count, a category, a task rate or
a weighted survey score. The semantics are those of docs/criteria-format.md."""
from __future__ import annotations

from fractions import Fraction

from ...core.errors import EngineError
from ...core.model import MetricSpec, MetricValue, Quantity, SubCriterion


def _task_rate(tasks, on_time: bool) -> Fraction:
    """Percent of the tasks completed (at all, or on or before their own deadline)."""
    if len(tasks) == 0:
        return Fraction(0)
    counted = 0
    for task in tasks:
        if task.completed is None:
            continue
        if on_time and task.completed > task.deadline:
            continue
        counted += 1
    return Fraction(100) * counted / len(tasks)


def _deadline_status(metric: MetricSpec, done) -> str:
    if done is None:
        return "not_done"
    if metric.deadline is not None and done > metric.deadline:
        return "late"
    return "on_time"


def _survey_score(sub: SubCriterion, counts: dict) -> Fraction:
    """Answer counts weighted by the item's percent per option, over all answers."""
    weight = {option: w for option, w in sub.params.weights}
    answers = weighted = Fraction(0)
    for option in counts:
        answers += counts[option]
        weighted += weight[option] * counts[option]
    if answers == 0:
        raise EngineError(f"item {sub.code}: a survey with no answers has no score")
    return weighted / answers


def quantity_of(sub: SubCriterion, metric: MetricSpec, value: MetricValue) -> Quantity:
    kind, raw = metric.kind, value.value
    if kind == "tasks":
        return _task_rate(raw, sub.measure == "on_time_rate")
    if kind == "date":
        return _deadline_status(metric, raw)
    if kind == "boolean":
        return "yes" if raw else "no"
    if kind == "category":
        return raw
    if kind == "responses":
        return _survey_score(sub, raw)
    if kind in ("percent", "count", "points"):
        return Fraction(raw)
    raise EngineError(f"item {sub.code}: metric {metric.id} has a kind ({kind}) no method reads")
