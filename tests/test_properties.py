"""Properties that hold for any criteria set and any evidence: points within [0, max], roll-ups
that are the sums of their parts, scores that never drop for a better value, and results that do
not depend on the order of units, rows or files."""
from __future__ import annotations

import csv
import io
import itertools
import json
import random
from collections import defaultdict
from fractions import Fraction as F
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builders import write_criteria, yaml_text
from engine import decide, load_criteria, load_evidence
from engine.evaluation.evaluate import plan
from engine.core.numbers import exact_text, is_terminating
from engine.evaluation.reference import ReferenceEvaluator
from engine.storage.results import result_files
from rules import get_evaluator
from strategies import scenarios

SETTINGS = dict(derandomize=True, database=None, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
REFERENCE = ReferenceEvaluator()
_files = itertools.count()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("properties")


def _load(workdir: Path, doc: dict):
    return load_criteria(write_criteria(workdir / f"criteria-{next(_files)}.yaml", doc))


@settings(max_examples=150, **SETTINGS)
@given(scenario=scenarios())
def test_points_stay_within_their_maximum_and_roll_ups_add_up(workdir, scenario):
    doc, records = scenario
    criteria = _load(workdir, doc)
    for unit in decide(criteria, records, REFERENCE):
        by_code = {d.code: d for d in unit.decisions}
        assert len(by_code) == len(unit.decisions) == len(criteria.sub_criteria())
        for d in unit.decisions:
            assert 0 <= d.points <= d.max
            if d.status != "scored":
                assert d.points == 0
        crit = {r.code: r for r in unit.criteria}
        area = {r.code: r for r in unit.areas}
        for a in criteria.areas:
            for c in a.criteria:
                live = [by_code[s.code] for s in c.sub_criteria if by_code[s.code].status != "not_applicable"]
                assert crit[c.code].points == sum((d.points for d in live), F(0))
                assert crit[c.code].max == sum((d.max for d in live), F(0))
                assert 0 <= crit[c.code].points <= crit[c.code].max <= c.max
            assert area[a.code].points == sum((crit[c.code].points for c in a.criteria), F(0))
            assert area[a.code].max == sum((crit[c.code].max for c in a.criteria), F(0))
        assert unit.total.points == sum((r.points for r in unit.areas), F(0))
        assert unit.total.max == sum((r.max for r in unit.areas), F(0)) <= criteria.max
        if unit.total.max:
            assert 0 <= unit.total.index <= 100
        else:
            assert unit.total.index is None


def _pairs_by_item(criteria, records, results):
    """(quantity, points) for every scored item, grouped by item code."""
    cases, _ = plan(criteria, records)
    quantity = {(c.unit_id, c.code): c.quantity for c in cases}
    out = defaultdict(list)
    for r in results:
        for d in r.decisions:
            if d.status == "scored":
                out[d.code].append((quantity[(r.unit_id, d.code)], d.points))
    return out


def _ordered(pairs, direction: int) -> bool:
    pairs = sorted(pairs, key=lambda p: (p[0], direction * p[1]))
    return all(direction * (b[1] - a[1]) >= 0 for a, b in zip(pairs, pairs[1:]))


@settings(max_examples=120, **SETTINGS)
@given(scenario=scenarios(monotone=True, methods=["tiers", "proportional", "survey", "bonus", "deductions"]))
def test_a_better_value_never_lowers_the_score(workdir, scenario):
    """Tiers whose points rise band by band, proportional, survey and bonus never give fewer points
    for a higher value; deductions never give more points for more occurrences."""
    doc, records = scenario
    criteria = _load(workdir, doc)
    methods = {s.code: s.method for s in criteria.sub_criteria()}
    results = decide(criteria, records, get_evaluator("durable"))
    for code, pairs in _pairs_by_item(criteria, records, results).items():
        direction = -1 if methods[code] == "deductions" else 1
        assert _ordered(pairs, direction), (code, methods[code], sorted(pairs))


@settings(max_examples=200, **SETTINGS)
@given(scenario=scenarios(monotone=True, methods=["tiers"]),
       values=st.lists(st.integers(0, 10000), min_size=2, max_size=12))
def test_monotone_tiers_on_a_dense_grid(workdir, scenario, values):
    """Every tiers item, fed many values of its metric (including every bound), scores in order."""
    doc, _ = scenario
    criteria = _load(workdir, doc)
    from builders import record, value  # noqa: PLC0415 - local: only this test builds values itself

    records = []
    for sub in criteria.sub_criteria():
        spec = criteria.metrics[sub.metric]
        if spec.kind == "tasks":
            continue
        bounds = {x for b in sub.branches for x in (b.condition.lo, b.condition.hi) if x is not None}
        grid = sorted(bounds | {F(v, 100) for v in values} | {b + F(1, 10 ** 6) for b in bounds})
        for i, q in enumerate(grid):
            if spec.kind == "percent" and not 0 <= q <= 100 or spec.kind == "count" and (q < 0 or q.denominator != 1):
                continue
            records.append(record(f"{sub.code}-{i}", {sub.metric: value(sub.metric, spec.kind, q)}))
    results = decide(criteria, records, REFERENCE)
    for code, pairs in _pairs_by_item(criteria, records, results).items():
        assert _ordered(pairs, 1), (code, sorted(pairs))


# ---------------------------------------------------------------- order of units, rows and files

CSV_HEAD = ["unit_id", "unit_name", "unit_type", "period", "metric", "option", "value", "numerator",
            "denominator", "document", "reason", "not_applicable"]


def _number(q: F, kind: str = "points") -> str:
    """As a person writes it: a decimal, or a percent that has none as a share (200/3 % is 2/3)."""
    if is_terminating(q):
        return exact_text(q)
    return f"{q.numerator}/{100 * q.denominator}" if kind == "percent" else f"{q.numerator}/{q.denominator}"


def _csv_rows(rec) -> list[list[str]]:
    head = [rec.unit_id, rec.unit_name, rec.unit_type, rec.period]
    rows = []
    for mid, mv in rec.values.items():
        row = dict(metric=mid, option="", value="", numerator="", denominator="", document="", reason="")
        if mv.kind == "responses":
            for opt, n in mv.value.items():
                rows.append(head + [mid, opt, str(n), "", "", "", "", ""])
            continue
        if mv.numerator is not None:
            row.update(numerator=str(mv.numerator), denominator=str(mv.denominator))
        elif mv.kind in ("percent", "count"):
            row["value"] = _number(mv.value, mv.kind)
        elif mv.kind == "points":
            row.update(value=_number(mv.value), reason=mv.reason, document="TL-1")
        elif mv.kind == "boolean":
            row["value"] = "có" if mv.value else "không"
        elif mv.kind == "date":
            row["value"] = mv.value.strftime("%d/%m/%Y") if mv.value else "not_done"
        else:
            row["value"] = mv.value
        rows.append(head + [row[k] for k in CSV_HEAD[4:11]] + [""])
    for code, reason in rec.not_applicable.items():
        rows.append(head + ["", "", "", "", "", "", reason, code])
    return rows


def _yaml_doc(rec) -> dict:
    metrics = {}
    for mid, mv in rec.values.items():
        if mv.kind == "responses":
            metrics[mid] = {"responses": mv.value}
        elif mv.kind == "tasks":
            metrics[mid] = {"tasks": [{"task": t.task, "lead": t.lead, "deadline": t.deadline,
                                       **({"completed": t.completed} if t.completed else {})} for t in mv.value]}
        elif mv.numerator is not None:
            metrics[mid] = {"numerator": mv.numerator, "denominator": mv.denominator}
        elif mv.kind in ("percent", "count", "points"):
            metrics[mid] = {"value": mv.value if is_terminating(mv.value) else _number(mv.value, mv.kind)}
            if mv.kind == "points":
                metrics[mid].update(reason=mv.reason, citation={"document": "TL-1"})
        else:
            metrics[mid] = {"value": mv.value}
    return {"format": "cchc-evidence/1", "unit": {"id": rec.unit_id, "name": rec.unit_name, "type": rec.unit_type},
            "period": rec.period, "metrics": metrics, "not_applicable": rec.not_applicable}


def _write_evidence(folder: Path, records, seed: int) -> list[Path]:
    """The units as two CSV files and some YAML files, rows and files in an order set by `seed`."""
    rnd = random.Random(seed)
    folder.mkdir(parents=True)
    files, tables = [], {"a.csv": [], "b.csv": []}
    for rec in records:
        has_tasks = any(mv.kind == "tasks" for mv in rec.values.values())
        empty = not rec.values and not rec.not_applicable  # no row of a CSV would name the unit
        if has_tasks or empty or sum(map(ord, rec.unit_id)) % 3 == 0:
            path = folder / f"{rec.unit_id}.yaml"
            path.write_text(yaml_text(_yaml_doc(rec)) + "\n", encoding="utf-8")
            files.append(path)
        else:
            tables["a.csv" if sum(map(ord, rec.unit_id)) % 2 else "b.csv"] += _csv_rows(rec)
    for name, rows in tables.items():
        if rows:
            rnd.shuffle(rows)
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\n").writerows([CSV_HEAD] + rows)
            (folder / name).write_text(buf.getvalue(), encoding="utf-8")
            files.append(folder / name)
    rnd.shuffle(files)
    return files


def _without_locations(files: dict[str, bytes]) -> dict:
    def strip(node):
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k != "location"}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node
    return {name: strip(json.loads(data)) for name, data in files.items()}


