"""What a worker's copy of a unit file may have left unlocalized (engine.storage.bundle.unknown_paths)
when an input folder is named relatively and without a '/' (`cchc score criteria/set.yaml ...`:
the folder `criteria`): the quick way (by folder, in C) finds what looking at every place finds."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builders import check_copy_check
from engine.storage import bundle

_FILES = ["criteria/a.yaml", "criteria/b c.csv", "criteria/t/x.csv", "criteria/t/y:1.csv", "criteria-x/z.csv",
          "criteria.bak", "1000/n.csv", "ev/u.csv"]
_FOLDERS = ["criteria", "1000", "ev"]  # relative anchors: one a number could also spell


@pytest.fixture(scope="module")
def here(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("here")
    for f in _FILES:
        (root / f).parent.mkdir(parents=True, exist_ok=True)
        (root / f).write_text("x")
    return root


def _texts():
    pieces = st.sampled_from([*_FOLDERS, *(f + "/" for f in _FOLDERS), *_FILES, "criteria/t", "criteria/t/",
                              "criteria/zz.csv", "/", ":", " ", ":12", "x", "-", ".", ",", "'", "(", ")", "_"])
    return st.lists(pieces, max_size=6).map("".join)


def _values():  # strings, and what JSON has outside its strings: numbers and literals
    return st.one_of(_texts(), st.sampled_from([1000, -1000, 10.5, 1e100, True, False, None]))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_relative_folder_without_a_slash_is_looked_into_the_quick_way_alike(here, monkeypatch, data):
    """Property: with relative anchors (`criteria`, a number's `1000`), `unknown_paths` finds what
    looking at every place finds, and a copy localized with the first table is the whole table's
    whenever none of what it finds is in the whole table."""
    monkeypatch.chdir(here)
    every = data.draw(st.lists(st.sampled_from([*_FOLDERS, *_FILES]), min_size=1, max_size=8, unique=True))
    first = data.draw(st.lists(st.sampled_from(every), max_size=len(every), unique=True))
    whole = {f: "inputs/x/" + f for f in every}
    known = {f: whole[f] for f in first}
    values = data.draw(st.lists(_values(), min_size=1, max_size=4))
    keys = data.draw(st.lists(_texts(), min_size=len(values), max_size=len(values), unique=True))
    text = json.dumps(dict(zip(keys, values)), ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    anchors = tuple(data.draw(st.lists(st.sampled_from(_FOLDERS), min_size=1, max_size=2, unique=True)))
    check_copy_check(text, anchors, known, whole)


def test_a_relative_folder_with_a_letter_is_looked_into_the_quick_way():
    """`criteria` (as `cchc score criteria/set.yaml` names its folder) takes the quick way; a name
    a number or a literal could spell outside a string does not."""
    assert bundle._PLAIN_ANCHOR.fullmatch("criteria")
    assert bundle._PLAIN_ANCHOR.fullmatch("/tmp/ev")
    assert bundle._PLAIN_ANCHOR.fullmatch("_x")
    for name in ("1000", "1e5", "true", "null", "false", "NaN", "Infinity", "-1.5"):
        assert not bundle._PLAIN_ANCHOR.fullmatch(name), name
