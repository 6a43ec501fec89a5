"""A round's replay bundle (docs/replay.md): its inputs by role, its result files, and how a bundle
of kind `round` is re-run and compared (replay and what-if; listed in engine/bundle_kinds.py)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

from ..evaluate import Evaluator
from ..model import CriteriaSet
from ..roundio import input_files
from .output import round_files
from .run import RoundResult, run_round


def round_inputs(criteria_path: Path | str, evidence_paths: Sequence[Path | str], result: RoundResult, *,
                 survey_paths: Sequence[Path | str] = (), appraisal_paths: Sequence[Path | str] = (),
                 previous_path: Optional[Path | str] = None) -> dict:
    """The inputs of a round by role (criteria, evidence, survey, appraisal, previous), each path as
    given with every file read through it (`result.reads`) and the files its evidence cites."""
    from ..bundle import InputRoot, input_roots
    from ..replay import cited_files, evidence_roots

    survey_cited = cited_files((mv.location.file, mv) for values in result.survey.values.values()
                               for mv in values.values())
    return {"criteria": [InputRoot(Path(criteria_path), (Path(criteria_path),))],
            "evidence": evidence_roots(evidence_paths, result.evidence, result.reads.get("evidence", ())),
            "survey": input_roots(survey_paths, result.reads.get("survey", ()), input_files, survey_cited),
            "appraisal": input_roots(appraisal_paths, result.reads.get("appraisal", ()), input_files),
            "previous": [InputRoot(Path(previous_path), (Path(previous_path),))] if previous_path else []}


def round_bundle(criteria_path: Path | str, evidence_paths: Sequence[Path | str], result: RoundResult,
                 files: dict[str, bytes], *, survey_paths: Sequence[Path | str] = (),
                 appraisal_paths: Sequence[Path | str] = (), previous_path: Optional[Path | str] = None,
                 key: Optional[Path] = None, max_cited: Optional[int] = None) -> bytes:
    """The replay bundle of a round: its inputs by role, its result files as written, what ran."""
    from ..bundle import make_bundle

    cs = result.criteria
    about = {"criteria_id": cs.id, "criteria_sha256": cs.content_hash, "title": cs.title, "year": cs.year,
             "period": result.period}
    roles = round_inputs(criteria_path, evidence_paths, result, survey_paths=survey_paths,
                         appraisal_paths=appraisal_paths, previous_path=previous_path)
    return make_bundle("round", roles, files, result.engine, about=about, key=key, max_cited=max_cited)


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
    from ..criteria import load_criteria

    return _rerun(ctx, load_criteria(ctx.role("criteria")[0]))


def round_places(data: bytes) -> dict[str, tuple[str, str, Any]]:
    """(name, type, `engine.replay.Place`) of every unit of a round summary (round.json): final
    points, group, rank among the ranked units of its group, class."""
    import json

    from ..numbers import to_fraction
    from ..replay import Place

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
    from ..criteria import load_criteria
    from ..replay import Move, WhatIf, compare_results

    old_cs, new_cs = load_criteria(ctx.role("criteria")[0]), load_criteria(new_criteria)
    recorded, new_files = ctx.bundle.results(), _rerun(ctx, new_cs)
    before, after = round_places(recorded["round.json"]), round_places(new_files["round.json"])
    moves = tuple(Move(uid, *(after.get(uid) or before[uid])[:2], before.get(uid, (0, 0, None))[2],
                       after.get(uid, (0, 0, None))[2]) for uid in sorted(set(before) | set(after)))
    items = compare_results({k: v for k, v in recorded.items() if k.startswith("units/")},
                            {k: v for k, v in new_files.items() if k.startswith("units/")})
    return WhatIf((old_cs.id, old_cs.content_hash), (new_cs.id, new_cs.content_hash), ctx.evaluator.name,
                  moves, items)
