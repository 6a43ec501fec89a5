"""Auditor replay: re-run a bundle from its own bytes and compare every decision and total with
what it recorded; or re-score its evidence under another criteria set (what-if).

A `ReplayKind` says how to re-run one kind of bundle from its inputs (given by role) and,
optionally, how to re-score it under new criteria; engine/audit/bundle_kinds.py lists the kinds.
This module holds the `score` kind and what every kind shares.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional, Sequence

from ..storage.bundle import Bundle, BundleError, InputRoot, evidence_roots, make_bundle, recording_reads, versions
from ..inputs.criteria import load_criteria
from ..core.errors import CchcError, InputError
from ..evaluation.evaluate import Evaluator, decide
from ..inputs.evidence import EvidenceSet, load_evidence
from ..core.i18n import N_, _
from ..core.model import CriteriaSet, UnitResult, index_of
from ..core.numbers import display, exact_text, to_fraction
from ..storage.documents import ResultItem, ResultRollup, UnitResultDoc, unit_result
from ..storage.results import RESULT_FORMAT, result_files

# Fields that name places (paths, lines) or the evaluator rather than decide anything: a replay
# runs from other paths, and a second opinion from another evaluator.
IGNORED_KEYS = frozenset({"engine", "location", "evidence_source", "warnings"})


# ---------------------------------------------------------------- kinds of bundle

@dataclass(frozen=True)
class Context:
    """What a kind's replay gets: the bundle, the folder its inputs were rebuilt in, the rebuilt
    inputs by role (in the order the run was given them) and the evaluator to use."""

    bundle: Bundle
    root: Path
    inputs: Mapping[str, tuple[Path, ...]]
    evaluator: Evaluator

    def role(self, name: str, *, required: bool = True) -> tuple[Path, ...]:
        paths = self.inputs.get(name, ())
        if required and not paths:
            raise BundleError("manifest.json", _("a {kind} bundle needs inputs of role {role!r}").format(
                kind=self.bundle.kind, role=name))
        return tuple(paths)


@dataclass(frozen=True)
class ReplayKind:
    """How to replay one kind of bundle. `replay` returns the result files as the run would write
    them (names relative to the output folder); `compare` sets recorded against replayed files;
    `what_if` re-scores the recorded inputs under another criteria set."""

    name: str
    replay: Callable[[Context], Mapping[str, bytes]]
    compare: Optional[Callable[[Mapping[str, bytes], Mapping[str, bytes]], "Comparison"]] = None
    what_if: Optional[Callable[[Context, Path], "WhatIf"]] = None

    def comparer(self) -> Callable[[Mapping[str, bytes], Mapping[str, bytes]], "Comparison"]:
        return self.compare or compare_results


# ---------------------------------------------------------------- comparing results

@dataclass(frozen=True)
class Outcome:
    """One side of a difference: status, exact points and maximum, the matched condition."""

    status: str
    points: str
    max: str
    condition: str = ""
    index: Optional[str] = None


@dataclass(frozen=True)
class Difference:
    """One thing a replay does not reproduce.

    kind: `criteria` (the criteria set's hash), `unit` (a unit field), `item` (a decision),
    `input` (same decision, other recorded input), `criterion` / `area` / `total` (a roll-up),
    `summary` (a unit's line in summary.json), `missing` / `extra` (a file or unit on one side
    only), `file` (any other field of a result file)."""

    file: str
    kind: str
    unit: str = ""
    item: str = ""
    recorded: Optional[Outcome | str] = None
    replayed: Optional[Outcome | str] = None

    def text(self, before: str = N_("recorded"), after: str = N_("replayed")) -> str:
        before, after = _(before), _(after)
        if self.kind == "criteria":
            return _("criteria set: the {before} results were made with sha256 {recorded}, "
                     "the {after} ones with {replayed}").format(before=before, after=after, recorded=self.recorded,
                                                                replayed=self.replayed)
        subject = {"item": _("item {code}"), "input": _("item {code} (same points, other inputs)"),
                   "criterion": _("criterion {code}"), "area": _("area {code}"), "total": _("total"),
                   "summary": _("line in {file}"), "unit": _("unit field {code}"),
                   "file": _("{file} field {code}")}.get(self.kind, "{file}").format(code=self.item, file=self.file)
        head = _("unit {unit}, {subject}").format(unit=self.unit, subject=subject) if self.unit else subject
        if self.kind in ("missing", "extra"):
            what = _("unit {unit} ({file})").format(unit=self.unit, file=self.file) if self.unit else self.file
            if self.kind == "missing":
                return _("{what}: {before}, but missing from the {after} results").format(
                    what=what, before=before, after=after)
            return _("{what}: in the {after} results, but not {before}").format(what=what, before=before, after=after)
        return f"{head}: {before} {_show(self.recorded)} → {after} {_show(self.replayed)}"


def _points(text: str) -> str:
    """Exact points as people read them: the exact text, with the 2-decimal display first when the
    exact value is a fraction or has more than 2 decimals."""
    try:
        value = to_fraction(text)
    except (TypeError, ValueError, ZeroDivisionError):
        return str(text)
    exact = exact_text(value)
    if "/" in exact or len(exact.partition(".")[2]) > 2:
        return _("{shown} (exact {exact})").format(shown=display(value), exact=exact)
    return exact


def _show(side: Optional[Outcome | str]) -> str:
    if side is None:
        return _("nothing")
    if isinstance(side, str):
        return side
    text = _("{points} of {max}").format(points=_points(side.points), max=_points(side.max))
    if side.index is not None:
        text += f" = {_points(side.index)} %"
    if side.status and side.status != "scored":
        text += f" [{side.status}]"
    if side.condition:
        text += f" — “{side.condition}”"
    return text


@dataclass(frozen=True)
class Comparison:
    differences: tuple[Difference, ...]
    units: int  # units compared
    decisions: int  # item decisions compared

    @property
    def identical(self) -> bool:
        return not self.differences


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in IGNORED_KEYS}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _load_json(data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def _item_outcome(item: ResultItem) -> Outcome:
    return Outcome(item.status, exact_text(item.points), exact_text(item.max), item.condition)


def _rollup_outcome(r: ResultRollup) -> Outcome:
    return Outcome("", exact_text(r.points), exact_text(r.max), "", None if r.index is None else exact_text(r.index))


def _line_outcome(line: dict) -> Outcome:
    """A unit's line in summary.json, as an outcome (not typed: the summary is no unit result)."""
    return Outcome("", str(line.get("points", "")), str(line.get("max", "")), "", line.get("index"))


def _inputs_text(item: ResultItem) -> str:
    parts = [f"{i.metric} = {i.value}" + (f" [{i.citation.document}]" if i.citation else "") for i in item.inputs]
    note = "; ".join(item.notes) or item.reason
    return "; ".join(parts) + (f" ({note})" if note else "") or _("no inputs")


def _compare_unit(name: str, rec: UnitResultDoc, rep: UnitResultDoc, diffs: list[Difference]) -> int:
    """Two schema-valid unit results, decision by decision. Two items differ in their outcome
    (status, points, maximum, condition) or, outcome alike, in anything else but where their
    inputs were read."""
    unit = rec.unit_id or rep.unit_id or name
    if rec.criteria_sha256 != rep.criteria_sha256:
        diffs.append(Difference(name, "criteria", recorded=rec.criteria_sha256, replayed=rep.criteria_sha256))
    for key, a, b in (("name", rec.unit_name, rep.unit_name), ("type", rec.unit_type, rep.unit_type),
                      ("period", rec.period, rep.period)):
        if a != b:
            diffs.append(Difference(name, "unit", unit, key, a, b))
    r_items = {i.code: i for i in rec.items}
    p_items = {i.code: i for i in rep.items}
    order = list(r_items) + [c for c in p_items if c not in r_items]
    for code in order:
        a, b = r_items.get(code), p_items.get(code)
        if a is None or b is None:
            diffs.append(Difference(name, "item", unit, code, _item_outcome(a) if a else None,
                                    _item_outcome(b) if b else None))
            continue
        if _item_outcome(a) != _item_outcome(b):
            diffs.append(Difference(name, "item", unit, code, _item_outcome(a), _item_outcome(b)))
        elif a != b:
            diffs.append(Difference(name, "input", unit, code, _inputs_text(a), _inputs_text(b)))
    for key, kind in (("criteria_rollup", "criterion"), ("areas", "area")):
        ra = {r.code: r for r in getattr(rec, key)}
        pa = {r.code: r for r in getattr(rep, key)}
        for code in list(ra) + [c for c in pa if c not in ra]:
            a, b = ra.get(code), pa.get(code)
            if a is None or b is None or _rollup_outcome(a) != _rollup_outcome(b):
                diffs.append(Difference(name, kind, unit, code, _rollup_outcome(a) if a else None,
                                        _rollup_outcome(b) if b else None))
    ta, tb = _rollup_outcome(rec.total), _rollup_outcome(rep.total)
    if ta != tb:
        diffs.append(Difference(name, "total", unit, "", ta, tb))
    rd, pd = rec.data, rep.data
    _compare_json(name, {k: v for k, v in rd["criteria"].items() if k != "sha256"},
                  {k: v for k, v in pd["criteria"].items() if k != "sha256"}, diffs, unit, "criteria")
    known = {"format", "criteria", "unit", "period", "items", "criteria_rollup", "areas", "total"}
    _compare_json(name, {k: v for k, v in rd.items() if k not in known},
                  {k: v for k, v in pd.items() if k not in known}, diffs, unit)
    return len(order)


def _compare_summary(name: str, rec: dict, rep: dict, diffs: list[Difference]) -> None:
    """The summary's unit lines; a line whose difference is the unit's total difference already
    reported from its unit file is not repeated."""
    ru = {str(u.get("id")): u for u in rec.get("units") or []}
    pu = {str(u.get("id")): u for u in rep.get("units") or []}
    totals = {(d.unit, d.recorded, d.replayed) for d in diffs if d.kind == "total"}
    for uid in list(ru) + [u for u in pu if u not in ru]:
        a, b = ru.get(uid), pu.get(uid)
        if a is None or b is None:
            diffs.append(Difference(name, "missing" if b is None else "extra", uid))
        elif _strip(a) != _strip(b):
            ra, rb = _line_outcome(a), _line_outcome(b)
            if ra != rb and (uid, ra, rb) not in totals:
                diffs.append(Difference(name, "summary", uid, "", ra, rb))
            other = sorted(k for k in set(a) | set(b) if k not in _TOTAL_KEYS and a.get(k) != b.get(k))
            _compare_json(name, {k: a.get(k) for k in other}, {k: b.get(k) for k in other}, diffs, uid,
                          f"units[{uid}]")
    rc, pc = (rec.get("criteria") or {}).get("sha256"), (rep.get("criteria") or {}).get("sha256")
    if rc != pc:
        diffs.append(Difference(name, "criteria", recorded=str(rc), replayed=str(pc)))
    rest = {"units", "engine", "warnings", "criteria"}
    rec = {**rec, "criteria": {k: v for k, v in (rec.get("criteria") or {}).items() if k != "sha256"}}
    rep = {**rep, "criteria": {k: v for k, v in (rep.get("criteria") or {}).items() if k != "sha256"}}
    _compare_json(name, rec.get("criteria"), rep.get("criteria"), diffs, "", "criteria")
    _compare_json(name, {k: v for k, v in rec.items() if k not in rest},
                  {k: v for k, v in rep.items() if k not in rest}, diffs)


_TOTAL_KEYS = frozenset({"points", "points_display", "max", "index", "index_display"})


def _compare_json(name: str, a: Any, b: Any, diffs: list[Difference], unit: str = "", path: str = "") -> None:
    """Field-by-field comparison of any other JSON, ignoring `IGNORED_KEYS` at any depth; lists of
    other lengths differ as a whole. (A general diff library — deepdiff, dictdiffer — would need as
    much code again to skip those keys everywhere and to name fields as `units[3].x`.)"""
    a, b = _strip(a), _strip(b)
    if a == b:
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            _compare_json(name, a.get(k), b.get(k), diffs, unit, f"{path}.{k}" if path else k)
        return
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            _compare_json(name, x, y, diffs, unit, f"{path}[{i}]")
        return

    def short(v: Any) -> str:
        text = json.dumps(v, ensure_ascii=False, sort_keys=True)
        return text if len(text) <= 120 else text[:117] + "…"

    diffs.append(Difference(name, "file", unit, path or _("(whole file)"), short(a), short(b)))


def compare_results(recorded: Mapping[str, bytes], replayed: Mapping[str, bytes]) -> Comparison:
    """Compare result files decision by decision: unit results (`cchc-result/…`) item by item and
    roll-up by roll-up, the summary unit by unit, any other JSON field by field. Paths, lines, the
    evaluator's name and warnings (which quote paths) are not compared."""
    diffs: list[Difference] = []
    units = decisions = 0
    names = sorted(set(recorded) | set(replayed), key=lambda n: (n == "summary.json", n))
    for name in names:  # unit files before the summary, whose lines repeat their totals
        a, b = recorded.get(name), replayed.get(name)
        if a is None or b is None:
            diffs.append(Difference(name, "missing" if b is None else "extra",
                                    _unit_of(name)))
            continue
        ra, rb = _load_json(a), _load_json(b)
        if ra is None or rb is None:
            if a != b:
                diffs.append(Difference(name, "file", "", _("(whole file)"), _("unreadable or different bytes"),
                                        _("other bytes")))
            continue
        fmt = str(ra.get("format", "")) if isinstance(ra, dict) else ""
        typed = _unit_results(name, ra, rb) if fmt.startswith("cchc-result/") else None
        if typed is not None:
            units += 1
            decisions += _compare_unit(name, *typed, diffs)
        elif fmt.startswith("cchc-summary/") and isinstance(rb, dict):
            _compare_summary(name, ra, rb, diffs)
        else:
            _compare_json(name, ra, rb, diffs)
    seen, unique = set(), []
    diffs.sort(key=lambda d: d.kind != "criteria")  # a changed criteria set first, said once
    for d in diffs:
        key = (d.kind, d.recorded, d.replayed) if d.kind == "criteria" else d
        if key not in seen:
            seen.add(key)
            unique.append(d)
    return Comparison(tuple(unique), units, decisions)


def _unit_results(name: str, recorded: Any, replayed: Any) -> Optional[tuple[UnitResultDoc, UnitResultDoc]]:
    """Both sides as unit results; None when either does not match the result schema (then they are
    compared field by field, as any other JSON)."""
    try:
        return unit_result(Path(name), recorded), unit_result(Path(name), replayed)
    except InputError:
        return None


def _unit_of(name: str) -> str:
    return name[len("units/"):-len(".json")] if name.startswith("units/") and name.endswith(".json") else ""


# ---------------------------------------------------------------- running a replay

@contextlib.contextmanager
def _bundle_paths(root: Path) -> Iterator[None]:
    """Problems in rebuilt inputs are reported under their path inside the bundle."""
    prefix = str(root) + "/"
    try:
        yield
    except InputError as exc:
        problems = [dataclasses.replace(p, file=p.file.replace(prefix, ""), message=p.message.replace(prefix, ""))
                    for p in exc.problems]
        raise type(exc)(problems) from None


# The result formats a replay matches item by item: this version's, and `cchc-result/2`, whose
# decisions are written the same way (it also wrote the criteria set's titles, which are not compared).
MATCHED_RESULT_FORMATS = ("cchc-result/2", RESULT_FORMAT)


def refuse_older_results(bundle: Bundle) -> None:
    """A bundle whose unit results are in an older result format cannot be matched by this version:
    say so, rather than report every item as changed."""
    older = sorted({fmt for data in bundle.results().values() for doc in [_load_json(data)]
                    if isinstance(doc, dict) for fmt in [str(doc.get("format", ""))]
                    if fmt.startswith("cchc-result/") and fmt not in MATCHED_RESULT_FORMATS})
    if older:
        recorded = bundle.versions.get("cchc", "?")
        raise CchcError(f"the bundle's unit results are in the format {', '.join(older)}, written by cchc "
                        f"{recorded}; this cchc matches {' and '.join(MATCHED_RESULT_FORMATS)} (item notes as codes), "
                        f"so a replay cannot match them: replay the bundle with cchc {recorded}, or score its inputs "
                        "again")


@contextlib.contextmanager
def rebuilt(bundle: Bundle, evaluator: Evaluator) -> Iterator[Context]:
    """Rebuild a bundle's inputs in a temporary folder (removed afterwards)."""
    from ..storage.bundle import extract

    refuse_older_results(bundle)
    with tempfile.TemporaryDirectory(prefix="cchc-replay-") as tmp:
        root = Path(tmp).resolve()
        inputs = extract(bundle, root)
        with _bundle_paths(root):
            yield Context(bundle, root, {k: tuple(v) for k, v in inputs.items()}, evaluator)


@dataclass(frozen=True)
class ReplayReport:
    kind: str
    recorded_engine: str
    engine: str
    recorded_versions: Mapping[str, str]
    versions: Mapping[str, str]
    comparison: Comparison

    @property
    def identical(self) -> bool:
        return self.comparison.identical


def replay_kind(kind: ReplayKind, bundle: Bundle, evaluator: Evaluator) -> ReplayReport:
    """Re-run a verified bundle of `kind` from its own inputs and compare with its recorded results."""
    with rebuilt(bundle, evaluator) as ctx:
        files = dict(kind.replay(ctx))
    comparison = kind.comparer()(bundle.results(), files)
    return ReplayReport(bundle.kind, bundle.engine, evaluator.name, bundle.versions, versions(), comparison)


# ---------------------------------------------------------------- the `score` kind

def score_inputs(criteria_path: Path, evidence_paths: Sequence[Path], evidence: EvidenceSet,
                 reads: Optional[Iterable[str]] = None) -> dict[str, list[InputRoot]]:
    """The inputs of a `score` run by role: the criteria set, and each evidence path with every
    file read through it (`reads`, recorded with `engine.storage.bundle.recording_reads` while the evidence
    was loaded; without them the evidence is read again to record them) and the files it cites."""
    if reads is None:
        with recording_reads() as recorded:
            load_evidence(evidence_paths, load_criteria(criteria_path))
        reads = recorded
    return score_roles(criteria_path, evidence_roots(evidence_paths, evidence, reads))


def score_roles(criteria_path: Path, evidence: list[InputRoot]) -> dict[str, list[InputRoot]]:
    """The inputs of a `score` run by role, its evidence laid out (`engine.storage.bundle.evidence_roots`)."""
    return {"criteria": [InputRoot(Path(criteria_path), (Path(criteria_path),))], "evidence": evidence}


def score_about(criteria: CriteriaSet) -> dict:
    """What a `score` bundle says of the criteria set it scored against."""
    return {"criteria_id": criteria.id, "criteria_sha256": criteria.content_hash,
            "title": criteria.title, "year": criteria.year}


def score_bundle(criteria_path: Path, evidence_paths: Sequence[Path], criteria: CriteriaSet,
                 evidence: EvidenceSet, files: Mapping[str, bytes], engine: str,
                 *, key: Optional[Path] = None, reads: Optional[Iterable[str]] = None,
                 max_cited: Optional[int] = None) -> bytes:
    """The bundle of a `score` run: its inputs, its result files as written, what ran."""
    return make_bundle("score", score_inputs(criteria_path, evidence_paths, evidence, reads), files, engine,
                       about=score_about(criteria), key=key, max_cited=max_cited)


def replay_score(ctx: Context) -> dict[str, bytes]:
    cs = load_criteria(ctx.role("criteria")[0])
    ev = load_evidence(ctx.role("evidence"), cs)
    results = decide(cs, ev.records, ctx.evaluator)
    return result_files(cs, results, ctx.evaluator.name, [str(w) for w in ev.warnings])


# ---------------------------------------------------------------- what-if

@dataclass(frozen=True)
class Place:
    """A unit's standing under one criteria set."""

    points: Fraction
    max: Fraction
    group: Optional[str]
    rank: Optional[int]
    of: int  # ranked units in the group
    klass: Optional[str]

    @property
    def index(self) -> Optional[Fraction]:
        return index_of(self.points, self.max)


@dataclass(frozen=True)
class Move:
    unit_id: str
    name: str
    type: str
    before: Optional[Place]  # as recorded
    after: Optional[Place]  # under the new criteria

    @property
    def moved(self) -> bool:
        b, a = self.before, self.after
        if b is None or a is None:
            return True
        return (b.points, b.max, b.rank, b.klass, b.group) != (a.points, a.max, a.rank, a.klass, a.group)


@dataclass(frozen=True)
class WhatIf:
    recorded_criteria: tuple[str, str]  # id, sha256
    new_criteria: tuple[str, str]
    engine: str
    moves: tuple[Move, ...]  # every unit, by unit id
    items: Comparison  # item-level changes, recorded → under the new criteria

    def movers(self) -> list[Move]:
        return [m for m in self.moves if m.moved]


def standings(criteria: CriteriaSet, units: Sequence[tuple[str, str, str, Fraction, Fraction]]) -> dict[str, Place]:
    """Rank and classify (unit id, name, type, points, max) within the criteria set's groups,
    with engine/evaluation/ranking.py: exact index, equal index → equal rank, the next rank skips."""
    from ..evaluation.ranking import UnitScore, rank_units

    ranking = rank_units(criteria, [UnitScore(uid, name, typ, pts, mx, pts) for uid, name, typ, pts, mx in units])
    out: dict[str, Place] = {}
    for g in ranking.groups:
        ranked = sum(1 for s in g.standings if s.rank is not None)
        for s in g.standings:
            out[s.score.unit_id] = Place(s.score.points, s.score.max, g.group.id, s.rank, ranked, s.klass)
    for s in ranking.ungrouped:
        out[s.score.unit_id] = Place(s.score.points, s.score.max, None, None, 0, None)
    return out


def _recorded_units(bundle: Bundle) -> list[tuple[str, str, str, Fraction, Fraction]]:
    units = []
    for name, data in sorted(bundle.results().items()):
        doc = _load_json(data)
        if isinstance(doc, dict) and str(doc.get("format", "")).startswith("cchc-result/"):
            r = unit_result(Path(f"results/{name}"), doc)
            units.append((r.unit_id, r.unit_name, r.unit_type, r.points, r.max))
    return units


def what_if_score(ctx: Context, new_criteria: Path) -> WhatIf:
    old_cs = load_criteria(ctx.role("criteria")[0])
    new_cs = load_criteria(new_criteria)
    ev = load_evidence(ctx.role("evidence"), new_cs)
    results: list[UnitResult] = decide(new_cs, ev.records, ctx.evaluator)
    new_files = result_files(new_cs, results, ctx.evaluator.name, [str(w) for w in ev.warnings])
    before_units = _recorded_units(ctx.bundle)
    after_units = [(r.unit_id, r.unit_name, r.unit_type, r.total.points, r.total.max) for r in results]
    before, after = standings(old_cs, before_units), standings(new_cs, after_units)
    names = {u[0]: (u[1], u[2]) for u in before_units + after_units}
    moves = tuple(Move(uid, names[uid][0], names[uid][1], before.get(uid), after.get(uid)) for uid in sorted(names))
    items = compare_results({k: v for k, v in ctx.bundle.results().items() if k.startswith("units/")},
                            {k: v for k, v in new_files.items() if k.startswith("units/")})
    return WhatIf((old_cs.id, old_cs.content_hash), (new_cs.id, new_cs.content_hash), ctx.evaluator.name,
                  moves, items)


def what_if_kind(kind: ReplayKind, bundle: Bundle, new_criteria: Path, evaluator: Evaluator) -> WhatIf:
    """Re-score the recorded evidence of a bundle of `kind` under another criteria set."""
    if kind.what_if is None:
        raise CchcError(_("bundles of kind {kind!r} do not support --against").format(kind=bundle.kind))
    with rebuilt(bundle, evaluator) as ctx:
        return kind.what_if(ctx, Path(new_criteria))

