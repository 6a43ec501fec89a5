"""Hypothesis strategies for the core tests: random but valid criteria sets (every method, exact
decimal bounds, bands given in any order, items limited to some unit types) and evidence whose
values sit exactly on, or right next to, the bounds of the items that read them.

The generators take a `draw`: Hypothesis's, or a `SeededDraw`, which makes the same kinds of
choices from a seeded `random.Random` (about a tenth of the cost per case: a test that needs a
thousand whole scenarios draws a seed from Hypothesis and the scenario from that seed)."""
from __future__ import annotations

import functools
import math
import random
import string
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction as F
from typing import Callable, Optional

from hypothesis import strategies as st

from builders import criteria_doc, record, value
from engine.core.model import EvidenceRecord, Task

UNIT_TYPES = ("department", "commune")
QUARTER = F(1, 4)
STEPS = [F(1, 10), F(1, 4), F(3, 10), F(1, 2), F(1), F(1, 20), F(1, 8), F(3, 4)]
DEADLINE = date(2023, 6, 30)


# How a `SeededDraw` draws from each strategy below (by the strategy's id: they live as long as the module).
_SEEDED: dict[int, Callable[[random.Random], object]] = {}


def _seeded(strategy: st.SearchStrategy, sample: Callable[[random.Random], object]) -> st.SearchStrategy:
    """`strategy`, and `sample` noted as the way a `SeededDraw` draws from it."""
    _SEEDED[id(strategy)] = sample
    return strategy


class SeededDraw:
    """A `draw` for the generators of this module whose choices come from `random.Random(seed)`:
    the same strategies, each value drawn from the same set of values (without Hypothesis's bias
    towards small and extreme ones, and without its shrinking: a failure is reproduced by its seed)."""

    def __init__(self, seed: int):
        self.random = random.Random(seed)

    def __call__(self, strategy: st.SearchStrategy):
        return _SEEDED[id(strategy)](self.random)


def _unique_list(r: random.Random, element: Callable[[random.Random], object], lo: int, hi: int) -> list:
    out: list = []
    size = r.randint(lo, hi)
    while len(out) < size:
        x = element(r)
        if x not in out:
            out.append(x)
    return out


@functools.lru_cache(maxsize=None)
def ints(lo: int, hi: int) -> st.SearchStrategy[int]:
    """`st.integers(lo, hi)`, built once: building and validating a strategy on every draw costs
    more than the draw (the differential test draws a few hundred values per example)."""
    return _seeded(st.integers(lo, hi), lambda r: r.randint(lo, hi))


BOOLS = _seeded(st.booleans(), lambda r: r.random() < 0.5)


def permutation(draw, items: list) -> list:
    """`items` in an order drawn (`st.permutations`)."""
    if isinstance(draw, SeededDraw):
        return draw.random.sample(items, len(items))
    return draw(st.permutations(items))


# Strategies that do not depend on what was drawn before, built once.
PERCENT_MARKS = [F(0), F(50), F(90), F(100)]
CATEGORY_NAMES = ["full", "partial", "none", "late", "x1"]
LABEL_LETTERS = "abc đạt mức "
COUNT_CUTS = _seeded(
    st.lists(st.one_of(st.integers(0, 25).map(F), st.integers(0, 50).map(lambda n: F(n, 2))),
             min_size=1, max_size=4, unique=True),
    lambda r: _unique_list(r, lambda r: F(r.randint(0, 25)) if r.random() < 0.5 else F(r.randint(0, 50), 2), 1, 4))
PERCENT_CUTS = _seeded(
    st.lists(st.one_of(st.sampled_from(PERCENT_MARKS), st.integers(0, 10000).map(lambda n: F(n, 100))),
             min_size=1, max_size=4, unique=True),
    lambda r: _unique_list(r, lambda r: r.choice(PERCENT_MARKS) if r.random() < 0.5 else F(r.randint(0, 10000), 100),
                           1, 4))
CATEGORY_LISTS = _seeded(st.lists(st.sampled_from(CATEGORY_NAMES), min_size=2, max_size=4, unique=True),
                         lambda r: r.sample(CATEGORY_NAMES, r.randint(2, 4)))
