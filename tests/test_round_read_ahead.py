"""A round's worker started ahead cuts the evidence into pieces and reads the first two before the
round has read its command line (engine.round.run.index_ahead, read_ahead, commands/early.py):
the round takes the pieces it cut when its own evidence files and pieces are the same, and what
it read when its criteria set is the same too, and then gets exactly what cutting and reading them again gives; otherwise it
does both as always."""
from __future__ import annotations

import csv
import io
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commands import early
from engine import load_criteria
from engine.inputs.evidence import evidence_pieces
from engine.inputs.tables import ProblemSink
from engine.round import pool, run, scoring
from engine.round.pool import Host
from engine.round.run import index_ahead, read_ahead
from engine.round.units import RoundInputs
from rules import get_evaluator

DATA = Path(__file__).parent / "data" / "round"
CRITERIA = DATA / "criteria.yaml"
ROUND = ("round", CRITERIA, "--evidence", DATA / "evidence", "--survey", DATA / "survey",
         "--appraisal", DATA / "appraisal", "--previous", DATA / "previous" / "round-2022.json", "--rows", 0)


@pytest.fixture(autouse=True)
def nothing_left():
    yield
    pool._READ_AHEAD.clear()
    early._end_unused()


def _rows() -> tuple[list[str], list[list[str]]]:
    with open(DATA / "evidence" / "communes.csv", encoding="utf-8", newline="") as fh:
        header, *rows = list(csv.reader(fh))
    return header, [r for r in rows if r[0] == rows[0][0]]


HEADER, ROWS = _rows()
VALUE = HEADER.index("value")


def _evidence(folder: Path, units: int, broken: dict[int, str], order: list[int]) -> Path:
    """A CSV of `units` units with the rows of the shipped commune's, some values replaced
    (`broken`: row number -> text), the rows in `order` (interleaving the units)."""
    rows = []
    for u in range(units):
        for r in ROWS:
            rows.append([f"xa-{u:03d}", f"Xã {u}", *r[2:]])
    for k, text in broken.items():
        rows[k % len(rows)][VALUE] = text
    rows = [rows[k] for k in sorted(range(len(rows)), key=lambda k: order[k % len(order)])]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([HEADER, *rows])
    path = folder / "units.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(units=st.integers(2, 7), per_piece=st.integers(1, 3),
       broken=st.dictionaries(st.integers(0, 200), st.sampled_from(["", "x", "101", "-1", "9,5", "2023-13-01", "có"]),
                              max_size=3),
       order=st.lists(st.integers(0, 3), min_size=1, max_size=8))
def test_a_piece_read_ahead_is_what_reading_it_gives(monkeypatch, units, per_piece, broken, order):
    """Whatever the evidence (values that fail their checks included), each piece read ahead and
    taken by the round's own `read_piece` gives what reading it there gives, problems and the
    records alike, and is not read a second time."""
    monkeypatch.setattr(run, "UNITS_PER_PIECE", per_piece)
    cs = load_criteria(CRITERIA)
    with tempfile.TemporaryDirectory() as tmp:
        path = _evidence(Path(tmp), units, broken, order)
        pieces = evidence_pieces([path], per_piece, scoring.FILES_PER_PIECE, ProblemSink())
        fresh = [Host(cs, pool._no_evaluator, "").read_piece(n, p) for n, p in enumerate(pieces)]
        pool._READ_AHEAD.clear()
        index_ahead([str(path)])
        read_ahead(str(CRITERIA), (0, 1))
        ahead = [0, 1] if len(pieces) > 1 else []  # one piece: nothing is sent to a worker
        assert sorted(pool._READ_AHEAD) == ahead
        host = Host(load_criteria(CRITERIA), pool._no_evaluator, "")
        reads: list = []
        monkeypatch.setattr(host, "_read", lambda piece: reads.append(piece) or Host._read(host, piece))
        assert [host.read_piece(n, p) for n, p in enumerate(pieces)] == fresh
        assert reads == pieces[len(ahead):]  # those read ahead are not read again
        assert pool._READ_AHEAD == {}


