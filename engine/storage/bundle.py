"""Bundles: one file holding everything a run read and wrote, so that an auditor can replay it.

A bundle is a canonical POSIX ustar archive (see docs/replay.md), compressed as one Zstandard
frame (`cchc-bundle/3`; the plain archives of `cchc-bundle/2` are still read):

    manifest.json       what ran (kind, engine, versions), its inputs by role, the sha256 of every part,
                        whether it is signed and by which key, cited files kept out by hash
    manifest.sha256     the sha256 of manifest.json, then a seal line: the sha256 of that first line
    signature.json      optional: an Ed25519 signature of manifest.json
    inputs/<role>/<n>/… the bytes of every input file, under its path relative to its root folder
    results/…           the result files exactly as the run wrote them

Members are regular files only, in that order (parts sorted by name), with mode 0644, uid/gid 0,
mtime 0 and no user names, so the same inputs give the same bytes; the standard library's
`tarfile` writes and reads the headers. The compression is fixed too (`_compressing`): the same
archive gives the same frame. Reading is strict: the frame, the framing, member names, the seal,
the manifest and every part's hash are checked, and the file must be the canonical compression of
the canonical encoding of its members, so a single flipped byte anywhere is found: in the
compressed stream, where it breaks the frame, as damage to the container; in an archive
compressed again around it, by the member at fault.
"""
from __future__ import annotations

import base64
import bisect
import collections
import contextlib
import functools
import hashlib
import heapq
import io
import json
import os
import platform
import re
import sys
import tarfile
import tempfile
import zlib
from array import array
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import (TYPE_CHECKING, AbstractSet, Any, BinaryIO, Callable, Collection, Iterable, Iterator, Mapping,
                    Optional, Sequence)

from ..core.errors import CchcError, OutputError, Problem
from ..core.i18n import N_, _
from ..core.limits import limit, over
from ..core.memo import remember
from .outdir import Staging, write_outputs
from ..core.model import EvidenceRecord, MetricValue
from ..inputs.evidence import file_stamp
from .results import dumps

if TYPE_CHECKING:
    import zstandard

    from ..inputs.evidence import EvidenceSet

BUNDLE_FORMAT = "cchc-bundle/3"  # /3: compressed (Zstandard); /2: the manifest seals whether (and by which key) it is signed
PLAIN_FORMAT = "cchc-bundle/2"  # an archive not compressed: the bundles of an earlier cchc, read as they are
BUNDLE_NAME = "bundle.cchc"
MANIFEST = "manifest.json"
SEAL = "manifest.sha256"
SIGNATURE = "signature.json"
RESERVED = (MANIFEST, SEAL, SIGNATURE)
FRAMING = N_("container framing")
COMPRESSION = N_("container compression")
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
BLOCK = 512
_ZERO = bytes(BLOCK)


class BundleError(CchcError):
    """A bundle cannot be written, or cannot be trusted when read. `part` names the member (or
    `manifest.json`, `manifest.sha256`, `signature.json`, `container framing`) at fault; `bundle`
    the file it was read from, when known."""

    def __init__(self, part: str, message: str, *, bundle: str = ""):
        self.part, self.detail, self.bundle = part, message, bundle
        super().__init__(self._text())

    def _text(self) -> str:
        return f"{self.bundle + ': ' if self.bundle else ''}{_(self.part)}: {self.detail}"


class DamagedBundleError(BundleError):
    """A byte of the bundle is not what was written: a hash, the seal or the framing fails."""

    def _text(self) -> str:
        head = _("{bundle} is damaged or was altered").format(bundle=self.bundle) if self.bundle else _("damaged bundle")
        return f"{head}: {_(self.part)}: {self.detail}"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path, chunk: int = 1 << 20) -> tuple[str, int]:
    """(sha256, size) of a file, read in chunks: a scan of any size is never held in memory."""
    h, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
            size += len(block)
    return h.hexdigest(), size


# ---------------------------------------------------------------- member names

_CONTROL = re.compile("[\x00-\x1f\x7f]")


def check_name(name: str) -> str:
    """A member name must be a plain relative POSIX path: no absolute path, no `..`, no empty or
    `.` segments, no backslashes or control characters."""
    problem = ""
    if not name:
        problem = _("empty member name")
    elif name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        problem = _("absolute member name")
    elif "\\" in name or _CONTROL.search(name):
        problem = _("member name with a backslash or a control character")
    else:
        segments = name.split("/")
        if ".." in segments:
            problem = _("member name with '..' (it would escape the folder it is extracted to)")
        elif any(s in ("", ".") for s in segments):
            problem = _("member name with an empty or '.' segment")
    if problem:
        raise BundleError(name, _("refused: {problem}").format(problem=problem))
    return name


# ---------------------------------------------------------------- the tar encoding (tarfile)

_MAX_SIZE = 8 ** 11 - 1  # what the 11 octal digits of a ustar size field hold
# (field, offset, length) of a ustar header: names the field of a header that is not canonical
_FIELDS = (("name", 0, 100), ("mode", 100, 8), ("uid", 108, 8), ("gid", 116, 8), ("size", 124, 12),
           ("mtime", 136, 12), ("checksum", 148, 8), ("type", 156, 1), ("linkname", 157, 100),
           ("magic", 257, 6), ("version", 263, 2), ("uname", 265, 32), ("gname", 297, 32),
           ("devmajor", 329, 8), ("devminor", 337, 8), ("prefix", 345, 155), ("padding", 500, 12))


def _tarinfo(name: str, size: int) -> tarfile.TarInfo:
    """The fixed header of every member: a regular file, mode 0644, owner 0:0 without user or
    group names, mtime 0 — so the same members give the same bytes anywhere, at any time."""
    info = tarfile.TarInfo(name)
    info.size = size
    info.type = tarfile.REGTYPE
    info.mode, info.mtime = 0o644, 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


# tarfile's header of a member with an empty name and size 0, its checksum blanked (eight spaces)
_EMPTY_HEADER = _tarinfo("", 0).tobuf(tarfile.USTAR_FORMAT, "utf-8", "strict")
_SHORT_HEADER = _EMPTY_HEADER[:148] + b" " * 8 + _EMPTY_HEADER[156:]


@functools.lru_cache(maxsize=4096)  # a bundle read again (verify, replay, show) builds the same headers
def _header(name: str, size: int) -> bytes:
    """`_new_header`, remembered."""
    return _new_header(name, size)


def _new_header(name: str, size: int) -> bytes:
    """A member's ustar header, as `tarfile` writes it (a long name split into prefix and name)."""
    if size > _MAX_SIZE:
        raise BundleError(name, _("file too large for a bundle ({size} bytes)").format(size=size))
    try:
        raw = name.encode("utf-8")
        if len(raw) <= 100 and size < 8 ** 11:  # a short name: tarfile's header for one, its fields filled in
            h = bytearray(_SHORT_HEADER)
            h[0:len(raw)] = raw
            h[124:136] = b"%011o\0" % size
            h[148:155] = b"%06o\0" % sum(h)
            return bytes(h)
        return _tarinfo(name, size).tobuf(tarfile.USTAR_FORMAT, "utf-8", "strict")
    except UnicodeEncodeError:
        raise BundleError(name.encode("utf-8", "replace").decode("utf-8"), _("the file name is not valid UTF-8")) from None
    except ValueError:
        raise BundleError(name, _("path too long for a bundle (at most 255 bytes, and 100 after a '/')")) from None


def _before_tarfile(header: bytes) -> bytes:
    """The same header as cchc wrote it before it wrote bundles through `tarfile`: the device
    numbers as zero octal fields (tarfile leaves them empty for a regular file). Bundles written
    then are still read and replayed."""
    h = bytearray(header)
    h[329:345] = b"0000000\0" * 2
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


def _compressing(out: BinaryIO) -> "zstandard.ZstdCompressionWriter":
    """The one compression of every bundle, written to `out` (left open): Zstandard at level 1,
    streamed on one thread, its size not told (told it, the library compresses a small archive
    otherwise), the frame checked by its own checksum: its bytes do not depend on how the archive
    is fed to it. So an archive gives the same bytes on every machine with the pinned zstandard
    (pyproject.toml), and a reader can tell a frame made otherwise. (The library's multi-threaded
    mode would be a little faster, and would hold about 10 MB more.)"""
    import zstandard

    return zstandard.ZstdCompressor(level=1, write_checksum=True, write_content_size=False).stream_writer(
        out, closefd=False)


# the most a frame may ask a reader to hold of what it unpacked: twice what `_compressing` asks (512 KiB),
# so that a crafted frame cannot make the reader set aside the library's default of 128 MiB
_WINDOW = 1 << 20


def _compressed(archive: bytes) -> bytes:
    """`archive` compressed as `BundleWriter.write` does it (`_compressing`)."""
    out = io.BytesIO()
    with _compressing(out) as frame:
        frame.write(archive)
    return out.getvalue()


class _Hashing:
    """What the compressor gives, written to `out` and hashed on the way: the bundle's sha256."""

    def __init__(self, out: BinaryIO):
        self.out, self.sha256 = out, hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        return self.out.write(data)

    def flush(self) -> None:
        self.out.flush()


def _encode(members: Sequence[tuple[str, bytes]], *, before_tarfile: bool = False) -> bytes:
    """The canonical archive of `members`, in the order given: each header, the data, zero padding
    to a 512-byte block; then the end-of-archive marker (two zero blocks) and nothing after it
    (tarfile's writer would pad to a 10 KiB record, which no reader needs)."""
    chunks = []
    for name, data in members:
        header = _header(name, len(data))
        chunks += [_before_tarfile(header) if before_tarfile else header, data, bytes(-len(data) % BLOCK)]
    chunks.append(_ZERO * 2)
    return b"".join(chunks)


@dataclass(frozen=True)
class _Member:
    name: str
    data: bytes
    offset: int  # where its header starts


