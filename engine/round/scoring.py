"""`score` as one run, streamed: evidence read in pieces and units decided by the worker
processes (engine/round/pool.py, one or more), each unit's result JSON encoded where it was
decided and written straight into the output's staging folder (engine.storage.outdir.Staging)
by that worker, which hands back the file's copy as the bundle holds it (`UnitFiles`: localized
with the inputs known when the run began; made again from the file in the rare case an input read
later could change it), its summary line (`UnitLine`) into a scratch file there until summary.json is written. What is in
memory is the pieces in flight; of each unit only its id, where it was first given and what it
read and cites (for the bundle).

The bytes do not depend on the number of workers: the pieces are fixed by the evidence alone and
come back in order, each unit is encoded by the same code as `engine.storage.results.result_files`
(which a replay runs: the same bytes again), and the summary is sorted by unit id.
"""
from __future__ import annotations

import io
import os
import pickle
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, AbstractSet, BinaryIO, Callable, Iterable, Iterator, Mapping, Optional, Sequence

from ..core.errors import EngineError, EvidenceError, IncompleteEvaluationError, Location, Problem
from ..core.i18n import _
from ..evaluation.evaluate import Evaluator
from ..inputs.evidence import evidence_pieces, found_evidence_files, stamps
from ..inputs.tables import ProblemSink
from ..core.model import CriteriaSet, Rollup, UnitResult
from ..storage.bundle import (BundleWriter, InputRoot, Layout, ReadStamps, _localized_file, input_anchors,
                              knows_enough, lay_out_inputs, localizer)
from ..storage.outdir import Staging, check_names, name_problem
from ..storage.results import encode, summary_doc, summary_row, unit_file

if TYPE_CHECKING:
    from .units import FileTarget

UNITS_PER_PIECE = 64  # units of a CSV file read, decided and written per task (fixed: see the module's doc)
FILES_PER_PIECE = 64  # other evidence files (YAML, Excel) per task
SHARE = (7, 8)  # pieces the main process decides for so many of a spawned worker (engine.round.pool.Workers.worker_of)
SUMMARY_PIECE = 1 << 18  # bytes of summary.json written (and localized for the bundle) at a time
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
    summary: bytes  # its line in summary.json, encoded where it was decided (compact, no newline)
    warnings: tuple[str, ...]  # what the criteria set's consistency rules say of the unit


def encoded(criteria: CriteriaSet, results: list[UnitResult], engine: str) -> list[tuple[UnitLine, bytes]]:
    """A decided chunk as it leaves its worker: each unit's line and its result file's bytes."""
    return [(UnitLine(r.unit_id, r.unit_name, r.unit_type, r.total,
                      sum(1 for d in r.decisions if d.status in ("missing_evidence", "no_matching_band")),
                      len(r.decisions), encode(summary_row(r))[:-1], tuple(r.warnings)),
             unit_file(criteria, r, engine)) for r in results]


@dataclass(frozen=True)
class UnitFiles:
    """`score`'s finish of a decided chunk (engine.round.pool.Host): each unit's result file
    written where it was decided, into `folder` (the staging folder's units/, engine.storage.outdir.
    Staging.folder), never one named by an id that cannot name a file; for each unit its line, its
    file's copy as the bundle holds it (`target`: localized with the inputs known before the run
    began, None when no bundle is made), what that copy may have left unlocalized
    (`FileTarget.unknown`), and the error that kept the file from being written (or None)."""

    folder: str
    target: Optional["FileTarget"]

    def __call__(self, criteria: CriteriaSet, results: list[UnitResult], engine: str) -> list[tuple]:
        from ..storage.outdir import write_new

        out: list[tuple] = []
        for line, data in encoded(criteria, results, engine):
            path = os.path.join(self.folder, f"{line.unit_id}.json")
            copy = unknown = failure = None
            if name_problem(line.unit_id):
                failure = ValueError(line.unit_id)  # refused where the run's names are checked, never written
            else:
                try:
                    if self.target is None:
                        write_new(path, data)
                    else:
                        copy, unknown = self.target.write(path, data), self.target.unknown(data)
                except OSError as exc:  # a unit given twice (the run fails for it), or the disk
                    failure = exc
            out.append((line, copy, unknown, failure))
        return out


