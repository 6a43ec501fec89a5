"""Shared helpers of the annual round: input folders and located problems."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from ..core.errors import InputError, Problem
from ..core.i18n import _

ROUND_SUFFIXES = (".yaml", ".yml", ".csv", ".xlsx")


class RoundInputError(InputError):
    """Inputs of an annual round (evidence, survey data, appraisals, last year's round) disagree."""


def refuse_links(paths: Iterable[Path | str]) -> None:
    """Inputs are read from real files only: a named path that is a symbolic link, or a link
    anywhere in a named folder (hidden folders aside), is refused; a link could make cchc read,
    and quote, a file from outside the folder it was given."""
    problems = []
    for p in map(Path, paths):
        if p.is_symlink():
            problems.append(_link(p))
            continue
        if p.is_dir():
            for folder, dirs, names in os.walk(p):  # never follows links
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                # names joined as strings: a Path per name would intern each (a task folder holds
                # tens of thousands), growing the interpreter's table of interned strings for good
                problems += [_link(Path(folder, n)) for n in sorted(dirs + names)
                             if not n.startswith(".") and os.path.islink(os.path.join(folder, n))]
    if problems:
        raise InputError(problems)


def _link(path: Path) -> Problem:
    return Problem(str(path), message=_("is a symbolic link (to {target}): inputs are read from real "
                                        "files only; copy the file itself into the folder").format(target=os.readlink(path)))


def input_files(paths: Iterable[Path | str]) -> list[Path]:
    """The files named, with folders expanded (sorted) to the YAML / CSV / Excel files inside;
    hidden files are skipped, links refused."""
    paths = list(paths)
    refuse_links(paths)
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += [f for f in sorted(p.rglob("*"))
                    if f.is_file() and f.suffix.lower() in ROUND_SUFFIXES
                    and not any(part.startswith(".") for part in f.parts[len(p.parts):])]
        else:
            out.append(p)
    return out

