"""Reading unit results back: the one way reports, replay and the archive see a unit result
(`cchc-result/…`, written by engine/storage/results.py).

A `UnitResultDoc` is built only from a document that passed the result schema
(engine/schemas/result.schema.json): its unit, criteria set, items and roll-ups typed, exact
numbers as `Fraction`. Earlier formats are read by converting them first: `cchc-result/1` (notes
as words) and `cchc-result/2` (which also wrote the criteria set's titles and labels in every
file; they are the criteria set's, which a reader takes them from). Every problem is an
`InputError` naming the file."""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Mapping, Optional

from ..core.errors import CchcError, InputError, Problem
from ..core.i18n import _
from ..core.model import CriteriaSet, NOTE_MISSING, NOTE_NO_BAND, NOTE_NO_CITATION, NOTE_NOT_FOR_UNIT_TYPE
from ..core.numbers import to_fraction
from ..inputs.schema import schema_problems
from ..inputs.yamlio import load_yaml
from .results import RESULT_FORMAT

RESULT_FORMATS = ("cchc-result/",)  # `cchc score` and the annual round
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
    return _parse(str(path), text)


def _parse(name: str, text: str) -> dict:
    try:
        doc = json.loads(text, parse_constant=_no_constant)
        json.dumps(doc, ensure_ascii=False).encode("utf-8")  # an unpaired surrogate cannot be written back
    except json.JSONDecodeError as exc:
        raise InputError([Problem(name, exc.lineno, exc.colno, _("not valid JSON: {reason}").format(
            reason=exc.msg))]) from None
    except RecursionError:
        raise InputError([Problem(name, message=_("not a result file: nested too deeply"))]) from None
    except (ValueError, UnicodeError) as exc:
        raise InputError([Problem(name, message=_("not valid JSON: {reason}").format(reason=exc))]) from None
    if not isinstance(doc, dict):
        raise InputError([Problem(name, 1, 1, _("expected a JSON object"))])
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


# ---------------------------------------------------------------- the typed document

def _exact(value: Optional[str]) -> Optional[Fraction]:
    return None if value is None else to_fraction(value)


@dataclass(frozen=True)
class ResultCitation:
    document: str
    date: Optional[str]  # YYYY-MM-DD
    issuer: str
    file: str


@dataclass(frozen=True)
class ResultInput:
    """A recorded input of a decision. Its `location` (where the value was read) is not part of
    what was decided: two inputs read from other paths are equal."""

    metric: str
    value: str
    citation: Optional[ResultCitation]
    location: str = field(compare=False)


@dataclass(frozen=True)
class AppraisalRound:
    """One round of the appraisal council on an item (annual round); `location` as for inputs."""

    round: int
    points: Fraction
    accepted: bool
    reason: Optional[str]
    appraiser: Optional[str]
    explanation: Optional[str]
    date: Optional[str]
    location: Optional[str] = field(compare=False)


@dataclass(frozen=True)
class ResultItem:
    """One sub-criterion's decision as recorded. `source`, `self_points`, `appraised_points` and
    `appraisal_rounds` are written by the annual round only."""

    code: str
    method: str
    status: str
    points: Fraction
    max: Fraction
    condition: str
    notes: tuple[str, ...]
    note_values: Mapping[str, str]
    reason: str
    inputs: tuple[ResultInput, ...]
    quantity: Optional[str]  # an exact number's text or a category; None when nothing was tested
    source: Optional[str] = None
    self_points: Optional[Fraction] = None
    appraised_points: Optional[Fraction] = None
    appraisal_rounds: tuple[AppraisalRound, ...] = ()

    @property
    def own_points(self) -> Fraction:
        """The unit's own points: before appraisal in an annual round, else the points."""
        return self.points if self.self_points is None else self.self_points


@dataclass(frozen=True)
class ResultRollup:
    """A criterion's, an area's or the unit's total: exact points, maximum and index (None when
    nothing applies)."""

    code: str
    points: Fraction
    max: Fraction
    index: Optional[Fraction]


