"""Reading what reports are made from: unit results (`cchc-result/…`), a round (`round.json`), and the
criteria set they were scored with. Every problem is an `InputError` naming the file.

A unit result reaches reports, the terminal and the workspace only as a `UnitResultDoc`
(engine/storage/documents.py): a document that passed the result schema, typed."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Optional, Sequence

from engine import load_criteria
from engine.core.errors import InputError, Problem
from engine.core.i18n import _
from engine.core.model import CriteriaSet
from engine.storage.documents import (RESULT_FORMATS, UnitResultDoc, check_schema, read_json, unit_result,
                                      unlike_criteria)
from engine.storage.outdir import recover

ROUND_FORMAT = "cchc-round/"
OTHER_FORMATS = ("cchc-summary/", ROUND_FORMAT, "cchc-midyear/")  # written beside unit results


def result_paths(paths: Iterable[Path]) -> list[tuple[Path, bool]]:
    """Result files from the arguments, each with whether it was found in a folder: files as given;
    a folder gives every `units/*.json` (the output folder of `cchc score` and of the round) or else
    its `*.json`, in name order. Hidden files are skipped and links refused."""
    found: list[tuple[Path, bool]] = []
    problems = []
    for p in paths:
        recover(p)
        if p.is_dir():
            inner = p / "units" if (p / "units").is_dir() else p
            files = sorted(f for f in inner.glob("*.json") if not f.name.startswith("."))
            problems += [Problem(str(f), message=_("is a symbolic link: results are read from real files only"))
                         for f in files if f.is_symlink()]
            if not files:
                problems.append(Problem(str(p), message=_("no unit result (*.json) in this folder")))
            found += [(f, True) for f in files]
        else:
            found.append((p, False))
    if problems:
        raise InputError(problems)
    return found


def load_results(paths: Sequence[tuple[Path, bool]]) -> list[UnitResultDoc]:
    """Unit results, each checked to be a unit result of this version's format that matches the
    result schema. In a folder, a summary or a round summary beside the unit results is skipped (by
    its format, never by its name: a unit may be called `summary`)."""
    problems, out = [], []
    for path, in_folder in paths:
        try:
            doc = read_json(path)
            if in_folder and str(doc.get("format", "")).startswith(OTHER_FORMATS):
                continue
            out.append(unit_result(path, doc))
        except InputError as exc:
            problems += exc.problems
    if problems:
        raise InputError(problems)
    if not out:
        raise InputError([Problem(", ".join(sorted({str(p.parent) for p, _ in paths})),
                                  message=_("no unit result (*.json) found"))])
    return out


def one_per_unit(docs: Sequence[UnitResultDoc]) -> None:
    """Refuse a unit given twice: by its second result file, naming the first."""
    seen: dict[str, Path] = {}
    for doc in docs:
        if doc.unit_id in seen:
            raise InputError([Problem(str(doc.path), message=_("unit {unit!r} is also in {other}: one result per unit")
                                      .format(unit=doc.unit_id, other=seen[doc.unit_id]))])
        seen[doc.unit_id] = doc.path


def criteria_for(path: Path, docs: Sequence[UnitResultDoc]) -> CriteriaSet:
    """Load the criteria set and check it is the one every document was scored with (same sha256,
    its codes and metrics: `unlike_criteria`)."""
    cs = load_criteria(path)
    wrong = [p for d in docs for p in unlike_criteria(d, cs)]
    if wrong:
        raise InputError(wrong)
    return cs


def load_round(path: Path) -> dict:
    """A round summary (`round.json`, `cchc-round/1`)."""
    doc = read_json(path)
    if not str(doc.get("format", "")).startswith(ROUND_FORMAT):
        raise InputError([Problem(str(path), message=_("not a round summary (format {format!r}; "
                                                       "expected {expected}1, the round.json of the annual round)").format(
                                                           format=doc.get('format'), expected=ROUND_FORMAT))])
    check_schema(path, doc, "round.schema.json")
    return doc


def check_criteria(criteria: CriteriaSet, path: Path, doc: dict) -> None:
    sha = doc.get("criteria", {}).get("sha256")
    if sha != criteria.content_hash:
        raise InputError([Problem(str(path), message=(
            _("made with criteria set {criteria!r} (sha256 {sha}…), but "
              "{path} is {id!r} (sha256 {own_sha}…): pass the criteria "
              "file the round was scored with").format(
                  criteria=doc.get('criteria', {}).get('id'), sha=str(sha)[:12], path=criteria.path, id=criteria.id, own_sha=criteria.content_hash[:12])))])


def find_round(path: Path) -> Optional[Path]:
    """`path` itself when it is a round file, or the `round.json` inside a folder."""
    recover(path)
    if path.is_file():
        return path
    candidate = path / "round.json"
    return candidate if candidate.is_file() else None


__all__ = ["RESULT_FORMATS", "UnitResultDoc", "check_criteria", "check_schema", "criteria_for", "find_round",
           "load_results", "load_round", "read_json", "result_paths", "unit_result"]
