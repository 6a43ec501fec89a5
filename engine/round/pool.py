"""Worker processes: where evidence is read and units are decided, for `score` and for the round.

With one worker everything runs in this process; with N, this process is worker 0 and N - 1
spawned processes are the others, each with its own evaluator (and so its own rule-engine host: no
rule-engine state is ever shared or copied). This process takes its share rather than wait: it
would otherwise be idle while the others work, and one process fewer is one start-up fewer.
Results never depend on the number of workers: evidence is read in fixed pieces taken back in
order, every unit is decided on its own, and everything is sorted by unit id afterwards. A round's
pieces are read and decided by whichever worker is free first (this process takes back, at the
end, a piece a worker has not begun: `claim`); the unit files of every piece, packed where it was
decided, come back to this process until the ranking, and are finished in the same way, by
whichever worker is free first (sent with what is held of them: `_SENT_AS`); `score`'s task k
always runs in worker `Workers.worker_of(k)`.
"""
from __future__ import annotations

import contextlib
import gc
import os
import pickle
import sys
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Collection, Iterator, Optional, Sequence

from ..core.errors import EngineError, EvidenceError, IncompleteEvaluationError, Location, Problem
from ..evaluation.evaluate import Evaluator, decide
from ..inputs.evidence import (EvidencePiece, EvidenceSet, consistency_warnings, evidence_pieces, found_evidence_files,
                               read_piece, stamps)
from ..inputs.tables import ProblemSink
from ..core.i18n import _
from ..core.model import CriteriaSet, EvidenceRecord, UnitResult
from ..core.stops import stops_held, unblock_stops
from ..storage.bundle import ReadStamps

EvaluatorFactory = Callable[[str], Evaluator]
Progress = Callable[[str, int, int], None]  # (phase: "evidence" | "units", done, in all)


