"""The serial parts of a `cchc score` with two workers: with large evidence the spawned worker starts
before the evidence is indexed (its start-up runs beside the indexing), with small evidence (an
agency's one-unit pre-check) none is spawned; each unit's summary line is encoded where the unit was
decided. The bytes are those of one worker and of the in-memory path."""
from __future__ import annotations

import multiprocessing

import pytest

from builders import generated_evidence, scored_alike_by_one_and_two_workers

from engine.round import pool, scoring


@pytest.fixture
def indexing_seen(monkeypatch):
    """The number of child processes running each time a run starts indexing its evidence."""
    seen: list[int] = []
    index = scoring.evidence_pieces
    monkeypatch.setattr(scoring, "evidence_pieces",
                        lambda *args: seen.append(len(multiprocessing.active_children())) or index(*args))
    return seen


def test_a_large_runs_worker_is_running_while_the_evidence_is_indexed(cchc, tmp_path, monkeypatch, indexing_seen):
    monkeypatch.setattr(scoring, "UNITS_PER_PIECE", 3)
    monkeypatch.setattr(pool, "EARLY_START_BYTES", 0)
    criteria = generated_evidence(tmp_path / "ev", 7)
    scored_alike_by_one_and_two_workers(cchc, criteria, tmp_path / "ev", tmp_path, 7, 3)
    assert indexing_seen == [0, 1]  # one worker: nothing spawned; two: the other one already started
    assert multiprocessing.active_children() == []


def test_a_small_run_spawns_no_worker(cchc, tmp_path, indexing_seen):
    """Evidence under `EARLY_START_BYTES` (one unit: a single piece) never starts a spawned worker."""
    criteria = generated_evidence(tmp_path / "ev", 1)
    res = cchc("score", criteria, tmp_path / "ev", "--out", tmp_path / "out", "--workers", 2)
    assert res.exit_code == 0, res.stderr
    assert indexing_seen == [0]
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize("workers", [1, 2])
def test_a_refused_evidence_file_is_reported_as_before_and_the_early_worker_ends(cchc, tmp_path, monkeypatch,
                                                                                 workers):
    """A worker started before the indexing changes nothing of what a bad run reports, and leaves no
    process and no output behind."""
    monkeypatch.setattr(pool, "EARLY_START_BYTES", 0)
    criteria = generated_evidence(tmp_path / "ev", 3)
    csv = tmp_path / "ev" / "units.csv"
    csv.write_text(csv.read_text("utf-8").replace("unit_id,", "unit_idd,", 1), "utf-8")
    res = cchc("score", criteria, tmp_path / "ev", "--out", tmp_path / "out", "--workers", workers)
    assert res.exit_code == 2
    assert "units.csv:1:1" in res.stderr and "unit_id" in res.stderr, res.stderr
    assert not (tmp_path / "out").exists()
    assert multiprocessing.active_children() == []
    empty = tmp_path / "empty"
    empty.mkdir()
    res = cchc("score", criteria, empty, "--out", tmp_path / "out", "--workers", workers)
    assert res.exit_code == 2 and "no evidence files found" in res.stderr, res.stderr
    assert multiprocessing.active_children() == []
