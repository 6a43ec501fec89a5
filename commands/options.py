"""The arguments and options of the `cchc` commands, each defined once (with its help text) and
named by what it is; cli.py gives the defaults."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, List, Optional

import typer

from engine.core.i18n import _

# ---------------------------------------------------------------- shared by several commands

Criteria = Annotated[Path, typer.Argument(help=_("The criteria set (YAML)."))]
Engine = Annotated[str, typer.Option("--engine", "-e", help=_("durable (rule engine) or reference."))]
Bundle = Annotated[Optional[Path], typer.Option("--bundle", help=_("Where to write the replay bundle (default: "
                                                                   "OUT/bundle.cchc)."))]
Sign = Annotated[Optional[Path], typer.Option("--sign", help=_("Sign the bundle with this Ed25519 key (made by "
                                                               "`cchc keygen`)."))]
MaxCitedMb = Annotated[Optional[int], typer.Option("--max-cited-mb", help=_(
    "Cited files (scans, PDFs) above this many MiB are kept out of the bundle, recorded by sha256 only (default 50, "
    "or $CCHC_MAX_CITED_MB)."))]
Db = Annotated[Optional[Path], typer.Option("--db", envvar="CCHC_ARCHIVE", help=_(
    "The archive (default: $CCHC_ARCHIVE, else ~/.local/share/cchc/archive.sqlite)."))]
Format = Annotated[str, typer.Option("--format", "-f", help=_(
    "html, md, xlsx, docx, pdf, both (html and md), all, or several joined by commas (xlsx,docx,pdf)."))]
Templates = Annotated[Optional[Path], typer.Option("--templates", help=_(
    "A folder of the province's own templates (same names), looked up before the shipped ones."))]
ReportDate = Annotated[Optional[str], typer.Option("--date", help=_(
    "Date printed on the report (YYYY-MM-DD or dd/mm/yyyy); without it the date line is left blank."))]
Profile = Annotated[Optional[Path], typer.Option("--profile", help=_(
    "Province profile (YAML: issuing body, signer, place), e.g. profiles/tien-giang.yaml."))]
WorkspaceData = Annotated[Path, typer.Option("--data", help=_(
    "Data folder: the database (SQLite unless DATABASE_URL is set), uploaded files, the secret key."))]

# ---------------------------------------------------------------- validate, score, midyear, template

Files = Annotated[List[Path], typer.Argument(help=_("Criteria sets and evidence files (or folders)."))]
CheckAgainst = Annotated[Optional[Path], typer.Option("--criteria", "-c",
                                                      help=_("Criteria set to check evidence against."))]
Evidence = Annotated[List[Path], typer.Argument(help=_("Evidence files or folders (YAML, CSV, Excel)."))]
ResultsOut = Annotated[Path, typer.Option("--out", "-o", help=_("Folder for the JSON results."))]
Rows = Annotated[int, typer.Option("--rows", help=_("How many units the terminal table shows."))]
Workers = Annotated[int, typer.Option("--workers", "-j", help=_("Worker processes (0: one per core)."))]
JsonFile = Annotated[Path, typer.Argument(help=_("The JSON file."))]
Targets = Annotated[Path, typer.Argument(help=_("The criteria set (YAML): its items are the annual targets."))]
YearToDate = Annotated[List[Path], typer.Argument(help=_("Year-to-date evidence files or folders."))]
AsOf = Annotated[Optional[str], typer.Option("--as-of", help=_("Date of the evidence, YYYY-MM-DD or dd/mm/yyyy."))]
Elapsed = Annotated[Optional[str], typer.Option("--elapsed", help=_("Share of the year elapsed, e.g. 4/12, 0,33 or "
                                                                    "25%."))]
MidyearOut = Annotated[Optional[Path], typer.Option("--out", "-o", help=_("Folder for midyear.json."))]
WorkbookFor = Annotated[Path, typer.Argument(help=_("The criteria set the workbook is for."))]
Workbook = Annotated[Path, typer.Option("--out", "-o", help=_("The workbook to write (.xlsx)."))]
Unit = Annotated[Optional[str], typer.Option("--unit", help=_("Pre-fill for this unit id."))]
UnitName = Annotated[Optional[str], typer.Option("--name", help=_("The unit's name (else from --previous)."))]
UnitType = Annotated[Optional[str], typer.Option("--type", help=_("The unit's type id (else from --previous)."))]
LastYearResult = Annotated[Optional[Path], typer.Option("--previous", help=_(
    "Last year's unit result (values shown) or round.json (unit only)."))]

# ---------------------------------------------------------------- replay, keygen, archive

BundleFile = Annotated[Path, typer.Argument(help=_("A bundle written by `cchc score` (or taken from the archive)."))]
ReplayEngine = Annotated[Optional[str], typer.Option("--engine", "-e", help=_(
    "durable or reference (default: the engine the bundle recorded)."))]
Against = Annotated[Optional[Path], typer.Option("--against", help=_(
    "What-if: re-score the recorded evidence under this criteria set and show who would move."))]
PublicKey = Annotated[Optional[Path], typer.Option("--public-key", help=_(
    "Require a signature by this key (the .pub file of `cchc keygen`)."))]
Items = Annotated[bool, typer.Option("--items", help=_("With --against: list every item that changes too."))]
Key = Annotated[Path, typer.Argument(help=_("Where to write the private key; the public key goes to KEY.pub."))]
Force = Annotated[bool, typer.Option("--force", help=_("Replace existing key files."))]
RequireSigner = Annotated[List[Path], typer.Option("--require-signer", help=_(
    "Accept only bundles signed by one of these keys (.pub files of `cchc keygen`); repeatable."))]
BundleFiles = Annotated[List[Path], typer.Argument(help=_("Bundle files; all are verified and replayed before any "
                                                          "is stored."))]
OnlyYear = Annotated[Optional[int], typer.Option("--year", help=_("Only this year."))]
OnlyUnit = Annotated[Optional[str], typer.Option("--unit", help=_("Only bundles holding this unit (shows its "
                                                                  "results)."))]
BundleOrUnit = Annotated[str, typer.Argument(help=_("A bundle number (#) or a unit id."))]
UnitYear = Annotated[Optional[int], typer.Option("--year", help=_("For a unit: only this year, with every item."))]
BundleId = Annotated[int, typer.Argument(help=_("The bundle number (#)."))]
ExportTo = Annotated[Path, typer.Option("--out", "-o", help=_("Where to write the bundle file."))]

# ---------------------------------------------------------------- the annual round

UnitsEvidence = Annotated[List[Path], typer.Option("--evidence", help=_("Units' own evidence: files or folders."))]
Appraisal = Annotated[List[Path], typer.Option("--appraisal", help=_("Appraisal files or folders (YAML, CSV)."))]
Survey = Annotated[List[Path], typer.Option("--survey", help=_("Survey data files or folders (YAML, CSV)."))]
NoSurvey = Annotated[bool, typer.Option("--no-survey", help=_(
    "Score without survey data: every survey item is then missing evidence (said on the terminal)."))]
Previous = Annotated[Optional[Path], typer.Option("--previous", help=_("Last year's round.json."))]
RoundOut = Annotated[Path, typer.Option("--out", "-o", help=_("Folder for units/*.json and round.json."))]
Workers = Annotated[int, typer.Option("--workers", "-j", help=_("Worker processes (0: one per core)."))]
GroupRows = Annotated[int, typer.Option("--rows", help=_("How many units per group the terminal table shows."))]
FromArchive = Annotated[Optional[Path], typer.Option("--archive", help=_(
    "Take last year's results from this archive (instead of --previous)."))]
PreviousYear = Annotated[Optional[int], typer.Option("--previous-year", help=_(
    "With --archive: the year to compare with (default: the criteria set's year − 1)."))]

# ---------------------------------------------------------------- reports, the workspace

UnitResults = Annotated[List[Path], typer.Argument(help=_("Unit results (units/*.json) or folders of them."))]
ScoredWith = Annotated[Path, typer.Option("--criteria", "-c", help=_("The criteria set the results were scored "
                                                                     "with."))]
ReportsOut = Annotated[Path, typer.Option("--out", "-o", help=_("Folder for the reports."))]
RoundSource = Annotated[Path, typer.Argument(help=_("round.json (or its folder), or a folder of unit results."))]
ReportOut = Annotated[Path, typer.Option("--out", "-o", help=_("Folder for the report."))]
TitlesFrom = Annotated[Optional[Path], typer.Option("--criteria", "-c", help=_(
    "For a unit result: the criteria set it was scored with, whose titles and labels are shown with it."))]
CriteriaOfResults = Annotated[Optional[Path], typer.Option("--criteria", "-c", help=_(
    "The criteria set (needed for a folder of unit results)."))]
PreviousRound = Annotated[Optional[Path], typer.Option("--previous", help=_(
    "Last year's round.json, for a folder of unit results."))]
Host = Annotated[str, typer.Option("--host", help=_("Address to listen on."))]
Port = Annotated[int, typer.Option("--port", help=_("Port to listen on."))]
Demo = Annotated[bool, typer.Option("--demo", help=_(
    "Load the example province into an empty data folder and print fresh passwords once."))]
Threads = Annotated[int, typer.Option("--threads", help=_("Worker threads of the web server."))]
Processes = Annotated[int, typer.Option("--processes", help=_(
    "Server processes sharing the port (each with --threads threads): more cores serve more saves at once."))]
AuditData = Annotated[Path, typer.Option("--data", help=_(
    "The workspace's data folder (its database, unless DATABASE_URL is set)."))]