@dataclass(frozen=True)
class UnitResultDoc:
    """One unit's result as checked against the result schema, typed; `data` is the whole validated
    document (what a reader of fields not typed here, such as an annual round's standing, reads)."""

    path: Path
    unit_id: str
    unit_name: str
    unit_type: str
    period: str
    engine: str
    criteria_id: str
    criteria_sha256: str
    items: tuple[ResultItem, ...]
    criteria_rollup: tuple[ResultRollup, ...]
    areas: tuple[ResultRollup, ...]
    total: ResultRollup
    self_total: Optional[ResultRollup]  # annual round: the total of the unit's own points
    data: Mapping[str, Any] = field(compare=False, repr=False)

    @property
    def points(self) -> Fraction:
        return self.total.points

    @property
    def max(self) -> Fraction:
        return self.total.max

    @property
    def self_points(self) -> Fraction:
        """The total before appraisal (an annual round's `self_total`), else the total's points."""
        return (self.self_total or self.total).points


def _citation(c: Optional[dict]) -> Optional[ResultCitation]:
    return None if c is None else ResultCitation(c["document"], c["date"], c["issuer"], c["file"])


def _item(i: dict) -> ResultItem:
    return ResultItem(
        i["code"], i["method"], i["status"], to_fraction(i["points"]), to_fraction(i["max"]),
        i["condition"], tuple(i["notes"]), dict(i.get("note_values") or {}), i["reason"],
        tuple(ResultInput(x["metric"], x["value"], _citation(x["citation"]), x["location"])
              for x in i["inputs"]),
        i["quantity"], i.get("source"), _exact(i.get("self_points")), _exact(i.get("appraised_points")),
        tuple(AppraisalRound(r["round"], to_fraction(r["points"]), r["accepted"], r["reason"], r["appraiser"],
                             r["explanation"], r["date"], r["location"]) for r in i.get("appraisal_rounds") or ()))


def unlike_criteria(doc: UnitResultDoc, criteria: CriteriaSet) -> list[Problem]:
    """What makes a unit result not one scored with `criteria`: another criteria set named (by
    sha256), or codes and metrics other than the set's (each item, criterion and area once)."""
    if doc.criteria_sha256 != criteria.content_hash:
        return [Problem(str(doc.path), message=_(
            "scored with criteria set {criteria!r} (sha256 {sha}…), but {path} is {id!r} (sha256 {own_sha}…): pass "
            "the criteria file the results were scored with").format(
                criteria=doc.criteria_id, sha=doc.criteria_sha256[:12], path=criteria.path, id=criteria.id,
                own_sha=criteria.content_hash[:12]))]
    wanted = {"items": [s.code for s in criteria.sub_criteria()],
              "criteria_rollup": [c.code for a in criteria.areas for c in a.criteria],
              "areas": [a.code for a in criteria.areas]}
    problems = []
    for key, codes in wanted.items():
        given = Counter(x.code for x in getattr(doc, key))
        if given != Counter(codes):
            missing = sorted(set(codes) - set(given))
            extra = sorted(set(given) - set(codes)) + sorted(c for c, n in given.items() if n > 1)
            problems.append(Problem(str(doc.path), message=_(
                "{key}: expected each of the criteria set's {n} codes once").format(key=key, n=len(codes))
                + (_("; missing {codes}").format(codes=", ".join(missing[:5])) if missing else "")
                + (_("; unexpected or repeated {codes}").format(codes=", ".join(extra[:5])) if extra else "")))
    unknown = sorted({x.metric for item in doc.items for x in item.inputs} - set(criteria.metrics))
    if unknown:
        problems.append(Problem(str(doc.path), message=_("inputs: metrics the criteria set does not have: {metrics}")
                                .format(metrics=", ".join(unknown[:5]))))
    return problems


def with_titles(doc: UnitResultDoc, criteria: CriteriaSet) -> dict:
    """A unit result with the words of the criteria set it was scored with put back, for people to
    read (`cchc show --criteria`, the workspace's pages): each item's, criterion's, area's and the
    total's `title`, each input's `label` — a `cchc-result/2` document, which wrote them in every
    file. A result that is not one of `criteria` (`unlike_criteria`) is refused."""
    problems = unlike_criteria(doc, criteria)
    if problems:
        raise InputError(problems)
    areas = {a.code: a.title for a in criteria.areas}
    crits = {c.code: c.title for a in criteria.areas for c in a.criteria}
    subs = {s.code: s.title for s in criteria.sub_criteria()}
    labels = {mid: m.label for mid, m in criteria.metrics.items()}
    data = doc.data
    out = {**data, "format": "cchc-result/2",
           "items": [{**i, "title": subs[i["code"]], "inputs": [{**x, "label": labels[x["metric"]]} for x in i["inputs"]]}
                     for i in data["items"]],
           "criteria_rollup": [{**r, "title": crits[r["code"]]} for r in data["criteria_rollup"]],
           "areas": [{**r, "title": areas[r["code"]]} for r in data["areas"]],
           "total": {**data["total"], "title": criteria.title}}  # by its place: an area may be coded "total"
    if "self_total" in data:
        out["self_total"] = {**data["self_total"], "title": criteria.title}
    return out


