"""Bundle parts left where another process wrote them (`BundleWriter.add_placed`, a round's unit
files' copies written by their workers): the same bundle, byte for byte, as the same parts
copied into the writer's own spool."""
from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.storage.bundle import BundleWriter, Placed, read_bundle_file

META = {"kind": "round", "engine": "reference", "versions": {}, "inputs": {}, "about": {}, "unpacked": {}}

names = st.lists(st.from_regex(r"results/[a-z0-9]{1,8}\.json", fullmatch=True), min_size=1, max_size=12, unique=True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=names, data=st.data())
def test_placed_parts_give_the_bundle_their_bytes_would(tmp_path_factory, names, data):
    folder = tmp_path_factory.mktemp("spools")
    files = [folder / f"spool-{k}" for k in range(3)]
    for f in files:
        f.write_bytes(b"")
    parts = {n: data.draw(st.binary(max_size=3000), label=n) for n in names}
    renewed = data.draw(st.sampled_from(names), label="renewed")
    again = data.draw(st.binary(max_size=700), label="again")
    plain, placed = BundleWriter(io.BytesIO()), BundleWriter(io.BytesIO())
    held_in: dict[str, str] = {}  # the file each placed part is copied from
    for name, part in parts.items():
        plain.add(name, part)
        where = data.draw(st.sampled_from([None, *files]), label=f"where {name}")
        if where is None:
            placed.add(name, part)
            continue
        with open(where, "ab") as fh:
            fh.write(data.draw(st.binary(max_size=40), label="between"))  # what else the file holds
            offset = fh.tell()
            fh.write(part)
        placed.add_placed(name, Placed(str(where), offset, len(part), hashlib.sha256(part).digest()))
        held_in[name] = str(where)
    for writer in (plain, placed):  # a part replaced keeps its place in the manifest, wherever it lay
        writer.renew(renewed, again)
    one, two = io.BytesIO(), io.BytesIO()
    told: list[str] = []

    def done_with(path: str) -> None:  # removed when told: told before its last part is copied, the write fails
        told.append(path)
        os.unlink(path)

    assert plain.write(META, one) == placed.write(META, two, done_with=done_with)
    assert one.getvalue() == two.getvalue()
    held_in.pop(renewed, None)  # (its new bytes are in the writer's own spool)
    assert sorted(told) == sorted(set(held_in.values()))  # each file still holding a part, once


def test_a_placed_part_that_its_file_no_longer_holds_is_named(tmp_path):
    spool = tmp_path / "spool"
    spool.write_bytes(b"0123456789")
    writer = BundleWriter(io.BytesIO())
    writer.add_placed("results/a.json", Placed(str(spool), 4, 20, hashlib.sha256(b"x").digest()))
    try:
        writer.write(META, io.BytesIO())
    except Exception as exc:  # noqa: BLE001 - its message is what is checked
        assert "results/a.json" in str(exc) and "changed" in str(exc)
    else:
        raise AssertionError("a part shorter than recorded was written")


def test_a_bundle_with_placed_parts_reads_back(tmp_path):
    spool = tmp_path / "spool"
    spool.write_bytes(b"..{}..[1]")
    writer = BundleWriter(io.BytesIO())
    writer.add_placed("results/a.json", Placed(str(spool), 2, 2, hashlib.sha256(b"{}").digest()))
    writer.add_placed("results/b.json", Placed(str(spool), 6, 3, hashlib.sha256(b"[1]").digest()))
    out = tmp_path / "b.cchc"
    with open(out, "wb") as fh:
        writer.write(META, fh)
    bundle = read_bundle_file(Path(out))
    assert bundle.results() == {"a.json": b"{}", "b.json": b"[1]"}
