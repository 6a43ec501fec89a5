"""`score` as one run, streamed: evidence read in pieces and units decided by the worker
processes (engine/round/pool.py, one or more), each unit's result JSON encoded where it was
decided and written straight into the output's staging folder (engine.storage.outdir.Staging),
its summary line (`UnitLine`) into a scratch file there until summary.json is written. What is in
memory is the pieces in flight; of each unit only its id, where it was first given and what it
read and cites (for the bundle).

The bytes do not depend on the number of workers: the pieces are fixed by the evidence alone and
come back in order, each unit is encoded by the same code as `engine.storage.results.result_files`
(which a replay runs: the same bytes again), and the summary is sorted by unit id.
"""
from __future__ import annotations

import io
import pickle
import sys
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Iterator, Mapping, Optional, Sequence

from ..core.errors import EngineError, EvidenceError, IncompleteEvaluationError, Problem
from ..core.i18n import _
from ..evaluation.evaluate import Evaluator
from ..inputs.evidence import evidence_pieces
from ..inputs.tables import ProblemSink
from ..core.model import CriteriaSet, Rollup, UnitResult
from ..storage.outdir import Staging, check_names, name_problem
from ..storage.results import encode, summary_doc, summary_row, unit_file

UNITS_PER_PIECE = 64  # units of a CSV file read, decided and written per task (fixed: see the module's doc)
FILES_PER_PIECE = 64  # other evidence files (YAML, Excel) per task
AHEAD = 2  # tasks waiting per worker: what is in memory at a time is about (workers × AHEAD + 1) pieces


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
             unit_file(criteria, r, engine)) for r in results]


@dataclass(frozen=True)
class ScoreRun:
    units: int
    decisions: int
    lines: tuple[UnitLine, ...]  # the first ones by unit id (as many as asked for)
    warnings: tuple[Problem, ...]  # the evidence's, by unit id
    files: tuple[str, ...]  # written into the staging folder: units/<id>.json, then summary.json
    reads: frozenset[str]  # every file read while reading the evidence (the bundle packs them)
    cited: tuple[Path, ...]  # the files the evidence cites


def score_run(criteria: CriteriaSet, evidence_paths: Sequence[Path | str], factory: Callable[[str], Evaluator],
              engine: str, staged: Staging, *, workers: int = 1, keep: int = 0,
              warn: Optional[Callable[[tuple[Problem, ...]], None]] = None) -> ScoreRun:
    """Read, decide and encode every unit with `workers` processes, each unit's result file written
    into `staged` as soon as its piece is back, its line (`UnitLine`) into a scratch file until
    summary.json is written; the first `keep` lines are returned. Every problem of the evidence is
    reported, in whichever piece it stands: after the first, pieces are still read (for their
    problems) but no longer decided or written. `warn` sees the evidence's warnings once it has
    all read well."""
    with staged.scratch() as spool:
        return _score_run(criteria, evidence_paths, factory, engine, staged, spool, workers, keep, warn)


