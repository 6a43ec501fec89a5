"""The one way the workspace gets points: the form's values become a `cchc-evidence/1` record, and
the engine loads and scores it with the same calls as `cchc score`. Nothing here decides a point."""
from __future__ import annotations

import hashlib
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Optional

import yaml

from engine import load_criteria, load_evidence, score
from engine.core.errors import CchcError, InputError, Problem
from engine.core.model import CriteriaSet, EvidenceRecord, MetricValue, SubCriterion
from engine.core.numbers import exact_text, parse_number
from engine.storage.documents import UnitResultDoc, unit_result, with_titles
from engine.storage.results import unit_json
from reports.gaps import GapReport, gap_report
from rules import get_evaluator

ENGINE = "durable"
# durable_rules keeps one host per process; its rulesets are not safe to drive from two threads
# (reading evidence does not touch it and runs unlocked).
ENGINE_LOCK = threading.Lock()
TASK_FIELDS = ("task", "lead", "partners", "product", "deadline", "completed")
CITATION_FIELDS = ("document", "date", "issuer")


def criteria_problems(content: bytes, name: str) -> tuple[Optional[CriteriaSet], list[Problem]]:
    """Load a criteria set as the engine does (`cchc validate`), its problems named `name:line:col`
    (remembered per content and name: a criteria set is loaded once per process)."""
    key = (hashlib.sha256(content).hexdigest(), name)
    with _cache_lock:
        if key not in _loaded:
            if len(_loaded) >= 32:
                _loaded.clear()
            _loaded[key] = _load(content, name)
        cs, problems = _loaded[key]
    return cs, list(problems)


_loaded: dict[tuple[str, str], tuple[Optional[CriteriaSet], tuple[Problem, ...]]] = {}
_cache_lock = threading.Lock()


def _load(content: bytes, name: str) -> tuple[Optional[CriteriaSet], tuple[Problem, ...]]:
    with tempfile.TemporaryDirectory(prefix="cchc-criteria-") as tmp:
        path = Path(tmp) / Path(name).name
        path.write_bytes(content)
        try:
            cs = load_criteria(path)
        except InputError as exc:
            return None, tuple(_rename(p, str(path), Path(name).name) for p in exc.problems)
        except CchcError as exc:
            return None, (Problem(Path(name).name, message=str(exc)),)
    return cs, ()


def _rename(p: Problem, path: str, name: str) -> Problem:
    return Problem(p.file.replace(path, name), p.line, p.col, p.message.replace(path, name), p.where, p.severity)


def stored_result(unit_code: str, result: Optional[dict]) -> Optional[UnitResultDoc]:
    """A unit's stored result (`Assessment.result`) as the engine reads a unit result; None before
    the first save."""
    return unit_result(Path(f"{unit_code}.json"), result) if result else None


def shown_items(cs: CriteriaSet, doc: Optional[UnitResultDoc]) -> dict[str, dict]:
    """A stored result's items by code, with the titles and input labels of the criteria set it was
    scored with put back (a result names them by code and metric id alone), for the unit's pages."""
    return {item["code"]: item for item in with_titles(doc, cs)["items"]} if doc is not None else {}


def criteria_of(rc) -> CriteriaSet:
    """The loaded criteria set of a `RoundCriteria`."""
    cs, problems = criteria_problems(bytes(rc.content), rc.name)
    if cs is None:
        raise InputError(problems)
    return cs


def self_assessed(cs: CriteriaSet, unit_type: str) -> list[SubCriterion]:
    """The items a unit fills in: applicable to its type and not scored from the survey."""
    return [s for s in cs.sub_criteria() if s.applies(unit_type) and s.source != "survey"]


# ---------------------------------------------------------------- form values -> evidence record

def _text(v) -> str:
    return str(v if v is not None else "").strip()


def _integer(text: str):
    """A whole number as the evidence format wants it for counts of a fraction or of answers; text
    that is not one is passed on for the engine to report."""
    try:
        f = parse_number(text)
    except (ValueError, TypeError, ArithmeticError):
        return text
    return int(f) if f.denominator == 1 else text


def metric_entry(kind: str, fields: dict) -> Optional[dict]:
    """One metric of the evidence record from the form's fields, or None when nothing was given."""
    entry: dict = {}
    if kind == "percent" and (_text(fields.get("numerator")) or _text(fields.get("denominator"))):
        entry["numerator"] = _integer(_text(fields.get("numerator")))
        entry["denominator"] = _integer(_text(fields.get("denominator")))
    elif kind == "tasks":
        rows = [{k: _text(r.get(k)) for k in TASK_FIELDS if _text(r.get(k))} for r in fields.get("tasks") or []]
        rows = [r for r in rows if r]
        if rows:
            entry["tasks"] = rows
    elif kind == "responses":
        counts = {k: _integer(_text(v)) for k, v in (fields.get("responses") or {}).items() if _text(v)}
        if counts:
            entry["responses"] = counts
    elif kind == "date" and fields.get("not_done"):
        entry["value"] = "not_done"
    elif _text(fields.get("value")):
        entry["value"] = _text(fields.get("value"))
    if not entry:
        return None
    citation = {k: _text(fields.get(k)) for k in CITATION_FIELDS if _text(fields.get(k))}
    if citation:
        entry["citation"] = citation
    if _text(fields.get("reason")):
        entry["reason"] = _text(fields.get("reason"))
    return entry


