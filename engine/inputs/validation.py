"""Checking inputs without scoring them (`cchc validate`): criteria sets and evidence files given
together, told apart by their content, every problem of every file collected."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

from .criteria import load_criteria
from ..core.errors import InputError, Problem
from .evidence import EvidenceSet, load_evidence
from ..core.i18n import _
from ..core.model import CriteriaSet
from .yamlio import load_yaml

CRITERIA_FORMAT = "cchc-criteria/"


def is_criteria_file(path: Path) -> bool:
    """Whether a file is a criteria set (its `format`), rather than evidence. Broken YAML is still a
    criteria set when it says so, so that its own errors are reported."""
    if path.suffix.lower() not in (".yaml", ".yml"):
        return False
    try:
        doc = load_yaml(path)
    except InputError:
        with path.open(encoding="utf-8", errors="replace") as f:  # the head only: it may be huge
            return CRITERIA_FORMAT in f.read(65536)
    return isinstance(doc, dict) and str(doc.get("format", "")).startswith(CRITERIA_FORMAT)


@dataclass(frozen=True)
class Validation:
    """What `check_inputs` found: the criteria sets that load (in the order given), the evidence
    when it loads against its criteria set, and every problem."""

    criteria: tuple[tuple[Path, CriteriaSet], ...]
    evidence: Optional[EvidenceSet]
    problems: tuple[Problem, ...]


def check_inputs(files: Sequence[Path], criteria: Optional[Path] = None) -> Validation:
    """Load every criteria set among `files` (and `criteria`), then the evidence among them against
    `criteria` (or the one criteria set given); collect the problems instead of stopping at one."""
    problems: list[Problem] = []
    crit_files = [f for f in files if f.is_file() and is_criteria_file(f)]
    problems += [Problem(str(f), message=_("file not found")) for f in files if not f.exists()]
    evidence = [f for f in files if f not in crit_files and f.exists()]
    loaded: dict[Path, CriteriaSet] = {}
    for f in dict.fromkeys(([criteria] if criteria else []) + crit_files):  # each file once
        try:
            loaded[f] = load_criteria(f)
        except InputError as exc:
            problems += exc.problems
    ev = None
    if evidence:
        against = criteria or (crit_files[0] if len(crit_files) == 1 else None)
        if against is None:
            problems.append(Problem(str(evidence[0]), message=_("evidence is checked against a criteria set: "
                                                                "pass --criteria FILE (or exactly one criteria "
                                                                "file)")))
        elif against in loaded:
            try:
                ev = load_evidence(evidence, loaded[against])
            except InputError as exc:
                problems += exc.problems
    return Validation(tuple(loaded.items()), ev, tuple(problems))
