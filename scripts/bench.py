"""Measure the scoring pipeline: units per second and microseconds per decision for both evaluators.

    python scripts/bench.py                     # 1,000 and 20,000 units × 30 items
    python scripts/bench.py --units 5000 --items 10

Each size gets a generated criteria set (`--items` sub-criteria over every method) and a CSV with
one row per unit and metric, then every phase of `cchc score` is timed on its own. Nothing here is
a pass/fail check: the figures depend on the machine.
"""
from __future__ import annotations

import argparse
import csv
import platform
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine import decide, load_criteria, load_evidence  # noqa: E402
from engine.evaluate import plan  # noqa: E402
from engine.reference import ReferenceEvaluator, differences  # noqa: E402
from engine.outdir import write_outputs  # noqa: E402
from engine.results import result_files  # noqa: E402
from rules.evaluator import DurableEvaluator  # noqa: E402

# (method, metric kind, params, how to write a value) — cycled to make `--items` sub-criteria
TEMPLATES = [
    ("tiers", "percent", "{tiers: [{ge: 98, points: 1}, {gt: 90, lt: 98, points: 0.75}, {ge: 70, le: 90, points: 0.5}, "
                         "{lt: 70, points: 0}]}", lambda r: f"{r.randint(6000, 10000) / 100:.2f}"),
    ("proportional", "percent", "{full_at: 50}", lambda r: f"{r.randint(0, 10000) / 100:.2f}"),
    ("deductions", "count", "{per_occurrence: 0.25}", lambda r: str(r.randint(0, 6))),
    ("bonus", "count", "{per_occurrence: 0.3}", lambda r: str(r.randint(0, 5))),
    ("pass_fail", "boolean", "{}", lambda r: r.choice(["có", "không"])),
    ("categories", "category", "{points: {on_time: 1, late: 0.5, not_done: 0}}",
     lambda r: r.choice(["on_time", "late", "not_done"])),
    ("tiers", "count", "{tiers: [{eq: 0, points: 1}, {ge: 1, le: 2, points: 0.5}, {gt: 2, points: 0}]}",
     lambda r: str(r.randint(0, 4))),
    ("survey", "percent", "{full_at: 90}", lambda r: f"{r.randint(5000, 10000) / 100:.2f}"),
]


def criteria_text(items: int) -> str:
    metrics, subs = [], []
    for i in range(items):
        method, kind, params, _ = TEMPLATES[i % len(TEMPLATES)]
        extra = ", categories: [on_time, late, not_done]" if kind == "category" else ""
        metrics.append(f"  m{i}: {{kind: {kind}, label: Chỉ số {i}{extra}}}")
        source = ", source: survey" if method == "survey" else ""
        subs.append(f"          - {{code: \"1.1.{i + 1}\", title: Tiêu chí {i + 1}, max: 1, method: {method}, "
                    f"metric: m{i}, params: {params}{source}}}")
    return "\n".join([
        "format: cchc-criteria/1", "id: bench", "title: Bộ chỉ số đo tốc độ", "year: 2023",
        "issued_by: {decision: 1/QĐ-BENCH, issuer: Sở Nội vụ}",
        "unit_types:", "  - {id: department, label: Sở}", "  - {id: commune, label: Xã}",
        "metrics:", *metrics, f"max: {items}", "areas:", "  - code: \"1\"", "    title: Lĩnh vực 1",
        f"    max: {items}", "    criteria:", "      - code: \"1.1\"", "        title: Tiêu chí 1.1",
        f"        max: {items}", "        sub_criteria:", *subs, ""])


def evidence_csv(path: Path, units: int, items: int, seed: int = 1) -> int:
    rnd = random.Random(seed)
    rows = 0
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["unit_id", "unit_name", "unit_type", "period", "metric", "value", "document"])
        for u in range(units):
            head = [f"u{u:06d}", f"Đơn vị {u}", "department" if u % 2 else "commune", "2023"]
            for i in range(items):
                w.writerow(head + [f"m{i}", TEMPLATES[i % len(TEMPLATES)][3](rnd), f"BC-{i}"])
                rows += 1
    return rows


CPU: dict[str, float] = {}  # phase -> CPU seconds (the wall clock also counts other processes)


def timed(fn, phase: str = ""):
    start, cpu = time.perf_counter(), time.process_time()
    value = fn()
    if phase:
        CPU[phase] = time.process_time() - cpu
    return value, time.perf_counter() - start


