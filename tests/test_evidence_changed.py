"""A CSV evidence file is read piece by piece from the byte spans found when it was indexed
(engine.inputs.evidence.evidence_pieces, read_piece): written to in between, it is refused once,
by name, rather than read as whatever bytes now stand there."""
from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Optional

import pytest

from engine import load_criteria
from engine.core.errors import EvidenceError
from engine.inputs.evidence import evidence_pieces, read_piece
from engine.inputs.tables import ProblemSink
from engine.round.pool import Workers, index_ahead
from engine.round.units import RoundInputs
from rules import get_evaluator

DATA = Path(__file__).parent / "data" / "round"
CHANGED = "the file changed while it was being read"


def _evidence(folder: Path, units: int) -> Path:
    rows = (DATA / "evidence" / "communes.csv").read_text("utf-8").splitlines(keepends=True)
    first = [r for r in rows[1:] if r.startswith(rows[1].split(",")[0] + ",")]
    body = [r.replace(r.split(",")[0], f"xa-{u:03d}", 1) for u in range(units) for r in first]
    path = folder / "units.csv"
    path.write_text(rows[0] + "".join(body), encoding="utf-8")
    return path


@pytest.mark.parametrize("change", ["grown", "rewritten", "touched", "removed", "set back", "renamed over"])
def test_a_csv_file_written_to_after_it_was_indexed_is_refused(tmp_path, change):
    path = _evidence(tmp_path, 6)
    cs = load_criteria(DATA / "criteria.yaml")
    pieces = evidence_pieces([path], 2, 64, ProblemSink())
    assert len(pieces) == 3 and all(not read_piece(p, cs)[1] for p in pieces)
    text = path.read_bytes()
    before = path.stat()
    time.sleep(0.05)  # (a file's times move with the system's clock ticks)
    if change == "grown":
        path.write_bytes(text + text.splitlines(keepends=True)[-1])
    elif change == "rewritten":  # the same size: the bytes under the spans are others
        path.write_bytes(text.replace(b"xa-00", b"xb-00"))
        os.utime(path, ns=(1, 1))
    elif change == "touched":
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
    elif change == "set back":  # the same size, its time of change set back as it was
        path.write_bytes(text.replace(b"xa-00", b"xb-00"))
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    elif change == "renamed over":  # the same bytes and times, another file
        other = tmp_path / "other.csv"
        other.write_bytes(text)
        os.utime(other, ns=(before.st_atime_ns, before.st_mtime_ns))
        other.replace(path)
    else:
        path.unlink()
    records, problems, firsts = read_piece(pieces[1], cs)
    assert records == [] and firsts == [] and [p.message for p in problems] == [
        CHANGED + ": run again once nothing writes to it"] and problems[0].file == str(path)


def test_a_round_whose_csv_file_changed_reports_it_once(tmp_path):
    """Every piece of the file is refused: the round says so once."""
    path = _evidence(tmp_path, 6)
    cs = load_criteria(DATA / "criteria.yaml")
    found = index_ahead([str(path)], 2, 64)
    path.write_bytes(path.read_bytes() + b"\n")
    indexed: Future = Future()
    indexed.set_result(found)
    with Workers(cs, get_evaluator, "reference", 1) as workers:
        workers.indexed = indexed
        with pytest.raises(EvidenceError) as raised:
            workers.read_and_decide([path], 2, 64, RoundInputs({}, {}))
    assert [p.message for p in raised.value.problems if CHANGED in p.message] == [
        CHANGED + ": run again once nothing writes to it"]


@contextlib.contextmanager
def _round_of_copies(tmp_path: Path, inputs: Optional[Path] = None):
    """A round held (engine.round.run.round_held) of copies of the test round's inputs, in
    tmp_path/in (named `inputs` when given: a relative path): (that folder, the round, a function
    that writes it to tmp_path/out)."""
    from engine.round.bundle import write_round
    from engine.round.run import round_held

    inputs = inputs or tmp_path / "in"
    shutil.copytree(DATA, tmp_path / "in")
    roles = dict(survey_paths=[inputs / "survey"], appraisal_paths=[inputs / "appraisal"],
                 previous_path=inputs / "previous" / "round-2022.json")
    cs = load_criteria(inputs / "criteria.yaml")
    with round_held(cs, [inputs / "evidence"], factory=get_evaluator, engine="reference", **roles) as (result, pool):
        yield inputs, result, lambda: write_round(inputs / "criteria.yaml", [inputs / "evidence"], result, pool,
                                                  tmp_path / "out", tmp_path / "out" / "bundle.cchc", **roles)


