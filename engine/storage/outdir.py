"""Output folders written all or nothing, and file names made from data (docs/results.md).

A run never writes into its output folder OUT. It writes every file into a fresh staging folder
beside OUT (`.OUT.cchc-new-XXXXXXXX`, same file system), syncs it to disk, then puts it in OUT's
place in one step:

- on Linux, by exchanging the two folders (renameat2 RENAME_EXCHANGE): OUT always names either the
  complete previous results or the complete new ones; the previous ones, now at the staging name,
  are then removed;
- elsewhere (or on a file system that cannot exchange), by two renames: OUT to
  `.OUT.cchc-old-XXXXXXXX`, then the staging folder to OUT.

Recovery rule, applied under a lock before every write and by readers that find OUT missing:
a staging folder no live run holds is removed; an `-old-` folder is renamed back to OUT when OUT
is missing (the interrupted run had not finished: its results are dropped), else removed.

A run replaces only a folder it may own: a new or empty one, or one whose `.cchc-out.json` says
the same command wrote exactly the files in it. Links are never followed: OUT may not be a link,
and a link (or any other unlisted entry) inside OUT makes it a folder cchc does not own.
"""
from __future__ import annotations

import ctypes
import errno
import fcntl
import io
import json
import os
import queue
import re
import secrets
import shutil
import signal
import stat
import tempfile
import threading
from contextlib import contextmanager, suppress
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Callable, Iterator, Mapping, Optional, Sequence

from ..core.errors import InputError, OutputError, Problem
from ..core.i18n import N_, _
from ..core.stops import stops_held

MARKER = ".cchc-out.json"
MARKER_FORMAT = "cchc-out/1"
CRASH_ENV = "CCHC_CRASH_AT"  # testing: the process kills itself (SIGKILL) at this named point
_RENAME_EXCHANGE = 2


# ---------------------------------------------------------------- file names made from data

_PORTABLE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
_RESERVED = {"con", "prn", "aux", "nul"} | {f"{d}{i}" for d in ("com", "lpt") for i in range(10)}


def name_problem(name: object) -> Optional[str]:
    """Why `name` cannot be the stem of a file name on every common system, or None."""
    if not isinstance(name, str) or not _PORTABLE.fullmatch(name):
        return _("a file name made from it must be 1 to 100 ASCII letters, digits, '.', '_' or '-', "
                 "starting with a letter or digit")
    if name.split(".")[0].lower() in _RESERVED:
        return _("it is a reserved device name on Windows (CON, PRN, AUX, NUL, COM0-9, LPT0-9)")
    if name.endswith("."):
        return _("a file name made from it would end with a dot, which Windows drops")
    return None


def check_names(names: Mapping[str, str], what: str = N_("unit id")) -> None:
    """Refuse data that would name a file badly: `names` maps each name to where it was read.
    Names that differ only in case are refused too (one file on Windows, macOS and FAT drives)."""
    problems, seen = [], {}
    for name, where in names.items():
        shown = repr(name if len(name) <= 60 else name[:60] + "…") if isinstance(name, str) else repr(name)
        why = name_problem(name)
        if why:
            problems.append(Problem(where, message=_("{what} {name} cannot name a file: {reason}").format(
                what=_(what), name=shown, reason=why)))
            continue
        first = seen.setdefault(name.lower(), (name, where))
        if first[0] != name:
            problems.append(Problem(where, message=_("{what} {name} and {other!r} (in {where}) differ only "
                                                     "in case: their files would be one on Windows, macOS and FAT "
                                                     "drives").format(what=_(what), name=shown, other=first[0],
                                                                      where=first[1])))
    if problems:
        raise InputError(problems)


def _member(rel: str) -> PurePosixPath:
    """A file of a run: a plain relative path, no `..`, no hidden or empty segment."""
    p = PurePosixPath(rel)
    if (not rel or p.is_absolute() or "\\" in rel or "\x00" in rel
            or any(part in ("", ".", "..") or part.startswith(".") for part in rel.split("/"))):
        raise OutputError(_("cannot write {name!r}: an output file must be a plain relative path").format(name=rel))
    return p


# ---------------------------------------------------------------- writing

