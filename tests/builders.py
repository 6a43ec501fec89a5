"""Builders for the core tests: criteria sets as plain dicts, written as YAML text and loaded the
way a user's file is (`load_criteria`), plus evidence records built directly for the evaluators."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterable, Optional

from engine.core.errors import Location
from engine.core.model import EvidenceRecord, MetricValue

UNIT_TYPES = ({"id": "department", "label": "Sở, ban, ngành"}, {"id": "commune", "label": "UBND cấp xã"})


def dec(x: Any) -> Decimal:
    """A Decimal written exactly (Fractions must terminate)."""
    if isinstance(x, Fraction):
        d = Decimal(x.numerator) / Decimal(x.denominator)
        assert Fraction(d) == x, f"{x} has no exact decimal form"
        return d
    return Decimal(str(x))


def yaml_text(obj: Any) -> str:
    """Flow-style YAML (JSON syntax) with numbers written exactly, so `57.5` loads as 57.5."""
    if isinstance(obj, dict):
        return "{" + ", ".join(f"{json.dumps(str(k), ensure_ascii=False)}: {yaml_text(v)}"
                               for k, v in obj.items()) + "}"
    if isinstance(obj, (list, tuple)):
        return "[" + ", ".join(yaml_text(v) for v in obj) + "]"
    if isinstance(obj, bool):
        return "true" if obj else "false"
    if obj is None:
        return "null"
    if isinstance(obj, int):
        return str(obj)
    if isinstance(obj, (Fraction, Decimal)):
        return format(dec(obj), "f")
    if isinstance(obj, date):
        return obj.isoformat()
    return json.dumps(obj, ensure_ascii=False)


def criteria_doc(tree: list[list[list[dict]]], metrics: dict[str, dict], *, set_id: str = "test-set",
                 unit_types: Iterable[dict] = UNIT_TYPES, groups: Optional[list] = None,
                 checks: Optional[list] = None) -> dict:
    """A criteria set from a tree areas → criteria → sub-criteria; codes (`1.2.3`), titles and the
    maxima of criteria, areas and the set are filled in so that they add up."""
    areas, total = [], Fraction(0)
    for ai, crits in enumerate(tree, start=1):
        a_crits, a_max = [], Fraction(0)
        for ci, subs in enumerate(crits, start=1):
            c_subs, c_max = [], Fraction(0)
            for si, sub in enumerate(subs, start=1):
                s = {"code": f"{ai}.{ci}.{si}", "title": sub.get("title", f"Tiêu chí {ai}.{ci}.{si}"), **sub}
                c_subs.append(s)
                c_max += Fraction(dec(s["max"]))
            a_crits.append({"code": f"{ai}.{ci}", "title": f"Tiêu chí {ai}.{ci}", "max": c_max, "sub_criteria": c_subs})
            a_max += c_max
        areas.append({"code": str(ai), "title": f"Lĩnh vực {ai}", "max": a_max, "criteria": a_crits})
        total += a_max
    doc = {"format": "cchc-criteria/1", "id": set_id, "title": "Bộ chỉ số kiểm thử", "year": 2023,
           "issued_by": {"decision": "1/QĐ-KT", "issuer": "Sở Nội vụ"},
           "unit_types": list(unit_types), "metrics": metrics, "max": total, "areas": areas}
    if groups is not None:
        doc["groups"] = groups
    if checks is not None:
        doc["checks"] = checks
    return doc


def one_item(sub: dict, metric: dict, metric_id: str = "m") -> dict:
    """A criteria set with a single sub-criterion reading a single metric."""
    return criteria_doc([[[{"metric": metric_id, **sub}]]], {metric_id: metric})


def write_criteria(path: Path, doc: dict) -> Path:
    path.write_text(yaml_text(doc) + "\n", encoding="utf-8")
    return path


def record(unit_id: str, values: dict[str, MetricValue], *, unit_type: str = "department",
           not_applicable: Optional[dict[str, str]] = None) -> EvidenceRecord:
    return EvidenceRecord(unit_id, f"Đơn vị {unit_id}", unit_type, "2023", values, not_applicable or {},
                          "generated")


def value(metric: str, kind: str, v: Any, *, numerator: Optional[int] = None,
          denominator: Optional[int] = None, reason: str = "", citation=None) -> MetricValue:
    return MetricValue(metric, kind, v, citation, Location(f"generated:{metric}"), numerator, denominator, reason)
