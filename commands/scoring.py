"""`cchc validate`, `score`, `midyear` and `template`: scoring units from evidence."""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

from rich.table import Table

from engine import load_criteria, load_evidence
from engine.core.errors import CchcError, InputError
from engine.core.i18n import _
from engine.core.numbers import num
from engine.storage.outdir import write_file, write_outputs

from . import early
from .console import out, say, warn


def validate(files: Sequence[Path], criteria: Optional[Path]) -> None:
    from engine.inputs.validation import check_inputs

    checked = check_inputs(files, criteria)
    for f, cs in checked.criteria:
        say(_("{file}: ok — criteria set {id}, {n} sub-criteria").format(file=f, id=cs.id, n=len(cs.sub_criteria())))
    if checked.evidence is not None:
        warn(checked.evidence.warnings)
        say(_("evidence ok: {units} unit(s) in {files} file(s)").format(
            units=len(checked.evidence.records), files=len(checked.evidence.files)))
    if checked.problems:
        raise InputError(list(checked.problems))


def score(criteria: Path, evidence: Sequence[Path], out_dir: Path, engine: str, rows: int, bundle: Optional[Path],
          sign: Optional[Path], max_cited_mb: Optional[int], workers: int) -> None:
    from engine.audit.replay import score_about, score_roles
    from engine.round.pool import default_workers
    from engine.round.scoring import RunBundle, score_run
    from engine.storage.bundle import (BUNDLE_NAME, BundleWriter, copy_inputs, evidence_input_roots, finish_laid_out,
                                       max_cited_size)
    from engine.storage.outdir import Staging
    from rules import get_evaluator

    evaluator = get_evaluator(engine)
    max_cited = max_cited_size(max_cited_mb)
    cs = load_criteria(criteria)
    bundle_path = bundle or out_dir / BUNDLE_NAME
    # each unit's file written as soon as it is decided; once they are in place, a stop changes nothing
    with Staging(out_dir, command="score", placed=early.ended) as staged:
        writer = BundleWriter(staged.scratch())  # each result file's copy spooled as it is written
        roles = RunBundle(writer, lambda cited, reads: score_roles(criteria, evidence_input_roots(evidence, cited, reads)),
                          max_cited)  # every file read
        run = score_run(cs, evidence, get_evaluator, engine, staged, workers=workers or default_workers(), keep=rows,
                        warn=warn, bundle=roles)
        assert run.layout is not None
        copy_inputs(writer, run.layout, run.stamps, cs.content_hash)
        _written, digest = finish_laid_out(staged, bundle_path, "score", run.layout, run.files, (), evaluator.name,
                                           about=score_about(cs), key=sign, writer=writer)
    _table(cs, run.lines, run.units)
    say(_("{units} unit(s), {decisions} decisions ({engine} engine) → {out}/units/*.json, {out}/summary.json")
        .format(units=run.units, decisions=run.decisions, engine=evaluator.name, out=out_dir))
    bundle_line(bundle_path, digest, sign)


def show(file: Path, criteria: Optional[Path] = None) -> None:
    """A JSON file cchc wrote, indented with sorted keys, for reading; a unit result with the
    titles and labels of `criteria` (the set it was scored with) when given."""
    import typer

    from engine.storage.documents import read_json, unit_result, with_titles
    from engine.storage.results import dumps

    doc = read_json(file)  # every problem an InputError naming the file
    if criteria is not None:
        from engine import load_criteria

        doc = with_titles(unit_result(file, doc), load_criteria(criteria))
    typer.echo(dumps(doc).decode("utf-8"), nl=False)


def bundle_line(path: Path, digest: str, sign: Optional[Path]) -> None:
    text = _("bundle {path} (sha256 {digest}, signed): replay it with `cchc replay`") if sign else \
        _("bundle {path} (sha256 {digest}): replay it with `cchc replay`")
    say(text.format(path=path, digest=digest))


def _table(cs, lines, units: int) -> None:
    """The first units' lines (`lines`) of the `units` scored."""
    table = Table(title=cs.title, show_lines=False)
    for col, just in ((_("Unit id"), "left"), (_("Unit name"), "left"), (_("Type"), "left"),
                      (_("Points"), "right"), (_("Max"), "right"), (_("Index (%)"), "right"),
                      (_("Missing evidence"), "right")):
        table.add_column(col, justify=just)
    types = {t.id: t.label for t in cs.unit_types}
    for r in lines:
        idx = r.total.index
        table.add_row(r.unit_id, r.unit_name, types.get(r.unit_type, r.unit_type), num(r.total.points),
                      num(r.total.max), num(idx) if idx is not None else "—", str(r.missing))
    out.print(table)
    if units > len(lines):
        out.print(_("… and {n} more unit(s) in the JSON results").format(n=units - len(lines)))


def midyear(criteria: Path, evidence: Sequence[Path], as_of: Optional[str], elapsed: Optional[str],
            out_dir: Optional[Path]) -> None:
    from engine.evaluation.midyear import check_targets, elapsed_from, midyear_json
    from engine.storage.results import dumps

    period = elapsed_from(as_of, elapsed)
    cs = load_criteria(criteria)
    ev = load_evidence(evidence, cs)
    warn(ev.warnings)
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
                          f"{c.target} ({c.limit})" if c.limit else c.target, labels[c.status])
    out.print(table)
    at_risk = sum(u.count("at_risk") for u in units)
    summary = _("{units} unit(s), {at_risk} target(s) at risk").format(units=len(units), at_risk=at_risk)
    say(summary + (f" → {out_dir}/midyear.json" if out_dir is not None else ""))


def template(criteria: Path, out_file: Path, unit: Optional[str], name: Optional[str], unit_type: Optional[str],
             previous: Optional[Path]) -> None:
    from reports.intake import intake_unit, intake_workbook

    if out_file.suffix.lower() != ".xlsx":
        raise CchcError(_("--out {file}: the workbook must be an .xlsx file").format(file=out_file))
    cs = load_criteria(criteria)
    who, values = intake_unit(cs, unit, name, unit_type, previous)
    write_file(out_file, intake_workbook(cs, who, values))
    say(f"{out_file}")
