"""Compound conditions of a criteria set: what they are and how they are read from YAML.

A condition tests metrics of one unit: `{metric: m, ge: 90}` (a number against an exact bound),
`{metric: m, is: on_time}` (a category), `{metric: a, eq: {metric: b}}` (two counts), and `all`,
`any`, `not` over conditions, nested. Conditions are used in three places:
- a band's extra requirement (`when` on a sub-criterion): the band holds only when its condition
  holds too; otherwise the item takes that band's `otherwise` outcome;
- a knock-out (`knock_out` on a sub-criterion): when its condition holds, the item scores at most
  its `cap` (0 zeroes it), shown by name in the trace;
- a consistency rule (`consistency` on the set): figures of a unit that must agree, a warning or an
  error when they do not.
Both evaluators (the rule engine and the reference) read these models; neither shares how it
evaluates them. The words here are part of the result documents, so both write them alike."""
from __future__ import annotations

import operator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, Mapping, Optional, Sequence, Union

from .errors import did_you_mean
from .numbers import exact_text, to_fraction, words_number

NUMBER_KINDS = ("percent", "count", "points")
CATEGORY_KINDS = ("boolean", "date", "category")
NUMBER_OPS = ("gt", "ge", "lt", "le", "eq", "ne")
SYMBOLS = {"gt": ">", "ge": "≥", "lt": "<", "le": "≤", "eq": "=", "ne": "≠"}
NEGATED = {"gt": "le", "ge": "lt", "lt": "ge", "le": "gt", "eq": "ne", "ne": "eq"}
SEVERITIES = ("warning", "error")
OTHERWISE = "|otherwise"  # suffix of the branch key of a band's `otherwise` outcome

DEFAULT_OTHERWISE = "{band}, nhưng không đạt điều kiện kèm theo ({condition})"


@dataclass(frozen=True)
class Comparison:
    """A metric against an exact number (`op` in NUMBER_OPS) or a category (`op` is `is`)."""

    metric: str
    op: str
    value: Union[Fraction, str]


@dataclass(frozen=True)
class Relation:
    """Two count metrics of the same unit compared with each other."""

    metric: str
    op: str
    other: str


@dataclass(frozen=True)
class AllOf:
    parts: tuple


@dataclass(frozen=True)
class AnyOf:
    parts: tuple


@dataclass(frozen=True)
class Not:
    part: Any


Cond = Union[Comparison, Relation, AllOf, AnyOf, Not]


@dataclass(frozen=True)
class BandRequirement:
    """The extra condition of one band (by its branch key) and the outcome when it fails."""

    branch: str
    band_label: str
    require: Cond
    points: Fraction
    label: str


@dataclass(frozen=True)
class KnockOut:
    when: Cond
    cap: Fraction
    label: str


@dataclass(frozen=True)
class ItemConditions:
    requirements: tuple[BandRequirement, ...] = ()
    knock_outs: tuple[KnockOut, ...] = ()

    def metrics(self) -> tuple[str, ...]:
        """Every metric the conditions read, in order of first appearance."""
        conds = [r.require for r in self.requirements] + [k.when for k in self.knock_outs]
        return tuple(dict.fromkeys(m for c in conds for m in metrics_of(c)))

    def outcome_points(self) -> set[Fraction]:
        """Points the conditions themselves can give: `otherwise` points and knock-out caps."""
        return {r.points for r in self.requirements} | {k.cap for k in self.knock_outs}

    def requirement(self, branch: str) -> Optional[BandRequirement]:
        return next((r for r in self.requirements if r.branch == branch), None)

    def failed_requirement(self, label: str) -> Optional[BandRequirement]:
        """The requirement whose `otherwise` outcome a decision's words (`label`) are: its band's
        value was reached, its condition was not."""
        return next((r for r in self.requirements if r.label == label), None)

    def held(self, values: Mapping[str, Any]) -> tuple[KnockOut, ...]:
        """The knock-outs that hold on `values` (each metric they read, as its quantity)."""
        return tuple(k for k in self.knock_outs if holds(k.when, values))

    def named(self, labels: str) -> tuple[KnockOut, ...]:
        """The knock-outs a `knocked_out` note names (its `labels`: the labels of those that hold,
        in the set's order, joined by `; `), told apart even when a label itself holds `; `."""
        def match(rest: str, start: int) -> Optional[list[int]]:
            for n in range(start, len(self.knock_outs)):
                label = self.knock_outs[n].label
                if rest == label:
                    return [n]
                if rest.startswith(label + "; "):
                    tail = match(rest[len(label) + 2:], n + 1)
                    if tail is not None:
                        return [n] + tail
            return None

        return tuple(self.knock_outs[n] for n in match(labels, 0) or ())


