"""Compile a criteria set into durable_rules rulesets (the engine's JSON form).

Every branch of every sub-criterion becomes one rule; one more rule per sub-criterion decides
missing evidence. Numeric conditions never reach the engine as fractions or floats: each
sub-criterion has an integer scale S, a fact carries `vf = floor(q·S)` and `vc = ceil(q·S)`, and a
bound b becomes the integer B = b·S, so that exactly
    q ≥ b ⇔ vf ≥ B,   q > b ⇔ vc > B,   q ≤ b ⇔ vc ≤ B,   q < b ⇔ vf < B.
Strings are prefixed (`i:` items, `k:` consistency rules, `c:` categories) so that no value can look
like a number.

An item with conditions (band requirements, knock-outs) and every consistency rule are asked with
several facts, one per quantity involved, sharing a question id `q`; their rules join those facts
(`{"q": {"p0": "q"}}`), so the rule engine itself decides the compound condition. A condition is put
in disjunctive normal form: each alternative is one rule over the facts it reads. Their actions are
named `x:<owner>#<outcome>`: `b:<band>` (the band holds), `b:<band>|otherwise` (the band's
requirement fails), `k:<n>` (knock-out n holds), `m:<metric>` (no value; `m:` for the item's own),
`v` (a consistency rule is broken).
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from fractions import Fraction

from engine.core.conditions import NEGATED, OTHERWISE, AnyOf, Not, Relation, Comparison
from engine.core.errors import EngineError
from engine.core.i18n import _
from engine.core.model import Always, Category, CriteriaSet, Interval, SubCriterion
from engine.core.numbers import exact_text

MAX_RULES_PER_RULESET = 500  # durable_rules 2.0.28 fails at 512 rules and hangs above
EXACT_LIMIT = 2 ** 53  # integers the engine is trusted to compare exactly
MISSING_BRANCH = "__missing__"
MAX_ALTERNATIVES = 64  # rules one condition may become
MAX_FACTS_PER_RULE = 16  # measured on durable_rules 2.0.28: a rule joining 17 facts fails with error 304
FLIPPED = {"gt": "lt", "ge": "le", "lt": "gt", "le": "ge", "eq": "eq", "ne": "ne"}


@dataclass(frozen=True)
class CompiledCriteria:
    rulesets: dict[str, dict]  # content-hash name -> ruleset definition
    owner: dict[str, str]  # sub-criterion code -> ruleset name
    scale: dict[str, int]  # sub-criterion code -> integer scale S
    # item code or `k:<rule id>` -> the integer scale of the numbers its conditions compare
    condition_scale: dict[str, int] = field(default_factory=dict)
    related: dict[str, frozenset] = field(default_factory=dict)  # owner -> metrics compared with another metric


def item_key(code: str) -> str:
    return f"i:{code}"


def category_key(value: str) -> str:
    return f"c:{value}"


def action_name(code: str, branch: str) -> str:
    return f"{code}#{branch}"


def compound_action(owner: str, outcome: str) -> str:
    return f"x:{owner}#{outcome}"


def consistency_owner(rule_id: str) -> str:
    return f"k:{rule_id}"


def scale_of(sub: SubCriterion) -> int:
    dens = [b.denominator for br in sub.branches if isinstance(br.condition, Interval)
            for b in (br.condition.lo, br.condition.hi) if b is not None]
    return math.lcm(*dens) if dens else 1


def scaled_bound(b: Fraction, scale: int, code: str = "") -> int:
    v = b * scale
    if v.denominator != 1 or abs(v) >= EXACT_LIMIT:
        raise EngineError((_("item {code}: ").format(code=code) if code else "") + _(
            "bound {bound} (scaled by {scale}) cannot be compared exactly in the rule engine; use --engine "
            "reference").format(bound=exact_text(b), scale=scale))
    return int(v)


def _conditions(sub: SubCriterion, cond, scale: int) -> list[dict]:
    out: list[dict] = [{"item": item_key(sub.code)}, {"state": "value"}]
    if isinstance(cond, Category):
        out.append({"cat": category_key(cond.value)})
    elif isinstance(cond, Interval):
        if cond.lo is not None:
            b = scaled_bound(cond.lo, scale, sub.code)
            out.append({"$gte": {"vf": b}} if cond.lo_closed else {"$gt": {"vc": b}})
        if cond.hi is not None:
            b = scaled_bound(cond.hi, scale, sub.code)
            out.append({"$lte": {"vc": b}} if cond.hi_closed else {"$lt": {"vf": b}})
    elif not isinstance(cond, Always):
        raise EngineError(_("item {code}: condition {condition!r} cannot be compiled").format(
            code=sub.code, condition=cond))
    return out


def _rules_for(sub: SubCriterion, scale: int) -> dict[str, dict]:
    rules = {}
    for br in sub.branches:
        name = action_name(sub.code, br.key)
        rules[name] = {"all": [{"m": {"$and": _conditions(sub, br.condition, scale)}}], "run": name}
    missing = action_name(sub.code, MISSING_BRANCH)
    rules[missing] = {"all": [{"m": {"$and": [{"item": item_key(sub.code)}, {"state": "missing"}]}}],
                      "run": missing}
    return rules


def _literals(cond, neg: bool = False) -> list[list[tuple]]:
    """The condition in disjunctive normal form: alternatives, each a list of literals
    ("num", metric, op, bound) / ("cat", metric, negated, value) / ("rel", metric, op, other)."""
    if isinstance(cond, Comparison):
        if cond.op == "is":
            return [[("cat", cond.metric, neg, cond.value)]]
        op = NEGATED[cond.op] if neg else cond.op
        if op == "ne":
            return [[("num", cond.metric, "lt", cond.value)], [("num", cond.metric, "gt", cond.value)]]
        return [[("num", cond.metric, op, cond.value)]]
    if isinstance(cond, Relation):
        return [[("rel", cond.metric, NEGATED[cond.op] if neg else cond.op, cond.other)]]
    if isinstance(cond, Not):
        return _literals(cond.part, not neg)
    children = [_literals(p, neg) for p in cond.parts]
    if isinstance(cond, AnyOf) != neg:  # any, or not all
        out = [alt for child in children for alt in child]
    else:
        out = [[]]
        for child in children:
            out = [a + b for a in out for b in child]
            if len(out) > MAX_ALTERNATIVES:
                break
    if len(out) > MAX_ALTERNATIVES:
        raise EngineError(f"a condition has more than {MAX_ALTERNATIVES} alternatives for the rule engine; "
                          f"use --engine reference")
    return out


def _condition_bounds(cond) -> list[Fraction]:
    if isinstance(cond, Comparison):
        return [cond.value] if cond.op != "is" else []
    if isinstance(cond, Relation):
        return []
    if isinstance(cond, Not):
        return _condition_bounds(cond.part)
    return [b for p in cond.parts for b in _condition_bounds(p)]


def _relations(cond) -> set[str]:
    if isinstance(cond, Relation):
        return {cond.metric, cond.other}
    if isinstance(cond, Comparison):
        return set()
    if isinstance(cond, Not):
        return _relations(cond.part)
    return {m for p in cond.parts for m in _relations(p)}


def _numeric(field_op: str, bound: int) -> list[dict]:
    return {"ge": [{"$gte": {"vf": bound}}], "gt": [{"$gt": {"vc": bound}}], "le": [{"$lte": {"vc": bound}}],
            "lt": [{"$lt": {"vf": bound}}], "eq": [{"$gte": {"vf": bound}}, {"$lte": {"vc": bound}}]}[field_op]


def _comparison(op: str, ref: str) -> dict:
    """vf of this fact `op` vf of the fact bound as `ref` (counts: vf is the exact scaled count)."""
    target = {ref: "vf"}
    if op == "eq":
        return {"vf": target}
    return {{"gt": "$gt", "ge": "$gte", "lt": "$lt", "le": "$lte", "ne": "$neq"}[op]: {"vf": target}}


def _join(owner_key: str, alternative: list[tuple], scale: int, head: list[dict] | None, where: str) -> list[dict]:
    """One alternative as durable patterns: the head (the item's own fact) if given, then one fact per
    metric the literals read, all sharing the question id of the first."""
    order = list(dict.fromkeys(m for lit in alternative for m in ((lit[1], lit[3]) if lit[0] == "rel" else (lit[1],))))
    names = {m: f"p{i + (1 if head else 0)}" for i, m in enumerate(order)}
    patterns = [{"p0": {"$and": head}}] if head else []
    for m in order:
        name = names[m]
        cons = [{"item": owner_key}, {"role": f"m:{m}"}, {"state": "value"}]
        if name != "p0":
            cons.append({"q": {"p0": "q"}})
        for lit in alternative:
            if lit[0] == "num" and lit[1] == m:
                cons += _numeric(lit[2], scaled_bound(lit[3], scale, where))
            elif lit[0] == "cat" and lit[1] == m:
                cons.append({"$neq": {"cat": category_key(lit[3])}} if lit[2] else {"cat": category_key(lit[3])})
            elif lit[0] == "rel" and m in (lit[1], lit[3]) and names[m] == max(names[lit[1]], names[lit[3]],
                                                                                  key=lambda n: int(n[1:])):
                other = lit[3] if m == lit[1] else lit[1]
                op = lit[2] if m == lit[1] else FLIPPED[lit[2]]
                cons.append(_comparison(op, names[other]))
        patterns.append({name: {"$and": cons}})
    if len(patterns) > MAX_FACTS_PER_RULE:
        raise EngineError(f"{where}: a condition joins more than {MAX_FACTS_PER_RULE} metrics in one rule of the "
                          f"rule engine; use --engine reference")
    return patterns


def _add(rules: dict, action: str, patterns: list[dict]) -> None:
    rules[f"{action}~{sum(1 for r in rules.values() if r['run'] == action)}"] = {"all": patterns, "run": action}


def condition_scale(conds) -> int:
    dens = [b.denominator for c in conds for b in _condition_bounds(c)]
    return math.lcm(*dens) if dens else 1


def _compound_rules(sub: SubCriterion, scale: int, cscale: int) -> dict[str, dict]:
    code, key = sub.code, item_key(sub.code)
    rules: dict[str, dict] = {}
    for br in sub.branches:
        head = [{"item": key}, {"role": "q"}] + _conditions(sub, br.condition, scale)[1:]
        req = sub.conditions.requirement(br.key)
        if req is None:
            _add(rules, compound_action(code, f"b:{br.key}"), [{"p0": {"$and": head}}])
            continue
        for alt in _literals(req.require):
            _add(rules, compound_action(code, f"b:{br.key}"), _join(key, alt, cscale, head, f"item {code}"))
        for alt in _literals(Not(req.require)):
            _add(rules, compound_action(code, f"b:{br.key}{OTHERWISE}"), _join(key, alt, cscale, head, f"item {code}"))
    for n, ko in enumerate(sub.conditions.knock_outs):
        for alt in _literals(ko.when):
            _add(rules, compound_action(code, f"k:{n}"), _join(key, alt, cscale, None, f"item {code}"))
    for role, metric in [("q", "")] + [(f"m:{m}", m) for m in sub.conditions.metrics()]:
        _add(rules, compound_action(code, f"m:{metric}"),
             [{"p0": {"$and": [{"item": key}, {"role": role}, {"state": "missing"}]}}])
    return rules


def _consistency_rules(rule, cscale: int) -> dict[str, dict]:
    owner = consistency_owner(rule.id)
    rules: dict[str, dict] = {}
    for alt in _literals(Not(rule.require)):
        _add(rules, compound_action(owner, "v"), _join(owner, alt, cscale, None, f"consistency rule {rule.id}"))
    for m in rule.metrics():
        _add(rules, compound_action(owner, f"m:{m}"),
             [{"p0": {"$and": [{"item": owner}, {"role": f"m:{m}"}, {"state": "missing"}]}}])
    return rules


def _name(definition: dict) -> str:
    canonical = json.dumps(definition, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "cchc_" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:24]


def compile_criteria(criteria: CriteriaSet) -> CompiledCriteria:
    """Rulesets of at most MAX_RULES_PER_RULESET rules, each named by the hash of its content, so a
    ruleset is registered once per process and never clashes with another criteria set's."""
    chunks: list[dict[str, dict]] = [{}]
    codes: list[list[str]] = [[]]
    scale, cscale, related = {}, {}, {}
    owners = []
    for sub in criteria.sub_criteria():
        scale[sub.code] = scale_of(sub)
        if sub.conditions is None:
            owners.append((sub.code, _rules_for(sub, scale[sub.code])))
            continue
        conds = [r.require for r in sub.conditions.requirements] + [k.when for k in sub.conditions.knock_outs]
        cscale[sub.code] = condition_scale(conds)
        related[sub.code] = frozenset(m for c in conds for m in _relations(c))
        owners.append((sub.code, _compound_rules(sub, scale[sub.code], cscale[sub.code])))
    for rule in criteria.consistency:
        owner_id = consistency_owner(rule.id)
        cscale[owner_id] = condition_scale([rule.require])
        related[owner_id] = frozenset(_relations(rule.require))
        owners.append((owner_id, _consistency_rules(rule, cscale[owner_id])))
    for code, rules in owners:
        if len(rules) > MAX_RULES_PER_RULESET:
            raise EngineError(_("item {code} has {n} rules, more than one ruleset can hold").format(
                code=code, n=len(rules)))
        if len(chunks[-1]) + len(rules) > MAX_RULES_PER_RULESET:
            chunks.append({})
            codes.append([])
        chunks[-1].update(rules)
        codes[-1].append(code)
    rulesets, owner = {}, {}
    for chunk, chunk_codes in zip(chunks, codes):
        name = _name(chunk)
        rulesets[name] = chunk
        for code in chunk_codes:
            owner[code] = name
    return CompiledCriteria(rulesets, owner, scale, cscale, related)