def _parse(data: bytes) -> list[_Member]:
    """Read the archive with `tarfile`, member by member, and hold it to the canonical encoding:
    only regular files with safe names, each header exactly the one `_encode` writes, zero
    padding, the end-of-archive marker last. Every deviation is a `DamagedBundleError` naming the
    framing (or a refusal naming the member)."""
    members: list[_Member] = []
    names: set[str] = set()
    off = 0
    most = limit("bundle_parts")  # each costs tarfile tens of µs and a record: a small compressed file holds millions
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:", encoding="utf-8") as tar:
            for info in tar:
                if len(members) == most:
                    raise BundleError(FRAMING, over("bundle_parts", _("the archive holds more members")))
                if info.offset != off:  # tarfile consumed extension headers (pax, GNU) on the way
                    raise DamagedBundleError(FRAMING, _("the header of member #{number} at byte {offset} is not a plain "
                                                        "ustar header").format(number=len(members) + 1, offset=off))
                members.append(_member(data, info, len(members) + 1, names))
                names.add(info.name)
                off = members[-1].offset + BLOCK + len(members[-1].data)
                off += -off % BLOCK
    except (tarfile.TarError, UnicodeDecodeError) as exc:
        raise DamagedBundleError(FRAMING, _("not a readable archive at byte {offset} ({reason})").format(
            offset=off, reason=exc)) from None
    if data[off:] != _ZERO * 2:
        if len(data) - off < 2 * BLOCK:
            problem = _("the archive ends at byte {size} without its end-of-archive marker (truncated)").format(size=len(data))
        elif data[off:off + BLOCK] != _ZERO:
            problem = _("the header of member #{number} at byte {offset} is damaged (it fails its checksum or is not "
                        "a ustar header)").format(number=len(members) + 1, offset=off)
        else:
            problem = _("the end-of-archive marker at byte {offset} is damaged or followed by extra bytes").format(offset=off)
        raise DamagedBundleError(FRAMING, problem)
    return members


def _member(data: bytes, info: tarfile.TarInfo, number: int, seen: set[str]) -> _Member:
    """One member as `tarfile` read it, checked: type, name, canonical header, data, padding."""
    off, name = info.offset, info.name
    if not info.isreg():
        raise BundleError(name, _("refused: links, folders and special files are not allowed in a bundle, "
                                  "only regular files"))
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise DamagedBundleError(FRAMING, _("the header of member #{number} ({name!r}) at byte {offset} is "
                                            "unreadable").format(number=number, name=name, offset=off)) from None
    check_name(name)
    block = data[off:off + BLOCK]
    try:
        canonical = _header(name, info.size)
    except BundleError:  # a size or a name no canonical header can hold
        canonical = b""
    if block != canonical and (not canonical or block != _before_tarfile(canonical)):
        which = ("size" if info.size > _MAX_SIZE else "name") if not canonical else \
            next((f for f, o, n in _FIELDS if canonical[o:o + n] != block[o:o + n]), "size")
        raise DamagedBundleError(FRAMING, _("the header of member #{number} ({name!r}) at byte {offset} is not in "
                                            "canonical form (field {field})").format(number=number, name=name,
                                                                                     offset=off, field=which))
    start = off + BLOCK
    end = start + info.size
    padded = end + (-info.size % BLOCK)
    if padded > len(data):
        raise DamagedBundleError(FRAMING, _("member {name!r} is cut short (truncated archive)").format(name=name))
    if data[end:padded].strip(b"\0"):
        raise DamagedBundleError(FRAMING, _("the padding after member {name!r} (bytes {start}–{end}) is not "
                                            "zero").format(name=name, start=end, end=padded - 1))
    if name in seen:
        raise BundleError(name, _("refused: the name occurs twice in the archive"))
    return _Member(name, data[start:end], off)


# ---------------------------------------------------------------- the seal and the signature

def _seal(manifest: bytes) -> bytes:
    return _seal_of(sha256(manifest))


def _seal_of(manifest_sha256: str) -> bytes:
    line = f"{manifest_sha256}  {MANIFEST}\n"
    return (line + f"# seal {sha256(line.encode('ascii'))}\n").encode("ascii")


def _check_seal(seal: bytes, manifest: bytes) -> None:
    m = re.fullmatch(rb"([0-9a-f]{64})  manifest\.json\n# seal ([0-9a-f]{64})\n", seal)
    first = seal.split(b"\n", 1)[0] + b"\n"
    if m is None or sha256(first) != m.group(2).decode():
        raise DamagedBundleError(SEAL, _("the manifest's own hash is damaged (its seal line does not match)"))
    if m.group(1).decode() != sha256(manifest):
        raise DamagedBundleError(MANIFEST, _("does not match the sha256 recorded in manifest.sha256"))


def key_fingerprint(public_raw: bytes) -> str:
    """A short name for a public key: the first 16 hex digits of its sha256."""
    return sha256(public_raw)[:16]


def _crypto():
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError:  # pragma: no cover - a declared dependency
        raise CchcError(_("signing needs the 'cryptography' package (pip install cryptography)")) from None
    return ed25519, serialization, InvalidSignature


def generate_key(path: Path, *, force: bool = False) -> tuple[Path, str]:
    """Write a new Ed25519 private key (PEM, readable by its owner only) to `path` and its public
    key to `path.pub`; return the public key's path and fingerprint."""
    ed25519, serialization, _invalid = _crypto()
    pub_path = path.with_name(path.name + ".pub")
    for p in (path, pub_path):
        if p.exists() and not force:
            raise CchcError(_("{path} already exists (use --force to replace it)").format(path=p))
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(private)
    os.chmod(path, 0o600)
    pub_path.write_bytes(public)
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return pub_path, key_fingerprint(raw)


def _load_private(path: Path):
    ed25519, serialization, _invalid = _crypto()
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except OSError as exc:
        raise CchcError(_("cannot read signing key {path}: {reason}").format(path=path, reason=exc.strerror)) from None
    except (ValueError, TypeError):
        raise CchcError(_("{path} is not an unencrypted PEM private key (make one with `cchc keygen`)").format(
            path=path)) from None
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise CchcError(_("{path} is not an Ed25519 key (make one with `cchc keygen`)").format(path=path))
    return key


def load_public_key(path: Path) -> bytes:
    """The raw 32 bytes of an Ed25519 public key file (PEM, as written by `cchc keygen`)."""
    ed25519, serialization, _invalid = _crypto()
    try:
        key = serialization.load_pem_public_key(Path(path).read_bytes())
    except OSError as exc:
        raise CchcError(_("cannot read public key {path}: {reason}").format(path=path, reason=exc.strerror)) from None
    except (ValueError, TypeError):
        raise CchcError(_("{path} is not a PEM public key").format(path=path)) from None
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise CchcError(_("{path} is not an Ed25519 public key").format(path=path))
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _public_raw(key) -> bytes:
    _ed25519, serialization, _invalid = _crypto()
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _sign(manifest: bytes, key) -> bytes:
    raw = _public_raw(key)
    return dumps({"algorithm": "ed25519", "signed": MANIFEST,
                  "public_key": base64.b64encode(raw).decode("ascii"),
                  "signature": base64.b64encode(key.sign(manifest)).decode("ascii")})


def _verify_signature(doc_bytes: bytes, manifest: bytes) -> str:
    ed25519, _serialization, InvalidSignature = _crypto()
    try:
        doc = json.loads(doc_bytes.decode("utf-8"))
        if doc.get("algorithm") != "ed25519" or doc.get("signed") != MANIFEST:
            raise ValueError
        raw = base64.b64decode(doc["public_key"], validate=True)
        sig = base64.b64decode(doc["signature"], validate=True)
        if dumps(doc) != doc_bytes or base64.b64encode(raw).decode("ascii") != doc["public_key"] \
                or base64.b64encode(sig).decode("ascii") != doc["signature"]:
            raise ValueError  # not the one canonical text (e.g. unused bits of base64 set)
        ed25519.Ed25519PublicKey.from_public_bytes(raw).verify(sig, manifest)
    except InvalidSignature:
        raise DamagedBundleError(SIGNATURE, _("bad signature: manifest.json is not what the key signed")) from None
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
        raise DamagedBundleError(SIGNATURE, _("damaged: not a readable Ed25519 signature record")) from None
    return key_fingerprint(raw)


# ---------------------------------------------------------------- writing

def versions() -> dict[str, str]:
    """The versions that can change a result: cchc, the rule engine and Python."""
    return dict(_versions())


@functools.lru_cache(maxsize=1)
def _versions() -> dict[str, str]:
    from importlib import metadata

    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "unknown"

    return {"cchc": version("cchc"), "durable_rules": version("durable-rules"),
            "python": platform.python_version()}


def assemble(meta: Mapping[str, Any], parts: Mapping[str, bytes], *, key: Optional[Path] = None) -> bytes:
    """Encode a bundle from its metadata (kind, engine, versions, inputs, about, unpacked) and its
    parts, in memory (see `BundleWriter`)."""
    writer = BundleWriter(io.BytesIO())
    for name, data in parts.items():
        writer.add(name, data)
    out = io.BytesIO()
    writer.write(meta, out, key=key)
    return out.getvalue()


def manifest_json(manifest: Mapping[str, Any], parts: Iterable[tuple[str, str, int]]) -> bytes:
    """`dumps` of `manifest` with `"parts"`: {name: {"sha256", "size"}} for each of `parts` (given
    sorted by name), the parts written out one by one rather than made into one large dict first.
    Indented JSON has `"parts"` two spaces in once, at the top level (deeper keys are indented more,
    a string's quotes are escaped)."""
    return b"".join(manifest_lines(manifest, parts))


def manifest_lines(manifest: Mapping[str, Any], parts: Iterable[tuple[str, str, int]]) -> Iterator[bytes]:
    """`manifest_json` a part at a time: a national run's manifest is megabytes."""
    head, _parts, tail = dumps({**manifest, "parts": {}}).partition(b'\n  "parts": {}')
    yield head
    first = True
    for n, d, size in parts:
        yield (b'\n  "parts": {\n' if first else b",\n") + \
            b'    %s: {\n      "sha256": "%s",\n      "size": %d\n    }' % (_json_string(n), d.encode(), size)
        first = False
    yield b'\n  "parts": {}' if first else b"\n  }"
    yield tail


@dataclass(frozen=True)
class Placed:
    """A part another process wrote into a scratch file of the run (`BundleWriter.add_placed`):
    the file, where the part begins in it, its size and its raw sha256."""

    path: str
    offset: int
    size: int
    sha256: bytes


