"""The JSON result of a unit (schema: engine/schemas/result.schema.json), canonically encoded."""
from __future__ import annotations

import json
from fractions import Fraction
from typing import Any, Optional, Sequence

import orjson

from .model import Citation, CriteriaSet, Decision, Rollup, UnitResult
from .numbers import display, exact_text
from .outdir import check_names

RESULT_FORMAT = "cchc-result/1"
_ORJSON_CANONICAL = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE


def dumps(obj: Any) -> bytes:
    """Canonical JSON: sorted keys, UTF-8, two-space indent, trailing newline. Encoded in C by
    orjson, whose bytes are the standard library's for these options and the values results hold
    (strings, integers, booleans, null; exact numbers are strings, never binary floats, whose
    exponent orjson would write unpadded); what orjson refuses (integers beyond 64 bits, non-string
    keys) goes through the standard library."""
    try:
        return orjson.dumps(obj, option=_ORJSON_CANONICAL)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return (json.dumps(obj, sort_keys=True, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _exact(value: Optional[Fraction]) -> Optional[str]:
    return None if value is None else exact_text(value)


def rollup_json(r: Rollup) -> dict:
    idx = r.index
    return {"code": r.code, "title": r.title, "points": _exact(r.points),
            "points_display": display(r.points), "max": _exact(r.max),
            "index": _exact(idx), "index_display": None if idx is None else display(idx)}


def _citation(c: Optional[Citation]) -> Optional[dict]:
    if c is None:
        return None
    return {"document": c.document, "date": c.date.isoformat() if c.date else None,
            "issuer": c.issuer, "file": c.file}


def _decision(d: Decision, titles: dict[str, str], criteria: CriteriaSet) -> dict:
    return {
        "code": d.code, "title": titles[d.code], "method": d.method, "status": d.status,
        "points": _exact(d.points), "points_display": display(d.points), "max": _exact(d.max),
        "condition": d.condition, "note": d.note,
        "quantity": None if d.quantity is None else exact_text(d.quantity) if isinstance(d.quantity, Fraction)
        else d.quantity,
        "inputs": [{"metric": i.metric, "label": criteria.metrics[i.metric].label, "value": i.value,
                    "citation": _citation(i.citation), "location": i.location} for i in d.inputs],
    }


def unit_json(criteria: CriteriaSet, result: UnitResult, engine: str) -> dict:
    titles = {s.code: s.title for s in criteria.sub_criteria()}
    counts = {s: sum(1 for d in result.decisions if d.status == s)
              for s in ("scored", "not_applicable", "missing_evidence", "no_matching_band")}
    return {
        "format": RESULT_FORMAT,
        "criteria": {"id": criteria.id, "title": criteria.title, "year": criteria.year,
                     "decision": criteria.decision, "sha256": criteria.content_hash},
        "engine": engine,
        "unit": {"id": result.unit_id, "name": result.unit_name, "type": result.unit_type},
        "period": result.period,
        "evidence_source": result.evidence_source,
        "items": [_decision(d, titles, criteria) for d in result.decisions],
        "criteria_rollup": [rollup_json(r) for r in result.criteria],
        "areas": [rollup_json(r) for r in result.areas],
        "total": rollup_json(result.total),
        "status_counts": counts,
        **({"warnings": list(result.warnings)} if result.warnings else {}),
    }


def summary_json(criteria: CriteriaSet, results: Sequence[UnitResult], engine: str,
                 warnings: Sequence[str]) -> dict:
    return {
        "format": "cchc-summary/1",
        "criteria": {"id": criteria.id, "title": criteria.title, "year": criteria.year,
                     "sha256": criteria.content_hash},
        "engine": engine,
        "units": [{"id": r.unit_id, "name": r.unit_name, "type": r.unit_type, "period": r.period,
                   **{k: v for k, v in rollup_json(r.total).items() if k not in ("code", "title")}}
                  for r in results],
        "warnings": list(warnings) + [w for r in results for w in r.warnings],
    }


def result_files(criteria: CriteriaSet, results: Sequence[UnitResult], engine: str,
                 warnings: Sequence[str]) -> dict[str, bytes]:
    check_names({r.unit_id: r.evidence_source for r in results})
    files = {f"units/{r.unit_id}.json": dumps(unit_json(criteria, r, engine)) for r in results}
    files["summary.json"] = dumps(summary_json(criteria, results, engine, warnings))
    return files
