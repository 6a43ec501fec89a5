"""Load and validate a criteria set (YAML) into a frozen `CriteriaSet`."""
from __future__ import annotations

import hashlib
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Any

from .. import methods
from ..core.conditions import parse_consistency, parse_item_conditions
from ..core.errors import CriteriaError, InputError, Problem
from ..core.i18n import _
from ..core.limits import check_file_size
from ..methods.base import Domain
from ..core.model import (Area, Band, Check, Criterion, CriteriaSet, Group, Interval, MetricSpec,
                    Provenance, SubCriterion, TASK_MEASURES, UnitType)
from ..core.numbers import exact_text, to_fraction
from .schema import schema_problems
from .yamlio import key_position, load_yaml, position


class _Collector:
    def __init__(self, file: str, doc: Any):
        self.file, self.doc, self.problems = file, doc, []

    def at(self, path: tuple, message: str, *, key: bool = False) -> None:
        line, col = (key_position if key else position)(self.doc, list(path))
        self.problems.append(Problem(self.file, line, col, message))


def load_criteria(path: Path | str) -> CriteriaSet:
    """Load a criteria set; raise `CriteriaError` listing every problem found."""
    path = Path(path)
    name = str(path)
    try:
        check_file_size(path, name)
        raw_bytes = path.read_bytes()
    except InputError as exc:
        raise CriteriaError(exc.problems) from None
    except OSError:
        raise CriteriaError([Problem(name, message=_("file not found or unreadable"))]) from None
    try:
        doc = load_yaml(path, name, raw_bytes)  # parsed from the bytes hashed: one read
    except InputError as exc:
        raise CriteriaError(exc.problems) from None
    if not isinstance(doc, dict):
        raise CriteriaError([Problem(name, 1, 1, _("expected a mapping (a criteria set) at the top level"))])
    problems = schema_problems(doc, "criteria.schema.json", name)
    if problems:
        raise CriteriaError(problems)
    col = _Collector(name, doc)
    cs = _build(doc, col, name, hashlib.sha256(raw_bytes).hexdigest())
    if col.problems:
        raise CriteriaError(col.problems)
    return cs


def _date(value: Any, path: tuple, col: _Collector):
    if value is None:
        return None
    if isinstance(value, date):
        return value
    col.at(path, _("expected a date written YYYY-MM-DD, got {value!r}").format(value=value))
    return None


def _build(doc: dict, col: _Collector, name: str, content_hash: str) -> CriteriaSet:
    unit_types = tuple(UnitType(t["id"], t["label"]) for t in doc["unit_types"])
    type_ids = [t.id for t in unit_types]
    for i, t in enumerate(type_ids):
        if t in type_ids[:i]:
            col.at(("unit_types", i, "id"), _("duplicate unit type {type!r}").format(type=t))
    known_types = set(type_ids)

    metrics: dict[str, MetricSpec] = {}
    for mid, m in doc["metrics"].items():
        kind = m["kind"]
        cats = tuple(m.get("categories") or ())
        opts = tuple(m.get("options") or ())
        if kind == "category" and not cats:
            col.at(("metrics", mid), _("metric {metric!r} of kind category needs categories").format(metric=mid))
        if cats and kind != "category":
            col.at(("metrics", mid, "categories"), _("categories belong to a metric of kind category"))
        if kind == "responses" and not opts:
            col.at(("metrics", mid), _("metric {metric!r} of kind responses needs options").format(metric=mid))
        if opts and kind != "responses":
            col.at(("metrics", mid, "options"), _("options belong to a metric of kind responses"))
        if "deadline" in m and kind != "date":
            col.at(("metrics", mid, "deadline"), _("deadline belongs to a metric of kind date"))
        if len(set(cats)) != len(cats) or len(set(opts)) != len(opts):
            col.at(("metrics", mid), _("categories / options must not repeat"))
        metrics[mid] = MetricSpec(mid, kind, m["label"], cats, opts,
                                  _date(m.get("deadline"), ("metrics", mid, "deadline"), col))

    groups = _groups(doc, col, known_types)
    checks = _checks(doc, col, metrics)
    consistency = parse_consistency(doc, col.at, metrics, lambda p: f"{name}:{position(col.doc, list(p))[0]}")

    seen_codes: dict[str, tuple] = {}

    def code_ok(code: str, path: tuple, parent: str | None) -> None:
        if code in seen_codes:
            line = position(col.doc, list(seen_codes[code]))[0]
            col.at(path + ("code",), _("duplicate code {code!r} (first used on line {line})").format(
                code=code, line=line))
        else:
            seen_codes[code] = path + ("code",)
        if parent is not None and not code.startswith(parent + "."):
            col.at(path + ("code",), _("code {code!r} does not sit under its parent {parent!r}").format(
                code=code, parent=parent))

    areas = []
    for ai, a in enumerate(doc["areas"]):
        apath = ("areas", ai)
        code_ok(a["code"], apath, None)
        crits = []
        for ci, c in enumerate(a["criteria"]):
            cpath = apath + ("criteria", ci)
            code_ok(c["code"], cpath, a["code"])
            subs = []
            for si, s in enumerate(c["sub_criteria"]):
                spath = cpath + ("sub_criteria", si)
                code_ok(s["code"], spath, c["code"])
                sub = _sub(s, spath, col, metrics, known_types)
                if sub is not None:
                    subs.append(sub)
            crit = Criterion(c["code"], c["title"], to_fraction(c["max"]), tuple(subs))
            _adds_up(crit.max, [to_fraction(s["max"]) for s in c["sub_criteria"]], cpath, col,
                     _("criterion {code}").format(code=c["code"]), _("sub-criteria"))
            crits.append(crit)
        area = Area(a["code"], a["title"], to_fraction(a["max"]), tuple(crits))
        _adds_up(area.max, [to_fraction(c["max"]) for c in a["criteria"]], apath, col,
                 _("area {code}").format(code=a["code"]), _("criteria"))
        areas.append(area)
    total = to_fraction(doc["max"])
    _adds_up(total, [to_fraction(a["max"]) for a in doc["areas"]], (), col, _("the criteria set"), _("areas"))

    issued = doc["issued_by"]
    return CriteriaSet(
        id=doc["id"], title=doc["title"], year=int(doc["year"]), decision=issued["decision"],
        issuer=issued["issuer"], unit_types=unit_types, groups=groups, metrics=metrics,
        areas=tuple(areas), checks=checks, path=name, content_hash=content_hash, max=total,
        consistency=consistency)