class BundleWriter:
    """A bundle built part by part, never whole in memory: each part is copied into `spool` (a
    scratch file, or a BytesIO for a bundle built in memory) as it comes and hashed on the way,
    or left where another process wrote it (`add_placed`), and only its place, size and sha256
    are kept. `write` then streams the archive in one pass:
    the manifest (the sha256 and size of every part, the fingerprint of the signing key or null),
    the seal (the manifest's hash), the signature (with a key) of the manifest, then the parts in
    the order of their UTF-8 names, copied from the spool."""

    COPY = 1 << 20  # bytes per read while copying

    def __init__(self, spool: BinaryIO):
        self._spool = spool
        # kept compactly (a national run's bundle has tens of thousands of parts): each part's
        # number by name, and by number its offset in the spool, its size and its raw sha256
        self._parts: dict[str, int] = {}
        self._places = array("q")  # offset, size of each part
        self._digests = bytearray()  # 32 bytes each
        self._in = array("I")  # the file that holds each part: 0 the spool, k `_placed_in[k - 1]` (`add_placed`)
        self._placed_in: dict[str, int] = {}
        # parts stashed before they are named (`stash`), then named all at once (`name_stashed`):
        # by stash number their place and sha256; their names, sorted, made one at a time when asked
        self._stashed = array("q")
        self._stashed_digests = bytearray()
        self._names: Optional[Sequence[str]] = None
        self._order: Sequence[int] = ()  # the stash number of each of `_names`
        self._bounds = ("", "")  # the first and last of `_names`

    def _start(self, name: str) -> int:
        self._check_new(name)
        return self._spool.seek(0, io.SEEK_END)

    def _check_new(self, name: str) -> None:
        check_name(name)
        if name in RESERVED:
            raise BundleError(name, _("this name is reserved for the bundle's own records"))
        if name in self:
            raise BundleError(name, _("refused: the name occurs twice in the archive"))

    def __contains__(self, name: str) -> bool:
        return name in self._parts or self._named(name) is not None

    def _named(self, name: str) -> Optional[int]:
        """Where `name` stands among the names of the stashed parts, or None."""
        if self._names is None or not self._names or not self._bounds[0] <= name <= self._bounds[1]:
            return None  # most names (the inputs') told apart without a search
        j = bisect.bisect_left(self._names, name)
        return j if j < len(self._names) and self._names[j] == name else None

    def stash(self, data: bytes) -> None:
        """A part named later (`name_stashed`), with the others stashed: a national run's tens of
        thousands of result files are named at once, from the run's own compact list of them."""
        offset = self._spool.seek(0, io.SEEK_END)
        self._spool.write(data)
        self._stashed.extend((offset, len(data)))
        self._stashed_digests += hashlib.sha256(data).digest()

    def name_stashed(self, names: Sequence[str], order: Sequence[int]) -> None:
        """Name the stashed parts: `names` (a sequence that may make each name when asked) in
        the order of their UTF-8 names, `order[j]` the stash number (from 0, in the order `stash`
        was called) of the part named `names[j]`."""
        assert self._names is None and len(names) == len(order) == len(self._stashed) // 2
        last = None
        for name in names:
            self._check_new(name)
            if last is not None and not last < name:
                if last == name:
                    raise BundleError(name, _("refused: the name occurs twice in the archive"))
                raise ValueError(f"stashed parts named out of order: {last!r} before {name!r}")
            last = name
        self._names, self._order = names, order
        if names:
            self._bounds = (names[0], names[len(names) - 1])

    def add(self, name: str, data: bytes) -> None:
        offset = self._start(name)
        self._spool.write(data)
        self._keep(name, offset, len(data), hashlib.sha256(data).digest())

    def add_pieces(self, name: str, pieces: Iterable[bytes]) -> None:
        """A part given in pieces, written as they come."""
        offset = self._start(name)
        h, size = hashlib.sha256(), 0
        for piece in pieces:
            h.update(piece)
            self._spool.write(piece)
            size += len(piece)
        self._keep(name, offset, size, h.digest())

    def add_placed(self, name: str, part: Placed) -> None:
        """A part another process wrote (and hashed) into a file of its own: copied from there by `write`."""
        self._start(name)
        self._keep(name, part.offset, part.size, part.sha256,
                   self._placed_in.setdefault(part.path, len(self._placed_in) + 1))

    def _keep(self, name: str, offset: int, size: int, digest: bytes, held_in: int = 0) -> None:
        self._parts[name] = len(self._parts)
        self._places.extend((offset, size))
        self._digests += digest
        self._in.append(held_in)

    @property
    def spool(self) -> BinaryIO:
        return self._spool

    def sha256_of(self, name: str) -> str:
        """The sha256 of part `name` (added by name: `add`, `add_file`, …)."""
        i = self._parts[name]
        return self._digests[32 * i:32 * i + 32].hex()

    def renew(self, name: str, data: bytes | Iterable[bytes]) -> None:
        """Part `name`, added (or stashed and named) before, with these bytes instead (or these pieces)."""
        j = self._named(name) if name not in self._parts else None
        if j is not None:
            k = self._order[j]
            offset = self._spool.seek(0, io.SEEK_END)
            h, size = hashlib.sha256(), 0
            for piece in [data] if isinstance(data, bytes) else data:
                h.update(piece)
                self._spool.write(piece)
                size += len(piece)
            self._stashed[2 * k:2 * k + 2] = array("q", (offset, size))
            self._stashed_digests[32 * k:32 * k + 32] = h.digest()
            return
        i = self._parts.pop(name)
        if isinstance(data, bytes):
            self.add(name, data)
        else:
            self.add_pieces(name, data)
        self._parts[name] = i  # its number kept; its place and digest, added last, moved there
        self._places[2 * i:2 * i + 2] = self._places[-2:]
        self._digests[32 * i:32 * i + 32] = self._digests[-32:]
        self._in[i] = self._in[-1]
        del self._places[-2:], self._digests[-32:], self._in[-1]

    def add_file(self, name: str, path: Path | str) -> None:
        """The bytes of the file at `path`, read in blocks of at most `COPY` bytes, or of its size
        (and a byte, to meet its end) when that is less: a national run packs tens of thousands of
        small files, and a megabyte block asked of the C allocator for each is not needed. A file
        that cannot be read is a `BundleError`; a spool that cannot be written (a full disk), its
        OSError: the output's to report."""
        offset = self._start(name)
        h, size = hashlib.sha256(), 0

        def blocks() -> Iterator[bytes]:  # (what the loop below does with each is not in its `try`)
            try:
                with open(path, "rb") as fh:
                    most = min(self.COPY, max(os.fstat(fh.fileno()).st_size + 1, BLOCK))
                    while block := fh.read(most):
                        yield block
            except OSError as exc:
                self._spool.truncate(offset)
                raise BundleError(str(path), _("cannot read the input file: {reason}").format(
                    reason=exc.strerror)) from None

        for block in blocks():
            h.update(block)
            self._spool.write(block)
            size += len(block)
        self._keep(name, offset, size, h.digest())

    def write(self, meta: Mapping[str, Any], out: BinaryIO, *, key: Optional[Path] = None,
              done_with: Optional[Callable[[str], Any]] = None) -> str:
        """Write the bundle to `out`; return its sha256. `done_with(path)`: told of each file
        another process wrote parts into (`add_placed`) once every part it holds is copied."""
        signing = _load_private(key) if key is not None else None
        manifest = dict(meta)
        manifest["format"] = BUNDLE_FORMAT
        # sealed with the rest: removing the signature afterwards is tampering, not "unsigned"
        manifest["signer"] = key_fingerprint(_public_raw(signing)) if signing is not None else None
        manifest.setdefault("unpacked", {})
        assert self._names is not None or not self._stashed, "stashed parts left unnamed"
        order = sorted(self._parts)

        def lines() -> Iterator[bytes]:  # made twice, never held whole: once to hash and measure, once to write
            return manifest_lines(manifest, ((n, digest.hex(), size)
                                             for n, _offset, size, digest, _k in self._ordered(order)))

        measured, size = hashlib.sha256(), 0
        for line in lines():
            measured.update(line)
            size += len(line)
        head = [(SEAL, _seal_of(measured.hexdigest()))]
        if signing is not None:
            head.append((SIGNATURE, _sign(b"".join(lines()), signing)))
        sink = _Hashing(out)
        with _compressing(sink) as frame:
            self._write_archive(frame.write, order, lines, size, head, done_with)
        return sink.sha256.hexdigest()

    def _write_archive(self, emit: Callable[[bytes], Any], order: Sequence[str], lines: Callable[[], Iterator[bytes]],
                       size: int, head: Sequence[tuple[str, bytes]],
                       done_with: Optional[Callable[[str], Any]] = None) -> None:
        """The archive `write` compresses: the manifest (`size` bytes, its `lines`), the seal and
        the signature (`head`), the parts copied in `order`, the end-of-archive marker."""
        emit(_header(MANIFEST, size))
        for line in lines():
            emit(line)
        emit(bytes(-size % BLOCK))
        for name, data in head:
            emit(_header(name, len(data)))
            emit(data)
            emit(bytes(-len(data) % BLOCK))
        with contextlib.ExitStack() as stack:
            paths, opened = list(self._placed_in), {0: self._spool}
            parts_left = collections.Counter(self._in)  # the parts each file holds not yet copied

            def held_in(k: int) -> BinaryIO:
                if k not in opened:
                    opened[k] = stack.enter_context(open(paths[k - 1], "rb"))
                return opened[k]

            for name, offset, size, _digest, k in self._ordered(order):
                emit(_new_header(name, size))  # each name once: caching a national run's headers would hold megabytes
                spool = held_in(k)
                spool.seek(offset)
                left = size
                while left:
                    block = spool.read(min(self.COPY, left))
                    if not block:
                        raise BundleError(name, _("the part changed while the bundle was written"))
                    emit(block)
                    left -= len(block)
                emit(bytes(-size % BLOCK))
                parts_left[k] -= 1
                if k and not parts_left[k]:
                    opened.pop(k).close()
                    if done_with is not None:
                        done_with(paths[k - 1])
        emit(_ZERO * 2)

    def _ordered(self, order: Sequence[str]) -> Iterator[tuple[str, int, int, bytes, int]]:
        """Every part as (name, offset, size, sha256, the file that holds it: `_in`) in the order of
        their names (`order`: those added by name, sorted), which is that of their UTF-8 bytes too
        (UTF-8 keeps the order of code points): the stashed ones (in the spool), already in order,
        merged in."""
        added = ((n, self._places[2 * i], self._places[2 * i + 1], self._digests[32 * i:32 * i + 32], self._in[i])
                 for n in order for i in [self._parts[n]])
        if self._names is None:
            return added
        stashed = ((n, self._stashed[2 * k], self._stashed[2 * k + 1], self._stashed_digests[32 * k:32 * k + 32], 0)
                   for n, k in zip(self._names, self._order))
        return heapq.merge(added, stashed, key=lambda part: part[0])


