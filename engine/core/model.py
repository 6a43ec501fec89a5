"""Frozen models: the criteria tree, evidence records, decisions and results."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from math import gcd
from typing import Any, Optional, TypeVar, Union

from .errors import Location
from .conditions import ConsistencyRule, ItemConditions
from .numbers import exact_text

METRIC_KINDS = ("percent", "count", "boolean", "date", "category", "responses", "points", "tasks")
DATE_CATEGORIES = ("on_time", "late", "not_done")
BOOLEAN_CATEGORIES = ("yes", "no")
TASK_MEASURES = ("completion_rate", "on_time_rate")

Quantity = Union[Fraction, str]  # what a branch condition is tested on: a number or a category

T = TypeVar("T")


def quickly_made(cls: type[T]) -> type[T]:
    """A frozen dataclass whose `__init__` stores the instance's fields straight into its `__dict__`
    instead of calling `object.__setattr__` once per field (four times quicker for a dozen fields: a
    run makes a decision, a case, a verdict and an input for every unit and item). The same parameters and
    defaults; equality, hashing, repr, pickling and frozenness stay the dataclass's own. Only for
    fields with a plain default (no factory), all in `__init__`, and no `__post_init__`."""
    fields = dataclasses.fields(cls)
    if hasattr(cls, "__post_init__") or hasattr(cls, "__slots__") or any(
            not f.init or f.kw_only or f.default_factory is not dataclasses.MISSING or f.name in ("self", "d")
            for f in fields):
        raise TypeError(f"{cls.__name__} cannot be made quickly")
    defaults = {f"_default_{f.name}": f.default for f in fields if f.default is not dataclasses.MISSING}
    params = ", ".join(f.name if f.default is dataclasses.MISSING else f"{f.name}=_default_{f.name}" for f in fields)
    stores = "".join(f"\n    d[{f.name!r}] = {f.name}" for f in fields)  # in field order: the class's shared keys
    made: dict = {}
    exec(f"def __init__(self, {params}):\n    d = self.__dict__{stores}\n", defaults, made)
    init = made["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__annotations__ = {**{f.name: f.type for f in fields}, "return": None}
    cls.__init__ = init
    return cls


@dataclass(frozen=True)
class Provenance:
    """Where a threshold comes from: a document and clause, and whether it is official wording."""

    source: str
    clause: str = ""
    note: str = ""
    official: bool = False


@dataclass(frozen=True)
class UnitType:
    id: str
    label: str


@dataclass(frozen=True)
class Band:
    """A classification band: index ≥ `min` (percent, inclusive) and below the next band's min."""

    label: str
    min: Fraction


@dataclass(frozen=True)
class Group:
    """Units ranked together and classified by the same bands."""

    id: str
    label: str
    unit_types: tuple[str, ...]
    bands: tuple[Band, ...]


@dataclass(frozen=True)
class MetricSpec:
    id: str
    kind: str
    label: str
    categories: tuple[str, ...] = ()  # category kind: allowed values
    options: tuple[str, ...] = ()  # responses kind: answer options
    deadline: Optional[date] = None  # date kind: on time if on or before


@dataclass(frozen=True)
class Interval:
    """An exact interval on the quantity; `None` bounds are open-ended."""

    lo: Optional[Fraction] = None
    lo_closed: bool = True
    hi: Optional[Fraction] = None
    hi_closed: bool = True

    def contains(self, q: Fraction) -> bool:
        if self.lo is not None and (q < self.lo or (q == self.lo and not self.lo_closed)):
            return False
        if self.hi is not None and (q > self.hi or (q == self.hi and not self.hi_closed)):
            return False
        return True


@dataclass(frozen=True)
class Category:
    value: str

    def contains(self, q: Quantity) -> bool:
        return q == self.value


@dataclass(frozen=True)
class Always:
    """Matches any value (formula methods whose points follow from the value itself)."""

    def contains(self, q: Quantity) -> bool:
        return True


Condition = Union[Interval, Category, Always]


@dataclass(frozen=True)
class Branch:
    """One outcome of a sub-criterion: a condition in exact terms plus the criteria's own words."""

    key: str
    label: str
    condition: Condition