APPLIES_TO = _seeded(st.lists(st.sampled_from(UNIT_TYPES), min_size=1, max_size=2, unique=True),
                     lambda r: r.sample(UNIT_TYPES, r.randint(1, 2)))
LABELS = _seeded(st.text(alphabet=LABEL_LETTERS, min_size=1, max_size=12),
                 lambda r: "".join(r.choices(LABEL_LETTERS, k=r.randint(1, 12))))
UNIT_ID_LETTERS = _seeded(st.lists(st.sampled_from(string.ascii_lowercase), min_size=1, max_size=3),
                          lambda r: r.choices(string.ascii_lowercase, k=r.randint(1, 3)))


def pick(draw, options):
    """One of `options` (any sequence), like `st.sampled_from`, drawn as an index."""
    options = tuple(options)
    return options[draw(ints(0, len(options) - 1))]


@dataclass
class Plan:
    """What the evidence generator needs to know about a generated criteria set."""

    metrics: dict[str, dict] = field(default_factory=dict)  # id -> spec as written
    points_of: dict[str, set] = field(default_factory=dict)  # metric id -> interesting values
    codes: list[str] = field(default_factory=list)
    manual_steps: dict[str, list] = field(default_factory=dict)  # metric id -> [(step, max)]
    related: set = field(default_factory=set)  # counts compared with another count (kept below 2^53)


def multiple_of_quarter(draw, top: F) -> F:
    return draw(ints(0, int(top / QUARTER))) * QUARTER


def tiers_params(draw, kind: str, sub_max: F, plan_points: set, *, monotone: bool = False) -> dict:
    """Bands with exact bounds that cover the metric's domain once: cut points, and at each cut
    the value goes up (`lt c` | `ge c`), down (`le c` | `gt c`) or gets a band of its own (`eq c`)."""
    if kind == "count":
        raw = draw(COUNT_CUTS)
    else:
        raw = draw(PERCENT_CUTS)
    cuts = sorted(set(raw))
    plan_points.update(cuts)
    bands: list[dict] = []
    lower: dict = {}
    if kind != "count" and cuts[0] > 0 and draw(BOOLS):
        lower = {"ge": F(0)}
    for c in cuts:
        mode = pick(draw, ["up", "down", "eq"])
        if mode == "down":
            bands.append({**lower, "le": c})
            lower = {"gt": c}
        else:
            bands.append({**lower, "lt": c})
            if mode == "eq":
                bands.append({"eq": c})
                lower = {"gt": c}
            else:
                lower = {"ge": c}
    if kind != "count" and cuts[-1] < 100 and draw(BOOLS):
        lower = {**lower, "le": F(100)}
    bands.append(lower)
    pts = [multiple_of_quarter(draw, sub_max) for _ in bands]
    if monotone:
        pts.sort()
    out = []
    for band, p in zip(bands, pts):
        item = {**band, "points": p}
        if draw(ints(0, 3)) == 0:
            item["label"] = draw(LABELS).strip() or "Mức"
        out.append(item)
    return {"tiers": permutation(draw, out) if not monotone else out}