def write_outputs(out_dir: Path | str, files: Mapping[str, bytes], *, command: str) -> list[Path]:
    """Replace the folder `out_dir` by one holding exactly `files` (relative POSIX name → bytes),
    all or nothing. `command` names what wrote it (`score`, `round`, …): a folder another command
    wrote is not replaced."""
    members = {_member(rel): data for rel, data in files.items()}
    with Staging(out_dir, command=command) as staged:
        for rel, data in sorted(members.items()):
            staged.add(str(rel), data)
        return staged.finish()


class _ScratchFile(io.BufferedRandom):
    """A scratch file (`Staging.scratch`) whose with-block, left by an error, closes it without
    putting its own error in that one's place: closing writes what is buffered, which fails
    again on the disk that is full."""

    def __exit__(self, kind, *rest):
        if kind is None:
            return super().__exit__(kind, *rest)
        with suppress(OSError):
            self.close()
        return False


class _Removing:
    """Files removed by a thread of their own, in the order given, while the caller goes on:
    removing a large file frees its blocks, which takes a while (a national run's scratch files
    hold gigabytes), and the thread waits in the kernel, not for the interpreter."""

    def __init__(self) -> None:
        self._paths: "queue.SimpleQueue[Optional[str]]" = queue.SimpleQueue()
        self._thread: Optional[threading.Thread] = None
        self._error: Optional[OSError] = None

    def add(self, path: str) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._remove, name="cchc-remove", daemon=True)
            self._thread.start()
        self._paths.put(path)

    def _remove(self) -> None:
        while (path := self._paths.get()) is not None:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
            except OSError as exc:
                self._error = self._error or exc

    def wait(self) -> Optional[OSError]:
        """Once every file given is removed: the first error met, if any."""
        if self._thread is not None:
            self._paths.put(None)
            self._thread.join()
            self._thread = None
        return self._error


