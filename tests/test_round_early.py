"""`cchc round` with its spawned workers started before the command line is read
(commands/early.py), adopted by the round's `Workers`: the same bytes as one worker, a clear error
when such a worker has stopped, and none left running when it is not wanted."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from commands import early
from engine.round import pool, run
from rules import get_evaluator

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data" / "round"
ROUND = ("round", DATA / "criteria.yaml", "--evidence", DATA / "evidence", "--survey", DATA / "survey",
         "--appraisal", DATA / "appraisal", "--previous", DATA / "previous" / "round-2022.json", "--rows", 0)


@pytest.fixture(autouse=True)
def nothing_left_ahead():
    yield
    early._end_unused()


def _folder(path: Path) -> dict[str, bytes]:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def _processes(executors) -> list:
    return [p for ex in executors for p in (getattr(ex, "_processes", None) or {}).values()]


def _ended(process, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while process.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    return not process.is_alive()


@pytest.mark.parametrize("argv, workers", [
    (["cchc", "round", "c.yaml", "--evidence", "ev", "-j", "2"], 2),
    (["cchc", "round", "c.yaml", "--workers", "3", "--evidence", "ev"], 3),
    (["cchc", "round", "c.yaml", "--workers=4"], 4),
    (["cchc", "round", "c.yaml", "-j5"], 5),
    (["cchc", "round", "c.yaml", "-j", "2", "--workers", "1"], 1),  # the last one given counts, as for click
    (["cchc", "round", "c.yaml"], os.cpu_count() or 1),  # none given: one per core
    (["cchc", "round", "c.yaml", "-j", "0"], os.cpu_count() or 1),
    (["cchc", "round", "c.yaml", "-j", "two"], None),  # refused when parsed: no guess
    (["cchc", "round", "c.yaml", "-j"], None),
    (["cchc", "round", "--help", "-j", "2"], None),
    (["cchc", "round", "c.yaml", "--", "-j", "2"], os.cpu_count() or 1),  # after `--`, not an option
    (["cchc", "score", "c.yaml", "ev", "-j", "2"], None),
    (["cchc", "--version"], None),
    (["cchc"], None),
])
def test_what_a_round_command_line_asks_for(argv, workers):
    assert early.round_workers(argv) == workers


def test_no_worker_is_started_ahead_for_one_worker_or_another_command():
    for argv in (["cchc", "round", "c.yaml", "-j", "1"], ["cchc", "score", "c.yaml", "ev", "-j", "2"]):
        early.start(argv)
        assert early.taken() == []


def test_workers_started_ahead_write_the_same_bytes(cchc, tmp_path, monkeypatch):
    """A round whose spawned worker was started before its command line was read writes what
    one worker writes, bundle included; that worker is the one the round uses (adopted, none
    started besides), and it decided and wrote pieces of its own."""
    monkeypatch.setattr(run, "UNITS_PER_PIECE", 1)  # five pieces: both processes get some
    monkeypatch.setattr(run, "FILES_PER_PIECE", 2)
    made, ran = [], []
    init, stream = pool.Workers.__init__, pool.Workers.stream

    def recording_init(self, *args, **kwargs):
        init(self, *args, **kwargs)
        made.append((self.workers, len(self._ahead)))

    def recording_stream(self, task, chunks, *args, **kwargs):
        done = kwargs.setdefault("ran", [0] * len(chunks))
        yield from stream(self, task, chunks, *args, **kwargs)
        ran.append((task, list(done)))

    monkeypatch.setattr(pool.Workers, "__init__", recording_init)
    monkeypatch.setattr(pool.Workers, "stream", recording_stream)
    assert cchc(*ROUND, "--out", tmp_path / "one", "--workers", 1).exit_code == 0
    early.start(["cchc", "round", "criteria.yaml", "--workers", "2"])
    [ahead] = early._AHEAD
    started = _processes([ahead])
    res = cchc(*ROUND, "--out", tmp_path / "two", "--workers", 2)
    assert res.exit_code == 0, res.stderr
    assert _folder(tmp_path / "one") == _folder(tmp_path / "two")
    assert made == [(1, 0), (2, 1)] and early.taken() == []
    assert len(started) == 1 and _ended(started[0])  # it ended with the round
    assert any(1 in done for task, done in ran if task == "read_decide_piece")


def test_a_worker_started_ahead_that_stopped_is_reported_clearly(cchc, tmp_path):
    """A worker started ahead that dies before the round adopts it: the round stops with the
    message a stopped worker always gives (exit 3), and writes nothing."""
    early.start(["cchc", "round", "criteria.yaml", "-j", "2"])
    [process] = _processes(early._AHEAD)
    os.kill(process.pid, signal.SIGKILL)
    assert _ended(process)
    res = cchc(*ROUND, "--out", tmp_path / "out", "--workers", 2)
    assert res.exit_code == 3, res.stdout + res.stderr
    assert "a worker process stopped before it finished; run again with --workers 1 to see why" in res.stderr
    assert not (tmp_path / "out").exists()


def test_workers_started_ahead_and_not_wanted_end_at_once():
    """More started ahead than the round asks for: the others end when the pool is made; none
    adopted (a command line refused when parsed): all end before this process would wait for them."""
    early.start(["cchc", "round", "criteria.yaml", "-j", "3"])
    first, second = early._AHEAD
    [kept], [other] = _processes([first]), _processes([second])
    with pool.Workers(None, get_evaluator, "reference", 2, ahead=early.taken()) as workers:
        assert workers._pools == [first]
        assert _ended(other, 10)
        assert workers._submit(1, os.getpid).result(timeout=60) == kept.pid
    early.start(["cchc", "round", "criteria.yaml", "-j", "2"])
    [unused] = _processes(early._AHEAD)
    early._end_unused()
    assert early._AHEAD == [] and _ended(unused, 10) and unused.exitcode == -signal.SIGTERM


def test_a_worker_is_forked_only_for_one_worker_on_linux_from_a_process_of_one_thread(monkeypatch):
    argv = ["cchc", "round", "c.yaml", "--evidence", "ev", "-j", "2"]
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    assert early.forks(argv)
    for other in (argv[:-1] + ["3"], argv[:-1] + ["1"], ["cchc", "score", "c.yaml", "ev", "-j", "2"], ["cchc"]):
        assert not early.forks(other)
    monkeypatch.setattr(threading, "active_count", lambda: 2)
    assert not early.forks(argv)
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    monkeypatch.setattr(sys, "platform", "darwin")
    assert not early.forks(argv)


# `cchc round -j 2` as the command line starts it: its worker, once running, has the command line
# of a copy of this process (forked), not that of a new Python (spawned: `-c from multiprocessing…`),
# and was forked first thing: before the command line imported typer, which the worker never does
FORKED = """
import os, sys
sys.argv = ["cchc", "round", "criteria.yaml", "-j", "2"]


