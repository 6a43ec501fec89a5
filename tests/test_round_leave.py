"""A `cchc round` started from the command line ends as soon as its round has succeeded, without
the interpreter's teardown (commands/early.py `leave`): everything it printed still reaches its
reader, its exit functions run, and its exit status and files are those of the round run in
this process (where nothing ends early)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from commands import early

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data" / "round"
ROUND = ("round", DATA / "criteria.yaml", "--evidence", DATA / "evidence", "--survey", DATA / "survey",
         "--appraisal", DATA / "appraisal", "--previous", DATA / "previous" / "round-2022.json", "--rows", 3)

# run as `cchc` runs: the command line, then (the round succeeded) an exit function that must run
PROGRAM = """
import atexit, os, sys
sys.argv[0] = "cchc"
atexit.register(lambda: print("exit functions ran"))  # left in the buffer
from cli import app
if os.environ.get("PROFILED"):
    sys.setprofile(lambda *args: None)
try:
    app()
finally:
    print("torn down", file=sys.stderr)  # as always: a profiler writes what it found then
"""


def _folder(path: Path) -> dict[str, bytes]:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("workers", [1, 2])
def test_a_round_from_the_command_line_ends_at_once_with_all_it_printed(cchc, tmp_path, workers):
    here = cchc(*ROUND, "--out", tmp_path / "here", "-j", workers)
    assert here.exit_code == 0 and not early._LEAVING  # in this process: nothing ended it
    env = {**{k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}, "PYTHONPATH": str(ROOT)}  # buffered output
    run = subprocess.run([sys.executable, "-c", PROGRAM, *map(str, ROUND), "--out", str(tmp_path / "there"),
                          "-j", str(workers)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.endswith("exit functions ran\n") and "torn down" not in run.stderr
    printed = run.stdout[:-len("exit functions ran\n")].replace(str(tmp_path / "there"), str(tmp_path / "here"))
    tail = here.stdout[here.stdout.index("7 unit(s)"):]  # after the tables: the files written, the bundle, its sha256
    assert "sha256" in tail and printed.endswith(tail)
    assert _folder(tmp_path / "here") == _folder(tmp_path / "there")


def test_a_failing_round_from_the_command_line_exits_as_always(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-c", PROGRAM, "round", str(DATA / "criteria.yaml"), "--evidence",
                          str(tmp_path / "none"), "--out", str(tmp_path / "out"), "--no-survey"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 2 and "exit functions ran" in run.stdout
    assert not (tmp_path / "out").exists()


def test_a_profiled_round_ends_as_always(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PROFILED": "1"}
    run = subprocess.run([sys.executable, "-c", PROGRAM, *map(str, ROUND), "--out", str(tmp_path / "out")],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and "torn down" in run.stderr and "exit functions ran" in run.stdout
