"""`cchc serve` and `cchc audit verify`: the scoring workspace (web/)."""
from __future__ import annotations

from pathlib import Path

from engine.core.errors import CchcError
from engine.core.i18n import _

from .console import say


def serve(data: Path, host: str, port: int, demo: bool, threads: int, processes: int) -> None:
    from web.cchcweb.server import run

    if processes < 1:
        raise CchcError(_("--processes must be at least 1"))
    run(data, host, port, demo=demo, threads=threads, processes=processes, echo=say)


def audit_verify(data: Path) -> None:
    from web.cchcweb.server import setup

    if not data.is_dir():
        raise CchcError(_("{folder}: no workspace data folder here").format(folder=data))
    setup(data)
    from web.workspace.audit import verify

    verdict = verify()
    if not verdict.ok:
        raise CchcError(_("audit log: {problem} (entries 1–{last} verify)").format(
            problem=verdict.problem, last=verdict.bad_seq - 1))
    say(_("audit log verified: {entries} entries, head {head}").format(entries=verdict.entries, head=verdict.head))