class Staging:
    """An output folder written file by file (`add`, `create`) into its staging folder, then put in
    `out_dir`'s place by `finish` (see `write_outputs`: the same checks, lock, sync and exchange).
    Leaving the block without `finish` (an error, Ctrl-C) removes the staging folder: nothing
    half-written is left. Its scratch files (`scratch`) are removed before it is put in place."""

    def __init__(self, out_dir: Path | str, *, command: str, placed: Optional[Callable[[], Any]] = None):
        self.out_dir, self.command = out_dir, command
        self.placed = placed  # called as the folder is put in place (Ctrl-C held back): the run is done
        self.out = Path(os.path.abspath(out_dir))
        self.path: Optional[Path] = None  # the staging folder, once made
        self._lock: Optional[int] = None
        self._folders = {PurePosixPath(".")}
        self._listing = bytearray()  # the files written: each name in UTF-8, then a NUL (a national run writes tens of thousands)
        self._written = 0
        self._scratch: list[Path] = []
        self._removing = _Removing()  # scratch files no longer needed (`drop`)
        self._made: list[Path] = []  # the folders above OUT that had to be made
        self._finished = False

    def __enter__(self) -> "Staging":
        out = self.out
        if not out.name or out.parent == out:
            raise OutputError(_("--out {out}: name a folder to write into").format(out=self.out_dir))
        _check_target(out)
        parent = out.parent
        self._made = [p for p in [parent, *parent.parents] if not os.path.lexists(p)]
        try:
            self._open(out, parent)
        except BaseException as exc:
            self.__exit__(type(exc), exc, None)
            if isinstance(exc, OSError):
                raise _os_error(exc, out) from None
            raise
        return self

    def _open(self, out: Path, parent: Path) -> None:
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _os_error(exc, parent) from None
        if not parent.is_dir():
            raise OutputError(_("--out {out}: {parent} is not a folder").format(out=self.out_dir, parent=parent))
        try:  # early, so that a refused folder costs no writing; again in `finish`, under the lock
            _check_replaceable(out, self.command)
        except FileNotFoundError:
            pass  # another run is putting its results in place right now: the check under the lock decides
        except OutputError:  # seen unlocked, perhaps halfway through another run's swap: look again, locked
            with _open_dir(parent) as pfd, _locked(pfd):
                _recover(parent, out.name, pfd)
                _check_replaceable(out, self.command)
        with stops_held(), _open_dir(parent) as pfd:  # (a stop between the folder made and kept would leave it)
            self.path, self._lock = _new_staging(parent, pfd, out.name)

    def __exit__(self, *exc) -> None:
        if not self._finished:  # the folders made for it go too
            self._discard()
            for folder in self._made:
                try:
                    os.rmdir(folder)
                except OSError:
                    break

    def _discard(self) -> None:
        self._removing.wait()
        if self.path is not None and os.path.lexists(self.path):
            shutil.rmtree(self.path, ignore_errors=True)
        self.path = None
        lock, self._lock = self._lock, None  # (closed once, however its closing is interrupted)
        if lock is not None:
            os.close(lock)

    @contextmanager
    def create(self, rel: str) -> Iterator[BinaryIO]:
        """A new file of the output, open for writing."""
        member = _member(rel)
        with self._new_file(member) as fh:
            yield fh
        self._list(member)

    def failed(self, exc: OSError) -> OutputError:
        """What to raise when a file `claim` gave cannot be written."""
        return _os_error(exc, self.out)

    def claim(self, rel: str) -> Path:
        """Where a file of the output is to be written by another process (`write_new`): its
        folders made, its name listed as written."""
        member = _member(rel)
        assert self.path is not None, "a Staging is used inside its with-block"
        try:
            self._folders_of(member)
        except OSError as exc:
            raise _os_error(exc, self.out) from None
        self._list(member)
        return self.path / member

    def folder(self, rel: str) -> Path:
        """A folder of the output, made now, for files other processes write into (`write_new`)
        before they are listed (`claim`)."""
        member = _member(rel)
        assert self.path is not None, "a Staging is used inside its with-block"
        try:
            self._folders_of(member / "-")  # the folders of a file in it
        except OSError as exc:
            raise _os_error(exc, self.out) from None
        return self.path / member

    def written_in(self, folder: str, name: str) -> None:
        """List the file `name` (a plain file name) that another process wrote into `folder`, a
        folder `folder` (the method) made: what `claim` does, without its checks of the folder."""
        rel = f"{folder}/{name}"
        if not name or name.startswith(".") or any(c in name for c in "/\\\x00"):
            _member(rel)  # refused as any other bad name is
        self._list(rel)

    def _list(self, member: PurePosixPath | str) -> None:
        self._listing += str(member).encode("utf-8") + b"\0"  # a member's name has no NUL (`_member`)
        self._written += 1
        if self._written == 2:
            _crash("writing")

    def _folders_of(self, member: PurePosixPath) -> None:
        assert self.path is not None
        for d in reversed(member.parents[:-1]):
            if d not in self._folders:
                os.mkdir(self.path / d)
                self._folders.add(d)

    @contextmanager
    def _new_file(self, member: PurePosixPath) -> Iterator[BinaryIO]:
        assert self.path is not None, "a Staging is used inside its with-block"
        try:
            self._folders_of(member)
            with _created(self.path / member) as fh:
                yield fh
        except OSError as exc:
            raise _os_error(exc, self.out) from None

    def add(self, rel: str, data: bytes) -> None:
        """A file of the output, with these bytes."""
        with self.create(rel) as fh:
            fh.write(data)

    def scratch(self, suffix: str = "") -> BinaryIO:
        """A temporary file inside the staging folder (same file system, removed with it): not
        part of the output."""
        assert self.path is not None, "a Staging is used inside its with-block"
        try:
            fd, name = tempfile.mkstemp(prefix=".scratch-", suffix=suffix, dir=self.path)
        except OSError as exc:
            raise _os_error(exc, self.out) from None
        self._scratch.append(Path(name))
        return _ScratchFile(io.FileIO(fd, "r+"))

    def scratch_path(self, suffix: str = "") -> Path:
        """A new, empty scratch file (`scratch`) for another process to write: its path."""
        self.scratch(suffix).close()
        return self._scratch[-1]

    def drop(self, path: str) -> None:
        """Scratch file `path` is no longer needed: removed beside what follows (`finish` waits for it)."""
        self._removing.add(path)

    def finish(self) -> list[Path]:
        """The marker written, everything synced, the folder put in place of `out_dir`."""
        assert self.path is not None and self._lock is not None, "a Staging is finished inside its with-block"
        out, staging = self.out, self.path
        try:
            error = self._removing.wait()
            if error is not None:
                raise error
            for f in self._scratch:
                if os.path.lexists(f):
                    os.unlink(f)
            listed = sorted(bytes(self._listing).split(b"\0")[:-1])  # UTF-8 sorts as the text it encodes
            with self._new_file(PurePosixPath(MARKER)) as fh:
                fh.writelines(marker_lines(self.command, listed))
            if _syncfs is not None and _syncfs(self._lock) != 0:  # one flush for every file, not one per file
                err = ctypes.get_errno()
                raise OSError(err, os.strerror(err), str(staging))
            for d in sorted(self._folders, key=lambda p: len(p.parts), reverse=True):
                with _open_dir(staging / d) as dfd:
                    os.fsync(dfd)
            _crash("staged")
            with _open_dir(out.parent) as pfd, _locked(pfd):
                _recover(out.parent, out.name, pfd)
                _check_replaceable(out, self.command)
                with stops_held():  # in place, and known to be: a stop that lands then is the run's no more
                    _swap(pfd, staging.name, out.name)
                    self._finished = True
                    if self.placed is not None:
                        self.placed()
        except OSError as exc:
            raise _os_error(exc, out) from None
        finally:
            self._discard()
        return OutputFiles(out, listed)