@dataclass(frozen=True)
class ConsistencyRule:
    id: str
    label: str
    severity: str
    require: Cond
    location: str  # file:line of the rule in the criteria set

    def metrics(self) -> tuple[str, ...]:
        return metrics_of(self.require)


def metrics_of(cond: Cond) -> tuple[str, ...]:
    if isinstance(cond, Comparison):
        return (cond.metric,)
    if isinstance(cond, Relation):
        return (cond.metric, cond.other)
    if isinstance(cond, Not):
        return metrics_of(cond.part)
    return tuple(dict.fromkeys(m for p in cond.parts for m in metrics_of(p)))


def describe(cond: Cond, names: Optional[Mapping[str, str]] = None) -> str:
    """A condition in words, as results show it (`names`: words for the metrics, else their ids)."""
    def name(metric: str) -> str:
        return (names or {}).get(metric, metric)

    if isinstance(cond, Comparison):
        if cond.op == "is":
            return f"{name(cond.metric)} là {cond.value}"
        return f"{name(cond.metric)} {SYMBOLS[cond.op]} {words_number(cond.value)}"
    if isinstance(cond, Relation):
        return f"{name(cond.metric)} {SYMBOLS[cond.op]} {name(cond.other)}"
    if isinstance(cond, Not):
        return f"không ({describe(cond.part, names)})"
    joiner = " và " if isinstance(cond, AllOf) else " hoặc "
    return "(" + joiner.join(describe(p, names) for p in cond.parts) + ")"


COMPARE = {"gt": operator.gt, "ge": operator.ge, "lt": operator.lt, "le": operator.le, "eq": operator.eq,
           "ne": operator.ne}


def holds(cond: Cond, values: Mapping[str, Any]) -> bool:
    """Whether a condition holds on a unit's quantities (`values`: each metric it reads, as a number
    or a category: `yes` / `no`, `on_time` / `late` / `not_done`, a declared category). What reports
    and the mid-year check ask of figures already decided or projected; the evaluators decide
    conditions by themselves."""
    if isinstance(cond, Comparison):
        value = values[cond.metric]
        return value == cond.value if cond.op == "is" else COMPARE[cond.op](value, cond.value)
    if isinstance(cond, Relation):
        return COMPARE[cond.op](values[cond.metric], values[cond.other])
    if isinstance(cond, Not):
        return not holds(cond.part, values)
    test = all if isinstance(cond, AllOf) else any
    return test(holds(p, values) for p in cond.parts)


def lowest_cap(held: Sequence[KnockOut]) -> Optional[Fraction]:
    """The most an item scores while these knock-outs hold (None when none does)."""
    return min((k.cap for k in held), default=None)


def limit_words(held: Sequence[KnockOut], number: Callable[[Fraction], str] = words_number) -> str:
    """Why an item cannot score more than the lowest cap of the knock-outs that hold, for a reader."""
    return f"điều kiện loại trừ: {'; '.join(k.label for k in held)} (tối đa {number(lowest_cap(held))} điểm)"


def requirement_words(req: BandRequirement, names: Optional[Mapping[str, str]] = None) -> str:
    """The extra condition a band needs, for a reader (`names`: words for the metrics, else their ids)."""
    return f"kèm điều kiện: {describe(req.require, names)}"


