"""Bundles: canonical bytes, the layout of several evidence inputs, every flipped byte found and
named, unsafe member names refused, signatures. A bundle file is a compressed archive: a test that
changes the archive inside compresses it again (`packed`), as a forger would."""
from __future__ import annotations

import io
import json
import re
import tarfile
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from bundle_kit import evidence_tree, rebuild
from engine.storage.bundle import (COMPRESSION, FRAMING, MANIFEST, SEAL, SIGNATURE, BundleError, DamagedBundleError,
                                   _compressed, _encode, _parse, _seal, _unpacked, extract, read_bundle)


def archive(data: bytes) -> bytes:
    """The archive a bundle file holds."""
    return _unpacked(data)[0]


def packed(tar: bytes) -> bytes:
    """A bundle file holding the archive `tar`, compressed as cchc compresses one."""
    return _compressed(tar)


def plain(members: list[tuple[str, bytes]], *, before_tarfile: bool = False) -> bytes:
    """An unsigned bundle's members as an earlier cchc wrote them: a plain archive, not
    compressed, its manifest saying `cchc-bundle/2` (and sealed again)."""
    manifest = dict(members)[MANIFEST].replace(b'"format": "cchc-bundle/3"', b'"format": "cchc-bundle/2"')
    assert SIGNATURE not in dict(members) and b"cchc-bundle/2" in manifest
    return _encode([(MANIFEST, manifest), (SEAL, _seal(manifest)), *members[2:]], before_tarfile=before_tarfile)


def run_score(root: Path, *extra: str) -> Path:
    """`cchc score` run from `root` with relative paths, as a user in that folder would type it."""
    from typer.testing import CliRunner

    from cli import app

    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        r = CliRunner().invoke(app, ["score", "criteria.yaml", "ho-so", "so-tu-phap/so-tu-phap.yaml",
                                     "--out", "out", *extra])
    assert r.exit_code == 0, r.output
    return root / "out" / "bundle.cchc"


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    """One `cchc score` run over the evidence tree; its bundle bytes and paths."""
    root = tmp_path_factory.mktemp("run")
    criteria, evidence = evidence_tree(root)
    bundle = run_score(root)
    data = bundle.read_bytes()
    return {"root": root, "criteria": criteria, "evidence": evidence, "bundle": bundle, "data": data,
            "archive": archive(data)}


def regions(data: bytes) -> list[tuple[str, range]]:
    """(part, byte range) for every byte of a bundle's archive: each member's data is named by the
    member, headers, padding and the end-of-archive marker are the container framing."""
    out = []
    for m in _parse(data):
        start = m.offset + 512
        end = start + len(m.data)
        out.append((FRAMING, range(m.offset, start)))
        out.append((m.name, range(start, end)))
        out.append((FRAMING, range(end, end + (-len(m.data)) % 512)))
    out.append((FRAMING, range(len(data) - 1024, len(data))))
    assert sum(len(r) for _, r in out) == len(data)
    return out


def flip(data: bytes, i: int, mask: int = 0x01) -> bytes:
    x = bytearray(data)
    x[i] ^= mask
    return bytes(x)


# ---------------------------------------------------------------- canonical bytes and layout

def test_same_inputs_give_the_same_bundle_bytes(scored, cchc, tmp_path):
    # the same inputs in another place, scored the same way: the same bytes
    elsewhere = tmp_path / "elsewhere"
    evidence_tree(elsewhere)
    assert run_score(elsewhere).read_bytes() == scored["data"]
    # through the API, twice
    from engine import load_criteria, load_evidence, score
    from engine.audit.replay import score_bundle
    from engine.storage.results import result_files
    from engine.evaluation.reference import ReferenceEvaluator

    def api() -> bytes:
        cs = load_criteria(scored["criteria"])
        ev = load_evidence(scored["evidence"], cs)
        files = result_files(cs, score(cs, ev, ReferenceEvaluator()), "reference", [str(w) for w in ev.warnings])
        return score_bundle(scored["criteria"], scored["evidence"], cs, ev, files, "reference")

    assert api() == api()
    # --bundle elsewhere: the results folder holds no bundle
    r = cchc("score", scored["criteria"], *scored["evidence"], "--out", tmp_path / "o2",
             "--bundle", tmp_path / "b" / "run.cchc")
    assert r.exit_code == 0, r.output
    assert read_bundle((tmp_path / "b" / "run.cchc").read_bytes()).kind == "score"
    assert not (tmp_path / "o2" / "bundle.cchc").exists() and (tmp_path / "o2" / "summary.json").exists()


def test_the_bundle_is_one_zstandard_frame_of_a_plain_canonical_tar(scored):
    import zstandard

    frame = zstandard.get_frame_parameters(scored["data"])
    assert frame.has_checksum and frame.content_size == zstandard.CONTENTSIZE_UNKNOWN
    with zstandard.ZstdDecompressor().stream_reader(scored["data"]) as unpacking:  # a standard reader
        tar_bytes = unpacking.read()
    assert tar_bytes == scored["archive"] and len(scored["data"]) < len(tar_bytes) / 3
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        infos = tar.getmembers()
    assert [i.name for i in infos][:2] == [MANIFEST, SEAL]
    assert all(i.isfile() and i.mtime == 0 and i.uid == 0 and i.gid == 0 and i.mode == 0o644 for i in infos)
    names = [i.name for i in infos][2:]
    assert names == sorted(names)


