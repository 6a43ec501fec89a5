"""Limits on what an input file may cost to read, checked before the cost is paid.

Each limit has a documented default (docs/evidence-format.md) and is raised for a run by an
environment variable, `CCHC_MAX_FILE_MB=200 cchc score ...`. Hitting one is a located input error
(exit 2) naming the file, the limit and the variable that raises it.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError, Problem
from .i18n import N_, _


@dataclass(frozen=True)
class Limit:
    env: str
    default: int
    unit: str  # how the value is counted, for messages: "MB", "rows", ...
    what: str  # what is limited, for the documentation table


LIMITS: dict[str, Limit] = {
    "file_mb": Limit("CCHC_MAX_FILE_MB", 50, N_("MB"), "size of one input file (YAML, CSV, .xlsx), by its size on disk"),
    "yaml_nodes": Limit("CCHC_MAX_YAML_NODES", 200_000, N_("nodes"),
                        "values in one YAML document, counting each alias as a copy of what it names"),
    "yaml_depth": Limit("CCHC_MAX_YAML_DEPTH", 50, N_("levels"), "nesting of YAML mappings and lists"),
    "string_chars": Limit("CCHC_MAX_STRING_CHARS", 20_000, N_("characters"), "one YAML text or table cell"),
    "rows": Limit("CCHC_MAX_ROWS", 1_000_000, N_("rows"), "rows of one CSV file or Excel sheet"),
    "columns": Limit("CCHC_MAX_COLUMNS", 100, N_("columns"), "columns of one CSV file or Excel sheet"),
    "xlsx_mb": Limit("CCHC_MAX_XLSX_MB", 100, N_("MB"), "an .xlsx unpacked (the sum of its parts' sizes)"),
    "xlsx_parts": Limit("CCHC_MAX_XLSX_PARTS", 1_000, N_("parts"), "files inside one .xlsx"),
    "bundle_mb": Limit("CCHC_MAX_BUNDLE_MB", 2_048, N_("MB"), "the archive a bundle holds, unpacked"),
    "bundle_parts": Limit("CCHC_MAX_BUNDLE_PARTS", 200_000, N_("parts"), "members of the archive a bundle holds"),
}


def limit(name: str) -> int:
    """The limit in force: the environment variable if set, else the default."""
    spec = LIMITS[name]
    raw = os.environ.get(spec.env, "").strip()
    if not raw:
        return spec.default
    if not raw.isdigit() or int(raw) <= 0:
        raise InputError([Problem(spec.env, message=_("must be a whole number above 0 ({unit}), "
                                                      "got {value!r}").format(unit=_(spec.unit), value=raw))])
    return int(raw)


def over(name: str, found: str) -> str:
    """The message for a file that is over a limit: what was found, the limit, how to raise it."""
    spec = LIMITS[name]
    return _("{found}, over the limit of {limit} {unit} (set {variable} to raise it)").format(
        found=found, limit=limit(name), unit=_(spec.unit), variable=spec.env)


NOT_A_FILE = N_("not a file (a folder, a device or a pipe): expected a file")


def check_file_size(path: Path, name: str) -> None:
    """Refuse a file over the size limit by its size on disk, before reading a byte of it; and
    what is not a file (a device, a pipe: it has no size, and may never end)."""
    try:
        st = path.stat()
    except OSError:
        return  # the reader reports a missing or unreadable file in its own words
    if not stat.S_ISREG(st.st_mode):
        raise InputError([Problem(name, message=_(NOT_A_FILE))])
    size = st.st_size
    if size > limit("file_mb") * 1024 * 1024:
        raise InputError([Problem(name, message=over("file_mb", _("file is {size} MB").format(
            size=f"{size / 1024 / 1024:.1f}")))])