# A cited file (tài liệu kiểm chứng: a scan, a signed PDF) larger than this is not packed: the
# manifest keeps its sha256 and size only (`unpacked`). Raise it with `--max-cited-mb` or
# $CCHC_MAX_CITED_MB (docs/replay.md).
DEFAULT_MAX_CITED = 50 * 1024 * 1024


def max_cited_size(megabytes: Optional[int] = None) -> int:
    """The cited-file limit in bytes: `megabytes` (MiB) when given, else $CCHC_MAX_CITED_MB, else
    the default of 50 MiB."""
    if megabytes is None:
        env = os.environ.get("CCHC_MAX_CITED_MB", "").strip()
        if not env:
            return DEFAULT_MAX_CITED
        if not env.isdigit():
            raise CchcError(_("CCHC_MAX_CITED_MB must be a whole number of MiB, not {value!r}").format(value=env))
        megabytes = int(env)
    if megabytes < 0:
        raise CchcError(_("the cited-file limit must be 0 MiB or more"))
    return megabytes * 1024 * 1024


@dataclass(frozen=True)
class InputRoot:
    """One input as given on the command line (a file or a folder) and every file read through
    it: for a folder, the files found in it and the files they reference; for a file, itself and
    the files it references (which sit beside it or below). `cited` are the files its evidence
    cites: packed up to the cited-file limit, above it recorded by hash only."""

    path: Path
    files: tuple[str | Path, ...]  # as strings when there are many (read_under): a national run reads tens of thousands
    cited: tuple[Path, ...] = ()

    @property
    def base(self) -> Path:
        return self.path if self.path.is_dir() else self.path.parent

    def holds(self, f: Path | str) -> bool:
        """Whether `f` lies in this input's folder (as named, or once links are resolved)."""
        base = self.base
        return _within(os.path.abspath(f), os.path.abspath(base)) or \
            _within(os.path.realpath(f), os.path.realpath(base))  # links resolved only when needed


def _within(path: str, folder: str) -> bool:
    rel = os.path.relpath(path, folder)
    return not (rel == ".." or rel.startswith(".." + os.sep))


# ---------------------------------------------------------------- every file read

_READS: list["RecordedReads"] = []  # the open recorders (a stack: recordings may nest)
_HOOKED: list[bool] = []
_CODE = (".py", ".pyc", ".pyd", ".so", ".pth")  # modules imported on the way are not inputs


def _audit(event: str, args: tuple) -> None:
    if event != "open" or not _READS:
        return
    try:
        path, mode, flags = args
        if isinstance(path, int) or path is None:
            return
        if mode is None:
            if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
                return
        elif any(c in str(mode) for c in "wax+"):
            return
        name = os.path.abspath(os.fsdecode(path))
        if name.endswith(_CODE) or f"{os.sep}__pycache__{os.sep}" in name:
            return
        stamp = file_stamp(name)  # (os.stat opens nothing: no event of its own here)
        for reads in _READS:
            reads.add(name)
            reads.stamps.setdefault(name, stamp)
    except Exception:  # noqa: BLE001 - an audit hook must never break the open it watches
        return


class RecordedReads(set):
    """The absolute paths of the files a block read (`recording_reads`), and the stamp of each
    (engine.inputs.evidence.file_stamp) as it was first opened (`ReadStamps`)."""

    def __init__(self) -> None:
        super().__init__()
        self.stamps: dict[str, Optional[tuple[int, ...]]] = {}

    def packed(self, names: Sequence[str]) -> bytes:
        """The stamps of `names` (each one of these), packed for `ReadStamps.add`."""
        return array("q", (stamp_key(self.stamps.get(n)) for n in names)).tobytes()


def stamp_key(stamp: Optional[tuple[int, ...]]) -> int:
    """A file's stamp (engine.inputs.evidence.file_stamp; None: gone) as one 64-bit number, the
    same in every process of a run (a tuple of integers hashes alike in each, whatever
    PYTHONHASHSEED says): a file whose key is unchanged is taken as unchanged (two different
    stamps hash alike only by a rare coincidence)."""
    return hash(stamp or ())


class ReadStamps:
    """The stamp of every file a run read as it was read, checked once the run's bundle has copied
    them (`changed`): a file written to in between would leave the bundle holding another than the
    one the run scored. Kept compactly (a national run reads tens of thousands of files), in three
    buffers that grow (not an object per batch, each holding on to the memory around it): the
    names of each batch of files read joined by NULs (which no path holds) and compressed (a
    batch's paths have much in common: a tenth of their size), where each batch ends, and the
    stamps' keys (`stamp_key`)."""

    def __init__(self, first: Mapping[str, Optional[tuple[int, ...]]] = MappingProxyType({})):
        # stamps taken before the files were read (a CSV file's when it was indexed)
        self._first = {os.path.abspath(name): stamp_key(stamp) for name, stamp in first.items()}
        self._names = bytearray()
        self._ends = array("q")
        self._keys = array("q")

    def add(self, names: Sequence[str], packed: bytes) -> None:
        """Files read (`names`) and their stamps (`RecordedReads.packed`)."""
        if names:
            self._names += zlib.compress("\0".join(names).encode("utf-8", "surrogateescape"), 1)
            self._ends.append(len(self._names))
            self._keys.frombytes(packed)

    def add_read(self, reads: RecordedReads) -> None:
        names = tuple(sorted(reads))
        self.add(names, reads.packed(names))

    def __iter__(self) -> Iterator[tuple[str, int]]:
        """Each file's name and stamp's key, as often as it was read."""
        yield from self._first.items()
        start = k = 0
        for end in self._ends:
            names = zlib.decompress(self._names[start:end]).decode("utf-8", "surrogateescape").split("\0")
            yield from zip(names, self._keys[k:k + len(names)])
            start, k = end, k + len(names)

    def changed(self, packed: Collection[str]) -> list[Problem]:
        """A problem for each file of `packed` (the absolute paths of those the bundle holds: a run
        also opens files that are not its inputs, such as its translations) written to since it was
        read, or between two reads of it, and for each file read that is gone since (so not packed)
        (engine.inputs.evidence.changed_file), by name."""
        from ..inputs.evidence import changed_file

        changed = {name for name, key in self
                   for now in [file_stamp(name)] if (name in packed or now is None) and stamp_key(now) != key}
        return [changed_file(name) for name in sorted(changed)]


@contextlib.contextmanager
def recording_reads() -> Iterator[RecordedReads]:
    """Record the absolute path of every file opened for reading inside the block, however it was
    named (a folder's listing, a YAML key, a CSV or Excel cell), and its stamp: a bundle then packs
    every file a run read, not only the ones its formats are known to name, and only as it was read."""
    if not _HOOKED:
        sys.addaudithook(_audit)
        _HOOKED.append(True)
    reads = RecordedReads()
    _READS.append(reads)
    try:
        yield reads
    finally:
        _READS.remove(reads)


def read_under(root: Path, reads: Sequence[str] | set[str], first: Sequence[Path] = (),
               siblings: Sequence[Path | str] = ()) -> tuple[str, ...]:
    """The files of `first` and then, sorted, the recorded `reads` that lie in `root`'s folder
    (for a file input: the folder it sits in) — unless one of the `siblings` (the other inputs of
    the role) has a deeper folder that holds them: a file goes with the innermost input(s). Each
    as a string: the recorded names themselves, no object made per file."""
    holder = InputRoot(Path(root), ())
    depth = _depth(holder)
    inner = [o for o in (InputRoot(Path(p), ()) for p in siblings) if _depth(o) > depth]
    out = list(dict.fromkeys(os.fspath(Path(f)) for f in first))
    seen = {os.path.abspath(f) for f in out}
    inside = os.path.abspath(holder.base).rstrip(os.sep) + os.sep  # a recorded read is absolute: below it, held
    for name in sorted(reads):
        if name not in seen and os.path.isfile(name) and (name.startswith(inside) or holder.holds(name)) and \
                not any(o.holds(name) for o in inner):
            out.append(name)  # each recorded once (a set): `seen` is only what came first
    return tuple(out)


def input_roots(paths: Sequence[Path | str], reads: Iterable[str], found: Callable[[list], list],
                cited: Sequence[Path] = ()) -> list[InputRoot]:
    """The inputs of one role as given (`paths`), each with the files `found([path])` lists that
    the run read (`reads`: absolute paths) first, then the other `reads` it holds (see
    `read_under`), and the `cited` files in its folder. A file put in a folder after the run listed
    it is not packed: the bundle holds the files the run scored."""
    out = []
    reads = reads if isinstance(reads, AbstractSet) else set(reads)
    for p in map(Path, paths):
        holder = InputRoot(p, ())
        listed = [f for f in found([p]) if os.path.abspath(f) in reads]  # (not a file put there since the run read it)
        out.append(InputRoot(p, read_under(p, reads, listed, paths), tuple(c for c in cited if holder.holds(c))))
    return out


def _depth(root: InputRoot) -> int:
    return len(Path(os.path.abspath(root.base)).parts)


# ---------------------------------------------------------------- laying inputs out

@dataclass(frozen=True)
class Layout:
    """Inputs laid out for a bundle: role → bundle paths (folders end with '/'), each part's file
    on disk by its bundle name, the cited files kept out by hash, and how each input file was
    named on disk → its bundle name."""

    roles: dict[str, list[str]]
    files: dict[str, str]  # each part's file on disk, by its name in the bundle
    unpacked: dict[str, dict]
    names: dict[str, str]

    def meta(self, kind: str, engine: str, about: Optional[Mapping[str, Any]]) -> dict:
        """What a bundle of these inputs records beside its parts (see `BundleWriter.write`)."""
        return {"kind": kind, "engine": engine, "versions": versions(), "inputs": self.roles,
                "about": dict(about or {}), "unpacked": self.unpacked}


@dataclass(frozen=True)
class Packed:
    """Inputs laid out for a bundle (see `Layout`), with the bytes of every part."""

    roles: dict[str, list[str]]
    parts: dict[str, bytes]
    unpacked: dict[str, dict]
    names: dict[str, str]