def _adds_up(parent: Fraction, parts: list[Fraction], path: tuple, col: _Collector, what: str, kids: str) -> None:
    total = sum(parts, Fraction(0))
    if total != parent:
        col.at(path + ("max",), _("{what} has max {max} but its {parts} add up to {total}").format(
            what=what, max=exact_text(parent), parts=kids, total=exact_text(total)), key=True)


def _groups(doc: dict, col: _Collector, known_types: set[str]) -> tuple[Group, ...]:
    groups, grouped = [], {}
    for gi, g in enumerate(doc.get("groups") or ()):
        for ti, t in enumerate(g["unit_types"]):
            if t not in known_types:
                col.at(("groups", gi, "unit_types", ti), _("unknown unit type {type!r}; declared: {types}").format(
                    type=t, types=", ".join(sorted(known_types))))
            elif t in grouped:
                col.at(("groups", gi, "unit_types", ti), _("unit type {type!r} is already in group {group!r}").format(
                    type=t, group=grouped[t]))
            else:
                grouped[t] = g["id"]
        bands = [Band(b["label"], to_fraction(b["min"])) for b in g["bands"]]
        for bi in range(1, len(bands)):
            if bands[bi].min >= bands[bi - 1].min:
                col.at(("groups", gi, "bands", bi, "min"),
                       _("bands must be listed from the highest minimum down, without repeats"))
        for bi, b in enumerate(bands):
            if not 0 <= b.min <= 100:
                col.at(("groups", gi, "bands", bi, "min"), _("a band minimum is a percent from 0 to 100"))
        groups.append(Group(g["id"], g["label"], tuple(g["unit_types"]), tuple(bands)))
    ids = [g.id for g in groups]
    for gi, gid in enumerate(ids):
        if gid in ids[:gi]:
            col.at(("groups", gi, "id"), _("duplicate group {group!r}").format(group=gid))
    return tuple(groups)


def _checks(doc: dict, col: _Collector, metrics: dict[str, MetricSpec]) -> tuple[Check, ...]:
    checks = []
    for ki, k in enumerate(doc.get("checks") or ()):
        names = list(k["metrics"]) + ([k["total"]] if k.get("total") else [])
        for m in names:
            if m not in metrics:
                col.at(("checks", ki), _("unknown metric {metric!r} in a consistency check").format(metric=m))
            elif metrics[m].kind not in ("count", "percent"):
                col.at(("checks", ki), _("metric {metric!r} is of kind {kind}; checks compare counts or percents").format(
                    metric=m, kind=metrics[m].kind))
        if k["kind"] == "sum" and not k.get("total"):
            col.at(("checks", ki), _("a sum check needs a total"))
        if k["kind"] == "equal" and len(k["metrics"]) < 2:
            col.at(("checks", ki), _("an equal check needs at least two metrics"))
        checks.append(Check(k["kind"], tuple(k["metrics"]), k.get("total", ""), k.get("label", "")))
    return tuple(checks)


