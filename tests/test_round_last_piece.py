"""The main process's last piece of a round stays with it unless a spawned worker has nothing
waiting: handed to a busy worker, it would leave the main process waiting for both pieces with
nothing of its own to do (engine/round/pool.py `stream`'s `own`)."""
from __future__ import annotations

import os
import time
from pathlib import Path

from engine import load_criteria
from engine.round import pool as pool_module
from engine.round.run import round_held
from rules import get_evaluator

DATA = Path(__file__).parent / "data" / "round"


def _slow_there(held, _context, parent):
    """The spawned worker's piece is slow: it is still running when the main process comes to its own."""
    if os.getpid() != parent:
        time.sleep(1.0)
    return os.getpid()


def _where() -> list[int]:
    cs = load_criteria(DATA / "criteria.yaml")
    with round_held(cs, [DATA / "evidence"], factory=get_evaluator, engine="reference", workers=2) as (_r, pool):
        assert len(pool._where) == 2  # the CSV file's units, the YAML files
        pool.everywhere(None)
        return list(pool.finish_held(_slow_there, lambda units: (os.getpid(),)))


def test_the_last_piece_is_not_handed_to_a_busy_worker(monkeypatch, pieces_read_at):
    """Piece 0 read (and held) by the worker, piece 1 here: the worker, with one waiting, would be
    done no sooner than this process, so the last piece is run here while the worker runs its own."""
    pieces_read_at([1, 0], movable=("held",))
    worker, here = _where()
    assert worker != os.getpid() and here == os.getpid()


def test_a_piece_before_the_last_is_still_handed_over(monkeypatch, pieces_read_at):
    """Both pieces here, the worker idle: the first is handed to it, the last then stays here."""
    pieces_read_at([0, 0], movable=("held",))
    first, last = _where()
    assert first != os.getpid() and last == os.getpid()
