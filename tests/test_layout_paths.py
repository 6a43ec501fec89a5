"""The paths a bundle's layout names each input by (engine.storage.bundle.lay_out_inputs), found the
quick way: a file's real path from its folder's, found once (`_real_path`), and its path inside
its input folder taken after the folder's absolute path: the same as the slow ways give, links,
'..' and '.' included."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from engine.storage import bundle


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """Folders and files, and links of every kind: to a folder (relative and absolute), to a file,
    to a link, dangling, a loop, and one that goes up."""
    root = tmp_path_factory.mktemp("tree")
    for folder in ("a/b", "c", "a/d"):
        (root / folder).mkdir(parents=True)
    for f in ("a/x.csv", "a/b/y.csv", "c/z.csv", "a/d/w.csv"):
        (root / f).write_text("x")
    links = {"a/lb": "b", "lc": str(root / "c"), "a/b/ly": "y.csv", "a/lly": "b/ly", "c/gone": "nothing",
             "loop1": "loop2", "loop2": "loop1", "a/b/up": "..", "c/la": "../a"}
    for link, target in links.items():
        os.symlink(target, root / link)
    return root


_PARTS = ["a", "b", "c", "d", "x.csv", "y.csv", "z.csv", "w.csv", "lb", "lc", "ly", "lly", "gone", "loop1", "up",
          "la", "none", ".", "..", ""]


def _paths():
    return st.lists(st.sampled_from(_PARTS), min_size=1, max_size=5).map("/".join)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(paths=st.lists(st.tuples(st.booleans(), _paths()), min_size=1, max_size=8))
@example(paths=[(False, "loop1//a")])  # realpath, after a loop of links, takes '/a' as a path of its own
def test_a_real_path_found_from_its_folder_is_the_one_realpath_finds(tree, monkeypatch, paths):
    """Relative and absolute paths, one cache of folders for all of them (as a layout keeps one)."""
    monkeypatch.chdir(tree)
    folders: dict[str, str] = {}
    for absolute, path in paths:
        path = str(tree / path) if absolute else path
        assert bundle._real_path(path, folders) == os.path.realpath(path), path


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(base=_paths(), inner=_paths(), absolute=st.booleans())
def test_a_path_inside_its_folder_is_named_alike_both_ways(tree, monkeypatch, base, inner, absolute):
    """Where the file's absolute path begins with its folder's, what follows is what `_relative` gives."""
    monkeypatch.chdir(tree)
    base = str(tree / base) if absolute else base
    f = os.path.join(base, inner)
    inside = os.path.join(os.path.abspath(base), "")
    quick = os.path.abspath(f)[len(inside):] if os.path.abspath(f).startswith(inside) else ""
    if quick[:1] not in ("", "/"):  # ('//a' from the root '/': a path of its own, which POSIX keeps)
        assert quick == bundle._relative(f, base)


def test_a_layout_names_inputs_by_their_real_paths_too(tree, monkeypatch):
    """The names a layout gives: each file as given, absolute, and real (through the links: the
    first file read through it names a real path)."""
    monkeypatch.chdir(tree)
    files = ("a/x.csv", "a/lb/y.csv", "a/b/ly", "a/lly", "a/b/up/d/w.csv", "c/../a/x.csv")
    layout = bundle.lay_out_inputs({"evidence": [bundle.InputRoot(Path("a"), files)]})
    first: dict[str, str] = {}
    for f in files:
        name = "inputs/evidence/1/" + os.path.relpath(os.path.abspath(f), tree / "a")
        assert layout.names[f] == layout.names[os.path.abspath(f)] == name
        assert layout.names[os.path.realpath(f)] == first.setdefault(os.path.realpath(f), name)
    assert layout.names[str(tree / "a/b/y.csv")] == "inputs/evidence/1/lb/y.csv"
    assert layout.names[str(tree / "a/d/w.csv")] == "inputs/evidence/1/b/up/d/w.csv"
