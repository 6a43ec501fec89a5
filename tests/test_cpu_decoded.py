"""A unit file's copy is localized and checked for unknown input paths from one decoding of its bytes
(engine.storage.bundle `_decoded`): whatever files were localized or checked before, in whatever
order, each gives what it gives read afresh."""
from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.storage import bundle

NAMES = {"/ev/units.csv": "inputs/evidence/1/units.csv", "/ev": "inputs/evidence/1",
         "crit/set.yaml": "inputs/criteria/1/set.yaml"}
ANCHORS = ("/ev", "crit")

_texts = st.lists(st.sampled_from(["/ev/units.csv:3:5", "/ev/tasks/a.csv", "crit/set.yaml", "/ev", "Huyện 1",
                                   "x /ev/units.csv", "a\\b", "", "/evx/units.csv"]), max_size=6)


def _file(values: list[str]) -> bytes:
    return json.dumps({"items": [{"location": v, "n": i} for i, v in enumerate(values)]}, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


def _fresh(op: str, data: bytes) -> object:
    bundle._DECODED[:] = [b"", ""]
    return _run(op, data)


def _run(op: str, data: bytes) -> object:
    if op == "localize":
        return bundle.localizer(NAMES)(data, True)
    return bundle.unknown_paths(data, ANCHORS, NAMES, {})


@settings(max_examples=300, deadline=None)
@given(st.lists(_texts, min_size=1, max_size=4),
       st.lists(st.tuples(st.sampled_from(["localize", "unknown"]), st.integers(0, 3)), max_size=12))
def test_localizing_and_checking_in_any_order_give_what_each_gives_afresh(files, steps):
    datas = [_file(values) for values in files]
    expected = {(op, k): _fresh(op, data) for k, data in enumerate(datas) for op in ("localize", "unknown")}
    for op, k in steps:
        k %= len(datas)
        assert _run(op, datas[k]) == expected[(op, k)]
    equal_but_other = bytes(bytearray(datas[0]))  # the same bytes in another object: decoded again
    assert _run("unknown", equal_but_other) == expected[("unknown", 0)]


def test_a_large_file_is_not_kept(monkeypatch):
    monkeypatch.setattr(bundle, "_DECODED_MOST", 10)
    bundle._DECODED[:] = [b"", ""]
    data = _file(["/ev/units.csv:1:1"])
    assert bundle._decoded(data) == data.decode("utf-8")
    assert bundle._DECODED[0] is not data
