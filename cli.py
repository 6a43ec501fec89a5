"""`cchc`: score the PAR Index (Chỉ số CCHC) from evidence."""
from __future__ import annotations

import os
import sys
from fractions import Fraction
from pathlib import Path
from typing import List, Optional

from engine.i18n import _, install_for_libraries, moment, ngettext, num

install_for_libraries()  # before typer and click look up their own texts (help, usage errors)

import typer  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from engine import load_criteria, load_evidence, score as score_units  # noqa: E402
from engine.archive import NotReproducedError  # noqa: E402
from engine.errors import CchcError, EngineError, IncompleteEvaluationError, InputError  # noqa: E402
from engine.outdir import write_file, write_outputs  # noqa: E402
from engine.results import result_files  # noqa: E402
from engine.yamlio import load_yaml  # noqa: E402

app = typer.Typer(help=_("Score the Public Administration Reform index (Chỉ số CCHC, PAR Index) from evidence."),
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
            err.print(p.text(), markup=False, highlight=False)
        n = len([p for p in exc.problems if p.severity == "error"])
        err.print(ngettext("{n} problem found.", "{n} problems found.", n).format(n=n), markup=False)
    else:
        err.print(_("error: {message}").format(message=exc), markup=False, highlight=False)
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
            err.print(_("interrupted"))
            raise typer.Exit(130) from None
        except Exception as exc:  # noqa: BLE001 - last line of defence for users
            if os.environ.get("CCHC_DEBUG"):
                raise
            err.print(_("internal error: {kind}: {message} (set CCHC_DEBUG=1 for details)").format(
                kind=type(exc).__name__, message=exc), markup=False, highlight=False)
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


def _show_version(value: bool) -> None:
    if value:
        from engine.bundle import versions

        v = versions()
        out.print(_("cchc {cchc} (durable_rules {durable_rules}, Python {python})").format(**v),
                  markup=False, highlight=False)
        raise typer.Exit()


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_show_version, is_eager=True,
                                       help=_("Show the version and exit."))) -> None:
    pass


def _warn(problems) -> None:
    """Print warnings (consistency checks between figures) in the reader's language."""
    for w in problems:
        err.print(w.text(), markup=False, highlight=False)


@app.command(help=_("Check criteria sets and evidence; report every problem as file:line:col."))
@guarded
def validate(
    files: List[Path] = typer.Argument(..., help=_("Criteria sets and evidence files (or folders).")),
    criteria: Optional[Path] = typer.Option(None, "--criteria", "-c",
                                            help=_("Criteria set to check evidence against.")),
) -> None:
    from engine.errors import Problem

    problems: list[Problem] = []
    crit_files = [f for f in files if f.is_file() and _is_criteria(f)]
    evidence = [f for f in files if f not in crit_files]
    for f in files:
        if not f.exists():
            problems.append(Problem(str(f), message=_("file not found")))
    evidence = [f for f in evidence if f.exists()]
    loaded = {}
    for f in dict.fromkeys(([criteria] if criteria else []) + crit_files):  # each file once
        try:
            loaded[f] = load_criteria(f)
            out.print(_("{file}: ok — criteria set {id}, {n} sub-criteria").format(
                file=f, id=loaded[f].id, n=len(loaded[f].sub_criteria())), markup=False, highlight=False)
        except InputError as exc:
            problems += exc.problems
    if evidence:
        against = criteria or (crit_files[0] if len(crit_files) == 1 else None)
        if against is None:
            problems.append(Problem(str(evidence[0]), message=_("evidence is checked against a criteria set: "
                                                                "pass --criteria FILE (or exactly one criteria "
                                                                "file)")))
        elif against in loaded:
            try:
                ev = load_evidence(evidence, loaded[against])
                _warn(ev.warnings)
                out.print(_("evidence ok: {units} unit(s) in {files} file(s)").format(
                    units=len(ev.records), files=len(ev.files)), markup=False, highlight=False)
            except InputError as exc:
                problems += exc.problems
    if problems:
        raise InputError(problems)


_MAX_CITED_HELP = _("Cited files (scans, PDFs) above this many MiB are kept out of the bundle, recorded by "
                    "sha256 only (default 50, or $CCHC_MAX_CITED_MB).")
_CRITERIA_HELP = _("The criteria set (YAML).")
_ENGINE_HELP = _("durable (rule engine) or reference.")
_BUNDLE_HELP = _("Where to write the replay bundle (default: OUT/bundle.cchc).")
_SIGN_HELP = _("Sign the bundle with this Ed25519 key (made by `cchc keygen`).")


@app.command(help=_("Score units: one JSON result per unit, a summary, a replay bundle, and a table on the "
                    "terminal."))