def _sub(s: dict, spath: tuple, col: _Collector, metrics: dict[str, MetricSpec],
         known_types: set[str]) -> SubCriterion | None:
    code = s["code"]
    try:
        method = methods.get(s["method"])
    except methods.UnknownMethodError as exc:
        col.at(spath + ("method",), str(exc))
        return None
    metric = metrics.get(s["metric"])
    if metric is None:
        col.at(spath + ("metric",), _("unknown metric {metric!r}; declared metrics: {metrics}").format(
            metric=s["metric"], metrics=", ".join(sorted(metrics))))
        return None
    if metric.kind not in method.metric_kinds:
        col.at(spath + ("metric",), _("method {method} reads metrics of kind {kinds}, but {metric!r} is {kind}").format(
            method=method.name, kinds=" / ".join(method.metric_kinds), metric=metric.id, kind=metric.kind))
        return None
    measure = s.get("measure", "")
    if metric.kind == "tasks" and measure not in TASK_MEASURES:
        col.at(spath, _("item {code} reads a task list and needs measure: {measures}").format(
            code=code, measures=_(" or ").join(TASK_MEASURES)))
        return None
    if measure and metric.kind != "tasks":
        col.at(spath + ("measure",), _("measure applies to a task-list metric only"))
        return None
    applies = s.get("applies_to")
    for ti, t in enumerate(applies or ()):
        if t not in known_types:
            col.at(spath + ("applies_to", ti), _("unknown unit type {type!r}; declared: {types}").format(
                    type=t, types=", ".join(sorted(known_types))))
    source = s.get("source", "survey" if method.survey_only else "self")
    if method.survey_only and source != "survey":
        col.at(spath + ("source",), _("method {method} is scored from survey data; source must be survey").format(
            method=method.name))
    sub_max = to_fraction(s["max"])
    params_raw = s.get("params") or {}
    ppath = spath + ("params",)
    before = len(col.problems)
    params = methods.read_params(method, params_raw, sub_max, metric,
                                 lambda p, msg, key=False: col.at(ppath + tuple(p), f"{code}: {msg}", key=key))
    if params is None or len(col.problems) > before:
        return None
    branches = method.branches(params, sub_max, metric)
    _coverage(branches, method.domain(params, metric), spath, col, code)
    conditions = parse_item_conditions(s, spath, col.at, metrics, branches, sub_max)
    prov = s.get("provenance")
    return SubCriterion(
        code=code, title=s["title"], max=sub_max, method=method.name, params=params, metric=metric.id,
        measure=measure, applies_to=frozenset(applies) if applies else None, source=source,
        evidence_required=tuple(s.get("evidence_required") or ()),
        provenance=Provenance(prov["source"], prov.get("clause", ""), prov.get("note", ""),
                              bool(prov.get("official", False))) if prov else None,
        branches=branches, line=position(col.doc, list(spath))[0], conditions=conditions)


def _coverage(branches, domain: Domain, spath: tuple, col: _Collector, code: str) -> None:
    """Every value of the domain must fall in exactly one branch: report gaps and overlaps."""
    if domain.kind == "categories":
        return  # category methods check their keys against the domain while parsing
    intervals = [b for b in branches if isinstance(b.condition, Interval)]
    if len(intervals) != len(branches):
        return  # an Always branch covers everything by itself
    bounds = sorted({x for b in intervals for x in (b.condition.lo, b.condition.hi) if x is not None})
    candidates: set[Fraction] = set()
    for x in bounds:
        if domain.kind == "int":
            fl = x.numerator // x.denominator
            candidates.update({Fraction(fl - 1), Fraction(fl), Fraction(fl + 1), Fraction(fl + 2)})
        else:
            candidates.update({x, x - 1, x + 1})
    if domain.kind != "int":  # on integers, the neighbours of each bound above cover the gaps
        candidates.update((lo + hi) / 2 for lo, hi in zip(bounds, bounds[1:]))
    if domain.lo is not None:
        candidates.add(domain.lo)
    if domain.hi is not None:
        candidates.add(domain.hi)
    gaps, overlaps = [], []
    for q in sorted(candidates):
        if (domain.lo is not None and q < domain.lo) or (domain.hi is not None and q > domain.hi):
            continue
        hits = [b for b in intervals if b.condition.contains(q)]
        if not hits:
            gaps.append(q)
        elif len(hits) > 1:
            overlaps.append((q, hits))
    if gaps:
        shown = ", ".join(exact_text(g) for g in gaps[:5])
        col.at(spath + ("params",), f"{code}: " + _("the bands leave a gap: no band for value(s) {values}").format(
            values=shown), key=True)
    if overlaps:
        q, hits = overlaps[0]
        col.at(spath + ("params",), f"{code}: " + _("the bands overlap: value {value} falls in {bands}").format(
            value=exact_text(q), bands=_(" and ").join(repr(h.label) for h in hits)), key=True)