@dataclass
class Host:
    """What one process needs to read and decide chunks: the criteria set and its own evaluator
    (built on first use). `finish(results)` turns a decided chunk into what goes back to the
    caller (by default the results themselves; `score` encodes them where they were decided).
    `hold(payload, context)`, when given, splits what `read_decide_piece` made of a piece into what the
    round reads now and what is held, packed (`_packed`), until a `held` task of the same piece
    number (the round: each unit's file, finished and written once the ranking is known): both go
    back, and the process that runs the round holds the second (`Workers.read_and_decide`)."""

    criteria: CriteriaSet
    factory: EvaluatorFactory
    engine: str
    finish: Optional[Callable[[CriteriaSet, list[UnitResult], str], Any]] = None
    hold: Optional[Callable[[Any, Any], tuple[Any, Any]]] = None
    _evaluator: Optional[Evaluator] = field(default=None, repr=False)
    _held: dict[int, Any] = field(default_factory=dict, repr=False)  # by piece number (`hold`), in worker 0
    _context: Any = field(default=None, repr=False)  # what the tasks sent after it are handed (`Workers.everywhere`)

    def __getstate__(self) -> dict:  # a worker process builds its own evaluator and keeps its own records
        return {**self.__dict__, "_evaluator": None, "_held": {}, "_context": None}

    def evaluator(self) -> Evaluator:
        if self._evaluator is None:
            self._evaluator = self.factory(self.engine)
        return self._evaluator

    def _read(self, piece: EvidencePiece) -> tuple["PieceRead", list[EvidenceRecord]]:
        from ..storage.bundle import evidence_cited, recording_reads

        with recording_reads() as reads, fewer_collections():  # reads: task lists, whatever format named them
            records, problems, firsts = read_piece(piece, self.criteria)
        names = tuple(sorted(reads))
        read = PieceRead(tuple(problems), tuple(firsts), names, tuple(evidence_cited(records)),
                         tuple((r.unit_id, tuple(w)) for r in records
                               for w in [consistency_warnings(self.criteria, r)] if w), reads.packed(names))
        return read, records

    def score_piece(self, task: tuple[EvidencePiece, bool]) -> tuple[str, Any, int]:
        """Read a piece of evidence (engine.inputs.evidence.read_piece) and, when it reads without
        a problem and `deciding` (the task's second item) holds, decide its units: (kind, (what was
        read: a `PieceRead`, what `decide_chunk` gave or None), units read), kind "read" when
        nothing was decided."""
        piece, deciding = task
        with fewer_collections():  # the records walked by no collection: the one on leaving comes once they are gone
            read, records = self._read(piece)
            if read.problems or not deciding:
                return "read", (read, None), len(read.firsts)
            kind, payload, _n = self.decide_chunk(records)
            del records
        return kind, (read, payload), len(read.firsts)

    def read_piece(self, number: int, piece: EvidencePiece) -> tuple["PieceRead", list[EvidenceRecord]]:
        """Piece number `number` of the evidence as `_read` gives it: read here, or taken from what
        a worker started ahead read (`read_ahead`) when that was the same piece with the same
        criteria set."""
        ahead = _READ_AHEAD.pop(number, None)
        if ahead is not None and ahead[0] == piece and ahead[1] == self.criteria:
            return ahead[2], ahead[3]
        return self._read(piece)

    def read_decide_piece(self, task: tuple[int, EvidencePiece, Optional[str]]) -> tuple[str, Any, int]:
        """Read piece number `task[0]` of the evidence, unless another process claimed it first in the
        claims file `task[2]` (`claim`: then ("skipped", None, 0)), and, when it reads without a problem, decide
        its units here with what they need of the round's other inputs (the context every worker
        is handed first: engine.round.units.RoundInputs), pack what `hold` keeps of them until
        the ranking, and let the records go: ("read", (a `PieceRead`, the records as the round's
        checks see them: `checked_record`, the files each unit's evidence cites, what the context
        made of the units' other inputs, what deciding gave: (kind, payload, n) or None, what is
        held of its units: packed, or None), units read). What crosses processes is small (a
        unit's held file is about 1 KB packed); the records' values stay where they were read."""
        from ..inputs.survey_data import survey_metrics
        from ..storage.bundle import evidence_cited

        number, piece, claims = task
        if claims is not None and not claim(claims, number):  # taken back by the process that runs the round
            _READ_AHEAD.pop(number, None)  # (what was read of it ahead, if anything, let go)
            return "skipped", None, 0
        read, records = self.read_piece(number, piece)
        survey = survey_metrics(self.criteria)
        checked = [checked_record(r, survey) for r in records]
        cites = tuple((r.unit_id, tuple(evidence_cited([r]))) for r in records)
        if read.problems:
            return "read", (read, checked, cites, None, None, None), len(read.firsts)
        records, given, made = self._context.prepared(self.criteria, records)
        kind, payload, n = self.decide_chunk(records, *given)
        del records
        held = None
        if kind == "ok" and self.hold is not None:
            payload, held = self.hold(payload, self._context)
            held = _packed(held)
        return "read", (read, checked, cites, made, (kind, payload, n), held), len(read.firsts)

    def held(self, task: tuple[int, Callable[..., Any], tuple, Optional[str]]) -> tuple[str, Any, int]:
        """`held_given` with what this process holds of piece number task[0] (`task` = (number,
        func, args, claims))."""
        return self.held_given(self.hand_over_held(task))

    def hand_over_held(self, task: tuple[int, Callable[..., Any], tuple, Optional[str]]) -> tuple:
        """A `held` task as a process runs it (`held_given`): with what this process holds of its
        piece, kept until the piece is done (`Workers.finish_held`: it may yet be taken back)."""
        number, func, args, claims = task
        return self._held[number], func, args, number, claims

    def held_given(self, task: tuple) -> tuple[str, Any, int]:
        """`func(what is held of piece number `number`, the context, *args)`, unless another process
        claimed the piece first in the claims file `claims`: ("ok", what func gave, 0), or
        ("skipped", None, 0)."""
        held, func, args, number, claims = task
        if claims is not None and not claim(claims, number):  # taken back by the process that runs the round
            return "skipped", None, 0
        return "ok", func(_unpacked(held), self._context, *args), 0

    def set_context(self, context: Any) -> None:
        self._context = context

    def decide_chunk(self, records: Sequence[EvidenceRecord], *given: Any) -> tuple[str, Any, int]:
        """Decide a chunk of units: ("ok", results, n), or the failure as plain data ("incomplete",
        (missing, duplicated)) / ("engine", message) — exceptions do not all cross processes.
        `finish` is handed `given` after the results."""
        n = len(records)
        with fewer_collections():
            try:
                results = decide(self.criteria, records, self.evaluator())
            except IncompleteEvaluationError as exc:
                return "incomplete", (exc.missing, exc.duplicated), n
            except EngineError as exc:
                return "engine", str(exc), n
            if self.finish is not None:
                finished = self.finish(self.criteria, results, self.evaluator().name, *given)
                del results  # let go before the collector runs again, on leaving the block: none to walk
                return "ok", finished, n
        return "ok", results, n


_CLAIMS = "cchc-claims-"
_CLAIMS_KEPT = 24 * 3600  # seconds a claims file of a process not seen to run is left before it is removed


@contextmanager
def claims_file(chunks: int, folder: Optional[str] = None) -> Iterator[Optional[str]]:
    """A file in which each of `chunks` chunks can be claimed once (`claim`), in `folder` (by
    default the temporary folder), removed on leaving. Its name carries this process's id: in the
    temporary folder, those of runs that were killed before they could remove theirs are removed
    here. None where files cannot be locked (no `fcntl`): then no chunk is claimed, and none taken back."""
    import tempfile

    try:
        import fcntl  # noqa: F401 - what `claim` locks with
    except ImportError:
        yield None
        return
    if folder is None:
        with stops_held():  # (the first look for the temporary folder writes a file there to try it)
            folder = tempfile.gettempdir()
        for name in os.listdir(folder):
            path = os.path.join(folder, name)
            # a day untouched too: a run in another process namespace sharing the folder is not seen to run
            with contextlib.suppress(OSError):
                if (name.startswith(_CLAIMS) and not _alive(name[len(_CLAIMS):].partition("-")[0])
                        and time.time() - os.stat(path).st_mtime > _CLAIMS_KEPT):
                    os.unlink(path)
    path = None
    try:
        with stops_held():  # made and known to the removal below in one step
            fd, path = tempfile.mkstemp(prefix=f"{_CLAIMS}{os.getpid()}-", dir=folder)
            with os.fdopen(fd, "wb") as fh:
                fh.write(bytes(4 * chunks))
        yield path
    finally:
        if path is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)