def pack_inputs(roles: Mapping[str, Sequence[InputRoot]], *, max_cited: Optional[int] = None) -> Packed:
    """`lay_out_inputs`, with every part read."""
    layout = lay_out_inputs(roles, max_cited=max_cited)
    parts = {}
    for name, f in layout.files.items():
        try:
            parts[name] = Path(f).read_bytes()
        except OSError as exc:
            raise BundleError(str(f), _("cannot read the input file: {reason}").format(reason=exc.strerror)) from None
    return Packed(layout.roles, parts, layout.unpacked, layout.names)


def lay_out_inputs(roles: Mapping[str, Sequence[InputRoot]], *, max_cited: Optional[int] = None) -> Layout:
    """Lay inputs out for a bundle: input n of a role lives in folder `inputs/<role>/<n>/` (n from
    1), each file under its path relative to the input's folder (a file input's folder is the one
    it sits in). A cited file above `max_cited` bytes is hashed in chunks and listed in `unpacked`
    instead of being packed."""
    limit = max_cited_size() if max_cited is None else max_cited
    out_roles: dict[str, list[str]] = {}
    parts: dict[str, str] = {}
    unpacked: dict[str, dict] = {}
    names: dict[str, str] = {}
    real_folders: dict[str, str] = {}  # (`_real_path`)
    for role, roots in roles.items():
        if not re.fullmatch(r"[a-z][a-z0-9_-]*", role):
            raise BundleError(_("role {role!r}").format(role=role), _("a role name uses lower-case letters, digits, '_' and '-'"))
        out_roles[role] = []
        for n, root in enumerate(roots, start=1):
            base = root.base
            inside = os.path.join(os.path.abspath(base), "")  # (`_relative`'s quick way)
            prefix = f"inputs/{role}/{n}"
            if root.path.is_dir():
                out_roles[role].append(prefix + "/")
                for shown in (str(root.path), os.path.abspath(root.path), os.path.realpath(root.path)):
                    names.setdefault(shown, prefix)
            else:
                out_roles[role].append(f"{prefix}/{root.path.name}")
            # paths as strings (a national run packs tens of thousands of files); sets, not lists
            files = list(dict.fromkeys(map(os.fspath, [*root.files, *([] if root.path.is_dir() else [root.path])])))
            read = set(files)
            cited = list(dict.fromkeys(map(os.fspath, root.cited)))
            cited_only = {c for c in cited if c not in read}
            for f in files + [c for c in cited if c in cited_only]:
                absolute = os.path.abspath(f)
                inner = absolute[len(inside):] if os.sep == "/" and absolute.startswith(inside) else ""
                name = check_name(f"{prefix}/{inner if inner[:1] not in ('', '/') else _relative(f, base)}")
                for shown in (str(f), absolute, _real_path(f, real_folders)):
                    names.setdefault(shown, name)
                if name in parts or name in unpacked:
                    continue
                try:
                    if f in cited_only and os.path.getsize(f) > limit:
                        digest, size = file_sha256(f)
                        unpacked[name] = {"sha256": digest, "size": size}
                    else:
                        parts[name] = f
                except OSError as exc:
                    raise BundleError(str(f), _("cannot read the input file: {reason}").format(
                        reason=exc.strerror)) from None
    return Layout(out_roles, parts, unpacked, names)


def _real_path(path: str, folders: dict[str, str]) -> str:
    """`os.path.realpath(path)`, the real path of each folder found once (`folders`: by folder,
    as the path names it): a national run's inputs are tens of thousands of files in a few
    folders, and the real path of each is the real path of its folder and its own name, unless
    that name is a link (or no name: '..', '.'; or an empty one: after a loop of links, realpath
    takes what follows '//' as a path of its own)."""
    folder, name = os.path.split(path)
    if name in ("", ".", "..") or os.sep * 2 in path:
        return os.path.realpath(path)
    real = folders.get(folder)
    if real is None:
        real = folders[folder] = os.path.realpath(folder)
    whole = os.path.join(real, name)
    return os.path.realpath(path) if os.path.islink(whole) else whole


def _relative(f: Path, base: Path) -> str:
    """`f` relative to `base`, lexically (so a link keeps the name it was read under); an input
    outside its folder cannot be packed. (`lay_out_inputs` takes the path after its folder's
    absolute path as it is, when that is where the path lies: the same.)"""
    rel = os.path.normpath(os.path.relpath(os.path.abspath(f), os.path.abspath(base)))
    if rel == ".." or rel.startswith(".." + os.sep) or os.path.isabs(rel):
        real = os.path.relpath(os.path.realpath(f), os.path.realpath(base))
        if real == ".." or real.startswith(".." + os.sep):
            raise BundleError(str(f), _("the file lies outside its input folder {folder}").format(folder=base))
        rel = real
    return PurePosixPath(*Path(rel).parts).as_posix()


_PATH_END = frozenset("/:'\"),;")


def _path_starts(value: str, i: int) -> bool:
    """No word character, dot, slash or dash before `i`: a path may begin there."""
    if i == 0:
        return True
    c = value[i - 1]
    return not (c.isalnum() or c in "_./-")


def _path_ends(value: str, j: int) -> bool:
    return j == len(value) or value[j] in _PATH_END or value[j].isspace()


_JSON_STRING = re.compile(rb'"((?:[^"\\]|\\.)*)"(:?)')  # a JSON string, and the ':' after it when it is a key


def localize(results: Mapping[str, bytes], names: Mapping[str, str]) -> dict[str, bytes]:
    """The result files with every input path as the run was given it (relative, absolute, through
    a link) replaced by the input's name in the bundle, so that the same inputs give the same
    bundle bytes from any working folder (see `localizer`)."""
    one = localizer(names)
    return {name: one(data) for name, data in results.items()}


def localizer(names: Mapping[str, str]) -> Callable[[bytes], bytes]:
    """`localize` for one result file at a time, the input paths looked up once for all of them.
    Only JSON is rewritten, and in it only string values (never keys); every other byte is kept.

    At each place a path may start, the longest input path that stands there whole is replaced;
    candidates are found by their first characters, so the cost does not grow with the number of
    inputs (one regular expression of every path did: quadratic in the number of units)."""
    # the names themselves when they can be (a second set of a national run's paths is megabytes)
    keys = names.keys() if "" not in names and "." not in names else {k for k in names if k not in ("", ".")}
    if not keys:
        return lambda data, encoded=False: data
    width = min(len(k) for k in keys)
    heads = {k[:width] for k in keys}
    sizes = sorted({len(k) for k in keys}, reverse=True)  # the lengths a path standing at a place may have

    def standing(text: str, i: int, end: int) -> int:
        """Where the longest input path that stands whole at `i` (ending by `end`) ends; 0 if none.
        An input folder stands only before a path inside it: a folder named as a word the results
        also write (`survey`, `tiers`) is not that word."""
        for size in sizes:
            j = i + size
            if j <= end and text[i:j] in keys and _path_ends(text, j) and (
                    text.startswith("/", j) or names[text[i:j]].count("/") != 2):  # a folder: inputs/<role>/<n>
                return j
        return 0

    def replace(value: str) -> str:
        out, last, i, n = [], 0, 0, len(value)
        while i <= n - width:
            j = standing(value, i, n) if value[i:i + width] in heads and _path_starts(value, i) else 0
            if j:
                out += [value[last:i], names[value[i:j]]]
                last = i = j
            else:
                i += 1
        return "".join(out) + value[last:] if out else value

    fixed: dict[bytes, bytes] = {}  # results repeat their strings (titles, labels, file names) unit after unit

    def string(m: re.Match) -> bytes:
        whole = m.group(0)
        if m.group(2):  # a key
            return whole
        found = fixed.get(whole)
        if found is None:
            raw = m.group(1)
            value = json.loads(whole) if b"\\" in raw else raw.decode("utf-8")
            new = replace(value)
            found = remember(fixed, whole, whole if new == value else _json_string(new))
        return found

    anchors = _anchors(heads)
    starts = _starts_pattern(heads) if anchors is None else None

    def places(text: str) -> Iterable[int]:
        """Every place one of `heads` may begin, overlapping ones too, in order: where one of their
        `_anchors` begins (each found by a plain search, in C), else where the pattern of their
        prefixes matches."""
        if starts is not None:
            return [m.start() for m in starts.finditer(text)]
        found = []
        for anchor in anchors:
            i = text.find(anchor)
            while i != -1:
                found.append(i)
                i = text.find(anchor, i + 1)
        if len(anchors) > 1:
            found.sort()  # no two anchors begin at one place: none is a prefix of another
        return found

    def plain(text: str) -> str:
        """`replace` on every string value of a JSON text without escapes: only where an input
        path may begin (found in C), inside a string (an odd number of quotes before it), and
        not in a key (no ':' after the string)."""
        out, last, quotes, counted = [], 0, 0, 0
        for i in places(text):
            if i < last:
                continue
            quotes += text.count('"', counted, i)
            counted = i
            if quotes % 2 == 0 or not _path_starts(text, i):
                continue
            end = text.index('"', i)
            if text.startswith(":", end + 1):
                continue
            j = standing(text, i, end)
            if j:
                out += [text[last:i], names[text[i:j]]]
                last = j
        return "".join(out) + text[last:] if out else text

    import orjson

    def one(data: bytes, encoded: bool = False) -> bytes:
        """`data` localized when it is JSON (`encoded`: known to be, as this program's encoder wrote
        it), else unchanged."""
        if not encoded:
            try:
                orjson.loads(data)
            except orjson.JSONDecodeError:
                try:  # what orjson refuses and the standard library reads (integers beyond 64 bits)
                    json.loads(data.decode("utf-8"))
                except (UnicodeDecodeError, ValueError):
                    return data
        if b"\\" in data:  # escapes: string by string
            return _JSON_STRING.sub(string, data)
        if len(data) <= _PIECE:
            return plain(_decoded(data)).encode("utf-8")
        return b"".join(plain(piece.decode("utf-8")).encode("utf-8") for piece in _pieces(data, _PIECE))

    return one


_PIECE = 1 << 18  # bytes of JSON without escapes localized at a time (a national run's summary is megabytes)
_DECODED: list = [b"", ""]  # the last unit file decoded (`_decoded`) and its text
_DECODED_MOST = 1 << 17  # bytes of the largest one kept (a unit file of the largest shipped set: about 35 KB)


