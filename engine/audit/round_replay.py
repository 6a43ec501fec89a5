"""How a bundle of kind `round` is re-run and compared (replay and what-if; listed in
engine/audit/bundle_kinds.py): the round run again in one process from the bundle's own inputs."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..evaluation.evaluate import Evaluator
from ..core.model import CriteriaSet
from ..round.output import round_files
from ..round.run import run_round


@dataclass(frozen=True)
class _Given:
    """An evaluator factory that hands out one evaluator (a replay runs in one process)."""

    evaluator: Evaluator

    def __call__(self, name: str) -> Evaluator:
        return self.evaluator


def _rerun(ctx, criteria: CriteriaSet) -> dict[str, bytes]:
    """The round's result files from a bundle's rebuilt inputs, under `criteria`."""
    previous = ctx.role("previous", required=False)
    result = run_round(criteria, ctx.role("evidence"), factory=_Given(ctx.evaluator), engine=ctx.evaluator.name,
                       survey_paths=ctx.role("survey", required=False),
                       appraisal_paths=ctx.role("appraisal", required=False),
                       previous_path=previous[0] if previous else None, workers=1)
    return round_files(result)


def replay_round(ctx) -> dict[str, bytes]:
    from ..inputs.criteria import load_criteria

    return _rerun(ctx, load_criteria(ctx.role("criteria")[0]))


def round_places(data: bytes) -> dict[str, tuple[str, str, Any]]:
    """(name, type, `engine.audit.replay.Place`) of every unit of a round summary (round.json): final
    points, group, rank among the ranked units of its group, class."""
    import json

    from ..core.numbers import to_fraction
    from .replay import Place

    doc = json.loads(data.decode("utf-8"))
    out: dict[str, tuple[str, str, Any]] = {}
    for g in doc.get("groups") or []:
        ranked = sum(1 for u in g["units"] if u.get("rank") is not None)
        for u in g["units"]:
            out[u["id"]] = (u["name"], u["type"], Place(to_fraction(u["points"]), to_fraction(u["max"]), g["id"],
                                                        u.get("rank"), ranked, u.get("class")))
    for u in (doc.get("ungrouped") or {}).get("units") or []:
        out[u["id"]] = (u["name"], u["type"], Place(to_fraction(u["points"]), to_fraction(u["max"]), None, None, 0,
                                                    None))
    return out


def what_if_round(ctx, new_criteria: Path):
    """The round re-run under another criteria set (same evidence, survey, appraisal and last
    year's round): every unit's final points, index, rank and class, recorded → what-if."""
    from ..inputs.criteria import load_criteria
    from .replay import Move, WhatIf, compare_results

    old_cs, new_cs = load_criteria(ctx.role("criteria")[0]), load_criteria(new_criteria)
    recorded, new_files = ctx.bundle.results(), _rerun(ctx, new_cs)
    before, after = round_places(recorded["round.json"]), round_places(new_files["round.json"])
    moves = tuple(Move(uid, *(after.get(uid) or before[uid])[:2], before.get(uid, (0, 0, None))[2],
                       after.get(uid, (0, 0, None))[2]) for uid in sorted(set(before) | set(after)))
    items = compare_results({k: v for k, v in recorded.items() if k.startswith("units/")},
                            {k: v for k, v in new_files.items() if k.startswith("units/")})
    return WhatIf((old_cs.id, old_cs.content_hash), (new_cs.id, new_cs.content_hash), ctx.evaluator.name,
                  moves, items)
