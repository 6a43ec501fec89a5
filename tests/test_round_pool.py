"""How a round's two processes share the work: the main process never waits for a spawned worker
while it has a piece of its own to do, takes back what a worker has not begun once it has nothing
else, and starts its workers without importing the command line."""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from engine import load_criteria
from engine.round import pool as pool_module, run as run_module
from engine.round.run import round_held
from engine.storage.bundle import BundleError
from rules import get_evaluator

DATA = Path(__file__).parent / "data" / "round"
ROLES = dict(survey_paths=[DATA / "survey"], appraisal_paths=[DATA / "appraisal"],
             previous_path=DATA / "previous" / "round-2022.json")


@pytest.fixture
def small_pieces(monkeypatch):
    """Five pieces (the CSV's two units one by one, the YAML files two by two): the spawned worker
    is sent pieces 0 to 2 to read (it has none to run yet), the main process reads piece 3 while
    it waits (engine/round/pool.py `stream`), and each decides what it read; the unit files are
    then finished by whichever is free."""
    monkeypatch.setattr(run_module, "UNITS_PER_PIECE", 1)
    monkeypatch.setattr(run_module, "FILES_PER_PIECE", 2)


def _held_pieces(tmp_path: Path, func, given):
    cs = load_criteria(DATA / "criteria.yaml")
    with round_held(cs, [DATA / "evidence"], factory=get_evaluator, engine="reference", workers=2,
                    **ROLES) as (result, pool):
        pool.everywhere(str(tmp_path))
        got = list(pool.finish_held(func, given))
        assert pool.host._held == {}
    assert sorted(u for g in got for u in g[0]) == sorted(u.unit_id for u in result.units)  # each unit once
    return got


def _after_signal(held, folder, piece, parent):
    """Piece 1 is finished only once piece 2 has begun."""
    signal = Path(folder) / "signal"
    if piece == "piece 1":
        deadline = time.monotonic() + 30
        while not signal.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
    if piece == "piece 2":
        signal.touch()
    return tuple(u.unit_id for u in held), signal.exists(), os.getpid()


def test_a_piece_a_worker_has_not_begun_is_taken_back(tmp_path, small_pieces):
    """The spawned worker is sent the first three pieces to finish at once; piece 1 waits for
    piece 2, which waits behind it there. This process, with nothing else to do, takes piece 2
    back and runs it (and piece 1 too, if the worker has not begun it): without that, the round
    would wait 30 s and piece 1 would come back without the signal."""
    numbers = iter(range(5))
    start = time.monotonic()
    got = _held_pieces(tmp_path, _after_signal, lambda units: (f"piece {next(numbers)}", os.getpid()))
    assert time.monotonic() - start < 20
    assert got[1][1] is True  # piece 1 saw the signal piece 2 gave
    assert got[2][2] == os.getpid()


def _written_where(held, _folder, parent):
    """A piece's units, and the process that finished them."""
    return tuple(u.unit_id for u in held), os.getpid()


def _slow_here(held, folder, parent):
    """This process's pieces are slow."""
    if os.getpid() == parent:
        time.sleep(1.0)
    return _written_where(held, folder, parent)


def _slow_there(held, folder, parent):
    """The spawned worker's pieces are slow: whatever it is sent waits behind what it runs. Each
    piece finished is noted in `folder`'s ran.log."""
    if os.getpid() != parent:
        time.sleep(1.0)
    with open(Path(folder) / "ran.log", "a", encoding="utf-8") as log:
        log.write(" ".join(u.unit_id for u in held) + "\n")
    return _written_where(held, folder, parent)


@pytest.mark.parametrize("read_at", [[0, 0, 0, 0, 0], [1, 1, 1, 1, 1]])
def test_the_unit_files_go_to_the_worker_that_is_free(tmp_path, small_pieces, pieces_read_at, read_at):
    """Wherever the pieces were decided (here: all by this process, or all by the spawned worker),
    their unit files are finished by whichever process is free: this process, slow, finishes one
    while the worker finishes the rest, sent to it with what this process holds of them."""
    pieces_read_at(read_at)
    got = _held_pieces(tmp_path, _slow_here, lambda units: (os.getpid(),))
    here = [pid == os.getpid() for _units, pid in got]
    assert not here[0] and sum(here) <= 1