def sub_criterion(draw, plan: Plan, *, monotone: bool = False, methods=None) -> dict:
    """One sub-criterion (without its code) reading a metric that is declared in `plan` on the fly."""
    method = pick(draw, methods or ["tiers", "tiers", "categories", "pass_fail", "proportional",
                                              "deductions", "bonus", "survey", "manual"])
    sub_max = pick(draw, [F(1, 2), F(1), F(3, 2), F(2), F(9, 4), F(3)])
    kinds = {"tiers": ["percent", "count", "tasks"], "categories": ["category", "date", "boolean"],
             "pass_fail": ["boolean"], "proportional": ["percent", "tasks"], "deductions": ["count"],
             "bonus": ["count"], "survey": ["responses", "percent"], "manual": ["points"]}[method]
    kind = pick(draw, kinds)
    same_kind = [m for m, spec in plan.metrics.items() if spec["kind"] == kind]
    if same_kind and draw(ints(0, 2)) == 0:
        metric = pick(draw, same_kind)
    else:
        metric = f"m{len(plan.metrics)}"
        spec: dict = {"kind": kind, "label": f"Chỉ số {metric}"}
        if kind == "category":
            spec["categories"] = draw(CATEGORY_LISTS)
        elif kind == "responses":
            spec["options"] = list("ABCDE"[:draw(ints(2, 5))])
        elif kind == "date" and draw(BOOLS):
            spec["deadline"] = DEADLINE
        plan.metrics[metric] = spec
        plan.points_of[metric] = set()
    spec = plan.metrics[metric]
    interesting = plan.points_of[metric]
    sub: dict = {"max": sub_max, "method": method, "metric": metric}
    if kind == "tasks":
        sub["measure"] = pick(draw, ["completion_rate", "on_time_rate"])
    params: dict = {}
    if method == "tiers":
        params = tiers_params(draw, kind, sub_max, interesting, monotone=monotone)
    elif method == "categories":
        cats = {"boolean": ["yes", "no"], "date": ["on_time", "late", "not_done"]}.get(kind) or spec["categories"]
        params = {"points": {c: multiple_of_quarter(draw, sub_max) for c in cats}}
    elif method == "pass_fail" and draw(BOOLS):
        params = {"pass": multiple_of_quarter(draw, sub_max), "fail": multiple_of_quarter(draw, sub_max)}
    elif method in ("proportional", "survey"):
        if draw(BOOLS):
            params["full_at"] = F(draw(ints(1, 10000)), 100)
        interesting.add(params.get("full_at", F(100)))
        if kind == "responses":
            params["weights"] = {o: pick(draw, [0, 20, 25, 50, 60, 100, F("33.3")])
                                 for o in spec["options"]}
        if method == "survey":
            sub["source"] = "survey"
    elif method in ("deductions", "bonus"):
        per = pick(draw, STEPS)
        params["per_occurrence"] = per
        if method == "deductions":
            floor = multiple_of_quarter(draw, sub_max) if draw(BOOLS) else F(0)
            if floor:
                params["floor"] = floor
            limit = (sub_max - floor) / per
        else:
            cap = multiple_of_quarter(draw, sub_max) if draw(BOOLS) else sub_max
            if cap != sub_max:
                params["cap"] = cap
            limit = cap / per
        interesting.update({F(math.floor(limit)), F(math.ceil(limit))})
    elif method == "manual":
        step = pick(draw, [None, F(1, 4), F(1, 2), F(1, 10)])
        if step is not None:
            params["step"] = step
        plan.manual_steps.setdefault(metric, []).append((step or QUARTER, sub_max))
    if params:
        sub["params"] = params
    if draw(ints(0, 3)) == 0:
        sub["applies_to"] = draw(APPLIES_TO)
    return sub


CONDITION_KINDS = ("percent", "count", "boolean", "date", "category")
BRANCH_KEYS = {"categories": None, "pass_fail": ["yes", "no"], "proportional": ["full", "part"],
               "survey": ["full", "part"], "deductions": ["floor", "deduct"], "bonus": ["cap", "bonus"],
               "manual": ["entered"]}


def condition_metric(draw, plan: Plan) -> str:
    """A metric a condition can read: one already declared, or a new one."""
    usable = [m for m, spec in plan.metrics.items() if spec["kind"] in CONDITION_KINDS]
    if usable and draw(BOOLS):
        return pick(draw, usable)
    metric = f"m{len(plan.metrics)}"
    kind = pick(draw, CONDITION_KINDS)
    spec: dict = {"kind": kind, "label": f"Chỉ số {metric}"}
    if kind == "category":
        spec["categories"] = ["full", "partial", "none"]
    elif kind == "date" and draw(BOOLS):
        spec["deadline"] = DEADLINE
    plan.metrics[metric] = spec
    plan.points_of[metric] = set()
    return metric


