"""What `cchc score` keeps of each unit until the end of a run (a national run has tens of
thousands): compact tables that give back exactly what the lists, tuples and strings they replace
gave — the result files' names, where each unit was first given, the output folder's marker."""
from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

from hypothesis import given, settings, strategies as st

from engine.core.errors import Location
from engine.round.scoring import FilesRead, ResultFiles, _Units
from engine.storage.outdir import MARKER, MARKER_FORMAT, OutputFiles, Staging, marker_lines

_ID = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,12}", fullmatch=True)
_NAME = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=12)


@settings(max_examples=300, deadline=None)
@given(ids=st.lists(_ID, unique=True, max_size=30))
def test_result_files_are_the_names_a_tuple_of_them_held(ids):
    ids = sorted(ids)
    files = ResultFiles(ids)
    whole = tuple(f"units/{u}.json" for u in ids) + ("summary.json",)
    assert tuple(files) == whole and len(files) == len(whole)
    assert [files[i] for i in range(-len(whole), len(whole))] == list(whole) * 2
    assert files[1:-1] == list(whole[1:-1]) and ("summary.json" in files) and (whole[0] in files)


@settings(max_examples=300, deadline=None)
@given(pieces=st.lists(st.lists(st.sampled_from(["/ev/units.csv", "/ev/tasks/a.csv", "/ev/tasks/b é.yaml", "t.csv"]),
                                unique=True), max_size=8), asked=st.integers(0, 8))
def test_the_files_read_are_the_set_of_every_piece_s_reads(pieces, asked):
    reads, plain = FilesRead(), set()
    for k, names in enumerate(pieces):
        reads.add(tuple(sorted(names)))
        plain |= set(names)
        if k == asked:  # asked in the middle of the run: the names made then, and kept up to date
            assert set(reads) == plain
    assert reads == plain and len(reads) == len(plain) and sorted(reads) == sorted(plain)
    assert all(n in reads for n in plain) and "/ev/other.csv" not in reads


@settings(max_examples=300, deadline=None)
@given(given_=st.lists(st.tuples(_ID, st.sampled_from(["a.csv", "b/c.yaml", "d.xlsx"]), st.integers(0, 2 ** 40),
                                 st.integers(0, 300), st.sampled_from(["", "Sheet1!B7", "Trang 2!AA10"]),
                                 st.sampled_from(["a.csv", "b/c.yaml", "d.xlsx"])), max_size=25),
       asked=st.integers(0, 24))
def test_where_a_unit_was_first_given_is_what_a_dict_of_locations_said(given_, asked):
    """`_Units` against the dict it replaces: unit -> (its first place as text, its evidence file)."""
    units, plain = _Units(), {}
    for k, (unit, file, line, col, cell, source) in enumerate(given_):
        at = Location(file, line, col, cell)
        if unit in plain:
            assert unit in units and str(units.first_given(unit)) == plain[unit][0]
            continue
        assert unit not in units
        units.add(unit, at, source)
        plain[unit] = (str(at), source)
        if k == asked:  # the numbers made in the middle of the run, then kept up to date
            assert str(units.first_given(unit)) == str(at)
    assert len(units) == len(plain)
    assert all(units.id(u) == u for u in plain)
    assert list(units.sources().items()) == [(u, plain[u][1]) for u in sorted(plain)]


@settings(max_examples=300, deadline=None)
@given(names=st.lists(_NAME, unique=True, max_size=12), command=st.text(max_size=20))
def test_the_marker_written_a_line_at_a_time_is_the_marker_dumped_whole(names, command):
    names = sorted(names)
    whole = json.dumps({"format": MARKER_FORMAT, "command": command, "files": names}, ensure_ascii=False, indent=1,
                       sort_keys=True) + "\n"
    assert b"".join(marker_lines(command, [n.encode("utf-8") for n in sorted(names)])) == whole.encode("utf-8")


def test_a_staged_folder_lists_its_files_sorted_in_its_marker(tmp_path):
    names = ["units/b.json", "summary.json", "units/a.json", "units/é.json", "report/z.html"]
    with Staging(tmp_path / "out", command="score") as staged:
        for n in names:
            staged.add(n, n.encode())
        written = staged.finish()
    assert isinstance(written, OutputFiles)
    assert list(written) == [tmp_path / "out" / n for n in sorted(names)]
    assert written + [tmp_path / "x"] == [*(tmp_path / "out" / n for n in sorted(names)), tmp_path / "x"]
    assert json.loads((tmp_path / "out" / MARKER).read_text("utf-8"))["files"] == sorted(names)
    assert all((tmp_path / "out" / n).read_bytes() == n.encode() for n in names)


def test_what_is_kept_per_unit_is_compact(tmp_path):
    """20,000 units read, written and listed, each with its task list read: under 200 bytes each
    for what the run keeps of them (a dict of first places with a text per unit, a set of the files
    read, a tuple of file names and the staging folder's list of them took about 700), the ids
    themselves not counted."""
    n = 20_000
    ids = [f"huyen-{k:06d}" for k in range(n)]
    at = [Location("/tmp/evidence/units.csv", 2 + 53 * k, 1) for k in range(n)]
    with Staging(tmp_path / "out", command="score") as staged:
        tracemalloc.start()
        try:
            units, reads = _Units(), FilesRead()
            for k in range(0, n, 64):
                for unit, where in zip(ids[k:k + 64], at[k:k + 64]):
                    units.add(unit, where, "/tmp/evidence/units.csv")
                    staged._list(Path(f"units/{unit}.json"))
                reads.add(["/tmp/evidence/units.csv"] + [f"/tmp/evidence/tasks/{u}.csv" for u in ids[k:k + 64]])
            files = ResultFiles(sorted(ids))
            # what the engine's code and this test made: not what another thread of this test
            # process (a pool's result reader, xdist's own) allocated meanwhile
            made = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(True, "*/engine/*"),
                                                             tracemalloc.Filter(True, __file__)])
            kept = sum(stat.size for stat in made.statistics("filename"))
        finally:
            tracemalloc.stop()
    assert len(files) == n + 1 and len(units) == n and len(reads) == n + 1
    assert kept / n < 200, kept / n