def _decoded(data: bytes) -> str:
    """`data` (UTF-8) as text, the last one kept: a unit file's copy is localized (`localizer`) and
    checked (`unknown_paths`) one after the other, from the same bytes, decoded once."""
    if _DECODED[0] is data:
        return _DECODED[1]
    text = data.decode("utf-8")
    if len(data) <= _DECODED_MOST:
        _DECODED[:] = [data, text]
    return text


def _pieces(data: bytes, size: int = _PIECE) -> Iterator[bytes]:
    """`data` (JSON without escapes) in pieces of about `size` bytes, each ending just after a comma
    outside every string (an even number of quotes since the piece began): no string, and so no
    path, is cut, and what follows a string's closing quote stays in its piece."""
    start = 0
    while len(data) - start > size:
        end = data.find(b",", start + size)
        while end != -1 and data.count(b'"', start, end) % 2:
            end = data.find(b",", end + 1)
        if end == -1:
            break
        yield data[start:end + 1]
        start = end + 1
    yield data[start:]


_ANCHOR = 4  # characters an anchor needs to be searched for by itself
_ANCHORS = 16  # anchors searched for one by one at most; past them, one pattern


def _anchors(heads: set[str]) -> Optional[list[str]]:
    """A few prefixes, none a prefix of another, such that every one of `heads` begins with one:
    each group of heads is split by its next character until the group's common prefix has
    `_ANCHOR` characters or the group is one head (`/tmp/ev/...`, `criteria/...`, `/home/...`).
    None when more than `_ANCHORS` would be needed."""
    anchors: list[str] = []
    groups = [sorted(heads)]
    while groups:
        group = groups.pop()
        common = os.path.commonprefix(group)
        if len(common) >= _ANCHOR or len(group) == 1:
            anchors.append(common)
            if len(anchors) > _ANCHORS:
                return None
            continue
        split: dict[str, list[str]] = {}
        for h in group:  # heads have one length: none ends at `common`, which two of them differ after
            split.setdefault(h[len(common)], []).append(h)
        groups += split.values()
    return anchors


def _starts_pattern(heads: set[str]) -> "re.Pattern[str]":
    """A pattern that finds, in C, every place one of `heads` begins (overlapping ones too), on
    prefixes short enough that there are at most 64 of them (the heads of 20,000 files in one
    folder share their first characters)."""
    width = min(len(h) for h in heads)
    while width > 1 and len({h[:width] for h in heads}) > 64:
        width -= 1
    prefixes = sorted({h[:width] for h in heads})
    return re.compile("(?=" + "|".join(map(re.escape, prefixes)) + ")")


def input_anchors(roles: Mapping[str, Sequence[InputRoot]]) -> tuple[str, ...]:
    """The folders of the inputs (each input's `base`, as named, absolute and with links resolved):
    where the files a run reads or cites lie, and so how the input paths a result may quote begin."""
    out: dict[str, None] = {}
    for roots in roles.values():
        for root in roots:
            base = root.base
            for shown in (str(base), os.path.abspath(base), os.path.realpath(base)):
                if len(shown) > 1:
                    out[shown] = None
    return tuple(out)


_ENDS = re.compile(r"(?=[/:'\"),;\s])")  # the places `_path_ends` accepts inside a text


def unknown_paths(data: bytes, anchors: Sequence[str], known: Mapping[str, str] | AbstractSet[str],
                  listed: Optional[dict] = None) -> Optional[frozenset[str]]:
    """What a JSON file this program encoded quotes, in a string value (never a key), from a place
    where an input path may start (`_path_starts`) at one of the `anchors` to a place where it may
    end (`_path_ends`), that is not in `known` and is listed in its folder: the input paths that a
    copy localized (`localizer`) with `known` alone may have left as they are. When none of them
    is in the whole run's table, the copy is the one that table gives (its paths that `known` does
    not hold all begin with an anchor: `knows_enough`). None when the file has escapes: not looked
    into. `listed`: the folders' listings, kept from call to call (the inputs are taken not to
    change while the run reads them, as the bundle's copies of them are)."""
    if b"\\" in data:
        return None
    text = _decoded(data)
    listed = {} if listed is None else listed
    if all(_PLAIN_ANCHOR.fullmatch(a) for a in anchors):  # the places found in C, and most paths ruled out by folder
        found: set[str] = set()
        for anchor in anchors:
            if anchor not in text:  # a plain search: much quicker than the pattern's
                continue
            for folders, name in set(_anchored(anchor).findall(text)):
                prefix = anchor + folders
                k = prefix.rfind("/")
                found.update(_unknown_ends(prefix, len(anchor), k + 1, known, listed))
                folder = (prefix[:k] or "/") if k >= 0 else "."  # a relative anchor without '/': a name in "."
                if prefix[k + 1:] + name in _firsts(folder, known, listed):
                    break  # a file there that `known` does not hold may be quoted: look at every path
            else:
                continue
            break
        else:
            return frozenset(found)
    return _unknown_everywhere(text, anchors, known, listed)


def _unknown_everywhere(text: str, anchors: Sequence[str], known: Mapping[str, str] | AbstractSet[str],
                        listed: dict) -> frozenset[str]:
    """`unknown_paths` of a JSON text without escapes, each path at each place looked at."""
    places: dict[int, int] = {}  # where an anchor begins -> the shortest anchor there
    for anchor in anchors:
        for i in _found(text, anchor):
            places[i] = min(places.get(i, len(anchor)), len(anchor))
    found = set()
    quotes, counted = 0, 0
    for i in sorted(places):
        quotes += text.count('"', counted, i)
        counted = i
        if quotes % 2 == 0 or not _path_starts(text, i):
            continue
        end = text.index('"', i)
        if not text.startswith(":", end + 1):
            found.update(_unknown_ends(text, i + places[i], end + 1, known, listed, i))
    return frozenset(found)


def _unknown_ends(text: str, start: int, end: int, known: Mapping[str, str] | AbstractSet[str], listed: dict,
                  begin: int = 0) -> Iterator[str]:
    """The paths `text[begin:j]`, for each place `j` in `start`..`end` where a path may end, that
    `known` does not hold and that are listed in their folders."""
    for m in _ENDS.finditer(text, start, end):
        path = text[begin:m.start()]
        if path not in known:
            folder, slash, name = path.rpartition("/")
            if name in _listing(folder or ("/" if slash else "."), listed):
                yield path


def _listing(folder: str, listed: dict) -> AbstractSet[str]:
    names = listed.get(folder)
    if names is None:
        try:
            names = listed[folder] = frozenset(os.listdir(folder))
        except OSError:
            names = listed[folder] = frozenset()
    return names


def _firsts(folder: str, known: Mapping[str, str] | AbstractSet[str], listed: dict) -> AbstractSet[str]:
    """The names in `folder` of the paths `known` does not hold, each up to where a path may first
    end in it (`_path_ends`)."""
    key = ("firsts", folder)
    firsts = listed.get(key)
    if firsts is None:
        prefix = {"/": "/", ".": ""}.get(folder, folder + "/")  # as `_listed_in` splits a path
        firsts = listed[key] = frozenset(name[:m.start()] if m else name for name in _listing(folder, listed)
                                         if prefix + name not in known for m in [_ENDS.search(name)])
    return firsts


@functools.lru_cache(maxsize=32)
def _anchored(anchor: str) -> "re.Pattern[str]":
    """Where `anchor` begins a path (`_path_starts`) inside a string value (not a key): the folders
    after it up to the last '/' of the string, and the name in the last folder up to where a path
    may first end (`_path_ends`). For an anchor whose every character is a word character, '.',
    '/' or '-', with a '/' or a letter no number or literal has among them (`_PLAIN_ANCHOR`): it
    stands only inside strings (JSON has them nowhere else), and no place a path may begin lies
    inside it, so places found one after another miss none."""
    return re.compile(re.escape(anchor) + r"(?<![\w./-]" + re.escape(anchor) + r")"
                      r"""(?=((?:[^"/]*/)*)([^"/]*?)(?=[:'"),;\s])[^"]*"(?!:))""")


# outside its strings, JSON has digits, '.', '-' and the letters of true, false, null, NaN and Infinity
_PLAIN_ANCHOR = re.compile(r"[\w./-]*(?:/|[^\W\deEtrufalsnNIiy])[\w./-]*")


def _found(text: str, part: str) -> Iterator[int]:
    i = text.find(part)
    while i != -1:
        yield i
        i = text.find(part, i + 1)


def knows_enough(first: Mapping[str, str], names: Mapping[str, str], anchors: Sequence[str]) -> bool:
    """Whether result files localized with the table `first` (made before every input was known),
    none of which quotes one of `names`' other paths where `unknown_paths` looks, are the ones
    `names` (the whole run's) gives: `names` gives each path of `first` the same name, and each
    of its other paths begins with one of the `anchors`."""
    anchored = tuple(anchors)
    return all(names.get(k) == v for k, v in first.items() if k not in ("", ".")) and \
        all(k in first or k.startswith(anchored) for k in names if k not in ("", "."))


def _json_string(value: str) -> bytes:
    import orjson

    return orjson.dumps(value)


def make_bundle(kind: str, inputs: Mapping[str, Sequence[InputRoot]], results: Mapping[str, bytes],
                engine: str, *, about: Optional[Mapping[str, Any]] = None,
                key: Optional[Path] = None, max_cited: Optional[int] = None, encoded: bool = False) -> bytes:
    """A bundle of one run, in memory (see `write_run_bundle`)."""
    out = io.BytesIO()
    write_run_bundle(out, io.BytesIO(), kind, inputs, results.items(), engine, about=about, key=key,
                     max_cited=max_cited, encoded=encoded)
    return out.getvalue()


def write_run_bundle(out: BinaryIO, spool: BinaryIO, kind: str, inputs: Mapping[str, Sequence[InputRoot]],
                     results: Iterable[tuple[str, bytes]], engine: str, *, about: Optional[Mapping[str, Any]] = None,
                     key: Optional[Path] = None, max_cited: Optional[int] = None, encoded: bool = False) -> str:
    """Write the bundle of one run to `out`, its parts spooled in `spool` (`BundleWriter`); return its
    sha256. `kind` names the replay handler (engine.audit.replay), `inputs` the files by role,
    `results` the result files as written (names relative to the output folder), taken one at a
    time: the input paths they quote are recorded as the inputs' names in the bundle (`encoded`:
    every result is JSON this program encoded, not to be parsed to find out)."""
    layout = lay_out_inputs(inputs, max_cited=max_cited)
    local = localizer(layout.names)
    return write_laid_out(out, spool, kind, layout, ((name, local(data, encoded)) for name, data in results), engine,
                          about=about, key=key)