def evidence_document(unit, cs: CriteriaSet, values: dict, not_applicable: dict) -> dict:
    """The unit's evidence in the `cchc-evidence/1` format, exactly what `cchc score` reads."""
    metrics = {}
    for mid, spec in cs.metrics.items():
        entry = metric_entry(spec.kind, values.get(mid) or {})
        if entry is not None:
            metrics[mid] = entry
    doc = {"format": "cchc-evidence/1", "criteria": cs.id,
           "unit": {"id": unit.code, "name": unit.name, "type": unit.unit_type},
           "period": str(unit.round.year), "metrics": metrics}
    na = {code: _text(reason) for code, reason in not_applicable.items() if code}
    if na:
        doc["not_applicable"] = na
    return doc


def evidence_yaml(doc: dict) -> str:
    return yaml.dump(doc, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1000)


_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # the same YAML, written faster with libyaml


@dataclass
class Outcome:
    """What one save gives the page: the engine's result, its gap analysis, and its problems."""

    result: Optional[dict]
    gaps: Optional[GapReport]
    problems: list[dict] = field(default_factory=list)  # {"field": metric id / "na:code" / "", "message"}


def _key_lines(text: str) -> list[tuple[int, str]]:
    """(line, form field) of each metric and not-applicable entry in the YAML `evidence_yaml` wrote:
    a problem located on a line belongs to the last entry that starts at or before it."""
    out, section = [], ""
    for no, line in enumerate(text.splitlines(), start=1):
        if not line.startswith(" "):
            section = line.split(":", 1)[0]
        elif line.startswith("  ") and not line.startswith("   ") and section in ("metrics", "not_applicable"):
            key = line.strip().split(":", 1)[0].strip("'\"")  # metric ids and item codes hold no ':'
            out.append((no, key if section == "metrics" else f"na:{key}"))
    return out


def _field_of(problem: Problem, lines: list[tuple[int, str]]) -> str:
    owner = ""
    for line, key in lines:
        if line <= problem.line:
            owner = key
    return owner


def evaluate(unit, cs: CriteriaSet, values: dict, not_applicable: dict) -> Outcome:
    """Score the form's values through the engine (`load_evidence` + `score` + `unit_json`, as
    `cchc score` does); problems come back tied to the form field they are about."""
    doc = evidence_document(unit, cs, values, not_applicable)
    with tempfile.TemporaryDirectory(prefix="cchc-form-") as tmp:
        path = Path(tmp) / f"{unit.code}.yaml"
        text = evidence_yaml(doc)
        path.write_text(text, "utf-8")
        lines = _key_lines(text)
        try:
            ev = load_evidence([path], cs)
            with ENGINE_LOCK:
                results = score(cs, ev, get_evaluator(ENGINE))
        except InputError as exc:
            return Outcome(None, None, [{"field": _field_of(p, lines),
                                         "message": p.message.replace(str(path), path.name)}
                                        for p in exc.problems])
        warnings = [{"field": _field_of(w, lines), "message": w.message} for w in ev.warnings]
    result = unit_json(cs, results[0], ENGINE)
    return Outcome(result, gap_report(cs, unit_result(Path(f"{results[0].unit_id}.json"), result).items), warnings)


# ---------------------------------------------------------------- evidence record -> form values

def _number(v) -> str:
    return exact_text(v) if isinstance(v, Fraction) else str(v)


def _date(d: Optional[date]) -> str:
    return d.isoformat() if d else ""


def form_fields(mv: MetricValue) -> dict:
    """The form's fields for one metric of an evidence record (an imported workbook, the demo)."""
    f: dict = {}
    if mv.numerator is not None:
        f["numerator"], f["denominator"] = str(mv.numerator), str(mv.denominator)
    elif mv.kind == "tasks":
        f["tasks"] = [{"task": t.task, "lead": t.lead, "partners": t.partners, "product": t.product,
                       "deadline": _date(t.deadline), "completed": _date(t.completed)} for t in mv.value]
    elif mv.kind == "responses":
        f["responses"] = {k: str(v) for k, v in mv.value.items()}
    elif mv.kind == "boolean":
        f["value"] = "yes" if mv.value else "no"
    elif mv.kind == "date":
        if mv.value is None:
            f["not_done"] = True
        else:
            f["value"] = _date(mv.value)
    else:
        f["value"] = _number(mv.value)
    if mv.citation is not None:
        f.update(document=mv.citation.document, date=_date(mv.citation.date), issuer=mv.citation.issuer)
    if mv.reason:
        f["reason"] = mv.reason
    return f


def record_form(rec: EvidenceRecord, cs: CriteriaSet) -> tuple[dict, dict]:
    """(values, not_applicable) of the form for an evidence record; survey metrics are left out."""
    self_metrics = {s.metric for s in cs.sub_criteria() if s.source != "survey"}
    values = {mid: form_fields(mv) for mid, mv in rec.values.items() if mid in self_metrics}
    return values, dict(rec.not_applicable)


def load_records(paths: list[Path], cs: CriteriaSet) -> list[EvidenceRecord]:
    """Evidence files read by the engine (raises `InputError` with located problems)."""
    return list(load_evidence(paths, cs).records)