def condition(draw, plan: Plan, depth: int = 0) -> dict:
    """A random condition: a test of one metric, two counts compared, or all / any / not of them."""
    shape = draw(ints(0, 5 if depth < 2 else 2))
    if shape >= 3:
        if shape == 5:
            return {"not": condition(draw, plan, depth + 1)}
        return {"all" if shape == 3 else "any": [condition(draw, plan, depth + 1) for _ in range(draw(ints(1, 3)))]}
    metric = condition_metric(draw, plan)
    spec = plan.metrics[metric]
    kind = spec["kind"]
    if kind in ("boolean", "date", "category"):
        cats = {"boolean": ["yes", "no"], "date": ["on_time", "late", "not_done"]}.get(kind) or spec["categories"]
        return {"metric": metric, "is": pick(draw, cats)}
    op = pick(draw, ["gt", "ge", "lt", "le", "eq", "ne"])
    counts = [m for m, sp in plan.metrics.items() if sp["kind"] == "count" and m != metric]
    if kind == "count" and counts and shape == 0:
        other = pick(draw, counts)
        plan.related.update({metric, other})
        return {"metric": metric, op: {"metric": other}}
    bound = F(draw(ints(0, 30))) if kind == "count" else F(draw(ints(0, 10000)), 100)
    plan.points_of[metric].add(bound)
    return {"metric": metric, op: bound}


def add_conditions(draw, sub: dict, plan: Plan) -> None:
    """Now and then: a requirement on one of the item's bands, and knock-outs."""
    if draw(ints(0, 2)) == 0:
        method = sub["method"]
        if method == "tiers":
            keys = [f"t{i}" for i in range(1, len(sub["params"]["tiers"]) + 1)]
        elif method == "categories":
            keys = list(sub["params"]["points"])
        else:
            keys = BRANCH_KEYS[method]
        entry: dict = {"band": pick(draw, keys), "require": condition(draw, plan)}
        if draw(BOOLS):
            entry["otherwise"] = {"points": multiple_of_quarter(draw, sub["max"]), "label": "ngoại lệ"}
        sub["when"] = [entry]
    if draw(ints(0, 3)) == 0:
        sub["knock_out"] = [{"when": condition(draw, plan), "cap": multiple_of_quarter(draw, sub["max"]),
                             "label": f"loại trừ {i}"} for i in range(draw(ints(1, 2)))]


def consistency_rules(draw, plan: Plan) -> list:
    return [{"id": f"k{i}", "label": f"nhất quán {i}", "severity": pick(draw, ["warning"] * 5 + ["error"]),
             "require": condition(draw, plan)} for i in range(draw(ints(0, 2)))]


def criteria_set(draw, *, max_items: int = 10, monotone: bool = False, methods=None,
                 compound: bool = False) -> tuple[dict, Plan]:
    plan = Plan()
    n_areas = draw(ints(1, 3))
    tree = []
    budget = max_items
    for _ in range(n_areas):
        crits = []
        for _ in range(draw(ints(1, 2))):
            n = draw(ints(1, max(1, min(4, budget))))
            budget = max(1, budget - n)
            subs = [sub_criterion(draw, plan, monotone=monotone, methods=methods) for _ in range(n)]
            if compound:
                for sub in subs:
                    add_conditions(draw, sub, plan)
            crits.append(subs)
        tree.append(crits)
    doc = criteria_doc(tree, plan.metrics, set_id="random")
    if compound:
        rules = consistency_rules(draw, plan)
        if rules:
            doc["consistency"] = rules
    plan.codes = [s["code"] for a in doc["areas"] for c in a["criteria"] for s in c["sub_criteria"]]
    return doc, plan


criteria_sets = st.composite(criteria_set)


def _near(draw, points: set, lo: F, hi: Optional[F], integer: bool) -> F:
    """A value on a bound, or just next to one, or anywhere."""
    choice = draw(ints(0, 9))
    if points and choice < 6:
        p = pick(draw, sorted(points))
        delta = pick(draw, [F(0)] * 6 + [F(1, 100), F(-1, 100), F(1, 3), F(-1, 3), F(1), F(-1),
                                                   F(1, 10 ** 9), F(-1, 10 ** 9)])
        v = p + delta
    elif choice < 8:
        v = pick(draw, [lo, hi if hi is not None else F(10 ** 20)])
    else:
        v = F(draw(ints(0, 10000)), 100) if hi is not None else F(draw(ints(0, 60)))
    if integer:
        v = F(math.floor(v) if draw(BOOLS) else math.ceil(v))
    v = max(lo, v)
    return min(v, hi) if hi is not None else v