@guarded
def score(
    criteria: Path = typer.Argument(..., help=_CRITERIA_HELP),
    evidence: List[Path] = typer.Argument(..., help=_("Evidence files or folders (YAML, CSV, Excel).")),
    out_dir: Path = typer.Option(Path("out"), "--out", "-o", help=_("Folder for the JSON results.")),
    engine: str = typer.Option("durable", "--engine", "-e", help=_ENGINE_HELP),
    rows: int = typer.Option(40, "--rows", help=_("How many units the terminal table shows.")),
    bundle: Optional[Path] = typer.Option(None, "--bundle", help=_BUNDLE_HELP),
    sign: Optional[Path] = typer.Option(None, "--sign", help=_SIGN_HELP),
    max_cited_mb: Optional[int] = typer.Option(None, "--max-cited-mb", help=_MAX_CITED_HELP),
) -> None:
    from engine.bundle import max_cited_size, recording_reads
    from rules import get_evaluator

    evaluator = get_evaluator(engine)
    max_cited = max_cited_size(max_cited_mb)
    cs = load_criteria(criteria)
    with recording_reads() as reads:  # every file read goes into the bundle
        ev = load_evidence(evidence, cs)
    _warn(ev.warnings)
    results = score_units(cs, ev, evaluator)
    files = result_files(cs, results, evaluator.name, [str(w) for w in ev.warnings])
    from engine.bundle import BUNDLE_NAME, sha256, write_run
    from engine.replay import score_bundle

    bundle_bytes = score_bundle(criteria, evidence, cs, ev, files, evaluator.name, key=sign, reads=reads,
                                max_cited=max_cited)
    write_run(out_dir, files, bundle or out_dir / BUNDLE_NAME, bundle_bytes, command="score")
    _table(cs, results, rows)
    decided = sum(len(r.decisions) for r in results)
    out.print(_("{units} unit(s), {decisions} decisions ({engine} engine) → {out}/units/*.json, {out}/summary.json")
              .format(units=len(results), decisions=decided, engine=evaluator.name, out=out_dir),
              markup=False, highlight=False)
    _bundle_line(bundle or out_dir / BUNDLE_NAME, sha256(bundle_bytes), sign)


def _bundle_line(path: Path, digest: str, sign: Optional[Path]) -> None:
    text = _("bundle {path} (sha256 {digest}, signed): replay it with `cchc replay`") if sign else \
        _("bundle {path} (sha256 {digest}): replay it with `cchc replay`")
    out.print(text.format(path=path, digest=digest), markup=False, highlight=False)


def _table(cs, results, rows: int) -> None:
    table = Table(title=cs.title, show_lines=False)
    for col, just in ((_("Unit id"), "left"), (_("Unit name"), "left"), (_("Type"), "left"),
                      (_("Points"), "right"), (_("Max"), "right"), (_("Index (%)"), "right"),
                      (_("Missing evidence"), "right")):
        table.add_column(col, justify=just)
    types = {t.id: t.label for t in cs.unit_types}
    for r in results[:rows]:
        missing = sum(1 for d in r.decisions if d.status in ("missing_evidence", "no_matching_band"))
        idx = r.total.index
        table.add_row(r.unit_id, r.unit_name, types.get(r.unit_type, r.unit_type), num(r.total.points),
                      num(r.total.max), num(idx) if idx is not None else "—", str(missing))
    out.print(table)
    if len(results) > rows:
        out.print(_("… and {n} more unit(s) in the JSON results").format(n=len(results) - rows))


# ---------------------------------------------------------------- replay, keygen, archive

def _bundle_header(path, b) -> None:
    v = b.versions
    signed = _("signed by key {key}").format(key=b.signer) if b.signer else _("not signed")
    kinds = {"score": _("scoring of units"), "round": _("annual round")}
    out.print(_("bundle {path}: kind {kind}, sha256 {digest}").format(path=path, kind=kinds.get(b.kind, b.kind),
                                                                     digest=b.sha256), markup=False, highlight=False)
    out.print(_("  recorded with the {engine} engine, cchc {cchc}, durable_rules {durable_rules}, Python {python}; "
                "{parts} parts verified; {signed}").format(
                    engine=b.engine, cchc=v.get("cchc"), durable_rules=v.get("durable_rules"), python=v.get("python"),
                    parts=len(b.parts), signed=signed), markup=False, highlight=False)
    if b.unpacked:
        out.print(_("  {n} cited file(s) above the cited-file limit are recorded by sha256 only, not packed: {files}")
                  .format(n=len(b.unpacked), files=", ".join(b.unpacked)), markup=False, highlight=False)


@app.command(help=_("Re-run a bundle from its own bytes: exit 0 when every decision and total is reproduced, "
                    "1 with an item-level diff when not, 2 when the bundle is damaged or altered."))
