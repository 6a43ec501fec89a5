"""The annual round: self-assessment from evidence, survey data, appraisal rounds, ranking and
classification per group, and the comparison with last year's round.

    evidence ─► self-assessed decisions (read and decided in parallel, one rule-engine host per
    survey data ─► survey items           worker process)
    appraisal rounds ─► final points ─► ranking and classification ─► year over year ─► round.json

Results do not depend on the number of workers: files are read in fixed chunks taken back in order,
every unit is decided on its own, and everything is sorted by unit id before it is written.
"""
from __future__ import annotations

import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

from .appraisal import AppraisalSet, AppraisedUnit, apply_appraisal, load_appraisal, valid_appraisal
from .errors import EngineError, EvidenceError, IncompleteEvaluationError, InputError, Problem
from .evaluate import Evaluator, decide
from .evidence import EvidenceSet, consistency_warnings, evidence_files, load_evidence
from .i18n import _, both
from .model import CriteriaSet, EvidenceRecord, UnitResult
from .numbers import display, exact_text
from .outdir import check_names
from .ranking import (ROUND_FORMAT, PreviousRound, PreviousUnit, Ranking, Standing, UnitScore,
                      load_previous, rank_units)
from .results import rollup_json, dumps, unit_json
from .roundio import RoundInputError, input_files, problem_at
from .survey_data import SurveySet, load_survey, mixed_metric_problems, survey_metrics
from .yamlio import load_yaml, position

EvaluatorFactory = Callable[[str], Evaluator]
Progress = Callable[[str, int, int], None]  # (phase: "evidence" | "units", done, in all)


@dataclass(frozen=True)
class RoundResult:
    criteria: CriteriaSet
    engine: str
    period: str
    units: tuple[AppraisedUnit, ...]  # by unit id
    ranking: Ranking
    warnings: tuple[Problem, ...]  # kept in the code's language, shown in the reader's
    evidence: EvidenceSet
    survey: SurveySet
    appraisal: AppraisalSet
    reads: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # role → every file read for it


# ---------------------------------------------------------------- worker processes

_WORKER: dict[str, Any] = {}
FILES_PER_CHUNK = 8  # evidence files read per task: fixed, so problems never depend on the workers


def _init_worker(criteria: CriteriaSet, factory: EvaluatorFactory, engine: str) -> None:
    """Each worker process builds its own evaluator (and so its own rule-engine host)."""
    _WORKER["criteria"] = criteria
    _WORKER["factory"] = factory
    _WORKER["engine"] = engine


def _init_pool_worker(parent: int, criteria: CriteriaSet, factory: EvaluatorFactory, engine: str) -> None:
    _end_with_parent(parent)
    _init_worker(criteria, factory, engine)


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


def _evaluator() -> Evaluator:
    if "evaluator" not in _WORKER:
        _WORKER["evaluator"] = _WORKER["factory"](_WORKER["engine"])
    return _WORKER["evaluator"]


def _load_chunk(index: int, files: Sequence[Path]) -> tuple[int, str, Any, int]:
    """Read a chunk of evidence files: (index, "ok", (records, every file read), n) or
    (index, "input", problems, n)."""
    from .bundle import recording_reads

    try:
        with recording_reads() as reads:  # for the bundle: task lists, whatever format named them
            ev = load_evidence(list(files), _WORKER["criteria"])
    except InputError as exc:  # its constructor takes the problems: sent as plain data
        return index, "input", exc.problems, len(files)
    return index, "ok", (ev.records, tuple(sorted(reads))), len(files)


def _decide_chunk(index: int, records: Sequence[EvidenceRecord]) -> tuple[int, str, Any, int]:
    """Decide a chunk of units: (index, "ok", results, n), or the failure as plain data
    ("incomplete", (missing, duplicated)) / ("engine", message) — exceptions do not all cross
    processes."""
    n = len(records)
    try:
        return index, "ok", decide(_WORKER["criteria"], records, _evaluator()), n
    except IncompleteEvaluationError as exc:
        return index, "incomplete", (exc.missing, exc.duplicated), n
    except EngineError as exc:
        return index, "engine", str(exc), n


