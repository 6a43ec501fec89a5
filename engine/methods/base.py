"""The contract every scoring method declares, and the helpers they share."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any, Callable, ClassVar, Optional

from ..i18n import _
from ..model import (BOOLEAN_CATEGORIES, DATE_CATEGORIES, Branch, MetricSpec, MetricValue, Quantity)
from ..numbers import to_fraction

# report(path_inside_params, message): records a located problem for the item being parsed
Report = Callable[[tuple, str], None]


@dataclass(frozen=True)
class Domain:
    """The values a quantity can take: a real or integer range, or a set of categories."""

    kind: str  # "real", "int" or "categories"
    lo: Optional[Fraction] = None
    hi: Optional[Fraction] = None
    categories: tuple[str, ...] = ()


PERCENT = Domain("real", Fraction(0), Fraction(100))
COUNT = Domain("int", Fraction(0), None)


class ScoringMethod:
    """A scoring method: its name, the metric kinds it reads, its parameters with defaults, and how
    it turns a value into a branch (an exact condition) and points."""

    name: ClassVar[str]
    metric_kinds: ClassVar[tuple[str, ...]]
    parameters: ClassVar[dict[str, str]]  # parameter -> what it means
    defaults: ClassVar[dict[str, Any]] = {}
    survey_only: ClassVar[bool] = False

    def parse(self, raw: dict, sub_max: Fraction, metric: MetricSpec, report: Report) -> Any:
        """Validate and freeze the parameters; report problems and return None when invalid."""
        raise NotImplementedError

    def branches(self, params: Any, sub_max: Fraction, metric: MetricSpec) -> tuple[Branch, ...]:
        raise NotImplementedError

    def points(self, params: Any, sub_max: Fraction, branch: str, quantity: Quantity) -> Fraction:
        raise NotImplementedError

    def domain(self, params: Any, metric: MetricSpec) -> Domain:
        return quantity_domain(metric)

    def quantity(self, params: Any, metric: MetricSpec, value: MetricValue, measure: str) -> Quantity:
        return base_quantity(metric, value, measure)

    def check_value(self, params: Any, sub_max: Fraction, value: MetricValue) -> Optional[str]:
        """A problem with an evidence value that only this method can see (e.g. manual steps)."""
        return None


def quantity_domain(metric: MetricSpec) -> Domain:
    if metric.kind in ("percent", "tasks", "responses"):
        return PERCENT
    if metric.kind == "count":
        return COUNT
    if metric.kind == "points":
        return Domain("real", Fraction(0), None)
    if metric.kind == "date":
        return Domain("categories", categories=DATE_CATEGORIES)
    if metric.kind == "boolean":
        return Domain("categories", categories=BOOLEAN_CATEGORIES)
    return Domain("categories", categories=metric.categories)


def date_status(deadline: Optional[date], done: Optional[date]) -> str:
    if done is None:
        return "not_done"
    return "on_time" if deadline is None or done <= deadline else "late"


def base_quantity(metric: MetricSpec, value: MetricValue, measure: str) -> Quantity:
    v = value.value
    if metric.kind == "tasks":
        tasks = v
        if not tasks:
            return Fraction(0)
        if measure == "on_time_rate":
            hits = sum(1 for t in tasks if t.completed is not None and t.completed <= t.deadline)
        else:
            hits = sum(1 for t in tasks if t.completed is not None)
        return Fraction(hits * 100, len(tasks))
    if metric.kind == "date":
        return date_status(metric.deadline, v)
    if metric.kind == "boolean":
        return "yes" if v else "no"
    if metric.kind == "category":
        return v
    return Fraction(v)


def number(raw: Any, path: tuple, report: Report, *, minimum: Optional[Fraction] = Fraction(0),
           allow_none: bool = False) -> Optional[Fraction]:
    """An exact number parameter; floats never reach here (YAML floats load as Decimal)."""
    if raw is None and allow_none:
        return None
    try:
        value = to_fraction(raw)
    except (TypeError, ValueError, ArithmeticError):
        report(path, _("expected an exact number, got {value!r}").format(value=raw))
        return None
    if minimum is not None and value < minimum:
        report(path, _("must be ≥ {min}, got {value}").format(min=_num(minimum), value=_num(value)))
        return None
    return value


def within_max(points: Optional[Fraction], sub_max: Fraction, path: tuple, report: Report) -> None:
    if points is not None and points > sub_max:
        report(path, _("worth {points} points, more than the item's maximum of {max}").format(
            points=_num(points), max=_num(sub_max)))


def proportional_branches(full_at: Fraction, words: str) -> tuple[Branch, ...]:
    from ..model import Interval
    from ..numbers import words_number

    at = words_number(full_at)
    return (
        Branch("full", f"{words} ≥ {at}: điểm tối đa", Interval(lo=full_at, lo_closed=True)),
        Branch("part", f"{words} < {at}: điểm tối đa × giá trị ÷ {at}", Interval(hi=full_at, hi_closed=False)),
    )


def _num(x: Fraction) -> str:
    from ..numbers import exact_text

    return exact_text(x)
