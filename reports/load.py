"""Reading what reports are made from: unit results (`cchc-result/1`), a round (`round.json`), and the
criteria set they were scored with. Every problem is an `InputError` naming the file."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Optional, Sequence

from engine import load_criteria
from engine.errors import InputError, Problem
from engine.model import CriteriaSet

RESULT_FORMATS = ("cchc-result/", "cchc-round-unit/")  # `cchc score`; the annual round
ROUND_FORMAT = "cchc-round/"


def read_json(path: Path) -> dict:
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise InputError([Problem(str(path), message="file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError([Problem(str(path), message=f"cannot read the file: {exc}")]) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError([Problem(str(path), exc.lineno, exc.colno, f"not valid JSON: {exc.msg}")]) from None
    if not isinstance(doc, dict):
        raise InputError([Problem(str(path), 1, 1, "expected a JSON object")])
    return doc


def result_paths(paths: Iterable[Path]) -> list[Path]:
    """Result files from the arguments: files as given; a folder gives its `units/*.json` (the output
    folder of `cchc score`) or else its `*.json`, in name order."""
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            inner = p / "units" if (p / "units").is_dir() else p
            files = sorted(f for f in inner.glob("*.json") if f.name not in ("summary.json", "round.json"))
            if not files:
                raise InputError([Problem(str(p), message="no unit result (*.json) in this folder")])
            found += files
        else:
            found.append(p)
    return found


def load_results(paths: Sequence[Path]) -> list[tuple[Path, dict]]:
    """Unit results, each checked to be a `cchc-result/…` document with the fields reports read."""
    problems, out = [], []
    for path in paths:
        try:
            doc = read_json(path)
        except InputError as exc:
            problems += exc.problems
            continue
        if not str(doc.get("format", "")).startswith(RESULT_FORMATS):
            problems.append(Problem(str(path), message=f"not a unit result (format {doc.get('format')!r}; "
                                                       "expected a units/*.json file written by `cchc score` "
                                                       "or by the annual round)"))
            continue
        missing = [k for k in ("criteria", "unit", "items", "criteria_rollup", "areas", "total") if k not in doc]
        if missing:
            problems.append(Problem(str(path), message=f"unit result lacks {', '.join(missing)}"))
            continue
        out.append((path, doc))
    if problems:
        raise InputError(problems)
    return out


def criteria_for(path: Path, docs: Sequence[tuple[Path, dict]]) -> CriteriaSet:
    """Load the criteria set and check it is the one every document was scored with (same sha256)."""
    cs = load_criteria(path)
    wrong = [Problem(str(p), message=(
        f"scored with criteria set {d['criteria'].get('id')!r} (sha256 {str(d['criteria'].get('sha256'))[:12]}…), "
        f"but {path} is {cs.id!r} (sha256 {cs.content_hash[:12]}…): pass the criteria file the results were "
        f"scored with"))
        for p, d in docs if d.get("criteria", {}).get("sha256") != cs.content_hash]
    if wrong:
        raise InputError(wrong)
    return cs


def load_round(path: Path) -> dict:
    """A round summary (`round.json`, `cchc-round/1`)."""
    doc = read_json(path)
    if not str(doc.get("format", "")).startswith(ROUND_FORMAT):
        raise InputError([Problem(str(path), message=f"not a round summary (format {doc.get('format')!r}; "
                                                     f"expected {ROUND_FORMAT}1, the round.json of the annual round)")])
    missing = [k for k in ("criteria", "period", "groups", "ungrouped") if k not in doc]
    if missing:
        raise InputError([Problem(str(path), message=f"round summary lacks {', '.join(missing)}")])
    return doc


def check_criteria(criteria: CriteriaSet, path: Path, doc: dict) -> None:
    sha = doc.get("criteria", {}).get("sha256")
    if sha != criteria.content_hash:
        raise InputError([Problem(str(path), message=(
            f"made with criteria set {doc.get('criteria', {}).get('id')!r} (sha256 {str(sha)[:12]}…), but "
            f"{criteria.path} is {criteria.id!r} (sha256 {criteria.content_hash[:12]}…): pass the criteria "
            f"file the round was scored with"))])


def find_round(path: Path) -> Optional[Path]:
    """`path` itself when it is a round file, or the `round.json` inside a folder."""
    if path.is_file():
        return path
    candidate = path / "round.json"
    return candidate if candidate.is_file() else None
