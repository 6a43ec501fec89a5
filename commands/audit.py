"""`cchc replay`, `keygen` and `archive …`: an auditor's view of bundles (docs/replay.md)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

from rich.table import Table

from engine.core.errors import CchcError, InputError
from engine.core.i18n import _, moment
from engine.core.numbers import num

from .console import Differs, err, out, say


def bundle_header(path, b) -> None:
    """What a bundle is: kind, fingerprint, what recorded it, how many parts verified, who signed."""
    v = b.versions
    signed = _("signed by key {key}").format(key=b.signer) if b.signer else _("not signed")
    kinds = {"score": _("scoring of units"), "round": _("annual round")}
    say(_("bundle {path}: kind {kind}, sha256 {digest}").format(path=path, kind=kinds.get(b.kind, b.kind),
                                                               digest=b.sha256))
    say(_("  recorded with the {engine} engine, cchc {cchc}, durable_rules {durable_rules}, Python {python}; "
          "{parts} parts verified; {signed}").format(
              engine=b.engine, cchc=v.get("cchc"), durable_rules=v.get("durable_rules"), python=v.get("python"),
              parts=len(b.parts), signed=signed))
    if b.unpacked:
        say(_("  {n} cited file(s) above the cited-file limit are recorded by sha256 only, not packed: {files}")
            .format(n=len(b.unpacked), files=", ".join(b.unpacked)))


def replay(bundle: Path, engine: Optional[str], against: Optional[Path], public_key: Optional[Path],
           items: bool) -> None:
    from engine.storage.bundle import load_public_key, read_bundle_file
    from engine.audit.bundle_kinds import replay as run_replay, what_if
    from rules import get_evaluator

    b = read_bundle_file(bundle, public_key=load_public_key(public_key) if public_key else None)
    bundle_header(bundle, b)
    evaluator = get_evaluator(engine or b.engine)
    if against is not None:
        try:
            w = what_if(b, against, evaluator)
        except InputError as exc:
            if any(p.file.startswith("inputs/") for p in exc.problems):
                say(_("the recorded evidence does not fit the criteria set {criteria}:").format(criteria=against),
                    to=err)
            raise
        _print_what_if(w, items)
        return
    report = run_replay(b, evaluator)
    now = report.versions
    changed = [f"{k} {report.recorded_versions.get(k)} → {now[k]}" for k in now
               if report.recorded_versions.get(k) != now[k]]
    if changed:
        say(_("  note: replaying with other versions: {versions}").format(versions=", ".join(changed)))
    c = report.comparison
    if c.identical:
        say(_("identical: the {engine} engine reproduces every decision and total of the {recorded} run "
              "({units} unit(s), {decisions} decisions).").format(
                  engine=report.engine, recorded=report.recorded_engine, units=c.units, decisions=c.decisions))
        return
    say(_("DIFFERS: the {engine} engine does not reproduce the recorded results ({n} difference(s), "
          "{units} unit(s) compared):").format(engine=report.engine, n=len(c.differences), units=c.units))
    for d in c.differences:
        say(f"  {d.text()}")
    raise Differs()


def _print_what_if(w, items: bool) -> None:
    def pts(p):
        return "—" if p is None else num(p.points)

    def idx(p):
        return "—" if p is None or p.index is None else num(p.index)

    def rank(p):
        return "—" if p is None or p.rank is None else f"{p.rank}/{p.of}"

    def klass(p):
        return "—" if p is None or p.klass is None else p.klass

    say(_("what if: criteria set {new} (sha256 {new_sha}…) instead of {old} (sha256 {old_sha}…), "
          "{engine} engine").format(new=w.new_criteria[0], new_sha=w.new_criteria[1][:12],
                                    old=w.recorded_criteria[0], old_sha=w.recorded_criteria[1][:12],
                                    engine=w.engine))
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
    say(_("{moved} unit(s) would move in points, rank or class; {still} would not.").format(
        moved=len(movers), still=still))
    if items:
        for d in w.items.differences:
            say("  " + d.text(_("recorded"), _("what-if")))
    elif w.items.differences:
        out.print(_("{n} item-level change(s); --items lists them.").format(n=len(w.items.differences)),
                  markup=False)


def keygen(key: Path, force: bool) -> None:
    from engine.storage.bundle import generate_key

    pub, fingerprint = generate_key(key, force=force)
    say(_("private key {key} (keep it secret), public key {pub}, fingerprint {fingerprint}").format(
        key=key, pub=pub, fingerprint=fingerprint))


# ---------------------------------------------------------------- the archive

def archive_init(require_signer: Sequence[Path], db: Optional[Path]) -> None:
    from engine.audit.archive import Archive

    with Archive(db) as archive:
        if require_signer:
            archive.require_signers(require_signer)
        required = archive.required_signers()
        policy = (_("requires a signature by key {keys}").format(keys=", ".join(required)) if required else
                  _("accepts unsigned bundles that replay"))
        say(_("archive {path} (schema v{version}); {policy}").format(path=archive.path, version=archive.version,
                                                                     policy=policy))


def archive_add(bundles: Sequence[Path], db: Optional[Path]) -> None:
    from engine.audit.archive import Archive, read_many
    from rules import get_evaluator

    read = read_many(bundles)
    with Archive(db) as archive:
        for path, added in zip(bundles, archive.add(read, get_evaluator, [str(p) for p in bundles])):
            state = (_("{path}: added as #{id} (year {year}, {units} unit(s), sha256 {digest}…)") if added.new else
                     _("{path}: already archived as #{id} (year {year}, {units} unit(s), sha256 {digest}…)"))
            say(state.format(path=path, id=added.id, year=added.year, units=added.units, digest=added.sha256[:12]))
        say(_("archive {path}").format(path=archive.path))


def archive_list(year: Optional[int], unit: Optional[str], db: Optional[Path]) -> None:
    from engine.audit.archive import Archive

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


def archive_show(what: str, year: Optional[int], db: Optional[Path]) -> None:
    from engine.audit.archive import Archive

    with Archive(db, create=False) as archive:
        if what.lstrip("#").isdigit():
            _show_bundle(archive, int(what.lstrip("#")))
            return
        results = archive.results(unit=what, year=year)
        if not results:
            raise CchcError((_("no archived results for unit {unit!r} in {year}") if year else
                             _("no archived results for unit {unit!r}")).format(unit=what, year=year))
        _results_table(results, _("Results of {unit}").format(unit=what))
        if year is not None:
            bid = results[-1].bundle_id
            try:
                titles = archive.item_titles(bid)
            except CchcError as exc:  # the items are shown all the same, by code
                titles = {}
                reason = "; ".join(p.text() for p in exc.problems) if isinstance(exc, InputError) else str(exc)
                say(_("the items' titles are not shown: {reason}").format(reason=reason), to=err)
            _items_table(what, year, bid, archive.unit_result(bid, what), titles)


def _show_bundle(archive, bid: int) -> None:
    b = archive.bundle(bid)
    bundle_header(f"#{bid}", b)
    row = archive.bundle_row(bid)
    state = (_("  archived {when}; verified: {verification}") if row.verified else
             _("  archived {when}; NOT verified: {verification}"))
    say(state.format(when=moment(row.added_at), verification=row.verification))
    about = b.about
    say(_("  criteria {id} ({title}), year {year}; inputs: {inputs}").format(
        id=about.get("criteria_id"), title=about.get("title"), year=about.get("year"),
        inputs="; ".join(f"{k}: {', '.join(v)}" for k, v in b.inputs.items())))
    _results_table(archive.results(bundle_id=bid), _("Results"))


def _items_table(unit: str, year: int, bid: int, doc, titles: dict[str, str]) -> None:
    from reports.notes import item_notes

    table = Table(title=_("{unit}, {year} (bundle #{id})").format(unit=unit, year=year, id=bid))
    for col in (_("Code"), _("Criterion"), _("Status"), _("Points"), _("Max"), _("Level reached")):
        table.add_column(col)
    statuses = {"scored": _("scored"), "not_applicable": _("not applicable"),
                "missing_evidence": _("missing evidence"), "no_matching_band": _("no matching band")}
    for it in doc.items:
        table.add_row(it.code, titles.get(it.code, ""), statuses.get(it.status, it.status), num(it.points), num(it.max),
                      it.condition or item_notes(it, doc.unit_type))
    out.print(table)


def archive_verify(db: Optional[Path]) -> None:
    from engine.audit.archive import Archive
    from rules import get_evaluator

    with Archive(db, create=False) as archive:
        done = archive.verify(get_evaluator)
    for bid, ok, verdict in done:
        say(f"#{bid}: {verdict}")
    say(_("{n} bundle(s) replayed, {bad} do not reproduce their results").format(
        n=len(done), bad=sum(1 for _bid, ok, _v in done if not ok)))
    if any(not ok for _bid, ok, _v in done):
        raise Differs()


def archive_export(bundle_id: int, to: Path, db: Optional[Path]) -> None:
    from engine.audit.archive import Archive
    from engine.storage.bundle import write_bundle

    with Archive(db, create=False) as archive:
        write_bundle(to, archive.bundle_bytes(bundle_id))
    say(_("bundle #{id} → {path}").format(id=bundle_id, path=to))
