"""How a round's work is shared at run time: a piece is read by whichever process is free and
decided where it was read, a slow process reads fewer, and the workers end beside the bundle's
writing. None of it changes what is written."""
from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path

import pytest

from engine import load_criteria
from engine.round import run as run_module
from engine.round.bundle import round_bundle, write_round
from engine.round.output import round_files
from engine.round.pool import Host, Workers, claim, claims_file
from engine.round.run import round_held, run_round
from engine.round.units import RoundInputs, decided_units, held_files
from engine.storage.bundle import read_bundle
from rules import get_evaluator

DATA = Path(__file__).parent / "data" / "round"
ROLES = dict(survey_paths=[DATA / "survey"], appraisal_paths=[DATA / "appraisal"],
             previous_path=DATA / "previous" / "round-2022.json")


@pytest.fixture
def small_pieces(monkeypatch):
    """Five pieces (the CSV's two units one by one, the YAML files two by two)."""
    monkeypatch.setattr(run_module, "UNITS_PER_PIECE", 1)
    monkeypatch.setattr(run_module, "FILES_PER_PIECE", 2)


def _folder(path: Path) -> dict[str, bytes]:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def _whole_round(cs):
    """The round held whole in one process: its result, its files and its bundle."""
    whole = run_round(cs, [DATA / "evidence"], factory=get_evaluator, engine="reference", **ROLES)
    files = round_files(whole)
    return whole, files, round_bundle(DATA / "criteria.yaml", [DATA / "evidence"], whole, files, **ROLES)


def _written_as_whole(out: Path, digest: str, files: dict[str, bytes], bundle: bytes) -> None:
    """The folder `out` a round wrote holds the files and the bundle of the round held whole."""
    got = _folder(out)
    assert {k: v for k, v in got.items() if k not in ("bundle.cchc", ".cchc-out.json")} == files
    assert got["bundle.cchc"] == bundle and read_bundle(bundle).sha256 == digest


def test_a_piece_is_decided_by_the_process_that_read_it(small_pieces):
    """Read on demand: the spawned worker is sent the first two pieces (it has none to run yet),
    this process reads the next while it waits, and takes back those the worker has not begun
    when it has nothing else to do; each piece is decided where `_where` says it was read, what is
    held of every piece's unit files is in this process, and the evidence is that of one worker."""
    cs = load_criteria(DATA / "criteria.yaml")
    with Workers(cs, get_evaluator, "reference", 1, finish=decided_units, hold=held_files) as alone:
        whole = alone.read_and_decide([DATA / "evidence"], 1, 2, RoundInputs({}, {}))
    with Workers(cs, get_evaluator, "reference", 2, finish=decided_units, hold=held_files) as pool:
        shared = pool.read_and_decide([DATA / "evidence"], 1, 2, RoundInputs({}, {}))
        assert len(pool._where) == 5 and pool._where[0] == 1 and pool._where[2] == 0
        assert sorted(pool.host._held) == [0, 1, 2, 3, 4]
    inside = str(DATA)  # (a process's first read of a schema file is recorded too: not an input)
    assert shared == whole and pool.cited == alone.cited
    assert {r for r in pool.reads if r.startswith(inside)} == {r for r in alone.reads if r.startswith(inside)}


class _SlowFirstThere(Host):
    """A host whose spawned worker takes a second over piece 0 (the test's process: $CCHC_TEST_PARENT)."""

    def read_decide_piece(self, task):
        if task[0] == 0 and os.getpid() != int(os.environ["CCHC_TEST_PARENT"]):
            time.sleep(1.0)
        return Host.read_decide_piece(self, task)


def test_this_process_takes_back_a_piece_its_worker_has_not_begun(small_pieces, monkeypatch):
    """The spawned worker is sent pieces 0 and 1 and is slow over piece 0; this process reads the
    other three meanwhile and then, with nothing of its own left, takes piece 1 back (the worker
    has not begun it) rather than wait for the worker to do it after piece 0. The evidence is that
    of one worker."""
    monkeypatch.setenv("CCHC_TEST_PARENT", str(os.getpid()))
    cs = load_criteria(DATA / "criteria.yaml")
    with Workers(cs, get_evaluator, "reference", 1, finish=decided_units, hold=held_files) as alone:
        whole = alone.read_and_decide([DATA / "evidence"], 1, 2, RoundInputs({}, {}))
    pool = Workers(cs, get_evaluator, "reference", 2, finish=decided_units, hold=held_files)
    pool.host = _SlowFirstThere(cs, get_evaluator, "reference", decided_units, held_files)
    with pool:
        shared = pool.read_and_decide([DATA / "evidence"], 1, 2, RoundInputs({}, {}))
        assert pool._where == [1, 0, 0, 0, 0]
        assert sorted(pool.host._held) == [0, 1, 2, 3, 4]
        assert [kind for kind, _payload, _n in pool._results] == ["ok"] * 5
    assert shared == whole


