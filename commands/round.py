"""`cchc round`: a whole province's round (docs/annual-round.md)."""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Optional, Sequence

from rich.table import Table

from engine import load_criteria
from engine.core.errors import CchcError
from engine.core.i18n import _
from engine.core.numbers import num

from . import early
from .console import err, out, say, warn
from .scoring import bundle_line


def round_(criteria: Path, evidence: Sequence[Path], appraisal: Sequence[Path], survey: Sequence[Path],
           no_survey: bool, previous: Optional[Path], out_dir: Path, engine: str, workers: int, rows: int,
           archive: Optional[Path], previous_year: Optional[int], bundle: Optional[Path], sign: Optional[Path],
           max_cited_mb: Optional[int]) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from engine.storage.bundle import BUNDLE_NAME, max_cited_size
    from engine.storage.outdir import Staging
    from engine.round.pool import default_workers
    from engine.round.bundle import write_round
    from engine.round.run import round_held, round_workers
    from rules import get_evaluator

    with contextlib.ExitStack() as stack:  # the workers and last year's results (from the archive), kept until the end
        # made first (adopting those started ahead, which end with them if the run stops), their start-up
        # beside the reading of the criteria set; they stay until the output is written: each unit's
        # file is finished where it was decided
        pool = stack.enter_context(round_workers(evidence, factory=get_evaluator, engine=engine,
                                                 workers=workers or default_workers(), ahead=early.taken(),
                                                 indexed=early.indexed()))
        get_evaluator(engine)  # an unknown engine is reported before the round reads anything
        max_cited = max_cited_size(max_cited_mb)
        cs = load_criteria(criteria)
        survey_items = _survey_items(cs, survey, no_survey)
        previous = _previous(stack, archive, previous_year, previous, cs)
        # each unit's file is begun in the staging folder as soon as it is decided; should the round
        # fail, the workers end before the folder they write into is removed
        staged = stack.enter_context(Staging(out_dir, command="round", placed=early.ended))
        stack.push(lambda kind, *_: kind is not None and pool.end_now())
        progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                            console=err, transient=True, disable=not err.is_terminal)
        phases = {"evidence": _("Reading and scoring evidence (pieces)")}
        with progress:
            task = progress.add_task(phases["evidence"], total=None)
            result, pool = stack.enter_context(round_held(
                cs, evidence, factory=get_evaluator, engine=engine, survey_paths=survey, appraisal_paths=appraisal,
                previous_path=previous, pool=pool, units_folder=str(staged.folder("units")),
                progress=lambda phase, done, total: progress.update(
                    task, description=phases[phase], completed=done, total=total)))
        warn(result.warnings)
        bundle_path = bundle or out_dir / BUNDLE_NAME
        _written, digest = write_round(criteria, evidence, result, pool, out_dir, bundle_path, survey_paths=survey,
                                       appraisal_paths=appraisal, previous_path=previous, key=sign,
                                       max_cited=max_cited, staged=staged)
    _round_table(result, rows)
    say(_("{units} unit(s) ({engine} engine) → {out}/units/*.json, {out}/round.json").format(
        units=len(result.units), engine=result.engine, out=out_dir))
    bundle_line(bundle_path, digest, sign)
    _missing_inputs(survey_items, appraisal, previous)
    early.leave()


def _survey_items(cs, survey: Sequence[Path], no_survey: bool) -> list[str]:
    """The criteria set's survey items; without survey data they are refused unless --no-survey
    says so (they would all score as missing evidence)."""
    items = sorted(s.code for s in cs.sub_criteria() if s.source == "survey")
    if survey and no_survey:
        raise CchcError(_("give either --survey or --no-survey, not both"))
    if items and not survey and not no_survey:
        raise CchcError(_("the criteria set {id} has {n} survey item(s) ({items}) scored from survey data: give "
                          "the survey data with --survey FILE_OR_FOLDER, or --no-survey to score them as "
                          "missing evidence").format(id=cs.id, n=len(items), items=", ".join(items)))
    return items if no_survey else []


def _previous(stack: contextlib.ExitStack, archive: Optional[Path], previous_year: Optional[int],
              previous: Optional[Path], cs) -> Optional[Path]:
    """Last year's results: the file given with --previous, or those the archive holds (as a
    round summary the round's bundle carries as its `previous` input)."""
    if archive is None:
        if previous_year is not None:
            raise CchcError(_("--previous-year goes with --archive"))
        return previous
    from engine.audit.archive import previous_round_file  # (only here: sqlite3 and the archive's readers)

    if previous is not None:
        raise CchcError(_("give last year's results either with --previous or with --archive, not both"))
    year = previous_year if previous_year is not None else cs.year - 1
    path = stack.enter_context(previous_round_file(archive, year))
    if path is None:
        raise CchcError(_("the archive {archive} holds no results of {year}").format(archive=archive, year=year))
    return path


def _missing_inputs(survey_items: list[str], appraisal: Sequence[Path], previous: Optional[Path]) -> None:
    """Say which whole kind of input the round went without, so that no low score is a surprise."""
    if survey_items:
        say(_("no survey data (--no-survey): the {n} survey item(s) {items} are scored as missing evidence")
            .format(n=len(survey_items), items=", ".join(survey_items)))
    if not appraisal:
        say(_("no appraisal given (--appraisal): the appraised index is the self-assessed one"))
    if previous is None:
        say(_("no previous round given (--previous or --archive): no change since last year is shown"))


def _round_table(result, rows: int) -> None:
    def change(st) -> str:
        if st.yoy == "new":
            return _("new")
        c = st.index_change
        r = st.rank_change
        text = "" if c is None else ("+" if c > 0 else "") + num(c)
        if r:
            text += f" ({'↑' if r > 0 else '↓'}{abs(r)})"
        return text or "—"

    for g in list(result.ranking.groups) + ([None] if result.ranking.ungrouped else []):
        standings = g.standings if g else result.ranking.ungrouped
        title = g.group.label if g else _("Not in a ranking group")
        table = Table(title=f"{title} — {result.period}")
        for col, just in ((_("Rank"), "right"), (_("Unit id"), "left"), (_("Unit name"), "left"),
                          (_("Self-assessed (%)"), "right"), (_("Appraised (%)"), "right"), (_("Class"), "left"),
                          (_("Since last year"), "right")):
            table.add_column(col, justify=just)
        for st in standings[:rows]:
            s = st.score
            table.add_row(str(st.rank) if st.rank else "—", s.unit_id, s.name,
                          num(s.self_index) if s.self_index is not None else "—",
                          num(s.index) if s.index is not None else "—",
                          st.klass or "—", change(st))
        out.print(table)
        if len(standings) > rows:
            out.print(_("… and {n} more unit(s) in round.json").format(n=len(standings) - rows))
    if result.ranking.vanished:
        say(_("In the previous period, not in this one: {units}").format(
            units=", ".join(u.unit_id for u in result.ranking.vanished)))