def _alive(pid: str) -> bool:
    """Whether process `pid` (as text) may run: anything but a process id is taken as running."""
    if not (pid.isascii() and pid.isdigit() and 0 < int(pid) < 1 << 22):  # (Linux's largest process id)
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError, ValueError):  # another user's
        pass
    return True


def claim(path: str, chunk: int, back: bool = False) -> bool:
    """Claim chunk number `chunk` in the `claims_file` at `path` for this process: True when no
    other process had (its process id written there, under a lock on those four bytes). When the
    file is gone, the process the chunk was sent to runs it, and none takes it back (`back`): a
    chunk is then run twice only if the file went between two claims of it, and what the process
    that took it back gives is the one kept."""
    import fcntl

    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:  # removed from outside (a cleaner of the temporary folder)
        return not back
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX, 4, 4 * chunk)
        mine = os.getpid().to_bytes(4, "little")
        if os.pread(fd, 4, 4 * chunk) not in (bytes(4), mine):
            return False
        os.pwrite(fd, mine, 4 * chunk)
        return True
    finally:
        os.close(fd)


_PACKING: list[Any] = []  # this process's Zstandard compressor and decompressor, made once (`_packing`)


def _packing() -> list[Any]:
    if not _PACKING:
        import zstandard

        _PACKING.extend((zstandard.ZstdCompressor(level=1), zstandard.ZstdDecompressor()))
    return _PACKING


def _packed(held: Any) -> bytes:
    """What a process holds of a decided piece until its `held` task, pickled and compressed
    (Zstandard, level 1). A round holds each unit's encoded file from its deciding to its ranking
    (about 27 KB a unit, so 540 MB for 20,000 units): packed, a piece of 64 units' 1.9 MB is about
    70 KB, made in about 2 ms and given back in about 2 ms, and a piece handed to another process
    crosses the pipe small."""
    return _packing()[0].compress(pickle.dumps(held, pickle.HIGHEST_PROTOCOL))


def _unpacked(packed: bytes) -> Any:
    return pickle.loads(_packing()[1].decompress(packed))