def marker_lines(command: str, listed: Sequence[bytes]) -> Iterator[bytes]:
    """The marker of a folder `command` wrote with the files `listed` (sorted, UTF-8), a line at a
    time: the bytes of `json.dumps(..., ensure_ascii=False, indent=1, sort_keys=True)` and a line
    break, never the whole text at once (a national run's marker lists tens of thousands of files)."""
    whole = json.dumps({"format": MARKER_FORMAT, "command": command, "files": []}, ensure_ascii=False, indent=1,
                       sort_keys=True) + "\n"
    head, _files, tail = whole.encode("utf-8").partition(_NO_FILES)  # `command`'s quotes would be escaped
    yield head
    if not listed:
        yield _NO_FILES
    else:
        yield _NO_FILES[:-1]
        for i, name in enumerate(listed):
            yield (b",\n  " if i else b"\n  ") + json.dumps(name.decode("utf-8"), ensure_ascii=False).encode("utf-8")
        yield b"\n ]"
    yield tail


_NO_FILES = b'"files": []'


class OutputFiles(Sequence[Path]):
    """The files of an output folder put in place (`Staging.finish`), sorted by name: each `Path`
    made when asked."""

    def __init__(self, folder: Path, listed: Sequence[bytes]):
        self._folder, self._listed = folder, listed

    def __len__(self) -> int:
        return len(self._listed)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        return self._folder / self._listed[i].decode("utf-8")

    def __add__(self, other: Sequence[Path]) -> list[Path]:
        return [*self, *other]


