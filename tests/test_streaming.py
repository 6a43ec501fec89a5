"""`cchc score` streamed to disk: evidence read in pieces (a CSV file by its units' byte spans),
each unit's result written as soon as it is decided, the bundle spooled part by part. The bytes
and the problems are those of reading everything at once; what is held in memory is bounded by
the piece, not by the number of units; a failure leaves nothing behind."""
from __future__ import annotations

import errno
import random
import weakref
from pathlib import Path

import pytest

from builders import file_tree, generated_evidence, scored_alike_by_one_and_two_workers

from engine import load_criteria, load_evidence
from engine.core.errors import EvidenceError, OutputError
from engine.core.model import EvidenceRecord, UnitResult
from engine.round import scoring
from engine.storage import outdir
from engine.storage.outdir import Staging


def _shuffled(csv_file: Path, seed: int = 7) -> None:
    """The data rows in a random order (each unit's rows scattered, the units unsorted), a blank
    line and Windows line ends among them."""
    header, *rows = csv_file.read_text("utf-8").splitlines(keepends=True)
    random.Random(seed).shuffle(rows)
    rows.insert(len(rows) // 2, "\n")
    rows[3] = rows[3].replace("\n", "\r\n")
    csv_file.write_text(header + "".join(rows), "utf-8", newline="")


@pytest.fixture
def small_pieces(monkeypatch):
    """Pieces of 5 units, so that a dozen units are read, decided and written in several."""
    monkeypatch.setattr(scoring, "UNITS_PER_PIECE", 5)
    monkeypatch.setattr(scoring, "FILES_PER_PIECE", 3)


def test_a_csv_with_scattered_unsorted_units_scores_the_same_bytes_as_read_whole(cchc, tmp_path, small_pieces):
    """One and two workers, and the in-memory path a replay runs, give the same result files and
    the same bundle, byte for byte, when each unit's rows are scattered through the CSV file."""
    from engine.audit.replay import score_bundle

    criteria = generated_evidence(tmp_path / "ev", 12)
    _shuffled(tmp_path / "ev" / "units.csv")
    written, files, cs, ev = scored_alike_by_one_and_two_workers(cchc, criteria, tmp_path / "ev", tmp_path, 12, 0)
    assert written["bundle.cchc"] == score_bundle(criteria, [tmp_path / "ev"], cs, ev, files, "durable")


def test_a_bundle_written_elsewhere_and_signed_is_the_in_memory_bundle(cchc, tmp_path, small_pieces):
    """`--bundle` outside the output folder, signed: spooled in the staging folder, written beside
    its place, renamed in after the results; the same bytes as the bundle built in memory."""
    from engine.audit.replay import score_bundle

    criteria = generated_evidence(tmp_path / "ev", 7)
    assert cchc("keygen", tmp_path / "key.pem").exit_code == 0
    res = cchc("score", criteria, tmp_path / "ev", "--out", tmp_path / "out", "--bundle", tmp_path / "b" / "run.cchc",
               "--sign", tmp_path / "key.pem", "--workers", 1)
    assert res.exit_code == 0, res.stderr
    files = {k: v for k, v in file_tree(tmp_path / "out").items() if k != ".cchc-out.json"}
    cs = load_criteria(criteria)
    ev = load_evidence([tmp_path / "ev"], cs)
    expected = score_bundle(criteria, [tmp_path / "ev"], cs, ev, files, "durable", key=tmp_path / "key.pem")
    assert (tmp_path / "b" / "run.cchc").read_bytes() == expected
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["run.cchc"]


def _broken(folder: Path) -> None:
    """Problems spread over the whole file (so over every piece), and a unit given again (with a
    wrong value) in a second file: an empty unit name, a value that is no number, a row with too many cells, a
    unit given for a second period, a metric given twice."""
    csv_file = folder / "units.csv"
    header, *rows = csv_file.read_text("utf-8").splitlines(keepends=True)
    cells = [r.rstrip("\n").split(",") for r in rows]
    late = [i for i, c in enumerate(cells) if c[0] == "huyen-000010" and c[4] == "late_reports"][0]
    cells[late][6] = "nhiều"  # not a count
    named = [i for i, c in enumerate(cells) if c[0] == "huyen-000007"][2]
    cells[named][1] = ""
    wide = [i for i, c in enumerate(cells) if c[0] == "huyen-000011"][5]
    cells[wide].append("extra")
    again = [c for c in cells if c[0] == "huyen-000003"][0]
    twice = [c for c in cells if c[0] == "huyen-000009"][1]
    cells.append(again[:3] + ["2024"] + again[4:])
    cells.append(list(twice))
    first = [list(c) for c in cells if c[0] == "huyen-000000"]
    # more.csv comes first: units.csv gives huyen-000000 again, wrongly, and only the duplicate counts
    next(c for c in cells if c[0] == "huyen-000000" and c[4] == "late_reports")[6] = "-3"
    csv_file.write_text(header + "".join(",".join(c) + "\n" for c in cells), "utf-8")
    (folder / "more.csv").write_text(header + "".join(",".join(c) + "\n" for c in first), "utf-8")


@pytest.mark.parametrize("workers", [1, 2])
def test_every_problem_of_every_piece_is_reported_as_when_read_whole(tmp_path, small_pieces, workers):
    """The problems, their places (file and CSV row) and their wording are those of reading the
    files whole, from every piece (not only the first that fails); nothing is left on disk."""
    from rules import get_evaluator

    criteria = generated_evidence(tmp_path / "ev", 12)
    _broken(tmp_path / "ev")
    cs = load_criteria(criteria)
    with pytest.raises(EvidenceError) as whole:
        load_evidence([tmp_path / "ev"], cs)
    expected = [str(p) for p in whole.value.problems]
    assert len(expected) >= 6
    with pytest.raises(EvidenceError) as streamed:
        with Staging(tmp_path / "out" / "run", command="score") as staged:
            scoring.score_run(cs, [tmp_path / "ev"], get_evaluator, "durable", staged, workers=workers)
    assert [str(p) for p in streamed.value.problems] == expected
    csv_file = tmp_path / "ev" / "units.csv"
    rows = csv_file.read_text("utf-8").splitlines()
    late = next(n for n, r in enumerate(rows, start=1) if r.startswith("huyen-000010,") and ",late_reports," in r)
    assert any(p.startswith(f"{csv_file}:{late}:7: late_reports: ") for p in expected)
    assert not (tmp_path / "out").exists()


def test_a_bad_unit_in_a_late_piece_fails_the_run_and_leaves_nothing(cchc, tmp_path, small_pieces):
    criteria = generated_evidence(tmp_path / "ev", 12)
    _broken(tmp_path / "ev")
    res = cchc("score", criteria, tmp_path / "ev", "--out", tmp_path / "out", "--workers", 1)
    assert res.exit_code == 2
    assert "late_reports" in res.stderr and "huyen-000010" not in res.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ev"]


def test_a_failure_while_writing_leaves_no_folder_and_no_temporary_file(tmp_path, small_pieces, monkeypatch):
    """An error (here: the disk refusing the ninth file) after some units were written: the
    staging folder with every file in it is removed, the previous results stay as they were."""
    from rules import get_evaluator

    criteria = generated_evidence(tmp_path / "ev", 12)
    cs = load_criteria(criteria)
    (tmp_path / "out").mkdir()
    written = []
    write_new = outdir.write_new

    def failing(path, data):
        if len(written) == 8:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        written.append(path)
        write_new(path, data)

    monkeypatch.setattr(outdir, "write_new", failing)
    with pytest.raises(OutputError, match="No space left on device"):
        with Staging(tmp_path / "out", command="score") as staged:
            scoring.score_run(cs, [tmp_path / "ev"], get_evaluator, "durable", staged, workers=1)
    assert len(written) == 8
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ev", "out"]
    assert list((tmp_path / "out").iterdir()) == []


def test_units_in_memory_are_bounded_by_the_piece_not_by_the_run(tmp_path, monkeypatch):
    """Evidence records and unit results alive at any time during a run of 120 units, read and
    decided 8 at a time: never more than a piece's worth (a run that kept them all would hold 120)."""
    from rules import get_evaluator

    monkeypatch.setattr(scoring, "UNITS_PER_PIECE", 8)
    criteria = generated_evidence(tmp_path / "ev", 120)
    cs = load_criteria(criteria)
    live = {EvidenceRecord: 0, UnitResult: 0}
    most = dict(live)

    def counted(cls):
        init = cls.__init__

        def count(self, *args, **kwargs):
            init(self, *args, **kwargs)
            live[cls] += 1
            most[cls] = max(most[cls], live[cls])
            weakref.finalize(self, lambda: live.__setitem__(cls, live[cls] - 1))

        monkeypatch.setattr(cls, "__init__", count)

    counted(EvidenceRecord)
    counted(UnitResult)
    with Staging(tmp_path / "out", command="score") as staged:
        run = scoring.score_run(cs, [tmp_path / "ev"], get_evaluator, "durable", staged, workers=1)
        staged.finish()
    assert run.units == 120 and len(list((tmp_path / "out" / "units").iterdir())) == 120
    assert 0 < most[EvidenceRecord] <= 8 and 0 < most[UnitResult] <= 8, most


@pytest.mark.parametrize("first, second", [("huyen-000002", "HUYEN-000002"), ("Huyen-000002", "huyen-000002"),
                                           ("HUYEN-000002", "Huyen-000002")])
def test_unit_ids_differing_only_in_case_in_different_pieces_are_refused(cchc, tmp_path, small_pieces, first, second):
    """Two ids that would name one file on Windows, macOS and FAT drives, whichever piece and case
    comes first: refused by name with both places, nothing written, with one and two workers."""
    criteria = generated_evidence(tmp_path / "ev", 12)
    table = tmp_path / "ev" / "units.csv"
    text = table.read_text("utf-8").replace("huyen-000002,", f"{first},").replace("huyen-000011,", f"{second},")
    table.write_text(text, "utf-8")
    for n in (1, 2):
        res = cchc("score", criteria, tmp_path / "ev", "--out", tmp_path / f"out{n}", "--workers", n)
        assert res.exit_code == 2, res.output
        assert "differ only in case" in res.stderr and first in res.stderr and second in res.stderr, res.stderr
        assert not (tmp_path / f"out{n}").exists()
