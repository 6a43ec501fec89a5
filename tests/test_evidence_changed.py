"""A CSV evidence file is read piece by piece from the byte spans found when it was indexed
(engine.inputs.evidence.evidence_pieces, read_piece): written to in between, it is refused once,
by name, rather than read as whatever bytes now stand there."""
from __future__ import annotations

import os
import time
from concurrent.futures import Future
from pathlib import Path

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


def test_a_csv_file_written_to_after_its_pieces_were_read_is_not_packed(tmp_path):
    """Written to once every piece is read, before the bundle copies it: the round is refused (the
    bundle would hold a file other than the one read), and nothing is written."""
    import shutil

    from engine.round.bundle import write_round
    from engine.round.run import round_held

    shutil.copytree(DATA / "evidence", tmp_path / "ev")
    cs = load_criteria(DATA / "criteria.yaml")
    with round_held(cs, [tmp_path / "ev"], factory=get_evaluator, engine="reference") as (result, pool):
        assert list(result.stamps) == [str(tmp_path / "ev" / "communes.csv")]
        time.sleep(0.05)
        with open(tmp_path / "ev" / "communes.csv", "a", encoding="utf-8") as fh:
            fh.write("\n")
        with pytest.raises(EvidenceError) as raised:
            write_round(DATA / "criteria.yaml", [tmp_path / "ev"], result, pool, tmp_path / "out",
                        tmp_path / "out" / "bundle.cchc")
    assert [p.message for p in raised.value.problems] == [CHANGED + ": run again once nothing writes to it"]
    assert sorted(os.listdir(tmp_path)) == ["ev"]
