"""The terminal: standard output and error. Text is printed as written: file and unit names are
never read as rich markup or highlighted."""
from __future__ import annotations

from typing import Iterable

from rich.console import Console

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


class Differs(Exception):
    """Results were not reproduced (a replay, an archive check); what differs has been printed."""


def say(text: object, *, to: Console = out) -> None:
    """Print one line (or a table) as it is."""
    to.print(text, markup=False, highlight=False)


def warn(problems: Iterable) -> None:
    """Print warnings (consistency checks between figures) in the reader's language."""
    for w in problems:
        say(w.text(), to=err)