@dataclass(frozen=True)
class ScoreRun:
    units: int
    decisions: int
    lines: tuple[UnitLine, ...]  # the first ones by unit id (as many as asked for)
    warnings: tuple[Problem, ...]  # the evidence's, by unit id
    files: "ResultFiles"  # written into the staging folder: units/<id>.json, then summary.json
    cited: tuple[Path, ...]  # the files the evidence cites
    layout: Optional[Layout] = None  # the inputs laid out for the bundle (when `bundle` was given)
    stamps: ReadStamps = field(default_factory=ReadStamps)  # every file read, as it was read (`copy_inputs`)


@dataclass(frozen=True)
class RunBundle:
    """What `score_run` fills a run's bundle with as its units are written: `writer` (whose spool
    is a scratch file of the staging folder) gets each result file's copy, `roles(cited, reads)`
    gives the run's inputs by role (engine.storage.bundle.lay_out_inputs) once the files the
    evidence cites and every file read are known (before: with none)."""

    writer: BundleWriter
    roles: Callable[[Sequence[Path], AbstractSet[str]], Mapping[str, Sequence[InputRoot]]]
    max_cited: Optional[int] = None


def score_run(criteria: CriteriaSet, evidence_paths: Sequence[Path | str], factory: Callable[[str], Evaluator],
              engine: str, staged: Staging, *, workers: int = 1, keep: int = 0,
              warn: Optional[Callable[[tuple[Problem, ...]], None]] = None,
              bundle: Optional[RunBundle] = None) -> ScoreRun:
    """Read, decide and encode every unit with `workers` processes, each unit's result file written
    into `staged` by the worker that decided it, its line (`UnitLine`) into a scratch file until
    summary.json is written; the first `keep` lines are returned. With `bundle`, each file's copy
    as the bundle holds it goes into its writer as its piece comes back, summary.json's as it is
    written: nothing is read back. Every problem of the evidence is reported, in whichever piece it
    stands: after the first, pieces are still read (for their problems) but no longer decided or
    written (a file written before the failure was known goes with the staging folder). `warn` sees
    the evidence's warnings once it has all read well. The scratch files (this run's, and the
    bundle's spool) that cannot be written are the output folder's error, as its files are."""
    with staged.scratch() as spool:
        try:
            return _score_run(criteria, evidence_paths, factory, engine, staged, spool, workers, keep, warn, bundle)
        except OSError as exc:  # (an input that cannot be read is reported where it is read, never raised)
            raise staged.failed(exc) from None


