"""A bundle's parts stashed first and named all at once (what `score` does with its unit files) make
the bundle that adding each by name makes, byte for byte."""
from __future__ import annotations

import io
from array import array

import pytest
from hypothesis import given, settings, strategies as st

from engine.round.scoring import ResultFiles, _ResultNames
from engine.storage.bundle import BundleError, BundleWriter, read_bundle

META = {"kind": "score", "engine": "durable", "versions": {}, "inputs": {}, "about": {}}
_IDS = st.text("ab-._0", min_size=1, max_size=5).filter(lambda s: s[0].isalnum())


def _renewed_and_written(writer: BundleWriter, renewed: dict[str, bytes]) -> bytes:
    for name, data in renewed.items():
        writer.renew(name, data)
    out = io.BytesIO()
    writer.write(META, out)
    return out.getvalue()


def _by_name(added: dict[str, bytes], stashed: dict[str, bytes], renewed: dict[str, bytes]) -> bytes:
    writer = BundleWriter(io.BytesIO())
    for name, data in {**added, **stashed}.items():
        writer.add(name, data)
    return _renewed_and_written(writer, renewed)


def _stashed(added: dict[str, bytes], ids: list[str], stashed: dict[str, bytes], renewed: dict[str, bytes]) -> bytes:
    writer = BundleWriter(io.BytesIO())
    for name, data in list(added.items())[:1]:
        writer.add(name, data)
    for unit in ids:  # in the order the units were written
        writer.stash(stashed[f"results/units/{unit}.json"])
    order = array("q", sorted(range(len(ids)), key=ids.__getitem__))
    names = _ResultNames(ResultFiles(ids[k] for k in order))
    writer.name_stashed(names, array("q", (order[i] for i in names.ids)))
    for name, data in list(added.items())[1:]:
        writer.add(name, data)
    return _renewed_and_written(writer, renewed)


@settings(max_examples=150, deadline=None)
@given(st.lists(_IDS, unique=True, max_size=12), st.lists(st.sampled_from(
    ["inputs/evidence/1/units.csv", "results/summary.json", "results/units.json", "results/unit/a.json",
     "results/units/zz/x.json", "z.json"]), unique=True), st.data())
def test_stashed_parts_named_at_once_make_the_bundle_parts_added_by_name_make(ids, other, data):
    stashed = {f"results/units/{u}.json": u.encode() * 3 for u in ids}
    added = {name: name.encode() for name in other}
    renew = data.draw(st.lists(st.sampled_from(sorted({**stashed, **added})), unique=True)) if ids or other else []
    renewed = {name: b"again " + name.encode() for name in renew}
    whole = _stashed(added, ids, stashed, renewed)
    assert whole == _by_name(added, stashed, renewed)
    assert dict(read_bundle(whole).parts) == {**added, **stashed, **renewed}


def test_the_names_of_unit_files_sort_by_name_not_by_id():
    """`a` comes before `a-b` as an id, after it as a file name (`a-b.json` < `a.json`)."""
    ids = ["a", "a-b", "b"]
    names = _ResultNames(ResultFiles(ids))
    assert list(names) == sorted(f"results/units/{u}.json" for u in ids)
    assert list(names.ids) == [1, 0, 2]


def test_a_name_stashed_and_added_again_is_refused():
    writer = BundleWriter(io.BytesIO())
    writer.stash(b"x")
    writer.name_stashed(["results/units/a.json"], [0])
    with pytest.raises(BundleError, match="occurs twice"):
        writer.add("results/units/a.json", b"y")
    writer = BundleWriter(io.BytesIO())
    writer.add("results/units/a.json", b"y")
    writer.stash(b"x")
    with pytest.raises(BundleError, match="occurs twice"):
        writer.name_stashed(["results/units/a.json"], [0])


def test_stashed_names_out_of_order_are_a_mistake_of_the_caller():
    writer = BundleWriter(io.BytesIO())
    writer.stash(b"x")
    writer.stash(b"y")
    with pytest.raises(ValueError, match="out of order"):
        writer.name_stashed(["results/b.json", "results/a.json"], [0, 1])