def test_layout_of_several_evidence_inputs(scored):
    b = read_bundle(scored["data"])
    m = b.manifest()
    assert m["kind"] == "score" and m["engine"] == "durable"
    assert set(m["versions"]) == {"cchc", "durable_rules", "python"}
    assert m["inputs"] == {"criteria": ["inputs/criteria/1/criteria.yaml"],
                           "evidence": ["inputs/evidence/1/", "inputs/evidence/2/so-tu-phap.yaml"]}
    names = {n for n, _ in b.parts}
    # the folder: its evidence files and the citation file they reference, not the unread file
    assert {"inputs/evidence/1/so-noi-vu.yaml", "inputs/evidence/1/communes.csv",
            "inputs/evidence/1/tai-lieu/30-KH-SNV.pdf"} <= names
    assert "inputs/evidence/1/khong-dung.pdf" not in names
    # the single file: itself, its task list and its citation file, beside it
    assert {"inputs/evidence/2/so-tu-phap.yaml", "inputs/evidence/2/ke-hoach/nhiem-vu.csv",
            "inputs/evidence/2/scan/05-KH-STP.pdf"} <= names
    # the results as written, the input paths they quote given as the inputs' places in the bundle;
    # every part's bytes are the input's bytes
    out = scored["root"] / "out"

    def placed(data: bytes) -> bytes:
        data = re.sub(rb"(?<![\w./-])ho-so/", b"inputs/evidence/1/", data)
        return re.sub(rb"(?<![\w./-])so-tu-phap/", b"inputs/evidence/2/", data)

    assert b"ho-so/so-noi-vu.yaml:" in (out / "units" / "so-noi-vu.json").read_bytes()
    assert b.part("results/summary.json") == placed((out / "summary.json").read_bytes())
    for unit in ("so-noi-vu", "so-tu-phap", "xa-an-binh"):
        assert b.part(f"results/units/{unit}.json") == placed((out / "units" / f"{unit}.json").read_bytes())
    assert b.part("inputs/evidence/2/ke-hoach/nhiem-vu.csv") == \
        (scored["root"] / "so-tu-phap" / "ke-hoach" / "nhiem-vu.csv").read_bytes()
    assert set(m["parts"]) == names
    # no absolute path of this machine in the hashed content (the results quote the paths as the
    # user typed them: relative here)
    for name, data in [(MANIFEST, b.manifest_bytes), *b.parts]:
        assert str(scored["root"]).encode() not in data, name
        assert str(Path.cwd()).encode() not in data, name


def test_extract_rebuilds_the_input_folders(scored, tmp_path):
    roles = extract(read_bundle(scored["data"]), tmp_path)
    assert roles["evidence"][0].is_dir() and roles["evidence"][1].is_file()
    assert (roles["evidence"][1].parent / "scan" / "05-KH-STP.pdf").read_bytes() == b"%PDF-1.4 ke hoach CCHC\n"
    assert not (tmp_path / "results").exists()


# ---------------------------------------------------------------- the bytes, pinned

# Small fixed members (a name longer than a ustar name field, non-ASCII names, an empty part, a
# part of exactly two blocks) and fixed metadata: the bundle's bytes depend on nothing else.
GOLDEN_META = {"kind": "score", "engine": "reference",
               "versions": {"cchc": "0.1.0", "durable_rules": "2.0.28", "python": "3.11.0"},
               "inputs": {"criteria": ["inputs/criteria/1/criteria.yaml"], "evidence": ["inputs/evidence/1/"]},
               "about": {"criteria_id": "mau", "year": 2023}, "unpacked": {}}
LONG = "inputs/evidence/1/" + "/".join(["hồ-sơ-cải-cách-hành-chính"] * 4) + "/báo-cáo.yaml"
GOLDEN_PARTS = {"inputs/criteria/1/criteria.yaml": "id: mau\ntitle: Bộ tiêu chí mẫu\n".encode(),
                LONG: b"unit: so-noi-vu\n",
                "inputs/evidence/1/empty.csv": b"",
                "results/block.bin": bytes(range(256)) * 2,
                "results/summary.json": b'{"format": "cchc-summary/1"}\n'}
GOLDEN_ARCHIVE_SHA256 = "d9d550a8a0b5e59fdce7d02e00d00a7050aa989297635b671540766592b7b0c4"  # the archive inside
GOLDEN_PLAIN_SHA256 = "dccd140f4d8030a43c1f088cfec3a34259d031ee1d20da214e4fc2c1bcb3abf4"  # as cchc-bundle/2 wrote it
GOLDEN_SHA256 = "a3e2a49f8179f5737f258be2ec84196abd3f8ed5e99a12d8b989a1cf7035c4a2"  # the bundle file
# the same members as cchc wrote them before it wrote bundles through tarfile
WRITTEN_BEFORE = Path(__file__).parent / "data" / "bundles" / "written-before-tarfile.cchc"


def test_the_bundle_bytes_are_pinned():
    from engine.storage.bundle import assemble, sha256

    data = assemble(GOLDEN_META, GOLDEN_PARTS)
    assert sha256(data) == GOLDEN_SHA256
    tar_bytes = archive(data)
    assert sha256(tar_bytes) == GOLDEN_ARCHIVE_SHA256 and len(tar_bytes) == 8704
    # the archive is the one written before bundles were compressed, but for the format it names
    assert sha256(plain([(m.name, m.data) for m in _parse(tar_bytes)])) == GOLDEN_PLAIN_SHA256
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        infos = tar.getmembers()
    assert [i.name for i in infos] == [MANIFEST, SEAL, *sorted(GOLDEN_PARTS, key=str.encode)]
    assert all((i.type, i.mode, i.uid, i.gid, i.uname, i.gname, i.mtime) == (tarfile.REGTYPE, 0o644, 0, 0, "", "", 0)
               for i in infos)
    assert tar_bytes.endswith(bytes(1024)) and read_bundle(data).results()["block.bin"] == bytes(range(256)) * 2


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([b"manifest.json", b"\0" * 512, b"inputs/evidence/1/so-noi-vu.yaml",
                                 "Kế hoạch CCHC năm 2023".encode(), bytes(range(256))]), max_size=3000),
       st.lists(st.integers(1, 300_000), min_size=1, max_size=40))
def test_the_compressed_bytes_depend_on_the_archive_alone(words, cuts):
    """However the archive is fed to the compressor (`BundleWriter.write` gives it header by
    header, block by block): the bytes a reader makes of it."""
    tar = b"".join(words) * (1 + len(cuts) % 7)
    assert fed(tar, cuts) == packed(tar)


def fed(tar: bytes, cuts: list[int]) -> bytes:
    """`tar` compressed as `BundleWriter.write` does it, fed to the compressor in pieces of the
    sizes `cuts`, taken over and over until it is all given."""
    from engine.storage.bundle import _compressing

    out, start = io.BytesIO(), 0
    with _compressing(out) as frame:
        while start < len(tar):
            for cut in cuts:
                frame.write(tar[start:start + cut])
                start += cut
    return out.getvalue()