@guarded
def replay(
    bundle: Path = typer.Argument(..., help=_("A bundle written by `cchc score` (or taken from the archive).")),
    engine: Optional[str] = typer.Option(None, "--engine", "-e",
                                         help=_("durable or reference (default: the engine the bundle "
                                                "recorded).")),
    against: Optional[Path] = typer.Option(None, "--against", help=_("What-if: re-score the recorded evidence "
                                                                     "under this criteria set and show who would "
                                                                     "move.")),
    public_key: Optional[Path] = typer.Option(None, "--public-key", help=_("Require a signature by this key "
                                                                           "(the .pub file of `cchc keygen`).")),
    items: bool = typer.Option(False, "--items", help=_("With --against: list every item that changes too.")),
) -> None:
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
                err.print(_("the recorded evidence does not fit the criteria set {criteria}:").format(
                    criteria=against), markup=False, highlight=False)
            raise
        _print_what_if(w, items)
        return
    report = run_replay(b, evaluator)
    now = report.versions
    changed = [f"{k} {report.recorded_versions.get(k)} → {now[k]}" for k in now
               if report.recorded_versions.get(k) != now[k]]
    if changed:
        out.print(_("  note: replaying with other versions: {versions}").format(versions=", ".join(changed)),
                  markup=False, highlight=False)
    c = report.comparison
    if c.identical:
        out.print(_("identical: the {engine} engine reproduces every decision and total of the {recorded} run "
                    "({units} unit(s), {decisions} decisions).").format(
                        engine=report.engine, recorded=report.recorded_engine, units=c.units, decisions=c.decisions),
                  markup=False, highlight=False)
        return
    out.print(_("DIFFERS: the {engine} engine does not reproduce the recorded results ({n} difference(s), "
                "{units} unit(s) compared):").format(engine=report.engine, n=len(c.differences), units=c.units),
              markup=False, highlight=False)
    for d in c.differences:
        out.print(f"  {d.text()}", markup=False, highlight=False)
    raise typer.Exit(EXIT_DIFFERS)


def _print_what_if(w, items: bool) -> None:
    def pts(p):
        return "—" if p is None else num(p.points)

    def idx(p):
        return "—" if p is None or p.index is None else num(p.index)

    def rank(p):
        return "—" if p is None or p.rank is None else f"{p.rank}/{p.of}"

    def klass(p):
        return "—" if p is None or p.klass is None else p.klass

    out.print(_("what if: criteria set {new} (sha256 {new_sha}…) instead of {old} (sha256 {old_sha}…), "
                "{engine} engine").format(new=w.new_criteria[0], new_sha=w.new_criteria[1][:12],
                                          old=w.recorded_criteria[0], old_sha=w.recorded_criteria[1][:12],
                                          engine=w.engine), markup=False, highlight=False)
    movers = w.movers()
    if movers:
        table = Table(title=_("Units that change: recorded → what-if"))
        for col, just in ((_("Unit id"), "left"), (_("Points"), "right"), (_("Index (%)"), "right"),
                          ("Δ", "right"), (_("Rank"), "left"), (_("Class"), "left")):
            table.add_column(col, justify=just)
        for m in movers:
            b, a = m.before, m.after
            delta = "—"
            if b is not None and a is not None and b.index is not None and a.index is not None:
                d = a.index - b.index
                delta = ("+" if d > 0 else "") + num(d)
            ranks = f"{rank(b)} → {rank(a)}"
            if b is not None and a is not None and b.group != a.group:  # the groups themselves changed
                ranks = f"{rank(b)} {b.group or '—'} → {rank(a)} {a.group or '—'}"
            table.add_row(m.unit_id, f"{pts(b)} → {pts(a)}", f"{idx(b)} → {idx(a)}", delta, ranks,
                          f"{klass(b)} → {klass(a)}")
        out.print(table)
    still = len(w.moves) - len(movers)
    out.print(_("{moved} unit(s) would move in points, rank or class; {still} would not.").format(
        moved=len(movers), still=still), markup=False, highlight=False)
    if items:
        for d in w.items.differences:
            out.print("  " + d.text(_("recorded"), _("what-if")), markup=False, highlight=False)
    elif w.items.differences:
        out.print(_("{n} item-level change(s); --items lists them.").format(n=len(w.items.differences)),
                  markup=False)


@app.command(help=_("Make an Ed25519 key pair for signing bundles (`cchc score --sign KEY`)."))
@guarded
def keygen(
    key: Path = typer.Argument(..., help=_("Where to write the private key; the public key goes to KEY.pub.")),
    force: bool = typer.Option(False, "--force", help=_("Replace existing key files.")),
) -> None:
    from engine.bundle import generate_key

    pub, fingerprint = generate_key(key, force=force)
    out.print(_("private key {key} (keep it secret), public key {pub}, fingerprint {fingerprint}").format(
        key=key, pub=pub, fingerprint=fingerprint),
              markup=False, highlight=False)


archive_app = typer.Typer(help=_("Keep bundles by year and unit in an SQLite archive."), no_args_is_help=True)
app.add_typer(archive_app, name="archive")
_DB_HELP = _("The archive (default: $CCHC_ARCHIVE, else ~/.local/share/cchc/archive.sqlite).")


