"""The durable_rules evaluator, guarded against the engine's known traps (see docs/engine.md)."""
from __future__ import annotations

import copy
import itertools
from fractions import Fraction
from typing import Any, Iterable, Sequence

from durable import engine as durable_engine

from engine.core.errors import EngineError
from engine.core.i18n import _
from engine.core.memo import remember
from engine.core.model import MISSING, Case, CriteriaSet, Verdict
from engine.core.stops import stops_held

from .compile import (EXACT_LIMIT, MISSING_BRANCH, CompiledCriteria, category_key, compile_criteria,
                      consistency_owner, item_key)

_SINK: list[tuple[str, str]] = []  # (fact id, action name) appended by actions as they run


class _Host(durable_engine.Host):
    """A host whose actions only record which rule fired; the points are computed outside.

    The stock host starts timer threads that dispatch pending actions in the background; they could
    run an action outside `assert_fact` and so away from the fact being decided. Nothing here uses
    timers or queued actions, so they are not started."""

    def _run(self):
        pass

    def get_action(self, action_name):
        if action_name.startswith("x:"):  # a compound rule: its facts share the question id `q`
            def record(c):
                _SINK.append((c.p0["q"], action_name))
        else:
            def record(c):
                _SINK.append((c.m["id"], action_name))
        return record


_HOST: _Host | None = None
_REGISTERED: set[str] = set()
_RUN = itertools.count()


def host() -> _Host:
    """The one host of this process (created once, before any ruleset is used)."""
    global _HOST
    if _HOST is None:
        _HOST = _Host()
    return _HOST


def register(compiled: CompiledCriteria) -> None:
    h = host()
    for name, definition in compiled.rulesets.items():
        if name not in _REGISTERED:
            # the engine deletes `run` from the definition it is given: hand it a copy
            h.set_rulesets({name: copy.deepcopy(definition)})
            _REGISTERED.add(name)


def _saturate(v: int) -> int:
    return max(-EXACT_LIMIT, min(EXACT_LIMIT, v))