@dataclass(frozen=True)
class SubCriterion:
    code: str
    title: str
    max: Fraction
    method: str
    params: Any  # the method's frozen params object
    metric: str
    measure: str = ""  # for task lists: completion_rate / on_time_rate
    applies_to: Optional[frozenset[str]] = None  # None: every unit type
    source: str = "self"  # "self" (self-assessed, appraised) or "survey"
    evidence_required: tuple[str, ...] = ()
    provenance: Optional[Provenance] = None
    branches: tuple[Branch, ...] = ()
    line: int = 0
    conditions: Optional[ItemConditions] = None  # band requirements and knock-outs (engine/core/conditions.py)

    def applies(self, unit_type: str) -> bool:
        return self.applies_to is None or unit_type in self.applies_to


@dataclass(frozen=True)
class Criterion:
    code: str
    title: str
    max: Fraction
    sub_criteria: tuple[SubCriterion, ...]


@dataclass(frozen=True)
class Area:
    code: str
    title: str
    max: Fraction
    criteria: tuple[Criterion, ...]


@dataclass(frozen=True)
class Check:
    """A consistency check declared in data: `sum` (parts add up to a total) or `equal`."""

    kind: str
    metrics: tuple[str, ...]
    total: str = ""
    label: str = ""


@dataclass(frozen=True)
class CriteriaSet:
    id: str
    title: str
    year: int
    decision: str
    issuer: str
    unit_types: tuple[UnitType, ...]
    groups: tuple[Group, ...]
    metrics: dict[str, MetricSpec]
    areas: tuple[Area, ...]
    checks: tuple[Check, ...]
    path: str
    content_hash: str
    max: Fraction
    consistency: tuple[ConsistencyRule, ...] = ()

    def sub_criteria(self) -> list[SubCriterion]:
        return [s for a in self.areas for c in a.criteria for s in c.sub_criteria]

    def unit_type_ids(self) -> set[str]:
        return {t.id for t in self.unit_types}


@quickly_made
@dataclass(frozen=True)
class Citation:
    """Tài liệu kiểm chứng: document number, date, issuer, optionally a file in the evidence folder."""

    document: str
    date: Optional[date] = None
    issuer: str = ""
    file: str = ""


@quickly_made
@dataclass(frozen=True)
class Task:
    task: str
    lead: str
    partners: str
    product: str
    deadline: date
    completed: Optional[date]


@quickly_made
@dataclass(frozen=True)
class MetricValue:
    """One metric of one unit as given by evidence, with its citation and where it was read."""

    metric: str
    kind: str
    value: Any  # Fraction, str (category), date/None, dict option->count, tuple[Task], Fraction points
    citation: Optional[Citation]
    location: Location
    numerator: Optional[int] = None
    denominator: Optional[int] = None
    reason: str = ""

    def text(self) -> str:
        """The input as a person would read it in a trace."""
        if self.numerator is not None:
            return f"{self.numerator}/{self.denominator}"
        if self.value.__class__ is Fraction:  # the commonest
            return exact_text(self.value)
        if self.value.__class__ in (str, bool, int):  # before the checks below, which these all fail
            return str(self.value)
        if isinstance(self.value, Fraction):
            return exact_text(self.value)
        if isinstance(self.value, dict):
            return ", ".join(f"{k}: {v}" for k, v in self.value.items())
        if isinstance(self.value, tuple):
            return f"{len(self.value)} tasks"
        if isinstance(self.value, date):
            return self.value.isoformat()
        if self.value is None:
            return "not done"
        return str(self.value)


@dataclass(frozen=True)
class EvidenceRecord:
    unit_id: str
    unit_name: str
    unit_type: str
    period: str
    values: dict[str, MetricValue]
    not_applicable: dict[str, str]
    source: str
    # Where the evidence names the unit, gives its period, and declares each item not applicable:
    # recorded while reading, so that a later check names the place without reading the file again.
    location: Optional[Location] = None
    period_location: Optional[Location] = None
    not_applicable_at: dict[str, Location] = field(default_factory=dict)