def default_workers() -> int:
    return os.cpu_count() or 1


class Workers:
    """Where evidence is read and units are decided: with workers > 1, spawned processes (no
    rule-engine state is ever shared or copied: each worker builds its own evaluator and host,
    and processes start only as tasks need them); with 1, this process. Results come back in
    task order, so nothing depends on the number of workers or on which task finishes first."""

    def __init__(self, criteria: CriteriaSet, factory: EvaluatorFactory, engine: str, workers: int = 1):
        self.criteria, self.factory, self.engine, self.workers = criteria, factory, engine, max(1, workers)
        self._pool: Optional[ProcessPoolExecutor] = None
        self.reads: set[str] = set()  # every file read while loading the evidence

    def __enter__(self) -> "Workers":
        if self.workers > 1:
            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_init_pool_worker,
                                             initargs=(os.getpid(), self.criteria, self.factory, self.engine))
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if self._pool is not None:
            if exc_type is not None:  # interrupted or failed: the workers' running tasks are not awaited
                for process in list((getattr(self._pool, "_processes", None) or {}).values()):
                    process.terminate()
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def run(self, fn: Callable, chunks: Sequence[Any], on_done: Callable[[int], None]) -> list[tuple[str, Any]]:
        """`fn(index, chunk)` for every chunk; (kind, payload) per chunk, in chunk order."""
        out: dict[int, tuple[str, Any]] = {}
        if self._pool is None or len(chunks) <= 1:
            saved = dict(_WORKER)
            _init_worker(self.criteria, self.factory, self.engine)
            try:
                for i, chunk in enumerate(chunks):
                    _index, kind, payload, n = fn(i, chunk)
                    out[i] = (kind, payload)
                    on_done(n)
            finally:
                _WORKER.clear()
                _WORKER.update(saved)
        else:
            try:
                for future in as_completed([self._pool.submit(fn, i, c) for i, c in enumerate(chunks)]):
                    i, kind, payload, n = future.result()
                    out[i] = (kind, payload)
                    on_done(n)
            except BrokenProcessPool:
                raise EngineError(_("a worker process stopped before it finished; run again with --workers 1 "
                                    "to see why")) from None
        return [out[i] for i in range(len(chunks))]

    def load_evidence(self, paths: Sequence[Path | str], progress: Optional[Progress] = None) -> EvidenceSet:
        """`engine.evidence.load_evidence`, file chunks read in parallel; a unit given in two chunks
        is reported like a unit given twice in one."""
        files = evidence_files(paths)
        if not files:
            raise EvidenceError([Problem(", ".join(map(str, paths)) or "(none)", message=_("no evidence files found"))])
        chunks = [files[i:i + FILES_PER_CHUNK] for i in range(0, len(files), FILES_PER_CHUNK)]
        done = 0

        def tick(n: int) -> None:
            nonlocal done
            done += n
            if progress:
                progress("evidence", done, len(files))

        problems: list[Problem] = []
        records: list[EvidenceRecord] = []
        first: dict[str, EvidenceRecord] = {}
        for kind, payload in self.run(_load_chunk, chunks, tick):
            if kind != "ok":
                problems += payload
                continue
            chunk_records, reads = payload
            self.reads.update(reads)
            for rec in chunk_records:
                if rec.unit_id in first:
                    where = _located(first[rec.unit_id], ["unit"], "unit_id")
                    problems.append(_at(_located(rec, ["unit"], "unit_id"),
                                        _("duplicate unit {unit!r}: already given at {at}").format(
                                            unit=rec.unit_id, at=_shown(where))))
                    continue
                first[rec.unit_id] = rec
                records.append(rec)
        if problems:
            raise EvidenceError(problems)
        records.sort(key=lambda r: r.unit_id)
        warnings = [w for r in records for w in consistency_warnings(self.criteria, r)]
        return EvidenceSet(tuple(records), tuple(warnings), tuple(files))

    def decide(self, records: Sequence[EvidenceRecord], progress: Optional[Progress] = None) -> list[UnitResult]:
        """Decide every unit; the result is sorted by unit id."""
        total = len(records)
        # chunks of 4 to 16 units, about four per worker
        size = max(4, min(16, -(-total // (self.workers * 4))))
        chunks = [list(records[i:i + size]) for i in range(0, total, size)]
        done = 0

        def tick(n: int) -> None:
            nonlocal done
            done += n
            if progress:
                progress("units", done, total)

        if progress:
            progress("units", 0, total)
        results: list[UnitResult] = []
        missing, duplicated, failures = [], [], []
        for kind, payload in self.run(_decide_chunk, chunks, tick):
            if kind == "ok":
                results.extend(payload)
            elif kind == "incomplete":
                missing.extend(payload[0])
                duplicated.extend(payload[1])
            else:
                failures.append(payload)
        if failures:
            raise EngineError(failures[0])
        if missing or duplicated:
            raise IncompleteEvaluationError(missing, duplicated)
        results.sort(key=lambda r: r.unit_id)
        return results


def decide_all(criteria: CriteriaSet, records: Sequence[EvidenceRecord], factory: EvaluatorFactory,
               engine: str, workers: int = 1, progress: Optional[Progress] = None) -> list[UnitResult]:
    """Decide every unit with `workers` processes; the result is sorted by unit id."""
    with Workers(criteria, factory, engine, workers) as pool:
        return pool.decide(records, progress)


def _shown(p: Problem) -> str:
    if p.where:
        return f"{p.file}:{p.where}"
    return f"{p.file}:{p.line}:{p.col}" if p.line else p.file


# ---------------------------------------------------------------- the round

def _located(rec: EvidenceRecord, yaml_path: list, column: str, match: Optional[tuple[str, str]] = None) -> Problem:
    """Where a record says something (its evidence file is read again only to find the line)."""
    src = Path(rec.source)
    try:
        if src.suffix.lower() in (".yaml", ".yml"):
            line, col = position(load_yaml(src, rec.source), yaml_path)
            return Problem(rec.source, line, col)
        if src.suffix.lower() == ".csv":
            from .tables import ProblemSink, rows_from_csv

            header, rows = rows_from_csv(src, rec.source, ProblemSink())
            for rowno, cells in rows:
                if cells.get("unit_id") == rec.unit_id and (match is None or cells.get(match[0]) == match[1]):
                    return Problem(rec.source, rowno, header.index(column) + 1 if column in header else 1)
    except InputError:
        pass
    return Problem(rec.source)


def _at(p: Problem, message: str) -> Problem:
    return replace(p, message=message)


def round_problems(criteria: CriteriaSet, records: Sequence[EvidenceRecord]) -> tuple[str, list[Problem]]:
    """The round's period, and what the units' own evidence may not say in a round: survey values
    (survey items are never self-scored) and a period other than the round's."""
    problems = mixed_metric_problems(criteria)
    periods = sorted({r.period for r in records})
    period = max(periods, key=lambda p: (sum(1 for r in records if r.period == p), p)) if periods else ""
    for rec in records:
        if rec.period != period:
            problems.append(_at(_located(rec, ["period"], "period"),
                                _("unit {unit} reports period {given!r} but the round's period is "
                                  "{period!r}: one round scores one period").format(
                                    unit=rec.unit_id, given=rec.period, period=period)))
    survey = survey_metrics(criteria)
    subs = {s.code: s for s in criteria.sub_criteria()}
    for rec in records:
        for mid, mv in rec.values.items():
            if mid in survey:
                readers = sorted(s.code for s in subs.values() if s.metric == mid)
                problems.append(problem_at(mv.location, _("unit {unit} gives its own value for survey metric "
                                                          "{metric!r} (item {items}): survey items are "
                                                          "scored from survey data (--survey), never self-scored").format(
                    unit=rec.unit_id, metric=mid, items=", ".join(readers))))
        for code in rec.not_applicable:
            if code in subs and subs[code].source == "survey":
                problems.append(_at(_located(rec, ["not_applicable", code], "not_applicable", ("not_applicable", code)),
                                    _("unit {unit} declares survey item {code} not applicable: survey items "
                                      "are not self-assessed (the survey data declares them not applicable)").format(
                                        unit=rec.unit_id, code=code)))
    return period, problems


def run_round(criteria: CriteriaSet, evidence_paths: Iterable[Path | str], *,
              factory: EvaluatorFactory, engine: str = "durable",
              survey_paths: Iterable[Path | str] = (), appraisal_paths: Iterable[Path | str] = (),
              previous_path: Optional[Path | str] = None, workers: int = 1,
              progress: Optional[Progress] = None) -> RoundResult:
    """Score a whole round; raise `InputError` with every problem of the inputs found."""
    with Workers(criteria, factory, engine, workers) as pool:
        return _run(pool, criteria, list(evidence_paths), factory, engine, list(survey_paths),
                    list(appraisal_paths), previous_path, progress)


def _run(pool: Workers, criteria: CriteriaSet, evidence_paths: list, factory: EvaluatorFactory, engine: str,
         survey_paths: list, appraisal_paths: list, previous_path: Optional[Path | str],
         progress: Optional[Progress]) -> RoundResult:
    evidence = pool.load_evidence(evidence_paths, progress)
    records = list(evidence.records)
    period, problems = round_problems(criteria, records)
    from .bundle import recording_reads

    with recording_reads() as survey_reads:
        survey, survey_problems = load_survey(list(survey_paths), criteria, records, period)
    problems += survey_problems
    with recording_reads() as appraisal_reads:
        appraisal, appraisal_problems = load_appraisal(list(appraisal_paths), criteria)
    appraisal, invalid = valid_appraisal(appraisal, criteria, records)
    problems += appraisal_problems + invalid
    previous: Optional[PreviousRound] = None
    if previous_path is not None:
        try:
            previous = load_previous(previous_path)
        except InputError as exc:
            problems += exc.problems
    reads = {"evidence": tuple(sorted(pool.reads)), "survey": tuple(sorted(survey_reads)),
             "appraisal": tuple(sorted(appraisal_reads))}

    # Decided even when other inputs have problems: an adjustment without a reason is found only
    # against the self-assessed points, and every problem is reported at once.
    merged = [replace(r, values=dict(sorted({**r.values, **survey.values.get(r.unit_id, {})}.items())),
                      not_applicable=dict(sorted({**r.not_applicable,
                                                  **survey.not_applicable.get(r.unit_id, {})}.items())))
              for r in records]
    decided = pool.decide(merged, progress)
    units, appraisal_errors = apply_appraisal(criteria, decided, appraisal)
    errors = [p for p in problems + appraisal_errors if p.severity == "error"]
    if errors:
        raise RoundInputError(errors)

    scores = [UnitScore(u.result.unit_id, u.result.unit_name, u.result.unit_type, u.result.total.points,
                        u.result.total.max, u.self_result.total.points, len(u.rounds)) for u in units]
    ranking = rank_units(criteria, scores, previous)
    warnings = list(evidence.warnings)
    for t in sorted({st.score.type for st in ranking.ungrouped}):
        n = sum(1 for st in ranking.ungrouped if st.score.type == t)
        message, translated = both("unit type {type!r} is in no group of criteria set {id}: its {n} unit(s) are "
                                   "reported as ungrouped, without rank or class", type=t, id=criteria.id, n=n)
        warnings.append(Problem(criteria.path, message=message, severity="warning", translated=translated))
    return RoundResult(criteria, factory(engine).name, period, tuple(units), ranking, tuple(warnings), evidence,
                       survey, appraisal, reads)


# ---------------------------------------------------------------- output

def _x(value: Optional[Fraction]) -> Optional[str]:
    return None if value is None else exact_text(value)


def _d(value: Optional[Fraction]) -> Optional[str]:
    return None if value is None else display(value)


def standing_json(st: Standing) -> dict:
    s, p = st.score, st.previous
    return {
        "id": s.unit_id, "name": s.name, "type": s.type,
        "points": _x(s.points), "points_display": _d(s.points), "max": _x(s.max),
        "index": _x(s.index), "index_display": _d(s.index),
        "self_points": _x(s.self_points), "self_index": _x(s.self_index), "self_index_display": _d(s.self_index),
        "appraised_items": s.appraised_items,
        "rank": st.rank, "class": st.klass,
        "previous_index": _x(p.index) if p else None, "previous_index_display": _d(p.index) if p else None,
        "index_change": _x(st.index_change), "index_change_display": _d(st.index_change),
        "previous_rank": p.rank if p else None, "previous_class": p.klass if p else None,
        "rank_change": st.rank_change, "yoy": st.yoy,
    }


def ranking_json(r: Ranking) -> dict:
    """The ranking part of round.json: groups with their bands, standings and class counts, the
    ungrouped units and the units gone since last year."""
    return {
        "groups": [{
            "id": g.group.id, "label": g.group.label, "unit_types": list(g.group.unit_types),
            "bands": [{"label": b.label, "min": exact_text(b.min), "min_display": display(b.min)}
                      for b in g.group.bands],
            "size": len(g.standings),
            "units": [standing_json(st) for st in g.standings],
            "class_counts": [{"class": label, "count": n} for label, n in g.class_counts],
            "unclassified": g.unclassified,
        } for g in r.groups],
        "ungrouped": {"unit_types": sorted({st.score.type for st in r.ungrouped}),
                      "units": [standing_json(st) for st in r.ungrouped]},
        "vanished": [_vanished_json(u) for u in r.vanished],
    }


def _vanished_json(u: PreviousUnit) -> dict:
    return {"id": u.unit_id, "name": u.name, "type": u.type, "previous_group": u.group,
            "previous_index": _x(u.index), "previous_index_display": _d(u.index),
            "previous_rank": u.rank, "previous_class": u.klass}


def _criteria_json(cs: CriteriaSet) -> dict:
    return {"id": cs.id, "title": cs.title, "year": cs.year, "decision": cs.decision, "sha256": cs.content_hash}


def round_json(result: RoundResult) -> dict:
    r, prev = result.ranking, result.ranking.previous
    return {
        "format": ROUND_FORMAT,
        "criteria": _criteria_json(result.criteria),
        "engine": result.engine,
        "period": result.period,
        "previous": None if prev is None else {"criteria": {"id": prev.criteria_id, "year": prev.year},
                                               "period": prev.period},
        **ranking_json(r),
        "counts": {"units": len(result.units),
                   "appraised_units": sum(1 for u in result.units if u.rounds),
                   "new_units": sum(1 for st in _standings(r) if st.yoy == "new"),
                   "vanished_units": len(r.vanished)},
        "warnings": [str(w) for w in result.warnings],
    }


def _standings(r: Ranking) -> list[Standing]:
    return [st for g in r.groups for st in g.standings] + list(r.ungrouped)


def round_unit_json(result: RoundResult, unit: AppraisedUnit, standing: Standing, group_label: str,
                    group_size: int) -> dict:
    """The unit JSON of `score` (engine/results.py unit_json) with final points, plus per item
    `source`, `self_points`, `appraised_points` and `appraisal_rounds`, and the unit's standing."""
    cs = result.criteria
    doc = unit_json(cs, unit.result, result.engine)  # format cchc-result/1: every reader of unit results reads it
    subs = {s.code: s for s in cs.sub_criteria()}
    own = {d.code: d for d in unit.self_result.decisions}
    for item in doc["items"]:
        code = item["code"]
        survey = subs[code].source == "survey"
        self_pts = None if survey else own[code].points
        appraised = unit.appraised_points(code)
        item["source"] = subs[code].source
        item["self_points"], item["self_points_display"] = _x(self_pts), _d(self_pts)
        item["appraised_points"], item["appraised_points_display"] = _x(appraised), _d(appraised)
        item["appraisal_rounds"] = [{
            "round": a.round, "points": exact_text(a.points), "points_display": display(a.points),
            "accepted": a.accepted, "reason": a.reason, "appraiser": a.appraiser, "explanation": a.explanation,
            "date": a.date.isoformat() if a.date else None, "location": a.location,
        } for a in unit.rounds.get(code, ())]
    doc["self_total"] = rollup_json(unit.self_result.total)
    st = standing_json(standing)
    doc["standing"] = {"group": standing.group, "group_label": group_label, "group_size": group_size,
                       **{k: st[k] for k in ("rank", "class", "previous_index", "previous_index_display",
                                             "index_change", "index_change_display", "previous_rank",
                                             "previous_class", "rank_change", "yoy")}}
    return doc


def round_files(result: RoundResult) -> dict[str, bytes]:
    """`units/<id>.json` per unit and `round.json`, canonically encoded."""
    where: dict[str, tuple[Standing, str, int]] = {}
    for g in result.ranking.groups:
        for st in g.standings:
            where[st.score.unit_id] = (st, g.group.label, len(g.standings))
    for st in result.ranking.ungrouped:
        where[st.score.unit_id] = (st, "", 0)
    check_names({u.result.unit_id: u.result.evidence_source for u in result.units})
    files = {}
    for u in result.units:
        st, label, size = where[u.result.unit_id]
        files[f"units/{u.result.unit_id}.json"] = dumps(round_unit_json(result, u, st, label, size))
    files["round.json"] = dumps(round_json(result))
    return files


# ---------------------------------------------------------------- bundles and replay (docs/replay.md)

def round_inputs(criteria_path: Path | str, evidence_paths: Sequence[Path | str], result: RoundResult, *,
                 survey_paths: Sequence[Path | str] = (), appraisal_paths: Sequence[Path | str] = (),
                 previous_path: Optional[Path | str] = None) -> dict:
    """The inputs of a round by role (criteria, evidence, survey, appraisal, previous), each path as
    given with every file read through it (`result.reads`) and the files its evidence cites."""
    from .bundle import InputRoot, input_roots
    from .replay import cited_files, evidence_roots

    survey_cited = cited_files((problem_at(mv.location, "").file, mv) for values in result.survey.values.values()
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
    from .bundle import make_bundle

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


def _replay_round(ctx) -> dict[str, bytes]:
    from .criteria import load_criteria

    return _rerun(ctx, load_criteria(ctx.role("criteria")[0]))


def round_places(data: bytes) -> dict[str, tuple[str, str, Any]]:
    """(name, type, `engine.replay.Place`) of every unit of a round summary (round.json): final
    points, group, rank among the ranked units of its group, class."""
    import json

    from .numbers import to_fraction
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


def _what_if_round(ctx, new_criteria: Path):
    """The round re-run under another criteria set (same evidence, survey, appraisal and last
    year's round): every unit's final points, index, rank and class, recorded → what-if."""
    from .criteria import load_criteria
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


def _register_replay() -> None:
    try:
        from .replay import ReplayKind, register
    except ImportError:  # replay is optional for scoring
        return
    register(ReplayKind("round", _replay_round, what_if=_what_if_round))


_register_replay()
