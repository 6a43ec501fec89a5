"""One error root for everything a user can cause; the CLI maps each class to an exit code."""
from __future__ import annotations

from dataclasses import dataclass


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

    def __str__(self) -> str:
        if self.where:
            loc = f"{self.file}:{self.where}"
        elif self.line:
            loc = f"{self.file}:{self.line}:{self.col or 1}"
        else:
            loc = self.file
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{loc}: {prefix}{self.message}"


class CchcError(Exception):
    """Root of every error a user can cause or see."""


class InputError(CchcError):
    """Inputs are invalid; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
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
        lines = [f"no decision for unit {u}, item {i}" for u, i in self.missing[:50]]
        lines += [f"more than one decision for unit {u}, item {i}" for u, i in self.duplicated[:50]]
        more = len(self.missing) + len(self.duplicated) - len(lines)
        if more > 0:
            lines.append(f"... and {more} more")
        super().__init__("evaluation is incomplete:\n" + "\n".join(lines))


class OutputError(CchcError):
    """An output folder cannot be written or replaced (not a folder, not ours, not writable)."""