def test_what_was_read_with_another_criteria_set_or_other_pieces_is_read_again(monkeypatch, tmp_path):
    cs = load_criteria(CRITERIA)
    path = _evidence(tmp_path, 4, {}, [0])
    monkeypatch.setattr(run, "UNITS_PER_PIECE", 1)
    ones = evidence_pieces([path], 1, 64, ProblemSink())
    twos = evidence_pieces([path], 2, 64, ProblemSink())
    other = replace(cs, title=cs.title + " (sửa)")
    for criteria, pieces in ((other, ones), (cs, twos)):
        index_ahead([str(path)])
        read_ahead(str(CRITERIA), (0, 1))
        host = Host(criteria, pool._no_evaluator, "")
        reads: list = []
        monkeypatch.setattr(host, "_read", lambda piece: reads.append(piece) or Host._read(host, piece))
        fresh = Host(criteria, pool._no_evaluator, "")
        for n in (0, 1):
            assert host.read_piece(n, pieces[n]) == fresh.read_piece(n, pieces[n])
        assert reads == pieces[:2] and pool._READ_AHEAD == {}


def test_nothing_is_read_ahead_of_a_bad_criteria_set_or_evidence_of_one_piece(monkeypatch, tmp_path):
    monkeypatch.setattr(run, "UNITS_PER_PIECE", 1)
    path = _evidence(tmp_path, 2, {}, [0])
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: [", encoding="utf-8")
    assert index_ahead([str(path)]) is not None  # two pieces of one unit: cut without the criteria set…
    read_ahead(str(bad), (0, 1))
    assert pool._READ_AHEAD == {}  # …which the pieces are read with
    monkeypatch.setattr(run, "UNITS_PER_PIECE", 64)
    for evidence in (path, tmp_path / "none"):
        assert index_ahead([str(evidence)]) is None  # two units: one piece of 64
        read_ahead(str(CRITERIA), (0, 1))
        assert pool._READ_AHEAD == {}


@pytest.mark.parametrize("argv, inputs", [
    (["cchc", "round", "c.yaml", "--evidence", "ev", "-j", "2"], ("c.yaml", ("ev",))),
    (["cchc", "round", "--evidence=a", "--no-survey", "c.yaml", "--evidence", "b", "-oOUT", "-j2"],
     ("c.yaml", ("a", "b"))),
    (["cchc", "round", "c.yaml", "--evidence", "ev", "--out", "o", "--rows", "0", "--survey", "s", "--appraisal",
      "a", "--previous", "p", "--engine", "reference", "--bundle", "b", "--max-cited-mb", "3"], ("c.yaml", ("ev",))),
    (["cchc", "round", "--evidence", "ev", "--", "c.yaml"], ("c.yaml", ("ev",))),
    (["cchc", "round", "c.yaml", "--evidence", "ev", "--colour"], None),  # an option not known here
    (["cchc", "round", "c.yaml", "d.yaml", "--evidence", "ev"], None),
    (["cchc", "round", "c.yaml"], None),
    (["cchc", "round", "c.yaml", "--evidence"], None),
    (["cchc", "round", "c.yaml", "--evidence", "ev", "--help"], None),
    (["cchc", "score", "c.yaml", "ev"], None),
])
def test_what_a_round_command_line_names_to_read(argv, inputs):
    assert early.round_inputs(argv) == inputs


PROBE = """
def ahead():
    from engine.round import pool

    return sorted(pool._READ_AHEAD)
"""


def _folder(path: Path) -> dict[str, bytes]:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def test_a_worker_started_ahead_reads_the_rounds_first_pieces_and_the_round_writes_the_same_bytes(
        cchc, tmp_path, monkeypatch):
    """Started from the round's command line, the worker reads the two pieces the round sends it
    first (the shipped evidence's CSV file, its YAML files) before it is adopted; the round then
    writes what one worker writes, bundle included."""
    assert len(evidence_pieces([DATA / "evidence"], run.UNITS_PER_PIECE, run.FILES_PER_PIECE, ProblemSink())) == 2
    assert cchc(*ROUND, "--out", tmp_path / "one", "--workers", 1).exit_code == 0
    (tmp_path / "round_probe.py").write_text(PROBE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))  # handed to the spawned worker
    early.start(["cchc", *map(str, ROUND), "--workers", "2"])
    [ahead] = early._AHEAD
    assert early._Given(ahead.submit(early._Named("round_probe", "ahead"))).result(timeout=120) == [0, 1]
    res = cchc(*ROUND, "--out", tmp_path / "two", "--workers", 2)
    assert res.exit_code == 0, res.stderr
    assert early.taken() == []
    assert _folder(tmp_path / "one") == _folder(tmp_path / "two")


