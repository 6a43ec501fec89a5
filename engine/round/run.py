"""The annual round's orchestration: self-assessment from evidence, survey data, appraisal rounds,
ranking and classification per group, and the comparison with last year's round.

    survey data, appraisal rounds: read first, each unit's checked where it is decided
    evidence ─► self-assessed decisions, survey items, final points (each piece read and decided by
                one worker: engine/round/pool.py) ─► ranking and classification ─► year over year
"""
from __future__ import annotations

from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional, Sequence

from ..evaluation.appraisal import AppraisalSet, load_appraisal, valid_appraisal
from ..core.errors import CchcError, InputError, Problem
from ..inputs.evidence import EvidenceSet, found_evidence_files
from ..core.i18n import both
from ..core.model import CriteriaSet
from ..evaluation.ranking import PreviousRound, Ranking, UnitScore, load_previous, rank_units
from ..inputs.roundio import RoundInputError
from ..inputs.survey_data import SurveyRead, SurveySet, checked_survey, read_survey
from ..storage.bundle import ReadStamps, recording_reads
from .pool import EvaluatorFactory, Progress, Workers, index_ahead as index_pieces_ahead, large_evidence
from .pool import read_ahead  # noqa: F401 - what a worker started ahead runs (commands/early.py)
from .problems import round_problems
from .scoring import FILES_PER_PIECE, UNITS_PER_PIECE
from .units import RoundInputs, RoundUnit, decided_units, held_files


@dataclass(frozen=True)
class RoundResult:
    criteria: CriteriaSet
    engine: str
    period: str
    units: tuple[RoundUnit, ...]  # by unit id, decided, appraised and encoded but for their standing
    ranking: Ranking
    warnings: tuple[Problem, ...]  # kept in the code's language, shown in the reader's
    evidence: EvidenceSet  # its records as the round's checks see them (engine.round.pool.checked_record)
    survey: SurveySet
    appraisal: AppraisalSet
    reads: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # role → every file read for it
    cited: tuple[Path, ...] = ()  # the files the evidence cites
    stamps: ReadStamps = field(default_factory=ReadStamps)  # every file read, as it was read


def run_round(criteria: CriteriaSet, evidence_paths: Iterable[Path | str], *,
              factory: EvaluatorFactory, engine: str = "durable",
              survey_paths: Iterable[Path | str] = (), appraisal_paths: Iterable[Path | str] = (),
              previous_path: Optional[Path | str] = None, workers: int = 1,
              progress: Optional[Progress] = None) -> RoundResult:
    """Score a whole round; raise `InputError` with every problem of the inputs found."""
    with Workers(criteria, factory, engine, workers, finish=decided_units) as pool:
        return _run(pool, criteria, list(evidence_paths), factory, engine, list(survey_paths),
                    list(appraisal_paths), previous_path, progress)


@contextmanager
def round_held(criteria: CriteriaSet, evidence_paths: Iterable[Path | str], *,
               factory: EvaluatorFactory, engine: str = "durable",
               survey_paths: Iterable[Path | str] = (), appraisal_paths: Iterable[Path | str] = (),
               previous_path: Optional[Path | str] = None, workers: int = 1,
               progress: Optional[Progress] = None, pool: Optional[Workers] = None,
               units_folder: Optional[str] = None) -> Iterator[tuple[RoundResult, Workers]]:
    """`run_round` whose unit files are held, packed, in this process (`RoundUnit.held`), with the
    workers still running: engine.round.bundle.write_round has them finished and written there. `pool`: the workers to
    use (`round_workers`, the caller's to end), rather than `workers` new ones. `units_folder`:
    where each unit's file is begun as soon as it is decided (the units/ of the staging folder
    write_round is then given: engine.storage.outdir.Staging.folder)."""
    with (nullcontext(pool) if pool is not None else
          Workers(criteria, factory, engine, workers, finish=decided_units, hold=held_files)) as pool:
        if pool.criteria is None:
            pool.use(criteria)
        yield _run(pool, criteria, list(evidence_paths), factory, engine, list(survey_paths),
                   list(appraisal_paths), previous_path, progress, units_folder), pool


@contextmanager
def round_workers(evidence_paths: Iterable[Path | str], *, factory: EvaluatorFactory, engine: str = "durable",
                  workers: int = 1, ahead: Sequence[Any] = (), indexed: Optional[Any] = None) -> Iterator[Workers]:
    """The workers of a round made before its criteria set is read (`round_held`'s `pool`): when
    the evidence is large, started at once, so that their start-up runs beside that reading.
    `ahead`: workers started before (engine.round.pool.Workers), adopted; `indexed`: the future
    of the evidence's pieces one of them cut (`index_ahead`)."""
    with Workers(None, factory, engine, workers, finish=decided_units, hold=held_files, ahead=ahead) as pool:
        pool.indexed = indexed
        try:
            files = found_evidence_files(evidence_paths)
        except CchcError:  # reported when the evidence is read, after any problem of the criteria set
            files = []
        if large_evidence(files):
            pool.start()
        yield pool