@archive_app.command("init", help=_("Create an archive (or open one) and set the signers it requires."))
@guarded
def archive_init(
    require_signer: List[Path] = typer.Option([], "--require-signer", help=_("Accept only bundles signed by "
                                              "one of these keys (.pub files of `cchc keygen`); repeatable.")),
    db: Optional[Path] = typer.Option(None, "--db", envvar="CCHC_ARCHIVE", help=_DB_HELP),
) -> None:
    from engine.archive import Archive

    with Archive(db) as archive:
        if require_signer:
            archive.require_signers(require_signer)
        required = archive.required_signers()
        policy = (_("requires a signature by key {keys}").format(keys=", ".join(required)) if required else
                  _("accepts unsigned bundles that replay"))
        out.print(_("archive {path} (schema v{version}); {policy}").format(
            path=archive.path, version=archive.version, policy=policy), markup=False, highlight=False)


@archive_app.command("add", help=_("Verify and replay bundles; store them with their unit results only if every "
                                   "one reproduces its recorded results (and is signed by a required key, when "
                                   "the archive requires one)."))
@guarded
def archive_add(
    bundles: List[Path] = typer.Argument(..., help=_("Bundle files; all are verified and replayed before any is "
                                                     "stored.")),
    db: Optional[Path] = typer.Option(None, "--db", envvar="CCHC_ARCHIVE", help=_DB_HELP),
) -> None:
    from engine.archive import Archive, read_many
    from rules import get_evaluator

    read = read_many(bundles)
    with Archive(db) as archive:
        for path, added in zip(bundles, archive.add(read, get_evaluator, [str(p) for p in bundles])):
            state = (_("{path}: added as #{id} (year {year}, {units} unit(s), sha256 {digest}…)") if added.new else
                     _("{path}: already archived as #{id} (year {year}, {units} unit(s), sha256 {digest}…)"))
            out.print(state.format(path=path, id=added.id, year=added.year, units=added.units,
                                   digest=added.sha256[:12]), markup=False, highlight=False)
        out.print(_("archive {path}").format(path=archive.path), markup=False, highlight=False)


@archive_app.command("list", help=_("List archived bundles (or, with --unit, that unit's results)."))
@guarded
def archive_list(
    year: Optional[int] = typer.Option(None, "--year", help=_("Only this year.")),
    unit: Optional[str] = typer.Option(None, "--unit", help=_("Only bundles holding this unit (shows its "
                                                              "results).")),
    db: Optional[Path] = typer.Option(None, "--db", envvar="CCHC_ARCHIVE", help=_DB_HELP),
) -> None:
    from engine.archive import Archive

    with Archive(db, create=False) as archive:
        if unit is not None:
            _results_table(archive.results(year=year, unit=unit), _("Results of {unit}").format(unit=unit))
            return
        rows = archive.bundles(year=year)
        table = Table(title=_("Archive {path}").format(path=archive.path))
        criteria_col = _("Criteria set")
        for col in ("#", _("Year"), _("Kind"), criteria_col, _("Engine"), _("Units"), "sha256", _("Added"),
                    _("Checked")):
            table.add_column(col, no_wrap=col == criteria_col)
        for r in rows:  # checked: replay reproduced it (ok) or not yet verified (NO); signed (+signed)
            checked = ("ok" if r.verified else _("NO")) + (_(" +signed") if r.signer else "")
            table.add_row(str(r.id), str(r.year), r.kind, r.criteria_id, r.engine, str(r.units),
                          r.sha256[:12], moment(r.added_at), checked)
        out.print(table)
        out.print(_("{n} bundle(s)").format(n=len(rows)))


def _results_table(results, title: str) -> None:
    table = Table(title=title)
    for col, just in ((_("Year"), "left"), ("#", "left"), (_("Criteria set"), "left"), (_("Unit id"), "left"),
                      (_("Unit name"), "left"), (_("Points"), "right"), (_("Max"), "right"),
                      (_("Index (%)"), "right")):
        table.add_column(col, justify=just)
    for r in results:
        table.add_row(str(r.year), str(r.bundle_id), r.criteria_id, r.unit_id, r.unit_name,
                      num(r.points), num(r.max), "—" if r.index is None else num(r.index))
    out.print(table)
    out.print(_("{n} result(s)").format(n=len(results)))


