"""Appraisal (thẩm định): the council accepts or adjusts each self-assessed item, in rounds.

Round 1 (thẩm định lần 1) → the unit's explanation (giải trình) → round 2 (thẩm định lần 2). Every
round is kept; an item's final points are those of the latest round that names it, else its
self-assessed points. YAML: one unit per file (`format: cchc-appraisal/1`, any number of rounds).
CSV / Excel: one row per (unit, round, item), any number of units (columns in `APPRAISAL_COLUMNS`).

Appraised points must be points the item's own rule can give (see `allowed_problem`); a point
value that differs from the self-assessed points is an adjustment (điều chỉnh) and needs a reason.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Sequence

from .. import methods
from ..core.aggregate import roll_up
from ..core.errors import Location, Problem
from ..inputs.tables import ProblemSink, as_bool, as_date, cell_loc, load_mapping, nfc, read_each, read_table
from ..core.i18n import _
from ..core.model import CriteriaSet, EvidenceRecord, SubCriterion, UnitResult
from ..core.numbers import exact_text, parse_number, to_fraction
from ..inputs.roundio import input_files

APPRAISAL_FORMAT = "cchc-appraisal/1"
APPRAISAL_COLUMNS = ("unit_id", "round", "item", "accept", "points", "reason", "appraiser", "explanation",
                     "date")


@dataclass(frozen=True)
class AppraisalEntry:
    """One appraisal round's word on one item of one unit, as read from a file."""

    unit_id: str
    code: str
    round: int
    points: Optional[Fraction]  # None: accept (công nhận) the self-assessed points
    reason: str
    appraiser: str
    explanation: str
    date: Optional[date]
    location: Location
    unit_location: Optional[Location] = None  # where the file names the unit


@dataclass(frozen=True)
class AppraisalSet:
    entries: tuple[AppraisalEntry, ...]
    files: tuple[Path, ...]


@dataclass(frozen=True)
class AppraisalRound:
    """An appraisal round as applied: the points it set and why."""

    round: int
    points: Fraction
    accepted: bool  # the self-assessed points were accepted
    reason: str
    appraiser: str
    explanation: str
    date: Optional[date]
    location: Location


@dataclass(frozen=True)
class AppraisedUnit:
    """A unit's result after appraisal, with the self-assessment it started from."""

    result: UnitResult  # final points (latest appraisal where there is one) and their roll-ups
    self_result: UnitResult  # the engine's decisions from the unit's own evidence (and survey data)
    rounds: Mapping[str, tuple[AppraisalRound, ...]]  # item code → its rounds, oldest first

    def appraised_points(self, code: str) -> Optional[Fraction]:
        rounds = self.rounds.get(code)
        return rounds[-1].points if rounds else None


# ---------------------------------------------------------------- allowed points

def allowed_problem(sub: SubCriterion, points: Fraction) -> Optional[str]:
    """Why `points` cannot be appraised for `sub`, or None when its rule allows them: always
    0 ≤ points ≤ maximum, then what the item's compound conditions give (a band's `otherwise`
    points, a knock-out's cap), else what its scoring method admits (`appraisal_problem`: e.g. one
    of the point values the item lists, a multiple of a manual step, max − k × per_occurrence)."""
    if points < 0 or points > sub.max:
        return _("{points} points is outside [0, {max}] for item {code}").format(
            points=exact_text(points), max=exact_text(sub.max), code=sub.code)
    if sub.conditions is not None and points in sub.conditions.outcome_points():
        return None
    return methods.get(sub.method).appraisal_problem(sub, points)


def allowed_values(sub: SubCriterion) -> Optional[tuple[Fraction, ...]]:
    """The point values an appraiser may give `sub`, highest first, when its rule lists them (with
    what its compound conditions give); None when `allowed_problem` admits a range."""
    values = methods.get(sub.method).point_values(sub)
    if values is None or sub.conditions is None:
        return values
    return tuple(sorted(set(values) | sub.conditions.outcome_points(), reverse=True))


# ---------------------------------------------------------------- reading files

def load_appraisal(paths: Iterable[Path | str], criteria: CriteriaSet) -> tuple[AppraisalSet, list[Problem]]:
    """Read appraisal files; return their entries and every problem of form found."""
    sink = ProblemSink()
    files = input_files(paths)
    entries: list[AppraisalEntry] = read_each(files, _("appraisal"), sink,
                                              lambda f, name: _read_yaml(f, name, criteria, sink),
                                              lambda f, name: _read_table(f, name, sink))
    return AppraisalSet(tuple(entries), tuple(files)), sink.problems


def _points(value: Any) -> Fraction:
    if isinstance(value, bool) or value is None:
        raise ValueError
    if isinstance(value, str):
        return parse_number(value)
    return to_fraction(value)


