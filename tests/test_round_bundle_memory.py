"""The bundle of a national run without its memory growing with the number of units: a large result
file (the summary of every unit) is localized a piece at a time, with the same bytes as whole;
each evidence piece of `score` is let go once it is done; inputs are kept as path strings."""
from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings, strategies as st

from engine.storage import bundle
from engine.storage.bundle import _pieces, localizer, read_under
from engine.storage.results import encode

_TEXT = st.text(alphabet="ab/._- :x1'),;é{}[]", max_size=14)  # no quote, backslash or control: no escapes
_PREFIXES = st.sampled_from(["", "/tmp/ev/", "/tmp/", "crit/", "a,b/"])


@settings(max_examples=300, deadline=None)
@given(paths=st.lists(st.tuples(_PREFIXES, _TEXT).map("".join).filter(lambda p: p not in ("", ".")),
                      min_size=1, max_size=8, unique=True),
       values=st.lists(st.lists(st.one_of(_TEXT, st.integers(0, 7)), max_size=5), max_size=12),
       size=st.integers(1, 64))
def test_json_localized_in_pieces_is_the_json_localized_whole(paths, values, size):
    names = {p: f"inputs/evidence/{i}/x" for i, p in enumerate(paths)}
    texts = ["".join(paths[x % len(paths)] if isinstance(x, int) else x for x in v) for v in values]
    doc = {"units": [{"id": t, "n": i, "path": t, "list": [t, i]} for i, t in enumerate(texts)], "z": texts}
    data = encode(doc)
    assert b"\\" not in data  # the path without escapes, the one localized in pieces
    whole = localizer(names)(data, True)
    before = bundle._PIECE
    bundle._PIECE = size
    try:
        pieced = localizer(names)(data, True)
    finally:
        bundle._PIECE = before
    assert pieced == whole
    assert json.loads(whole) == json.loads(localizer(names)(encode(doc), False))


@settings(max_examples=300, deadline=None)
@given(texts=st.lists(_TEXT, max_size=20), size=st.integers(1, 40))
def test_pieces_end_after_a_comma_outside_every_string(texts, size):
    data = encode({"a": texts, "b": [{"c": t} for t in texts]})
    pieces = list(_pieces(data, size))
    assert b"".join(pieces) == data
    for piece in pieces[:-1]:
        assert piece.endswith(b",") and piece.count(b'"') % 2 == 0 and len(piece) > size


def test_read_under_keeps_the_recorded_names_themselves(tmp_path):
    """The files read under an input are its recorded names, as strings: no object per file."""
    (tmp_path / "tasks").mkdir()
    reads = {str(tmp_path / "tasks" / f"t{i}.csv") for i in range(5)} | {str(tmp_path.parent / "elsewhere.csv")}
    for r in reads:
        Path(r).write_text("x")
    first = [tmp_path / "units.csv"]
    first[0].write_text("u")
    got = read_under(tmp_path, frozenset(reads), first)
    assert got == (str(first[0]), *sorted(r for r in reads if "tasks" in r))
    recorded = {r: r for r in reads}
    assert all(g is recorded[g] for g in got[1:])  # the very strings recorded, not copies


def test_score_lets_each_evidence_piece_go_once_it_is_done(tmp_path, monkeypatch):
    """`cchc score` keeps no evidence piece past its task: by the time the summary is written,
    every piece it read has been let go."""
    import gc

    from engine import load_criteria
    from engine.inputs import evidence
    from engine.round import scoring
    from engine.storage.outdir import Staging
    from rules import get_evaluator

    data = Path(__file__).parent / "data" / "round"
    refs = []
    pieces = evidence.evidence_pieces

    class Piece(tuple):
        pass

    def tracked(*a, **k):
        out = [Piece(p) if isinstance(p, tuple) else p for p in pieces(*a, **k)]
        refs.append(sum(1 for p in out if isinstance(p, Piece)))  # counted, not held
        return out

    monkeypatch.setattr(scoring, "evidence_pieces", tracked)
    monkeypatch.setattr(scoring, "FILES_PER_PIECE", 1)
    seen = []
    encode_summary = scoring.summary_doc

    def at_summary(*a, **k):
        gc.collect()
        seen.append(sum(1 for o in gc.get_objects() if type(o) is Piece))
        return encode_summary(*a, **k)

    monkeypatch.setattr(scoring, "summary_doc", at_summary)
    cs = load_criteria(data / "criteria.yaml")
    with Staging(tmp_path / "out", command="score") as staged:
        run = scoring.score_run(cs, [data / "evidence" / "kho-bac.yaml", data / "evidence" / "so-noi-vu.yaml"],
                                get_evaluator, "reference", staged)
    assert run.units == 2 and refs == [2] and seen and not any(seen)


_PART = st.sampled_from(["a", "b", "tasks", "tasks-1", ".h", "x.csv", "y.yaml", "z.YML", "w.xlsx", "t.txt"])


@settings(max_examples=60, deadline=None)
@given(files=st.lists(st.lists(_PART, min_size=1, max_size=4), max_size=12))
def test_evidence_files_of_a_folder_are_those_a_whole_listing_keeps(tmp_path_factory, files):
    """Task folders are not walked, and the files found are those (and in the order) of a listing
    of everything below the folder, filtered: evidence files, not task lists, nothing hidden."""
    from engine.inputs.evidence import evidence_files

    root = tmp_path_factory.mktemp("ev")
    for parts in files:
        target = root.joinpath(*parts)
        if any(p.is_file() for p in target.parents) or target.is_dir():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("x")
    whole = [f for f in sorted(root.rglob("*")) if f.is_file() and f.suffix.lower() in (".yaml", ".yml", ".csv", ".xlsx")
             and not f.name.startswith(("tasks", ".")) and "tasks" not in f.parts[len(root.parts):-1]]
    assert evidence_files([root]) == whole


@settings(max_examples=200, deadline=None)
@given(paths=st.lists(st.tuples(_PREFIXES, _TEXT).map("".join).filter(lambda p: p not in ("", ".")),
                      min_size=1, max_size=6, unique=True),
       values=st.lists(st.lists(st.one_of(_TEXT, st.integers(0, 5)), max_size=5), max_size=10),
       size=st.integers(1, 48), quote=st.booleans())
def test_a_result_file_localized_as_it_is_read_is_the_file_localized_whole(tmp_path_factory, paths, values, size,
                                                                           quote):
    """A result file read and localized a piece at a time (when it has no escapes; else whole)
    gives the bundle the same bytes as the file localized whole."""
    from engine.storage.bundle import _localized_file

    names = {p: f"inputs/evidence/{i}/x" for i, p in enumerate(paths)}
    texts = ["".join(paths[x % len(paths)] if isinstance(x, int) else x for x in v) for v in values]
    data = encode({"units": [{"id": t, "path": t} for t in texts], "q": '"' if quote else ""})
    f = tmp_path_factory.mktemp("r") / "summary.json"
    f.write_bytes(data)
    local = localizer(names)
    before = bundle._PIECE
    bundle._PIECE = size
    try:
        got = _localized_file(f, local)
        got = got if isinstance(got, bytes) else b"".join(got)
    finally:
        bundle._PIECE = before
    assert got == local(data, True)
