"""The durable_rules evaluator, guarded against the engine's known traps (see docs/engine.md)."""
from __future__ import annotations

import copy
import itertools
from fractions import Fraction
from typing import Iterable, Sequence

from durable import engine as durable_engine

from engine.errors import EngineError
from engine.i18n import _
from engine.model import MISSING, Case, CriteriaSet, Verdict

from .compile import (EXACT_LIMIT, MISSING_BRANCH, CompiledCriteria, category_key, compile_criteria,
                      item_key)

_SINK: list[tuple[str, str]] = []  # (fact id, action name) appended by actions as they run


class _Host(durable_engine.Host):
    """A host whose actions only record which rule fired; the points are computed outside.

    The stock host starts timer threads that dispatch pending actions in the background; they could
    run an action outside `assert_fact` and so away from the fact being decided. Nothing here uses
    timers or queued actions, so they are not started."""

    def _run(self):
        pass

    def get_action(self, action_name):
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
        scaled = q * scale
        vf = scaled.numerator // scaled.denominator
        vc = -((-scaled.numerator) // scaled.denominator)
        # Every compiled bound B has |B| < EXACT_LIMIT, so a value beyond it compares with every
        # bound exactly as its saturated value ±EXACT_LIMIT does (and that one is exact in a double).
        return (case.code, "value", _saturate(vf), _saturate(vc))
    return (case.code, "cat", q)


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

    def verdicts(self, criteria: CriteriaSet, cases: Sequence[Case]) -> list[Verdict]:
        compiled = compile_criteria(criteria)
        register(compiled)
        keys = [question(case, compiled.scale[case.code]) for case in cases]
        answers = self._ask(compiled, dict.fromkeys(keys))
        self.asked, self.distinct = len(cases), len(answers)
        return [Verdict(case.unit_id, case.code, branch) for case, key in zip(cases, keys) for branch in answers[key]]

    def _ask(self, compiled: CompiledCriteria, questions: Iterable[tuple]) -> dict[tuple, list]:
        """Branches each question's fact fired (None: no band matched, several: overlapping bands,
        both left for the completeness proof to report)."""
        h = host()
        answers: dict[tuple, list] = {}
        pending = list(questions)
        for start in range(0, len(pending), self.STATE_SIZE):
            sid = f"run{next(_RUN)}"
            used = set()
            for n, key in enumerate(pending[start:start + self.STATE_SIZE]):
                code = key[0]
                rs = compiled.owner[code]
                f = question_fact(key, f"q{n}", sid)
                _SINK.clear()
                try:
                    state = h.assert_fact(rs, f)
                except durable_engine.MessageNotHandledException:
                    answers[key] = [None]  # no band matched: reported, not 0
                    continue
                except durable_engine.MessageObservedException:
                    raise EngineError(_("the rule engine saw item {code} twice").format(code=code)) from None
                except Exception as exc:  # an error raised inside the engine or an action
                    raise EngineError(_("the rule engine failed on item {code}: {reason}").format(
                        code=code, reason=exc)) from None
                # Only a state that holds a handled fact may be deleted: deleting one whose facts all
                # went unhandled crashes the process (segmentation fault in durable_rules 2.0.28).
                used.add(rs)
                if isinstance(state, dict) and "exception" in state:
                    raise EngineError(_("an action failed on item {code}: {reason}").format(
                        code=code, reason=state['exception']))
                branches = []
                for fid, action in _SINK:
                    if fid != f["id"]:
                        raise EngineError(_("rule {rule} fired for another fact ({fact!r})").format(
                            rule=action, fact=fid))
                    fired_code, _sep, branch = action.rpartition("#")
                    if fired_code != code:
                        raise EngineError(_("rule {rule} fired for item {code}").format(rule=action, code=code))
                    branches.append(MISSING if branch == MISSING_BRANCH else branch)
                answers[key] = branches
            for rs in used:
                h.delete_state(rs, sid)
        _SINK.clear()
        return answers