def _read_yaml(path: Path, name: str, criteria: CriteriaSet, sink: ProblemSink) -> list[AppraisalEntry]:
    loaded = load_mapping(path, name, "appraisal.schema.json", _("one unit's appraisal"), sink)
    if loaded is None:
        return []
    doc, at = loaded

    if doc.get("criteria") not in (None, criteria.id):
        sink.add(at("criteria"), _("appraisal is for criteria set {declared!r}, not {id!r}").format(
            declared=doc["criteria"], id=criteria.id))
    unit_id = nfc(doc["unit"])
    out = []
    for ri, rnd in enumerate(doc["rounds"]):
        rno = int(rnd["round"])
        day = None
        if rnd.get("date") is not None:
            try:
                day = as_date(rnd["date"])
            except ValueError:
                sink.add(at("rounds", ri, "date"), _("date {date!r} is not a date (YYYY-MM-DD)").format(
                    date=rnd["date"]))
        for key, item in rnd["items"].items():
            where = at("rounds", ri, "items", key)
            points = None
            if "points" in item:
                try:
                    points = _points(item["points"])
                except (ValueError, TypeError, ArithmeticError):
                    sink.add(at("rounds", ri, "items", key, "points"),
                             _("points must be an exact number, got {value!r}").format(value=item["points"]))
                    continue
            entry = _entry(unit_id, nfc(key), rno, points, item.get("accept"), nfc(item.get("reason", "")),
                           nfc(item.get("appraiser", rnd.get("appraiser", ""))), nfc(item.get("explanation", "")),
                           day, where, at("unit"), sink)
            if entry is not None:
                out.append(entry)
    return out


def _entry(unit_id: str, code: str, rno: int, points: Optional[Fraction], accept: Optional[bool], reason: str,
           appraiser: str, explanation: str, day: Optional[date], where: Location, unit_at: Location,
           sink: ProblemSink) -> Optional[AppraisalEntry]:
    if accept and points is not None:
        sink.add(where, _("item {code}: give either accept (công nhận) or points (điều chỉnh), not both").format(code=code))
        return None
    if not accept and points is None:
        sink.add(where, _("item {code}: give points (with a reason) or accept: true").format(code=code))
        return None
    if not appraiser:
        sink.add(where, _("item {code}: the appraiser is missing (give it for the round or the item)").format(code=code))
        return None
    return AppraisalEntry(unit_id, code, rno, points, reason, appraiser, explanation, day, where, unit_at)


def _read_table(path: Path, name: str, sink: ProblemSink) -> list[AppraisalEntry]:
    table = read_table(path, name, sink, APPRAISAL_COLUMNS, ("unit_id", "round", "item"))
    if table is None:
        return []
    header, rows, sheet = table
    out = []
    for rowno, cells in rows:
        at = lambda col: cell_loc(name, header, rowno, col, sheet)  # noqa: E731
        empty = [c for c in ("unit_id", "round", "item") if not cells.get(c)]
        if empty:
            sink.add(at(empty[0]), _("{column} is empty").format(column=empty[0]))
            continue
        try:
            rno = int(parse_number(cells["round"], whole=True))
            if rno < 1 or parse_number(cells["round"], whole=True) != rno:
                raise ValueError
        except (ValueError, ArithmeticError):
            sink.add(at("round"), _("round must be a whole number from 1 (1: lần 1, 2: lần 2), got {value!r}").format(
                value=cells["round"]))
            continue
        points = None
        if cells.get("points"):
            try:
                points = _points(cells["points"])
            except (ValueError, ArithmeticError):
                sink.add(at("points"), _("points must be an exact number, got {value!r}").format(value=cells["points"]))
                continue
        accept = None
        if cells.get("accept"):
            try:
                accept = as_bool(cells["accept"])
            except ValueError:
                sink.add(at("accept"), _("accept must be yes or no, got {value!r}").format(value=cells["accept"]))
                continue
        day = None
        if cells.get("date"):
            try:
                day = as_date(cells["date"])
            except ValueError:
                sink.add(at("date"), _("date {date!r} is not a date (YYYY-MM-DD or dd/mm/yyyy)").format(date=cells["date"]))
        entry = _entry(cells["unit_id"], cells["item"], rno, points, accept, cells.get("reason", ""),
                       cells.get("appraiser", ""), cells.get("explanation", ""), day,
                       at("points" if points is not None else "item"), at("unit_id"), sink)
        if entry is not None:
            out.append(entry)
    return out


# ---------------------------------------------------------------- checks against the round

def check_appraisal(appraisal: AppraisalSet, criteria: CriteriaSet,
                    records: Iterable[EvidenceRecord]) -> list[Problem]:
    """Unknown units or items, items not appraisable for the unit, points the item's rule cannot
    give, an item named twice in a round, a round without the round before it."""
    return valid_appraisal(appraisal, criteria, records)[1]


