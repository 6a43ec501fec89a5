"""`score` as one run: evidence read and units decided by the worker processes
(engine/round/pool.py, one or more), each unit's result JSON encoded where it was decided, and
only what the summary and the terminal table need of a unit kept beside its encoded bytes.

The bytes do not depend on the number of workers: units come back in unit-id order, each encoded
by the same code as `engine.storage.results.result_files` (which a replay runs: the same bytes again).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

from ..evaluation.evaluate import Evaluator
from ..inputs.evidence import EvidenceSet
from ..core.model import CriteriaSet, Rollup, UnitResult
from ..storage.outdir import check_names
from ..storage.results import encode, summary_doc, summary_row, unit_json


@dataclass(frozen=True)
class UnitLine:
    """What a run keeps of a decided unit besides its result file: its summary line and the
    columns of the terminal table."""

    unit_id: str
    unit_name: str
    unit_type: str
    total: Rollup
    missing: int  # items without evidence or without a matching band
    decisions: int
    summary: dict
    warnings: tuple[str, ...]  # what the criteria set's consistency rules say of the unit


def encoded(criteria: CriteriaSet, results: list[UnitResult], engine: str) -> list[tuple[UnitLine, bytes]]:
    """A decided chunk as it leaves its worker: each unit's line and its result file's bytes."""
    return [(UnitLine(r.unit_id, r.unit_name, r.unit_type, r.total,
                      sum(1 for d in r.decisions if d.status in ("missing_evidence", "no_matching_band")),
                      len(r.decisions), summary_row(r), tuple(r.warnings)),
             encode(unit_json(criteria, r, engine))) for r in results]


@dataclass(frozen=True)
class ScoreRun:
    evidence: EvidenceSet
    reads: frozenset[str]  # every file read while loading the evidence (the bundle packs them)
    lines: tuple[UnitLine, ...]  # by unit id
    files: dict[str, bytes]  # units/<id>.json and summary.json, as written

    @property
    def decisions(self) -> int:
        return sum(u.decisions for u in self.lines)


def score_run(criteria: CriteriaSet, evidence_paths: Sequence[Path | str], factory: Callable[[str], Evaluator],
              engine: str, *, workers: int = 1, warn: Optional[Callable[[EvidenceSet], None]] = None) -> ScoreRun:
    """Read, decide and encode every unit with `workers` processes. `warn` sees the evidence's
    warnings as soon as it is read."""
    from .pool import Workers

    name = factory(engine).name
    with Workers(criteria, factory, engine, workers, finish=encoded) as pool:
        ev = pool.load_evidence(list(evidence_paths))
        if warn is not None:
            warn(ev)
        check_names({r.unit_id: r.source for r in ev.records})
        files: dict[str, bytes] = {}
        lines: list[UnitLine] = []
        for chunk in pool.decided(ev.records):
            for line, data in chunk:
                files[f"units/{line.unit_id}.json"] = data
                lines.append(line)
    files["summary.json"] = encode(summary_doc(criteria, [u.summary for u in lines], name,
                                               [str(w) for w in ev.warnings] + [w for u in lines for w in u.warnings]))
    return ScoreRun(ev, frozenset(pool.reads), tuple(lines), files)