def imported(name):
    return name in sys.modules


import cli
from commands import early
[ahead] = early._AHEAD
worker = ahead.submit(os.getpid).result(timeout=60)
with open(f"/proc/{worker}/cmdline", "rb") as theirs, open("/proc/self/cmdline", "rb") as ours:
    print(worker != os.getpid(), theirs.read() == ours.read())
print(imported("typer"), not ahead.submit(imported, "typer").result(timeout=60))
print(ahead.submit(imported, "engine.round.run").result(timeout=60))
early._end_unused()
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a round's worker is forked on Linux only")
def test_the_command_line_forks_its_worker_first_thing():
    run = subprocess.run([sys.executable, "-c", FORKED], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.stdout.split() == ["True"] * 5, run.stderr


# a round's worker started first thing gives back the evidence's pieces while this process may
# still be importing the engine on its main thread: taking them in must import nothing of it
# (the executor's thread would import the engine's modules beside the main thread: a module half
# made, a deadlock, or a broken pool)
INDEXED = """
import sys
sys.argv = ["cchc", "round", sys.argv[1], "--evidence", sys.argv[2], "-j", "2"]
from commands import early
early.start(sys.argv, command_line=True, first_thing=True)
[indexed] = early._INDEXED
print(indexed.result(timeout=60) is not None, "engine" not in sys.modules)
early._end_unused()
"""


def test_the_pieces_cut_ahead_come_back_without_importing_the_engine():
    data = ROOT / "tests" / "data" / "round"
    run = subprocess.run([sys.executable, "-c", INDEXED, str(data / "criteria.yaml"), str(data / "evidence")],
                         cwd=ROOT, capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.stdout.split() == ["True", "True"], run.stderr


STOPPED = """
import os, signal, sys, time
from commands import early

early.start(["cchc", "round", "c.yaml", "--evidence", "ev", "--workers", "3"], command_line=True, first_thing=True)
print(*[p.pid for ex in early._AHEAD for p in ex._processes.values()], flush=True)
if sys.argv[1] == "begun":
    early.begun()
try:
    os.kill(os.getpid(), getattr(signal, sys.argv[2]))
    time.sleep(30)
except KeyboardInterrupt:
    print("raised")
    sys.exit(130)
"""


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="reads /proc")
@pytest.mark.parametrize("name", ["SIGINT", "SIGTERM"])
def test_a_round_stopped_while_it_starts_ends_at_once_and_its_body_ends_itself(name):
    """Stopped (Ctrl-C, SIGTERM) before the command's body runs (importing, reading its command
    line: `early.begun` not yet called), a round ends at once, exit 130, without a traceback, its
    workers started ahead ended; once the body runs, the stop is raised there (KeyboardInterrupt),
    which ends the round as it should."""
    for when, raised in (("starting", False), ("begun", True)):
        done = subprocess.run([sys.executable, "-c", STOPPED, when, name], cwd=ROOT, capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 130 and ("raised" in done.stdout) == raised, (when, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
        workers = [int(pid) for pid in done.stdout.split("\n")[0].split()]
        assert len(workers) == 2
        deadline = time.monotonic() + 15
        while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(Path(f"/proc/{pid}").exists() for pid in workers), "a worker started ahead outlived it"