def valid_appraisal(appraisal: AppraisalSet, criteria: CriteriaSet,
                    records: Iterable[EvidenceRecord]) -> tuple[AppraisalSet, list[Problem]]:
    """The entries that pass `check_appraisal`, and the problems of the others."""
    units = {r.unit_id: r for r in records}
    valid: list[AppraisalEntry] = []
    subs = {s.code: s for s in criteria.sub_criteria()}
    problems: list[Problem] = []
    seen: dict[tuple[str, int, str], Location] = {}
    rounds: dict[str, dict[int, Location]] = {}
    for e in appraisal.entries:
        rec = units.get(e.unit_id)
        if rec is None:
            problems.append(Problem.at(e.unit_location or e.location,
                                       _("appraisal of unknown unit {unit!r}: no evidence was given for it "
                                         "in this round").format(unit=e.unit_id)))
            continue
        sub = subs.get(e.code)
        if sub is None:
            problems.append(Problem.at(e.location, _("appraisal of unknown item {code!r} (unit {unit}); "
                                                     "criteria set {id} has no such sub-criterion").format(
                code=e.code, unit=e.unit_id, id=criteria.id)))
            continue
        if not sub.applies(rec.unit_type):
            problems.append(Problem.at(e.location, _("item {code} does not apply to unit {unit} "
                                                     "(type {type}); it is not scored, so not appraised").format(
                code=e.code, unit=e.unit_id, type=rec.unit_type)))
            continue
        if e.code in rec.not_applicable:
            problems.append(Problem.at(e.location, _("unit {unit} declared item {code} not applicable "
                                                     "({reason}); it is not appraised").format(
                unit=e.unit_id, code=e.code, reason=rec.not_applicable[e.code])))
            continue
        if sub.source == "survey":
            problems.append(Problem.at(e.location, _("item {code} is scored from survey data (source: survey); "
                                                     "it is neither self-assessed nor appraised").format(code=e.code)))
            continue
        if e.points is not None:
            why = allowed_problem(sub, e.points)
            if why:
                problems.append(Problem.at(e.location, _("unit {unit}: {reason}").format(unit=e.unit_id, reason=why)))
                continue
        key = (e.unit_id, e.round, e.code)
        if key in seen:
            problems.append(Problem.at(e.location, _("item {code} of unit {unit} is appraised twice in "
                                                     "round {round} (first on {first})").format(
                code=e.code, unit=e.unit_id, round=e.round, first=seen[key])))
            continue
        seen[key] = e.location
        rounds.setdefault(e.unit_id, {}).setdefault(e.round, e.location)
        valid.append(e)
    gaps = set()
    for unit_id, by_round in sorted(rounds.items()):
        for rno, where in sorted(by_round.items()):
            if rno > 1 and rno - 1 not in by_round:
                gaps.add((unit_id, rno))
                problems.append(Problem.at(where, _("round {round} of unit {unit} has no round {before} before it "
                                                    "(thẩm định lần 1 → giải trình → lần 2)").format(
                    round=rno, unit=unit_id, before=rno - 1)))
    valid = [e for e in valid if (e.unit_id, e.round) not in gaps]
    return AppraisalSet(tuple(valid), appraisal.files), problems


def apply_appraisal(criteria: CriteriaSet, results: Sequence[UnitResult],
                    appraisal: AppraisalSet) -> tuple[list[AppraisedUnit], list[Problem]]:
    """Final points per item: the latest round that names it, else the self-assessed points; roll-ups
    recomputed from the final points. A point value that differs from the self-assessed points is an
    adjustment and needs a reason. Expects entries that passed `check_appraisal`."""
    by_unit: dict[str, dict[str, list[AppraisalEntry]]] = {}
    for e in appraisal.entries:
        by_unit.setdefault(e.unit_id, {}).setdefault(e.code, []).append(e)
    problems: list[Problem] = []
    out = []
    for res in results:
        items = by_unit.get(res.unit_id, {})
        decisions, rounds = [], {}
        for d in res.decisions:
            entries = sorted(items.get(d.code, ()), key=lambda e: e.round)
            if not entries:
                decisions.append(d)
                continue
            applied = []
            for e in entries:
                pts = d.points if e.points is None else e.points
                if pts != d.points and not e.reason:
                    problems.append(Problem.at(e.location, _("unit {unit}, item {code}: appraised "
                                                 "{points} points instead of the self-assessed "
                                                 "{self_points} without a reason (điều chỉnh cần lý do)").format(
                        unit=res.unit_id, code=d.code, points=exact_text(pts), self_points=exact_text(d.points))))
                applied.append(AppraisalRound(e.round, pts, e.points is None or pts == d.points, e.reason,
                                              e.appraiser, e.explanation, e.date, e.location))
            rounds[d.code] = tuple(applied)
            decisions.append(replace(d, points=applied[-1].points))
        if not rounds:  # nothing appraised: the self-assessment is final, roll-ups and all
            out.append(AppraisedUnit(res, res, {}))
            continue
        crit, areas, total = roll_up(criteria, decisions)
        final = replace(res, decisions=tuple(decisions), criteria=crit, areas=areas, total=total)
        out.append(AppraisedUnit(final, res, dict(sorted(rounds.items()))))
    return out, problems