@pytest.mark.parametrize("changed", ["evidence/communes.csv", "evidence/kho-bac.yaml", "survey/communes.csv",
                                     "survey/so-noi-vu.yaml", "appraisal/communes.csv", "appraisal/so-noi-vu.yaml",
                                     "previous/round-2022.json", "criteria.yaml"])
@pytest.mark.parametrize("named", ["absolute", "relative"])
def test_an_input_written_to_after_it_was_read_is_not_packed(tmp_path, monkeypatch, changed, named):
    """Any input a round read (the evidence, as a CSV file or a YAML file, the survey data, the
    appraisals, last year's results, the criteria set), written to once read and before the bundle
    copies it: the round is refused, by name (the bundle would hold a file other than the one
    read), and nothing is written; whether the inputs are named by absolute or relative paths."""
    monkeypatch.chdir(tmp_path)
    with _round_of_copies(tmp_path, Path("in") if named == "relative" else None) as (inputs, _result, write):
        time.sleep(0.05)
        with open(inputs / changed, "a", encoding="utf-8") as fh:
            fh.write("\n")
        with pytest.raises(EvidenceError) as raised:
            write()
    assert [(os.path.abspath(p.file), p.message) for p in raised.value.problems] == [
        (str(tmp_path / "in" / changed), CHANGED + ": run again once nothing writes to it")]
    assert sorted(os.listdir(tmp_path)) == ["in"]


def test_a_round_that_no_one_writes_to_is_packed(tmp_path):
    """The same round, its inputs left alone: every file it read stamped, and written."""
    from engine.storage.bundle import read_bundle_file

    with _round_of_copies(tmp_path) as (inputs, result, write):
        stamped = dict(result.stamps)
        write()
    read = {str(p) for p in inputs.rglob("*") if p.is_file() and p.name != "criteria.yaml"}
    assert set(stamped) == read
    assert read_bundle_file(tmp_path / "out" / "bundle.cchc").kind == "round"


@pytest.mark.parametrize("changed", ["communes.csv", "kho-bac.yaml", "criteria"])
def test_an_input_of_score_written_to_after_it_was_read_is_not_packed(tmp_path, monkeypatch, cchc, changed):
    """The same for `cchc score`: its evidence (a CSV file read piece by piece, a YAML file) or its
    criteria set, written to once every unit is written and before the bundle copies it."""
    from engine.round import scoring

    shutil.copytree(DATA / "evidence", tmp_path / "ev")
    shutil.copy(DATA / "criteria.yaml", tmp_path / "criteria.yaml")
    edited = tmp_path / ("criteria.yaml" if changed == "criteria" else f"ev/{changed}")
    score_run = scoring.score_run

    def then_written_to(*args, **kwargs):
        run = score_run(*args, **kwargs)
        time.sleep(0.05)
        with open(edited, "a", encoding="utf-8") as fh:
            fh.write("\n")
        return run

    monkeypatch.setattr(scoring, "score_run", then_written_to)
    res = cchc("score", tmp_path / "criteria.yaml", tmp_path / "ev", "--out", tmp_path / "out")
    assert res.exit_code == 2, res.stderr
    assert f"{edited}: {CHANGED}" in res.stderr and sorted(os.listdir(tmp_path)) == ["criteria.yaml", "ev"]


def test_a_file_read_twice_and_written_to_in_between_is_refused_though_it_is_left_alone_since(tmp_path):
    """Read by two pieces (or by this process and a worker), with a write between: the run read two
    different files under one name, whichever it packs."""
    from engine.inputs.evidence import file_stamp
    from engine.storage.bundle import ReadStamps, RecordedReads, recording_reads

    tasks, other = tmp_path / "tasks.csv", tmp_path / "other.csv"
    tasks.write_text("task,deadline,completed\n", encoding="utf-8")
    other.write_text("task,deadline,completed\n", encoding="utf-8")
    with recording_reads() as first:
        tasks.read_bytes()
        other.read_bytes()
    time.sleep(0.05)
    tasks.write_text("task,deadline,completed\nx,2023-01-01,có\n", encoding="utf-8")
    with recording_reads() as second:
        tasks.read_bytes()
    stamps = ReadStamps()
    stamps.add_read(second)  # (handed over in any order: a worker's pieces before this process's own reads)
    stamps.add_read(first)
    assert isinstance(first, RecordedReads) and second.stamps == {str(tasks): file_stamp(tasks)}
    assert [p.file for p in stamps.changed({str(tasks), str(other)})] == [str(tasks)]
    assert stamps.changed({str(other)}) == []  # (one the bundle does not hold is not looked at)
    since = ReadStamps()  # read once, after the write: left alone since
    since.add_read(second)
    assert since.changed({str(tasks)}) == []


