"""Each spawned worker of a round, its unit files written, brings what is written to the disk
(engine.storage.outdir.flush_file_system) beside the main process's writing of round.json and the
bundle, before it ends: the run's own sync at the end then has less to wait for, and what is
written does not change."""
from __future__ import annotations

import os
from pathlib import Path

from engine import load_criteria
from engine.storage import outdir
from engine.round.bundle import write_round
from engine.round.pool import Workers
from engine.round.run import round_held
from rules import get_evaluator

DATA = Path(__file__).parent / "data" / "round"


def _marked(folder: str) -> None:
    Path(folder, f"ran-in-{os.getpid()}").touch()


def test_a_released_worker_runs_its_last_task_before_it_ends(tmp_path):
    cs = load_criteria(DATA / "criteria.yaml")
    with Workers(cs, get_evaluator, "reference", 2) as pool:
        pool.start()
        pool.release(_marked, str(tmp_path))
    [marker] = os.listdir(tmp_path)  # awaited when the block ended
    assert marker != f"ran-in-{os.getpid()}"


def test_the_workers_flush_the_staging_folder_once_their_files_are_written(tmp_path, monkeypatch):
    released = []
    release = Workers.release

    def recorded(self, *last):
        released.append((last, len(os.listdir(Path(last[1]) / "units"))))
        release(self, *last)

    monkeypatch.setattr(Workers, "release", recorded)
    cs = load_criteria(DATA / "criteria.yaml")
    with round_held(cs, [DATA / "evidence"], factory=get_evaluator, engine="reference", workers=2) as (result, pool):
        write_round(DATA / "criteria.yaml", [DATA / "evidence"], result, pool, tmp_path / "out",
                    tmp_path / "out" / "bundle.cchc")
    [((func, folder), written)] = released
    assert func is outdir.flush_file_system and written == len(result.units)  # the staging folder, its unit files written
    assert not Path(folder).exists() and (tmp_path / "out" / "round.json").exists()


def test_flushing_a_folder_that_is_gone_does_nothing(tmp_path):
    outdir.flush_file_system(str(tmp_path))
    outdir.flush_file_system(str(tmp_path / "gone"))
