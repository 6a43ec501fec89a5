"""Reading what reports are made from: unit results (`cchc-result/1`), a round (`round.json`), and the
criteria set they were scored with. Every problem is an `InputError` naming the file."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Optional, Sequence

from engine import load_criteria
from engine.errors import CchcError, InputError, Problem
from engine.i18n import _
from engine.model import CriteriaSet
from engine.outdir import recover
from engine.schema import schema_problems
from engine.yamlio import load_yaml

RESULT_FORMATS = ("cchc-result/", "cchc-round-unit/")  # `cchc score`; the annual round
ROUND_FORMAT = "cchc-round/"
OTHER_FORMATS = ("cchc-summary/", ROUND_FORMAT, "cchc-midyear/")  # written beside unit results


MAX_JSON_BYTES = 64 * 1024 * 1024  # a unit result is tens of kilobytes, a round summary a few megabytes


def read_json(path: Path) -> dict:
    """A JSON object from a file; anything else (not UTF-8, not JSON, NaN or Infinity, nesting too
    deep, a number too long, an unpaired \\u escape) is an `InputError` naming the file."""
    try:
        if path.stat().st_size > MAX_JSON_BYTES:
            raise InputError([Problem(str(path), message=_("larger than {size} MiB: not a result "
                                                           "file of cchc").format(size=MAX_JSON_BYTES // 2 ** 20))])
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise InputError([Problem(str(path), message=_("file not found"))]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError([Problem(str(path), message=_("cannot read the file: {reason}").format(reason=exc))]) from None
    try:
        doc = json.loads(text, parse_constant=_no_constant)
        json.dumps(doc, ensure_ascii=False).encode("utf-8")  # an unpaired surrogate cannot be written back
    except json.JSONDecodeError as exc:
        raise InputError([Problem(str(path), exc.lineno, exc.colno, _("not valid JSON: {reason}").format(
            reason=exc.msg))]) from None
    except RecursionError:
        raise InputError([Problem(str(path), message=_("not a result file: nested too deeply"))]) from None
    except (ValueError, UnicodeError) as exc:
        raise InputError([Problem(str(path), message=_("not valid JSON: {reason}").format(reason=exc))]) from None
    if not isinstance(doc, dict):
        raise InputError([Problem(str(path), 1, 1, _("expected a JSON object"))])
    return doc


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def check_schema(path: Path, doc: dict, schema: str, definition: str = "") -> None:
    """Refuse a document that does not match its schema, each problem at its line when the file
    can be read again with positions, else at its path inside the document."""
    problems = schema_problems(doc, schema, str(path), definition)
    if not problems:
        return
    try:
        located = schema_problems(load_yaml(path, str(path)), schema, str(path), definition)
    except (CchcError, RecursionError, ValueError):
        located = []
    raise InputError(located or problems)


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


def load_results(paths: Sequence[tuple[Path, bool]]) -> list[tuple[Path, dict]]:
    """Unit results, each checked to be a `cchc-result/…` document with the fields reports read.
    In a folder, a summary or a round summary beside the unit results is skipped (by its format,
    never by its name: a unit may be called `summary`)."""
    problems, out = [], []
    for path, in_folder in paths:
        try:
            doc = read_json(path)
        except InputError as exc:
            problems += exc.problems
            continue
        fmt = str(doc.get("format", ""))
        if in_folder and fmt.startswith(OTHER_FORMATS):
            continue
        if not fmt.startswith(RESULT_FORMATS):
            problems.append(Problem(str(path), message=_("not a unit result (format {format!r}; "
                                                         "expected a units/*.json file written by `cchc score` "
                                                         "or by the annual round)").format(format=doc.get('format'))))
            continue
        try:
            check_schema(path, doc, "result.schema.json", "unit_result")
        except InputError as exc:
            problems += exc.problems
            continue
        out.append((path, doc))
    if problems:
        raise InputError(problems)
    if not out:
        raise InputError([Problem(", ".join(sorted({str(p.parent) for p, _ in paths})),
                                  message=_("no unit result (*.json) found"))])
    return out


def criteria_for(path: Path, docs: Sequence[tuple[Path, dict]]) -> CriteriaSet:
    """Load the criteria set and check it is the one every document was scored with (same sha256)."""
    cs = load_criteria(path)
    wrong = [Problem(str(p), message=(
        _("scored with criteria set {criteria!r} (sha256 {sha}…), "
          "but {path} is {id!r} (sha256 {own_sha}…): pass the criteria file the results were "
          "scored with").format(
              criteria=d['criteria'].get('id'), sha=str(d['criteria'].get('sha256'))[:12], path=path, id=cs.id, own_sha=cs.content_hash[:12])))
        for p, d in docs if d.get("criteria", {}).get("sha256") != cs.content_hash]
    if wrong:
        raise InputError(wrong)
    wanted = {"items": [s.code for s in cs.sub_criteria()], "criteria_rollup": [c.code for a in cs.areas for c in a.criteria],
              "areas": [a.code for a in cs.areas]}
    for p, d in docs:
        for key, codes in wanted.items():
            given = [x["code"] for x in d[key]]
            if sorted(given) != sorted(codes):
                missing = sorted(set(codes) - set(given))
                extra = sorted(set(given) - set(codes)) + sorted({c for c in given if given.count(c) > 1})
                wrong.append(Problem(str(p), message=_("{key}: expected each of the criteria set's {n} codes once").format(key=key, n=len(codes))
                                                     + (_("; missing {codes}").format(codes=", ".join(missing[:5])) if missing else "")
                                                     + (_("; unexpected or repeated {codes}").format(codes=", ".join(extra[:5]))
                                                        if extra else "")))
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
