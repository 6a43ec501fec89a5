"""The annual round, by job: worker processes (`pool`, which `score` uses too), orchestration
(`run`), where inputs say what they may not (`problems`), JSON output (`output`), the replay
bundle (`replay`; the bundle kind `round` is registered here, its handlers load it when called).

Results do not depend on the number of workers: files are read in fixed chunks taken back in order,
every unit is decided on its own, and everything is sorted by unit id before it is written.

`from engine.round import X` loads only the part that defines X (a `score` run needs the worker
processes, not the ranking and its output).
"""
from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {
    **dict.fromkeys(("ranking_json", "round_files", "round_json", "round_unit_json", "standing_json"), "output"),
    **dict.fromkeys(("FILES_PER_CHUNK", "EvaluatorFactory", "Progress", "Workers", "decide_all", "default_workers"),
                    "pool"),
    "round_problems": "problems",
    **dict.fromkeys(("round_bundle", "round_inputs", "round_places"), "replay"),
    **dict.fromkeys(("RoundResult", "run_round"), "run"),
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
    globals()[name] = value
    return value


def _replay_round(ctx: Any) -> Any:
    return import_module(f"{__name__}.replay").replay_round(ctx)


def _what_if_round(ctx: Any, new_criteria: Any) -> Any:
    return import_module(f"{__name__}.replay").what_if_round(ctx, new_criteria)


def _register_replay() -> None:
    try:
        from ..replay import ReplayKind, register
    except ImportError:  # replay is optional for scoring
        return
    register(ReplayKind("round", _replay_round, what_if=_what_if_round))


_register_replay()
