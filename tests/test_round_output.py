"""Where a round's work runs: the process that runs the round is worker 0 and takes its share of
the pieces; each unit's file is finished and written by the worker that decided the unit, and what
the bundle holds of it (its input paths as the bundle names them) is made there too."""
from __future__ import annotations

import contextlib
import errno
import io
import os
import shutil
from pathlib import Path

import pytest

from engine import load_criteria
from engine.core.errors import OutputError
from engine.inputs.evidence import evidence_pieces, found_evidence_files
from engine.inputs.tables import ProblemSink
from engine.round import run as run_module
from engine.round.bundle import round_bundle, write_round
from engine.round.output import round_files
from engine.round.pool import Workers, _unpacked, claims_file
from engine.round.run import round_held, run_round
from engine.round.units import RoundInputs, decided_units, held_files
from engine.storage.bundle import read_bundle
from engine.storage.outdir import Staging
from rules import get_evaluator

DATA = Path(__file__).parent / "data" / "round"
ROUND = ("round", DATA / "criteria.yaml", "--evidence", DATA / "evidence", "--survey", DATA / "survey",
         "--appraisal", DATA / "appraisal", "--previous", DATA / "previous" / "round-2022.json", "--rows", 0)
ROLES = dict(survey_paths=[DATA / "survey"], appraisal_paths=[DATA / "appraisal"],
             previous_path=DATA / "previous" / "round-2022.json")


def _folder(path: Path) -> dict[str, bytes]:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


@pytest.fixture
def small_pieces(monkeypatch):
    """Five pieces (the CSV's two units one by one, the YAML files two by two)."""
    monkeypatch.setattr(run_module, "UNITS_PER_PIECE", 1)
    monkeypatch.setattr(run_module, "FILES_PER_PIECE", 2)


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_this_process_takes_three_tasks_for_every_four_of_a_spawned_worker(n):
    pool = Workers(None, get_evaluator, "reference", n)  # type: ignore[arg-type]
    share = [pool.worker_of(k) for k in range(7 * (4 * n - 1))]
    assert sorted(set(share)) == list(range(n))
    if n > 1:
        assert {w: share.count(w) for w in range(n)} == {0: 21, **{w: 28 for w in range(1, n)}}
    assert share == [pool.worker_of(k) for k in range(len(share))]  # always the same worker for a task


def test_this_process_is_worker_0_and_takes_its_share_of_the_pieces():
    """Two workers are this process and one spawned process: piece k is read and decided by
    worker `worker_of(k)` (this process: pieces 0, 2 and 4), and wherever it was decided, what is
    held of its unit files until the ranking comes back with it, packed."""
    cs = load_criteria(DATA / "criteria.yaml")
    files = found_evidence_files([DATA / "evidence"])
    pieces = evidence_pieces(files, 1, 2, ProblemSink())
    assert len(pieces) == 5
    with Workers(cs, get_evaluator, "reference", 2, finish=decided_units, hold=held_files) as pool:
        assert len(pool._pools) == 1  # one process spawned for two workers
        pool.everywhere(RoundInputs({}, {}))
        ran = [-1] * len(pieces)
        with claims_file(len(pieces)) as claims:
            read = list(pool.stream("read_decide_piece", [(k, p, claims) for k, p in enumerate(pieces)], ran=ran))
        assert ran == [0, 1, 0, 1, 0]
        assert [len(r[1][1]) for r in read] == [1, 1, 2, 2, 1]  # every piece came back, in order
        assert [len(_unpacked(r[1][5])) for r in read] == [1, 1, 2, 2, 1]  # …with its held unit files
        assert pool.host._held == {}  # (kept by `read_and_decide`, not by the stream)
    with Workers(cs, get_evaluator, "reference", 1, finish=decided_units, hold=held_files) as pool:
        pool.everywhere(RoundInputs({}, {}))
        with claims_file(len(pieces)) as claims:
            read = list(pool.stream("read_decide_piece", [(k, p, claims) for k, p in enumerate(pieces)]))
        assert [len(_unpacked(r[1][5])) for r in read] == [1, 1, 2, 2, 1] and pool._pools == []