def write_laid_out(out: BinaryIO, spool: BinaryIO, kind: str, layout: Layout,
                   parts: Iterable[tuple[str, bytes | Placed | Iterable[bytes]]], engine: str, *,
                   about: Optional[Mapping[str, Any]] = None, key: Optional[Path] = None,
                   writer: Optional[BundleWriter] = None, done_with: Optional[Callable[[str], Any]] = None) -> str:
    """`write_run_bundle` of inputs already laid out, the result files given as the bundle holds
    them (`parts`: name, bytes with the input paths localized, those bytes in pieces, or where
    another process wrote them: `Placed`), taken one at a time, after those `writer` (whose spool
    is `spool`) holds already. `done_with`: `BundleWriter.write`'s."""
    writer = writer or BundleWriter(spool)
    for name, data in parts:
        if isinstance(data, bytes):
            writer.add(f"results/{name}", data)
        elif isinstance(data, Placed):
            writer.add_placed(f"results/{name}", data)
        else:
            writer.add_pieces(f"results/{name}", data)
    add_inputs(writer, layout)  # (after the results: a round copies them while its workers write theirs)
    return writer.write(layout.meta(kind, engine, about), out, key=key, done_with=done_with)


def copy_inputs(writer: BundleWriter, layout: Layout, stamps: ReadStamps,
                criteria_sha256: Optional[str] = None) -> None:
    """`add_inputs`, then every input file the run read checked to be, still, the one it read
    (`stamps`), and the criteria set's part to hold the one the run loaded (`criteria_sha256`): a
    file written to in between would leave the bundle holding another than the one the run scored.
    Raises `EvidenceError` naming each such file."""
    from ..core.errors import EvidenceError
    from ..inputs.evidence import changed_file

    add_inputs(writer, layout)
    problems = stamps.changed({f if os.path.isabs(f) else os.path.abspath(f) for f in layout.files.values()})
    criteria = layout.roles.get("criteria", [])
    if criteria_sha256 is not None and criteria and writer.sha256_of(criteria[0]) != criteria_sha256:
        problems.append(changed_file(layout.files[criteria[0]]))
    if problems:
        raise EvidenceError(problems)


def add_inputs(writer: BundleWriter, layout: Layout) -> None:
    """The input files of `layout` into `writer`, but those it holds already (copied while the run
    decided: engine.round.scoring; or while other processes wrote the results: engine.round.bundle)."""
    for name, f in layout.files.items():
        if name not in writer:
            writer.add_file(name, f)


def _localized_file(path: Path, local: Callable[[bytes, bool], bytes]) -> bytes | Iterator[bytes]:
    """A result file this program encoded, localized (`localizer`): a large one without escapes
    read and localized a piece at a time (a national run's summary is megabytes), else whole."""
    if os.path.getsize(path) <= _PIECE:
        return local(path.read_bytes(), True)
    with open(path, "rb") as fh:
        escaped = any(b"\\" in block for block in iter(lambda: fh.read(_PIECE), b""))
    if escaped:
        return local(path.read_bytes(), True)
    return (local(piece, True) for piece in _file_pieces(path, _PIECE))


def _file_pieces(path: Path, size: int) -> Iterator[bytes]:
    """The pieces `_pieces` cuts a file (JSON without escapes) into, read a block at a time."""
    rest = b""
    with open(path, "rb") as fh:
        while block := fh.read(size):
            *done, rest = _pieces(rest + block, size)
            yield from done
    if rest:
        yield rest


def write_bundle(path: Path, data: bytes) -> Path:
    """Write a bundle atomically (a temporary file beside it, then a rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".cchc-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _inside(out_dir: Path, bundle_path: Path, results: Iterable[str]) -> Optional[str]:
    """The bundle's name inside the output folder, or None when it is written elsewhere."""
    if bundle_path.is_dir():
        raise BundleError(str(bundle_path), _("is a folder; --bundle names the bundle file to write"))
    try:
        rel = bundle_path.resolve().relative_to(Path(out_dir).resolve())
    except ValueError:
        return None
    if rel.as_posix() in results:
        raise BundleError(str(bundle_path), _("the bundle would overwrite a result file"))
    return rel.as_posix()


@contextlib.contextmanager
def _written_beside(path: Path) -> Iterator[BinaryIO]:
    """A new file for `path`, written beside it and renamed into place when the block ends
    without an error (else removed)."""
    with _the_bundles(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".cchc-", suffix=".tmp", dir=path.parent)
    fh = os.fdopen(fd, "wb")
    try:
        yield _Beside(fh, path)
        with _the_bundles(path):  # (what cannot be written to it, the disk full under it)
            fh.close()
            os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            fh.close()
        if os.path.exists(tmp):
            os.unlink(tmp)


@contextlib.contextmanager
def _the_bundles(path: Path) -> Iterator[None]:
    """An OSError in the block is the bundle's at `path` to report: it cannot be written."""
    try:
        yield
    except OSError as exc:
        raise OutputError(_("cannot write the bundle {path}: {reason}").format(
            path=path, reason=exc.strerror or exc)) from None


class _Beside:
    """The file `_written_beside` writes: what cannot be written to it is the bundle's error,
    whatever else the block writes (the output folder's files, its scratch files) being theirs."""

    def __init__(self, fh: BinaryIO, path: Path):
        self._fh, self._path = fh, path

    def write(self, data: bytes) -> int:
        with _the_bundles(self._path):
            return self._fh.write(data)

    def flush(self) -> None:
        with _the_bundles(self._path):
            self._fh.flush()


def write_run(out_dir: Path, files: Mapping[str, bytes], bundle_path: Path, bundle: bytes, *,
              command: str) -> list[Path]:
    """Write a run's result files and its bundle. A bundle inside `out_dir` is written with the
    results, all or nothing; one elsewhere is staged first and put in place after them."""
    out_dir, bundle_path = Path(out_dir), Path(bundle_path)
    inside = _inside(out_dir, bundle_path, files)
    if inside is not None:
        return write_outputs(out_dir, {**files, inside: bundle}, command=command)
    with _written_beside(bundle_path) as fh:
        fh.write(bundle)
        written = write_outputs(out_dir, dict(files), command=command)
    return written + [bundle_path]


def finish_run(staged: Staging, bundle_path: Path, kind: str, inputs: Mapping[str, Sequence[InputRoot]],
               results: Sequence[str], engine: str, *, about: Optional[Mapping[str, Any]] = None,
               key: Optional[Path] = None, max_cited: Optional[int] = None) -> tuple[list[Path], str]:
    """Put a run written file by file (`staged`, whose result files are `results`) in place with its
    bundle: one inside the output folder goes in with the results, all or nothing; one elsewhere
    is written beside its place first and renamed there after them. The result files (JSON, as
    `engine.storage.results.encode` wrote them) are read back one at a time for the bundle, its parts
    spooled in the staging folder. Returns the files written and the bundle's sha256."""
    layout = lay_out_inputs(inputs, max_cited=max_cited)
    local = localizer(layout.names)
    parts = ((name, _localized_file(staged.path / name, local)) for name in results)  # type: ignore[operator]
    return finish_laid_out(staged, bundle_path, kind, layout, results, parts, engine, about=about, key=key)


def finish_laid_out(staged: Staging, bundle_path: Path, kind: str, layout: Layout, results: Sequence[str],
                    parts: Iterable[tuple[str, bytes | Placed | Iterable[bytes]]], engine: str, *,
                    about: Optional[Mapping[str, Any]] = None, key: Optional[Path] = None,
                    writer: Optional[BundleWriter] = None) -> tuple[list[Path], str]:
    """`finish_run` of inputs already laid out, the result files (`results`, written into
    `staged` by the time `parts` is spent) given as the bundle holds them (`parts`: name, bytes
    with the input paths localized, or `Placed`: in a scratch file of `staged`, removed once the
    bundle has copied it: `Staging.drop`), one at a time, after those `writer` holds already (a
    `BundleWriter` whose spool is a scratch file of `staged`, filled while the run wrote them)."""
    bundle_path = Path(bundle_path)
    inside = _inside(staged.out, bundle_path, results)
    with (contextlib.nullcontext(writer.spool) if writer is not None else staged.scratch()) as spool:
        if inside is not None:
            with staged.create(inside) as fh:
                digest = write_laid_out(fh, spool, kind, layout, parts, engine, about=about, key=key, writer=writer,
                                        done_with=staged.drop)
            spool.close()
            return staged.finish(), digest
        try:
            with _written_beside(bundle_path) as fh:
                digest = write_laid_out(fh, spool, kind, layout, parts, engine, about=about, key=key, writer=writer,
                                        done_with=staged.drop)
                spool.close()
                written = staged.finish()
        except OSError as exc:  # the output folder's (its scratch files); the bundle's are its own (`_Beside`)
            raise staged.failed(exc) from None
    return written + [bundle_path], digest


# ---------------------------------------------------------------- reading

@dataclass(frozen=True)
class Bundle:
    """A verified bundle: every hash, the seal, the framing and (when present) the signature hold."""

    sha256: str  # of the whole bundle: its fingerprint
    size: int
    manifest_bytes: bytes
    parts: tuple[tuple[str, bytes], ...]
    signer: Optional[str] = None  # fingerprint of the key that signed it
    data: bytes = field(default=b"", repr=False, compare=False)  # the bundle file's bytes

    def manifest(self) -> dict:
        return json.loads(self.manifest_bytes.decode("utf-8"))

    @property
    def kind(self) -> str:
        return self.manifest()["kind"]

    @property
    def engine(self) -> str:
        return self.manifest()["engine"]

    @property
    def versions(self) -> dict[str, str]:
        return dict(self.manifest()["versions"])

    @property
    def inputs(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in self.manifest()["inputs"].items()}

    @property
    def about(self) -> dict:
        return dict(self.manifest().get("about") or {})

    @property
    def unpacked(self) -> dict[str, dict]:
        """Cited files recorded by sha256 and size only (above the cited-file limit)."""
        return dict(self.manifest().get("unpacked") or {})

    def part(self, name: str) -> bytes:
        for n, data in self.parts:
            if n == name:
                return data
        raise KeyError(name)

    def results(self) -> dict[str, bytes]:
        """The recorded result files, named relative to the output folder."""
        return {n[len("results/"):]: d for n, d in self.parts if n.startswith("results/")}


