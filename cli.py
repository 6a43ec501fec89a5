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
from engine.archive import NotReproducedError
from engine.errors import CchcError, EngineError, IncompleteEvaluationError, InputError
from engine.numbers import display
from engine.outdir import write_file, write_outputs
from engine.results import result_files
from engine.yamlio import load_yaml

app = typer.Typer(help="Chấm điểm Chỉ số cải cách hành chính (PAR Index) từ tài liệu kiểm chứng.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

# Exit codes, in one place: 0 ok; 1 a replay differs (or `archive add` refuses a bundle whose
# replay differs); 2 bad input (or a damaged bundle);
# 3 the engine could not decide every item; 4 an internal error.
EXIT_BAD_INPUT, EXIT_ENGINE, EXIT_INTERNAL = 2, 3, 4
EXIT_DIFFERS = 1  # a replay does not reproduce its recorded results
EXIT_CODES: list[tuple[type[BaseException], int]] = [
    (NotReproducedError, EXIT_DIFFERS),
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
        # Broken YAML: still a criteria set if it says so, so that its own errors are reported.
        with path.open(encoding="utf-8", errors="replace") as f:  # the head only: it may be huge
            return "cchc-criteria/" in f.read(65536)
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
    for f in dict.fromkeys(([criteria] if criteria else []) + crit_files):  # each file once
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


_MAX_CITED_HELP = ("Cited files (scans, PDFs) above this many MiB are kept out of the bundle, recorded by "
                   "sha256 only (default 50, or $CCHC_MAX_CITED_MB).")


@app.command()
@guarded
def score(
    criteria: Path = typer.Argument(..., help="The criteria set (YAML)."),
    evidence: List[Path] = typer.Argument(..., help="Evidence files or folders (YAML, CSV, Excel)."),
    out_dir: Path = typer.Option(Path("out"), "--out", "-o", help="Folder for the JSON results."),
    engine: str = typer.Option("durable", "--engine", "-e", help="durable (rule engine) or reference."),
    rows: int = typer.Option(40, "--rows", help="How many units the terminal table shows."),
    bundle: Optional[Path] = typer.Option(None, "--bundle", help="Where to write the replay bundle "
                                          "(default: OUT/bundle.cchc)."),
    sign: Optional[Path] = typer.Option(None, "--sign", help="Sign the bundle with this Ed25519 key "
                                        "(made by `cchc keygen`)."),
    max_cited_mb: Optional[int] = typer.Option(None, "--max-cited-mb", help=_MAX_CITED_HELP),
) -> None:
    """Score units: one JSON result per unit, a summary, a replay bundle, and a table on the terminal."""
    from engine.bundle import max_cited_size, recording_reads
    from rules import get_evaluator

    evaluator = get_evaluator(engine)
    max_cited = max_cited_size(max_cited_mb)
    cs = load_criteria(criteria)
    with recording_reads() as reads:  # every file read goes into the bundle
        ev = load_evidence(evidence, cs)
    for w in ev.warnings:
        err.print(str(w), markup=False, highlight=False)
    results = score_units(cs, ev, evaluator)
    files = result_files(cs, results, evaluator.name, [str(w) for w in ev.warnings])
    from engine.bundle import BUNDLE_NAME, sha256, write_run
    from engine.replay import score_bundle

    bundle_bytes = score_bundle(criteria, evidence, cs, ev, files, evaluator.name, key=sign, reads=reads,
                                max_cited=max_cited)
    write_run(out_dir, files, bundle or out_dir / BUNDLE_NAME, bundle_bytes, command="score")
    _table(cs.title, results, rows)
    decided = sum(len(r.decisions) for r in results)
    out.print(f"{len(results)} unit(s), {decided} decisions ({evaluator.name} engine) → {out_dir}/units/*.json, "
              f"{out_dir}/summary.json", markup=False, highlight=False)
    out.print(f"bundle {bundle or out_dir / BUNDLE_NAME} (sha256 {sha256(bundle_bytes)}"
              f"{', signed' if sign else ''}): replay it with `cchc replay`", markup=False, highlight=False)


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


# ---------------------------------------------------------------- replay, keygen, archive

def _bundle_header(path, b) -> None:
    v = b.versions
    signed = f"signed by key {b.signer}" if b.signer else "not signed"
    out.print(f"bundle {path}: kind {b.kind}, sha256 {b.sha256}", markup=False, highlight=False)
    out.print(f"  recorded with the {b.engine} engine, cchc {v.get('cchc')}, durable_rules {v.get('durable_rules')}, "
              f"Python {v.get('python')}; {len(b.parts)} parts verified; {signed}", markup=False, highlight=False)
    if b.unpacked:
        out.print(f"  {len(b.unpacked)} cited file(s) above the cited-file limit are recorded by sha256 only, "
                  "not packed: " + ", ".join(b.unpacked), markup=False, highlight=False)


@app.command()
@guarded
def replay(
    bundle: Path = typer.Argument(..., help="A bundle written by `cchc score` (or taken from the archive)."),
    engine: Optional[str] = typer.Option(None, "--engine", "-e",
                                         help="durable or reference (default: the engine the bundle recorded)."),
    against: Optional[Path] = typer.Option(None, "--against", help="What-if: re-score the recorded evidence "
                                           "under this criteria set and show who would move."),
    public_key: Optional[Path] = typer.Option(None, "--public-key", help="Require a signature by this key "
                                              "(the .pub file of `cchc keygen`)."),
    items: bool = typer.Option(False, "--items", help="With --against: list every item that changes too."),
) -> None:
    """Re-run a bundle from its own bytes: exit 0 when every decision and total is reproduced,
    1 with an item-level diff when not, 2 when the bundle is damaged or altered."""
    from engine.bundle import load_public_key, read_bundle_file
    from engine.replay import replay as run_replay, what_if
    from rules import get_evaluator

    b = read_bundle_file(bundle, public_key=load_public_key(public_key) if public_key else None)
    _bundle_header(bundle, b)
    evaluator = get_evaluator(engine or b.engine)
    if against is not None:
        try:
            w = what_if(b, against, evaluator)
        except InputError as exc:
            if any(p.file.startswith("inputs/") for p in exc.problems):
                err.print(f"the recorded evidence does not fit the criteria set {against}:", markup=False,
                          highlight=False)
            raise
        _print_what_if(w, items)
        return
    report = run_replay(b, evaluator)
    now = report.versions
    changed = [f"{k} {report.recorded_versions.get(k)} → {now[k]}" for k in now
               if report.recorded_versions.get(k) != now[k]]
    if changed:
        out.print(f"  note: replaying with other versions: {', '.join(changed)}", markup=False, highlight=False)
    c = report.comparison
    if c.identical:
        out.print(f"identical: the {report.engine} engine reproduces every decision and total of the "
                  f"{report.recorded_engine} run ({c.units} unit(s), {c.decisions} decisions).",
                  markup=False, highlight=False)
        return
    out.print(f"DIFFERS: the {report.engine} engine does not reproduce the recorded results "
              f"({len(c.differences)} difference(s), {c.units} unit(s) compared):", markup=False, highlight=False)
    for d in c.differences:
        out.print(f"  {d.text()}", markup=False, highlight=False)
    raise typer.Exit(EXIT_DIFFERS)


def _print_what_if(w, items: bool) -> None:
    def pts(p):
        return "—" if p is None else display(p.points, vietnamese=True)

    def idx(p):
        return "—" if p is None or p.index is None else display(p.index, vietnamese=True)

    def rank(p):
        return "—" if p is None or p.rank is None else f"{p.rank}/{p.of}"

    def klass(p):
        return "—" if p is None or p.klass is None else p.klass

    out.print(f"what if: criteria set {w.new_criteria[0]} (sha256 {w.new_criteria[1][:12]}…) instead of "
              f"{w.recorded_criteria[0]} (sha256 {w.recorded_criteria[1][:12]}…), {w.engine} engine",
              markup=False, highlight=False)
    movers = w.movers()
    if movers:
        table = Table(title="Đơn vị thay đổi: ghi nhận → giả định (recorded → what-if)")
        for col, just in (("Mã đơn vị", "left"), ("Điểm", "right"), ("Chỉ số (%)", "right"),
                          ("Δ", "right"), ("Hạng", "left"), ("Xếp loại", "left")):
            table.add_column(col, justify=just)
        for m in movers:
            b, a = m.before, m.after
            delta = "—"
            if b is not None and a is not None and b.index is not None and a.index is not None:
                d = a.index - b.index
                delta = ("+" if d > 0 else "") + display(d, vietnamese=True)
            ranks = f"{rank(b)} → {rank(a)}"
            if b is not None and a is not None and b.group != a.group:  # the groups themselves changed
                ranks = f"{rank(b)} {b.group or '—'} → {rank(a)} {a.group or '—'}"
            table.add_row(m.unit_id, f"{pts(b)} → {pts(a)}", f"{idx(b)} → {idx(a)}", delta, ranks,
                          f"{klass(b)} → {klass(a)}")
        out.print(table)
    still = len(w.moves) - len(movers)
    out.print(f"{len(movers)} unit(s) would move in points, rank or class; {still} would not.",
              markup=False, highlight=False)
    if items:
        for d in w.items.differences:
            out.print(f"  {d.text('recorded', 'what-if')}", markup=False, highlight=False)
    elif w.items.differences:
        out.print(f"{len(w.items.differences)} item-level change(s); --items lists them.", markup=False)


@app.command()
@guarded
def keygen(
    key: Path = typer.Argument(..., help="Where to write the private key; the public key goes to KEY.pub."),
    force: bool = typer.Option(False, "--force", help="Replace existing key files."),
) -> None:
    """Make an Ed25519 key pair for signing bundles (`cchc score --sign KEY`)."""
    from engine.bundle import generate_key

    pub, fingerprint = generate_key(key, force=force)
    out.print(f"private key {key} (keep it secret), public key {pub}, fingerprint {fingerprint}",
              markup=False, highlight=False)


archive_app = typer.Typer(help="Keep bundles by year and unit in an SQLite archive.", no_args_is_help=True)
app.add_typer(archive_app, name="archive")
_DB_HELP = "The archive (default: $CCHC_ARCHIVE, else ~/.local/share/cchc/archive.sqlite)."


@archive_app.command("init")
@guarded
def archive_init(
    require_signer: List[Path] = typer.Option([], "--require-signer", help="Accept only bundles signed by "
                                              "one of these keys (.pub files of `cchc keygen`); repeatable."),
    db: Optional[Path] = typer.Option(None, "--db", envvar="CCHC_ARCHIVE", help=_DB_HELP),
) -> None:
    """Create an archive (or open one) and set the signers it requires."""
    from engine.archive import Archive

    with Archive(db) as archive:
        if require_signer:
            archive.require_signers(require_signer)
        required = archive.required_signers()
        out.print(f"archive {archive.path} (schema v{archive.version}); "
                  + (f"requires a signature by key {', '.join(required)}" if required else
                     "accepts unsigned bundles that replay"), markup=False, highlight=False)


@archive_app.command("add")
@guarded
def archive_add(
    bundles: List[Path] = typer.Argument(..., help="Bundle files; all are verified and replayed before any is "
                                         "stored."),
    db: Optional[Path] = typer.Option(None, "--db", envvar="CCHC_ARCHIVE", help=_DB_HELP),
) -> None:
    """Verify and replay bundles; store them with their unit results only if every one reproduces
    its recorded results (and is signed by a required key, when the archive requires one)."""
    from engine.archive import Archive, read_many
    from rules import get_evaluator

    read = read_many(bundles)
    with Archive(db) as archive:
        for path, added in zip(bundles, archive.add(read, get_evaluator, [str(p) for p in bundles])):
            state = "added as" if added.new else "already archived as"
            out.print(f"{path}: {state} #{added.id} (year {added.year}, {added.units} unit(s), "
                      f"sha256 {added.sha256[:12]}…)", markup=False, highlight=False)
        out.print(f"archive {archive.path}", markup=False, highlight=False)


@archive_app.command("list")
@guarded
def archive_list(
    year: Optional[int] = typer.Option(None, "--year", help="Only this year."),
    unit: Optional[str] = typer.Option(None, "--unit", help="Only bundles holding this unit (shows its results)."),
    db: Optional[Path] = typer.Option(None, "--db", envvar="CCHC_ARCHIVE", help=_DB_HELP),
) -> None:
    """List archived bundles (or, with --unit, that unit's results)."""
    from engine.archive import Archive

    with Archive(db, create=False) as archive:
        if unit is not None:
            _results_table(archive.results(year=year, unit=unit), f"Kết quả của {unit}")
            return
        rows = archive.bundles(year=year)
        table = Table(title=f"Archive {archive.path}")
        for col in ("#", "Năm", "Loại", "Bộ chỉ số", "Engine", "Đơn vị", "sha256", "Thêm lúc", "Kiểm"):
            table.add_column(col, no_wrap=col == "Bộ chỉ số")
        for r in rows:  # Kiểm: replay reproduced it (ok) or not yet verified (NO); signed (+ký)
            checked = ("ok" if r.verified else "NO") + (" +ký" if r.signer else "")
            table.add_row(str(r.id), str(r.year), r.kind, r.criteria_id, r.engine, str(r.units),
                          r.sha256[:12], r.added_at, checked)
        out.print(table)
        out.print(f"{len(rows)} bundle(s)")


def _results_table(results, title: str) -> None:
    table = Table(title=title)
    for col, just in (("Năm", "left"), ("#", "left"), ("Bộ chỉ số", "left"), ("Mã đơn vị", "left"),
                      ("Tên đơn vị", "left"), ("Điểm", "right"), ("Tối đa", "right"), ("Chỉ số (%)", "right")):
        table.add_column(col, justify=just)
    for r in results:
        table.add_row(str(r.year), str(r.bundle_id), r.criteria_id, r.unit_id, r.unit_name,
                      display(r.points, vietnamese=True), display(r.max, vietnamese=True),
                      "—" if r.index is None else display(r.index, vietnamese=True))
    out.print(table)
    out.print(f"{len(results)} result(s)")


@archive_app.command("show")
@guarded
def archive_show(
    what: str = typer.Argument(..., help="A bundle number (#) or a unit id."),
    year: Optional[int] = typer.Option(None, "--year", help="For a unit: only this year, with every item."),
    db: Optional[Path] = typer.Option(None, "--db", envvar="CCHC_ARCHIVE", help=_DB_HELP),
) -> None:
    """Show an archived bundle, or a unit's results over the years."""
    import json as _json

    from engine.archive import Archive

    with Archive(db, create=False) as archive:
        if what.lstrip("#").isdigit():
            b = archive.bundle(int(what.lstrip("#")))
            _bundle_header(f"#{what.lstrip('#')}", b)
            row = next(r for r in archive.bundles() if r.id == int(what.lstrip("#")))
            out.print(f"  archived {row.added_at}; {'verified' if row.verified else 'NOT verified'}: "
                      f"{row.verification}", markup=False, highlight=False)
            about = b.about
            out.print(f"  criteria {about.get('criteria_id')} ({about.get('title')}), year {about.get('year')}; "
                      f"inputs: " + "; ".join(f"{k}: {', '.join(v)}" for k, v in b.inputs.items()),
                      markup=False, highlight=False)
            _results_table(archive.results(bundle_id=int(what.lstrip("#"))), "Kết quả")
            return
        results = archive.results(unit=what, year=year)
        if not results:
            raise CchcError(f"no archived results for unit {what!r}" + (f" in {year}" if year else ""))
        _results_table(results, f"Kết quả của {what}")
        if year is not None:
            last = results[-1]
            doc = _json.loads(archive.bundle(last.bundle_id).part(f"results/units/{what}.json"))
            table = Table(title=f"{what}, {year} (bundle #{last.bundle_id})")
            for col in ("Mã", "Tiêu chí", "Trạng thái", "Điểm", "Tối đa", "Mức đạt"):
                table.add_column(col)
            for it in doc["items"]:
                table.add_row(it["code"], it["title"], it["status"], it["points_display"],
                              it["max"], it.get("condition") or it.get("note") or "")
            out.print(table)


@archive_app.command("verify")
@guarded
def archive_verify(
    db: Optional[Path] = typer.Option(None, "--db", envvar="CCHC_ARCHIVE", help=_DB_HELP),
) -> None:
    """Replay the bundles archived before bundles were replayed on the way in, and record the
    outcome (`round --archive` reads only verified bundles)."""
    from engine.archive import Archive
    from rules import get_evaluator

    with Archive(db, create=False) as archive:
        done = archive.verify(get_evaluator)
    for bid, ok, verdict in done:
        out.print(f"#{bid}: {verdict}", markup=False, highlight=False)
    out.print(f"{len(done)} bundle(s) replayed, {sum(1 for _, ok, _ in done if not ok)} do not reproduce "
              "their results", markup=False, highlight=False)
    if any(not ok for _, ok, _ in done):
        raise typer.Exit(EXIT_DIFFERS)


@archive_app.command("export")
@guarded
def archive_export(
    bundle_id: int = typer.Argument(..., help="The bundle number (#)."),
    to: Path = typer.Option(..., "--out", "-o", help="Where to write the bundle file."),
    db: Optional[Path] = typer.Option(None, "--db", envvar="CCHC_ARCHIVE", help=_DB_HELP),
) -> None:
    """Write an archived bundle back to a file (to replay it)."""
    from engine.archive import Archive
    from engine.bundle import write_bundle

    with Archive(db, create=False) as archive:
        write_bundle(to, archive.bundle_bytes(bundle_id))
    out.print(f"bundle #{bundle_id} → {to}", markup=False, highlight=False)


# ---------------------------------------------------------------- annual round (docs/annual-round.md)

@app.command("round")
@guarded
def round_(
    criteria: Path = typer.Argument(..., help="The criteria set (YAML)."),
    evidence: List[Path] = typer.Option(..., "--evidence", help="Units' own evidence: files or folders."),
    appraisal: List[Path] = typer.Option([], "--appraisal", help="Appraisal files or folders (YAML, CSV)."),
    survey: List[Path] = typer.Option([], "--survey", help="Survey data files or folders (YAML, CSV)."),
    previous: Optional[Path] = typer.Option(None, "--previous", help="Last year's round.json."),
    out_dir: Path = typer.Option(..., "--out", "-o", help="Folder for units/*.json and round.json."),
    engine: str = typer.Option("durable", "--engine", "-e", help="durable (rule engine) or reference."),
    workers: int = typer.Option(0, "--workers", "-j", help="Worker processes (0: one per core)."),
    rows: int = typer.Option(40, "--rows", help="How many units per group the terminal table shows."),
    archive: Optional[Path] = typer.Option(None, "--archive", help="Take last year's results from this "
                                           "archive (instead of --previous)."),
    previous_year: Optional[int] = typer.Option(None, "--previous-year", help="With --archive: the year to "
                                                "compare with (default: the criteria set's year − 1)."),
    bundle: Optional[Path] = typer.Option(None, "--bundle", help="Where to write the replay bundle "
                                          "(default: OUT/bundle.cchc)."),
    sign: Optional[Path] = typer.Option(None, "--sign", help="Sign the bundle with this Ed25519 key "
                                        "(made by `cchc keygen`)."),
    max_cited_mb: Optional[int] = typer.Option(None, "--max-cited-mb", help=_MAX_CITED_HELP),
) -> None:
    """Score a whole province's round: self-assessment, survey, appraisal, ranking per group."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from engine.bundle import max_cited_size

    from engine.round import default_workers, round_files, run_round
    from rules import get_evaluator

    get_evaluator(engine)  # an unknown engine is reported before any work
    max_cited = max_cited_size(max_cited_mb)
    cs = load_criteria(criteria)
    previous_folder = _previous_from_archive(archive, previous_year, previous, cs)  # kept until the run ends
    if previous_folder is not None:
        previous = next(Path(previous_folder.name).iterdir())
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=err, transient=True, disable=not err.is_terminal)
    phases = {"evidence": "Đọc tài liệu kiểm chứng (tệp)", "units": "Chấm điểm (đơn vị)"}
    with progress:
        task = progress.add_task(phases["evidence"], total=None)
        result = run_round(cs, evidence, factory=get_evaluator, engine=engine, survey_paths=survey,
                           appraisal_paths=appraisal, previous_path=previous,
                           workers=workers or default_workers(),
                           progress=lambda phase, done, total: progress.update(
                               task, description=phases[phase], completed=done, total=total))
    for w in result.warnings:
        err.print(w, markup=False, highlight=False)
    files = round_files(result)
    bundle_path, digest = _round_bundle(out_dir, files, result, criteria, evidence, appraisal, survey, previous,
                                        bundle, sign, max_cited)
    _round_table(result, rows)
    out.print(f"{len(result.units)} unit(s) ({result.engine} engine) → {out_dir}/units/*.json, {out_dir}/round.json",
              markup=False, highlight=False)
    out.print(f"bundle {bundle_path} (sha256 {digest}{', signed' if sign else ''}): replay it with `cchc replay`",
              markup=False, highlight=False)


def _previous_from_archive(archive: Optional[Path], previous_year: Optional[int], previous: Optional[Path], cs):
    """Last year's results from the archive, written as a round summary `previous-<year>.json` in a
    temporary folder (so that the round's bundle carries them as its `previous` input)."""
    import tempfile

    from engine.archive import previous_round_json

    if archive is None:
        if previous_year is not None:
            raise CchcError("--previous-year goes with --archive")
        return None
    if previous is not None:
        raise CchcError("give last year's results either with --previous or with --archive, not both")
    year = previous_year if previous_year is not None else cs.year - 1
    data = previous_round_json(archive, year + 1)
    if data is None:
        raise CchcError(f"the archive {archive} holds no results of {year}")
    folder = tempfile.TemporaryDirectory(prefix="cchc-previous-")
    (Path(folder.name) / f"previous-{year}.json").write_bytes(data)
    return folder


def _round_bundle(out_dir, files, result, criteria, evidence, appraisal, survey, previous, bundle, sign, max_cited):
    """Write the round's results and its replay bundle (kind `round`), as `score` does."""
    from engine.bundle import BUNDLE_NAME, sha256, write_run
    from engine.round import round_bundle

    path = bundle or out_dir / BUNDLE_NAME
    data = round_bundle(criteria, evidence, result, files, survey_paths=survey, appraisal_paths=appraisal,
                        previous_path=previous, key=sign, max_cited=max_cited)
    write_run(out_dir, files, path, data, command="round")
    return path, sha256(data)


def _round_table(result, rows: int) -> None:
    def change(st) -> str:
        if st.yoy == "new":
            return "mới"
        c = st.index_change
        r = st.rank_change
        text = "" if c is None else ("+" if c > 0 else "") + display(c, vietnamese=True)
        if r:
            text += f" ({'↑' if r > 0 else '↓'}{abs(r)})"
        return text or "—"

    for g in list(result.ranking.groups) + ([None] if result.ranking.ungrouped else []):
        standings = g.standings if g else result.ranking.ungrouped
        title = g.group.label if g else "Không thuộc nhóm xếp hạng (ungrouped)"
        table = Table(title=f"{title} — {result.period}")
        for col, just in (("Hạng", "right"), ("Mã đơn vị", "left"), ("Tên đơn vị", "left"),
                          ("Tự chấm (%)", "right"), ("Thẩm định (%)", "right"), ("Xếp loại", "left"),
                          ("So với năm trước", "right")):
            table.add_column(col, justify=just)
        for st in standings[:rows]:
            s = st.score
            table.add_row(str(st.rank) if st.rank else "—", s.unit_id, s.name,
                          display(s.self_index, vietnamese=True) if s.self_index is not None else "—",
                          display(s.index, vietnamese=True) if s.index is not None else "—",
                          st.klass or "—", change(st))
        out.print(table)
        if len(standings) > rows:
            out.print(f"… and {len(standings) - rows} more unit(s) in round.json")
    if result.ranking.vanished:
        out.print("Có trong kỳ trước, không có trong kỳ này: "
                  + ", ".join(u.unit_id for u in result.ranking.vanished), markup=False, highlight=False)


@app.command()
@guarded
def midyear(
    criteria: Path = typer.Argument(..., help="The criteria set (YAML): its items are the annual targets."),
    evidence: List[Path] = typer.Argument(..., help="Year-to-date evidence files or folders."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Date of the evidence, YYYY-MM-DD."),
    elapsed: Optional[str] = typer.Option(None, "--elapsed", help="Share of the year elapsed, e.g. 4/12."),
    out_dir: Optional[Path] = typer.Option(None, "--out", "-o", help="Folder for midyear.json."),
) -> None:
    """Mid-year check: each target on track or at risk, with the value the current pace reaches."""
    from engine.midyear import check_targets, elapsed_from, midyear_json
    from engine.results import dumps

    period = elapsed_from(as_of, elapsed)
    cs = load_criteria(criteria)
    ev = load_evidence(evidence, cs)
    for w in ev.warnings:
        err.print(str(w), markup=False, highlight=False)
    units = check_targets(cs, ev.records, period)
    if out_dir is not None:
        write_outputs(out_dir, {"midyear.json": dumps(midyear_json(cs, units, period))}, command="midyear")
    labels = {"on_track": "đúng tiến độ", "at_risk": "có nguy cơ", "no_data": "chưa có số liệu"}
    table = Table(title=f"{cs.title} — kiểm tra giữa kỳ ({display(period.fraction * 100, vietnamese=True)} % của năm)")
    for col, just in (("Đơn vị", "left"), ("Mã", "left"), ("Tiêu chí", "left"), ("Hiện tại", "right"),
                      ("Dự kiến cả năm", "right"), ("Mục tiêu", "left"), ("Tình trạng", "left")):
        table.add_column(col, justify=just)
    for u in units:
        for c in u.checks:
            table.add_row(u.unit_id, c.code, c.title,
                          display(c.value, vietnamese=True) if c.value is not None else "—",
                          display(c.projected, vietnamese=True) if c.projected is not None else "—",
                          c.target, labels[c.status])
    out.print(table)
    at_risk = sum(u.count("at_risk") for u in units)
    out.print(f"{len(units)} unit(s), {at_risk} target(s) at risk"
              + (f" → {out_dir}/midyear.json" if out_dir is not None else ""), markup=False, highlight=False)


# ---------------------------------------------------------------- intake workbook (reports/intake.py)

@app.command()
@guarded
def template(
    criteria: Path = typer.Argument(..., help="The criteria set the workbook is for."),
    out_file: Path = typer.Option(..., "--out", "-o", help="The workbook to write (.xlsx)."),
    unit: Optional[str] = typer.Option(None, "--unit", help="Pre-fill for this unit id."),
    name: Optional[str] = typer.Option(None, "--name", help="The unit's name (else from --previous)."),
    unit_type: Optional[str] = typer.Option(None, "--type", help="The unit's type id (else from --previous)."),
    previous: Optional[Path] = typer.Option(None, "--previous",
                                            help="Last year's unit result (values shown) or round.json (unit only)."),
) -> None:
    """Excel intake workbook (phiếu nhập số liệu) for a criteria set: what an agency fills and scores."""
    from reports.intake import intake_unit, intake_workbook

    if out_file.suffix.lower() != ".xlsx":
        raise CchcError(f"--out {out_file}: the workbook must be an .xlsx file")
    cs = load_criteria(criteria)
    who, values = intake_unit(cs, unit, name, unit_type, previous)
    write_file(out_file, intake_workbook(cs, who, values))
    out.print(f"{out_file}", markup=False, highlight=False)


# ---------------------------------------------------------------- reports (reports/)

report_app = typer.Typer(help="Báo cáo: bảng tự đánh giá, chấm điểm của đơn vị và báo cáo tổng hợp của tỉnh "
                              "(HTML, Markdown, Excel, Word, PDF).", no_args_is_help=True)
app.add_typer(report_app, name="report")
_FORMAT_HELP = "html, md, xlsx, docx, pdf, both (html and md), all, or several joined by commas (xlsx,docx,pdf)."
_PROFILE_HELP = "Province profile (YAML: issuing body, signer, place), e.g. profiles/tien-giang.yaml."
_TEMPLATES_HELP = "A folder of the province's own templates (same names), looked up before the shipped ones."
_DATE_HELP = "Date printed on the report (YYYY-MM-DD or dd/mm/yyyy); without it the date line is left blank."


@report_app.command("unit")
@guarded
def report_unit(
    results: List[Path] = typer.Argument(..., help="Unit results (units/*.json) or folders of them."),
    criteria: Path = typer.Option(..., "--criteria", "-c", help="The criteria set the results were scored with."),
    out_dir: Path = typer.Option(Path("reports/units"), "--out", "-o", help="Folder for the reports."),
    fmt: str = typer.Option("html", "--format", "-f", help=_FORMAT_HELP),
    templates: Optional[Path] = typer.Option(None, "--templates", help=_TEMPLATES_HELP),
    date: Optional[str] = typer.Option(None, "--date", help=_DATE_HELP),
    profile: Optional[Path] = typer.Option(None, "--profile", help=_PROFILE_HELP),
) -> None:
    """Self-assessment form per unit (bảng tự đánh giá, chấm điểm) with its gap analysis."""
    import reports

    files = reports.unit_report_files(results, criteria, kinds=reports.formats(fmt), templates=templates,
                                      report_date=reports.parse_report_date(date), profile=profile)
    write_outputs(out_dir, files, command="report unit")
    out.print(f"{len(files)} report file(s) → {out_dir}/", markup=False, highlight=False)


@report_app.command("province")
@guarded
def report_province(
    source: Path = typer.Argument(..., help="round.json (or its folder), or a folder of unit results."),
    out_dir: Path = typer.Option(Path("reports/province"), "--out", "-o", help="Folder for the report."),
    criteria: Optional[Path] = typer.Option(None, "--criteria", "-c",
                                            help="The criteria set (needed for a folder of unit results)."),
    previous: Optional[Path] = typer.Option(None, "--previous",
                                            help="Last year's round.json, for a folder of unit results."),
    fmt: str = typer.Option("html", "--format", "-f", help=_FORMAT_HELP),
    templates: Optional[Path] = typer.Option(None, "--templates", help=_TEMPLATES_HELP),
    date: Optional[str] = typer.Option(None, "--date", help=_DATE_HELP),
    profile: Optional[Path] = typer.Option(None, "--profile", help=_PROFILE_HELP),
) -> None:
    """Province summary: ranking per group, class counts, chart of indices, changes since last year."""
    import reports

    files = reports.province_report_files(source, criteria=criteria, previous=previous,
                                          kinds=reports.formats(fmt), templates=templates,
                                          report_date=reports.parse_report_date(date), profile=profile)
    write_outputs(out_dir, files, command="report province")
    out.print(f"{len(files)} report file(s) → {out_dir}/", markup=False, highlight=False)


@app.command()
@guarded
def serve(
    data: Path = typer.Option(Path("cchc-data"), "--data", help="Data folder: the database (SQLite unless "
                              "DATABASE_URL is set), uploaded files, the secret key."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    demo: bool = typer.Option(False, "--demo", help="Load the example province into an empty data folder "
                              "and print fresh passwords once."),
    threads: int = typer.Option(8, "--threads", help="Worker threads of the web server."),
    processes: int = typer.Option(1, "--processes", help="Server processes sharing the port (each with "
                                  "--threads threads): more cores serve more saves at once."),
) -> None:
    """The scoring workspace: a web application where each unit self-scores on the same engine."""
    from web.cchcweb.server import run

    if processes < 1:
        raise CchcError("--processes must be at least 1")
    run(data, host, port, demo=demo, threads=threads, processes=processes,
        echo=lambda line: out.print(line, markup=False, highlight=False))


audit_app = typer.Typer(help="The workspace's audit log (every action, hash-chained).", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
@guarded
def audit_verify(
    data: Path = typer.Option(Path("cchc-data"), "--data", help="The workspace's data folder (its database, "
                              "unless DATABASE_URL is set)."),
) -> None:
    """Recompute the audit log's hash chain; exit 2 naming the first entry edited or deleted."""
    from web.cchcweb.server import setup

    if not data.is_dir():
        raise CchcError(f"{data}: no workspace data folder here")
    setup(data)
    from web.workspace.audit import verify

    verdict = verify()
    if not verdict.ok:
        raise CchcError(f"audit log: {verdict.problem} (entries 1–{verdict.bad_seq - 1} verify)")
    out.print(f"audit log verified: {verdict.entries} entries, head {verdict.head}", markup=False, highlight=False)


def main() -> None:  # pragma: no cover - console entry alias
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
