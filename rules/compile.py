"""Compile a criteria set into durable_rules rulesets (the engine's JSON form).

Every branch of every sub-criterion becomes one rule; one more rule per sub-criterion decides
missing evidence. Numeric conditions never reach the engine as fractions or floats: each
sub-criterion has an integer scale S, a fact carries `vf = floor(q·S)` and `vc = ceil(q·S)`, and a
bound b becomes the integer B = b·S, so that exactly
    q ≥ b ⇔ vf ≥ B,   q > b ⇔ vc > B,   q ≤ b ⇔ vc ≤ B,   q < b ⇔ vf < B.
Strings are prefixed (`i:` items, `c:` categories) so that no value can look like a number.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from fractions import Fraction

from engine.errors import EngineError
from engine.i18n import _
from engine.model import Always, Category, CriteriaSet, Interval, SubCriterion
from engine.numbers import exact_text

MAX_RULES_PER_RULESET = 500  # durable_rules 2.0.28 fails at 512 rules and hangs above
EXACT_LIMIT = 2 ** 53  # integers the engine is trusted to compare exactly
MISSING_BRANCH = "__missing__"


@dataclass(frozen=True)
class CompiledCriteria:
    rulesets: dict[str, dict]  # content-hash name -> ruleset definition
    owner: dict[str, str]  # sub-criterion code -> ruleset name
    scale: dict[str, int]  # sub-criterion code -> integer scale S


def item_key(code: str) -> str:
    return f"i:{code}"


def category_key(value: str) -> str:
    return f"c:{value}"


def action_name(code: str, branch: str) -> str:
    return f"{code}#{branch}"


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


def _name(definition: dict) -> str:
    canonical = json.dumps(definition, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "cchc_" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:24]


def compile_criteria(criteria: CriteriaSet) -> CompiledCriteria:
    """Rulesets of at most MAX_RULES_PER_RULESET rules, each named by the hash of its content, so a
    ruleset is registered once per process and never clashes with another criteria set's."""
    chunks: list[dict[str, dict]] = [{}]
    codes: list[list[str]] = [[]]
    scale = {}
    for sub in criteria.sub_criteria():
        scale[sub.code] = scale_of(sub)
        rules = _rules_for(sub, scale[sub.code])
        if len(rules) > MAX_RULES_PER_RULESET:
            raise EngineError(_("item {code} has {n} rules, more than one ruleset can hold").format(
                code=sub.code, n=len(rules)))
        if len(chunks[-1]) + len(rules) > MAX_RULES_PER_RULESET:
            chunks.append({})
            codes.append([])
        chunks[-1].update(rules)
        codes[-1].append(sub.code)
    rulesets, owner = {}, {}
    for chunk, chunk_codes in zip(chunks, codes):
        name = _name(chunk)
        rulesets[name] = chunk
        for code in chunk_codes:
            owner[code] = name
    return CompiledCriteria(rulesets, owner, scale)
