"""One error root for everything a user can cause; the CLI maps each class to an exit code."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence


@dataclass(frozen=True, order=True)
class Location:
    """Where a value was read: a YAML `file:line:col`, a CSV `file:row:column`, an Excel cell
    `file:Sheet!B7` (`cell`), or just the file. Recorded by the reader and carried with the value,
    so that any later check or trace names the place without reading the file again."""

    file: str
    line: int = 0
    col: int = 0
    cell: str = ""  # `Sheet!B7`, used instead of line/col

    @classmethod
    def in_sheet(cls, file: str, sheet: str, column: str, row: int) -> "Location":
        return cls(file, cell=f"{sheet}!{column}{row}")

    def __str__(self) -> str:
        if self.cell:
            return f"{self.file}:{self.cell}"
        if self.line:
            return f"{self.file}:{self.line}:{self.col or 1}"
        return self.file


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with an input, located as `file:line:col` (CSV: `file:row:column`,
    Excel: `file:Sheet!B7`)."""

    file: str
    line: int = 0
    col: int = 0
    message: str = ""
    where: str = ""  # a non-numeric location such as `Sheet1!B7`, used instead of line/col
    severity: str = "error"  # "error" or "warning"
    # The message in the reader's language when it differs from `message`, which stays in the code's
    # language because warnings are kept in results (that must not depend on who scored them).
    translated: str = field(default="", compare=False)
    excerpt: str = field(default="", compare=False)  # the offending line with a caret under the column

    @classmethod
    def at(cls, location: Location, message: str, severity: str = "error", translated: str = "") -> "Problem":
        return cls(location.file, location.line, location.col, message, location.cell, severity, translated)

    @property
    def place(self) -> Location:
        return Location(self.file, self.line, self.col, self.where)

    def location(self) -> str:
        return str(self.place)

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{self.location()}: {prefix}{self.message}"

    def text(self) -> str:
        """The problem as a person reads it: in their language, with the excerpt when there is one."""
        from .i18n import _

        prefix = _("warning: ") if self.severity == "warning" else ""
        shown = f"{self.location()}: {prefix}{self.translated or self.message}"
        return f"{shown}\n{self.excerpt}" if self.excerpt else shown


class CchcError(Exception):
    """Root of every error a user can cause or see."""


class InputError(CchcError):
    """Inputs are invalid; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(set(problems))  # each once (a file read in pieces may be refused by each)
        super().__init__("\n".join(str(p) for p in self.problems))


class CriteriaError(InputError):
    """A criteria set is invalid."""


class EvidenceError(InputError):
    """An evidence record is invalid for its criteria set."""


class EngineError(CchcError):
    """The rule engine misbehaved (an exception in an action, an unexpected state)."""


class IncompleteEvaluationError(CchcError):
    """Some applicable (unit, sub-criterion) pair got no decision, or more than one."""

    def __init__(self, missing: list[tuple[str, str]], duplicated: list[tuple[str, str]]):
        self.missing = sorted(missing)
        self.duplicated = sorted(duplicated)
        from .i18n import _

        lines = [_("no decision for unit {unit}, item {item}").format(unit=u, item=i) for u, i in self.missing[:50]]
        lines += [_("more than one decision for unit {unit}, item {item}").format(unit=u, item=i)
                  for u, i in self.duplicated[:50]]
        more = len(self.missing) + len(self.duplicated) - len(lines)
        if more > 0:
            lines.append(_("... and {n} more").format(n=more))
        super().__init__(_("evaluation is incomplete:") + "\n" + "\n".join(lines))


def did_you_mean(word: str, known) -> str:
    """` (did you mean 'x' or 'y'?)` with the closest of the known names, or `` when none is close."""
    import difflib

    from .i18n import _

    close = difflib.get_close_matches(word, sorted(known), n=3, cutoff=0.6)
    if not close:
        return ""
    return " " + _("(did you mean {names}?)").format(names=_(" or ").join(repr(c) for c in close))


class ArchiveError(CchcError):
    """The archive cannot be opened, upgraded or read, or refuses a bundle."""


class NotReproducedError(ArchiveError):
    """A bundle's own inputs do not reproduce the results it records: it is not archived."""

    def __init__(self, name: str, differences: Sequence[str]):
        from .i18n import _

        self.differences = tuple(differences)
        shown = "; ".join(differences[:5]) + (_("; … {n} more").format(n=len(differences) - 5)
                                              if len(differences) > 5 else "")
        super().__init__(_("{name}: not archived: replaying its own inputs does not reproduce the results it "
                           "records ({n} difference(s)): {differences}").format(
            name=name, n=len(differences), differences=shown))


class OutputError(CchcError):
    """An output folder cannot be written or replaced (not a folder, not ours, not writable)."""
