"""A round's inputs are copied for its bundle while its units are decided (engine.round.bundle.
RoundLayout with `spool_in`), into a file with no name: the bundle written from those copies is
the one written from the inputs at the end, and nothing is left behind, whether the round
succeeds or fails."""
from __future__ import annotations

import os
from pathlib import Path

from engine import load_criteria
from engine.round.bundle import RoundLayout, write_round
from engine.round.run import round_held
from rules import get_evaluator

DATA = Path(__file__).parent / "data" / "round"
ROLES = dict(survey_paths=[DATA / "survey"], appraisal_paths=[DATA / "appraisal"],
             previous_path=DATA / "previous" / "round-2022.json")
ROUND = ("round", DATA / "criteria.yaml", "--evidence", DATA / "evidence", "--survey", DATA / "survey",
         "--appraisal", DATA / "appraisal", "--previous", DATA / "previous" / "round-2022.json", "--rows", 0)


def _folder(path: Path) -> dict[str, bytes]:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def _round(out: Path, spool_in, workers: int) -> RoundLayout:
    cs = load_criteria(DATA / "criteria.yaml")
    laid_out = RoundLayout(DATA / "criteria.yaml", [DATA / "evidence"], max_cited=None, spool_in=spool_in, **ROLES)
    with round_held(cs, [DATA / "evidence"], factory=get_evaluator, engine="reference", workers=workers,
                    checked=laid_out, **ROLES) as (result, pool):
        if spool_in is not None:  # copied before the round's end
            layout = laid_out.layout(result)
            assert layout.files and all(name in laid_out.writer for name in layout.files)
        write_round(DATA / "criteria.yaml", [DATA / "evidence"], result, pool, out, out / "bundle.cchc",
                    laid_out=laid_out, **ROLES)
    return laid_out


def test_the_bundle_written_from_the_inputs_copied_early_is_the_same(tmp_path):
    spool = tmp_path / "spool"
    spool.mkdir()
    for workers in (1, 2):
        _round(tmp_path / f"late{workers}", None, workers)
        early = _round(tmp_path / f"early{workers}", spool, workers)
        assert early.writer is None  # let go
        assert _folder(tmp_path / f"early{workers}") == _folder(tmp_path / f"late{workers}")
    assert os.listdir(spool) == []


def test_a_round_failing_after_its_inputs_were_copied_leaves_nothing(cchc, tmp_path):
    """The bundle refused after the inputs were copied (here: --bundle names a folder): the error
    as always, and nothing written, nothing left beside the output folder."""
    (tmp_path / "folder").mkdir()
    res = cchc(*ROUND, "--out", tmp_path / "out", "--bundle", tmp_path / "folder", "-j", 2)
    assert res.exit_code == 2
    assert "is a folder; --bundle names the bundle file to write" in res.stderr
    assert sorted(os.listdir(tmp_path)) == ["folder"] and os.listdir(tmp_path / "folder") == []
