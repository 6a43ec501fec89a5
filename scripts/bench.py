"""Measure `cchc score` end to end on generated evidence for the largest shipped criteria set.

    python scripts/bench.py                          # 1,000, 5,000 and 20,000 units, both engines
    python scripts/bench.py --units 1000,5000        # the full 20,000-unit run is optional
    python scripts/bench.py --units 1000 --round 1000   # also `cchc round` of 1,000 units, 1 and 2 workers
    python scripts/bench.py --round 1000,5000           # … of 1,000 and of 5,000 units
    python scripts/bench.py --workers 1                 # each `cchc score` with one worker only (default: 1 and 2)

Every run is the real command line (`cchc score …`) in a child process, so wall time
includes start-up and the child's own CPU time and peak memory (`os.wait4`'s resource usage of
that child) are measured apart from this script. A plain-Python floor — picking each decision's
band by integer comparisons only, on the same number of decisions — is measured in the same run,
and every engine's time per decision is given as a ratio to it. `--doc` rewrites the figures in
docs/performance.md and the plot docs/performance.svg. Nothing here is a pass/fail check.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import load_criteria  # noqa: E402

CRITERIA = ROOT / "criteria" / "tien-giang-2023-districts.yaml"  # the largest shipped set: 53 sub-criteria
HEADER = ["unit_id", "unit_name", "unit_type", "period", "metric", "option", "value", "numerator", "denominator",
          "document", "reason"]
# The 20,000-unit CSV has 1.2 million rows (about 110 MB): over the default limits of one input file
# (engine/core/limits.py), which the benchmark raises for its runs.
LIMITS = {"CCHC_MAX_ROWS": "10000000", "CCHC_MAX_FILE_MB": "2000"}
COMPILED = ("cli.py", "commands", "engine", "rules", "reports")
TASKS = "task,lead,partners,product,deadline,completed\n"


def metric_values(rnd: random.Random, criteria, uid: str) -> dict[str, dict]:
    """One unit's values, drawn like a province's figures: percentages with two decimals, small
    counts, dates around the deadline, five-option survey answers, a task list per unit."""
    point_max = {s.metric: s.max for s in criteria.sub_criteria()}
    out = {}
    for mid, spec in criteria.metrics.items():
        kind = spec.kind
        if kind == "percent":
            out[mid] = {"value": f"{rnd.randint(5000, 10000) / 100:.2f}"}
        elif kind == "count":
            out[mid] = {"value": str(rnd.choice([0, 0, 0, 1, 1, 2, 3]))}
        elif kind == "boolean":
            out[mid] = {"value": rnd.choice(["có", "có", "có", "không"])}
        elif kind == "date":
            out[mid] = {"value": f"{rnd.randint(2, 28):02d}/{rnd.choice([1, 1, 2])}/2023"}
        elif kind == "points":
            steps = int(point_max.get(mid, 1) * 4)
            out[mid] = {"value": str(rnd.randint(0, steps) / 4), "reason": "Theo biên bản thẩm định"}
        elif kind == "responses":
            out[mid] = {"responses": {opt: rnd.randint(0, 40) for opt in spec.options}}
        elif kind == "tasks":
            out[mid] = {"tasks_file": f"tasks/{uid}.csv"}
        else:
            raise SystemExit(f"bench: no generator for metric kind {kind!r}")
    return out


def task_list(rnd: random.Random, uid: str) -> str:
    rows = [f"Nhiệm vụ {i} của {uid},UBND {uid},,Báo cáo,Quý {rnd.randint(1, 4)},"
            f"{'2023-%02d-%02d' % (rnd.randint(1, 12), rnd.randint(1, 28)) if rnd.random() < 0.9 else ''}"
            for i in range(1, 6)]
    return TASKS + "\n".join(rows) + "\n"


def generate(folder: Path, criteria, units: int, as_yaml: bool, seed: int = 1, survey: bool = True) -> None:
    """Evidence for `units` districts: one CSV (or one YAML file per unit) plus a task list each.
    Without `survey`, the metrics of survey-scored items are left out (a round takes them from
    survey data, never from the unit itself)."""
    rnd = random.Random(seed)
    skip = set() if survey else {s.metric for s in criteria.sub_criteria() if s.source == "survey"}
    (folder / "tasks").mkdir(parents=True)
    table = None
    if not as_yaml:
        f = (folder / "units.csv").open("w", newline="", encoding="utf-8")
        table = csv.writer(f, lineterminator="\n")
        table.writerow(HEADER)
    for u in range(units):
        uid = f"huyen-{u:06d}"
        values = {m: v for m, v in metric_values(rnd, criteria, uid).items() if m not in skip}
        (folder / "tasks" / f"{uid}.csv").write_text(task_list(rnd, uid), encoding="utf-8")
        if as_yaml:
            lines = ["format: cchc-evidence/1", f"criteria: {criteria.id}",
                     f'unit: {{id: {uid}, name: "Huyện {u}", type: district}}', 'period: "2023"', "metrics:"]
            for mid, v in values.items():
                lines.append(f"  {mid}:")
                if "responses" in v:
                    lines.append("    responses: {" + ", ".join(f"{o}: {n}" for o, n in v["responses"].items()) + "}")
                elif "tasks_file" in v:
                    lines.append(f"    tasks_file: {v['tasks_file']}")
                else:
                    text = v["value"]
                    if "/" in text:  # a date, ISO in YAML
                        d, m, y = text.split("/")
                        text = f"{y}-{int(m):02d}-{int(d):02d}"
                    lines.append(f'    value: {"true" if text == "có" else "false" if text == "không" else text}')
                if "reason" in v:
                    lines.append(f'    reason: "{v["reason"]}"')
                lines.append(f'    citation: {{document: "{u}/BC-UBND"}}')
            (folder / f"{uid}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
            continue
        head = [uid, f"Huyện {u}", "district", "2023"]
        for mid, v in values.items():
            if "responses" in v:
                for opt, n in v["responses"].items():
                    table.writerow(head + [mid, opt, str(n), "", "", f"{u}/BC-UBND", ""])
            else:
                table.writerow(head + [mid, "", v.get("value") or v["tasks_file"], "", "", f"{u}/BC-UBND",
                                      v.get("reason", "")])
    if table is not None:
        f.close()


def run(args: list[str], cwd: Path) -> dict:
    """One child process: its wall time, CPU time (user + system, its own children included once
    they have ended) and peak resident memory."""
    return run_at_once([args], cwd)[0]


def run_at_once(commands: list[list[str]], cwd: Path) -> list[dict]:
    """`run` of several commands started together, each timed until it ends."""
    with contextlib.ExitStack() as stack:
        files = [(stack.enter_context(tempfile.TemporaryFile()), stack.enter_context(tempfile.TemporaryFile()))
                 for _ in commands]
        start = time.perf_counter()
        children = {subprocess.Popen([str(Path(sys.executable).parent / "cchc"), *args], cwd=cwd, stdout=out,
                                     stderr=err, env={**os.environ, **LIMITS, "LANGUAGE": "en"}).pid: i
                    for i, (args, (out, err)) in enumerate(zip(commands, files))}  # the summary line checked by callers
        ended: dict[int, tuple[float, int, Any]] = {}
        while len(ended) < len(commands):
            pid, status, usage = os.wait4(-1, 0)
            if pid in children:
                ended[children[pid]] = (time.perf_counter() - start, os.waitstatus_to_exitcode(status), usage)
        results = []
        for i, (args, (out, err)) in enumerate(zip(commands, files)):
            wall, code, usage = ended[i]
            out.seek(0)
            err.seek(0)
            stdout, stderr = out.read().decode(), err.read().decode()
            if code != 0:
                raise SystemExit(f"bench: `cchc {' '.join(args)}` failed ({code}):\n{stderr[-2000:]}")
            results.append({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024,
                            "stdout": stdout})
    return results


def floor_us(criteria, decisions: int, seed: int = 2) -> float:
    """Microseconds per decision of the least any evaluator must do: pick a band by comparing an
    integer with integer bounds (no evidence, no trace, no points)."""
    from rules.compile import compile_criteria

    compiled = compile_criteria(criteria)
    bands = []
    for sub in criteria.sub_criteria():
        scale = compiled.scale[sub.code]
        rows = []
        for br in sub.branches:
            lo = getattr(br.condition, "lo", None)
            hi = getattr(br.condition, "hi", None)
            rows.append((-2 ** 62 if lo is None else int(lo * scale), 2 ** 62 if hi is None else int(hi * scale),
                         br.key))
        bands.append(rows)
    rnd = random.Random(seed)
    values = [rnd.randint(0, 100) for _ in range(decisions)]
    per_unit = len(bands)
    start = time.process_time()
    picked = 0
    for i, v in enumerate(values):
        for lo, hi, key in bands[i % per_unit]:
            if lo <= v <= hi:
                picked += 1
                break
    return (time.process_time() - start) / decisions * 1e6


def distinct_share(folder: Path) -> tuple[int, int]:
    """Cases the engine would be asked about, and how many distinct questions they are — counted in
    a child process: loading the evidence here would grow this process, and a child's peak memory
    as the kernel reports it includes the memory of the process that started it."""
    out = subprocess.run([sys.executable, __file__, "--distinct", str(folder)], check=True, capture_output=True,
                         text=True, env={**os.environ, **LIMITS}).stdout.split()
    return int(out[0]), int(out[1])


def count_distinct(criteria, folder: Path) -> tuple[int, int]:
    from engine import load_evidence
    from engine.evaluation.evaluate import plan
    from rules.compile import compile_criteria
    from rules.evaluator import question

    cases, _ = plan(criteria, load_evidence([folder], criteria).records)
    scale = compile_criteria(criteria).scale
    return len(cases), len({question(c, scale[c.code]) for c in cases})


def bench_size(criteria, units: int, as_yaml: bool, engines: list[str], workdir: Path, with_round: bool,
               workers: tuple[int, ...] = (1,), round_repeats: int = 5) -> dict:
    label = f"{units}-{'yaml' if as_yaml else 'csv'}"
    folder = workdir / f"evidence-{label}"
    generate(folder, criteria, units, as_yaml)
    decisions = units * len(criteria.sub_criteria())
    row = {"units": units, "format": "YAML files" if as_yaml else "CSV", "decisions": decisions,
           "floor_us": floor_us(criteria, decisions)}
    for engine, n in runs(engines, workers):
        # Each run's output is kept until the benchmark ends (a 20,000-unit output is about 1.5 GB): on
        # an ext4 file system without a journal, creating a file skips every inode freed in the last
        # 60 s (360 s while its inode table block is unwritten), one lookup each, so a run started
        # right after the last one's output was deleted paid seconds of system time for that deletion.
        out = workdir / f"out-{label}-{engine}-{n}"
        m = run(["score", str(CRITERIA), str(folder), "--out", str(out), "-e", engine, "--rows", "0",
                 "--workers", str(n)], workdir)
        expected = f"{units} unit(s), {decisions} decisions ({engine} engine)"
        if expected not in m["stdout"]:
            raise SystemExit(f"bench: `cchc score` did not report {expected!r}")
        m["out_mb"] = sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) / 1e6
        m["bundle_mb"] = (out / "bundle.cchc").stat().st_size / 1e6
        row[(engine, n)] = m
    if with_round:
        generate(workdir / f"round-evidence-{label}", criteria, units, as_yaml, survey=False)
        walls: dict[str, list[float]] = {"round1": [], "round2": [], "pair": []}

        def round_args(workers: int, out: str) -> list[str]:
            return ["round", str(CRITERIA), "--evidence", str(workdir / f"round-evidence-{label}"),
                    "--out", str(workdir / out), "-j", str(workers), "--no-survey", "--rows", "0"]

        for i in range(round_repeats):  # alternated, so that a change in the machine's speed hits all alike
            for workers in (1, 2):
                walls[f"round{workers}"].append(run(round_args(workers, f"round-{label}-{workers}-{i}"), workdir)["wall"])
            # the machine's own ceiling: two one-worker rounds at once, each on one core, share nothing
            # but the machine; two workers cannot do better than they do
            walls["pair"].append(max(m["wall"] for m in run_at_once(
                [round_args(1, f"round-{label}-pair{k}-{i}") for k in (1, 2)], workdir)))
        for key, w in walls.items():
            row[key] = {"wall": statistics.median(w), "walls": w}
    return row


def runs(engines: list[str], workers: tuple[int, ...]) -> list[tuple[str, int]]:
    """Each engine with each number of worker processes."""
    return [(e, n) for e in engines for n in workers]


def one_unit(criteria, workdir: Path, times: int = 5) -> dict:
    """An agency's pre-check: `cchc score` of one unit's YAML file, start-up included, `times` times;
    the median wall and CPU time and the largest peak."""
    folder = workdir / "evidence-one"
    generate(folder, criteria, 1, as_yaml=True)
    evidence = next(folder.glob("*.yaml"))
    runs = [run(["score", str(CRITERIA), str(evidence), "--out", str(workdir / f"out-one-{i}")], workdir)
            for i in range(times)]
    return {"wall": statistics.median(r["wall"] for r in runs), "cpu": statistics.median(r["cpu"] for r in runs),
            "rss_mb": max(r["rss_mb"] for r in runs), "times": times}


def print_row(row: dict, engines: list[str], workers: tuple[int, ...]) -> None:
    print(f"\n{row['units']:,} units ({row['format']}), {row['decisions']:,} decisions;"
          f" plain-Python floor {row['floor_us']:.3f} µs/decision")
    for engine, n in runs(engines, workers):
        m = row[(engine, n)]
        us = m["cpu"] / row["decisions"] * 1e6
        print(f"  {engine:<9} -j{n}  wall {m['wall']:7.2f} s  CPU {m['cpu']:7.2f} s  peak {m['rss_mb']:7.0f} MB"
              f"  {us:7.2f} µs/decision (CPU)  {us / row['floor_us']:6.0f}× the floor"
              f"  output {m['out_mb']:7.1f} MB (bundle {m['bundle_mb']:.1f} MB)")
    if "round1" in row:
        r1, r2 = row["round1"], row["round2"]
        print(f"  round, median of {len(r1['walls'])} alternated runs: -j1 wall {r1['wall']:.2f} s, -j2 wall "
              f"{r2['wall']:.2f} s: {r1['wall'] / r2['wall']:.2f}× faster ({round_walls(r1)}; {round_walls(r2)})")
        print(f"  two -j1 rounds at once: {row['pair']['wall']:.2f} s ({round_walls(row['pair'])}): the machine's "
              f"ceiling for two workers {ceiling(row):.2f}×")


def ceiling(row: dict) -> float:
    """How much more work two processes that share nothing do at once than one alone (two `-j1`
    rounds against one, median walls): on a machine whose two cores slow each other, below 2."""
    return 2 * row["round1"]["wall"] / row["pair"]["wall"]


def round_walls(r: dict) -> str:
    return " ".join(f"{w:.2f}" for w in r["walls"])


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} {platform.machine()}"


def svg_plot(rows: list[dict], engines: list[str], workers: tuple[int, ...]) -> str:
    """Wall time and peak memory against the number of units (CSV runs), one line per engine and
    number of workers."""
    pts = sorted((r for r in rows if r["format"] == "CSV"), key=lambda r: r["units"])
    w, h, pad = 360, 240, 48
    colours = {("durable", 1): "#1f5fa8", ("reference", 1): "#c05a00", ("durable", 2): "#5fa81f",
               ("reference", 2): "#a81f5f"}
    lines = runs(engines, workers)

    def panel(x0: int, title: str, key: str, unit: str) -> list[str]:
        top = max(r[e][key] for r in pts for e in lines) * 1.1 or 1
        nmax = max(r["units"] for r in pts)
        sx = lambda n: x0 + pad + (w - 2 * pad) * n / nmax  # noqa: E731
        sy = lambda v: h - pad + 10 - (h - 2 * pad) * v / top  # noqa: E731
        out = [f'<text x="{x0 + w / 2}" y="18" text-anchor="middle" font-weight="bold">{title}</text>',
               f'<line x1="{sx(0)}" y1="{sy(0)}" x2="{sx(nmax)}" y2="{sy(0)}" stroke="#000"/>',
               f'<line x1="{sx(0)}" y1="{sy(0)}" x2="{sx(0)}" y2="{sy(top)}" stroke="#000"/>',
               f'<text x="{x0 + w / 2}" y="{h - 6}" text-anchor="middle">units</text>',
               f'<text x="{x0 + 12}" y="{sy(top) - 6}">{unit}</text>']
        for r in pts:
            out.append(f'<text x="{sx(r["units"]):.1f}" y="{sy(0) + 14:.1f}" text-anchor="middle" '
                       f'font-size="10">{r["units"]:,}</text>')
        for i in range(5):
            v = top * i / 4
            out.append(f'<text x="{sx(0) - 4:.1f}" y="{sy(v) + 3:.1f}" text-anchor="end" font-size="10">{v:.0f}</text>')
        for j, e in enumerate(lines):
            line = " ".join(f"{sx(r['units']):.1f},{sy(r[e][key]):.1f}" for r in pts)
            out.append(f'<polyline points="{line}" fill="none" stroke="{colours.get(e, "#333")}" stroke-width="2"/>')
            out.extend(f'<circle cx="{sx(r["units"]):.1f}" cy="{sy(r[e][key]):.1f}" r="3" fill="{colours.get(e, "#333")}"/>'
                       for r in pts)
            out.append(f'<text x="{x0 + pad + 8}" y="{sy(top) + 14 + 14 * j:.1f}" fill="{colours.get(e, "#333")}" '
                       f'font-size="11">{e[0]} -j{e[1]}</text>')
        return out

    body = panel(0, "Wall time of `cchc score`", "wall", "s") + panel(w, "Peak memory", "rss_mb", "MB")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * w}" height="{h}" font-family="sans-serif" '
            f'font-size="12">\n<rect width="100%" height="100%" fill="#fff"/>\n' + "\n".join(body) + "\n</svg>\n")


def markdown(rows: list[dict], engines: list[str], workers: tuple[int, ...], when: str, where: str, how: str,
             one: dict) -> str:
    lines = [f"Measured {when} on {where}{how} by `make bench` (`scripts/bench.py`), evidence generated for "
             f"`{CRITERIA.relative_to(ROOT)}` ({rows[0]['decisions'] // rows[0]['units']} sub-criteria per unit). "
             "CPU is user + system time of the `cchc score` process and its worker processes; peak memory is "
             "the largest of those processes' peaks; µs per decision is the CPU time "
             "divided by the decisions; the floor is plain Python picking bands by integer comparison only; "
             "output is the size of every file the run wrote (1 MB = 10⁶ bytes), the bundle included.", "",
             "| units | evidence | engine | workers | wall s | CPU s | peak MB | µs/decision (CPU) | × floor | output MB "
             "| bundle MB |",
             "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        for e, n in runs(engines, workers):
            m = r[(e, n)]
            us = m["cpu"] / r["decisions"] * 1e6
            lines.append(f"| {r['units']:,} | {r['format']} | {e} | {n} | {m['wall']:.2f} | {m['cpu']:.2f} | "
                         f"{m['rss_mb']:.0f} | {us:.2f} | {us / r['floor_us']:.0f} | {m['out_mb']:.0f} | "
                         f"{m['bundle_mb']:.1f} |")
    for r in rows:
        if "round1" in r:
            lines.append("")
            r1, r2 = r["round1"], r["round2"]
            lines.append(f"`cchc round` on {r['units']:,} units ({r['format']}), median wall time of {len(r1['walls'])} "
                         f"runs of each, alternated: 1 worker {r1['wall']:.2f} s, 2 workers {r2['wall']:.2f} s "
                         f"({r1['wall'] / r2['wall']:.2f}×; the runs: {round_walls(r1)} s and {round_walls(r2)} s). "
                         f"Two 1-worker rounds at once, in the same alternation: {r['pair']['wall']:.2f} s "
                         f"({round_walls(r['pair'])} s), so this machine's ceiling for two workers was "
                         f"{ceiling(r):.2f}× ({r1['wall'] / r2['wall'] / ceiling(r):.0%} of it reached).")
    lines += ["", f"One unit (an agency's pre-check: `cchc score` of one YAML file, start-up included, median of "
                  f"{one['times']} runs): {one['wall']:.2f} s wall, {one['cpu']:.2f} s CPU, {one['rss_mb']:.0f} MB peak."]
    if "share" in rows[0]:
        asked, distinct = rows[0]["share"]
        lines += ["", f"Distinct rule-engine questions in the {rows[0]['units']:,}-unit evidence: {distinct:,} of "
                      f"{asked:,} cases ({distinct / asked:.1%})."]
    return "\n".join(lines) + "\n"


BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def write_doc(text: str, svg: str) -> None:
    doc = ROOT / "docs" / "performance.md"
    old = doc.read_text("utf-8")
    head, _, rest = old.partition(BEGIN)
    _, _, tail = rest.partition(END)
    doc.write_text(f"{head}{BEGIN}\n{text}{END}{tail}", encoding="utf-8")
    (ROOT / "docs" / "performance.svg").write_text(svg, encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", default="1000,5000,20000", help="comma-separated unit counts (default 1000,5000,20000)")
    ap.add_argument("--engines", default="durable,reference", help="engines to run (default both)")
    ap.add_argument("--yaml", type=int, default=1000, help="also score this many units as one YAML file each (0: no)")
    ap.add_argument("--round", default="", help="also time `cchc round` of these many units (comma-separated "
                                                "counts among --units) with 1 and 2 workers (default: none)")
    ap.add_argument("--round-repeats", type=int, default=5, help="runs of `cchc round` with each number of workers, "
                                                                  "alternated; the median is given (default 5)")
    ap.add_argument("--workers", default="1,2", help="comma-separated worker processes of `cchc score`: each run "
                                                     "with each (default 1,2)")
    ap.add_argument("--doc", action="store_true", help="write the figures into docs/performance.md and the plot")
    ap.add_argument("--distinct", type=Path, help=argparse.SUPPRESS)  # the child of `distinct_share`
    args = ap.parse_args()
    if args.distinct:
        print(*count_distinct(load_criteria(CRITERIA), args.distinct))
        return
    engines = args.engines.split(",")
    rounds = {int(u) for u in args.round.split(",") if u}
    workers = tuple(int(n) for n in args.workers.split(","))
    # bytecode written once, so no run pays for compiling the sources (PYTHONDONTWRITEBYTECODE may be set)
    subprocess.run([sys.executable, "-m", "compileall", "-q", *(str(ROOT / p) for p in COMPILED)], check=True,
                   stdout=subprocess.DEVNULL)
    criteria = load_criteria(CRITERIA)
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    where = machine()
    how = (f", `cchc score --workers` {' and '.join(map(str, workers))}, load average "
           f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} at the start")
    print(f"cchc bench — {when} — {where}{how}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="cchc-bench-") as tmp:
        sizes = [(int(u), False) for u in args.units.split(",") if u] + ([(args.yaml, True)] if args.yaml else [])
        for units, as_yaml in sizes:
            row = bench_size(criteria, units, as_yaml, engines, Path(tmp), units in rounds and not as_yaml,
                             workers, args.round_repeats)
            if not rows:
                row["share"] = distinct_share(Path(tmp) / f"evidence-{units}-{'yaml' if as_yaml else 'csv'}")
            print_row(row, engines, workers)
            rows.append(row)
        one = one_unit(criteria, Path(tmp))
    print(f"\none unit (`cchc score` of one YAML file, start-up included, median of {one['times']}): "
          f"wall {one['wall']:.2f} s, CPU {one['cpu']:.2f} s, peak {one['rss_mb']:.0f} MB")
    if rows[0].get("share"):
        asked, distinct = rows[0]["share"]
        print(f"\ndistinct rule-engine questions: {distinct:,} of {asked:,} cases ({distinct / asked:.1%})")
    if args.doc:
        how += f" and {' '.join(f'{x:.2f}' for x in os.getloadavg())} at the end"
        write_doc(markdown(rows, engines, workers, when, where, how, one), svg_plot(rows, engines, workers))
        print("wrote docs/performance.md and docs/performance.svg")


if __name__ == "__main__":
    main()