def _score_run(criteria: CriteriaSet, evidence_paths: Sequence[Path | str], factory: Callable[[str], Evaluator],
               engine: str, staged: Staging, spool: BinaryIO, workers: int, keep: int,
               warn: Optional[Callable[[tuple[Problem, ...]], None]], bundle: Optional[RunBundle]) -> ScoreRun:
    from .pool import Workers, large_evidence
    from .units import FileTarget

    name = factory(engine).name
    first: Optional[Layout] = None  # the inputs known before any is read: what the workers localize with
    anchors: tuple[str, ...] = ()
    if bundle is not None:
        roles = bundle.roles((), frozenset())
        first, anchors = lay_out_inputs(roles, max_cited=bundle.max_cited), input_anchors(roles)
    folder = staged.folder("units")
    target = FileTarget(first.names, anchors) if first is not None else None
    units = _Units()  # what is kept of each unit read, compactly (a national run has tens of thousands)
    written: list[str] = []  # the units written, in the order they were (each id the one `units` holds)
    spans = array("q")  # the place of each written unit's line in `spool`: offset, size
    folded: set[str] = set()  # the lower-case forms of written ids that are not lower case themselves
    decisions = 0
    warnings: list[tuple[str, tuple[Problem, ...]]] = []
    reads = FilesRead()
    cited: dict[Path, None] = {}
    refused = False  # a unit id that cannot name a file was met
    missing, duplicated, failures = [], [], []
    unwritten: Optional[OSError] = None  # the first unit file a worker could not write
    unsure: dict[str, Optional[frozenset[str]]] = {}  # units whose copy may miss an input path (`UnitFiles`)
    with Workers(criteria, factory, engine, workers, finish=UnitFiles(str(folder), target), share=SHARE) as pool:
        files = found_evidence_files(evidence_paths)
        if large_evidence(files):  # the spawned workers start beside the indexing: they will have pieces
            pool.start()
        sink = ProblemSink()
        pieces = evidence_pieces(files, UNITS_PER_PIECE, FILES_PER_PIECE, sink)
        read_stamps = ReadStamps(stamps(pieces))
        problems = list(sink.problems)
        deciding = not problems  # a header already refused: every piece is only read, for its problems
        tasks: list = [[piece, deciding] for piece in pieces]  # [piece, deciding]: read when the task is sent
        del pieces  # each let go once its task is done (a national run's index of the evidence is megabytes)
        for i, (kind, (read, payload), _n) in enumerate(pool.stream("score_piece", tasks, AHEAD)):
            problems += read.problems
            for unit, at, source in read.firsts:
                if unit in units:
                    problems.append(Problem.at(at, _("duplicate unit {unit!r}: already given at {at}").format(
                        unit=unit, at=units.first_given(unit))))
                else:
                    units.add(unit, at, source)
            reads.add(read.reads)
            read_stamps.add(read.reads, read.stamps)
            cited.update(dict.fromkeys(read.cited))
            warnings += read.warnings
            if kind == "incomplete":
                missing += payload[0]
                duplicated += payload[1]
            elif kind == "engine":
                failures.append(payload)
            elif kind == "ok" and not problems and not refused and unwritten is None:
                for line, copy, unknown, failure in payload:
                    unit = units.id(line.unit_id)  # the string `units` holds, not a second one
                    low = unit.lower()
                    if name_problem(unit) or low in folded or (low != unit and low in units):
                        refused = True  # a name check_names refuses below (ids that differ only in case): never listed
                        continue
                    if failure is not None:
                        unwritten = failure
                        break
                    staged.written_in("units", f"{unit}.json")  # by its worker
                    if bundle is not None:
                        bundle.writer.stash(copy)  # named once every unit is written (`_ResultNames`)
                        if unknown is None or unknown:
                            unsure[unit] = unknown
                    if low != unit:
                        folded.add(low)
                    kept = pickle.dumps(line, pickle.HIGHEST_PROTOCOL)
                    written.append(unit)
                    spans.extend((spool.seek(0, io.SEEK_END), len(kept)))
                    spool.write(kept)
                    decisions += line.decisions
            if deciding and (problems or refused or unwritten is not None):  # the run fails: the rest are only read
                deciding = False
                for rest in tasks[i + 1:]:
                    rest[1] = False
            tasks[i] = None
            _give_back()
    if problems:
        raise EvidenceError(problems)
    warnings.sort(key=lambda w: w[0])
    evidence_warnings = tuple(w for _unit, ws in warnings for w in ws)
    if warn is not None:
        warn(evidence_warnings)
    if refused or len(written) < len(units):  # else every id was checked as it was written
        check_names(units.sources())
    if failures:
        raise EngineError(failures[0])
    if missing or duplicated:
        raise IncompleteEvaluationError(missing, duplicated)
    if unwritten is not None:
        raise staged.failed(unwritten)
    del units
    order = array("q", sorted(range(len(written)), key=written.__getitem__))
    files = ResultFiles(written[k] for k in order)
    layout, local = None, None
    if bundle is not None:
        names = _ResultNames(files)
        bundle.writer.name_stashed(names, array("q", (order[i] for i in names.ids)))
        layout = lay_out_inputs(bundle.roles(tuple(cited), reads), max_cited=bundle.max_cited)
        del reads  # its table of names: the layout holds the names now
        local = localizer(layout.names)
        _give_back()  # what laying the inputs out held for a while (a national run's: megabytes)
        assert first is not None
        # the copies a worker could not vouch for, or all when the inputs read since do not allow it
        again = written if not knows_enough(first.names, layout.names, anchors) else \
            [u for u, unknown in unsure.items() if unknown is None or any(p in layout.names for p in unknown)]
        for unit in again:
            result = f"units/{unit}.json"
            bundle.writer.renew(f"results/{result}", _localized_file(staged.path / result, local))  # type: ignore[operator]
    shown: list[UnitLine] = []

    def summary(fh: BinaryIO) -> Iterator[bytes]:
        """summary.json as `encode(summary_doc(...))` writes it, its units' lines streamed in, written
        to `fh` in pieces cut outside every string: each piece localized for the bundle."""
        unit_warnings: list[str] = []
        before = encode(summary_doc(criteria, [], name, [])).split(_NO_UNITS)[0]
        pieces, size = [before + _NO_UNITS[:-1]], 0
        for i, k in enumerate(order):
            spool.seek(spans[2 * k])
            line = pickle.loads(spool.read(spans[2 * k + 1]))
            pieces.append(b"," + line.summary if i else line.summary)
            size += len(pieces[-1])
            unit_warnings += line.warnings
            if i < keep:
                shown.append(line)
            if size >= SUMMARY_PIECE:
                yield _written(fh, b"".join(pieces), local)
                pieces, size = [], 0
        everything = encode(summary_doc(criteria, [], name, [str(w) for w in evidence_warnings] + unit_warnings))
        pieces.append(b"]" + everything.split(_NO_UNITS)[1])
        yield _written(fh, b"".join(pieces), local)

    with staged.create("summary.json") as fh:
        if bundle is None:
            for _piece in summary(fh):
                pass
        else:
            bundle.writer.add_pieces("results/summary.json", summary(fh))
    _give_back()  # the summary's pieces, before the bundle copies the inputs
    return ScoreRun(len(order), decisions, tuple(shown), evidence_warnings, files, tuple(cited), layout, read_stamps)