def unchecked_text(rule: ConsistencyRule, unit_id: str, metric: str) -> str:
    return f"unit {unit_id}: consistency rule {rule.id} ({rule.location}) is not checked: no value for {metric}"


def broken_text(rule: ConsistencyRule, unit_id: str, values: list[tuple[str, str, str]]) -> str:
    """`values`: each metric of the rule as (metric, its value in words, where it was read)."""
    label = f" ({rule.label})" if rule.label else ""
    shown = ", ".join(f"{m} = {text} ({at})" for m, text, at in values)
    return f"unit {unit_id}: consistency rule {rule.id}{label} does not hold: {describe(rule.require)}; {shown}"


# ---------------------------------------------------------------- reading YAML

Report = Callable[[tuple, str], None]  # (path in the document, message)


def parse_condition(raw: Any, path: tuple, report: Report, metrics: dict) -> Optional[Cond]:
    """A condition from YAML, or None after reporting every problem at its place."""
    if not isinstance(raw, dict):
        report(path, "a condition is a mapping: {metric: …, ge: …}, {all: […]}, {any: […]} or {not: …}")
        return None
    for key in ("all", "any"):
        if key in raw:
            if len(raw) != 1:
                report(path, f"`{key}` stands alone in its condition")
                return None
            items = raw[key]
            if not isinstance(items, list) or not items:
                report(path + (key,), f"`{key}` needs a non-empty list of conditions")
                return None
            parts = [parse_condition(p, path + (key, i), report, metrics) for i, p in enumerate(items)]
            if any(p is None for p in parts):
                return None
            return (AllOf if key == "all" else AnyOf)(tuple(parts))
    if "not" in raw:
        if len(raw) != 1:
            report(path, "`not` stands alone in its condition")
            return None
        part = parse_condition(raw["not"], path + ("not",), report, metrics)
        return None if part is None else Not(part)
    return _test(raw, path, report, metrics)


def _test(raw: dict, path: tuple, report: Report, metrics: dict) -> Optional[Cond]:
    mid = raw.get("metric")
    ops = [k for k in raw if k != "metric"]
    if not isinstance(mid, str):
        report(path, "a condition names a `metric` (or is all / any / not)")
        return None
    spec = metrics.get(mid)
    if spec is None:
        report(path + ("metric",), f"unknown metric {mid!r} in a condition{did_you_mean(mid, metrics)}")
        return None
    allowed = NUMBER_OPS if spec.kind in NUMBER_KINDS else ("is",) if spec.kind in CATEGORY_KINDS else ()
    if not allowed:
        report(path + ("metric",), f"metric {mid!r} is of kind {spec.kind}; conditions read metrics of kind "
                                   f"{', '.join(NUMBER_KINDS + CATEGORY_KINDS)}")
        return None
    if len(ops) != 1 or ops[0] not in allowed:
        report(path, f"a condition on {mid!r} (kind {spec.kind}) has exactly one of: {', '.join(allowed)}")
        return None
    op, value = ops[0], raw[ops[0]]
    if op == "is":
        domain = _categories(spec)
        if not isinstance(value, (str, bool)) or _category(value) not in domain:
            report(path + (op,), f"metric {mid!r} is one of {', '.join(domain)}, not {value!r}")
            return None
        return Comparison(mid, op, _category(value))
    if isinstance(value, dict):
        other = value.get("metric")
        if set(value) != {"metric"} or not isinstance(other, str):
            report(path + (op,), "compare with a number or with {metric: …}")
            return None
        if other not in metrics:
            report(path + (op, "metric"), f"unknown metric {other!r} in a condition{did_you_mean(other, metrics)}")
            return None
        if spec.kind != "count" or metrics[other].kind != "count":
            report(path + (op,), "two metrics are compared only when both are counts")
            return None
        if other == mid:
            report(path + (op, "metric"), f"metric {mid!r} is compared with itself")
            return None
        return Relation(mid, op, other)
    try:
        bound = to_fraction(value)
    except (TypeError, ValueError, ZeroDivisionError, ArithmeticError) as exc:
        report(path + (op,), f"expected an exact number, got {value!r} ({exc})")
        return None
    return Comparison(mid, op, bound)