def test_a_piece_is_claimed_by_one_process_only(tmp_path):
    """Whoever claims a piece first has it; the same process may claim it again, another may not."""
    import multiprocessing

    with claims_file(3) as claims:
        assert claim(claims, 1) and claim(claims, 1)
        with multiprocessing.get_context("spawn").Pool(1) as other:
            assert other.starmap(claim, [(claims, 1), (claims, 2), (claims, 2)]) == [False, True, True]
        assert not claim(claims, 2) and claim(claims, 0)
    assert not Path(claims).exists()


def test_a_stop_as_the_claims_file_is_made_leaves_none(monkeypatch, tmp_path):
    """A stop landing just as the claims file is made is taken once it is known to its removal."""
    import signal

    class Stopped(Exception):
        pass

    def stop(signum, frame):
        raise Stopped

    made = tempfile.mkstemp

    def made_then_stopped(*args, **kwargs):
        got = made(*args, **kwargs)
        signal.raise_signal(signal.SIGTERM)
        return got

    monkeypatch.setattr(tempfile, "mkstemp", made_then_stopped)
    before = signal.signal(signal.SIGTERM, stop)
    try:
        with pytest.raises(Stopped):
            with claims_file(3, str(tmp_path)):
                pass
    finally:
        signal.signal(signal.SIGTERM, before)
    assert os.listdir(tmp_path) == []


def test_the_claims_of_a_killed_run_are_removed_by_the_next(monkeypatch, tmp_path):
    """A run killed before it could remove its claims file leaves it behind; the next run's
    removes those of processes that no longer run, once a day untouched (a run in another process
    namespace sharing the folder is not seen to run), and no other: not one of a running process,
    not one touched within the day, not one whose name holds no process id (however it is written)."""
    import subprocess
    import sys
    import tempfile
    import time

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout.strip()
    old = time.time() - 2 * 24 * 3600
    names = {f"cchc-claims-{gone}-x1": old, f"cchc-claims-{gone}-x2": None, f"cchc-claims-{os.getpid()}-x3": old,
             "cchc-claims-x4": old, "cchc-claims-99999999999-x5": old, "cchc-claims-²-x6": old}
    for name, when in names.items():
        (tmp_path / name).write_bytes(b"")
        if when is not None:
            os.utime(tmp_path / name, (when, when))
    with claims_file(1) as claims:
        assert Path(claims).parent == tmp_path
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(set(names) - {f"cchc-claims-{gone}-x1"})


@pytest.fixture
def claims_removed(monkeypatch):
    """A cleaner of the temporary folder removes each claims file made there as soon as it is made."""
    from engine.round import pool as pool_module

    made = pool_module.claims_file

    @contextlib.contextmanager
    def removed_at_once(chunks, folder=None):
        with made(chunks, folder) as path:
            if folder is None:
                os.unlink(path)
            yield path

    monkeypatch.setattr(pool_module, "claims_file", removed_at_once)


@pytest.fixture
def claims_removed_once_taken(monkeypatch):
    """A cleaner of the temporary folder removes the claims file just after this process took a
    piece back: the worker it was sent to, finding no file, runs it too."""
    from engine.round import pool as pool_module

    real = pool_module.claim

    def claimed(path, chunk, back=False):
        got = real(path, chunk, back)
        if back and got and os.path.dirname(path) == tempfile.gettempdir():
            os.unlink(path)
        return got

    monkeypatch.setattr(pool_module, "claim", claimed)


def test_a_claims_file_removed_from_outside_leaves_the_round_to_run(small_pieces, claims_removed):
    """A cleaner of the temporary folder removes a running round's claims file: the pieces are
    read and decided where they were sent (none taken back), the evidence is the same, and
    nothing fails at the end."""
    cs = load_criteria(DATA / "criteria.yaml")
    with Workers(cs, get_evaluator, "reference", 1, finish=decided_units, hold=held_files) as alone:
        whole = alone.read_and_decide([DATA / "evidence"], 1, 2, RoundInputs({}, {}))
    with Workers(cs, get_evaluator, "reference", 2, finish=decided_units, hold=held_files) as pool:
        assert pool.read_and_decide([DATA / "evidence"], 1, 2, RoundInputs({}, {})) == whole