@quickly_made
@dataclass(frozen=True)
class Case:
    """One applicable (unit, sub-criterion) pair handed to an evaluator."""

    unit_id: str
    code: str
    quantity: Optional[Quantity]  # None: the evidence is missing
    # the metrics the item's conditions read, as (metric, quantity or None when missing)
    extra: tuple[tuple[str, Optional[Quantity]], ...] = ()


MISSING = "missing"


@quickly_made
@dataclass(frozen=True)
class Verdict:
    """An evaluator's answer for one case: which branch matched (or missing / none)."""

    unit_id: str
    code: str
    branch: Optional[str]  # branch key; MISSING for missing evidence; None when no branch matched
    knock_outs: tuple[int, ...] = field(default=(), repr=False)  # the item's knock-outs that hold (indices)
    missing_metric: str = field(default="", repr=False)  # with MISSING: a condition's metric without a value


STATUSES = ("scored", "not_applicable", "missing_evidence", "no_matching_band")

# Notes on a decision, as stable codes in the result document (every evaluator writes them alike);
# reports put them into words in the reader's language (reports/notes.py).
NOTE_NOT_FOR_UNIT_TYPE = "not_for_unit_type"  # the item does not apply to the unit's type
NOTE_MISSING = "missing_evidence"  # no value for the item's metric: an explanation is owed
NOTE_NO_BAND = "no_band"  # the value is in none of the item's bands
NOTE_NO_CITATION = "no_citation"  # the value cites no document: an explanation is owed
NOTE_CONDITION_MISSING = "condition_metric_missing"  # no value for a metric the item's conditions read
NOTE_KNOCKED_OUT = "knocked_out"  # a knock-out condition of the item holds: its points are capped
NOTES = (NOTE_NOT_FOR_UNIT_TYPE, NOTE_MISSING, NOTE_NO_BAND, NOTE_NO_CITATION, NOTE_CONDITION_MISSING,
         NOTE_KNOCKED_OUT)


@quickly_made
@dataclass(frozen=True)
class Input:
    metric: str
    value: str
    citation: Optional[Citation]
    location: Location


@quickly_made
@dataclass(frozen=True)
class Decision:
    unit_id: str
    code: str
    status: str
    method: str
    points: Fraction
    max: Fraction
    condition: str = ""  # the matched branch in the criteria's own words
    inputs: tuple[Input, ...] = ()
    notes: tuple[str, ...] = ()  # codes from NOTES
    quantity: Optional[Quantity] = None  # the value the condition was tested on
    reason: str = ""  # the unit's own words for an item it declares not applicable
    note_values: tuple[tuple[str, str], ...] = ()  # named values the notes' words show (metric, band, …)


def index_of(points: Fraction, maximum: Fraction) -> Optional[Fraction]:
    """The PAR index: points ÷ applicable maximum × 100, exact; None when nothing applies."""
    return points / maximum * 100 if maximum else None


def index_ratio(points: Fraction, maximum: Fraction) -> Optional[tuple[int, int]]:
    """`index_of` as its numerator and denominator in lowest terms (denominator > 0), from
    integers alone: one gcd where dividing and multiplying Fractions takes two."""
    n, d = points.numerator * maximum.denominator * 100, points.denominator * maximum.numerator
    if not d:
        return None
    if d < 0:
        n, d = -n, -d
    g = gcd(n, d)
    return n // g, d // g


@quickly_made
@dataclass(frozen=True)
class Rollup:
    code: str  # a criterion's or an area's code, or "total": its words are the criteria set's
    points: Fraction
    max: Fraction

    @property
    def index(self) -> Optional[Fraction]:
        return index_of(self.points, self.max)


@quickly_made
@dataclass(frozen=True)
class UnitResult:
    unit_id: str
    unit_name: str
    unit_type: str
    period: str
    decisions: tuple[Decision, ...]
    criteria: tuple[Rollup, ...]
    areas: tuple[Rollup, ...]
    total: Rollup
    evidence_source: str = ""
    warnings: tuple[str, ...] = field(default=())