def question(case: Case, scale: int) -> tuple:
    """What the rule engine is asked about a case: its item and its scaled value (floor and ceiling),
    its category, or that it is missing. Every case with the same question gets the same verdict."""
    q = case.quantity
    if q is None:
        return (case.code, "missing")
    if isinstance(q, Fraction):
        n, d = q.numerator * scale, q.denominator  # q × scale, floor and ceiling, in integers
        if d == 1:  # a whole number: its own floor and ceiling
            vf = vc = n
        else:
            vf = n // d
            vc = -((-n) // d)
        # Every compiled bound B has |B| < EXACT_LIMIT, so a value beyond it compares with every
        # bound exactly as its saturated value ±EXACT_LIMIT does (and that one is exact in a double).
        if -EXACT_LIMIT <= vf and vc <= EXACT_LIMIT:  # mostly: nothing to saturate
            return (case.code, "value", vf, vc)
        return (case.code, "value", _saturate(vf), _saturate(vc))
    return (case.code, "cat", q)


def _state(q, scale: int, owner: str, metric: str, related: frozenset) -> tuple:
    if q is None:
        return ("missing",)
    if isinstance(q, Fraction):
        scaled = q * scale
        vf = scaled.numerator // scaled.denominator
        vc = -((-scaled.numerator) // scaled.denominator)
        if metric in related and abs(vf) >= EXACT_LIMIT:
            raise EngineError(f"{owner}: value {q} of {metric} cannot be compared exactly with another metric in "
                              f"the rule engine; use --engine reference")
        return ("value", _saturate(vf), _saturate(vc))
    return ("cat", q)


def compound_question(case: Case, compiled: CompiledCriteria) -> tuple:
    """An item with conditions: its own quantity and every quantity its conditions read."""
    own = question(case, compiled.scale[case.code])[1:]
    related, scale = compiled.related[case.code], compiled.condition_scale[case.code]
    return (case.code, "x", own,
            tuple((m, _state(q, scale, f"item {case.code}", m, related)) for m, q in case.extra))


def consistency_question(rule, quantities: tuple, compiled: CompiledCriteria) -> tuple:
    owner = consistency_owner(rule.id)
    related, scale = compiled.related[owner], compiled.condition_scale[owner]
    return (owner, "x", None,
            tuple((m, _state(q, scale, f"consistency rule {rule.id}", m, related)) for m, q in quantities))


def _state_fields(state: tuple) -> dict:
    if state[0] == "missing":
        return {"state": "missing"}
    if state[0] == "value":
        return {"state": "value", "vf": state[1], "vc": state[2]}
    return {"state": "value", "cat": category_key(state[1])}


def compound_facts(key: tuple, qid: str, sid: str) -> list[dict]:
    owner, _, own, extra = key
    owner_key = owner if owner.startswith("k:") else item_key(owner)
    facts = []
    if own is not None:
        facts.append({"sid": sid, "id": f"{qid}.q", "q": qid, "item": owner_key, "role": "q", **_state_fields(own)})
    for j, (m, state) in enumerate(extra):
        facts.append({"sid": sid, "id": f"{qid}.{j}", "q": qid, "item": owner_key, "role": f"m:{m}",
                      **_state_fields(state)})
    return facts


def question_fact(key: tuple, fid: str, sid: str) -> dict:
    code, state = key[0], key[1]
    f = {"sid": sid, "id": fid, "item": item_key(code)}
    if state == "missing":
        f["state"] = "missing"
    elif state == "value":
        f.update(state="value", vf=key[2], vc=key[3])
    else:
        f.update(state="value", cat=category_key(key[2]))
    return f


def fact(case: Case, scale: int, sid: str) -> dict:
    return question_fact(question(case, scale), f"{case.unit_id}\x1f{case.code}", sid)


class DurableEvaluator:
    """Asks the rule engine each distinct question once per call and hands its answer to every case
    that asked it; `prove_complete` then checks the verdicts against every (unit, item) case."""

    name = "durable"
    STATE_SIZE = 64  # facts held in one engine state before it is deleted


    def __init__(self) -> None:
        self.asked = 0  # cases in the last call
        self.distinct = 0  # distinct questions the engine was asked in the last call
        self._answers: dict[tuple, Any] = {}

    def verdicts(self, criteria: CriteriaSet, cases: Sequence[Case]) -> list[Verdict]:
        compiled = compile_criteria(criteria)
        register(compiled)
        subs = {s.code: s for s in criteria.sub_criteria()}
        scales = {code: None if sub.conditions else compiled.scale[code] for code, sub in subs.items()}
        keys = [compound_question(case, compiled) if (scale := scales[case.code]) is None else question(case, scale)
                for case in cases]
        answers = self._remembered(compiled, dict.fromkeys(keys))
        self.asked, self.distinct = len(cases), len(answers)
        out = []
        for case, key in zip(cases, keys):
            if key[1] != "x":
                branches = answers[key]
                if len(branches) == 1:  # most questions: one branch
                    out.append(Verdict(case.unit_id, case.code, branches[0]))
                else:
                    out += [Verdict(case.unit_id, case.code, branch) for branch in branches]
                continue
            out += [Verdict(case.unit_id, case.code, branch, kos, missing)
                    for branch, kos, missing in _item_outcome(subs[case.code], answers[key])]
        return out

    def consistency(self, criteria: CriteriaSet, questions: Sequence[tuple]) -> list[tuple[bool, str]]:
        """For each (rule, quantities): whether the rule engine found it broken, and the first of its
        metrics without a value (then it is not checked)."""
        compiled = compile_criteria(criteria)
        register(compiled)
        keys = [consistency_question(rule, quantities, compiled) for rule, quantities in questions]
        answers = self._ask(compiled, dict.fromkeys(keys))
        out = []
        for (rule, _), key in zip(questions, keys):
            if any(action.partition("#")[0] != f"x:{key[0]}" for action in answers[key]):
                raise EngineError(f"a rule of another owner fired for consistency rule {rule.id}")
            fired = {action.partition("#")[2] for action in answers[key]}
            missing = [m for m in rule.metrics() if f"m:{m}" in fired]
            out.append((not missing and "v" in fired, missing[0] if missing else ""))
        return out

    def _remembered(self, compiled: CompiledCriteria, questions: Iterable[tuple]) -> dict[tuple, Any]:
        """`_ask`, for the questions not already answered in an earlier call: a ruleset is named by
        the hash of its rules, so the same ruleset and question get the same answer in every chunk."""
        kept = self._answers
        answers, new = {}, []
        for key in questions:
            found = kept.get((compiled.owner[key[0]], key))
            if found is None:
                new.append(key)
            else:
                answers[key] = found
        if new:
            asked = self._ask(compiled, new)
            for key, answer in asked.items():
                remember(kept, (compiled.owner[key[0]], key), answer)
            answers.update(asked)
        return answers

    def _ask(self, compiled: CompiledCriteria, questions: Iterable[tuple]) -> dict[tuple, list]:
        """Branches each question's fact fired (None: no band matched, several: overlapping bands,
        both left for the completeness proof to report); for a compound question, the set of outcomes
        its facts fired together."""
        # durable_rules catches every exception raised while it runs an action (BaseException
        # included) and keeps it in the state it returns: a Ctrl-C (KeyboardInterrupt) landing there
        # would become an engine failure, or be lost and the run go on. It is taken once the engine
        # has returned.
        with stops_held():
            return self._asked(compiled, list(questions))

    def _asked(self, compiled: CompiledCriteria, pending: list[tuple]) -> dict[tuple, list]:
        h = host()
        answers: dict[tuple, list] = {}
        for start in range(0, len(pending), self.STATE_SIZE):
            sid = f"run{next(_RUN)}"
            used = set()
            for n, key in enumerate(pending[start:start + self.STATE_SIZE]):
                code = key[0]
                rs = compiled.owner[code]
                what = f"consistency rule {code[2:]}" if code.startswith("k:") else f"item {code}"
                if key[1] == "x":
                    fired = set()
                    for f in compound_facts(key, f"q{n}", sid):
                        self._assert(h, rs, f, what, f["q"], fired)
                    # Facts held for a join that never completed do not make a state deletable: deleting
                    # a state in which no rule fired aborts the process (durable_rules 2.0.28).
                    if fired:
                        used.add(rs)
                    answers[key] = fired
                    continue
                f = question_fact(key, f"q{n}", sid)
                fired = set()
                if not self._assert(h, rs, f, what, f["id"], fired):
                    answers[key] = [None]  # no band matched: reported, not 0
                    continue
                used.add(rs)
                branches = []
                for action in fired:
                    fired_code, _sep, branch = action.rpartition("#")
                    if fired_code != code:
                        raise EngineError(_("rule {rule} fired for item {code}").format(rule=action, code=code))
                    branches.append(MISSING if branch == MISSING_BRANCH else branch)
                answers[key] = sorted(branches)
            for rs in used:
                h.delete_state(rs, sid)
        _SINK.clear()
        return answers

    @staticmethod
    def _assert(h, rs: str, f: dict, what: str, expected: str, fired: set) -> bool:
        """Assert one fact and add the actions it fired; False when no rule holds the fact (durable_rules
        then keeps nothing, and a state holding only such facts must not be deleted)."""
        _SINK.clear()
        try:
            state = h.assert_fact(rs, f)
        except durable_engine.MessageNotHandledException:
            return False
        except durable_engine.MessageObservedException:
            raise EngineError(f"the rule engine saw {what} twice") from None
        except Exception as exc:  # an error raised inside the engine or an action
            raise EngineError(f"the rule engine failed on {what}: {exc}") from None
        if isinstance(state, dict) and "exception" in state:
            raise EngineError(f"an action failed on {what}: {state['exception']}")
        for fid, action in _SINK:
            if fid != expected:
                raise EngineError(f"rule {action} fired for another fact ({fid!r})")
            fired.add(action)
        return True


def _item_outcome(sub, fired: set) -> list[tuple]:
    """The verdicts of an item with conditions from the outcomes its facts fired: a missing value
    first (the item's own, else the first its conditions read), else each band or band-otherwise that
    holds (none or several are left to the completeness proof), with the knock-outs that hold."""
    outcomes = [a.partition("#")[2] for a in fired]
    for a in fired:
        if a.partition("#")[0] != f"x:{sub.code}":
            raise EngineError(f"rule {a} fired for item {sub.code}")
    missing = {o[2:] for o in outcomes if o.startswith("m:")}
    if "" in missing:
        return [(MISSING, (), "")]
    if missing:
        return [(MISSING, (), next(m for m in sub.conditions.metrics() if m in missing))]
    kos = tuple(sorted(int(o[2:]) for o in outcomes if o.startswith("k:")))
    bands = sorted(o[2:] for o in outcomes if o.startswith("b:"))
    return [(b, kos, "") for b in bands] or [(None, (), "")]
