"""A round's replay bundle (docs/replay.md): its inputs by role and its result files, as written.
How a bundle of kind `round` is re-run is engine/audit/round_replay.py."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Optional, Sequence

from ..inputs.roundio import input_files
from ..inputs.survey_data import SurveySet
from ..storage.bundle import BundleError
from .pool import Workers
from .run import RoundResult

if TYPE_CHECKING:
    from ..storage.bundle import BundleWriter, Layout


def round_inputs(criteria_path: Path | str, evidence_paths: Sequence[Path | str], result: RoundResult, *,
                 survey_paths: Sequence[Path | str] = (), appraisal_paths: Sequence[Path | str] = (),
                 previous_path: Optional[Path | str] = None) -> dict:
    """The inputs of a round by role (criteria, evidence, survey, appraisal, previous), each path as
    given with every file read through it (`result.reads`) and the files its evidence cites."""
    return _roles(criteria_path, evidence_paths, result.reads, result.cited, result.survey, survey_paths,
                  appraisal_paths, previous_path)


def _roles(criteria_path: Path | str, evidence_paths: Sequence[Path | str], reads: Mapping[str, tuple[str, ...]],
           cited: Sequence[Path], survey: SurveySet, survey_paths: Sequence[Path | str],
           appraisal_paths: Sequence[Path | str], previous_path: Optional[Path | str]) -> dict:
    from ..storage.bundle import InputRoot, cited_files, evidence_input_roots, input_roots

    survey_cited = cited_files((mv.location.file, mv) for values in survey.values.values() for mv in values.values())
    return {"criteria": [InputRoot(Path(criteria_path), (Path(criteria_path),))],
            "evidence": evidence_input_roots(evidence_paths, cited, reads.get("evidence", ())),
            "survey": input_roots(survey_paths, reads.get("survey", ()), input_files, survey_cited),
            "appraisal": input_roots(appraisal_paths, reads.get("appraisal", ()), input_files),
            "previous": [InputRoot(Path(previous_path), (Path(previous_path),))] if previous_path else []}


class RoundLayout:
    """A round's inputs laid out for its bundle (engine.storage.bundle.lay_out_inputs). Called with
    what the round read (engine.round.run.round_held's `checked`), it lays them out while the units
    are decided, in time this process would otherwise spend waiting for the workers, rather than
    after, when the workers would wait for it; a problem found then is raised only when the bundle
    is written, as before. With `spool_in` (a folder), it copies them then too, into a file of no
    name there (gone with this process, whatever happens), that the bundle is written from
    (`writer`)."""

    def __init__(self, criteria_path: Path | str, evidence_paths: Sequence[Path | str], *,
                 survey_paths: Sequence[Path | str] = (), appraisal_paths: Sequence[Path | str] = (),
                 previous_path: Optional[Path | str] = None, max_cited: Optional[int] = None,
                 spool_in: Optional[Path] = None):
        self._paths = (criteria_path, evidence_paths, survey_paths, appraisal_paths, previous_path)
        self._max_cited = max_cited
        self._spool_in = spool_in
        self._made: Optional[Layout] = None
        self._problem: Optional[BundleError] = None
        self.writer: Optional[BundleWriter] = None  # the inputs copied, if they were

    def __call__(self, reads: Mapping[str, tuple[str, ...]], cited: Sequence[Path], survey: SurveySet) -> None:
        from ..storage.bundle import lay_out_inputs

        criteria_path, evidence_paths, survey_paths, appraisal_paths, previous_path = self._paths
        try:
            self._made = lay_out_inputs(_roles(criteria_path, evidence_paths, reads, cited, survey, survey_paths,
                                               appraisal_paths, previous_path), max_cited=self._max_cited)
            self._copy(self._made)
        except BundleError as exc:
            self._problem = exc

    def _copy(self, layout: Layout) -> None:
        import tempfile

        from ..storage.bundle import BundleWriter, versions

        versions()  # what the bundle records of them, looked up once here
        if self._spool_in is None:
            return
        try:
            spool = tempfile.TemporaryFile(dir=self._spool_in)
        except OSError:  # copied when the bundle is written
            return
        self.writer = BundleWriter(spool)
        try:
            for name, f in layout.files.items():
                self.writer.add_file(name, f)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Let the copies go (the bundle was written, or will not be)."""
        if self.writer is not None:
            self.writer.spool.close()
            self.writer = None

    def layout(self, result: RoundResult) -> Layout:
        if self._made is None and self._problem is None:
            self(result.reads, result.cited, result.survey)
        if self._problem is not None:
            raise self._problem
        assert self._made is not None
        return self._made


def round_bundle(criteria_path: Path | str, evidence_paths: Sequence[Path | str], result: RoundResult,
                 files: dict[str, bytes], *, survey_paths: Sequence[Path | str] = (),
                 appraisal_paths: Sequence[Path | str] = (), previous_path: Optional[Path | str] = None,
                 key: Optional[Path] = None, max_cited: Optional[int] = None) -> bytes:
    """The replay bundle of a round: its inputs by role, its result files as written, what ran."""
    from ..storage.bundle import make_bundle

    roles = round_inputs(criteria_path, evidence_paths, result, survey_paths=survey_paths,
                         appraisal_paths=appraisal_paths, previous_path=previous_path)
    return make_bundle("round", roles, files, result.engine, about=_about(result), key=key, max_cited=max_cited,
                       encoded=True)


def _about(result: RoundResult) -> dict:
    cs = result.criteria
    return {"criteria_id": cs.id, "criteria_sha256": cs.content_hash, "title": cs.title, "year": cs.year,
            "period": result.period}


def write_round(criteria_path: Path | str, evidence_paths: Sequence[Path | str], result: RoundResult, pool: Workers,
                out_dir: Path, bundle_path: Path, *, survey_paths: Sequence[Path | str] = (),
                appraisal_paths: Sequence[Path | str] = (), previous_path: Optional[Path | str] = None,
                key: Optional[Path] = None, max_cited: Optional[int] = None,
                laid_out: Optional[RoundLayout] = None) -> tuple[list[Path], str]:
    """Write the output folder of a round whose unit files its workers hold (engine.round.run.round_held)
    and its bundle, all or nothing (engine.storage.bundle.finish_run): the files and the bundle's sha256.
    `laid_out`: the same inputs' `RoundLayout`, if the round was handed it."""
    from ..storage.bundle import finish_laid_out
    from ..storage.outdir import Staging
    from .output import write_round_files

    if laid_out is None:
        laid_out = RoundLayout(criteria_path, evidence_paths, survey_paths=survey_paths,
                               appraisal_paths=appraisal_paths, previous_path=previous_path, max_cited=max_cited)
    layout = laid_out.layout(result)
    results = [f"units/{u.unit_id}.json" for u in result.units] + ["round.json"]
    try:
        with Staging(out_dir, command="round") as staged:
            return finish_laid_out(staged, bundle_path, "round", layout, results,
                                   write_round_files(result, pool, staged, layout.names), result.engine,
                                   about=_about(result), key=key, writer=laid_out.writer)
    finally:
        laid_out.close()