@archive_app.command("show", help=_("Show an archived bundle, or a unit's results over the years."))
@guarded
def archive_show(
    what: str = typer.Argument(..., help=_("A bundle number (#) or a unit id.")),
    year: Optional[int] = typer.Option(None, "--year", help=_("For a unit: only this year, with every item.")),
    db: Optional[Path] = typer.Option(None, "--db", envvar="CCHC_ARCHIVE", help=_DB_HELP),
) -> None:
    import json as _json

    from engine.archive import Archive

    with Archive(db, create=False) as archive:
        if what.lstrip("#").isdigit():
            b = archive.bundle(int(what.lstrip("#")))
            _bundle_header(f"#{what.lstrip('#')}", b)
            row = next(r for r in archive.bundles() if r.id == int(what.lstrip("#")))
            state = (_("  archived {when}; verified: {verification}") if row.verified else
                     _("  archived {when}; NOT verified: {verification}"))
            out.print(state.format(when=moment(row.added_at), verification=row.verification),
                      markup=False, highlight=False)
            about = b.about
            out.print(_("  criteria {id} ({title}), year {year}; inputs: {inputs}").format(
                id=about.get("criteria_id"), title=about.get("title"), year=about.get("year"),
                inputs="; ".join(f"{k}: {', '.join(v)}" for k, v in b.inputs.items())),
                markup=False, highlight=False)
            _results_table(archive.results(bundle_id=int(what.lstrip("#"))), _("Results"))
            return
        results = archive.results(unit=what, year=year)
        if not results:
            raise CchcError((_("no archived results for unit {unit!r} in {year}") if year else
                             _("no archived results for unit {unit!r}")).format(unit=what, year=year))
        _results_table(results, _("Results of {unit}").format(unit=what))
        if year is not None:
            last = results[-1]
            doc = _json.loads(archive.bundle(last.bundle_id).part(f"results/units/{what}.json"))
            table = Table(title=_("{unit}, {year} (bundle #{id})").format(unit=what, year=year, id=last.bundle_id))
            for col in (_("Code"), _("Criterion"), _("Status"), _("Points"), _("Max"), _("Level reached")):
                table.add_column(col)
            statuses = {"scored": _("scored"), "not_applicable": _("not applicable"),
                        "missing_evidence": _("missing evidence"), "no_matching_band": _("no matching band")}
            for it in doc["items"]:
                points = "—" if it.get("points") is None else num(Fraction(it["points"]))
                table.add_row(it["code"], it["title"], statuses.get(it["status"], it["status"]), points,
                              num(Fraction(it["max"])), it.get("condition") or it.get("note") or "")
            out.print(table)


@archive_app.command("verify", help=_("Replay the bundles archived before bundles were replayed on the way in, "
                                      "and record the outcome (`round --archive` reads only verified bundles)."))
@guarded
def archive_verify(
    db: Optional[Path] = typer.Option(None, "--db", envvar="CCHC_ARCHIVE", help=_DB_HELP),
) -> None:
    from engine.archive import Archive
    from rules import get_evaluator

    with Archive(db, create=False) as archive:
        done = archive.verify(get_evaluator)
    for bid, ok, verdict in done:
        out.print(f"#{bid}: {verdict}", markup=False, highlight=False)
    out.print(_("{n} bundle(s) replayed, {bad} do not reproduce their results").format(
        n=len(done), bad=sum(1 for _bid, ok, _v in done if not ok)), markup=False, highlight=False)
    if any(not ok for _bid, ok, _v in done):
        raise typer.Exit(EXIT_DIFFERS)


@archive_app.command("export", help=_("Write an archived bundle back to a file (to replay it)."))
@guarded
def archive_export(
    bundle_id: int = typer.Argument(..., help=_("The bundle number (#).")),
    to: Path = typer.Option(..., "--out", "-o", help=_("Where to write the bundle file.")),
    db: Optional[Path] = typer.Option(None, "--db", envvar="CCHC_ARCHIVE", help=_DB_HELP),
) -> None:
    from engine.archive import Archive
    from engine.bundle import write_bundle

    with Archive(db, create=False) as archive:
        write_bundle(to, archive.bundle_bytes(bundle_id))
    out.print(_("bundle #{id} → {path}").format(id=bundle_id, path=to), markup=False, highlight=False)


# ---------------------------------------------------------------- annual round (docs/annual-round.md)

@app.command("round", help=_("Score a whole province's round: self-assessment, survey, appraisal, ranking per "
                             "group."))