def index_ahead(evidence_paths: Sequence[str]) -> Optional[tuple]:
    """engine.round.pool.index_ahead of a round's pieces (run in a worker started ahead: commands/early.py)."""
    return index_pieces_ahead(evidence_paths, UNITS_PER_PIECE, FILES_PER_PIECE)


def _run(pool: Workers, criteria: CriteriaSet, evidence_paths: list, factory: EvaluatorFactory, engine: str,
         survey_paths: list, appraisal_paths: list, previous_path: Optional[Path | str],
         progress: Optional[Progress], units_folder: Optional[str] = None) -> RoundResult:
    files = found_evidence_files(evidence_paths)  # the folders listed once
    if not pool.started and large_evidence(files):
        pool.start()
    # The survey data and the appraisals are read first: each unit is decided where its evidence
    # is read, with what they give for it. What reading them refuses outright is raised only
    # after the evidence, as problems of the evidence are reported first.
    with recording_reads() as survey_reads:
        survey_read, survey_refused = _read_or_refused(lambda: read_survey(survey_paths, criteria),
                                                       SurveyRead((), {}, (), ()))
    with recording_reads() as appraisal_reads:
        (appraisal, appraisal_problems), appraisal_refused = _read_or_refused(
            lambda: load_appraisal(appraisal_paths, criteria), (AppraisalSet((), ()), []))
    # Decided even when other inputs have problems: an adjustment without a reason is found only
    # against the self-assessed points, and every problem is reported at once.
    evidence = pool.read_and_decide(files, UNITS_PER_PIECE, FILES_PER_PIECE,
                                    RoundInputs.of(survey_read, appraisal, units_folder), progress)
    records = list(evidence.records)
    period, problems = round_problems(criteria, records)
    if survey_refused is not None:
        raise survey_refused
    # per piece: its units' survey data as checked where they were decided, and the files that read
    made = [m for m in pool.made if m is not None]
    pool.made = []
    surveyed = {unit: done for checked_units, _reads, _stamps in made for unit, done in checked_units.items()}
    with recording_reads() as checked_reads:
        survey, survey_problems = checked_survey(survey_read, criteria, records, period, surveyed)
    problems += survey_problems
    if appraisal_refused is not None:
        raise appraisal_refused
    appraisal, invalid = valid_appraisal(appraisal, criteria, records)
    problems += appraisal_problems + invalid
    previous: Optional[PreviousRound] = None
    with recording_reads() as previous_reads:
        if previous_path is not None:
            try:
                previous = load_previous(previous_path)
            except InputError as exc:
                problems += exc.problems
    for read in (survey_reads, appraisal_reads, checked_reads, previous_reads):
        pool.stamps.add_read(read)
    for _checked, piece_reads, packed in made:
        pool.stamps.add(piece_reads, packed)
    read_in_workers = {path for _checked, piece_reads, _stamps in made for path in piece_reads}
    reads = {"evidence": tuple(sorted(pool.reads)),
             "survey": tuple(sorted(set(survey_reads) | read_in_workers | set(checked_reads))),
             "appraisal": tuple(sorted(appraisal_reads))}

    units: list[RoundUnit] = []
    appraisal_errors: list[Problem] = []
    for chunk_units, chunk_problems in pool.decided_pieces():
        units += chunk_units
        appraisal_errors += chunk_problems
    units.sort(key=lambda u: u.unit_id)
    errors = [p for p in problems + appraisal_errors if p.severity == "error"]
    if errors:
        raise RoundInputError(errors)

    scores = [UnitScore(u.unit_id, u.unit_name, u.unit_type, u.points, u.max, u.self_points, u.appraised_items)
              for u in units]
    ranking = rank_units(criteria, scores, previous)
    warnings = list(evidence.warnings)
    for t in sorted({st.score.type for st in ranking.ungrouped}):
        n = sum(1 for st in ranking.ungrouped if st.score.type == t)
        message, translated = both("unit type {type!r} is in no group of criteria set {id}: its {n} unit(s) are "
                                   "reported as ungrouped, without rank or class", type=t, id=criteria.id, n=n)
        warnings.append(Problem(criteria.path, message=message, severity="warning", translated=translated))
    return RoundResult(criteria, factory(engine).name, period, tuple(units), ranking, tuple(warnings), evidence,
                       survey, appraisal, reads, pool.cited, pool.stamps)


def _read_or_refused(read: Callable[[], Any], instead: Any) -> tuple[Any, Optional[InputError]]:
    """What `read()` gives, or `instead` with the `InputError` it raised (raised later by the caller)."""
    try:
        return read(), None
    except InputError as exc:
        return instead, exc