@pytest.mark.parametrize("begun", [False, True])
@pytest.mark.parametrize("workers", [1, 2])
def test_held_unit_files_are_the_files_and_bundle_of_a_whole_round(tmp_path, small_pieces, workers, begun):
    """A round whose unit files stay in its workers writes exactly the folder and the bundle that
    the round held whole in this process writes (`round_files`, `round_bundle`); `begun`, each
    unit file begun in the staging folder as soon as its unit is decided, up to its standing."""
    cs = load_criteria(DATA / "criteria.yaml")
    whole = run_round(cs, [DATA / "evidence"], factory=get_evaluator, engine="reference", **ROLES)
    files = round_files(whole)
    bundle = round_bundle(DATA / "criteria.yaml", [DATA / "evidence"], whole, files, **ROLES)
    with contextlib.ExitStack() as stack:
        staged = stack.enter_context(Staging(tmp_path / "out", command="round")) if begun else None
        folder = str(staged.folder("units")) if staged is not None else None
        result, pool = stack.enter_context(round_held(cs, [DATA / "evidence"], factory=get_evaluator,
                                                      engine="reference", workers=workers, units_folder=folder,
                                                      **ROLES))
        assert all(u.held and not u.head and not u.tail for u in result.units)
        with pytest.raises(AssertionError):
            result.units[0].file({})
        if begun:  # each file as far as its standing, before the round is ranked
            for unit in result.units:
                data = (Path(folder) / f"{unit.unit_id}.json").read_bytes()
                assert files[f"units/{unit.unit_id}.json"].startswith(data) and data.endswith(b'"standing":')
        written, digest = write_round(DATA / "criteria.yaml", [DATA / "evidence"], result, pool, tmp_path / "out",
                                      tmp_path / "out" / "bundle.cchc", staged=staged, **ROLES)
    got = _folder(tmp_path / "out")
    assert {k: v for k, v in got.items() if k not in ("bundle.cchc", ".cchc-out.json")} == files
    assert got["bundle.cchc"] == bundle and read_bundle(bundle).sha256 == digest
    assert sorted(written) == sorted(tmp_path / "out" / name for name in [*files, "bundle.cchc"])