def test_a_piece_decided_twice_leaves_its_unit_files_whole(tmp_path, small_pieces, claims_removed_once_taken,
                                                          monkeypatch):
    """The claims file gone once this process took a piece back from its slow worker, the piece is
    decided by both: each unit file is begun by whichever comes first, and the folder and the
    bundle are those of the round held whole in one process."""
    from engine.storage.outdir import Staging

    monkeypatch.setenv("CCHC_TEST_PARENT", str(os.getpid()))
    cs = load_criteria(DATA / "criteria.yaml")
    whole, files, bundle = _whole_round(cs)
    pool = Workers(cs, get_evaluator, "reference", 2, finish=decided_units, hold=held_files)
    pool.host = _SlowFirstThere(cs, get_evaluator, "reference", decided_units, held_files)
    with pool, Staging(tmp_path / "out", command="round") as staged:
        with round_held(cs, [DATA / "evidence"], factory=get_evaluator, engine="reference", pool=pool,
                        units_folder=str(staged.folder("units")), **ROLES) as (result, _pool):
            assert pool._where == [1, 1, 0, 0, 0]  # piece 2 taken back (and decided by the worker too)
            _written, digest = write_round(DATA / "criteria.yaml", [DATA / "evidence"], result, pool,
                                           tmp_path / "out", tmp_path / "out" / "bundle.cchc", staged=staged, **ROLES)
    _written_as_whole(tmp_path / "out", digest, files, bundle)


def test_a_unit_file_begun_by_a_second_decision_of_its_piece_is_written_whole(tmp_path):
    """A unit whose file this process could not begin (the same piece, decided by another process
    too, began it first; that result was dropped) is written whole over what is there."""
    from engine.round.units import FileTarget, RoundUnit, write_held

    unit = RoundUnit("u", "U", "huyen", 1, 2, 1, 0, "ev", (), b'{"a":1,"standing":', b',"z":2}')
    path = tmp_path / "u.json"
    path.write_bytes(b'{"a":1,"standing":')  # what the other process began
    [(unit_id, placed)] = write_held([unit], FileTarget({}), {"u": (str(path), {"rank": 1})}, str(tmp_path / "spool"))
    assert path.read_bytes() == b'{"a":1,"standing":{"rank":1},"z":2}' == unit.file({"rank": 1})
    assert unit_id == "u" and (placed.offset, placed.size) == (0, len(path.read_bytes()))
    begun = RoundUnit("v", "V", "huyen", 1, 2, 1, 0, "ev", (), b'{"a":1,"standing":', b',"z":2}', begun=True)
    other = tmp_path / "v.json"
    other.write_bytes(begun.head)  # begun here, when it was decided
    write_held([begun], FileTarget({}), {"v": (str(other), {"rank": 2})}, str(tmp_path / "spool2"))
    assert other.read_bytes() == begun.file({"rank": 2})


class _MarkedThere(Host):
    """A host whose spawned worker takes half a second over each piece it reads, then leaves a mark
    in the folder $CCHC_TEST_MARKS."""

    def score_piece(self, task):
        if os.getpid() != int(os.environ["CCHC_TEST_PARENT"]):
            time.sleep(0.5)
            os.close(tempfile.mkstemp(dir=os.environ["CCHC_TEST_MARKS"])[0])
        return Host.score_piece(self, task)


def test_what_fails_beside_the_workers_tasks_waits_for_them(tmp_path, monkeypatch):
    """What this process does beside the tasks sent to its workers (`stream`'s `beside`) fails:
    the failure is raised once the tasks the worker was sent are done, so that nothing they write
    is left running into what the failure removes."""
    monkeypatch.setenv("CCHC_TEST_PARENT", str(os.getpid()))
    monkeypatch.setenv("CCHC_TEST_MARKS", str(tmp_path))
    pool = _pool_with_pieces()
    pool.host = _MarkedThere(pool.criteria, get_evaluator, "reference")

    def failing():
        raise RuntimeError("beside")

    with pool:
        places = [1, 1, 0, 1, 0]
        with pytest.raises(RuntimeError, match="beside"):
            list(pool.stream("score_piece", [(p, False) for p in pool._pieces], places=places,  # type: ignore[attr-defined]
                             ahead=5, beside=failing))
        assert len(list(tmp_path.iterdir())) == places.count(1)