@pytest.mark.parametrize("role", ["evidence", "survey", "appraisal"])
def test_a_file_put_in_an_input_folder_once_the_round_read_it_is_not_packed(tmp_path, cchc, role):
    """Not read, not scored: the bundle holds the files the units were scored from, and replays."""
    from engine.storage.bundle import read_bundle_file

    with _round_of_copies(tmp_path) as (inputs, _result, write):
        shutil.copy(inputs / role / "so-noi-vu.yaml", inputs / role / "zz-new.yaml")
        write()
    bundle = read_bundle_file(tmp_path / "out" / "bundle.cchc")
    assert [name for name, _data in bundle.parts if name.endswith("so-noi-vu.yaml")] and \
        not [name for name, _data in bundle.parts if name.endswith("zz-new.yaml")]
    assert cchc("replay", tmp_path / "out" / "bundle.cchc").exit_code == 0


@pytest.mark.parametrize("removed", ["evidence/so-noi-vu.yaml", "evidence/communes.csv", "survey/so-tu-phap.yaml",
                                     "appraisal/so-noi-vu.yaml"])
def test_a_file_read_and_removed_before_the_bundle_copies_it_is_refused(tmp_path, removed):
    """Read, then removed (or moved away): the bundle could not hold what the units were scored from."""
    with _round_of_copies(tmp_path) as (inputs, _result, write):
        (inputs / removed).unlink()
        with pytest.raises(EvidenceError) as raised:
            write()
    assert [(p.file, p.message) for p in raised.value.problems] == [
        (str(inputs / removed), CHANGED + ": run again once nothing writes to it")]
    assert sorted(os.listdir(tmp_path)) == ["in"]


@pytest.mark.parametrize("change", ["added", "removed"])
def test_score_packs_what_it_read_of_a_folder_changed_since(tmp_path, monkeypatch, cchc, change):
    """The same for `cchc score`: a file put in the evidence folder once every unit is written is
    not packed (and the bundle replays); one read and removed is refused by name (here it is
    already laid out for the bundle, which cannot read it)."""
    from engine.round import scoring

    shutil.copytree(DATA / "evidence", tmp_path / "ev")
    score_run = scoring.score_run

    def then_changed(*args, **kwargs):
        run = score_run(*args, **kwargs)
        if change == "added":
            shutil.copy(tmp_path / "ev" / "so-noi-vu.yaml", tmp_path / "ev" / "zz-new.yaml")
        else:
            (tmp_path / "ev" / "kho-bac.yaml").unlink()
        return run

    monkeypatch.setattr(scoring, "score_run", then_changed)
    res = cchc("score", DATA / "criteria.yaml", tmp_path / "ev", "--out", tmp_path / "out")
    if change == "removed":
        assert res.exit_code == 2 and f"{tmp_path / 'ev' / 'kho-bac.yaml'}: cannot read the input file" in res.stderr
        assert sorted(os.listdir(tmp_path)) == ["ev"]
        return
    assert res.exit_code == 0, res.stderr
    assert cchc("replay", tmp_path / "out" / "bundle.cchc").exit_code == 0


def test_the_criteria_set_is_parsed_from_the_bytes_its_hash_names(tmp_path, monkeypatch):
    """Read once: a criteria file rewritten just after it is read is still the set it was read as,
    so the hash a bundle records is the hash of the thresholds scored."""
    shipped = Path(__file__).parents[1] / "criteria" / "tien-giang-2023-districts.yaml"
    path = tmp_path / "set.yaml"
    first = shipped.read_bytes()
    path.write_bytes(first)
    read_bytes = Path.read_bytes

    def read_then_rewritten(self):
        data = read_bytes(self)
        if self == path:
            path.write_bytes(first.replace(b"\ntitle: ", b"\ntitle: rewritten "))
        return data

    monkeypatch.setattr(Path, "read_bytes", read_then_rewritten)
    cs = load_criteria(path)
    assert cs.content_hash == hashlib.sha256(first).hexdigest()
    assert not cs.title.startswith("rewritten")