def test_a_large_archive_compresses_the_same_however_it_is_fed():
    """Past the library's buffers and blocks (a national run's bundle is hundreds of megabytes):
    the same bytes, fed whole or in uneven pieces."""
    import random

    rnd = random.Random(7)
    tar = b"".join(rnd.choice([b'"points": "0.5", ', b"\0" * 512, "Cải cách hành chính ".encode(),
                               rnd.randbytes(40)]) for _ in range(400_000))
    assert len(tar) > 40 * 1024 * 1024
    cuts = [rnd.choice([1, 512, 70_000, 1 << 20, 5 << 20]) for _ in range(500)]
    assert fed(tar, cuts) == fed(tar, [len(tar)]) == packed(tar)


def test_bundles_written_before_tarfile_are_read_as_the_same_members(scored, cchc, tmp_path):
    """The earlier writer differed only in the device-number fields of each header (zeros, where
    tarfile leaves them empty), and wrote plain archives (`cchc-bundle/2`): its bundles still
    verify, hold the same members and replay."""
    from engine.storage.bundle import assemble

    before = WRITTEN_BEFORE.read_bytes()
    golden = [(m.name, m.data) for m in _parse(archive(assemble(GOLDEN_META, GOLDEN_PARTS)))]
    now = plain(golden)  # what cchc wrote of them before it compressed its bundles
    assert before != now and len(before) == len(now)
    assert read_bundle(before).parts == read_bundle(now).parts == tuple(golden[2:])
    assert read_bundle(before).manifest_bytes == read_bundle(now).manifest_bytes
    assert plain(golden, before_tarfile=True) == before
    assert {i // 512 for i in range(len(now)) if now[i] != before[i]} == {m.offset // 512 for m in _parse(now)}
    # a real run's bundle in the earlier forms replays identically
    members = [(m.name, m.data) for m in _parse(scored["archive"])]
    for form in (plain(members), plain(members, before_tarfile=True)):
        earlier = tmp_path / "earlier.cchc"
        earlier.write_bytes(form)
        r = cchc("replay", earlier)
        assert r.exit_code == 0 and "identical" in r.output, r.output
    # one archive holds one form: a header of the other form among them is damage
    mixed = _encode(members[:1])[:-1024] + _encode(members[1:], before_tarfile=True)
    with pytest.raises(DamagedBundleError) as exc:
        read_bundle(packed(mixed))
    assert exc.value.part == FRAMING and "order" in str(exc.value)


def test_the_format_and_the_container_go_together(scored):
    """A `cchc-bundle/3` manifest comes compressed, a `cchc-bundle/2` one plain: either in the
    other container is refused, named by the manifest."""
    members = [(m.name, m.data) for m in _parse(scored["archive"])]
    with pytest.raises(DamagedBundleError, match="not a cchc-bundle/2 manifest") as exc:
        read_bundle(_encode(members))
    assert exc.value.part == MANIFEST
    with pytest.raises(DamagedBundleError, match="not a cchc-bundle/3 manifest") as exc:
        read_bundle(packed(plain(members)))
    assert exc.value.part == MANIFEST


# ---------------------------------------------------------------- every flipped byte is found and named

def test_a_flipped_byte_in_every_framing_byte_and_record_is_named(scored):
    """In the archive, compressed again around it: every byte of the headers, padding, end marker,
    manifest and seal; in the other parts the first, the last and every 61st byte (the full sweep
    is the slow test below)."""
    data = scored["archive"]
    checked = set()
    for part, rng in regions(data):
        every = part in (FRAMING, MANIFEST, SEAL)
        picks = list(rng) if every else sorted({rng.start, rng.stop - 1, *rng[::61]})
        for i in picks:
            with pytest.raises(BundleError) as exc:
                read_bundle(packed(flip(data, i)))
            assert isinstance(exc.value, DamagedBundleError), (i, str(exc.value))
            assert exc.value.part == part, (i, part, str(exc.value))
            checked.add(part)
    assert {FRAMING, MANIFEST, SEAL} <= checked
    assert {n for n, _ in read_bundle(scored["data"]).parts} <= checked


def flipped_in_the_file(data: bytes, step: int) -> None:
    """Every `step`-th byte of the bundle file itself flipped (two ways): the compressed archive
    is damaged (its first four bytes, the frame's magic number: then it is no frame, and read as a
    plain archive it is none either)."""
    for i in range(0, len(data), step):
        for mask in (0x01, 0x80):
            with pytest.raises(DamagedBundleError) as exc:
                read_bundle(flip(data, i, mask))
            assert exc.value.part == (FRAMING if i < 4 else COMPRESSION), (i, str(exc.value))


def test_a_flipped_byte_in_the_compressed_file_is_found(scored):
    flipped_in_the_file(scored["data"], 7)


@pytest.mark.slow
def test_every_single_byte_flip_is_detected(scored):
    flipped_in_the_file(scored["data"], 1)
    data = scored["archive"]
    for part, rng in regions(data):
        for i in rng:
            for mask in (0x01, 0x80):
                with pytest.raises(DamagedBundleError) as exc:
                    read_bundle(packed(flip(data, i, mask)))
                assert exc.value.part == part


def test_replay_names_the_damaged_part_with_exit_2(scored, cchc, tmp_path):
    """One flipped byte in each member, each header, each padding and the end marker, through
    the command line (the archive compressed again around it): exit 2, the part named, no
    traceback; so too the compressed file damaged, cut short or followed by more bytes."""
    data = scored["archive"]
    damaged = tmp_path / "damaged.cchc"
    for part, rng in regions(data):
        if not len(rng):
            continue
        damaged.write_bytes(packed(flip(data, rng.start + len(rng) // 2, 0xFF)))
        r = cchc("replay", damaged)
        assert r.exit_code == 2, (part, rng, r.output)
        assert "damaged or was altered" in r.output and f": {part}: " in r.output, (part, r.output)
        assert "Traceback" not in r.output
    truncated = tmp_path / "truncated.cchc"
    truncated.write_bytes(packed(data[:-700]))
    r = cchc("replay", truncated)
    assert r.exit_code == 2 and FRAMING in r.output
    extra = tmp_path / "extra.cchc"
    extra.write_bytes(packed(data + b"\0" * 512))
    r = cchc("replay", extra)
    assert r.exit_code == 2 and "end-of-archive" in r.output
    whole = scored["data"]
    for name, changed in [("damaged", flip(whole, len(whole) // 2, 0xFF)), ("cut", whole[:-10]),
                          ("longer", whole + b"\0"), ("twice", whole * 2)]:
        (tmp_path / name).write_bytes(changed)
        r = cchc("replay", tmp_path / name)
        assert r.exit_code == 2 and f": {COMPRESSION}: the compressed archive is damaged" in r.output, r.output
        assert "Traceback" not in r.output


def test_a_part_missing_from_the_bundle_or_the_manifest(scored):
    members = [(m.name, m.data) for m in _parse(scored["archive"])]
    head, parts = members[:2], members[2:]
    with pytest.raises(DamagedBundleError) as exc:
        read_bundle(packed(_encode(head + parts[1:])))
    assert exc.value.part == parts[0][0] and "missing" in str(exc.value)
    with pytest.raises(DamagedBundleError) as exc:
        read_bundle(packed(_encode(head + parts + [("results/zz-extra.json", b"{}\n")])))
    assert exc.value.part == "results/zz-extra.json" and "not listed" in str(exc.value)
    with pytest.raises(DamagedBundleError) as exc:  # the same members in another order
        read_bundle(packed(_encode(head + parts[::-1])))
    assert exc.value.part == FRAMING and "order" in str(exc.value)


def test_not_a_bundle(tmp_path, cchc):
    junk = tmp_path / "junk.cchc"
    junk.write_bytes(b"PK\x03\x04 this is a zip file, not a bundle" + bytes(2000))
    r = cchc("replay", junk)
    assert r.exit_code == 2 and FRAMING in r.output
    r = cchc("replay", tmp_path / "nothing-here.cchc")
    assert r.exit_code == 2 and "cannot read bundle" in r.output
    r = cchc("replay", tmp_path)
    assert r.exit_code == 2 and "folder" in r.output


def test_a_size_no_canonical_header_holds_is_blamed_on_the_size_field():
    """A size in tar's base-256 form, larger than a ustar size field holds: the header is not
    canonical, and the field named is the size (not the name, the first field of an empty header)."""
    from engine.storage.bundle import _header

    h = bytearray(_header("inputs/evidence/1/x.yaml", 0))
    h[124:136] = b"\x80" + (2 ** 40).to_bytes(11, "big")
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    with pytest.raises(DamagedBundleError, match=r"not in canonical form \(field size\)") as exc:
        read_bundle(packed(bytes(h) + bytes(1024)))
    assert exc.value.part == FRAMING


def test_an_archive_of_more_members_than_the_limit_is_refused(scored, tmp_path, cchc, monkeypatch):
    """Empty members cost a few bytes each compressed, and the reader a record each: counted as
    they are read, against $CCHC_MAX_BUNDLE_PARTS."""
    many = tmp_path / "many.cchc"
    many.write_bytes(packed(_encode([(f"inputs/x/{i:06d}", b"") for i in range(5_000)])))
    assert many.stat().st_size < 50_000
    monkeypatch.setenv("CCHC_MAX_BUNDLE_PARTS", "1000")
    r = cchc("replay", many)
    assert r.exit_code == 2 and f": {FRAMING}: " in r.output and "over the limit of 1000 parts" in r.output \
        and "CCHC_MAX_BUNDLE_PARTS" in r.output, r.output
    members = len(_parse(scored["archive"]))
    monkeypatch.setenv("CCHC_MAX_BUNDLE_PARTS", str(members))  # a bundle of exactly as many: read
    assert read_bundle(scored["data"]).kind == "score"
    monkeypatch.setenv("CCHC_MAX_BUNDLE_PARTS", str(members - 1))
    with pytest.raises(BundleError, match="CCHC_MAX_BUNDLE_PARTS"):
        read_bundle(scored["data"])


def test_a_frame_that_asks_for_a_large_window_is_refused(tmp_path, cchc):
    """A frame may ask its reader to keep up to 128 MiB of what it unpacked (the library's default
    limit); a bundle's asks for 512 KiB, and one asking for more is refused before it is unpacked."""
    import zstandard

    out = io.BytesIO()
    with zstandard.ZstdCompressor(compression_params=zstandard.ZstdCompressionParameters.from_level(
            1, window_log=27, write_checksum=1, write_content_size=0)).stream_writer(out, closefd=False) as frame:
        frame.write(golden_archive())  # streamed: its size not told, the frame keeps the window asked
    wide = out.getvalue()
    assert zstandard.get_frame_parameters(wide).window_size == 1 << 27
    bundle = tmp_path / "wide.cchc"
    bundle.write_bytes(wide)
    r = cchc("replay", bundle)
    assert r.exit_code == 2 and f": {COMPRESSION}: the compressed archive is damaged" in r.output, r.output
    assert "too much memory" in r.output, r.output  # the library's own reason: refused, not unpacked


def golden_archive() -> bytes:
    """The archive inside the bundle of the fixed members below."""
    from engine.storage.bundle import assemble

    return archive(assemble(GOLDEN_META, GOLDEN_PARTS))


def test_an_archive_that_unpacks_beyond_the_limit_is_refused(tmp_path, cchc, monkeypatch):
    """A small file that unpacks to more than $CCHC_MAX_BUNDLE_MB (a compression bomb) is refused
    while it is unpacked, by the limit and the variable that raises it."""
    bomb = tmp_path / "bomb.cchc"
    bomb.write_bytes(packed(bytes(3 * 1024 * 1024)))
    assert bomb.stat().st_size < 4096
    monkeypatch.setenv("CCHC_MAX_BUNDLE_MB", "2")
    r = cchc("replay", bomb)
    assert r.exit_code == 2 and COMPRESSION in r.output and "CCHC_MAX_BUNDLE_MB" in r.output, r.output
    monkeypatch.setenv("CCHC_MAX_BUNDLE_MB", "4")  # within the limit: unpacked, and found to be no archive
    r = cchc("replay", bomb)
    assert r.exit_code == 2 and FRAMING in r.output and "CCHC_MAX_BUNDLE_MB" not in r.output, r.output


# ---------------------------------------------------------------- unsafe member names

def _tar_with(name: str, *, kind: bytes = tarfile.REGTYPE, linkname: str = "") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo(name)
        info.type = kind
        info.linkname = linkname
        payload = b"" if kind != tarfile.REGTYPE else b"x"
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    return buf.getvalue()


@pytest.mark.parametrize("name", ["../evil.yaml", "inputs/evidence/1/../../../evil", "/etc/passwd",
                                  "inputs//x", "inputs/./x", "C:/windows/x", "inputs\\..\\x"])
def test_unsafe_member_names_are_refused(name, tmp_path, cchc):
    with pytest.raises(BundleError) as exc:
        read_bundle(_tar_with(name))
    assert "refused" in str(exc.value)
    crafted = packed(_encode([(name, b"x")]))  # canonical framing around the bad name
    with pytest.raises(BundleError) as exc:
        read_bundle(crafted)
    assert "refused" in str(exc.value) and exc.value.part == name
    path = tmp_path / "evil.cchc"
    path.write_bytes(crafted)
    r = cchc("replay", path)
    assert r.exit_code == 2 and "refused" in r.output
    assert not (tmp_path.parent / "evil.yaml").exists()


@pytest.mark.parametrize("kind", [tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.DIRTYPE])
def test_links_and_folders_are_refused(kind):
    with pytest.raises(BundleError) as exc:
        read_bundle(_tar_with("inputs/evidence/1/link", kind=kind, linkname="/etc/passwd"))
    assert "only regular files" in str(exc.value)


def test_writing_refuses_unsafe_names_and_a_manifest_with_escaping_inputs(scored):
    with pytest.raises(BundleError):
        rebuild(scored["data"], lambda parts: parts.update({"../x": b"1"}))
    b = read_bundle(scored["data"])
    meta = {k: v for k, v in b.manifest().items() if k not in ("format", "parts")}
    meta["inputs"] = {"evidence": ["inputs/../../etc/"]}
    from engine.storage.bundle import assemble

    with pytest.raises(BundleError) as exc:
        read_bundle(assemble(meta, dict(b.parts)))
    assert "refused" in str(exc.value)


# ---------------------------------------------------------------- signatures

def test_signed_bundles(scored, cchc, tmp_path):
    key = tmp_path / "keys" / "snv"
    r = cchc("keygen", key)
    assert r.exit_code == 0, r.output
    assert (key.stat().st_mode & 0o777) == 0o600 and Path(f"{key}.pub").exists()
    assert cchc("keygen", key).exit_code == 2  # never overwrites a key silently
    out = tmp_path / "signed"
    r = cchc("score", scored["criteria"], *scored["evidence"], "--out", out, "--sign", key)
    assert r.exit_code == 0, r.output
    data = (out / "bundle.cchc").read_bytes()
    b = read_bundle(data)
    assert b.signer is not None
    # signing is deterministic (Ed25519): the same inputs, the same signed bytes
    r = cchc("score", scored["criteria"], *scored["evidence"], "--out", tmp_path / "signed2", "--sign", key)
    assert (tmp_path / "signed2" / "bundle.cchc").read_bytes() == data
    r = cchc("replay", out / "bundle.cchc", "--public-key", f"{key}.pub")
    assert r.exit_code == 0 and f"signed by key {b.signer}" in r.output, r.output
    # every byte of the signature record is covered
    sig = next(m for m in _parse(archive(data)) if m.name == SIGNATURE)
    start = sig.offset + 512
    for i in range(start, start + len(sig.data)):
        with pytest.raises(DamagedBundleError) as exc:
            read_bundle(packed(flip(archive(data), i)))
        assert exc.value.part == SIGNATURE
    # altered content, re-hashed and re-sealed, under the old signature: the signature fails
    def edit(parts):
        doc = json.loads(parts["results/summary.json"])
        doc["units"][0]["points"] = "20"
        parts["results/summary.json"] = json.dumps(doc).encode()
    consistent = rebuild(data, edit)
    assert read_bundle(consistent).signer is None
    members = [(m.name, m.data) for m in _parse(archive(consistent))]
    members.insert(2, (SIGNATURE, {m.name: m.data for m in _parse(archive(data))}[SIGNATURE]))
    forged = tmp_path / "forged.cchc"
    forged.write_bytes(packed(_encode(members)))
    r = cchc("replay", forged)
    assert r.exit_code == 2 and "bad signature" in r.output, r.output
    # a required signer: an unsigned bundle, or another key, is refused
    other = tmp_path / "keys" / "other"
    assert cchc("keygen", other).exit_code == 0
    r = cchc("replay", out / "bundle.cchc", "--public-key", f"{other}.pub")
    assert r.exit_code == 2 and "not by the required key" in r.output
    r = cchc("replay", scored["bundle"], "--public-key", f"{key}.pub")
    assert r.exit_code == 2 and "not signed" in r.output
    r = cchc("score", scored["criteria"], *scored["evidence"], "--out", tmp_path / "x", "--sign", f"{key}.pub")
    assert r.exit_code == 2 and "private key" in r.output


def test_the_manifest_hash_is_checkable_with_standard_tools(scored, tmp_path):
    import hashlib

    members = {m.name: m.data for m in _parse(scored["archive"])}
    first, seal = members[SEAL].decode().splitlines()
    assert first == f"{hashlib.sha256(members[MANIFEST]).hexdigest()}  {MANIFEST}"
    assert seal == f"# seal {hashlib.sha256((first + chr(10)).encode()).hexdigest()}"
    doc = json.loads(members[MANIFEST])
    for name, entry in doc["parts"].items():
        assert hashlib.sha256(members[name]).hexdigest() == entry["sha256"]


def test_parts_that_cannot_be_extracted_are_refused(scored, tmp_path):
    """A file and a folder of the same name: the bundle reads, but extraction stops with a message."""
    b = read_bundle(scored["data"])
    meta = {k: v for k, v in b.manifest().items() if k not in ("format", "parts")}
    from engine.storage.bundle import assemble

    clash = read_bundle(assemble(meta, {**dict(b.parts), "inputs/evidence/1/so-noi-vu.yaml/x": b"1"}))
    with pytest.raises(BundleError, match="cannot be extracted"):
        extract(clash, tmp_path)


def test_long_and_vietnamese_member_names(scored):
    b = read_bundle(scored["data"])
    meta = {k: v for k, v in b.manifest().items() if k not in ("format", "parts")}
    from engine.storage.bundle import assemble

    long_name = "inputs/evidence/1/" + "tài-liệu-kiểm-chứng-" * 4 + "/" + "báo-cáo-" * 8 + ".pdf"
    assert 100 < len(long_name.encode()) <= 255
    data = assemble(meta, {**dict(b.parts), long_name: b"%PDF"})
    assert read_bundle(data).part(long_name) == b"%PDF"
    with tarfile.open(fileobj=io.BytesIO(archive(data))) as tar:  # standard readers see the same name
        assert long_name in tar.getnames()
    with pytest.raises(BundleError, match="path too long"):
        assemble(meta, {"inputs/" + "x" * 300: b""})


# ---------------------------------------------------------------- every file read, from any folder

def _table_evidence(root: Path) -> tuple[Path, Path]:
    """The sample criteria and a folder whose CSV and Excel rows name task lists in their value
    cells, with citation files beside them."""
    import openpyxl

    from bundle_kit import DATA, TASKS

    folder = root / "bang"
    (folder / "tasks").mkdir(parents=True)
    (folder / "tasks" / "xa-an-binh.csv").write_text(TASKS, "utf-8")
    (folder / "tasks" / "xa-binh-minh.csv").write_text(TASKS.replace("2023-09-20", ""), "utf-8")
    (folder / "scan").mkdir()
    (folder / "scan" / "kh.pdf").write_bytes(b"%PDF-1.4 kh\n")
    header = "unit_id,unit_name,unit_type,period,metric,option,value,numerator,denominator,document,date,issuer,file\n"
    (folder / "xa-an-binh.csv").write_text(
        header + "xa-an-binh,UBND xã An Bình,commune,2023,plan_tasks,,tasks/xa-an-binh.csv,,,,,,\n"
        "xa-an-binh,UBND xã An Bình,commune,2023,plan_issued,,2023-02-10,,,03/KH,,UBND,scan/kh.pdf\n", "utf-8")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header.strip().split(","))
    ws.append(["xa-binh-minh", "UBND xã Bình Minh", "commune", "2023", "plan_tasks", None, "tasks/xa-binh-minh.csv"])
    wb.save(folder / "xa-binh-minh.xlsx")
    criteria = root / "criteria.yaml"
    criteria.write_text((DATA / "sample-criteria.yaml").read_text("utf-8"), "utf-8")
    return criteria, folder


@pytest.mark.parametrize("engine", ["durable", "reference"])
def test_task_lists_named_by_csv_and_excel_rows_are_packed_and_replay(tmp_path, cchc, engine):
    criteria, folder = _table_evidence(tmp_path)
    r = cchc("score", criteria, folder, "--out", tmp_path / "out")
    assert r.exit_code == 0, r.output
    b = read_bundle((tmp_path / "out" / "bundle.cchc").read_bytes())
    names = {n for n, _ in b.parts}
    assert {"inputs/evidence/1/tasks/xa-an-binh.csv", "inputs/evidence/1/tasks/xa-binh-minh.csv",
            "inputs/evidence/1/scan/kh.pdf", "inputs/evidence/1/xa-binh-minh.xlsx"} <= names
    r = cchc("replay", tmp_path / "out" / "bundle.cchc", "--engine", engine)
    assert r.exit_code == 0 and "identical" in r.output, r.output


def test_the_same_inputs_from_any_folder_and_any_spelling_give_the_same_bytes(scored, tmp_path):
    """Relative paths from the run's folder, absolute paths, and relative paths from another
    folder (with a trailing slash): one bundle."""
    from typer.testing import CliRunner

    from cli import app

    root = scored["root"]
    spellings = [
        (tmp_path, [root / "criteria.yaml", root / "ho-so", root / "so-tu-phap" / "so-tu-phap.yaml"]),
        (root / "ho-so", ["../criteria.yaml", "../ho-so/", "../so-tu-phap/so-tu-phap.yaml"]),
    ]
    for n, (cwd, args) in enumerate(spellings):
        with pytest.MonkeyPatch.context() as mp:
            mp.chdir(cwd)
            r = CliRunner().invoke(app, ["score", *map(str, args), "--out", str(tmp_path / f"o{n}")])
        assert r.exit_code == 0, r.output
        assert (tmp_path / f"o{n}" / "bundle.cchc").read_bytes() == scored["data"], cwd


# ---------------------------------------------------------------- the signature is sealed

def test_a_stripped_signature_is_tampering(scored, cchc, tmp_path):
    key = tmp_path / "k"
    assert cchc("keygen", key).exit_code == 0
    r = cchc("score", scored["criteria"], *scored["evidence"], "--out", tmp_path / "s", "--sign", key)
    assert r.exit_code == 0, r.output
    data = (tmp_path / "s" / "bundle.cchc").read_bytes()
    signer = read_bundle(data).signer
    assert json.loads(read_bundle(data).manifest_bytes)["signer"] == signer
    assert json.loads(read_bundle(scored["data"]).manifest_bytes)["signer"] is None
    # the signature removed, the rest re-encoded canonically (manifest and seal intact)
    members = [(m.name, m.data) for m in _parse(archive(data)) if m.name != SIGNATURE]
    stripped = tmp_path / "stripped.cchc"
    stripped.write_bytes(packed(_encode(members)))
    r = cchc("replay", stripped)
    assert r.exit_code == 2 and "signature.json" in r.output and f"signed by key {signer}" in r.output \
        and "removed" in r.output, r.output
    # an attacker who re-hashes and re-seals better results, and drops the signature he cannot make
    b = read_bundle(data)

    def better(parts: dict) -> None:
        doc = json.loads(parts["results/summary.json"])
        doc["units"][0]["points"] = "20"
        parts["results/summary.json"] = json.dumps(doc).encode()

    parts = dict(b.parts)
    better(parts)
    manifest = b.manifest()
    from engine.storage.bundle import sha256

    manifest["parts"] = {n: {"sha256": sha256(d), "size": len(d)} for n, d in sorted(parts.items())}
    manifest_bytes = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode() + b"\n"
    forged = packed(_encode([(MANIFEST, manifest_bytes), (SEAL, _seal(manifest_bytes)), *sorted(parts.items())]))
    with pytest.raises(DamagedBundleError) as exc:
        read_bundle(forged)
    assert exc.value.part == SIGNATURE and "removed" in str(exc.value)
    # a signature added to an unsigned bundle, or swapped for another key's, is caught too
    sig = {m.name: m.data for m in _parse(archive(data))}[SIGNATURE]
    unsigned = [(m.name, m.data) for m in _parse(scored["archive"])]
    with pytest.raises(DamagedBundleError, match="signature|bad signature"):
        read_bundle(packed(_encode(unsigned[:2] + [(SIGNATURE, sig)] + unsigned[2:])))


@pytest.mark.parametrize("change, field", [
    (lambda m: m.pop("engine"), "the field 'engine' is missing"),
    (lambda m: m["parts"]["results/summary.json"].update(size="3"),
     "the field 'parts.results/summary.json.size': expected integer, got '3'"),
    (lambda m: m.update(signer="ABC"), "the field 'signer' is malformed: 'ABC'"),
    (lambda m: m["inputs"].update({"Evidence": []}), "the field 'inputs' is malformed"),
    (lambda m: m["inputs"]["criteria"].append("inputs/nowhere.yaml"), "input 'inputs/nowhere.yaml' of role "
                                                                      "'criteria' is not a part of the bundle"),
])
def test_a_malformed_manifest_is_named_by_file_and_field(scored, change, field):
    """The manifest is checked against engine/schemas/bundle.schema.json (sealed and re-hashed
    here, so that only the field is wrong)."""
    b = read_bundle(scored["data"])
    meta = b.manifest()
    change(meta)
    mb = json.dumps(meta, ensure_ascii=False, indent=2, sort_keys=True).encode() + b"\n"
    with pytest.raises(DamagedBundleError) as exc:
        read_bundle(packed(_encode([(MANIFEST, mb), (SEAL, _seal(mb)), *b.parts])))
    assert exc.value.part == MANIFEST and field in str(exc.value), str(exc.value)


def test_bundles_of_the_earlier_format_are_refused_with_a_reason(scored):
    b = read_bundle(scored["data"])
    meta = {k: v for k, v in b.manifest().items() if k not in ("parts",)}
    from engine.storage.bundle import sha256

    meta["format"] = "cchc-bundle/1"
    del meta["signer"]
    parts = dict(b.parts)
    meta["parts"] = {n: {"sha256": sha256(d), "size": len(d)} for n, d in sorted(parts.items())}
    mb = json.dumps(meta, ensure_ascii=False, indent=2, sort_keys=True).encode() + b"\n"
    with pytest.raises(DamagedBundleError, match="cchc-bundle/1 bundle of an earlier cchc"):
        read_bundle(_encode([(MANIFEST, mb), (SEAL, _seal(mb)), *sorted(parts.items())]))


# ---------------------------------------------------------------- large cited files

LARGE_SCAN = """
import resource, sys
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from typer.testing import CliRunner
from cli import app
r = CliRunner().invoke(app, sys.argv[2:])
print(r.output)
sys.exit(r.exit_code)
"""


def test_a_2_gib_cited_scan_is_streamed_and_kept_out_by_hash(scored, tmp_path):
    """A sparse 2 GiB scan cited by the evidence, under a 1.5 GiB address-space limit: hashed in
    chunks, recorded in the manifest as unpacked, the bundle small; replay still identical."""
    import hashlib
    import subprocess
    import sys

    root = tmp_path / "t"
    from bundle_kit import evidence_tree

    criteria, evidence = evidence_tree(root)
    scan = root / "so-tu-phap" / "scan" / "05-KH-STP.pdf"
    with open(scan, "r+b") as fh:
        fh.truncate(2 * 1024 ** 3)
    repo = Path(__file__).parent.parent
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-c", LARGE_SCAN, str(1536 * 1024 ** 2), "score", str(criteria),
                           *map(str, evidence), "--out", str(out)],
                          cwd=repo, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = (out / "bundle.cchc").read_bytes()
    assert len(data) < 5 * 1024 ** 2
    b = read_bundle(data)
    name = "inputs/evidence/2/scan/05-KH-STP.pdf"
    assert name not in {n for n, _ in b.parts}
    h = hashlib.sha256()
    with open(scan, "rb") as fh:
        while block := fh.read(1 << 24):
            h.update(block)
    assert b.unpacked == {name: {"sha256": h.hexdigest(), "size": 2 * 1024 ** 3}}
    proc = subprocess.run([sys.executable, "-c", LARGE_SCAN, str(1536 * 1024 ** 2), "replay",
                           str(out / "bundle.cchc")], cwd=repo, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0 and "identical" in proc.stdout, proc.stdout + proc.stderr


def test_the_cited_file_limit_can_be_raised_or_lowered(scored, cchc, tmp_path, monkeypatch):
    r = cchc("score", scored["criteria"], *scored["evidence"], "--out", tmp_path / "a", "--max-cited-mb", "0")
    assert r.exit_code == 0, r.output
    b = read_bundle((tmp_path / "a" / "bundle.cchc").read_bytes())
    assert set(b.unpacked) == {"inputs/evidence/1/tai-lieu/30-KH-SNV.pdf", "inputs/evidence/2/scan/05-KH-STP.pdf"}
    assert "inputs/evidence/2/ke-hoach/nhiem-vu.csv" in {n for n, _ in b.parts}  # read inputs are always packed
    monkeypatch.setenv("CCHC_MAX_CITED_MB", "0")
    r = cchc("score", scored["criteria"], *scored["evidence"], "--out", tmp_path / "b")
    assert (tmp_path / "b" / "bundle.cchc").read_bytes() == (tmp_path / "a" / "bundle.cchc").read_bytes()
    monkeypatch.setenv("CCHC_MAX_CITED_MB", "lots")
    r = cchc("score", scored["criteria"], *scored["evidence"], "--out", tmp_path / "c")
    assert r.exit_code == 2 and "CCHC_MAX_CITED_MB" in r.output


def test_each_file_read_goes_with_the_innermost_input_that_holds_it(tmp_path, cchc):
    """Two file inputs in one folder each get their own task list; a folder input inside the
    folder of a file input keeps its files to itself."""
    from bundle_kit import DATA, SO_TU_PHAP, TASKS

    (tmp_path / "ke-hoach").mkdir()
    (tmp_path / "ke-hoach" / "nhiem-vu.csv").write_text(TASKS, "utf-8")
    (tmp_path / "ke-hoach" / "khac.csv").write_text(TASKS.replace("2023-09-20", ""), "utf-8")
    (tmp_path / "a.yaml").write_text(SO_TU_PHAP.replace("file: scan/05-KH-STP.pdf", "file: ''"), "utf-8")
    (tmp_path / "b.yaml").write_text(SO_TU_PHAP.replace("so-tu-phap", "so-khac").replace("nhiem-vu.csv", "khac.csv")
                                     .replace("file: scan/05-KH-STP.pdf", "file: ''"), "utf-8")
    import shutil

    shutil.copytree(DATA / "evidence", tmp_path / "ho-so")
    criteria = tmp_path / "criteria.yaml"
    shutil.copy(DATA / "sample-criteria.yaml", criteria)
    out = tmp_path / "out"
    r = cchc("score", criteria, tmp_path / "a.yaml", tmp_path / "b.yaml", tmp_path / "ho-so", "--out", out)
    assert r.exit_code == 0, r.output
    b = read_bundle((out / "bundle.cchc").read_bytes())
    names = {n for n, _ in b.parts}
    assert {"inputs/evidence/1/ke-hoach/nhiem-vu.csv", "inputs/evidence/1/ke-hoach/khac.csv",
            "inputs/evidence/2/ke-hoach/nhiem-vu.csv", "inputs/evidence/2/ke-hoach/khac.csv"} <= names
    assert not any(n.startswith(("inputs/evidence/1/ho-so/", "inputs/evidence/2/ho-so/")) for n in names)
    assert "inputs/evidence/3/so-noi-vu.yaml" in names
    r = cchc("replay", out / "bundle.cchc")
    assert r.exit_code == 0 and "identical" in r.output, r.output


def _localized_by_one_pattern(value: str, names: dict[str, str]) -> str:
    """The plain definition of `localize` on one string: one regular expression of every input path,
    the longest first, standing whole (not inside a longer word or path); an input folder (named
    `inputs/<role>/<n>` in the bundle) only before a path inside it."""
    keys = sorted((k for k in names if k not in ("", ".")), key=len, reverse=True)
    pattern = re.compile(r"(?<![\w./-])(" + "|".join(
        re.escape(k) + (r"(?=/)" if names[k].count("/") == 2 else r"(?=$|[/:\s'\"),;])") for k in keys) + ")")
    return pattern.sub(lambda m: names[m.group(1)], value)


from hypothesis import given, settings, strategies as st  # noqa: E402

_PATHISH = st.text(alphabet="ab/._- :x1'\"),;\né", max_size=12)


@settings(max_examples=300, deadline=None)
@given(paths=st.lists(_PATHISH.filter(lambda p: p not in ("", ".")), min_size=1, max_size=6, unique=True),
       pieces=st.lists(st.one_of(_PATHISH, st.integers(min_value=0, max_value=5)), max_size=8))
def test_localize_replaces_exactly_what_one_pattern_of_every_path_would(paths, pieces):
    from engine.storage.bundle import localize
    from engine.storage.results import dumps

    names = {p: f"inputs/evidence/{i}" + ("/u.yaml" if i % 2 else "") for i, p in enumerate(paths)}  # folders and files
    value = "".join(paths[x % len(paths)] if isinstance(x, int) else x for x in pieces)
    doc = {"note": value, "inputs": [value, {"file": value}]}
    got = json.loads(localize({"r.json": dumps(doc)}, names)["r.json"])
    want = _localized_by_one_pattern(value, names)
    assert got == {"note": want, "inputs": [want, {"file": want}]}


_PREFIXES = st.sampled_from(["", "/tmp/ev/", "/tmp/ew/", "/tmp/", "/home/x/", "crit/", "c", "ab"])


@settings(max_examples=300, deadline=None)
@given(paths=st.lists(st.tuples(_PREFIXES, _PATHISH).map("".join).filter(lambda p: p not in ("", ".")),
                      min_size=1, max_size=40, unique=True),
       pieces=st.lists(st.one_of(_PATHISH, st.integers(min_value=0, max_value=39)), max_size=12))
def test_localize_finds_paths_of_many_folders_as_one_pattern_does(paths, pieces):
    """Paths under several folders, sharing or not their first characters (searched for by a few
    anchors, or past `_ANCHORS` of them by one pattern): the same replacements as one pattern."""
    from engine.storage.bundle import localize
    from engine.storage.results import dumps, encode

    names = {p: f"inputs/evidence/{i}" + ("/u.yaml" if i % 2 else "") for i, p in enumerate(paths)}  # folders and files
    value = "".join(paths[x % len(paths)] if isinstance(x, int) else x for x in pieces)
    doc = {"note": value, "inputs": [value, {"file": value}]}
    for enc in (dumps, encode):
        got = json.loads(localize({"r.json": enc(doc)}, names)["r.json"])
        want = _localized_by_one_pattern(value, names)
        assert got == {"note": want, "inputs": [want, {"file": want}]}


def test_anchors_split_folders_until_each_is_distinctive():
    from engine.storage.bundle import _ANCHORS, _anchors

    heads = {"/tmp/ev1000/u", "/tmp/ev1000/t", "/work/crit", "criteria/t"}
    assert sorted(_anchors(heads)) == ["/tmp/ev1000/", "/work/crit", "criteria/t"]
    assert _anchors({f"{c}x" for c in "abcdefghijklmnopqrstuvwxyz"[:_ANCHORS + 1]}) is None


_NAMES = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(meta=st.dictionaries(st.sampled_from(["about", "engine", "inputs", "kind", "unpacked", "zeta", "a"]),
                            st.one_of(st.none(), _NAMES, st.dictionaries(_NAMES, _NAMES, max_size=3),
                                      st.just({"parts": {}}), st.just('\n  "parts": {}')), max_size=5),
       parts=st.dictionaries(_NAMES, st.tuples(st.binary(min_size=32, max_size=32), st.integers(0, 2 ** 62)),
                             max_size=6))
def test_a_manifest_written_part_by_part_is_the_manifest_encoded_whole(meta, parts):
    """The manifest's parts are written out one by one (no dict of every part first): the same
    bytes as `dumps` of the whole manifest, whatever else the manifest holds (a nested `parts`, a
    string that looks like its place)."""
    from engine.storage.bundle import manifest_json
    from engine.storage.results import dumps

    listed = sorted((n, d.hex(), size) for n, (d, size) in parts.items())
    whole = dumps({**meta, "parts": {n: {"sha256": d, "size": size} for n, d, size in listed}})
    assert manifest_json(meta, listed) == whole