@contextmanager
def _created(path: Path) -> Iterator[BinaryIO]:
    """A new file, never one already there nor through a link; synced when it is closed unless the
    staging folder is synced whole (`_syncfs`)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666)
    with os.fdopen(fd, "wb") as fh:
        yield fh
        if _syncfs is None:
            fh.flush()
            os.fsync(fh.fileno())


def write_new(path: Path | str, data: bytes) -> None:
    """Write a file `Staging.claim` gave, from any process (an OSError is the caller's to report)."""
    with _created(Path(path)) as fh:
        fh.write(data)


def write_rest(path: Path | str, data: bytes) -> None:
    """Add `data` at the end of a file `write_new` began (from any process: the rest of a file
    begun before all of it was known), never through a link."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        if _syncfs is None:
            fh.flush()
            os.fsync(fh.fileno())


def write_file(path: Path | str, data: bytes) -> Path:
    """Write one file (`--out FILE`) all or nothing: a temporary file beside it, synced, then
    renamed over it. A link or a folder at `path` is refused, never followed or replaced."""
    target = Path(os.path.abspath(path))
    if target.is_symlink():
        raise OutputError(_("--out {out} is a symbolic link: cchc writes only to a real file").format(out=path))
    if target.is_dir():
        raise OutputError(_("--out {out} is a folder: name the file to write").format(out=path))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.cchc-", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise _os_error(exc, target) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        raise _os_error(exc, target) from None
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)
    return target


def _os_error(exc: OSError, where: Path) -> OutputError:
    name = exc.filename if exc.filename else where
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        reason += _(" (choose a folder you can write in)")
    return OutputError(_("cannot write the results to {where}: {name}: {reason}").format(
        where=where, name=name, reason=reason))


def _check_target(out: Path) -> None:
    if out.is_symlink():
        raise OutputError(_("--out {out} is a symbolic link: cchc writes results only into a real folder").format(
            out=out))
    if out.exists() and not out.is_dir():
        raise OutputError(_("--out {out} is a file, not a folder: name a new or empty folder").format(out=out))


@contextmanager
def _open_dir(path: Path) -> Iterator[int]:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield fd
    finally:
        os.close(fd)


@contextmanager
def _locked(fd: int) -> Iterator[None]:
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


def _crash(point: str) -> None:
    if os.environ.get(CRASH_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)


def _new_staging(parent: Path, pfd: int, name: str) -> tuple[Path, int]:
    """A new staging folder beside OUT and the descriptor that keeps it locked (flock) until
    closed, so that a concurrent run's recovery leaves it alone. The folder is made and locked
    under the parent's lock: a recovery never sees it unlocked."""
    with _locked(pfd):
        while True:
            staging = parent / f".{name}.cchc-new-{secrets.token_hex(4)}"
            try:
                os.mkdir(staging, 0o777)  # the umask applies, as to any folder the user makes
                break
            except FileExistsError:
                continue
        lock = None
        try:
            lock = os.open(staging, os.O_RDONLY | os.O_DIRECTORY)
            fcntl.flock(lock, fcntl.LOCK_EX)
        except BaseException:  # (a stop, or an error: the folder is not left unknown)
            if lock is not None:
                os.close(lock)
            with suppress(OSError):
                os.rmdir(staging)
            raise
    return staging, lock


def _libc_syncfs():
    """Linux's syncfs(2): every written file of the staging folder's file system reaches the disk in
    one call (20,000 result files synced one by one take most of a minute)."""
    try:
        return ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None


_syncfs = _libc_syncfs()


def flush_file_system(folder: str) -> None:
    """Bring every file written so far on `folder`'s file system to the disk (syncfs), from any
    process: a round's worker whose part of the output is written does it beside the rest of the
    writing, so the run's own sync at the end (`Staging.finish`) has less to wait for. A problem
    is that sync's to report."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        if _syncfs is not None:
            _syncfs(fd)
    finally:
        os.close(fd)


def _libc_renameat2():
    try:
        return ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None


_renameat2 = _libc_renameat2()


def _exchange(pfd: int, a: str, b: str) -> bool:
    """Exchange two names in one folder atomically; False when this system cannot."""
    if _renameat2 is None:
        return False
    if _renameat2(pfd, os.fsencode(a), pfd, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), b)


def _swap(pfd: int, staging: str, name: str) -> None:
    if not _lexists(pfd, name):
        os.rename(staging, name, src_dir_fd=pfd, dst_dir_fd=pfd)
        os.fsync(pfd)
        return
    if _exchange(pfd, staging, name):
        os.fsync(pfd)
        _crash("swapped")
        _remove(pfd, staging)  # now the previous results
        return
    old = f".{name}.cchc-old-{secrets.token_hex(4)}"
    os.rename(name, old, src_dir_fd=pfd, dst_dir_fd=pfd)
    os.fsync(pfd)
    _crash("aside")
    os.rename(staging, name, src_dir_fd=pfd, dst_dir_fd=pfd)
    os.fsync(pfd)
    _crash("swapped")
    _remove(pfd, old)


def _lexists(pfd: int, name: str) -> bool:
    try:
        os.stat(name, dir_fd=pfd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def _remove(pfd: int, name: str) -> None:
    shutil.rmtree(name, dir_fd=pfd)
    os.fsync(pfd)


# ---------------------------------------------------------------- recovery

def _leftovers(parent_entries: list[str], name: str) -> tuple[list[str], list[str]]:
    pattern = re.compile(rf"\.{re.escape(name)}\.cchc-(new|old)-[0-9a-f]{{8}}")
    new, old = [], []
    for e in sorted(parent_entries):
        m = pattern.fullmatch(e)
        if m:
            (new if m.group(1) == "new" else old).append(e)
    return new, old


def _busy(pfd: int, name: str) -> bool:
    """A staging folder another live run holds."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=pfd)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def _recover(parent: Path, name: str, pfd: int) -> None:
    new, old = _leftovers(os.listdir(pfd), name)
    if old and not _lexists(pfd, name):
        if len(old) > 1:
            raise OutputError(_("{path} is missing and {n} earlier results wait beside it "
                                "({names}): keep the one you want as {name} and remove the others").format(
                path=parent / name, n=len(old), names=", ".join(old), name=name))
        os.rename(old.pop(), name, src_dir_fd=pfd, dst_dir_fd=pfd)
        os.fsync(pfd)
    for leftover in old + [n for n in new if not _busy(pfd, n)]:
        _remove(pfd, leftover)


def recover(path: Path | str) -> None:
    """Before reading `path`: if it, or a folder above it, is missing because a run was interrupted
    between its two renames, put the previous results back. Nothing happens when `path` exists."""
    p = Path(os.path.abspath(path))
    for folder in [p, *p.parents]:
        if os.path.lexists(folder):
            return
        if folder.parent.is_dir():
            try:
                with _open_dir(folder.parent) as pfd, _locked(pfd):
                    _recover(folder.parent, folder.name, pfd)
            except OSError:
                return  # a reader that may not write: it reports the file as missing
            if os.path.lexists(p):
                return


# ---------------------------------------------------------------- what may be replaced

def _entries(out: Path) -> tuple[set[str], list[str]]:
    """Files under `out` (relative POSIX names) and anything that is neither a file nor a folder."""
    files, odd = set(), []
    stack = [PurePosixPath(".")]
    while stack:
        rel = stack.pop()
        with os.scandir(out / rel) as it:
            for e in it:
                name = (rel / e.name).as_posix()
                st = e.stat(follow_symlinks=False)
                if stat.S_ISDIR(st.st_mode):
                    stack.append(rel / e.name)
                elif stat.S_ISREG(st.st_mode):
                    files.add(name)
                else:
                    odd.append(name + (_(" (a symbolic link)") if stat.S_ISLNK(st.st_mode) else ""))
    return files, sorted(odd)


def _check_replaceable(out: Path, command: str) -> None:
    _check_target(out)
    if not out.exists():
        return
    files, odd = _entries(out)
    if not files and not odd:
        return
    whole = N_("cchc replaces its --out folder whole: choose a new or empty folder, or remove this one")
    if odd:
        raise OutputError(_("--out {out} holds {names}, which no cchc run writes: {whole}").format(
            out=out, names=", ".join(odd[:5]), whole=_(whole)))
    try:
        marker = json.loads((out / MARKER).read_text("utf-8"))
        listed, wrote = set(marker["files"]), marker["command"]
        if marker.get("format") != MARKER_FORMAT or not isinstance(wrote, str):
            raise ValueError
    except FileNotFoundError:
        raise OutputError(_("--out {out} is not empty and was not written by cchc (no {marker}): {whole}").format(
            out=out, marker=MARKER, whole=_(whole))) from None
    except (OSError, ValueError, KeyError, TypeError):
        raise OutputError(_("--out {out}: {marker} is damaged: {whole}").format(out=out, marker=MARKER, whole=_(whole))) from None
    if wrote != command:
        raise OutputError(_("--out {out} holds the output of `cchc {wrote}`; `cchc {command}` would replace it: "
                            "choose another folder").format(out=out, wrote=wrote, command=command))
    extra = sorted(files - listed - {MARKER})
    if extra:
        raise OutputError(_("--out {out} holds files cchc did not write there ({names}): {whole}").format(
            out=out, names=", ".join(extra[:5]) + (", …" if len(extra) > 5 else ""), whole=_(whole)))