def _malloc_trim() -> Callable[[int], int]:
    """The C library's malloc_trim (glibc), or a stand-in that does nothing where there is none."""
    import ctypes

    try:
        return ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError, TypeError):  # TypeError: no C library by that name (Windows)
        return lambda pad: 0


def _give_back() -> None:
    """Memory the C allocator holds free given back to the system, once a task is done (and after
    the passing tables and pieces of the run's end). Each piece makes megabytes of blocks larger
    than Python's own allocator serves (result files, pickles); glibc keeps those freed beneath
    blocks still held, so a national run's peak grew with its units."""
    global _trim
    if _trim is None:
        _trim = _malloc_trim()
    _trim(0)


_trim: Optional[Callable[[int], int]] = None


def _written(fh: BinaryIO, data: bytes, local: Optional[Callable[[bytes, bool], bytes]]) -> bytes:
    """`data` written to `fh`: its copy in the bundle (localized by `local`, when given)."""
    fh.write(data)
    return local(data, True) if local is not None else data


class _Units:
    """Each unit read, in order, with where it was first given and the evidence file it was given
    in, kept compactly: the id once (a dict of ids to themselves: no second copy, no number object
    per unit), the places as numbers in one array, their file names in one table. A unit's number
    (its place in the order) is worked out only when a message needs it."""

    def __init__(self) -> None:
        self._ids: dict[str, str] = {}
        self._texts: dict[str, int] = {}  # file names, numbered
        self._names: list[str] = []  # the same by number
        self._places = array("q")  # per unit: its file's number, line, column; its evidence file's number
        self._cells: dict[int, str] = {}  # the unit's cell (`Sheet!B7`), by number, for a workbook's units
        self._numbers: Optional[dict[str, int]] = None  # made when a message needs one

    def __contains__(self, unit: object) -> bool:
        return unit in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, unit: str, at: Location, source: str) -> None:
        if self._numbers is not None:
            self._numbers[unit] = len(self._ids)
        if at.cell:
            self._cells[len(self._ids)] = at.cell
        self._ids[unit] = unit
        self._places.extend((self._text(at.file), at.line, at.col, self._text(source)))

    def id(self, unit: str) -> str:
        """The id as this table holds it."""
        return self._ids[unit]

    def _number(self, unit: str) -> int:
        if self._numbers is None:
            self._numbers = {u: k for k, u in enumerate(self._ids)}
        return self._numbers[unit]

    def _text(self, name: str) -> int:
        found = self._texts.get(name)
        if found is None:
            found = self._texts[name] = len(self._names)
            self._names.append(name)
        return found

    def first_given(self, unit: str) -> Location:
        k = self._number(unit)
        file, line, col, _source = self._places[4 * k:4 * k + 4]
        return Location(self._names[file], line, col, self._cells.get(k, ""))

    def sources(self) -> Mapping[str, str]:
        """Each unit id, sorted, -> the evidence file it was first given in."""
        return {unit: self._names[self._places[4 * self._number(unit) + 3]] for unit in sorted(self._ids)}