def _done(value):
    from concurrent.futures import Future

    future = Future()
    future.set_result(value)
    return future


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(units=st.integers(2, 7), per_piece=st.integers(1, 3),
       broken=st.dictionaries(st.integers(0, 200), st.sampled_from(["", "x", "101", "-1", "9,5", "có"]), max_size=3),
       order=st.lists(st.integers(0, 3), min_size=1, max_size=8))
def test_the_pieces_cut_ahead_are_taken_and_read_as_those_cut_here(monkeypatch, units, per_piece, broken, order):
    """The round's evidence read from the pieces a worker cut ahead is the evidence read from its
    own: same records, warnings, problems (raised alike), files read and cited; and it cuts none itself."""
    from engine.core.errors import EvidenceError

    monkeypatch.setattr(run, "UNITS_PER_PIECE", per_piece)
    cs = load_criteria(CRITERIA)
    cut = pool.evidence_pieces

    def read(indexed, counted):
        with pool.Workers(cs, get_evaluator, "reference", 1) as workers:
            workers.indexed = indexed
            monkeypatch.setattr(pool, "evidence_pieces", lambda *args: counted.append(1) or cut(*args))
            try:
                got = workers.read_and_decide([path], per_piece, scoring.FILES_PER_PIECE, RoundInputs({}, {}))
            except EvidenceError as exc:
                got = exc.problems
            return got, sorted(workers.reads), workers.cited

    with tempfile.TemporaryDirectory() as tmp:
        path = _evidence(Path(tmp), units, broken, order)
        found = index_ahead([str(path)])
        here: list = []
        whole = read(None, here)
        ahead: list = []
        assert read(_done(found), ahead) == whole
        assert here == [1] and ahead == ([] if found is not None else [1])


def test_pieces_cut_ahead_of_other_evidence_or_sizes_are_cut_again(monkeypatch, tmp_path):
    cs = load_criteria(CRITERIA)
    path = _evidence(tmp_path, 4, {}, [0])
    other = tmp_path / "other"
    other.mkdir()
    _evidence(other, 5, {}, [0])
    monkeypatch.setattr(run, "UNITS_PER_PIECE", 1)
    found = index_ahead([str(path)])
    assert found is not None
    for evidence, sizes in ((other, (1, 64)), (path, (2, 64)), (path, (1, 2))):
        with pool.Workers(cs, pool._no_evaluator, "", 1) as workers:
            workers.indexed = _done(found)
            assert workers._indexed_ahead([evidence / "units.csv" if evidence == other else path], *sizes) is None
    for criteria in (cs, replace(cs, title="x")):  # the pieces do not depend on the criteria set
        with pool.Workers(criteria, pool._no_evaluator, "", 1) as workers:
            workers.indexed = _done(found)
            assert workers._indexed_ahead([path], 1, 64) == list(found[-1])
            assert workers.indexed is None  # taken once
