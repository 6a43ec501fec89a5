"""`cchc`: score the PAR Index (Chỉ số CCHC) from evidence.

This file maps each command to its options (commands/options.py), to what it does (commands/)
and to its exit code; the work is done by the library (engine/, reports/, web/)."""
from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

from commands import early

early.start(sys.argv, command_line=True, first_thing=True)  # a round's workers: their start-up beside ours

from commands.language import install_for_libraries  # noqa: E402
from engine.core.i18n import _, ngettext  # noqa: E402

install_for_libraries()  # before typer and click look up their own texts (help, usage errors)

import typer  # noqa: E402

from commands import audit, reports, round as annual, scoring, workspace  # noqa: E402
from commands import options as opt  # noqa: E402
from commands.option_values import PlainValuesGroup  # noqa: E402
from commands.console import Differs, err, say  # noqa: E402
from engine.core.errors import (CchcError, EngineError, IncompleteEvaluationError, InputError,  # noqa: E402
                                NotReproducedError)

app = typer.Typer(help=_("Score the Public Administration Reform index (Chỉ số CCHC, PAR Index) from evidence."),
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  cls=PlainValuesGroup)

# Exit codes, in one place: 0 ok; 1 a replay differs (or `archive add` refuses a bundle whose
# replay differs); 2 bad input (or a damaged bundle); 3 the engine could not decide every item;
# 4 an internal error; 130 interrupted.
EXIT_DIFFERS, EXIT_BAD_INPUT, EXIT_ENGINE, EXIT_INTERNAL, EXIT_INTERRUPTED = 1, 2, 3, 4, 130
EXIT_CODES: list[tuple[type[BaseException], int]] = [
    (Differs, EXIT_DIFFERS),
    (NotReproducedError, EXIT_DIFFERS),
    (InputError, EXIT_BAD_INPUT),
    (IncompleteEvaluationError, EXIT_ENGINE),
    (EngineError, EXIT_ENGINE),
    (CchcError, EXIT_BAD_INPUT),
    (KeyboardInterrupt, EXIT_INTERRUPTED),
]


def exit_code(exc: BaseException) -> int:
    return next((code for kind, code in EXIT_CODES if isinstance(exc, kind)), EXIT_INTERNAL)


def report(exc: CchcError) -> None:
    """Print an error for a person: each problem of bad input with its place, else the message."""
    if isinstance(exc, InputError):
        for p in exc.problems:
            say(p.text(), to=err)
        n = len([p for p in exc.problems if p.severity == "error"])
        err.print(ngettext("{n} problem found.", "{n} problems found.", n).format(n=n), markup=False)
    else:
        say(_("error: {message}").format(message=exc), to=err)


