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
            problems += _links_in(str(p))
    if problems:
        raise InputError(problems)


def _links_in(folder: str) -> list[Problem]:
    """The links in `folder` and, in name order, its folders (never through a link), hidden ones
    aside: each folder's entries looked at one by one, never listed whole (a task folder holds
    tens of thousands) nor made into paths (each would intern its name for good)."""
    links, below = [], []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if entry.is_symlink():
                    links.append(entry.name)
                elif entry.is_dir():
                    below.append(entry.name)
    except OSError:  # as os.walk: a folder that cannot be listed is passed over
        return []
    problems = [_link(Path(folder, n)) for n in sorted(links)]
    for name in sorted(below):
        problems += _links_in(os.path.join(folder, name))
    return problems


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