@guarded
def round_(
    criteria: Path = typer.Argument(..., help=_CRITERIA_HELP),
    evidence: List[Path] = typer.Option(..., "--evidence", help=_("Units' own evidence: files or folders.")),
    appraisal: List[Path] = typer.Option([], "--appraisal", help=_("Appraisal files or folders (YAML, CSV).")),
    survey: List[Path] = typer.Option([], "--survey", help=_("Survey data files or folders (YAML, CSV).")),
    no_survey: bool = typer.Option(False, "--no-survey", help=_("Score without survey data: every survey item "
                                                                "is then missing evidence (said on the "
                                                                "terminal).")),
    previous: Optional[Path] = typer.Option(None, "--previous", help=_("Last year's round.json.")),
    out_dir: Path = typer.Option(..., "--out", "-o", help=_("Folder for units/*.json and round.json.")),
    engine: str = typer.Option("durable", "--engine", "-e", help=_ENGINE_HELP),
    workers: int = typer.Option(0, "--workers", "-j", help=_("Worker processes (0: one per core).")),
    rows: int = typer.Option(40, "--rows", help=_("How many units per group the terminal table shows.")),
    archive: Optional[Path] = typer.Option(None, "--archive", help=_("Take last year's results from this "
                                                                     "archive (instead of --previous).")),
    previous_year: Optional[int] = typer.Option(None, "--previous-year", help=_("With --archive: the year to "
                                                "compare with (default: the criteria set's year − 1).")),
    bundle: Optional[Path] = typer.Option(None, "--bundle", help=_BUNDLE_HELP),
    sign: Optional[Path] = typer.Option(None, "--sign", help=_SIGN_HELP),
    max_cited_mb: Optional[int] = typer.Option(None, "--max-cited-mb", help=_MAX_CITED_HELP),
) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from engine.bundle import max_cited_size

    from engine.round import default_workers, round_files, run_round
    from rules import get_evaluator

    get_evaluator(engine)  # an unknown engine is reported before any work
    max_cited = max_cited_size(max_cited_mb)
    cs = load_criteria(criteria)
    survey_items = _survey_items(cs, survey, no_survey)
    previous_folder = _previous_from_archive(archive, previous_year, previous, cs)  # kept until the run ends
    if previous_folder is not None:
        previous = next(Path(previous_folder.name).iterdir())
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=err, transient=True, disable=not err.is_terminal)
    phases = {"evidence": _("Reading evidence (files)"), "units": _("Scoring (units)")}
    with progress:
        task = progress.add_task(phases["evidence"], total=None)
        result = run_round(cs, evidence, factory=get_evaluator, engine=engine, survey_paths=survey,
                           appraisal_paths=appraisal, previous_path=previous,
                           workers=workers or default_workers(),
                           progress=lambda phase, done, total: progress.update(
                               task, description=phases[phase], completed=done, total=total))
    _warn(result.warnings)
    files = round_files(result)
    bundle_path, digest = _round_bundle(out_dir, files, result, criteria, evidence, appraisal, survey, previous,
                                        bundle, sign, max_cited)
    _round_table(result, rows)
    out.print(_("{units} unit(s) ({engine} engine) → {out}/units/*.json, {out}/round.json").format(
        units=len(result.units), engine=result.engine, out=out_dir), markup=False, highlight=False)
    _bundle_line(bundle_path, digest, sign)
    _missing_inputs(survey_items, appraisal, previous)


def _survey_items(cs, survey: List[Path], no_survey: bool) -> list[str]:
    """The criteria set's survey items; without survey data they are refused unless --no-survey
    says so (they would all score as missing evidence)."""
    items = sorted(s.code for s in cs.sub_criteria() if s.source == "survey")
    if survey and no_survey:
        raise CchcError(_("give either --survey or --no-survey, not both"))
    if items and not survey and not no_survey:
        raise CchcError(_("the criteria set {id} has {n} survey item(s) ({items}) scored from survey data: give "
                          "the survey data with --survey FILE_OR_FOLDER, or --no-survey to score them as "
                          "missing evidence").format(id=cs.id, n=len(items), items=", ".join(items)))
    return items if no_survey else []


def _missing_inputs(survey_items: list[str], appraisal: List[Path], previous: Optional[Path]) -> None:
    """Say which whole kind of input the round went without, so that no low score is a surprise."""
    if survey_items:
        out.print(_("no survey data (--no-survey): the {n} survey item(s) {items} are scored as missing evidence")
                  .format(n=len(survey_items), items=", ".join(survey_items)), markup=False, highlight=False)
    if not appraisal:
        out.print(_("no appraisal given (--appraisal): the appraised index is the self-assessed one"),
                  markup=False, highlight=False)
    if previous is None:
        out.print(_("no previous round given (--previous or --archive): no change since last year is shown"),
                  markup=False, highlight=False)


def _previous_from_archive(archive: Optional[Path], previous_year: Optional[int], previous: Optional[Path], cs):
    """Last year's results from the archive, written as a round summary `previous-<year>.json` in a
    temporary folder (so that the round's bundle carries them as its `previous` input)."""
    import tempfile

    from engine.archive import previous_round_json

    if archive is None:
        if previous_year is not None:
            raise CchcError(_("--previous-year goes with --archive"))
        return None
    if previous is not None:
        raise CchcError(_("give last year's results either with --previous or with --archive, not both"))
    year = previous_year if previous_year is not None else cs.year - 1
    data = previous_round_json(archive, year + 1)
    if data is None:
        raise CchcError(_("the archive {archive} holds no results of {year}").format(archive=archive, year=year))
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
            return _("new")
        c = st.index_change
        r = st.rank_change
        text = "" if c is None else ("+" if c > 0 else "") + num(c)
        if r:
            text += f" ({'↑' if r > 0 else '↓'}{abs(r)})"
        return text or "—"

    for g in list(result.ranking.groups) + ([None] if result.ranking.ungrouped else []):
        standings = g.standings if g else result.ranking.ungrouped
        title = g.group.label if g else _("Not in a ranking group")
        table = Table(title=f"{title} — {result.period}")
        for col, just in ((_("Rank"), "right"), (_("Unit id"), "left"), (_("Unit name"), "left"),
                          (_("Self-assessed (%)"), "right"), (_("Appraised (%)"), "right"), (_("Class"), "left"),
                          (_("Since last year"), "right")):
            table.add_column(col, justify=just)
        for st in standings[:rows]:
            s = st.score
            table.add_row(str(st.rank) if st.rank else "—", s.unit_id, s.name,
                          num(s.self_index) if s.self_index is not None else "—",
                          num(s.index) if s.index is not None else "—",
                          st.klass or "—", change(st))
        out.print(table)
        if len(standings) > rows:
            out.print(_("… and {n} more unit(s) in round.json").format(n=len(standings) - rows))
    if result.ranking.vanished:
        out.print(_("In the previous period, not in this one: {units}").format(
            units=", ".join(u.unit_id for u in result.ranking.vanished)), markup=False, highlight=False)


