"""Worker processes: where evidence is read and units are decided, for `score` and for the round.

With one worker everything runs in this process; with more, spawned processes each build their own
evaluator (and so their own rule-engine host: no rule-engine state is ever shared or copied).
Results never depend on the number of workers: files are read in fixed chunks taken back in order,
every unit is decided on its own, and everything is sorted by unit id afterwards.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Sequence

from ..core.errors import EngineError, EvidenceError, IncompleteEvaluationError, InputError, Location, Problem
from ..evaluation.evaluate import Evaluator, decide
from ..inputs.evidence import (EvidencePiece, EvidenceSet, consistency_warnings, found_evidence_files,
                               load_evidence, read_piece)
from ..core.i18n import _
from ..core.model import CriteriaSet, EvidenceRecord, UnitResult
from .problems import where

EvaluatorFactory = Callable[[str], Evaluator]
Progress = Callable[[str, int, int], None]  # (phase: "evidence" | "units", done, in all)
FILES_PER_CHUNK = 8  # evidence files read per task: fixed, so problems never depend on the workers


@dataclass
class Host:
    """What one process needs to read and decide chunks: the criteria set and its own evaluator
    (built on first use). `finish(results)` turns a decided chunk into what goes back to the
    caller (by default the results themselves; `score` encodes them where they were decided)."""

    criteria: CriteriaSet
    factory: EvaluatorFactory
    engine: str
    finish: Optional[Callable[[CriteriaSet, list[UnitResult], str], Any]] = None
    _evaluator: Optional[Evaluator] = field(default=None, repr=False)

    def __getstate__(self) -> dict:  # a worker process builds its own evaluator
        return {**self.__dict__, "_evaluator": None}

    def evaluator(self) -> Evaluator:
        if self._evaluator is None:
            self._evaluator = self.factory(self.engine)
        return self._evaluator

    def load_chunk(self, files: Sequence[Path]) -> tuple[str, Any, int]:
        """Read a chunk of evidence files: ("ok", (records, every file read), n) or ("input",
        problems, n)."""
        from ..storage.bundle import recording_reads

        try:
            with recording_reads() as reads:  # for the bundle: task lists, whatever format named them
                ev = load_evidence(list(files), self.criteria)
        except InputError as exc:  # its constructor takes the problems: sent as plain data
            return "input", exc.problems, len(files)
        return "ok", (ev.records, tuple(sorted(reads))), len(files)

    def score_piece(self, task: tuple[EvidencePiece, bool]) -> tuple[str, Any, int]:
        """Read a piece of evidence (engine.inputs.evidence.read_piece) and, when it reads without
        a problem and `deciding` (the task's second item) holds, decide its units: (kind, (what was
        read: a `PieceRead`, what `decide_chunk` gave or None), units read), kind "read" when
        nothing was decided."""
        from ..storage.bundle import evidence_cited, recording_reads

        piece, deciding = task
        with recording_reads() as reads:  # for the bundle: task lists, whatever format named them
            records, problems, firsts = read_piece(piece, self.criteria)
        read = PieceRead(tuple(problems), tuple(firsts), tuple(sorted(reads)), tuple(evidence_cited(records)),
                         tuple((r.unit_id, tuple(w)) for r in records
                               for w in [consistency_warnings(self.criteria, r)] if w))
        if problems or not deciding:
            return "read", (read, None), len(firsts)
        kind, payload, _n = self.decide_chunk(records)
        return kind, (read, payload), len(firsts)

    def decide_chunk(self, records: Sequence[EvidenceRecord], *given: Any) -> tuple[str, Any, int]:
        """Decide a chunk of units: ("ok", results, n), or the failure as plain data ("incomplete",
        (missing, duplicated)) / ("engine", message) — exceptions do not all cross processes.
        `finish` is handed `given` after the results."""
        n = len(records)
        try:
            results = decide(self.criteria, records, self.evaluator())
        except IncompleteEvaluationError as exc:
            return "incomplete", (exc.missing, exc.duplicated), n
        except EngineError as exc:
            return "engine", str(exc), n
        if self.finish is not None:
            return "ok", self.finish(self.criteria, results, self.evaluator().name, *given), n
        return "ok", results, n

    def decide_given(self, chunk: tuple[Sequence[EvidenceRecord], Any]) -> tuple[str, Any, int]:
        """`decide_chunk` of a chunk sent with what its `finish` needs besides the results (the
        round: the appraisal of the chunk's units)."""
        return self.decide_chunk(chunk[0], chunk[1])


@dataclass(frozen=True)
class PieceRead:
    """What reading a piece of evidence gave besides its records: every problem (errors), the
    first place of each unit read (unit id, where, evidence file), every file read, the files its
    evidence cites, and the evidence's warnings by unit id."""

    problems: tuple[Problem, ...]
    firsts: tuple[tuple[str, Location, str], ...]
    reads: tuple[str, ...]
    cited: tuple[Path, ...]
    warnings: tuple[tuple[str, tuple[Problem, ...]], ...]


# A worker process's own host, set once when the process starts; the process that runs the pool
# never sets it (its host belongs to its `Workers`).
_PROCESS_HOST: list[Host] = []


def _start_worker(parent: int, host: Host) -> None:
    _end_with_parent(parent)
    _PROCESS_HOST.append(host)


def _ready() -> None:
    _PROCESS_HOST[0].evaluator()


def _in_worker(task: str, index: int, chunk: Any) -> tuple[int, str, Any, int]:
    return (index, *getattr(_PROCESS_HOST[0], task)(chunk))


def _end_with_parent(parent: int) -> None:
    """A worker never outlives the run that started it, however that run ends (SIGKILL included):
    on Linux the kernel kills it when its parent dies (PR_SET_PDEATHSIG); everywhere a watchdog
    thread ends it once its parent is gone."""
    import signal
    import threading
    import time

    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)
    threading.Thread(target=watch, name="cchc-parent-watchdog", daemon=True).start()


