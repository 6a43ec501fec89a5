"""Reading what reports are made from: unit results (`cchc-result/…`), a round (`round.json`), and the
criteria set they were scored with. Every problem is an `InputError` naming the file.

A unit result reaches reports, the terminal and the workspace only as a `UnitResultDoc`: a document
that passed the result schema (engine/schemas/result.schema.json), with the fields read across that
boundary typed."""
from __future__ import annotations

import json
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

from engine import load_criteria
from engine.core.errors import CchcError, InputError, Problem
from engine.core.i18n import _
from engine.core.model import NOTE_MISSING, NOTE_NO_BAND, NOTE_NO_CITATION, NOTE_NOT_FOR_UNIT_TYPE, CriteriaSet
from engine.core.numbers import to_fraction
from engine.storage.outdir import recover
from engine.storage.results import RESULT_FORMAT
from engine.inputs.schema import schema_problems
from engine.inputs.yamlio import load_yaml

RESULT_FORMATS = ("cchc-result/",)  # `cchc score` and the annual round
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


@dataclass(frozen=True)
class UnitResultDoc:
    """One unit's result as checked against the result schema: what it says of the unit, the
    criteria set and the totals, typed; `data` is the whole validated document (its items, roll-ups
    and, from an annual round, standing and appraisal rounds)."""

    path: Path
    unit_id: str
    unit_name: str
    unit_type: str
    period: str
    engine: str
    criteria_id: str
    criteria_sha256: str
    points: Fraction
    max: Fraction
    self_points: Fraction  # before appraisal (an annual round's `self_total`), else `points`
    data: dict

    @property
    def items(self) -> list[dict]:
        return self.data["items"]


def unit_result(path: Path, doc: Any) -> UnitResultDoc:
    """A unit result from a parsed document, refused (an `InputError` naming the file) unless it is
    in the format this version writes and matches the result schema."""
    fmt = str(doc.get("format", "")) if isinstance(doc, dict) else ""
    if not fmt.startswith(RESULT_FORMATS):
        raise InputError([Problem(str(path), message=f"not a unit result (format {fmt or None!r}; expected a "
                                                     "units/*.json file written by `cchc score` or by the annual "
                                                     "round)")])
    if fmt == "cchc-result/1":
        doc = _from_v1(doc)
    elif fmt != RESULT_FORMAT:
        raise InputError([Problem(str(path), message=f"a unit result in the format {fmt}, which this cchc does "
                                                     f"not know (it reads {RESULT_FORMAT}): use the cchc that wrote "
                                                     "it, or score its inputs again")])
    check_schema(path, doc, "result.schema.json", "unit_result")
    unit, total = doc["unit"], doc["total"]
    return UnitResultDoc(path, unit["id"], unit["name"], unit["type"], doc["period"], doc["engine"],
                         doc["criteria"]["id"], doc["criteria"]["sha256"], to_fraction(total["points"]),
                         to_fraction(total["max"]), to_fraction((doc.get("self_total") or total)["points"]), doc)


# The words `cchc-result/1` wrote for what `cchc-result/2` writes as note codes.
_V1_NOTES = {"thiếu số liệu / tài liệu kiểm chứng: cần giải trình": NOTE_MISSING,
             "giá trị không thuộc mức điểm nào của tiêu chí": NOTE_NO_BAND,
             "không có tài liệu kiểm chứng: cần giải trình": NOTE_NO_CITATION}


def _from_v1(doc: dict) -> dict:
    """A `cchc-result/1` document (last year's results) read as `cchc-result/2`: its `note` text
    becomes note codes and the unit's own not-applicable reason. Anything else it holds is then
    checked by the schema as usual."""
    unit_type = (doc.get("unit") or {}).get("type") if isinstance(doc.get("unit"), dict) else None
    items = []
    for item in doc.get("items") if isinstance(doc.get("items"), list) else ():
        if isinstance(item, dict) and isinstance(item.get("note"), str):
            item = dict(item)
            parts = [p for p in item.pop("note").split("; ") if p]
            codes = [_V1_NOTES[p] for p in parts if p in _V1_NOTES]
            words = [p for p in parts if p not in _V1_NOTES]
            if item.get("status") == "not_applicable" and words == [f"không áp dụng cho loại đơn vị {unit_type}"]:
                codes, words = [NOTE_NOT_FOR_UNIT_TYPE], []
            item["notes"], item["reason"] = codes, "; ".join(words)
        items.append(item)
    return {**doc, "format": RESULT_FORMAT, **({"items": items} if "items" in doc else {})}


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


def criteria_for(path: Path, docs: Sequence[UnitResultDoc]) -> CriteriaSet:
    """Load the criteria set and check it is the one every document was scored with (same sha256)."""
    cs = load_criteria(path)
    wrong = [Problem(str(d.path), message=(
        _("scored with criteria set {criteria!r} (sha256 {sha}…), "
          "but {path} is {id!r} (sha256 {own_sha}…): pass the criteria file the results were "
          "scored with").format(criteria=d.criteria_id, sha=d.criteria_sha256[:12], path=path, id=cs.id,
                                own_sha=cs.content_hash[:12])))
        for d in docs if d.criteria_sha256 != cs.content_hash]
    if wrong:
        raise InputError(wrong)
    wanted = {"items": [s.code for s in cs.sub_criteria()], "criteria_rollup": [c.code for a in cs.areas for c in a.criteria],
              "areas": [a.code for a in cs.areas]}
    for d in docs:
        for key, codes in wanted.items():
            given = [x["code"] for x in d.data[key]]
            if sorted(given) != sorted(codes):
                missing = sorted(set(codes) - set(given))
                extra = sorted(set(given) - set(codes)) + sorted({c for c in given if given.count(c) > 1})
                wrong.append(Problem(str(d.path), message=_("{key}: expected each of the criteria set's {n} codes once").format(key=key, n=len(codes))
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