class _Recorded:
    """An evaluator that hands back verdicts already computed (so they are not timed twice)."""

    name = "durable"

    def __init__(self, verdicts):
        self._verdicts = verdicts

    def verdicts(self, criteria, cases):
        return self._verdicts


def bench(units: int, items: int, workdir: Path) -> dict:
    crit_path = workdir / f"criteria-{items}.yaml"
    crit_path.write_text(criteria_text(items), encoding="utf-8")
    criteria, t_crit = timed(lambda: load_criteria(crit_path))
    csv_path = workdir / f"units-{units}x{items}.csv"
    rows = evidence_csv(csv_path, units, items)
    evidence, t_load = timed(lambda: load_evidence([csv_path], criteria))
    (cases, _), t_plan = timed(lambda: plan(criteria, evidence.records))
    durable, reference = DurableEvaluator(), ReferenceEvaluator()
    _, t_register = timed(lambda: durable.verdicts(criteria, cases[:1]))  # compiles and registers once
    by_durable, t_durable = timed(lambda: durable.verdicts(criteria, cases), "durable")
    # plan again, prove complete, compute points and roll up — from the verdicts just measured
    results, t_decide = timed(lambda: decide(criteria, evidence.records, _Recorded(by_durable)))
    # the reference evaluator's whole path: quantities, points and roll-ups of its own
    by_reference, t_reference = timed(lambda: reference.decide(criteria, evidence.records), "reference")
    assert not differences(results, by_reference), "the evaluators disagree"
    decided = sum(len(r.decisions) for r in results)
    assert decided == units * items, f"{decided} decisions for {units} × {items}"
    files, t_json = timed(lambda: result_files(criteria, results, "durable", []))
    _, t_write = timed(lambda: write_outputs(workdir / f"out-{units}", files, command="score"))
    total = t_load + t_durable + t_decide + t_json + t_write
    return {"cpu_durable": CPU["durable"], "cpu_reference": CPU["reference"], "units": units, "items": items, "rows": rows, "decisions": len(cases), "t_crit": t_crit,
            "t_load": t_load, "t_plan": t_plan, "t_register": t_register, "t_durable": t_durable,
            "t_reference": t_reference, "t_decide": t_decide, "t_json": t_json, "t_write": t_write, "total": total}


def report(m: dict) -> None:
    n, d = m["units"], m["decisions"]
    print(f"\n{n:,} units × {m['items']} items = {d:,} decisions ({m['rows']:,} CSV rows)")
    print(f"  load criteria set           {m['t_crit'] * 1000:9.1f} ms")
    print(f"  load evidence (CSV)         {m['t_load']:9.2f} s    {m['rows'] / m['t_load']:10,.0f} rows/s")
    print(f"  plan cases                  {m['t_plan']:9.2f} s")
    print(f"  durable: compile+register   {m['t_register'] * 1000:9.1f} ms")
    for name, what in (("durable", "verdicts"), ("reference", "whole path")):
        wall, cpu = m[f"t_{name}"], m[f"cpu_{name}"]
        print(f"  {name + ': ' + what:<27} {wall:9.2f} s    {wall / d * 1e6:10.2f} µs/decision"
              f"   (CPU {cpu / d * 1e6:.2f} µs)")
    print(f"  proof, points, roll-ups     {m['t_decide']:9.2f} s    {n / m['t_decide']:10,.0f} units/s")
    print(f"  result JSON                 {m['t_json']:9.2f} s    {n / m['t_json']:10,.0f} units/s")
    print(f"  write files                 {m['t_write']:9.2f} s")
    print(f"  score end to end (durable)  {m['total']:9.2f} s    {n / m['total']:10,.0f} units/s"
          "   (load + verdicts + points + JSON + files)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", default="1000,20000", help="comma-separated unit counts (default 1000,20000)")
    ap.add_argument("--items", type=int, default=30, help="sub-criteria per criteria set (default 30)")
    args = ap.parse_args()
    print(f"cchc bench — Python {platform.python_version()}, {platform.machine()}, "
          f"durable_rules {_version('durable_rules')}")
    with tempfile.TemporaryDirectory(prefix="cchc-bench-") as tmp:
        for units in (int(u) for u in args.units.split(",")):
            report(bench(units, args.items, Path(tmp)))
    print(f"\npeak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB")


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "?"


if __name__ == "__main__":
    main()