def _category(value: Any) -> str:
    if isinstance(value, bool):  # YAML reads yes / no as booleans
        return "yes" if value else "no"
    return value


def _categories(spec) -> tuple[str, ...]:
    if spec.kind == "boolean":
        return ("yes", "no")
    if spec.kind == "date":
        return ("on_time", "late", "not_done")
    return tuple(spec.categories)


def _points(raw: Any, path: tuple, report: Report, sub_max: Fraction, what: str) -> Optional[Fraction]:
    try:
        points = to_fraction(raw)
    except (TypeError, ValueError, ZeroDivisionError, ArithmeticError):
        report(path, f"{what}: expected an exact number, got {raw!r}")
        return None
    if not 0 <= points <= sub_max:
        report(path, f"{what} {exact_text(points)} is outside 0 … {exact_text(sub_max)} (the item's max)")
        return None
    return points


def parse_item_conditions(s: dict, spath: tuple, report: Report, metrics: dict, branches,
                          sub_max: Fraction) -> Optional[ItemConditions]:
    """The `when` and `knock_out` keys of a sub-criterion (None when it has neither or on problems)."""
    if "when" not in s and "knock_out" not in s:
        return None
    ok = True
    requirements = []
    by_name = {}
    for b in branches:
        by_name.setdefault(b.label, b)
        by_name.setdefault(b.key, b)
    for i, w in enumerate(s.get("when") or ()):
        wpath = spath + ("when", i)
        band = by_name.get(w.get("band"))
        cond = parse_condition(w.get("require"), wpath + ("require",), report, metrics)
        if band is None:
            report(wpath + ("band",), f"no band {w.get('band')!r} in this item"
                   f"{did_you_mean(str(w.get('band')), [b.label for b in branches])}; its bands: "
                   + ", ".join(repr(b.label) for b in branches))
            ok = False
            continue
        if any(r.branch == band.key for r in requirements):
            report(wpath + ("band",), f"band {band.label!r} already has a condition")
            ok = False
            continue
        other = w.get("otherwise") or {}
        points = _points(other.get("points", 0), wpath + ("otherwise", "points"), report, sub_max, "points")
        if cond is None or points is None:
            ok = False
            continue
        label = other.get("label") or DEFAULT_OTHERWISE.format(band=band.label, condition=describe(cond))
        requirements.append(BandRequirement(band.key, band.label, cond, points, label))
    knock_outs = []
    for i, k in enumerate(s.get("knock_out") or ()):
        kpath = spath + ("knock_out", i)
        cond = parse_condition(k.get("when"), kpath + ("when",), report, metrics)
        cap = _points(k.get("cap", 0), kpath + ("cap",), report, sub_max, "cap")
        if cond is None or cap is None:
            ok = False
            continue
        knock_outs.append(KnockOut(cond, cap, k["label"]))
    return ItemConditions(tuple(requirements), tuple(knock_outs)) if ok else None


def parse_consistency(doc: dict, report: Report, metrics: dict, locate: Callable[[tuple], str]
                      ) -> tuple[ConsistencyRule, ...]:
    rules, seen = [], set()
    for i, r in enumerate(doc.get("consistency") or ()):
        path = ("consistency", i)
        if r["id"] in seen:
            report(path + ("id",), f"duplicate consistency rule {r['id']!r}")
            continue
        seen.add(r["id"])
        cond = parse_condition(r.get("require"), path + ("require",), report, metrics)
        if cond is not None:
            rules.append(ConsistencyRule(r["id"], r.get("label", ""), r.get("severity", "warning"), cond,
                                         locate(path)))
    return tuple(rules)


def knock_out_note(held: Sequence[KnockOut], band: str, points: Fraction) -> tuple[tuple[str, str], ...]:
    """The values of a `knocked_out` note: which knock-outs hold, and what the figures alone gave."""
    return (("labels", "; ".join(k.label for k in held)), ("band", band), ("points", exact_text(points)))