def _rollup(r: dict) -> ResultRollup:
    return ResultRollup(r["code"], to_fraction(r["points"]), to_fraction(r["max"]), _exact(r["index"]))


def unit_result(path: Path, doc: Any) -> UnitResultDoc:
    """A unit result from a parsed document, refused (an `InputError` naming the file) unless it is
    in the format this version writes (or an earlier one, converted) and matches the result schema."""
    fmt = str(doc.get("format", "")) if isinstance(doc, dict) else ""
    if not fmt.startswith(RESULT_FORMATS):
        raise InputError([Problem(str(path), message=_(
            "not a unit result (format {format!r}; expected a units/*.json file written by `cchc score` or by the "
            "annual round)").format(format=fmt or None))])
    if fmt in _EARLIER:
        doc = _EARLIER[fmt](doc)
    elif fmt != RESULT_FORMAT:
        raise InputError([Problem(str(path), message=_(
            "a unit result in the format {format}, which this cchc does not know (it reads {formats}): use the cchc "
            "that wrote it, or score its inputs again").format(
                format=fmt, formats=", ".join([*_EARLIER, RESULT_FORMAT])))])
    check_schema(path, doc, "result.schema.json", "unit_result")
    unit, criteria = doc["unit"], doc["criteria"]
    return UnitResultDoc(path, unit["id"], unit["name"], unit["type"], doc["period"], doc["engine"],
                         criteria["id"], criteria["sha256"], tuple(_item(i) for i in doc["items"]),
                         tuple(_rollup(r) for r in doc["criteria_rollup"]), tuple(_rollup(r) for r in doc["areas"]),
                         _rollup(doc["total"]), _rollup(doc["self_total"]) if "self_total" in doc else None, doc)


def unit_result_bytes(name: str, data: bytes) -> UnitResultDoc:
    """A unit result from a file's bytes (a result inside a bundle), `name` naming it in problems."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError([Problem(name, message=_("cannot read the file: {reason}").format(reason=exc))]) from None
    return unit_result(Path(name), _parse(name, text))


# The words `cchc-result/1` wrote for what `cchc-result/2` writes as note codes.
_V1_NOTES = {"thiếu số liệu / tài liệu kiểm chứng: cần giải trình": NOTE_MISSING,
             "giá trị không thuộc mức điểm nào của tiêu chí": NOTE_NO_BAND,
             "không có tài liệu kiểm chứng: cần giải trình": NOTE_NO_CITATION}


def _from_v1(doc: dict) -> dict:
    """A `cchc-result/1` document read as `cchc-result/2`: its `note` text
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
    return {**doc, "format": "cchc-result/2", **({"items": items} if "items" in doc else {})}


def _from_v2(doc: dict) -> dict:
    """A `cchc-result/2` document read as `cchc-result/3`: without the criteria set's words it
    repeated (the items' and roll-ups' `title`, the inputs' `label`, each a string: anything else
    there stays, and the schema refuses it). Anything else it holds is then checked by the schema
    as usual."""
    out = {**doc, "format": RESULT_FORMAT}
    for key in ("criteria_rollup", "areas"):
        if isinstance(doc.get(key), list):
            out[key] = [_without(r, "title") for r in doc[key]]
    for key in ("total", "self_total"):
        if key in doc:
            out[key] = _without(doc[key], "title")
    if isinstance(doc.get("items"), list):
        out["items"] = [_without({**i, "inputs": [_without(x, "label") for x in i["inputs"]]}
                                 if isinstance(i, dict) and isinstance(i.get("inputs"), list) else i, "title")
                        for i in doc["items"]]
    return out


def _without(x: Any, key: str) -> Any:
    """An object of a document without its string `key`."""
    return {k: v for k, v in x.items() if k != key or not isinstance(v, str)} if isinstance(x, dict) else x


# Earlier result formats, each read by converting it to this version's
_EARLIER = {"cchc-result/1": lambda doc: _from_v2(_from_v1(doc)), "cchc-result/2": _from_v2}