def test_a_unit_file_that_cannot_be_written_fails_the_round_and_leaves_nothing(tmp_path, monkeypatch, cchc):
    """A unit file the worker cannot write (here: the disk is full) is reported as the output
    folder's error, and neither the folder nor a staging folder is left behind."""
    from engine.storage import outdir

    def full(path, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(outdir, "write_new", full)
    res = cchc("round", DATA / "criteria.yaml", "--evidence", DATA / "evidence", "--no-survey",
               "--out", tmp_path / "out", "--workers", 1)
    assert res.exit_code != 0 and "cannot write the results to" in res.stderr and "No space left" in res.stderr
    assert list(tmp_path.iterdir()) == []


def test_every_worker_is_handed_the_context_before_its_held_tasks(small_pieces, pieces_read_at):
    """What is held of every piece's unit files is in this process once the pieces are decided,
    wherever each was decided (here: 0 and 2 by the spawned worker). `Workers.everywhere` reaches
    this process and the spawned one before the held tasks sent after it; each held task gets what
    is held of its piece, once, and it is let go once the piece is done."""
    pieces_read_at([1, 0, 1, 0, 0])
    cs = load_criteria(DATA / "criteria.yaml")
    with round_held(cs, [DATA / "evidence"], factory=get_evaluator, engine="reference", workers=2,
                    **ROLES) as (result, pool):
        assert sorted(pool.host._held) == [0, 1, 2, 3, 4]
        pool.everywhere("ctx")
        got = list(pool.finish_held(_what_is_held, lambda units: (tuple(units),)))
        assert pool.host._held == {}
    assert [g[0] for g in got] == ["ctx"] * 5
    assert [g[1] == g[2] for g in got] == [True] * 5  # the held units are those of the piece
    assert sorted(u for g in got for u in g[1]) == sorted(u.unit_id for u in result.units)
    assert any(g[3] != os.getpid() for g in got)  # the spawned worker finished some


def _what_is_held(held, context, units):
    return context, tuple(u.unit_id for u in held), units, os.getpid()


def test_a_round_whose_bundle_is_refused_leaves_nothing(cchc, tmp_path):
    """The bundle refused once the round is decided (here: --bundle names a folder): the error as
    always, and nothing written, nothing left beside the output folder."""
    (tmp_path / "folder").mkdir()
    res = cchc(*ROUND, "--out", tmp_path / "out", "--bundle", tmp_path / "folder", "-j", 2)
    assert res.exit_code == 2
    assert "is a folder; --bundle names the bundle file to write" in res.stderr
    assert sorted(os.listdir(tmp_path)) == ["folder"] and os.listdir(tmp_path / "folder") == []


@pytest.mark.parametrize("workers", [1, 2])
def test_an_output_folder_refused_is_refused_before_the_round_reads(cchc, tmp_path, workers):
    """--out names a file: refused at once (as `score` does), before the evidence is read (its
    problems are not reported), and nothing is written beside it."""
    (tmp_path / "file").write_text("x")
    (tmp_path / "ev").mkdir()
    (tmp_path / "ev" / "units.csv").write_text("unit_id\nbad\n", encoding="utf-8")
    res = cchc("round", DATA / "criteria.yaml", "--evidence", tmp_path / "ev", "--no-survey",
               "--out", tmp_path / "file", "-j", workers)
    assert res.exit_code == 2 and "--out" in res.stderr and "units.csv" not in res.stderr
    assert sorted(os.listdir(tmp_path)) == ["ev", "file"] and (tmp_path / "file").read_text() == "x"


@pytest.mark.parametrize("workers", [1, 2])
def test_a_round_with_bad_evidence_leaves_no_unit_file_begun(cchc, tmp_path, workers):
    """One unit's evidence is bad, the others' are decided (and their files begun): the round is
    refused and neither the output folder nor its staging folder is left."""
    shutil.copytree(DATA / "evidence", tmp_path / "ev")  # the YAML files' units decided in a piece of their own
    rows = (DATA / "evidence" / "communes.csv").read_text("utf-8").splitlines(keepends=True)
    (tmp_path / "ev" / "communes.csv").write_text("".join(rows[:-1] + [rows[-1].replace(",", ",x", 1)]), "utf-8")
    res = cchc("round", DATA / "criteria.yaml", "--evidence", tmp_path / "ev", "--no-survey",
               "--out", tmp_path / "out", "-j", workers)
    assert res.exit_code == 2, res.stderr
    assert sorted(os.listdir(tmp_path)) == ["ev"]


class _FullDisk(io.FileIO):
    """A scratch file on a disk that fills up after its first `room` bytes."""

    room = 4096

    def write(self, data):
        if self.tell() + len(data) > self.room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return super().write(data)


@pytest.mark.parametrize("command", ["round", "score"])
def test_a_full_disk_under_the_scratch_files_is_the_output_folders_error(tmp_path, monkeypatch, cchc, command):
    """The scratch files (the bundle's spool among them) cannot be written: the output folder's
    error, exit 2, nothing left — not an input that "cannot be read", nor an internal error from
    closing the spool while the error is raised."""
    from engine.storage import outdir

    def scratch(self, suffix=""):
        fd, name = outdir.tempfile.mkstemp(prefix=".scratch-", suffix=suffix, dir=self.path)
        self._scratch.append(Path(name))
        return outdir._ScratchFile(_FullDisk(fd, "r+"))

    monkeypatch.setattr(outdir.Staging, "scratch", scratch)
    args = (["round", DATA / "criteria.yaml", "--evidence", DATA / "evidence", "--no-survey"] if command == "round"
            else ["score", DATA / "criteria.yaml", DATA / "evidence"])
    res = cchc(*args, "--out", tmp_path / "out", "--workers", 1)
    assert res.exit_code == 2, res.stderr
    assert "cannot write the results to" in res.stderr and "No space left" in res.stderr, res.stderr
    assert "cannot read" not in res.stderr and list(tmp_path.iterdir()) == []


def test_an_input_that_cannot_be_read_and_a_spool_that_cannot_be_written_are_told_apart(tmp_path):
    from engine.storage.bundle import BundleError, BundleWriter

    (tmp_path / "in.csv").write_bytes(b"x" * 10000)
    fd = os.open(tmp_path / "spool", os.O_RDWR | os.O_CREAT)
    writer = BundleWriter(io.BufferedRandom(_FullDisk(fd, "r+"), buffer_size=1024))
    with pytest.raises(OSError) as raised:
        writer.add_file("inputs/evidence/1/in.csv", tmp_path / "in.csv")
    assert raised.value.errno == errno.ENOSPC and not isinstance(raised.value, BundleError)
    with pytest.raises(BundleError, match="cannot read the input file"):
        writer.add_file("inputs/evidence/1/gone.csv", tmp_path / "gone.csv")


def test_a_bundle_written_beside_on_a_full_disk_is_the_bundles_error(tmp_path, monkeypatch):
    """--bundle elsewhere, on a disk that fills up: its own error, naming it, and nothing left —
    while an error of what else the block writes stays that writer's."""
    from engine.storage import bundle

    monkeypatch.setattr(bundle.os, "fdopen", lambda fd, mode: io.BufferedWriter(_FullDisk(fd, "w"), buffer_size=1024))
    with pytest.raises(OutputError, match="cannot write the bundle .*b.cchc"):
        with bundle._written_beside(tmp_path / "b.cchc") as fh:
            fh.write(b"x" * 10000)
    with pytest.raises(OSError) as raised:
        with bundle._written_beside(tmp_path / "b.cchc"):
            raise OSError(errno.ENOSPC, "the output folder's")
    assert not isinstance(raised.value, OutputError)
    assert list(tmp_path.iterdir()) == []


def test_scratch_files_dropped_go_before_the_folder_is_put_in_place(tmp_path):
    """A scratch file the bundle is done with is removed beside the rest of the writing
    (`Staging.drop`); one that cannot be removed fails the run as the output folder's error, and
    nothing is left."""
    with Staging(tmp_path / "out", command="round") as staged:
        staged.add("a.json", b"{}")
        spent = staged.scratch_path()
        spent.write_bytes(b"x" * 100_000)
        staged.drop(str(spent))
        staged.finish()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [".cchc-out.json", "a.json"]
    with pytest.raises(OutputError, match="cannot write the results to"):
        with Staging(tmp_path / "again", command="round") as staged:
            staged.add("a.json", b"{}")
            (staged.path / "a folder").mkdir()
            staged.drop(str(staged.path / "a folder"))  # (a folder cannot be unlinked)
            staged.finish()
    assert not (tmp_path / "again").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_round_written_by_the_library_ends_its_workers_before_removing_what_they_write_into(tmp_path, monkeypatch,
                                                                                              small_pieces):
    """`write_round` given no staging folder makes its own; when the writing fails while the
    caller's workers still write unit files into it, they are ended before it is removed (a worker
    still writing would leave a staging folder behind)."""
    from engine.storage import bundle, outdir

    def full(writer, layout):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "spool")

    alive_when_removed = []
    discard = outdir.Staging._discard

    def removed(self):
        alive_when_removed.append(bool(pool._pools))
        discard(self)

    monkeypatch.setattr(bundle, "add_inputs", full)  # (this process's, while the spawned worker writes unit files)
    monkeypatch.setattr(outdir.Staging, "_discard", removed)
    cs = load_criteria(DATA / "criteria.yaml")
    with round_held(cs, [DATA / "evidence"], factory=get_evaluator, engine="reference", workers=2,
                    **ROLES) as (result, pool):
        with pytest.raises(OutputError, match="No space left"):
            write_round(DATA / "criteria.yaml", [DATA / "evidence"], result, pool, tmp_path / "out",
                        tmp_path / "out" / "bundle.cchc", **ROLES)
    assert alive_when_removed == [False] and list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="reads /proc")
def test_a_staging_folder_stopped_as_it_is_made_is_removed(tmp_path, monkeypatch):
    """A stop (Ctrl-C) between the staging folder made and locked: the folder goes, nothing is left."""
    from engine.storage import outdir

    flock = outdir.fcntl.flock

    def stopped(fd, operation):
        if ".cchc-new-" in os.readlink(f"/proc/self/fd/{fd}"):
            raise KeyboardInterrupt
        return flock(fd, operation)

    monkeypatch.setattr(outdir.fcntl, "flock", stopped)
    with pytest.raises(KeyboardInterrupt):
        with Staging(tmp_path / "out", command="round"):
            pass
    assert list(tmp_path.iterdir()) == []