@app.command(help=_("Mid-year check: each target on track or at risk, with the value the current pace reaches."))
@guarded
def midyear(
    criteria: Path = typer.Argument(..., help=_("The criteria set (YAML): its items are the annual targets.")),
    evidence: List[Path] = typer.Argument(..., help=_("Year-to-date evidence files or folders.")),
    as_of: Optional[str] = typer.Option(None, "--as-of", help=_("Date of the evidence, YYYY-MM-DD or "
                                                                "dd/mm/yyyy.")),
    elapsed: Optional[str] = typer.Option(None, "--elapsed", help=_("Share of the year elapsed, e.g. 4/12, "
                                                                    "0,33 or 25%.")),
    out_dir: Optional[Path] = typer.Option(None, "--out", "-o", help=_("Folder for midyear.json.")),
) -> None:
    from engine.midyear import check_targets, elapsed_from, midyear_json
    from engine.results import dumps

    period = elapsed_from(as_of, elapsed)
    cs = load_criteria(criteria)
    ev = load_evidence(evidence, cs)
    _warn(ev.warnings)
    units = check_targets(cs, ev.records, period)
    if out_dir is not None:
        write_outputs(out_dir, {"midyear.json": dumps(midyear_json(cs, units, period))}, command="midyear")
    labels = {"on_track": _("on track"), "at_risk": _("at risk"), "no_data": _("no data yet")}
    table = Table(title=_("{title} — mid-year check ({share} of the year)").format(
        title=cs.title, share=num(period.fraction * 100) + " %"))
    for col, just in ((_("Unit"), "left"), (_("Code"), "left"), (_("Criterion"), "left"), (_("Now"), "right"),
                      (_("Whole year at this pace"), "right"), (_("Target"), "left"), (_("Status"), "left")):
        table.add_column(col, justify=just)
    for u in units:
        for c in u.checks:
            table.add_row(u.unit_id, c.code, c.title,
                          num(c.value) if c.value is not None else "—",
                          num(c.projected) if c.projected is not None else "—",
                          c.target, labels[c.status])
    out.print(table)
    at_risk = sum(u.count("at_risk") for u in units)
    summary = _("{units} unit(s), {at_risk} target(s) at risk").format(units=len(units), at_risk=at_risk)
    out.print(summary + (f" → {out_dir}/midyear.json" if out_dir is not None else ""), markup=False,
              highlight=False)


# ---------------------------------------------------------------- intake workbook (reports/intake.py)

@app.command(help=_("Excel intake workbook (phiếu nhập số liệu) for a criteria set: what an agency fills and "
                    "scores."))
@guarded
def template(
    criteria: Path = typer.Argument(..., help=_("The criteria set the workbook is for.")),
    out_file: Path = typer.Option(..., "--out", "-o", help=_("The workbook to write (.xlsx).")),
    unit: Optional[str] = typer.Option(None, "--unit", help=_("Pre-fill for this unit id.")),
    name: Optional[str] = typer.Option(None, "--name", help=_("The unit's name (else from --previous).")),
    unit_type: Optional[str] = typer.Option(None, "--type", help=_("The unit's type id (else from --previous).")),
    previous: Optional[Path] = typer.Option(None, "--previous",
                                            help=_("Last year's unit result (values shown) or round.json (unit "
                                                   "only).")),
) -> None:
    from reports.intake import intake_unit, intake_workbook

    if out_file.suffix.lower() != ".xlsx":
        raise CchcError(_("--out {file}: the workbook must be an .xlsx file").format(file=out_file))
    cs = load_criteria(criteria)
    who, values = intake_unit(cs, unit, name, unit_type, previous)
    write_file(out_file, intake_workbook(cs, who, values))
    out.print(f"{out_file}", markup=False, highlight=False)


# ---------------------------------------------------------------- reports (reports/)

report_app = typer.Typer(help=_("Reports: a unit's self-assessment form (bảng tự đánh giá, chấm điểm) and the "
                                "province summary (HTML, Markdown, Excel, Word, PDF)."), no_args_is_help=True)
app.add_typer(report_app, name="report")
_FORMAT_HELP = _("html, md, xlsx, docx, pdf, both (html and md), all, or several joined by commas "
                 "(xlsx,docx,pdf).")
_PROFILE_HELP = _("Province profile (YAML: issuing body, signer, place), e.g. profiles/tien-giang.yaml.")
_TEMPLATES_HELP = _("A folder of the province's own templates (same names), looked up before the shipped ones.")
_DATE_HELP = _("Date printed on the report (YYYY-MM-DD or dd/mm/yyyy); without it the date line is left blank.")
_REPORTS_OUT_HELP = _("Folder for the reports.")


