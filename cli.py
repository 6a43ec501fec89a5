"""`cchc`: score the PAR Index (Chỉ số CCHC) from evidence."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.table import Table

from engine import load_criteria, load_evidence, score as score_units
from engine.errors import CchcError, EngineError, IncompleteEvaluationError, InputError
from engine.numbers import display
from engine.results import result_files, write_outputs
from engine.yamlio import load_yaml

app = typer.Typer(help="Chấm điểm Chỉ số cải cách hành chính (PAR Index) từ tài liệu kiểm chứng.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

# Exit codes, in one place: 0 ok; 1 a replay differs; 2 bad input (or a damaged bundle);
# 3 the engine could not decide every item; 4 an internal error.
EXIT_BAD_INPUT, EXIT_ENGINE, EXIT_INTERNAL = 2, 3, 4
EXIT_CODES: list[tuple[type[BaseException], int]] = [
    (InputError, EXIT_BAD_INPUT),
    (IncompleteEvaluationError, EXIT_ENGINE),
    (EngineError, EXIT_ENGINE),
    (CchcError, EXIT_BAD_INPUT),
]


def fail(exc: BaseException) -> "typer.Exit":
    """Print an error for a person and return the exit that matches it."""
    if isinstance(exc, InputError):
        for p in exc.problems:
            err.print(str(p), markup=False, highlight=False)
        n = len([p for p in exc.problems if p.severity == "error"])
        err.print(f"{n} problem{'s' if n != 1 else ''} found.", markup=False)
    else:
        err.print(f"error: {exc}", markup=False, highlight=False)
    for kind, code in EXIT_CODES:
        if isinstance(exc, kind):
            return typer.Exit(code)
    return typer.Exit(EXIT_INTERNAL)


def guarded(func):
    """Run a command body; a user never sees a traceback (set CCHC_DEBUG=1 to get one)."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except typer.Exit:
            raise
        except CchcError as exc:
            raise fail(exc) from None
        except KeyboardInterrupt:
            err.print("interrupted")
            raise typer.Exit(130) from None
        except Exception as exc:  # noqa: BLE001 - last line of defence for users
            if os.environ.get("CCHC_DEBUG"):
                raise
            err.print(f"internal error: {type(exc).__name__}: {exc} (set CCHC_DEBUG=1 for details)",
                      markup=False, highlight=False)
            raise typer.Exit(EXIT_INTERNAL) from None
    return wrapper


def _is_criteria(path: Path) -> bool:
    if path.suffix.lower() not in (".yaml", ".yml"):
        return False
    try:
        doc = load_yaml(path)
    except InputError:
        return False
    return isinstance(doc, dict) and str(doc.get("format", "")).startswith("cchc-criteria/")


@app.command()
@guarded
def validate(
    files: List[Path] = typer.Argument(..., help="Criteria sets and evidence files (or folders)."),
    criteria: Optional[Path] = typer.Option(None, "--criteria", "-c",
                                            help="Criteria set to check evidence against."),
) -> None:
    """Check criteria sets and evidence; report every problem as file:line:col."""
    from engine.errors import Problem

    problems: list[Problem] = []
    crit_files = [f for f in files if f.is_file() and _is_criteria(f)]
    evidence = [f for f in files if f not in crit_files]
    for f in files:
        if not f.exists():
            problems.append(Problem(str(f), message="file not found"))
    evidence = [f for f in evidence if f.exists()]
    loaded = {}
    for f in ([criteria] if criteria else []) + crit_files:
        try:
            loaded[f] = load_criteria(f)
            out.print(f"{f}: ok — criteria set {loaded[f].id}, {len(loaded[f].sub_criteria())} sub-criteria",
                      markup=False, highlight=False)
        except InputError as exc:
            problems += exc.problems
    if evidence:
        against = criteria or (crit_files[0] if len(crit_files) == 1 else None)
        if against is None:
            problems.append(Problem(str(evidence[0]), message="evidence is checked against a criteria set: "
                                    "pass --criteria FILE (or exactly one criteria file)"))
        elif against in loaded:
            try:
                ev = load_evidence(evidence, loaded[against])
                for w in ev.warnings:
                    err.print(str(w), markup=False, highlight=False)
                out.print(f"evidence ok: {len(ev.records)} unit(s) in {len(ev.files)} file(s)")
            except InputError as exc:
                problems += exc.problems
    if problems:
        raise InputError(problems)


@app.command()
@guarded
def score(
    criteria: Path = typer.Argument(..., help="The criteria set (YAML)."),
    evidence: List[Path] = typer.Argument(..., help="Evidence files or folders (YAML, CSV, Excel)."),
    out_dir: Path = typer.Option(Path("out"), "--out", "-o", help="Folder for the JSON results."),
    engine: str = typer.Option("durable", "--engine", "-e", help="durable (rule engine) or reference."),
    rows: int = typer.Option(40, "--rows", help="How many units the terminal table shows."),
) -> None:
    """Score units: one JSON result per unit, a summary, and a table on the terminal."""
    from rules import get_evaluator

    evaluator = get_evaluator(engine)
    cs = load_criteria(criteria)
    ev = load_evidence(evidence, cs)
    for w in ev.warnings:
        err.print(str(w), markup=False, highlight=False)
    results = score_units(cs, ev, evaluator)
    files = result_files(cs, results, evaluator.name, [str(w) for w in ev.warnings])
    write_outputs(out_dir, files)
    _table(cs.title, results, rows)
    decided = sum(len(r.decisions) for r in results)
    out.print(f"{len(results)} unit(s), {decided} decisions ({evaluator.name} engine) → {out_dir}/units/*.json, "
              f"{out_dir}/summary.json", markup=False, highlight=False)


def _table(title: str, results, rows: int) -> None:
    table = Table(title=title, show_lines=False)
    for col, just in (("Mã đơn vị", "left"), ("Tên đơn vị", "left"), ("Loại", "left"), ("Điểm", "right"),
                      ("Tối đa", "right"), ("Chỉ số (%)", "right"), ("Thiếu TLKC", "right")):
        table.add_column(col, justify=just)
    for r in results[:rows]:
        missing = sum(1 for d in r.decisions if d.status in ("missing_evidence", "no_matching_band"))
        idx = r.total.index
        table.add_row(r.unit_id, r.unit_name, r.unit_type, display(r.total.points, vietnamese=True),
                      display(r.total.max, vietnamese=True), display(idx, vietnamese=True) if idx is not None else "—",
                      str(missing))
    out.print(table)
    if len(results) > rows:
        out.print(f"… and {len(results) - rows} more unit(s) in the JSON results")


def main() -> None:  # pragma: no cover - console entry alias
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
