"""A round's replay bundle (docs/replay.md): its inputs by role and its result files, as written.
How a bundle of kind `round` is re-run is engine/audit/round_replay.py."""
from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence

from ..inputs.roundio import input_files
from .pool import Workers
from .run import RoundResult

if TYPE_CHECKING:
    from ..storage.outdir import Staging


def round_inputs(criteria_path: Path | str, evidence_paths: Sequence[Path | str], result: RoundResult, *,
                 survey_paths: Sequence[Path | str] = (), appraisal_paths: Sequence[Path | str] = (),
                 previous_path: Optional[Path | str] = None) -> dict:
    """The inputs of a round by role (criteria, evidence, survey, appraisal, previous), each path as
    given with every file read through it (`result.reads`) and the files its evidence cites."""
    from ..storage.bundle import InputRoot, cited_files, evidence_input_roots, input_roots

    reads = result.reads
    survey_cited = cited_files((mv.location.file, mv) for values in result.survey.values.values()
                               for mv in values.values())
    return {"criteria": [InputRoot(Path(criteria_path), (Path(criteria_path),))],
            "evidence": evidence_input_roots(evidence_paths, result.cited, reads.get("evidence", ())),
            "survey": input_roots(survey_paths, reads.get("survey", ()), input_files, survey_cited),
            "appraisal": input_roots(appraisal_paths, reads.get("appraisal", ()), input_files),
            "previous": [InputRoot(Path(previous_path), (Path(previous_path),))] if previous_path else []}


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
                staged: Optional["Staging"] = None) -> tuple[list[Path], str]:
    """Write the output folder of a round whose unit files its workers hold (engine.round.run.round_held)
    and its bundle, all or nothing (engine.storage.bundle.finish_run): the files and the bundle's sha256.
    `staged`: the staging folder (made for `out_dir`) the unit files were begun in as they were
    decided (round_held's `units_folder`), rather than a new one (which, should the writing fail,
    is removed once `pool`'s workers are ended: they may still be writing into it)."""
    from ..storage.bundle import BundleWriter, copy_inputs, finish_laid_out, lay_out_inputs, versions
    from ..storage.outdir import Staging
    from .output import write_round_files

    layout = lay_out_inputs(round_inputs(criteria_path, evidence_paths, result, survey_paths=survey_paths,
                                         appraisal_paths=appraisal_paths, previous_path=previous_path),
                            max_cited=max_cited)
    results = [f"units/{u.unit_id}.json" for u in result.units] + ["round.json"]
    with ExitStack() as stack:
        if staged is None:
            staged = stack.enter_context(Staging(out_dir, command="round"))
            # should the writing fail, the workers end before the folder they write into is removed
            stack.push(lambda kind, *_: kind is not None and pool.end_now())
        spool = stack.enter_context(staged.scratch())
        writer = BundleWriter(spool)

        def inputs_copied() -> None:
            """The inputs copied into the bundle's spool while the spawned workers write their unit
            files, each still the file the round read (`copy_inputs`). And the versions the bundle
            records looked up meanwhile (about 20 ms, once: `versions`)."""
            copy_inputs(writer, layout, result.stamps, result.criteria.content_hash)
            versions()

        parts = write_round_files(result, pool, staged, layout.names, inputs_copied)
        return finish_laid_out(staged, bundle_path, "round", layout, results, parts, result.engine,
                               about=_about(result), key=key, writer=writer)