@contextmanager
def fewer_collections(young: int = 1_000_000) -> Iterator[None]:
    """Python's cycle collector run less often inside the block (after `young` new objects, not
    700): reading, deciding and encoding a piece make hundreds of thousands of small objects, none
    of them in a cycle, and every collection of the older generations walks everything the process
    holds (a tenth of the CPU of a run). A piece makes fewer than `young`: what it keeps is walked
    once, when the block is left, not at every 50,000th object (half the collector's time)."""
    before = gc.get_threshold()
    gc.set_threshold(max(young, before[0]), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


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
    stamps: bytes = b""  # the stamp of each of `reads` as it was read, packed (engine.storage.bundle.ReadStamps)


def checked_record(record: EvidenceRecord, survey: Collection[str]) -> EvidenceRecord:
    """A record as a round's checks once every piece is read need it (engine.round.problems.round_problems,
    checked_survey, valid_appraisal): all but its metric values, of which only those of `survey`
    metrics are kept (a unit may not give them)."""
    return replace(record, values={m: v for m, v in record.values.items() if m in survey})


# Tasks whose chunk goes to a spawned worker as the host's method makes it (`Workers.stream`): that
# method, and the task the worker runs. A round's held files: what this process holds of a piece
# goes with it (only this process holds it).
_SENT_AS = {"held": ("hand_over_held", "held_given")}

# A worker process's own host, set once when the process starts (or, for one started before its
# pool was made, when the pool adopts it: `_set_host`); the process that runs the pool never sets
# it (its host belongs to its `Workers`).
_PROCESS_HOST: list[Optional[Host]] = []


def _start_worker(parent: int, host: Optional[Host]) -> None:
    import signal

    # a worker forked from a round started from the command line ends at once when its round ends
    # it, rather than as that round does (commands/early.py `_interrupted`); a Ctrl-C, which reaches
    # every process of the terminal, is the round's to act on: it ends its workers
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    unblock_stops()  # started with them held back (`Workers._submit`, commands/early.py `start`)
    _end_with_parent(parent)
    _PROCESS_HOST.append(host)


def _set_host(host: Host) -> None:
    _PROCESS_HOST[0] = host


# Pieces a worker started ahead (commands/early.py) read before its round had even read its
# command line (`read_ahead`), by piece number: the piece, the criteria set it was read with,
# and what `Host._read` gave. `Host.read_piece` takes one instead of reading again only when the
# round's own piece and criteria set are equal to them.
_READ_AHEAD: dict[int, tuple[EvidencePiece, CriteriaSet, "PieceRead", list[EvidenceRecord]]] = {}


_INDEXED: list[list[EvidencePiece]] = []  # `index_ahead`'s, for `read_ahead`


def index_ahead(evidence_paths: Sequence[str], units_per_piece: int, files_per_piece: int) -> Optional[tuple]:
    """In a worker started ahead: cut the evidence a round's command line names into pieces (as
    `Workers.read_and_decide` does), while the round itself is still starting: (the evidence
    files, `units_per_piece`, `files_per_piece`, the pieces), which the round takes rather than
    cut them itself when its own are the same (`Workers.indexed`). The pieces do not depend on
    the criteria set, which this worker loads after (`read_ahead`), while the round loads its
    own. Anything amiss (evidence with problems, too little to be read in pieces): None, and the
    round reads and reports it as always."""
    _INDEXED.clear()
    try:
        files = found_evidence_files(evidence_paths)
        sink = ProblemSink()
        pieces = evidence_pieces(files, units_per_piece, files_per_piece, sink)
    except Exception:  # noqa: BLE001 - whatever it is, the round meets it again and reports it
        return None
    if sink.problems or len(pieces) < 2:
        return None
    _INDEXED.append(pieces)
    return tuple(map(str, files)), units_per_piece, files_per_piece, pieces


def read_ahead(criteria_path: str, numbers: Sequence[int]) -> None:
    """In a worker started ahead, after `index_ahead`: load the criteria set and read the pieces
    numbered `numbers` (`Host._read`), those the round's first pieces will ask of this worker."""
    from .. import load_criteria

    if not _INDEXED:
        return
    pieces = _INDEXED.pop()
    try:
        criteria = load_criteria(criteria_path)
        host = Host(criteria, _no_evaluator, "")
        for number in numbers:
            if number < len(pieces):
                _READ_AHEAD[number] = (pieces[number], criteria, *host._read(pieces[number]))
    except Exception:  # noqa: BLE001 - whatever it is, the round meets it again and reports it
        _READ_AHEAD.clear()


def _no_evaluator(engine: str) -> Evaluator:
    raise AssertionError("reading ahead decides nothing")


def _ready() -> None:
    _PROCESS_HOST[0].evaluator()


def _set_criteria(criteria: CriteriaSet) -> None:
    _PROCESS_HOST[0].criteria = criteria


def _set_context(context: Any) -> None:
    _PROCESS_HOST[0].set_context(context)


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


@contextmanager
def _no_main(host: Host) -> Iterator[None]:
    """Spawned workers started inside the block do not import this program's main module (a
    spawned process runs it again by default, as `__mp_main__`): `cchc` would import the whole
    command line, a third of a worker's start-up, for nothing a worker runs. Left as it is when
    the host's functions were defined there."""
    main = sys.modules.get("__main__")
    if main is None or any(getattr(f, "__module__", None) == "__main__" for f in (host.factory, host.finish, host.hold)):
        yield
        return
    import types

    sys.modules["__main__"] = types.ModuleType("__main__")  # what multiprocessing.spawn looks at to find it
    try:
        yield
    finally:
        sys.modules["__main__"] = main


EARLY_START_BYTES = 256 * 1024  # about seventy units of the largest shipped set: the workers will be used


def large_evidence(files: Sequence[Path]) -> bool:
    """Evidence files large enough that the spawned workers are started before they are indexed
    (`Workers.start`: their start-up runs beside the indexing); for small evidence (a one-unit
    pre-check) a worker starts only if it is sent a piece."""
    try:
        return sum(f.stat().st_size for f in files) >= EARLY_START_BYTES
    except OSError:  # reported when the evidence is read
        return False


def default_workers() -> int:
    return os.cpu_count() or 1


PIPE_BYTES = 1 << 20  # the buffer of each pipe to and from a worker (`_roomy_pipes`); Linux's most, unless raised


def _roomy_pipes(pool: Any) -> None:
    """Give the pipes that carry a worker's tasks and what it gives back a buffer of `PIPE_BYTES`
    rather than a pipe's 64 KiB: what crosses at once (the round's survey data and appraisals
    handed to every worker, a piece's packed unit files handed over, a decided piece's results) is
    then written in one go, not a buffer at a time, each waiting for the other process's reading
    thread to be let run beside its busy main thread (a piece's records, about 340 KB, took about
    50 ms that way, 10 with the larger buffer, when they still crossed). Where this cannot be done
    (not Linux, a lower limit), the pipes stay as they are: only what crosses is slower."""
    try:
        import fcntl

        set_size = fcntl.F_SETPIPE_SZ
    except (ImportError, AttributeError):
        return
    for queue, end in (("_result_queue", "_reader"), ("_call_queue", "_writer")):
        connection = getattr(getattr(pool, queue, None), end, None)
        if connection is None:
            continue
        try:
            fcntl.fcntl(connection.fileno(), set_size, PIPE_BYTES)
        except (OSError, ValueError):
            pass


def _end_now(pool: Any) -> None:
    """End a worker's executor without awaiting what it runs."""
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.terminate()
    pool.shutdown(cancel_futures=True)


class Workers:
    """Where evidence is read and units are decided: task number k runs in worker `worker_of(k)`,
    or where `stream` is told (a round's pieces: read, decided, and once ranked written, each by
    whichever worker is free first). Worker 0 is this process; with
    workers > 1 the others are spawned processes (started only as tasks need them, or by
    `start`, or before this pool was made: `ahead`). Results come back in task order, so nothing
    depends on the number of workers, on which worker runs a task or on which task finishes first."""

    def __init__(self, criteria: Optional[CriteriaSet], factory: EvaluatorFactory, engine: str, workers: int = 1, *,
                 finish: Optional[Callable[[CriteriaSet, list[UnitResult], str], Any]] = None,
                 hold: Optional[Callable[[Any, Any], tuple[Any, Any]]] = None, share: tuple[int, int] = (3, 4),
                 ahead: Sequence[Any] = ()):
        self.criteria, self.factory, self.engine, self.workers = criteria, factory, engine, max(1, workers)
        self.share = share  # (a, b): this process runs a tasks for every b of a spawned worker (`worker_of`)
        self.host = Host(criteria, factory, engine, finish, hold)
        self._pools: list[Any] = []  # one single-process ProcessPoolExecutor per spawned worker (1 to N - 1)
        self._started: set[int] = set()  # the spawned workers sent a task (and so started)
        self.started = False  # `start` was called
        self.reads: set[str] = set()  # every file read while reading the evidence (`read_and_decide`)
        self.stamps = ReadStamps()  # …each as it was read (a CSV file: as it was indexed)
        self.cited: tuple[Path, ...] = ()  # the files the evidence cites, by unit id (`read_and_decide`)
        self._decided: list[tuple[str, ...]] = []  # the units of each piece `read_and_decide` read
        self._results: list[Any] = []  # …what deciding each gave
        self.made: list[Any] = []  # …and what the round's inputs made of its units (`read_and_decide`)
        self._where: list[int] = []  # the worker that read and decided each piece (`read_and_decide`)
        self._ending: list[tuple[Any, list[Any]]] = []  # of `release`d workers: each pool's thread, its processes
        # spawned workers started before this pool was made, whose host is not set yet: executors of
        # one process each (commands/early.py), adopted as workers 1, 2, …; those not needed are ended
        self._ahead = list(ahead)
        # the future of `index_ahead` in the first of them, taken by `read_and_decide` (commands/early.py)
        self.indexed: Optional[Any] = None

    def __enter__(self) -> "Workers":
        ahead, unwanted = self._ahead[:self.workers - 1], self._ahead[self.workers - 1:]
        self._ahead = []
        for pool in unwanted:  # more started ahead than asked for
            _end_now(pool)
        if self.workers > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self._pools = ahead + [ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                                       initializer=_start_worker, initargs=(os.getpid(), self.host))
                                   for _ in range(self.workers - 1 - len(ahead))]
            for pool in self._pools:
                _roomy_pipes(pool)
        self._started.update(range(1, len(ahead) + 1))
        try:
            for worker in range(1, len(ahead) + 1):  # running already: each its evaluator beside this one's work
                self._submit(worker, _set_host, self.host)
                self._submit(worker, _ready)
        except BaseException as exc:
            self.__exit__(type(exc), exc, None)
            raise
        return self

    def __exit__(self, exc_type, *exc) -> None:
        self.host._held.clear()
        self.host.set_context(None)
        for pool in self._pools:
            if exc_type is not None:  # interrupted or failed: the workers' running tasks are not awaited
                _end_now(pool)
            else:
                pool.shutdown(cancel_futures=True)
        self._pools = []
        ending, self._ending = self._ending, []
        for thread, processes in ending:
            if exc_type is not None:
                for process in processes:
                    process.terminate()
            if thread is not None:
                thread.join()
            for process in processes:
                process.join()

    def end_now(self) -> None:
        """End the workers at once, not awaiting what they run (as leaving the block with an
        error does): before what they write into is removed."""
        self.__exit__(RuntimeError)

    def release(self, *last: Any) -> None:
        """Let the spawned workers end once they are done with what they were sent: their exit
        runs beside what this process has left to do, and is awaited when the block ends. No
        task can be sent after. `last`: a function and its arguments each spawned worker runs
        before it ends, not awaited (what it gives is dropped)."""
        if last:
            for worker in range(1, self.workers):
                self._submit(worker, *last)
        for pool in self._pools:
            self._ending.append((getattr(pool, "_executor_manager_thread", None),
                                 list((getattr(pool, "_processes", None) or {}).values())))
            pool.shutdown(wait=False)
        self._pools = []

    def worker_of(self, task: int) -> int:
        """The worker that runs task number `task`: in turn, but for this process (worker 0), which
        has its own work besides (the criteria set, the evidence's index, ranking, the bundle)
        and so takes a tasks for every b of a spawned worker (`share`: (a, b), three for four
        unless told)."""
        n, (own, each) = self.workers, self.share
        slot = task % (own * n + (each - own) * (n - 1))
        return slot % n if slot < own * n else (slot - own * n) % (n - 1) + 1

    def start(self) -> None:
        """Start every spawned worker process now (each builds its evaluator) rather than when the
        first chunk is sent, so that their start-up runs while this process reads the evidence."""
        self.started = True
        for worker in range(1, self.workers):
            if worker not in self._started:
                self._submit(worker, _ready)

    def use(self, criteria: CriteriaSet) -> None:
        """The criteria set of workers made before it was read (made with None, and started so that
        their start-up runs beside its reading): this process's, and each started worker's before
        its next task (a worker runs its tasks in the order they were sent)."""
        self.criteria = self.host.criteria = criteria
        for worker in sorted(self._started):
            self._submit(worker, _set_criteria, criteria)

    def _submit(self, worker: int, func: Callable[..., Any], *args: Any) -> Any:
        """`func(*args)` in spawned worker `worker` (1 to N - 1): its future. The worker's process
        is started by the first task sent to it, without this program's main module (`_no_main`).
        One that has stopped (or failed to start) raises `_stopped()`."""
        from concurrent.futures.process import BrokenProcessPool

        pool = self._pools[worker - 1]
        try:
            if worker in self._started:
                return pool.submit(func, *args)
            self._started.add(worker)
            # (multiprocessing's resource tracker unblocks Ctrl-C and SIGTERM in the thread that
            # starts it: the pool's own semaphores started it when the pool was made, in `__enter__`)
            with _no_main(self.host), stops_held():  # a stop then would leave the worker half started
                return pool.submit(func, *args)
        except BrokenProcessPool:
            raise _stopped() from None

    def stream(self, task: str, chunks: Sequence[Any], ahead: int = 4,
               places: Optional[Sequence[Optional[int]]] = None,
               ran: Optional[list[int]] = None, depth: int = 3,
               claims: Optional[str] = None, beside: Optional[Callable[[], Any]] = None) -> Iterator[tuple[str, Any, int]]:
        """The host's `task` ("decide_chunk", "score_piece", "read_decide_piece", "held") on
        every chunk, chunk k in worker `places[k]` (by default `worker_of(k)`; worker 0: this
        process, which runs its chunks while the others run theirs): (kind, payload, n) per chunk,
        in chunk order, each as soon as it and every chunk before it are done (at most `ahead`
        chunks per worker are waiting at any time, so memory does not grow with the run). A chunk
        placed None goes to whichever worker is free first: a spawned worker with fewer than `depth`
        chunks waiting (it is sent more only between this process's own chunks), or this process
        when it would otherwise wait. A chunk is taken from `chunks` only when it is sent to a
        worker, or run here. This process never waits while it has a chunk of its own among those
        sent: it runs it before its turn. A task of `_SENT_AS` goes to a spawned worker as the
        host makes it (with what this process holds of the chunk). With `claims` (a file of
        `claim`s, which the task claims its chunk in before it runs it), this process, with nothing
        of its own left, takes back the last chunk a worker was sent and has not begun, and runs
        it itself; the stream ends once the workers are done with the chunks taken back from them.
        `beside`: what this process does once the first chunks are sent, before it runs any
        (should it fail, the chunks sent are awaited first: none is left running into what the
        failure undoes).
        `ran[k]`, when given, is set to the worker that ran chunk k."""
        run = getattr(self.host, task)
        ran = [0] * len(chunks) if ran is None else ran
        if not self._pools or len(chunks) <= 1:
            if beside is not None:
                beside()
            for k, chunk in enumerate(chunks):
                ran[k] = 0
                yield run(chunk)
            return
        from concurrent.futures import wait
        from concurrent.futures.process import BrokenProcessPool

        ahead *= self.workers
        places = [self.worker_of(k) for k in range(len(chunks))] if places is None else list(places)
        made_by, sent_as = _SENT_AS.get(task, (None, None))
        sent: dict[int, Any] = {}  # chunk number -> future of the chunks sent to a spawned worker (`ran`)
        early: dict[int, Any] = {}  # what this process's chunks gave when run before their turn
        placed = 0  # chunks before it are sent, or left to this process
        scanned = 0  # this process's chunks before it are all run or handed over (`next_own`)
        # each spawned worker's futures not seen done, as sent (a worker runs its tasks in turn);
        # each holds what its task gave until it is let go here
        undone: dict[int, deque] = {worker: deque() for worker in range(1, self.workers)}

        def waiting(worker: int) -> int:
            futures = undone[worker]
            while futures and futures[0].done():
                futures.popleft()
            return len(futures)

        def send(k: int, worker: int, name: str, chunk: Any) -> None:
            ran[k] = worker
            sent[k] = self._submit(worker, _in_worker, name, k, chunk)
            undone[worker].append(sent[k])

        def place(limit: int) -> None:
            """Send the chunks before `limit` to their workers, a chunk any worker may run to a
            spawned worker with fewer than `depth` waiting (none: it waits, for this process or a
            worker freed later)."""
            nonlocal placed
            while placed < min(len(chunks), limit):
                worker = places[placed]
                if worker is None:
                    worker = next((w for w in range(1, self.workers) if waiting(w) < depth), None)
                    if worker is None:
                        return
                ran[placed] = worker
                if worker and made_by:
                    send(placed, worker, sent_as, getattr(self.host, made_by)(chunks[placed]))
                elif worker:  # worker 0's chunks are this process's
                    send(placed, worker, task, chunks[placed])
                placed += 1

        def taken_back(after: int) -> Optional[int]:
            """The last chunk after `after` sent to a spawned worker that has not begun it, now
            this process's (`claims`: whoever claims a chunk first runs it), or None."""
            last = max((k for k in sent if k > after and k not in early and not sent[k].done()), default=None)
            if claims is None or last is None or not claim(claims, last, back=True):
                return None
            ran[last] = 0
            return last

        def next_own(after: int) -> Optional[int]:
            """This process's next chunk after `after` not yet run, or the next chunk any worker may
            run. (This process runs its chunks in order: those it has passed stay passed.)"""
            nonlocal placed, scanned
            scanned = max(scanned, after + 1)
            while scanned < placed and (ran[scanned] or scanned in sent or scanned in early):
                scanned += 1
            k = scanned if scanned < placed else None
            if k is None and placed < min(len(chunks), after + ahead) and places[placed] is None:
                k, ran[placed] = placed, 0
                placed += 1
            return k

        try:
            for i in range(len(chunks)):
                place(i + ahead)
                if beside is not None:
                    then, beside = beside, None
                    try:
                        then()
                    except BaseException:
                        wait(list(sent.values()))
                        raise
                if placed == i:  # a chunk no spawned worker was free for
                    ran[i], placed = 0, i + 1
                if i not in sent and i not in early:
                    early[i] = run(chunks[i])
                if i in early:
                    sent.pop(i, None)  # (taken back from its worker: what that worker gives is dropped)
                    yield early.pop(i)
                    continue
                future = sent[i]  # counted as waiting in its worker until it is done
                while not future.done():  # rather than wait for it, do this process's next chunks
                    k = next_own(i)  # before the spawned workers are sent more: each has one waiting
                    if k is None:
                        k = taken_back(i)
                        if k is None:
                            break
                    early[k] = run(chunks[k])
                    place(i + ahead)
                _j, kind, payload, n = future.result()
                del sent[i], future
                waiting(ran[i])  # its worker's futures done by now let go, what they gave with them
                yield kind, payload, n
            # the tasks of chunks taken back, which their workers skip: done before the claims file goes
            wait([future for futures in undone.values() for future in futures])
        except BrokenProcessPool:
            raise _stopped() from None

    def read_and_decide(self, paths: Sequence[Path | str], units_per_piece: int, files_per_piece: int,
                        inputs: Any, progress: Optional[Progress] = None) -> EvidenceSet:
        """Read the evidence in pieces (engine.inputs.evidence.evidence_pieces), each piece by
        whichever worker is free first, and decide its units there (`Host.read_decide_piece`,
        every worker handed `inputs` first: what deciding needs of the round's other inputs),
        holding their files there until the ranking: the evidence set of the records as the
        round's checks see them (`checked_record`), by unit id, with the evidence's warnings;
        `reads` and `cited` say what the bundle packs, `made` what `inputs` made of each piece's
        units, and `decided` gives what deciding gave. A unit given twice, in one piece or in
        two, is reported as `engine.inputs.evidence.load_evidence` reports it; every problem of
        every piece raises `EvidenceError` once all are read."""
        files = found_evidence_files(paths)
        sink = ProblemSink()
        pieces = self._indexed_ahead(files, units_per_piece, files_per_piece)
        if pieces is None:
            pieces = evidence_pieces(files, units_per_piece, files_per_piece, sink)  # the folders listed once here
        problems = list(sink.problems)
        self.stamps = ReadStamps(stamps(pieces))
        records: list[EvidenceRecord] = []
        firsts: dict[str, Location] = {}
        warnings: list[tuple[str, tuple[Problem, ...]]] = []
        cites: list[tuple[str, tuple[Path, ...]]] = []
        tick = _ticker(progress, "evidence", len(pieces))
        self._where = [0] * len(pieces)
        self.everywhere(inputs, awaited=False)  # a worker started ahead may still be reading its first pieces
        with claims_file(len(pieces)) as claims:
            # a worker has at most two pieces waiting besides the one it runs, and the last ones this
            # process may take back (`claims`): at the end both are busy to the last piece. What each
            # piece gives is kept to the end, so this process runs pieces as far ahead as there are:
            # it never takes a piece back from a worker before the last one is sent
            for k, (_kind, (read, checked, cited, made, decided, held), _n) in enumerate(self.stream(
                    "read_decide_piece", [(k, p, claims) for k, p in enumerate(pieces)], ahead=len(pieces),
                    places=[None] * len(pieces), ran=self._where, depth=3, claims=claims)):
                if held is not None:
                    self.host._held[k] = held
                problems += read.problems
                for unit, at, _source in read.firsts:
                    if unit in firsts:
                        problems.append(Problem.at(at, _("duplicate unit {unit!r}: already given at {at}").format(
                            unit=unit, at=firsts[unit])))
                    else:
                        firsts[unit] = at
                self.reads.update(read.reads)
                self.stamps.add(read.reads, read.stamps)
                self._decided.append(tuple(r.unit_id for r in checked))
                self._results.append(decided)
                self.made.append(made)
                records += checked
                warnings += read.warnings
                cites += cited
                tick(1)
        self.host.set_context(None)
        if problems:
            raise EvidenceError(problems)
        records.sort(key=lambda r: r.unit_id)
        warnings.sort(key=lambda w: w[0])
        cites.sort(key=lambda c: c[0])
        self.cited = tuple(dict.fromkeys(path for _unit, paths in cites for path in paths))
        return EvidenceSet(tuple(records), tuple(w for _unit, ws in warnings for w in ws), tuple(files))

    def decided_pieces(self) -> Iterator[Any]:
        """What deciding gave of each piece `read_and_decide` read, in piece order (`_gathered`;
        the progress of deciding is that of reading: each piece is decided as it is read)."""
        results, self._results = self._results, []
        return self._gathered(iter(results), sum(len(units) for units in self._decided), None)

    def _indexed_ahead(self, files: Sequence[Path], units_per_piece: int,
                       files_per_piece: int) -> Optional[list[EvidencePiece]]:
        """The pieces a worker started ahead cut (`index_ahead`, `indexed`), if it cut the same
        evidence files into pieces of the same size; else None."""
        indexed, self.indexed = self.indexed, None
        try:
            found = indexed.result() if indexed is not None else None
        except Exception:  # noqa: BLE001 - a worker that stopped: the pieces are cut here
            return None
        if found is None:
            return None
        listed, units, others, pieces = found
        same = listed == tuple(map(str, files)) and units == units_per_piece and others == files_per_piece
        return list(pieces) if same else None

    def everywhere(self, context: Any, *, awaited: bool = True) -> None:
        """Hand `context` to every worker, this process included, for the tasks sent after it
        (each spawned worker runs its tasks in the order they were sent); `awaited`: once every
        worker has it (not: a worker still busy with what it was sent before is not waited for)."""
        from concurrent.futures.process import BrokenProcessPool

        futures = [self._submit(worker, _set_context, context) for worker in range(1, self.workers)]
        self.host.set_context(context)
        try:
            for future in futures if awaited else ():
                future.result()
        except BrokenProcessPool:
            raise _stopped() from None

    def finish_held(self, func: Callable[..., Any], given: Callable[[Sequence[str]], tuple],
                    beside: Optional[Callable[[], Any]] = None, claims_in: Optional[str] = None) -> Iterator[Any]:
        """`func(held, context, *given(its unit ids))` for every piece `read_and_decide` decided
        (`held`: what is held of the piece, `Host.held`), each in whichever worker is free first
        (this process takes back, at the end, a piece a worker has not begun): what each gave, in
        piece order. `beside`: what this process does once the spawned workers have theirs (`stream`).
        `claims_in`: the folder of the pieces' claims file (the run's staging folder: no cleaner of
        the temporary folder removes it there, so no piece's files are written twice at once)."""
        with claims_file(len(self._decided), claims_in) as claims:
            tasks = _HeldTasks(self._decided, func, given, claims)
            self._decided = []
            for k, (_kind, payload, _n) in enumerate(self.stream(
                    "held", tasks, ahead=len(tasks), places=[None] * len(tasks), depth=3, claims=claims,
                    beside=beside)):
                del self.host._held[k]
                yield payload

    def decided(self, records: Sequence[EvidenceRecord], progress: Optional[Progress] = None) -> Iterator[Any]:
        """Decide every unit, in the order given, chunk by chunk: each chunk's payload (its
        results, or what `finish` made of them) as soon as it is ready. A unit left undecided or
        decided twice, or an engine failure, raises once every chunk is done."""
        total = len(records)
        # 4 to 256 units, about four chunks per worker: the rule engine is asked each distinct question
        # once per chunk, and a chunk's results are all that waits in memory at a time
        size = max(4, min(256, -(-total // (self.workers * 4))))
        chunks = [records[i:i + size] for i in range(0, total, size)]
        return self._gathered(self.stream("decide_chunk", chunks), total, progress)

    @staticmethod
    def _gathered(decided: Iterator[tuple[str, Any, int]], total: int,
                  progress: Optional[Progress]) -> Iterator[Any]:
        tick = _ticker(progress, "units", total)
        if progress:
            progress("units", 0, total)
        missing, duplicated, failures = [], [], []
        for kind, payload, n in decided:
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


class _HeldTasks(Sequence[tuple]):
    """`finish_held`'s task of each piece, made when the stream first takes it (`given` of its
    units, once): what a piece is given (a round's standings) is then made piece by piece while
    the workers finish the pieces before it, not all of it while they wait."""

    def __init__(self, pieces: Sequence[Sequence[str]], func: Callable[..., Any],
                 given: Callable[[Sequence[str]], tuple], claims: Optional[str]):
        self._pieces, self._func, self._given, self._claims = pieces, func, given, claims
        self._made: dict[int, tuple] = {}

    def __len__(self) -> int:
        return len(self._pieces)

    def __getitem__(self, k):  # type: ignore[override]
        if k not in self._made:
            self._made[k] = (k, self._func, self._given(self._pieces[k]), self._claims)
        return self._made[k]


def _stopped() -> EngineError:
    return EngineError(_("a worker process stopped before it finished; run again with --workers 1 to see why"))


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