@report_app.command("unit", help=_("Self-assessment form per unit (bảng tự đánh giá, chấm điểm) with its gap "
                                   "analysis."))
@guarded
def report_unit(
    results: List[Path] = typer.Argument(..., help=_("Unit results (units/*.json) or folders of them.")),
    criteria: Path = typer.Option(..., "--criteria", "-c", help=_("The criteria set the results were scored "
                                                                  "with.")),
    out_dir: Path = typer.Option(Path("reports/units"), "--out", "-o", help=_REPORTS_OUT_HELP),
    fmt: str = typer.Option("html", "--format", "-f", help=_FORMAT_HELP),
    templates: Optional[Path] = typer.Option(None, "--templates", help=_TEMPLATES_HELP),
    date: Optional[str] = typer.Option(None, "--date", help=_DATE_HELP),
    profile: Optional[Path] = typer.Option(None, "--profile", help=_PROFILE_HELP),
) -> None:
    import reports

    files = reports.unit_report_files(results, criteria, kinds=reports.formats(fmt), templates=templates,
                                      report_date=reports.parse_report_date(date), profile=profile)
    write_outputs(out_dir, files, command="report unit")
    _reports_line(files, out_dir)


def _reports_line(files, out_dir: Path) -> None:
    out.print(_("{n} report file(s) → {out}/").format(n=len(files), out=out_dir), markup=False, highlight=False)


@report_app.command("province", help=_("Province summary: ranking per group, class counts, chart of indices, "
                                       "changes since last year."))
@guarded
def report_province(
    source: Path = typer.Argument(..., help=_("round.json (or its folder), or a folder of unit results.")),
    out_dir: Path = typer.Option(Path("reports/province"), "--out", "-o", help=_("Folder for the report.")),
    criteria: Optional[Path] = typer.Option(None, "--criteria", "-c",
                                            help=_("The criteria set (needed for a folder of unit results).")),
    previous: Optional[Path] = typer.Option(None, "--previous",
                                            help=_("Last year's round.json, for a folder of unit results.")),
    fmt: str = typer.Option("html", "--format", "-f", help=_FORMAT_HELP),
    templates: Optional[Path] = typer.Option(None, "--templates", help=_TEMPLATES_HELP),
    date: Optional[str] = typer.Option(None, "--date", help=_DATE_HELP),
    profile: Optional[Path] = typer.Option(None, "--profile", help=_PROFILE_HELP),
) -> None:
    import reports

    files = reports.province_report_files(source, criteria=criteria, previous=previous,
                                          kinds=reports.formats(fmt), templates=templates,
                                          report_date=reports.parse_report_date(date), profile=profile)
    write_outputs(out_dir, files, command="report province")
    _reports_line(files, out_dir)


@app.command(help=_("The scoring workspace: a web application where each unit self-scores on the same engine."))
@guarded
def serve(
    data: Path = typer.Option(Path("cchc-data"), "--data", help=_("Data folder: the database (SQLite unless "
                                                                  "DATABASE_URL is set), uploaded files, the "
                                                                  "secret key.")),
    host: str = typer.Option("127.0.0.1", "--host", help=_("Address to listen on.")),
    port: int = typer.Option(8000, "--port", help=_("Port to listen on.")),
    demo: bool = typer.Option(False, "--demo", help=_("Load the example province into an empty data folder "
                                                      "and print fresh passwords once.")),
    threads: int = typer.Option(8, "--threads", help=_("Worker threads of the web server.")),
    processes: int = typer.Option(1, "--processes", help=_("Server processes sharing the port (each with "
                                                           "--threads threads): more cores serve more saves at "
                                                           "once.")),
) -> None:
    from web.cchcweb.server import run

    if processes < 1:
        raise CchcError(_("--processes must be at least 1"))
    run(data, host, port, demo=demo, threads=threads, processes=processes,
        echo=lambda line: out.print(line, markup=False, highlight=False))


audit_app = typer.Typer(help=_("The workspace's audit log (every action, hash-chained)."), no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify", help=_("Recompute the audit log's hash chain; exit 2 naming the first entry edited "
                                    "or deleted."))
@guarded
def audit_verify(
    data: Path = typer.Option(Path("cchc-data"), "--data", help=_("The workspace's data folder (its database, "
                                                                  "unless DATABASE_URL is set).")),
) -> None:
    from web.cchcweb.server import setup

    if not data.is_dir():
        raise CchcError(_("{folder}: no workspace data folder here").format(folder=data))
    setup(data)
    from web.workspace.audit import verify

    verdict = verify()
    if not verdict.ok:
        raise CchcError(_("audit log: {problem} (entries 1–{last} verify)").format(
            problem=verdict.problem, last=verdict.bad_seq - 1))
    out.print(_("audit log verified: {entries} entries, head {head}").format(entries=verdict.entries,
                                                                             head=verdict.head),
              markup=False, highlight=False)


def main() -> None:  # pragma: no cover - console entry alias
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