@pytest.mark.parametrize("read_at", [[0, 0, 0, 0, 0], [1, 1, 1, 1, 1]])
def test_unit_files_a_slow_worker_has_not_begun_are_taken_back(tmp_path, small_pieces, pieces_read_at, read_at):
    """The spawned worker slow: once this process has finished the pieces no worker was free for,
    it takes back every piece the worker has not begun, so the worker finishes only the one it
    began, and skips those taken back (none is finished twice)."""
    pieces_read_at(read_at)
    got = _held_pieces(tmp_path, _slow_there, lambda units: (os.getpid(),))
    here = [pid == os.getpid() for _units, pid in got]
    assert here == [False, True, True, True, True]
    ran = (tmp_path / "ran.log").read_text(encoding="utf-8").splitlines()  # the worker's skipped ones done too
    assert sorted(ran) == sorted(" ".join(units) for units, _pid in got)

SCRIPT = """
import os
import sys
from pathlib import Path

import typer  # imported again by a worker that ran this script as its main module

from engine import load_criteria
from engine.round.run import round_held
from rules import get_evaluator
from probe import modules


def main(data):
    cs = load_criteria(Path(data) / "criteria.yaml")
    with round_held(cs, [Path(data) / "evidence"], factory=get_evaluator, engine="reference", workers=2) as (_r, pool):
        pool.everywhere(None)
        print((os.getpid(), sorted(set(pool.finish_held(modules, lambda units: ())))))


if __name__ == "__main__":
    main(sys.argv[1])
"""

PROBE = """
import os
import sys


def modules(_held, _context):
    main = sys.modules.get("__mp_main__")
    return (os.getpid(), getattr(main, "__file__", None) is not None, "typer" in sys.modules,
            "jsonschema" in sys.modules)
"""


def test_a_spawned_worker_imports_neither_the_main_script_nor_jsonschema(tmp_path):
    """A program (here a script that imports typer, as `cchc` does) whose workers would run it
    again as their main module: they do not, and they do not import jsonschema either (the
    main process checks every document it reads)."""
    import ast
    import subprocess

    (tmp_path / "script.py").write_text(SCRIPT, encoding="utf-8")
    (tmp_path / "probe.py").write_text(PROBE, encoding="utf-8")
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, str(tmp_path / "script.py"), str(DATA)], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    main, got = ast.literal_eval(done.stdout)
    assert {g[1:3] for g in got if g[0] == main} <= {(True, True)}  # its script and typer (the probe sees them)
    assert {g[1:] for g in got if g[0] != main} == {(False, False, False)}  # piece 1 at least


def test_a_large_rounds_worker_starts_before_the_criteria_set_is_read(cchc, tmp_path, monkeypatch):
    """`cchc round` makes its workers first: with large evidence (here: any) the spawned worker is
    running while the criteria set is read, and the round writes what it always wrote."""
    import multiprocessing

    from commands import round as command

    monkeypatch.setattr(pool_module, "EARLY_START_BYTES", 0)
    seen = []
    load = command.load_criteria
    monkeypatch.setattr(command, "load_criteria",
                        lambda path: seen.append(len(multiprocessing.active_children())) or load(path))
    res = cchc("round", DATA / "criteria.yaml", "--evidence", DATA / "evidence", "--no-survey",
               "--out", tmp_path / "out", "--workers", 2)
    assert res.exit_code == 0, res.stderr
    assert seen == [1]
    assert multiprocessing.active_children() == []


