"""`score`'s unit files written by the workers that decided them, and their copies in the bundle
made there (engine/round/scoring.py UnitFiles): the same bytes as the in-memory path a replay runs,
whatever the workers knew of the inputs, and nothing left behind by a run that fails after a
worker wrote files."""
from __future__ import annotations

import json
import os
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builders import check_copy_check, file_tree, generated_evidence, scored_alike_by_one_and_two_workers
from engine import load_criteria
from engine.core.errors import EngineError
from engine.round import pool, scoring
from engine.storage import bundle
from engine.storage.bundle import knows_enough
from engine.storage.outdir import Staging


@pytest.fixture
def small_pieces(monkeypatch):
    """Pieces of 4 units, so that a dozen units are read, decided and written in three."""
    monkeypatch.setattr(scoring, "UNITS_PER_PIECE", 4)
    monkeypatch.setattr(scoring, "FILES_PER_PIECE", 3)


def _named_after(table: Path, unit: str, name: str) -> None:
    """Unit `unit` of the CSV `table` given the name `name` in every row."""
    lines = table.read_text("utf-8").splitlines(keepends=True)
    cells = [line.split(",") for line in lines]
    table.write_text("".join(",".join([c[0], name, *c[2:]]) if c[0] == unit else line
                             for c, line in zip(cells, lines)), "utf-8")


def test_a_unit_quoting_a_file_a_later_piece_reads_has_the_copy_the_whole_run_gives(cchc, tmp_path, small_pieces):
    """The evidence given as its CSV file (its folder is not an input: a task file's name in the
    bundle is known only once it is read), and the first unit named after the task file of the
    last one, read in another piece: the worker's copy cannot know that path; the bundle is still
    the one the in-memory path gives (which knows every input first), with one and two workers."""
    from engine.audit.replay import score_bundle
    from engine.storage.bundle import read_bundle

    criteria = generated_evidence(tmp_path / "ev", 12)
    table = tmp_path / "ev" / "units.csv"
    quoted = tmp_path / "ev" / "tasks" / "huyen-000011.csv"
    assert quoted.is_file()
    _named_after(table, "huyen-000000", str(quoted))
    written, files, cs, ev = scored_alike_by_one_and_two_workers(cchc, criteria, table, tmp_path, 12, 0)
    assert str(quoted).encode() in files["units/huyen-000000.json"]
    whole = score_bundle(criteria, [table], cs, ev, files, "durable")
    assert written["bundle.cchc"] == whole
    assert b"inputs/evidence/1/tasks/huyen-000011.csv" in read_bundle(whole).part("results/units/huyen-000000.json")


def test_copies_made_again_when_the_inputs_read_do_not_vouch_for_them(cchc, tmp_path, small_pieces, monkeypatch):
    """When the inputs read since the run began could change a copy unseen (`knows_enough` says
    no), every unit's copy is made again from its file: the same bytes."""
    from engine.audit.replay import score_bundle

    criteria = generated_evidence(tmp_path / "ev", 12)
    renewed = []
    renew = bundle.BundleWriter.renew

    def counted(self, name, data):
        renewed.append(name)
        renew(self, name, data)

    monkeypatch.setattr(scoring, "knows_enough", lambda *args: False)
    monkeypatch.setattr(bundle.BundleWriter, "renew", counted)
    res = cchc("score", criteria, tmp_path / "ev", "--out", tmp_path / "out", "--workers", 1)
    assert res.exit_code == 0, res.stderr
    assert len(renewed) == 12
    written = file_tree(tmp_path / "out")
    cs = load_criteria(criteria)
    from engine import load_evidence

    ev = load_evidence([tmp_path / "ev"], cs)
    files = {k: v for k, v in written.items() if k.startswith("units/") or k == "summary.json"}
    assert written["bundle.cchc"] == score_bundle(criteria, [tmp_path / "ev"], cs, ev, files, "durable")


def _leftovers(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in tmp_path.iterdir())


def test_a_unit_given_again_in_a_late_piece_fails_the_run_after_workers_wrote_and_leaves_nothing(
        cchc, tmp_path, small_pieces):
    """A unit given again at the end of the file: by then the workers have written the files of the
    pieces before (and the spawned worker may have written the late piece's too). The run fails with
    the message one worker gives, and no file nor staging folder is left."""
    criteria = generated_evidence(tmp_path / "ev", 12)
    table = tmp_path / "ev" / "units.csv"
    rows = table.read_text("utf-8").splitlines(keepends=True)
    table.write_text("".join(rows + [r.replace("huyen-000001,", "huyen-000005,") for r in rows
                                     if r.startswith("huyen-000001,")]), "utf-8")
    errors = []
    for n in (1, 2):
        res = cchc("score", criteria, tmp_path / "ev", "--out", tmp_path / f"out{n}", "--workers", n)
        assert res.exit_code == 2, res.output
        errors.append(res.stderr)
        assert _leftovers(tmp_path) == ["ev"]
    assert "huyen-000005" in errors[0] and errors[0] == errors[1]