@settings(max_examples=40, **SETTINGS)
@given(scenario=scenarios(), seed=st.integers(0, 2 ** 16))
def test_the_order_of_units_rows_and_files_never_changes_a_result(tmp_path_factory, scenario, seed):
    """Files named in any order and units listed in any order give byte-identical results; rows
    moved inside a CSV change nothing but the row numbers that locate the evidence."""
    doc, records = scenario
    root = tmp_path_factory.mktemp("order")
    criteria = load_criteria(write_criteria(root / "criteria.yaml", doc))
    durable = get_evaluator("durable")

    def run(files, records_order=None):
        evidence = load_evidence(files, criteria)
        recs = evidence.records if records_order is None else records_order(evidence.records)
        return result_files(criteria, decide(criteria, recs, durable), "durable", [str(w) for w in evidence.warnings])

    files = _write_evidence(root / "evidence", records, seed)
    first = run(files)
    assert len(first) == len(records) + 1
    assert run(list(reversed(files))) == first
    assert run(sorted(files, key=lambda p: random.Random(seed).random())) == first
    assert run([root / "evidence"]) == first  # the folder, read in its own (sorted) order
    assert run(files, lambda recs: list(reversed(recs))) == first
    moved = _write_evidence(root / "moved", list(reversed(records)), seed + 1)
    renamed = {name.replace("/moved/", "/evidence/"): data.replace(b"/moved/", b"/evidence/")
               for name, data in run(moved).items()}
    assert _without_locations(renamed) == _without_locations(first)