def metric_value(draw, metric: str, spec: dict, plan: Plan):
    kind = spec["kind"]
    points = plan.points_of.get(metric, set())
    if kind == "percent":
        target = _near(draw, points, F(0), F(100), False)
        if draw(BOOLS):  # as a ratio num/den, landing on or beside the target
            den = pick(draw, [1, 3, 7, 100, 2203, 10 ** 6])
            num = min(den, max(0, math.floor(target * den / 100) + pick(draw, [0, 0, 1])))
            return value(metric, kind, F(100 * num, den), numerator=num, denominator=den)
        return value(metric, kind, target)
    if kind == "count":
        if metric not in plan.related and draw(ints(0, 20)) == 0:
            return value(metric, kind, F(pick(draw, [2 ** 53 - 1, 2 ** 53, 2 ** 53 + 1, 10 ** 30])))
        return value(metric, kind, _near(draw, points, F(0), F(10 ** 6) if metric in plan.related else None, True))
    if kind == "tasks":
        n = draw(ints(1, 8))
        done = draw(ints(0, n))
        on_time = draw(ints(0, done))
        tasks = tuple(Task(f"Nhiệm vụ {i}", "Sở Nội vụ", "", "", DEADLINE,
                           None if i >= done else DEADLINE - timedelta(days=i % 2) if i < on_time
                           else DEADLINE + timedelta(days=1 + i)) for i in range(n))
        return value(metric, kind, permutation(draw, list(tasks)))
    if kind == "responses":
        counts = {o: draw(ints(0, 12)) for o in spec["options"]}
        if not any(counts.values()):
            counts[spec["options"][0]] = 1
        return value(metric, kind, counts)
    if kind == "boolean":
        return value(metric, kind, draw(BOOLS))
    if kind == "category":
        return value(metric, kind, pick(draw, spec["categories"]))
    if kind == "date":
        return value(metric, kind, pick(draw, [None, DEADLINE - timedelta(days=3), DEADLINE,
                                                         DEADLINE + timedelta(days=1)]))
    # points, for manual items: a multiple of every step that reads it, within every maximum
    steps = plan.manual_steps[metric]
    step = F(math.lcm(*(s.numerator for s, _ in steps)), math.gcd(*(s.denominator for s, _ in steps)))
    top = min(m for _, m in steps)
    return value(metric, kind, draw(ints(0, int(top / step))) * step,
                 reason="Đánh giá của Hội đồng", citation=None)


def unit_records(draw, plan: Plan, *, min_size: int = 1, max_size: int = 6) -> list[EvidenceRecord]:
    out = []
    for i in range(draw(ints(min_size, max_size))):
        values = {}
        for metric, spec in plan.metrics.items():
            if draw(ints(0, 9)) == 0:
                continue  # missing evidence
            values[metric] = metric_value(draw, metric, spec, plan)
        na = {code: "Không áp dụng theo giải trình" for code in plan.codes if draw(ints(0, 11)) == 0}
        uid = "".join(draw(UNIT_ID_LETTERS)) + f"-{i}"
        out.append(record(uid, values, unit_type=pick(draw, UNIT_TYPES), not_applicable=na))
    return out


units = st.composite(unit_records)


@st.composite
def scenarios(draw, **kwargs) -> tuple[dict, list[EvidenceRecord]]:
    """A criteria set (as a document) and units to score against it."""
    doc, plan = draw(criteria_sets(**kwargs))
    return doc, draw(units(plan))


def seeded_scenario(draw: SeededDraw, **kwargs) -> tuple[dict, list[EvidenceRecord]]:
    """What `scenarios(**kwargs)` gives, drawn by a `SeededDraw`."""
    doc, plan = criteria_set(draw, **kwargs)
    return doc, unit_records(draw, plan)