class FilesRead(AbstractSet[str]):
    """Every file read while reading the evidence, kept as one text per piece (its names joined by
    NULs, which no path holds: a national run reads tens of thousands of task lists), each name
    once. The names are made when first asked for (by the bundle, once the units are written)."""

    def __init__(self) -> None:
        self._pieces: list[str] = []
        self._names: Optional[dict[str, None]] = None  # a dict: a third of the memory of a set of as many

    def add(self, names: Iterable[str]) -> None:
        joined = "\0".join(names)
        if self._names is not None:
            self._names.update(dict.fromkeys(joined.split("\0") if joined else ()))
        elif joined:
            self._pieces.append(joined)

    def _all(self) -> dict[str, None]:
        if self._names is None:
            self._names = {}
            while self._pieces:
                self._names.update(dict.fromkeys(self._pieces.pop(0).split("\0")))
        return self._names

    def __contains__(self, name: object) -> bool:
        return name in self._all()

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


class ResultFiles(Sequence[str]):
    """The result files of a run, as written into its staging folder: units/<id>.json of each
    unit, by id, then summary.json; each name made when asked, from one text of the ids (a national
    run writes tens of thousands)."""

    def __init__(self, units: Iterable[str]):
        self._ids = "\n".join(units)  # a unit id that names a file has no line break
        self._starts = array("q", [0])
        at = self._ids.find("\n")
        while at != -1:
            self._starts.append(at + 1)
            at = self._ids.find("\n", at + 1)
        self._units = len(self._starts) if self._ids else 0

    def __len__(self) -> int:
        return self._units + 1

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i <= self._units:
            raise IndexError(i)
        if i == self._units:
            return "summary.json"
        end = self._starts[i + 1] - 1 if i + 1 < self._units else len(self._ids)
        return f"units/{self._ids[self._starts[i]:end]}.json"

    def __iter__(self) -> Iterator[str]:
        return (self[i] for i in range(len(self)))


class _ResultNames(Sequence[str]):
    """The names in the bundle of a run's unit files (`ResultFiles`, by id), in the order of the
    names (`BundleWriter.name_stashed`): that of the ids, but where an id followed by '.json' sorts
    otherwise than the id itself (`a` and `a-b`: `a-b.json` comes first). `ids`: the place by id
    of each name in turn."""

    def __init__(self, files: ResultFiles):
        self._files = files
        units = range(len(files) - 1)
        self.ids: Sequence[int] = units
        if any(files[i] >= files[i + 1] for i in range(len(units) - 1)):
            self.ids = array("q", sorted(units, key=files.__getitem__))

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, j):  # type: ignore[override]
        if isinstance(j, slice):
            return [self[k] for k in range(*j.indices(len(self)))]
        return f"results/{self._files[self.ids[j]]}"


_NO_UNITS = b'"units":[]'  # in compact JSON, only where the summary's units stand: a string's quotes are escaped