def test_an_engine_failure_in_a_late_piece_leaves_nothing(tmp_path, small_pieces, monkeypatch):
    """The rule engine failing on the third piece, after the files of the first two were written."""
    from rules import get_evaluator

    criteria = generated_evidence(tmp_path / "ev", 12)
    cs = load_criteria(criteria)
    decide_chunk = pool.Host.decide_chunk
    done = []

    def failing(self, records, *given):
        done.append(len(records))
        if len(done) == 3:
            return "engine", "the rule engine stopped", len(records)
        return decide_chunk(self, records, *given)

    monkeypatch.setattr(pool.Host, "decide_chunk", failing)
    with pytest.raises(EngineError, match="the rule engine stopped"):
        with Staging(tmp_path / "out", command="score") as staged:
            scoring.score_run(cs, [tmp_path / "ev"], get_evaluator, "durable", staged, workers=1)
    assert len(done) == 3
    assert _leftovers(tmp_path) == ["ev"]


def test_ctrl_c_while_the_workers_write_leaves_nothing(tmp_path, small_pieces, monkeypatch):
    """Ctrl-C (KeyboardInterrupt in the main process) after five files were listed, with a
    spawned worker writing its own: the workers are stopped and the staging folder removed."""
    from rules import get_evaluator

    criteria = generated_evidence(tmp_path / "ev", 40)
    cs = load_criteria(criteria)
    listed = Staging.written_in
    claimed = []

    def interrupted(self, folder, name):
        if len(claimed) == 5:
            raise KeyboardInterrupt
        claimed.append(name)
        listed(self, folder, name)

    monkeypatch.setattr(Staging, "written_in", interrupted)
    with pytest.raises(KeyboardInterrupt):
        with Staging(tmp_path / "out", command="score") as staged:
            scoring.score_run(cs, [tmp_path / "ev"], get_evaluator, "durable", staged, workers=2)
    assert len(claimed) == 5
    assert _leftovers(tmp_path) == ["ev"]


# ---------------------------------------------------------------- what a worker's copy may have missed

_FILES = ["a.csv", "b c.csv", "t/x.csv", "t/y:1.csv", "t/z.csv", "u.csv"]


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tree") / "ev"
    for f in _FILES:
        (root / f).parent.mkdir(parents=True, exist_ok=True)
        (root / f).write_text("x")
    return root


def _table(root: Path, files) -> dict[str, str]:
    """The bundle's names of the folder `root` (None) and of the `files` in it."""
    return {str(root if f is None else root / f): "inputs/evidence/1" + ("" if f is None else "/" + f) for f in files}


def _texts(root: Path):
    pieces = st.sampled_from([str(root), str(root) + "/", *(str(root / f) for f in _FILES), "/", ":", " ", ":12",
                              "x", "-", ".", ",", "'", "(", ")", "t", "/t/", str(root.parent)])
    return st.lists(pieces, max_size=6).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_copy_no_unknown_path_stands_in_is_the_one_the_whole_table_gives(tree, data):
    """Property: a JSON text localized with a first table (some of the inputs) is the text
    localized with the whole table whenever none of the paths `unknown_paths` finds in it is one of
    the whole table's (and `knows_enough` holds); and `unknown_paths`' quick way (by folder, in C)
    finds what looking at every place finds."""
    every = data.draw(st.lists(st.sampled_from([None, *_FILES]), min_size=1, max_size=7, unique=True))
    first = data.draw(st.lists(st.sampled_from(every), max_size=len(every), unique=True))
    whole, known = _table(tree, every), _table(tree, first)
    values = data.draw(st.lists(_texts(tree), min_size=1, max_size=4))
    keys = data.draw(st.lists(_texts(tree), min_size=len(values), max_size=len(values), unique=True))
    text = json.dumps(dict(zip(keys, values)), ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    anchors = (str(tree),)
    check_copy_check(text, anchors, known, whole)


def test_knows_enough_refuses_a_path_outside_the_anchors_or_named_otherwise(tree):
    first = {str(tree): "inputs/evidence/1"}
    assert knows_enough(first, {**first, str(tree / "a.csv"): "inputs/evidence/1/a.csv"}, (str(tree),))
    assert not knows_enough(first, {**first, "/elsewhere/a.csv": "inputs/evidence/1/a.csv"}, (str(tree),))
    assert not knows_enough(first, {str(tree): "inputs/evidence/2"}, (str(tree),))


@settings(max_examples=300, deadline=None)
@given(name=st.integers(1, 110).flatmap(lambda n: st.text(
    st.one_of(st.sampled_from("abc/._-"), st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")),
    min_size=n, max_size=n)),
       size=st.one_of(st.integers(0, 10 ** 6), st.integers(8 ** 11 - 2, 8 ** 11 + 2)))
def test_a_short_name_s_header_is_the_one_tarfile_writes(name, size):
    """Property: the header of a member with a name of at most 100 bytes, filled in quickly, is
    the one `tarfile` writes (and a longer name's is tarfile's own)."""
    import tarfile

    bundle._header.cache_clear()
    try:
        expected = bundle._tarinfo(name, size).tobuf(tarfile.USTAR_FORMAT, "utf-8", "strict")
    except ValueError:
        with pytest.raises(bundle.BundleError):
            bundle._header(name, size)
        return
    assert bundle._header(name, size) == expected