def test_a_bad_criteria_set_is_reported_first_and_the_early_worker_ends(cchc, tmp_path, monkeypatch):
    """Workers made before the criteria set is read change nothing of what a bad run reports: the
    criteria set's problem (not the missing evidence folder's), and no process is left."""
    import multiprocessing

    monkeypatch.setattr(pool_module, "EARLY_START_BYTES", 0)
    bad = tmp_path / "criteria.yaml"
    bad.write_text("id: x\n", encoding="utf-8")
    res = cchc("round", bad, "--evidence", tmp_path / "nowhere", "--no-survey", "--out", tmp_path / "out",
               "--workers", 2)
    assert res.exit_code == 2 and "criteria.yaml" in res.stderr and "nowhere" not in res.stderr, res.stderr
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize("started_ahead", [False, True])
def test_the_pipes_to_and_from_a_worker_hold_a_handed_over_piece_whole(started_ahead):
    """What crosses at once (the round's other inputs, a piece handed over) is written in one go,
    not 64 KiB at a time, to a worker the pool spawns as to one started ahead (commands/early.py)
    that it adopts."""
    fcntl = pytest.importorskip("fcntl")
    if not hasattr(fcntl, "F_GETPIPE_SZ"):
        pytest.skip("pipe sizes are Linux's")
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    ahead = [ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=pool_module._start_worker, initargs=(os.getpid(), None))]
    cs = load_criteria(DATA / "criteria.yaml")
    with pool_module.Workers(cs, get_evaluator, "reference", 2, ahead=ahead if started_ahead else ()) as pool:
        assert (pool._pools[0] is ahead[0]) == started_ahead
        for executor in pool._pools:
            for connection in (executor._result_queue._reader, executor._call_queue._writer):
                assert fcntl.fcntl(connection.fileno(), fcntl.F_GETPIPE_SZ) >= pool_module.PIPE_BYTES
    ahead[0].shutdown()


def test_what_a_worker_gave_is_let_go_once_it_is_taken(tmp_path):
    """A spawned worker's results are held by the pool only until they are taken: memory does not
    grow with the number of pieces (each piece's results come back through a future, which the
    pool lets go once its worker has moved on)."""
    import gc
    import weakref

    from engine.inputs.evidence import load_evidence
    from engine.round.pool import Workers
    from builders import generated_evidence

    criteria = load_criteria(generated_evidence(tmp_path / "ev", 48))
    records = list(load_evidence([tmp_path / "ev"], criteria).records)
    alive, held = [], []
    with Workers(criteria, get_evaluator, "reference", 2) as pool:
        for chunk in pool.decided(records):
            alive.append(weakref.ref(chunk[0]))
            del chunk
            gc.collect()
            held.append(sum(ref() is not None for ref in alive))
    # the last taken, and at most one more (the executor's thread keeps the last result it received)
    assert len(held) == 8 and max(held) <= 2, held


def test_what_a_process_holds_of_a_piece_until_its_ranking_is_packed(small_pieces):
    """A round holds each unit's encoded file from its deciding to its ranking: pickled and
    compressed, each piece's held files take a fraction of their bytes, and come back the same."""
    cs = load_criteria(DATA / "criteria.yaml")
    with round_held(cs, [DATA / "evidence"], factory=get_evaluator, engine="reference", workers=1,
                    **ROLES) as (result, pool):
        held = dict(pool.host._held)
    assert sorted(held) == list(range(5)) and all(isinstance(packed, bytes) for packed in held.values())
    units = [u for packed in held.values() for u in pool_module._unpacked(packed)]
    assert sorted(u.unit_id for u in units) == sorted(u.unit_id for u in result.units)
    files = sum(len(u.head) + len(u.tail) for u in units)
    assert sum(map(len, held.values())) * 3 < files


def test_a_spawned_worker_takes_stops_again_once_started():
    """A spawned worker starts with Ctrl-C and SIGTERM held back (engine.core.stops) and takes them
    again once its handlers are set: a pool left with an error ends it at once (SIGTERM), not once
    the task it runs is done."""
    cs = load_criteria(DATA / "criteria.yaml")
    with pytest.raises(RuntimeError):
        with pool_module.Workers(cs, get_evaluator, "reference", 2) as pool:
            worker = pool._submit(1, os.getpid).result(timeout=60)  # started, its handlers set
            assert worker != os.getpid()
            pool._submit(1, time.sleep, 120)
            time.sleep(0.3)  # taken up by the worker
            left = time.monotonic()
            raise RuntimeError
    assert time.monotonic() - left < 60
    with pytest.raises(ProcessLookupError):
        os.kill(worker, 0)