def test_a_slow_process_reads_and_decides_fewer_pieces(tmp_path, small_pieces, monkeypatch):
    """When this process is slow (here: half a second a piece), the spawned worker reads and
    decides the pieces while this one is busy with its first; the folder and the bundle are those
    of the round held whole in one process."""
    cs = load_criteria(DATA / "criteria.yaml")
    whole, files, bundle = _whole_round(cs)
    read_decide_piece = Host.read_decide_piece

    def slow_here(self, task):  # the spawned worker imports Host afresh: only this process is slow
        time.sleep(0.5)
        return read_decide_piece(self, task)

    monkeypatch.setattr(Host, "read_decide_piece", slow_here)
    with round_held(cs, [DATA / "evidence"], factory=get_evaluator, engine="reference", workers=2,
                    **ROLES) as (result, pool):
        decided_in = list(pool._where)
        assert decided_in.count(0) <= 2 and decided_in.count(1) >= 3, decided_in
        assert sorted(pool.host._held) == list(range(len(decided_in)))
        _written, digest = write_round(DATA / "criteria.yaml", [DATA / "evidence"], result, pool, tmp_path / "out",
                                       tmp_path / "out" / "bundle.cchc", **ROLES)
    assert [u.unit_id for u in result.units] == [u.unit_id for u in whole.units]
    _written_as_whole(tmp_path / "out", digest, files, bundle)


def _worker_processes(pool: Workers) -> list:
    list(pool.stream("score_piece", [(p, False) for p in pool._pieces]))  # type: ignore[attr-defined]
    return [p for ex in pool._pools for p in ex._processes.values()]


def _pool_with_pieces(workers: int = 2) -> Workers:
    from engine.inputs.evidence import evidence_pieces, found_evidence_files
    from engine.inputs.tables import ProblemSink

    cs = load_criteria(DATA / "criteria.yaml")
    pool = Workers(cs, get_evaluator, "reference", workers)
    pool._pieces = evidence_pieces(found_evidence_files([DATA / "evidence"]), 1, 2, ProblemSink())  # type: ignore[attr-defined]
    return pool


def test_released_workers_end_and_are_awaited_when_the_block_ends():
    """`release` lets the spawned worker end while this process goes on (no task can be sent
    after); the block's end waits for it: no process is left."""
    with _pool_with_pieces() as pool:
        processes = _worker_processes(pool)
        assert processes and all(p.is_alive() for p in processes)
        pool.release()
        assert pool._pools == []
        assert list(pool.stream("score_piece", [(pool._pieces[0], False)]))  # type: ignore[attr-defined]  # here now
    assert all(not p.is_alive() and p.exitcode == 0 for p in processes)


def test_released_workers_of_a_failing_run_are_ended_too():
    """A run that fails after releasing its workers still leaves no process behind."""
    with pytest.raises(RuntimeError):
        with _pool_with_pieces() as pool:
            processes = _worker_processes(pool)
            pool.release()
            raise RuntimeError("failed while writing the bundle")
    assert all(not p.is_alive() for p in processes)
    assert os.getpid() not in [p.pid for p in processes]


def test_where_files_cannot_be_locked_nothing_is_claimed_nor_taken_back(small_pieces, monkeypatch):
    """Without `fcntl` (not a POSIX system) the pieces are read and decided as sent, none claimed:
    the evidence is the same."""
    import builtins

    cs = load_criteria(DATA / "criteria.yaml")
    with Workers(cs, get_evaluator, "reference", 1, finish=decided_units, hold=held_files) as alone:
        whole = alone.read_and_decide([DATA / "evidence"], 1, 2, RoundInputs({}, {}))
    real_import = builtins.__import__

    def no_fcntl(name, *args, **kwargs):
        if name == "fcntl":
            raise ImportError("no fcntl here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_fcntl)
    with claims_file(5) as claims:
        assert claims is None
    with Workers(cs, get_evaluator, "reference", 2, finish=decided_units, hold=held_files) as pool:
        shared = pool.read_and_decide([DATA / "evidence"], 1, 2, RoundInputs({}, {}))
        assert sorted(pool.host._held) == [0, 1, 2, 3, 4]
    assert shared == whole


def test_a_piece_taken_back_lets_go_of_what_was_read_of_it_ahead():
    """A worker started ahead read piece 1 before the round began; another process claimed it
    since: the worker skips it and lets go of what it read of it."""
    import multiprocessing

    from engine.inputs.evidence import evidence_pieces, found_evidence_files
    from engine.inputs.tables import ProblemSink
    from engine.round import pool as pool_module

    cs = load_criteria(DATA / "criteria.yaml")
    pieces = evidence_pieces(found_evidence_files([DATA / "evidence"]), 1, 2, ProblemSink())
    host = Host(cs, get_evaluator, "reference")
    pool_module._READ_AHEAD[1] = (pieces[1], cs, *host._read(pieces[1]))
    try:
        with claims_file(len(pieces)) as claims:
            with multiprocessing.get_context("spawn").Pool(1) as other:
                assert other.starmap(claim, [(claims, 1)]) == [True]
            assert host.read_decide_piece((1, pieces[1], claims)) == ("skipped", None, 0)
        assert 1 not in pool_module._READ_AHEAD
    finally:
        pool_module._READ_AHEAD.clear()