def _score_run(criteria: CriteriaSet, evidence_paths: Sequence[Path | str], factory: Callable[[str], Evaluator],
               engine: str, staged: Staging, spool: BinaryIO, workers: int, keep: int,
               warn: Optional[Callable[[tuple[Problem, ...]], None]]) -> ScoreRun:
    from .pool import Workers

    name = factory(engine).name
    sink = ProblemSink()
    pieces = evidence_pieces(evidence_paths, UNITS_PER_PIECE, FILES_PER_PIECE, sink)
    problems = list(sink.problems)
    deciding = not problems  # a header already refused: every piece is only read, for its problems
    tasks: list = [[piece, deciding] for piece in pieces]  # [piece, deciding]: read when the task is sent
    del pieces  # each let go once its task is done (a national run's index of the evidence is megabytes)
    # What is kept per unit, compactly (a national run has tens of thousands of them):
    firsts: dict[str, tuple[str, int]] = {}  # unit id -> (where it is first given, its file's number in `sources`)
    sources: dict[str, int] = {}  # each evidence file's name, numbered
    written: list[str] = []  # the units written, in the order they were
    spans = array("q")  # the place of each written unit's line in `spool`: offset, size
    folded: set[str] = set()  # the lower-case forms of written ids that are not lower case themselves
    decisions = 0
    warnings: list[tuple[str, tuple[Problem, ...]]] = []
    reads: set[str] = set()
    cited: dict[Path, None] = {}
    refused = False  # a unit id that cannot name a file was met
    missing, duplicated, failures = [], [], []
    with Workers(criteria, factory, engine, workers, finish=encoded) as pool:
        for i, (kind, (read, payload), _n) in enumerate(pool.stream("score_piece", tasks, AHEAD)):
            problems += read.problems
            for unit, at, source in read.firsts:
                if unit in firsts:
                    problems.append(Problem.at(at, _("duplicate unit {unit!r}: already given at {at}").format(
                        unit=unit, at=firsts[unit][0])))
                else:
                    firsts[sys.intern(unit)] = (str(at), sources.setdefault(source, len(sources)))
            reads.update(read.reads)
            cited.update(dict.fromkeys(read.cited))
            warnings += read.warnings
            if kind == "incomplete":
                missing += payload[0]
                duplicated += payload[1]
            elif kind == "engine":
                failures.append(payload)
            elif kind == "ok" and not problems and not refused:
                for line, data in payload:
                    unit = sys.intern(line.unit_id)  # the same string as the key in `firsts`
                    low = unit.lower()
                    if name_problem(unit) or low in folded or (low != unit and low in firsts):
                        refused = True  # a name check_names refuses below (ids that differ only in case): never written
                        continue
                    staged.add(f"units/{unit}.json", data)
                    if low != unit:
                        folded.add(low)
                    kept = pickle.dumps(line, pickle.HIGHEST_PROTOCOL)
                    written.append(unit)
                    spans.extend((spool.seek(0, io.SEEK_END), len(kept)))
                    spool.write(kept)
                    decisions += line.decisions
            if deciding and (problems or refused):  # the run fails: the tasks not yet sent only read
                deciding = False
                for rest in tasks[i + 1:]:
                    rest[1] = False
            tasks[i] = None
    if problems:
        raise EvidenceError(problems)
    warnings.sort(key=lambda w: w[0])
    evidence_warnings = tuple(w for _unit, ws in warnings for w in ws)
    if warn is not None:
        warn(evidence_warnings)
    check_names(_FirstSources(firsts, list(sources)))
    if failures:
        raise EngineError(failures[0])
    if missing or duplicated:
        raise IncompleteEvaluationError(missing, duplicated)
    order = sorted(range(len(written)), key=written.__getitem__)
    shown: list[UnitLine] = []
    unit_warnings: list[str] = []
    with staged.create("summary.json") as fh:
        # summary.json as `encode(summary_doc(...))` writes it, its units' lines streamed in
        before = encode(summary_doc(criteria, [], name, [])).split(_NO_UNITS)[0]
        fh.write(before + _NO_UNITS[:-1])
        for i, k in enumerate(order):
            spool.seek(spans[2 * k])
            line = pickle.loads(spool.read(spans[2 * k + 1]))
            fh.write((b"," if i else b"") + encode(line.summary)[:-1])
            unit_warnings += line.warnings
            if i < keep:
                shown.append(line)
        everything = encode(summary_doc(criteria, [], name, [str(w) for w in evidence_warnings] + unit_warnings))
        fh.write(b"]" + everything.split(_NO_UNITS)[1])
    files = tuple(f"units/{written[k]}.json" for k in order) + ("summary.json",)
    return ScoreRun(len(order), decisions, tuple(shown), evidence_warnings, files, frozenset(reads), tuple(cited))


class _FirstSources(Mapping[str, str]):
    """Each unit id, in order, -> the evidence file it was first given in, looked up in the run's
    `firsts` as asked rather than copied into a second dict of every unit."""

    def __init__(self, firsts: Mapping[str, tuple[str, int]], names: Sequence[str]):
        self._firsts, self._names = firsts, names

    def __getitem__(self, unit: str) -> str:
        return self._names[self._firsts[unit][1]]

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._firsts))

    def __len__(self) -> int:
        return len(self._firsts)


_NO_UNITS = b'"units":[]'  # in compact JSON, only where the summary's units stand: a string's quotes are escaped