def guarded(func):
    """Run a command body; a user never sees a traceback (set CCHC_DEBUG=1 to get one)."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        early.begun()
        try:
            return func(*args, **kwargs)
        except typer.Exit:
            raise
        except Differs as exc:  # what differs was printed
            raise typer.Exit(exit_code(exc)) from None
        except CchcError as exc:
            report(exc)
            raise typer.Exit(exit_code(exc)) from None
        except KeyboardInterrupt as exc:
            early.ended()  # (its ending is over)
            err.print(_("interrupted"))
            raise typer.Exit(exit_code(exc)) from None
        except Exception as exc:  # noqa: BLE001 - last line of defence for users
            if os.environ.get("CCHC_DEBUG"):
                raise
            say(_("internal error: {kind}: {message} (set CCHC_DEBUG=1 for details)").format(
                kind=type(exc).__name__, message=exc), to=err)
            raise typer.Exit(exit_code(exc)) from None
    return wrapper


def _show_version(value: bool) -> None:
    if value:
        from engine.storage.bundle import versions

        say(_("cchc {cchc} (durable_rules {durable_rules}, Python {python})").format(**versions()))
        raise typer.Exit()


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_show_version, is_eager=True,
                                       help=_("Show the version and exit."))) -> None:
    pass


@app.command(help=_("Check criteria sets and evidence; report every problem as file:line:col."))
@guarded
def validate(files: opt.Files, criteria: opt.CheckAgainst = None) -> None:
    scoring.validate(files, criteria)


@app.command(help=_("Score units: one JSON result per unit, a summary, a replay bundle, and a table on the "
                    "terminal."))
@guarded
def score(criteria: opt.Criteria, evidence: opt.Evidence, out_dir: opt.ResultsOut = Path("out"),
          engine: opt.Engine = "durable", rows: opt.Rows = 40, bundle: opt.Bundle = None, sign: opt.Sign = None,
          max_cited_mb: opt.MaxCitedMb = None, workers: opt.Workers = 1) -> None:
    scoring.score(criteria, evidence, out_dir, engine, rows, bundle, sign, max_cited_mb, workers)


@app.command(help=_("Print a JSON file cchc wrote (units/*.json, summary.json, round.json; written compactly) "
                    "indented, keys sorted, for reading."))
@guarded
def show(file: opt.JsonFile, criteria: opt.TitlesFrom = None) -> None:
    scoring.show(file, criteria)


@app.command(help=_("Re-run a bundle from its own bytes: exit 0 when every decision and total is reproduced, "
                    "1 with an item-level diff when not, 2 when the bundle is damaged or altered."))
@guarded
def replay(bundle: opt.BundleFile, engine: opt.ReplayEngine = None, against: opt.Against = None,
           public_key: opt.PublicKey = None, items: opt.Items = False) -> None:
    audit.replay(bundle, engine, against, public_key, items)


@app.command(help=_("Make an Ed25519 key pair for signing bundles (`cchc score --sign KEY`)."))
@guarded
def keygen(key: opt.Key, force: opt.Force = False) -> None:
    audit.keygen(key, force)


archive_app = typer.Typer(help=_("Keep bundles by year and unit in an SQLite archive."), no_args_is_help=True,
                          cls=PlainValuesGroup)
app.add_typer(archive_app, name="archive")


@archive_app.command("init", help=_("Create an archive (or open one) and set the signers it requires."))
@guarded
def archive_init(require_signer: opt.RequireSigner = [], db: opt.Db = None) -> None:  # noqa: B006 - typer's default
    audit.archive_init(require_signer, db)


@archive_app.command("add", help=_("Verify and replay bundles; store them with their unit results only if every "
                                   "one reproduces its recorded results (and is signed by a required key, when "
                                   "the archive requires one)."))
@guarded
def archive_add(bundles: opt.BundleFiles, db: opt.Db = None) -> None:
    audit.archive_add(bundles, db)


@archive_app.command("list", help=_("List archived bundles (or, with --unit, that unit's results)."))
@guarded
def archive_list(year: opt.OnlyYear = None, unit: opt.OnlyUnit = None, db: opt.Db = None) -> None:
    audit.archive_list(year, unit, db)


@archive_app.command("show", help=_("Show an archived bundle, or a unit's results over the years."))
@guarded
def archive_show(what: opt.BundleOrUnit, year: opt.UnitYear = None, db: opt.Db = None) -> None:
    audit.archive_show(what, year, db)


@archive_app.command("verify", help=_("Replay the bundles archived before bundles were replayed on the way in, "
                                      "and record the outcome (`round --archive` reads only verified bundles)."))
@guarded
def archive_verify(db: opt.Db = None) -> None:
    audit.archive_verify(db)


@archive_app.command("export", help=_("Write an archived bundle back to a file (to replay it)."))
@guarded
def archive_export(bundle_id: opt.BundleId, to: opt.ExportTo, db: opt.Db = None) -> None:
    audit.archive_export(bundle_id, to, db)


@app.command("round", help=_("Score a whole province's round: self-assessment, survey, appraisal, ranking per "
                             "group."))
@guarded
def round_(criteria: opt.Criteria, *, evidence: opt.UnitsEvidence, appraisal: opt.Appraisal = [],  # noqa: B006
           survey: opt.Survey = [], no_survey: opt.NoSurvey = False, previous: opt.Previous = None,  # noqa: B006
           out_dir: opt.RoundOut, engine: opt.Engine = "durable", workers: opt.Workers = 0,
           rows: opt.GroupRows = 40, archive: opt.FromArchive = None, previous_year: opt.PreviousYear = None,
           bundle: opt.Bundle = None, sign: opt.Sign = None, max_cited_mb: opt.MaxCitedMb = None) -> None:
    annual.round_(criteria, evidence, appraisal, survey, no_survey, previous, out_dir, engine, workers, rows,
                  archive, previous_year, bundle, sign, max_cited_mb)


@app.command(help=_("Mid-year check: each target on track or at risk, with the value the current pace reaches."))
@guarded
def midyear(criteria: opt.Targets, evidence: opt.YearToDate, as_of: opt.AsOf = None, elapsed: opt.Elapsed = None,
            out_dir: opt.MidyearOut = None) -> None:
    scoring.midyear(criteria, evidence, as_of, elapsed, out_dir)


@app.command(help=_("Excel intake workbook (phiếu nhập số liệu) for a criteria set: what an agency fills and "
                    "scores."))
@guarded
def template(criteria: opt.WorkbookFor, out_file: opt.Workbook, unit: opt.Unit = None, name: opt.UnitName = None,
             unit_type: opt.UnitType = None, previous: opt.LastYearResult = None) -> None:
    scoring.template(criteria, out_file, unit, name, unit_type, previous)


report_app = typer.Typer(help=_("Reports: a unit's self-assessment form (bảng tự đánh giá, chấm điểm) and the "
                                "province summary (HTML, Markdown, Excel, Word, PDF)."), no_args_is_help=True,
                         cls=PlainValuesGroup)
app.add_typer(report_app, name="report")


@report_app.command("unit", help=_("Self-assessment form per unit (bảng tự đánh giá, chấm điểm) with its gap "
                                   "analysis."))
@guarded
def report_unit(results: opt.UnitResults, criteria: opt.ScoredWith, out_dir: opt.ReportsOut = Path("reports/units"),
                fmt: opt.Format = "html", templates: opt.Templates = None, date: opt.ReportDate = None,
                profile: opt.Profile = None) -> None:
    reports.unit(results, criteria, out_dir, fmt, templates, date, profile)


@report_app.command("province", help=_("Province summary: ranking per group, class counts, chart of indices, "
                                       "changes since last year."))
@guarded
def report_province(source: opt.RoundSource, out_dir: opt.ReportOut = Path("reports/province"),
                    criteria: opt.CriteriaOfResults = None, previous: opt.PreviousRound = None,
                    fmt: opt.Format = "html", templates: opt.Templates = None, date: opt.ReportDate = None,
                    profile: opt.Profile = None) -> None:
    reports.province(source, out_dir, criteria, previous, fmt, templates, date, profile)


@app.command(help=_("The scoring workspace: a web application where each unit self-scores on the same engine."))
@guarded
def serve(data: opt.WorkspaceData = Path("cchc-data"), host: opt.Host = "127.0.0.1", port: opt.Port = 8000,
          demo: opt.Demo = False, threads: opt.Threads = 8, processes: opt.Processes = 1) -> None:
    workspace.serve(data, host, port, demo, threads, processes)


audit_app = typer.Typer(help=_("The workspace's audit log (every action, hash-chained)."), no_args_is_help=True,
                        cls=PlainValuesGroup)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify", help=_("Recompute the audit log's hash chain; exit 2 naming the first entry edited "
                                    "or deleted."))
@guarded
def audit_verify(data: opt.AuditData = Path("cchc-data")) -> None:
    workspace.audit_verify(data)


def main() -> None:  # pragma: no cover - console entry alias
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