def default_workers() -> int:
    return os.cpu_count() or 1


class Workers:
    """Where evidence is read and units are decided: with workers > 1, spawned processes (started
    only as tasks need them); with 1, this process. Results come back in task order, so nothing
    depends on the number of workers or on which task finishes first."""

    def __init__(self, criteria: CriteriaSet, factory: EvaluatorFactory, engine: str, workers: int = 1, *,
                 finish: Optional[Callable[[CriteriaSet, list[UnitResult], str], Any]] = None):
        self.criteria, self.factory, self.engine, self.workers = criteria, factory, engine, max(1, workers)
        self.host = Host(criteria, factory, engine, finish)
        self._pool: Any = None  # a ProcessPoolExecutor, loaded only when there are several workers
        self.reads: set[str] = set()  # every file read while loading the evidence

    def __enter__(self) -> "Workers":
        if self.workers > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_start_worker, initargs=(os.getpid(), self.host))
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if self._pool is not None:
            if exc_type is not None:  # interrupted or failed: the workers' running tasks are not awaited
                for process in list((getattr(self._pool, "_processes", None) or {}).values()):
                    process.terminate()
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def start(self) -> None:
        """Start every worker process now (each builds its evaluator) rather than when the first
        chunk is sent, so that their start-up runs while this process reads the evidence."""
        if self._pool is not None:
            for _ in range(self.workers):
                self._pool.submit(_ready)

    def stream(self, task: str, chunks: Sequence[Any], ahead: int = 4) -> Iterator[tuple[str, Any, int]]:
        """The host's `task` ("load_chunk", "decide_chunk" or "score_piece") on every chunk: (kind,
        payload, n) per chunk, in chunk order, each as soon as it and every chunk before it are
        done (at most `ahead` chunks per worker are waiting at any time, so memory does not grow
        with the run). A chunk is taken from `chunks` only when it is sent to a worker."""
        if self._pool is None or len(chunks) <= 1:
            run = getattr(self.host, task)
            for chunk in chunks:
                yield run(chunk)
            return
        from concurrent.futures import as_completed
        from concurrent.futures.process import BrokenProcessPool

        ahead *= self.workers
        pending: dict[int, Any] = {}
        done: dict[int, tuple[str, Any, int]] = {}
        submitted = 0
        try:
            for i in range(len(chunks)):
                while submitted < len(chunks) and submitted < i + ahead:
                    pending[submitted] = self._pool.submit(_in_worker, task, submitted, chunks[submitted])
                    submitted += 1
                while i not in done:
                    for future in as_completed(list(pending.values())):
                        j, kind, payload, n = future.result()
                        done[j] = (kind, payload, n)
                        del pending[j]
                        break
                yield done.pop(i)
        except BrokenProcessPool:
            raise EngineError(_("a worker process stopped before it finished; run again with --workers 1 "
                                "to see why")) from None

    def run(self, task: str, chunks: Sequence[Any], on_done: Callable[[int], None]) -> list[tuple[str, Any]]:
        """`stream`, gathered: (kind, payload) per chunk, in chunk order."""
        out = []
        for kind, payload, n in self.stream(task, chunks):
            out.append((kind, payload))
            on_done(n)
        return out

    def load_evidence(self, paths: Sequence[Path | str], progress: Optional[Progress] = None) -> EvidenceSet:
        """`engine.inputs.evidence.load_evidence`, file chunks read in parallel; a unit given in two chunks
        is reported like a unit given twice in one."""
        files = found_evidence_files(paths)
        chunks = [files[i:i + FILES_PER_CHUNK] for i in range(0, len(files), FILES_PER_CHUNK)]
        problems: list[Problem] = []
        records: list[EvidenceRecord] = []
        first: dict[str, EvidenceRecord] = {}
        for kind, payload in self.run("load_chunk", chunks, _ticker(progress, "evidence", len(files))):
            if kind != "ok":
                problems += payload
                continue
            chunk_records, reads = payload
            self.reads.update(reads)
            for rec in chunk_records:
                if rec.unit_id in first:
                    given = first[rec.unit_id]
                    problems.append(Problem.at(where(rec, rec.location), _("duplicate unit {unit!r}: already given at {at}").format(
                                                   unit=rec.unit_id, at=where(given, given.location))))
                    continue
                first[rec.unit_id] = rec
                records.append(rec)
        if problems:
            raise EvidenceError(problems)
        records.sort(key=lambda r: r.unit_id)
        warnings = [w for r in records for w in consistency_warnings(self.criteria, r)]
        return EvidenceSet(tuple(records), tuple(warnings), tuple(files))

    def decided(self, records: Sequence[EvidenceRecord], progress: Optional[Progress] = None,
                given: Optional[Callable[[Sequence[EvidenceRecord]], Any]] = None) -> Iterator[Any]:
        """Decide every unit, in the order given, chunk by chunk: each chunk's payload (its
        results, or what `finish` made of them and of `given(chunk)`) as soon as it is ready. A unit
        left undecided or decided twice, or an engine failure, raises once every chunk is done."""
        total = len(records)
        # 4 to 256 units, about four chunks per worker: the rule engine is asked each distinct question
        # once per chunk, and a chunk's results are all that waits in memory at a time
        size = max(4, min(256, -(-total // (self.workers * 4))))
        chunks: list[Any] = [records[i:i + size] for i in range(0, total, size)]
        task = "decide_chunk"
        if given is not None:
            chunks, task = [(chunk, given(chunk)) for chunk in chunks], "decide_given"
        tick = _ticker(progress, "units", total)
        if progress:
            progress("units", 0, total)
        missing, duplicated, failures = [], [], []
        for kind, payload, n in self.stream(task, chunks):
            if kind == "ok":
                yield payload
            elif kind == "incomplete":
                missing.extend(payload[0])
                duplicated.extend(payload[1])
            else:
                failures.append(payload)
            tick(n)
        if failures:
            raise EngineError(failures[0])
        if missing or duplicated:
            raise IncompleteEvaluationError(missing, duplicated)

    def decide(self, records: Sequence[EvidenceRecord], progress: Optional[Progress] = None) -> list[UnitResult]:
        """Decide every unit; the result is sorted by unit id."""
        results = [r for chunk in self.decided(records, progress) for r in chunk]
        results.sort(key=lambda r: r.unit_id)
        return results


def _ticker(progress: Optional[Progress], phase: str, total: int) -> Callable[[int], None]:
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(phase, done, total)

    return tick


def decide_all(criteria: CriteriaSet, records: Sequence[EvidenceRecord], factory: EvaluatorFactory,
               engine: str, workers: int = 1, progress: Optional[Progress] = None) -> list[UnitResult]:
    """Decide every unit with `workers` processes; the result is sorted by unit id."""
    with Workers(criteria, factory, engine, workers) as pool:
        return pool.decide(records, progress)
