"""The durable_rules evaluator, guarded against the engine's known traps (see docs/engine.md)."""
from __future__ import annotations

import copy
import itertools
from fractions import Fraction
from typing import Sequence

from durable import engine as durable_engine

from engine.errors import EngineError
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


def fact(case: Case, scale: int, sid: str) -> dict:
    f = {"sid": sid, "id": f"{case.unit_id}\x1f{case.code}", "item": item_key(case.code)}
    q = case.quantity
    if q is None:
        f["state"] = "missing"
    elif isinstance(q, Fraction):
        scaled = q * scale
        vf = scaled.numerator // scaled.denominator
        vc = -((-scaled.numerator) // scaled.denominator)
        # Every compiled bound B has |B| < EXACT_LIMIT, so a value beyond it compares with every
        # bound exactly as its saturated value ±EXACT_LIMIT does (and that one is exact in a double).
        f.update(state="value", vf=_saturate(vf), vc=_saturate(vc))
    else:
        f.update(state="value", cat=category_key(q))
    return f


class DurableEvaluator:
    name = "durable"

    def verdicts(self, criteria: CriteriaSet, cases: Sequence[Case]) -> list[Verdict]:
        compiled = compile_criteria(criteria)
        register(compiled)
        h = host()
        out: list[Verdict] = []
        by_unit: dict[str, list[Case]] = {}
        for case in cases:
            by_unit.setdefault(case.unit_id, []).append(case)
        for unit_id, unit_cases in by_unit.items():
            sid = f"run{next(_RUN)}"
            used = set()
            for case in unit_cases:
                rs = compiled.owner[case.code]
                f = fact(case, compiled.scale[case.code], sid)
                _SINK.clear()
                try:
                    state = h.assert_fact(rs, f)
                except durable_engine.MessageNotHandledException:
                    out.append(Verdict(unit_id, case.code, None))  # no band matched: reported, not 0
                    continue
                except durable_engine.MessageObservedException:
                    raise EngineError(f"the rule engine saw unit {unit_id}, item {case.code} twice") from None
                except Exception as exc:  # an error raised inside the engine or an action
                    raise EngineError(f"the rule engine failed on unit {unit_id}, item {case.code}: {exc}") from None
                # Only a state that holds a handled fact may be deleted: deleting one whose facts all
                # went unhandled crashes the process (segmentation fault in durable_rules 2.0.28).
                used.add(rs)
                if isinstance(state, dict) and "exception" in state:
                    raise EngineError(f"an action failed on unit {unit_id}, item {case.code}: {state['exception']}")
                for fid, action in _SINK:
                    if fid != f["id"]:
                        raise EngineError(f"rule {action} fired for another fact ({fid!r})")
                    code, _, branch = action.rpartition("#")
                    if code != case.code:
                        raise EngineError(f"rule {action} fired for item {case.code}")
                    out.append(Verdict(unit_id, code, MISSING if branch == MISSING_BRANCH else branch))
            for rs in used:
                h.delete_state(rs, sid)
        _SINK.clear()
        return out