def _manifest_problem(message: str) -> DamagedBundleError:
    return DamagedBundleError(MANIFEST, message)


def _check_manifest(doc: Any, compressed: bool) -> None:
    """The manifest against its schema (engine/schemas/bundle.schema.json), then what a schema
    cannot say: the format its container says (`compressed`: `cchc-bundle/3`, else the plain
    archive of `cchc-bundle/2`), safe member names, and every input of a role a part of the bundle."""
    from ..inputs.schema import json_problem

    found = doc.get("format") if isinstance(doc, dict) else None
    if found == "cchc-bundle/1":
        raise _manifest_problem(_("a cchc-bundle/1 bundle of an earlier cchc, whose manifest does not seal "
                                  "whether it was signed: score the inputs again to make a {format}").format(
            format=BUNDLE_FORMAT))
    expected = BUNDLE_FORMAT if compressed else PLAIN_FORMAT
    if found != expected:
        raise _manifest_problem(_("not a {format} manifest (format {found!r})").format(format=expected, found=found))
    problem = json_problem(doc, "bundle.schema.json", "manifest")
    if problem:
        raise _manifest_problem(problem)
    unpacked = doc.get("unpacked", {})
    for name in [*doc["parts"], *unpacked]:
        check_name(name)
    for name in unpacked:
        if name in doc["parts"]:
            raise _manifest_problem(_("unpacked cited file {name!r} must be an input and not also a part").format(
                name=name))
    for role, paths in doc["inputs"].items():
        for p in paths:
            check_name(p.rstrip("/"))
            if p.endswith("/"):
                if not p.startswith("inputs/"):
                    raise _manifest_problem(_("input folder {name!r} lies outside inputs/").format(name=p))
            elif p not in doc["parts"]:
                raise _manifest_problem(_("input {name!r} of role {role!r} is not a part of the bundle").format(
                    name=p, role=role))


def _check_signer(declared: Optional[str], found: Optional[str]) -> None:
    """The manifest (sealed, and signed with it) says whether the bundle is signed and by which
    key: a signature removed, added or swapped afterwards is tampering."""
    if declared is not None and found is None:
        raise DamagedBundleError(SIGNATURE, _("missing: manifest.json says the bundle was signed by key {key}, "
                                              "but its signature was removed").format(key=declared))
    if declared is None and found is not None:
        raise DamagedBundleError(SIGNATURE, _("added afterwards: manifest.json says the bundle was not signed, "
                                              "but it carries a signature by key {key}").format(key=found))
    if declared != found:
        raise DamagedBundleError(SIGNATURE, _("made with key {found}, but manifest.json names key {declared}").format(
            found=found, declared=declared))


def _unpacked(data: bytes) -> tuple[bytes, bool]:
    """The archive a bundle file holds, and whether it was compressed: a Zstandard frame
    decompressed (at most $CCHC_MAX_BUNDLE_MB of archive), which must be exactly what
    `_compressing` makes of that archive; anything else is read as the plain archive of an earlier
    cchc."""
    if not data.startswith(ZSTD_MAGIC):
        return data, False
    import zstandard

    most = limit("bundle_mb") * 1024 * 1024
    unpacked = io.BytesIO()  # its bytes taken without a copy at the end: the archive is held once
    try:
        with zstandard.ZstdDecompressor(max_window_size=_WINDOW).stream_reader(data, read_across_frames=False) as frame:
            while piece := frame.read(1 << 20):
                if unpacked.tell() + len(piece) > most:
                    raise BundleError(COMPRESSION, over("bundle_mb", _("the archive it holds is too large unpacked")))
                unpacked.write(piece)
    except zstandard.ZstdError as exc:
        raise DamagedBundleError(COMPRESSION, _("the compressed archive is damaged, cut short or followed by other "
                                                "bytes ({reason})").format(reason=exc)) from None
    archive = unpacked.getvalue()
    del unpacked
    if _compressed(archive) != data:
        raise DamagedBundleError(COMPRESSION, _("the compressed archive is damaged, cut short or followed by other "
                                                "bytes (it is not what cchc makes of the archive it holds)"))
    return archive, True


def read_bundle(data: bytes, *, public_key: Optional[bytes] = None) -> Bundle:
    """Verify and open a bundle. Raises `DamagedBundleError` naming the part at fault, or
    `BundleError` for a refused member name; with `public_key` (raw Ed25519), the bundle must be
    signed by that key."""
    archive, compressed = _unpacked(data)
    members = _parse(archive)
    by_name = {m.name: m.data for m in members}
    if MANIFEST not in by_name or SEAL not in by_name:
        raise DamagedBundleError(MANIFEST if MANIFEST not in by_name else SEAL,
                                 _("missing: this is not a cchc bundle, or its first member is damaged"))
    manifest_bytes = by_name[MANIFEST]
    _check_seal(by_name[SEAL], manifest_bytes)
    try:
        doc = json.loads(manifest_bytes.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _manifest_problem(_("not readable JSON")) from None
    parts = [(m.name, m.data) for m in members if m.name not in RESERVED]
    _check_manifest(doc, compressed)
    listed = doc["parts"]
    for name, content in parts:
        entry = listed.get(name)
        if entry is None:
            raise DamagedBundleError(name, _("is not listed in the manifest"))
        if sha256(content) != entry["sha256"] or len(content) != entry["size"]:
            raise DamagedBundleError(name, _("does not match its sha256 in the manifest "
                                             "(recorded {recorded}…, found {found}…)").format(
                                                 recorded=entry['sha256'][:12], found=sha256(content)[:12]))
    missing = sorted(set(listed) - {n for n, _ in parts})
    if missing:
        raise DamagedBundleError(missing[0], _("is listed in the manifest but missing from the bundle"))
    signer = None
    if SIGNATURE in by_name:
        signer = _verify_signature(by_name[SIGNATURE], manifest_bytes)
    _check_signer(doc["signer"], signer)
    order = [(MANIFEST, manifest_bytes), (SEAL, by_name[SEAL])]
    if SIGNATURE in by_name:
        order.append((SIGNATURE, by_name[SIGNATURE]))
    order += sorted(parts, key=lambda kv: kv[0].encode("utf-8"))
    before_tarfile = archive[:BLOCK] != _header(MANIFEST, len(manifest_bytes))  # in the earlier form
    if _encode(order, before_tarfile=before_tarfile) != archive:
        raise DamagedBundleError(FRAMING, _("the members are not in canonical order (or their headers not all "
                                            "of one form)"))
    if public_key is not None:
        if signer is None:
            raise BundleError(SIGNATURE, _("missing: the bundle is not signed, but a signer's key was required"))
        if signer != key_fingerprint(public_key):
            raise BundleError(SIGNATURE, _("signed by key {signer}, not by the required key "
                                           "{required}").format(signer=signer, required=key_fingerprint(public_key)))
    return Bundle(sha256(data), len(data), manifest_bytes, tuple(parts), signer, data)


def read_bundle_file(path: Path, *, public_key: Optional[bytes] = None) -> Bundle:
    try:
        data = Path(path).read_bytes()
    except IsADirectoryError:
        raise CchcError(_("{path} is a folder, not a bundle file").format(path=path)) from None
    except OSError as exc:
        raise CchcError(_("cannot read bundle {path}: {reason}").format(path=path, reason=exc.strerror)) from None
    try:
        return read_bundle(data, public_key=public_key)
    except BundleError as exc:
        raise type(exc)(exc.part, exc.detail, bundle=str(path)) from None


def extract(bundle: Bundle, dest: Path, *, prefix: str = "inputs/") -> dict[str, list[Path]]:
    """Write the parts under `prefix` into `dest` (rebuilding the input folders; an unpacked cited
    file becomes an empty stand-in) and return each role's inputs as paths in `dest`."""
    dest = Path(dest)
    base = dest.resolve()
    for name, data in bundle.parts:
        if not name.startswith(prefix):
            continue
        target = (dest / check_name(name))
        if base not in target.resolve().parents:
            raise BundleError(name, _("refused: it would be written outside the extraction folder"))
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        except OSError as exc:
            raise BundleError(name, _("cannot be extracted: {reason}").format(reason=exc.strerror)) from None
    for name in bundle.unpacked if prefix == "inputs/" else ():
        # scoring only checks that a cited file exists: an empty stand-in takes the place of a
        # file kept out of the bundle by hash
        target = dest / check_name(name)
        if base not in target.resolve().parents or target.exists():
            raise BundleError(name, _("refused: an unpacked cited file cannot be placed there"))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"")
    roles: dict[str, list[Path]] = {}
    for role, paths in bundle.inputs.items():
        roles[role] = []
        for p in paths:
            target = dest / p.rstrip("/")
            if p.endswith("/"):
                target.mkdir(parents=True, exist_ok=True)
            roles[role].append(target)
    return roles


# ---------------------------------------------------------------- what a run packs

def cited_files(values: Iterable[tuple[str, MetricValue]]) -> list[Path]:
    """The files cited (`citation.file`) by metric values, each given with the evidence file it was
    read from, resolved beside that file (the loader has checked they stay inside its folder)."""
    out: dict[Path, None] = {}  # ordered and looked up in constant time: a run cites thousands
    seen: set[Path] = set()
    for source, v in values:
        if v.citation and v.citation.file:
            p = Path(source).parent / v.citation.file
            if p not in seen:
                seen.add(p)
                if p.is_file():
                    out[p] = None
    return list(out)


def evidence_cited(records: Iterable[EvidenceRecord]) -> list[Path]:
    """The files the records' evidence cites (see `cited_files`)."""
    return cited_files((rec.source, v) for rec in records for _, v in sorted(rec.values.items()))


def evidence_roots(paths: Sequence[Path | str], evidence: "EvidenceSet", reads: Iterable[str]) -> list[InputRoot]:
    """Each evidence path as given, with the evidence files found through it, every other file read
    while loading it (task lists named by YAML, CSV or Excel) and the files its evidence cites."""
    return evidence_input_roots(paths, evidence_cited(evidence.records), reads)


def evidence_input_roots(paths: Sequence[Path | str], cited: Sequence[Path], reads: Iterable[str]) -> list[InputRoot]:
    """`evidence_roots` of evidence read piece by piece: the files it cites given."""
    from ..inputs.evidence import evidence_files

    return input_roots(paths, reads, evidence_files, cited)
