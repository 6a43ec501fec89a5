"""Outputs are all or nothing: --out replaced in one step, kill -9 at named points, folders cchc does
not own refused, links never followed, file names from data checked, workers ending with their run."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.core.errors import InputError, OutputError
from engine.storage.outdir import CRASH_ENV, MARKER, check_names, recover, write_file, write_outputs

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"
SAMPLE = DATA / "sample-criteria.yaml"
ROUND = DATA / "round"
CLI = "import sys; from cli import app; sys.exit(app())"


def run(*args, env: dict | None = None, script: str = CLI) -> subprocess.CompletedProcess:
    """The command line in its own process (so that it can be killed)."""
    return subprocess.run([sys.executable, "-c", script, *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=300)


def here(*args) -> subprocess.CompletedProcess:
    """The command line in this process: for the runs that are not killed (a process's start-up
    costs more than a small run)."""
    from typer.testing import CliRunner

    from cli import app

    r = CliRunner().invoke(app, [str(a) for a in args])
    return subprocess.CompletedProcess(args, r.exit_code, r.stdout, r.stderr)


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.cchc-"))


def replay_identical(bundle: Path) -> None:
    r = here("replay", bundle)
    assert r.returncode == 0 and "identical" in r.stdout, r.stdout + r.stderr


# ---------------------------------------------------------------- kill -9 at every step of writing

@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    """Earlier results (two units) and what a new run (one unit) writes, each in its own folder."""
    base = tmp_path_factory.mktemp("scored")
    old, new = base / "old", base / "new"
    assert here("score", SAMPLE, DATA / "evidence", "--out", old).returncode == 0
    assert here("score", SAMPLE, DATA / "evidence" / "so-noi-vu.yaml", "--out", new).returncode == 0
    assert "units/xa-an-binh.json" in tree(old) and "units/xa-an-binh.json" not in tree(new)
    return tree(old), tree(new)


@pytest.mark.parametrize("point, survives", [("writing", "old"), ("staged", "old"), ("swapped", "new")])
def test_kill_9_while_score_writes_leaves_the_old_or_the_new_results_whole(tmp_path, scored, point, survives):
    old, new = scored
    out = tmp_path / "out"
    assert here("score", SAMPLE, DATA / "evidence", "--out", out).returncode == 0
    r = run("score", SAMPLE, DATA / "evidence" / "so-noi-vu.yaml", "--out", out, env={CRASH_ENV: point})
    assert r.returncode == -signal.SIGKILL
    assert tree(out) == (old if survives == "old" else new)  # every file, byte for byte; no stale unit file
    replay_identical(out / "bundle.cchc")
    assert leftovers(out)  # what the killed run left beside OUT …
    assert here("score", SAMPLE, DATA / "evidence" / "so-noi-vu.yaml", "--out", out).returncode == 0
    assert tree(out) == new and leftovers(out) == []  # … the next run clears


def _round_args(evidence: Path) -> list:
    return ["round", ROUND / "criteria.yaml", "--evidence", evidence, "--survey", ROUND / "survey",
            "--appraisal", ROUND / "appraisal", "--previous", ROUND / "previous" / "round-2022.json", "-j", "1"]


@pytest.mark.parametrize("point, survives", [("writing", "old"), ("swapped", "new")])
def test_kill_9_while_round_writes_leaves_the_old_or_the_new_results_whole(tmp_path, point, survives):
    fewer = tmp_path / "evidence"
    shutil.copytree(ROUND / "evidence", fewer)
    (fewer / "kho-bac.yaml").unlink()
    out, ref = tmp_path / "out", tmp_path / "ref"
    assert here(*_round_args(ROUND / "evidence"), "--out", out).returncode == 0
    old = tree(out)
    assert here(*_round_args(fewer), "--out", ref).returncode == 0
    new = tree(ref)
    assert "units/kho-bac.json" in old and "units/kho-bac.json" not in new
    r = run(*_round_args(fewer), "--out", out, env={CRASH_ENV: point})
    assert r.returncode == -signal.SIGKILL
    assert tree(out) == (old if survives == "old" else new)
    replay_identical(out / "bundle.cchc")


FALLBACK = ("import sys; import engine.storage.outdir as o; o._exchange = lambda *a: False; from cli import app; "
            "sys.exit(app())")


def test_without_an_atomic_exchange_a_kill_between_the_two_renames_is_recovered(tmp_path, scored):
    """Where folders cannot be exchanged, OUT is renamed aside, then the new folder in: killed in
    between, OUT is missing; the next reader (or writer) puts the previous results back."""
    old, new = scored
    out = tmp_path / "out"
    assert here("score", SAMPLE, DATA / "evidence", "--out", out).returncode == 0
    r = run("score", SAMPLE, DATA / "evidence" / "so-noi-vu.yaml", "--out", out, env={CRASH_ENV: "aside"},
            script=FALLBACK)
    assert r.returncode == -signal.SIGKILL and not out.exists()
    rep = run("report", "unit", out, "--criteria", SAMPLE, "--out", tmp_path / "reports")
    assert rep.returncode == 0, rep.stderr
    assert tree(out) == old and sorted(p.name for p in (tmp_path / "reports").glob("*.html")) == \
        ["so-noi-vu.html", "xa-an-binh.html"]
    # killed after both renames: the new results stand, the old copy is removed by the next run
    r = run("score", SAMPLE, DATA / "evidence" / "so-noi-vu.yaml", "--out", out, env={CRASH_ENV: "swapped"},
            script=FALLBACK)
    assert r.returncode == -signal.SIGKILL and tree(out) == new and leftovers(out)
    assert run("score", SAMPLE, DATA / "evidence" / "so-noi-vu.yaml", "--out", out, script=FALLBACK).returncode == 0
    assert tree(out) == new and leftovers(out) == []


def test_recover_does_nothing_to_a_folder_that_is_there(tmp_path):
    write_outputs(tmp_path / "out", {"a.json": b"{}\n"}, command="score")
    recover(tmp_path / "out" / "a.json")
    assert tree(tmp_path / "out") == {"a.json": b"{}\n", MARKER: (tmp_path / "out" / MARKER).read_bytes()}


# ---------------------------------------------------------------- what --out may be

def test_a_run_replaces_its_folder_whole(tmp_path):
    out = tmp_path / "out"
    write_outputs(out, {"units/a.json": b"1", "units/b.json": b"2", "summary.json": b"s"}, command="score")
    write_outputs(out, {"units/a.json": b"3", "summary.json": b"t"}, command="score")
    assert sorted(tree(out)) == [MARKER, "summary.json", "units/a.json"]
    marker = json.loads((out / MARKER).read_text("utf-8"))
    assert marker == {"format": "cchc-out/1", "command": "score", "files": ["summary.json", "units/a.json"]}


@pytest.mark.parametrize("setup, message", [
    (lambda out: out.write_text("x"), "is a file, not a folder"),
    (lambda out: (out.mkdir(), (out / "notes.txt").write_text("mine")), "was not written by cchc"),
    (lambda out: out.symlink_to(out.parent / "elsewhere", target_is_directory=True), "is a symbolic link"),
])
def test_a_folder_cchc_does_not_own_is_refused_and_left_alone(tmp_path, setup, message):
    (tmp_path / "elsewhere").mkdir()
    out = tmp_path / "out"
    setup(out)
    before = tree(tmp_path)
    with pytest.raises(OutputError, match=message):
        write_outputs(out, {"summary.json": b"{}"}, command="score")
    assert tree(tmp_path) == before and leftovers(out) == []


def test_files_added_to_an_output_folder_or_another_command_are_not_replaced(tmp_path):
    out = tmp_path / "out"
    write_outputs(out, {"a.html": b"a"}, command="report unit")
    with pytest.raises(OutputError, match="holds the output of `cchc report unit`"):
        write_outputs(out, {"province.html": b"p"}, command="report province")
    (out / "ghi-chu.txt").write_text("my notes")
    with pytest.raises(OutputError, match=r"holds files cchc did not write there \(ghi-chu.txt\)"):
        write_outputs(out, {"a.html": b"b"}, command="report unit")
    assert (out / "a.html").read_bytes() == b"a"


def test_a_planted_link_in_the_output_folder_is_never_followed(tmp_path, cchc):
    out, victim = tmp_path / "out", tmp_path / "victim"
    victim.mkdir()
    assert cchc("score", SAMPLE, DATA / "evidence", "--out", out).exit_code == 0
    shutil.rmtree(out / "units")
    (out / "units").symlink_to(victim, target_is_directory=True)
    r = cchc("score", SAMPLE, DATA / "evidence", "--out", out)
    assert r.exit_code == 2 and "units (a symbolic link), which no cchc run writes" in r.stderr, r.stderr
    assert list(victim.iterdir()) == []


def test_out_on_a_file_or_in_a_read_only_folder_is_exit_2(tmp_path, cchc, monkeypatch):
    f = tmp_path / "file"
    f.write_text("keep me")
    r = run("score", SAMPLE, DATA / "evidence", "--out", f)
    assert r.returncode == 2 and "is a file, not a folder" in r.stderr and f.read_text() == "keep me"
    locked = tmp_path / "ro"
    locked.mkdir(mode=0o555)
    os.chmod(locked, 0o555)
    if os.geteuid() == 0:  # root writes anywhere: the folder refuses as it would refuse a user
        real_mkdir = os.mkdir

        def mkdir(path, *args, **kwargs):
            if Path(path).parent == locked:
                raise PermissionError(13, "Permission denied", str(path))
            return real_mkdir(path, *args, **kwargs)

        monkeypatch.setattr(os, "mkdir", mkdir)
    r = cchc("midyear", ROOT / "criteria" / "tien-giang-2023-province.yaml",
             ROOT / "examples" / "tien-giang-2020-4thang" / "evidence", "--elapsed", "4/12", "--out", locked / "out")
    assert r.exit_code == 2, r.output
    assert "cannot write the results to" in r.stderr and "Permission denied" in r.stderr
    assert "Traceback" not in r.stderr and list(locked.iterdir()) == []


# ---------------------------------------------------------------- names from data

def test_a_single_output_file_is_replaced_whole_and_never_through_a_link(tmp_path):
    target = tmp_path / "form.xlsx"
    write_file(target, b"old")
    write_file(target, b"new")
    assert target.read_bytes() == b"new" and sorted(p.name for p in tmp_path.iterdir()) == ["form.xlsx"]
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"keep")
    (tmp_path / "link.xlsx").symlink_to(outside)
    with pytest.raises(OutputError, match="symbolic link"):
        write_file(tmp_path / "link.xlsx", b"x")
    with pytest.raises(OutputError, match="is a folder"):
        write_file(tmp_path, b"x")
    assert outside.read_bytes() == b"keep"


def test_a_unit_called_summary_is_written_and_reported(tmp_path, cchc):
    ev = tmp_path / "ev"
    ev.mkdir()
    text = (DATA / "evidence" / "so-noi-vu.yaml").read_text("utf-8").replace("id: so-noi-vu", "id: summary")
    assert "id: summary" in text
    (ev / "summary.yaml").write_text(text, "utf-8")
    out = tmp_path / "out"
    assert cchc("score", SAMPLE, ev, DATA / "evidence" / "communes.csv", "--out", out).exit_code == 0
    assert (out / "units" / "summary.json").is_file() and (out / "summary.json").is_file()
    r = cchc("report", "unit", out, "--criteria", SAMPLE, "--out", tmp_path / "reports")
    assert r.exit_code == 0, r.stderr
    assert sorted(p.name for p in (tmp_path / "reports").glob("*.html")) == ["summary.html", "xa-an-binh.html"]
    r = cchc("report", "province", out, "--criteria", SAMPLE, "--format", "md", "--out", tmp_path / "province")
    assert r.exit_code == 0 and "| 1 | Sở Nội vụ | 13,50 |" in (tmp_path / "province" / "province.md").read_text("utf-8")


@pytest.mark.parametrize("uid", ["../../x", "/tmp/abs", "a/b", "con", "NUL.txt", "lpt1", "a\x00b", "..", ".hidden",
                                 "x" * 101, "dot.", "Sở"])
def test_a_unit_id_that_cannot_name_a_file_is_refused(tmp_path, cchc, uid):
    out = tmp_path / "out"
    assert cchc("score", SAMPLE, DATA / "evidence", "--out", out).exit_code == 0
    doc = json.loads((out / "units" / "so-noi-vu.json").read_text("utf-8"))
    doc["unit"]["id"] = uid
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc), "utf-8")
    r = cchc("report", "unit", bad, "--criteria", SAMPLE, "--out", tmp_path / "reports" / "r")
    assert r.exit_code == 2, r.output
    assert str(bad) in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "reports").exists() and not (tmp_path / "x.html").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json", "out"]


def test_unit_ids_differing_only_in_case_are_refused():
    with pytest.raises(InputError, match="differ only in case"):
        check_names({"so-noi-vu": "a.yaml", "So-Noi-Vu": "b.yaml"})
    check_names({"so-noi-vu": "a.yaml", "xa-an-binh": "b.yaml", "summary": "c.yaml"})


# ---------------------------------------------------------------- links in inputs

def test_a_linked_evidence_file_or_folder_is_refused_by_name(tmp_path, cchc):
    secret = tmp_path / "secret.yaml"
    secret.write_text("TOP-SECRET-LINE: 1\n", "utf-8")
    ev = tmp_path / "ev"
    shutil.copytree(DATA / "evidence", ev)
    (ev / "x.yaml").symlink_to(secret)
    r = cchc("score", SAMPLE, ev, "--out", tmp_path / "out")
    assert r.exit_code == 2 and f"{ev / 'x.yaml'}: is a symbolic link (to {secret})" in r.stderr, r.stderr
    assert "TOP-SECRET" not in r.output and not (tmp_path / "out").exists()
    (ev / "x.yaml").unlink()
    (ev / "more").symlink_to(tmp_path, target_is_directory=True)
    r = cchc("round", ROUND / "criteria.yaml", "--evidence", ROUND / "evidence", "--survey", ev,
             "--out", tmp_path / "out", "-j", 1)
    assert r.exit_code == 2 and f"{ev / 'more'}: is a symbolic link" in r.stderr, r.stderr


def test_a_cited_file_reached_through_a_link_is_refused_even_inside_the_folder(tmp_path):
    from engine.core.errors import Location
    from engine.inputs.evidence import _inside
    from engine.inputs.tables import ProblemSink

    ev = tmp_path / "ev"
    (ev / "real").mkdir(parents=True)
    (ev / "real" / "tasks.csv").write_text("task,lead,deadline\nA,B,Quý I\n", "utf-8")
    (ev / "sub").symlink_to(ev / "real", target_is_directory=True)
    sink = ProblemSink()
    assert _inside(ev, "real/tasks.csv", Location("here"), sink) == (ev / "real" / "tasks.csv").resolve()
    assert _inside(ev, "sub/tasks.csv", Location("here"), sink) is None
    assert f"{ev / 'sub'} is a symbolic link" in str(sink.problems[0])


# ---------------------------------------------------------------- workers end with their run

def _children(pid: int) -> set[int]:
    found = set()
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(d.name))
    return found


def _many_units(tmp_path: Path, count: int = 3000) -> Path:
    """A folder `ev` of `count` YAML units: more than a run does before it is signalled."""
    ev = tmp_path / "ev"
    ev.mkdir()
    text = (ROUND / "evidence" / "kho-bac.yaml").read_text("utf-8")
    for i in range(count):
        (ev / f"u{i:04}.yaml").write_text(text.replace("id: kho-bac", f"id: kho-bac-{i:04}"), "utf-8")
    return ev


def _begun(tmp_path: Path, code: str, *args: object, new_session: bool = False) -> subprocess.Popen:
    """`python -c code args` (a command line writing into `tmp_path`/out), once its staging folder
    is made: the run has begun (a stop before ends it at once). Its standard error is piped.
    `new_session`: its own process group (a terminal's Ctrl-C is sent to the group)."""
    proc = subprocess.Popen([sys.executable, "-c", code, *map(str, args)], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=new_session)
    _until(tmp_path / ".out.cchc-new-*", proc)
    return proc


def _until(path: Path, proc: subprocess.Popen) -> None:
    """Wait until `path` (a pattern) exists while `proc` runs."""
    deadline = time.monotonic() + 90
    while not list(path.parent.glob(path.name)) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    assert proc.poll() is None and list(path.parent.glob(path.name)), f"{path} was not seen while the run ran"


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
@pytest.mark.parametrize("count", [3, 2])  # two spawned processes; one, forked on Linux (commands/early.py)
def test_workers_end_when_the_round_is_killed(tmp_path, sig, count):
    ev = _many_units(tmp_path)  # (the round is never let finish)
    proc = subprocess.Popen([sys.executable, "-c", CLI, "round", str(ROUND / "criteria.yaml"), "--evidence", str(ev),
                             "--no-survey", "--out", str(tmp_path / "out"), "--workers", str(count)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: set[int] = set()  # the round's process is worker 0: the others are its children (not its resource tracker)
    deadline = time.monotonic() + 60
    while len(workers) < count - 1 and time.monotonic() < deadline and proc.poll() is None:
        workers |= {c for c in _children(proc.pid) if "resource_tracker" not in Path(f"/proc/{c}/cmdline").read_text()}
        time.sleep(0.05)
    assert len(workers) == count - 1, "the round ended before its workers were seen"
    time.sleep(0.5)  # the workers are busy now
    assert proc.poll() is None, "the round ended before it was signalled"
    proc.send_signal(sig)
    proc.wait(timeout=60)
    deadline = time.monotonic() + 15
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    still = [w for w in workers if _alive(w)]
    for w in still:
        os.kill(w, signal.SIGKILL)
    assert still == [], f"workers {still} outlived their round (signal {sig.name})"
    assert not (tmp_path / "out").exists()
    if sig != signal.SIGKILL:  # stopped as by Ctrl-C: its staging folder removed too
        assert proc.returncode == 130 and sorted(os.listdir(tmp_path)) == ["ev"]


def test_concurrent_runs_into_one_folder_take_turns(tmp_path):
    """Two runs writing the same OUT at once: each replacement is whole; the last one stands."""
    import threading

    out = tmp_path / "out"
    sets = {n: {f"units/{n}-{i}.json": f"{n}{i}".encode() for i in range(20)} for n in ("a", "b")}
    errors = []

    def writer(n: str) -> None:
        try:
            for _ in range(15):
                write_outputs(out, sets[n], command="score")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in sets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    got = {k: v for k, v in tree(out).items() if k != MARKER}
    assert got in (sets["a"], sets["b"]) and leftovers(out) == []


def test_a_ctrl_c_ends_the_round_even_when_its_ending_hangs(tmp_path):
    """Ctrl-C ends a `cchc round` started from the command line: should the round's own ending (its
    workers stopped, its folder removed) not be over within `INTERRUPT_GRACE` seconds, the process
    ends all the same with exit 130."""
    from commands.early import INTERRUPT_GRACE

    ev = _many_units(tmp_path)
    hanging = ("import time; from engine.round import pool; "
               "pool.Workers.__exit__ = lambda self, *exc: time.sleep(1000); " + CLI)  # an ending that never ends
    proc = _begun(tmp_path, hanging, "round", ROUND / "criteria.yaml", "--evidence", ev, "--no-survey",
                  "--out", tmp_path / "out", "--workers", 2)
    assert proc.poll() is None and _children(proc.pid), "the round ended before it was signalled"
    proc.send_signal(signal.SIGINT)
    start = time.monotonic()
    assert proc.wait(timeout=INTERRUPT_GRACE + 30) == 130
    assert INTERRUPT_GRACE <= time.monotonic() - start + 0.5  # the grace, not sooner: the ending was let run
    assert "Traceback" not in proc.stderr.read()


@pytest.mark.parametrize("command", ["round", "score"])
def test_stops_while_the_run_ends_do_not_cut_its_ending_short(tmp_path, command):
    """Ctrl-C pressed again (or SIGTERM sent) while an interrupted run removes what it wrote: the
    removal is not cut short, "interrupted" is said once, no traceback, nothing left."""
    ev = _many_units(tmp_path)
    slow = ("import time; from engine.storage import outdir; discard = outdir.Staging._discard; "
            "outdir.Staging._discard = lambda self: (open(self.out.parent / 'ending', 'w').close(), time.sleep(1.5), "
            "discard(self)); " + CLI)  # a removal that takes its time
    args = ["--evidence", ev, "--no-survey"] if command == "round" else [ev]
    proc = _begun(tmp_path, slow, command, ROUND / "criteria.yaml", *args, "--out", tmp_path / "out", "--workers", 2)
    proc.send_signal(signal.SIGINT)
    _until(tmp_path / "ending", proc)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGINT):  # as it removes its staging folder
        time.sleep(0.1)
        proc.send_signal(sig)
    _out, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in stderr, stderr
    assert stderr.count("interrupted") == 1, stderr
    assert sorted(os.listdir(tmp_path)) == ["ending", "ev"]


def test_a_stop_as_the_stopped_run_exits_does_not_change_its_exit_code(tmp_path):
    """A SIGTERM once an interrupted run has said so, while Python ends (which gives back each
    signal's default action), is ignored: the run ends with its own exit code, 130, not killed."""
    ev = _many_units(tmp_path)
    mark = tmp_path / "exiting"
    slow = ("import os, time\n"
            "class Slow:\n"
            "    def __del__(self, open=open, sleep=time.sleep):  # run as Python ends, after it gave back\n"
            f"        open({str(mark)!r}, 'w').close()  # the signals' default actions (and its builtins)\n"
            "        sleep(1.5)\n"
            "slow = Slow()\n" + CLI)
    proc = _begun(tmp_path, slow, "round", ROUND / "criteria.yaml", "--evidence", ev, "--no-survey",
                  "--out", tmp_path / "out", "--workers", 1)
    proc.send_signal(signal.SIGINT)
    _until(mark, proc)
    proc.send_signal(signal.SIGTERM)
    _out, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130 and stderr.count("interrupted") == 1, (proc.returncode, stderr)
    assert sorted(os.listdir(tmp_path)) == ["ev", "exiting"]


@pytest.mark.parametrize("command", ["round", "score"])
@pytest.mark.parametrize("when", ["as they are put in place", "once they are"])
def test_a_stop_once_the_results_are_in_place_changes_nothing(tmp_path, command, when):
    """Ctrl-C landing as the new results replace OUT, or after (while the run says what it did,
    or Python ends): the run is done, its results stand, and it says so, exit 0."""
    ev = _many_units(tmp_path, 30)
    stop = "import os, signal; os.kill(os.getpid(), signal.SIGINT)"
    if when == "as they are put in place":
        code = ("from engine.storage import outdir; swap = outdir._swap\n"
                f"def _swap(*args):\n    swap(*args)\n    {stop}\n"
                "outdir._swap = _swap\n")
    else:
        code = ("from engine.storage import outdir; finish = outdir.Staging.finish\n"
                f"def _finish(self):\n    done = finish(self)\n    {stop}\n    return done\n"
                "outdir.Staging.finish = _finish\n")
    args = ["--evidence", ev, "--no-survey"] if command == "round" else [ev]
    proc = subprocess.run([sys.executable, "-c", code + CLI, command, ROUND / "criteria.yaml", *args,
                           "--out", tmp_path / "out", "--workers", "2"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0 and "interrupted" not in proc.stderr, proc.stderr
    assert "bundle" in proc.stdout and len(list((tmp_path / "out" / "units").iterdir())) == 30
    assert sorted(os.listdir(tmp_path)) == ["ev", "out"]


def test_a_stop_that_lands_in_a_finalizer_still_stops_the_run(tmp_path):
    """Python reports an exception raised in an object's finalizer and drops it: a Ctrl-C landing
    there is taken once the finalizer is over, and the run stops as for any Ctrl-C."""
    ev = _many_units(tmp_path)
    mark = tmp_path / "finalizing"
    code = ("import time; from engine.storage import outdir\n"
            "class Slow:\n"
            "    def __del__(self):\n"
            f"        open({str(mark)!r}, 'w').close()\n"
            "        time.sleep(1.5)\n"
            "made = outdir.Staging._open\n"
            "def _open(self, *args):\n"
            "    made(self, *args)\n"
            "    Slow()  # finalized at once, as the run begins\n"
            "outdir.Staging._open = _open\n")
    proc = _begun(tmp_path, code + CLI, "round", ROUND / "criteria.yaml", "--evidence", ev, "--no-survey",
                  "--out", tmp_path / "out", "--workers", 1)
    _until(mark, proc)
    proc.send_signal(signal.SIGINT)
    _out, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Exception ignored" not in stderr, (proc.returncode, stderr)
    assert stderr.count("interrupted") == 1, stderr
    assert sorted(os.listdir(tmp_path)) == ["ev", "finalizing"]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_round_stopped_before_it_begins_ends_its_spawned_workers_without_a_word(tmp_path):
    """Stopped while still starting, a round of three workers (spawned first thing) ends at once,
    exit 130: its workers killed, and their semaphores let go, so that multiprocessing's resource
    tracker has no "leaked semaphore objects" to warn of once the round is gone."""
    mark = tmp_path / "started"
    code = ("import sys, time; from commands import early\n"
            "early.start(sys.argv, command_line=True, first_thing=True)  # as cli.py does, first thing\n"
            f"open({str(mark)!r}, 'w').close()\n"
            "time.sleep(30)  # still starting\n" + CLI)
    proc = subprocess.Popen([sys.executable, "-c", code, "round", str(ROUND / "criteria.yaml"), "--evidence",
                             str(ROUND / "evidence"), "--no-survey", "--out", str(tmp_path / "out"), "--workers", "3"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _until(mark, proc)
    workers = {c for c in _children(proc.pid) if "resource_tracker" not in Path(f"/proc/{c}/cmdline").read_text()}
    assert len(workers) == 2
    time.sleep(0.5)  # the workers busy starting
    proc.send_signal(signal.SIGINT)
    _out, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130 and stderr == "", stderr
    assert not any(_alive(w) for w in workers)
    assert sorted(os.listdir(tmp_path)) == ["started"]


def test_a_stop_as_a_failed_staging_lets_go_of_its_lock_closes_it_once(tmp_path, monkeypatch):
    """A stop landing just as the staging folder's lock is closed (its run failing) is the error
    that ends the run: the lock is not closed twice (a "bad file descriptor", or another's file)."""
    from engine.storage import outdir

    real = os.close
    closes = []
    with pytest.raises(KeyboardInterrupt):
        with outdir.Staging(tmp_path / "out", command="score") as staged:
            staged.add("a.json", b"{}")
            lock = staged._lock

            def close(fd):
                real(fd)
                if fd == lock:
                    closes.append(fd)
                    raise KeyboardInterrupt

            def full(*_args):
                raise OSError(28, "No space left on device")

            monkeypatch.setattr(os, "close", close)
            monkeypatch.setattr(outdir, "_check_replaceable", full)
            staged.finish()
    assert closes == [lock] and os.listdir(tmp_path) == []


@pytest.mark.parametrize("command", ["score", "round"])
def test_a_ctrl_c_to_the_whole_terminal_as_a_worker_starts_prints_no_traceback(tmp_path, command):
    """A Ctrl-C reaches a spawned worker still starting (Python's own start-up, before its handlers
    are set): it starts with Ctrl-C held back, so it neither dies with Python's "Fatal error" nor
    prints a traceback; the run ends as it does for any Ctrl-C. (`score` spawns its worker once
    it has begun; `round` of three workers spawns them first thing.)"""
    ev = _many_units(tmp_path, 300)
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(  # a spawned worker's start-up made long enough to be hit
        "import os, sys, time\n"
        "if 'spawn_main' in ' '.join(sys.orig_argv):  # each worker its own file, made at once\n"
        "    os.close(os.open(os.path.join(os.environ['CCHC_TEST_STARTING'], str(os.getpid())), os.O_CREAT))\n"
        "    time.sleep(1.5)\n", "utf-8")
    starting = tmp_path / "starting"
    starting.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "CCHC_TEST_STARTING": str(starting)}
    args = ["--evidence", str(ev), "--no-survey", "--workers", "3"] if command == "round" else [str(ev), "--workers", "2"]
    proc = subprocess.Popen([sys.executable, "-c", CLI, command, str(ROUND / "criteria.yaml"), *args,
                             "--out", str(tmp_path / "out")], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    _until(starting / "*", proc)
    os.kill(int(next(starting.iterdir()).name), signal.SIGINT)  # the worker first: its Ctrl-C is taken at once
    time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)
    _out, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "Traceback" not in stderr and "Fatal Python error" not in stderr, stderr
    assert sorted(os.listdir(tmp_path)) == ["ev", "site", "starting"]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
@pytest.mark.parametrize("count", [3, 2])
def test_a_ctrl_c_to_the_whole_terminal_stops_the_round_without_a_traceback(tmp_path, count):
    """A Ctrl-C reaches every process of the terminal, the round's workers too: they leave it to
    the round, which ends them, says "interrupted" and removes what it wrote — no worker prints a
    traceback."""
    ev = _many_units(tmp_path)
    # signalled once its staging folder is made: a worker then waits for its first piece
    proc = _begun(tmp_path, CLI, "round", ROUND / "criteria.yaml", "--evidence", ev, "--no-survey",
                  "--out", tmp_path / "out", "--workers", count, new_session=True)
    os.killpg(proc.pid, signal.SIGINT)
    _out, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in stderr, stderr
    assert sorted(os.listdir(tmp_path)) == ["ev"]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
@pytest.mark.parametrize("count", [1, 2])
def test_a_score_stopped_as_it_writes_leaves_nothing(tmp_path, sig, count):
    """`cchc score` started from the command line, stopped (SIGTERM, Ctrl-C) once its unit files
    are being written: exit 130, its workers ended, nothing left beside --out."""
    ev = _many_units(tmp_path)
    proc = subprocess.Popen([sys.executable, "-c", CLI, "score", str(ROUND / "criteria.yaml"), str(ev),
                             "--out", str(tmp_path / "out"), "--workers", str(count)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 90
    while len(list(tmp_path.glob(".out.cchc-new-*/units/*.json"))) < 50 and time.monotonic() < deadline \
            and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it was signalled"
    workers = _children(proc.pid)
    proc.send_signal(sig)
    _out, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in stderr, stderr
    deadline = time.monotonic() + 15
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(w) for w in workers)
    assert sorted(os.listdir(tmp_path)) == ["ev"]
