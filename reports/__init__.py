"""Reports from results: the per-unit self-assessment form with its gap analysis, and the province
summary. Reads the JSON the engine and the annual round write; never changes them.

    files = unit_report_files([Path("out/units")], Path("criteria.yaml"), kinds=("html", "md"))
    write_outputs(Path("reports/units"), files, command="report unit")   # engine.storage.outdir: all or nothing
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Optional, Sequence

from engine import load_criteria
from engine.core.errors import CchcError, InputError, Problem
from engine.core.i18n import _
from engine.storage.outdir import check_names

from .load import check_criteria, criteria_for, find_round, load_results, load_round, one_per_unit, result_paths
from .province import province_context, summary_from_results
from .profile import load_profile
from .render import KINDS, OUTPUTS, environment, produce, render
from .unit import unit_context

FORMATS = {"html": ("html",), "md": ("md",), "both": ("html", "md"), "xlsx": ("xlsx",), "docx": ("docx",),
           "pdf": ("pdf",), "all": OUTPUTS}


def formats(choice: str) -> tuple[str, ...]:
    """`html`, `md`, `xlsx`, `docx`, `pdf`, `both` (html and md), `all`, or several joined by commas
    (`xlsx,docx,pdf`) → the output kinds, each once, in the order given."""
    kinds: list[str] = []
    for part in choice.split(","):
        try:
            kinds += [k for k in FORMATS[part.strip()] if k not in kinds]
        except KeyError:
            raise CchcError(_("unknown format {format!r}; choose one or more (joined by commas) of: "
                              "{formats}").format(format=part.strip(), formats=', '.join(FORMATS))) from None
    return tuple(kinds)


def parse_report_date(text: Optional[str]) -> Optional[str]:
    """The date printed on a report, given as YYYY-MM-DD or dd/mm/yyyy; None leaves the form's
    blank date line (no clock is read: the same inputs give the same bytes)."""
    if text is None:
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text.strip(), fmt).date().isoformat()
        except ValueError:
            continue
    raise CchcError(_("--date {value!r} is not a date: write YYYY-MM-DD or dd/mm/yyyy").format(value=text))


def unit_report_files(paths: Sequence[Path], criteria: Path, *, kinds: Sequence[str] = ("html",),
                      templates: Optional[Path] = None, report_date: Optional[str] = None,
                      profile: Optional[Path] = None) -> dict[str, bytes]:
    """One report per unit result and format: `{unit id}.{html,md,xlsx,docx,pdf}` → bytes (a unit id
    that cannot name a file safely is refused: engine.storage.outdir.check_names)."""
    docs = load_results(result_paths(paths))
    cs = criteria_for(criteria, docs)
    check_names({doc.unit_id: str(doc.path) for doc in docs})
    who = load_profile(profile)
    one_per_unit(docs)
    files: dict[str, bytes] = {}
    for doc in docs:
        ctx = unit_context(cs, doc, report_date=report_date, profile=who)
        for kind in kinds:
            files[f"{doc.unit_id}.{kind}"] = produce("unit", kind, ctx, templates)
    return files


def province_report_files(source: Path, *, criteria: Optional[Path] = None, previous: Optional[Path] = None,
                          kinds: Sequence[str] = ("html",), templates: Optional[Path] = None,
                          report_date: Optional[str] = None, name: str = "province",
                          profile: Optional[Path] = None) -> dict[str, bytes]:
    """The province summary: `province.{html,md,xlsx,docx,pdf}` → bytes. `source` is a round summary (`round.json`,
    or a folder holding one), or a folder of unit results ranked here with the round's rules (then
    `criteria` is needed, and `previous` may name last year's round.json)."""
    who = load_profile(profile)
    round_path = find_round(source)
    if round_path is not None:
        if previous is not None:
            raise InputError([Problem(str(previous), message=(
                _("{round} already compares with last year's round (the annual round's --previous); "
                  "--previous is for a folder of unit results").format(round=round_path)))])
        doc = load_round(round_path)
        cs = None
        if criteria is not None:
            cs = load_criteria(criteria)
            check_criteria(cs, round_path, doc)
    else:
        if not source.is_dir():
            raise InputError([Problem(str(source), message=_("not found: expected round.json or a folder of results"))])
        if criteria is None:
            raise InputError([Problem(str(source), message=(
                _("no round.json here: ranking unit results needs the criteria set's groups (pass --criteria)")))])
        docs = load_results(result_paths([source]))
        cs = criteria_for(criteria, docs)
        doc = summary_from_results(cs, docs, previous)
    ctx = province_context(doc, cs, report_date=report_date, profile=who)
    return {f"{name}.{kind}": produce("province", kind, ctx, templates) for kind in kinds}


__all__ = ["FORMATS", "KINDS", "OUTPUTS", "environment", "produce", "formats", "parse_report_date", "province_context",
           "province_report_files", "render", "unit_context", "unit_report_files"]
