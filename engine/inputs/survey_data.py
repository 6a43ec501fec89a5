"""Survey data (điều tra xã hội học) per unit, turned into metric values for the survey items.

YAML: one unit per file (`format: cchc-survey/1`). CSV / Excel: one row per metric value or per
answer option, any number of units (columns in `SURVEY_COLUMNS`). Survey items (`source: survey`)
are never self-scored: their metrics are filled from these files only.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Mapping, Optional, Sequence

from .. import methods
from ..core.errors import Location, Problem
from ..core.i18n import _
from .evidence import RawUnit, RawValue, typed_value
from .tables import Cell, ProblemSink, cell_loc, load_mapping, nfc, read_each, read_table, row_citation
from ..core.model import CriteriaSet, EvidenceRecord, MetricValue
from .roundio import input_files

SURVEY_FORMAT = "cchc-survey/1"
SURVEY_COLUMNS = ("unit_id", "metric", "option", "value", "numerator", "denominator", "document", "date",
                  "issuer", "file", "note", "not_applicable", "reason")


def survey_metrics(criteria: CriteriaSet) -> set[str]:
    """Metrics read by survey items (source: survey)."""
    return {s.metric for s in criteria.sub_criteria() if s.source == "survey"}


def mixed_metric_problems(criteria: CriteriaSet) -> list[Problem]:
    """A metric read by a survey item and by a self-assessed item could be self-scored through the
    back door: each survey item must read a metric of its own."""
    survey = survey_metrics(criteria)
    out = []
    for s in criteria.sub_criteria():
        if s.source == "self" and s.metric in survey:
            readers = sorted(x.code for x in criteria.sub_criteria()
                             if x.metric == s.metric and x.source == "survey")
            out.append(Problem(criteria.path, s.line, 1,
                               _("item {code} is self-assessed but reads metric {metric!r}, which survey "
                                 "item(s) {readers} also read; a survey metric is filled from "
                                 "survey data only").format(code=s.code, metric=s.metric, readers=", ".join(readers))))
    return out


@dataclass(frozen=True)
class SurveySet:
    """Survey values per unit: unit id → metric id → value (located in its survey file); and the
    survey items the survey organiser declares not applicable: unit id → item code → reason."""

    values: Mapping[str, Mapping[str, MetricValue]]
    files: tuple[Path, ...]
    not_applicable: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class SurveyRead:
    """Survey files read but not yet checked against a round's evidence (`checked_survey`): each
    unit's entries as read, by unit id in the order read (with whether the entry comes from a YAML
    file, whose values take the round's period), what reading them found wrong, and the period
    each YAML file gives, with where. A round reads them before its evidence, so that each unit's
    are checked and typed where the unit is decided (`unit_survey`)."""

    files: tuple[Path, ...]
    units: Mapping[str, tuple[tuple[RawUnit, bool], ...]]
    problems: tuple[Problem, ...]
    periods: tuple[tuple[str, Location], ...]


def read_survey(paths: Iterable[Path | str], criteria: CriteriaSet) -> SurveyRead:
    """Read survey files; check them against the round's units with `checked_survey`."""
    sink = ProblemSink()
    files = input_files(paths)
    periods: list[tuple[str, Location]] = []
    read: list[tuple[RawUnit, bool]] = read_each(
        files, _("survey"), sink, lambda f, name: [(u, True) for u in _read_yaml(f, name, criteria, periods, sink)],
        lambda f, name: [(u, False) for u in _read_table(f, name, sink)])
    units: dict[str, list[tuple[RawUnit, bool]]] = {}
    for entry in read:
        units.setdefault(entry[0].unit_id, []).append(entry)
    return SurveyRead(tuple(files), {u: tuple(e) for u, e in units.items()}, tuple(sink.problems), tuple(periods))


def load_survey(paths: Iterable[Path | str], criteria: CriteriaSet, records: Iterable[EvidenceRecord],
                period: Optional[str] = None) -> tuple[SurveySet, list[Problem]]:
    """Read survey files for the units of `records`; return the values and every problem found."""
    return checked_survey(read_survey(paths, criteria), criteria, records, period)


# one unit's survey data as `unit_survey` checked it: its values, its not-applicable marks, the problems
UnitSurvey = tuple[dict[str, MetricValue], dict[str, str], tuple[Problem, ...]]


def checked_survey(read: SurveyRead, criteria: CriteriaSet, records: Iterable[EvidenceRecord],
                   period: Optional[str] = None,
                   checked: Optional[Mapping[str, UnitSurvey]] = None) -> tuple[SurveySet, list[Problem]]:
    """The survey values of the units of `records` and every problem of the survey data read:
    data for a unit the evidence does not give, a YAML file's period other than the round's, and
    each unit's own (`unit_survey`; `checked`: units already checked so, where they were decided,
    taken as they are when their evidence gives the round's period, the one they were typed with)."""
    sink = ProblemSink()
    sink.problems += read.problems
    for given, where in read.periods:
        if period is not None and given != period:
            sink.add(where, _("survey period {given!r} is not the round's period {period!r}").format(
                given=given, period=period))
    known = {r.unit_id: r for r in records}
    values: dict[str, dict[str, MetricValue]] = {}
    na: dict[str, dict[str, str]] = {}
    for unit_id, entries in read.units.items():
        rec = known.get(unit_id)
        if rec is None:
            for unit, _yaml in entries:
                sink.add(unit.location, _("survey data for unknown unit {unit!r}: no evidence was given "
                                          "for it in this round").format(unit=unit_id))
            continue
        done = checked.get(unit_id) if checked and rec.period == period else None
        if done is None:
            unit_values, unit_na = unit_survey(criteria, entries, rec.unit_type, period, sink)
        else:
            unit_values, unit_na, problems = done
            sink.problems += problems
        if unit_values:
            values[unit_id] = unit_values
        if unit_na:
            na[unit_id] = unit_na
    return SurveySet(dict(sorted(values.items())), read.files, dict(sorted(na.items()))), sink.problems


def unit_survey(criteria: CriteriaSet, entries: Sequence[tuple[RawUnit, bool]], unit_type: str,
                period: Optional[str], sink: ProblemSink) -> tuple[dict[str, MetricValue], dict[str, str]]:
    """One unit's survey values and the survey items declared not applicable to it, from its
    entries as read (`SurveyRead.units`), typed and checked against the criteria set and the
    unit's type: what fails a check is left out and said in `sink`."""
    wanted = survey_metrics(criteria)
    subs = criteria.sub_criteria()
    values: dict[str, MetricValue] = {}
    na: dict[str, str] = {}
    first_seen: dict[str, Location] = {}
    for unit, from_yaml in entries:
        if from_yaml:
            unit = replace(unit, period=period or "")
        for mid, raw in sorted(unit.metrics.items()):
            spec = criteria.metrics.get(mid)
            if spec is None:
                sink.add(raw.location, _("unknown metric {metric!r}; criteria set {id} declares: {metrics}").format(
                    metric=mid, id=criteria.id, metrics=", ".join(sorted(criteria.metrics))))
                continue
            if mid not in wanted:
                sink.add(raw.location, _("metric {metric!r} is not read by any survey item (source: survey); "
                                         "survey data gives survey metrics only: {metrics}").format(
                    metric=mid, metrics=", ".join(sorted(wanted)) or _("(none in this criteria set)")))
                continue
            if mid in first_seen:
                sink.add(raw.location, _("survey metric {metric} of unit {unit} is given twice "
                                         "(first on {first})").format(metric=mid, unit=unit.unit_id, first=first_seen[mid]))
                continue
            first_seen[mid] = raw.location
            mv = typed_value(spec, raw, unit, sink)
            if mv is None:
                continue
            bad = False
            for s in subs:
                if s.metric == mid and s.applies(unit_type):
                    problem = methods.get(s.method).check_value(s.params, s.max, mv)
                    if problem:
                        sink.add(raw.location, _("{metric} (item {code}): {problem}").format(
                            metric=mid, code=s.code, problem=problem))
                        bad = True
            if not bad:
                values[mid] = mv
        for code, (reason, at) in sorted(unit.not_applicable.items()):
            sub = next((s for s in subs if s.code == code), None)
            if sub is None or sub.source != "survey":
                sink.add(at, _("not_applicable names {code!r}, which is not a survey item of criteria set "
                               "{id}; survey data declares survey items only").format(code=code, id=criteria.id))
            elif not reason:
                sink.add(at, _("survey item {code} is declared not applicable without a reason").format(code=code))
            elif code in na:
                sink.add(at, _("survey item {code} of unit {unit} is declared not applicable twice").format(
                    code=code, unit=unit.unit_id))
            elif sub.metric in unit.metrics or sub.metric in values:
                sink.add(at, _("survey item {code} of unit {unit} is declared not applicable, but the "
                               "survey data gives its metric {metric!r}").format(code=code, unit=unit.unit_id, metric=sub.metric))
            else:
                na[code] = reason
    return dict(sorted(values.items())), dict(sorted(na.items()))


def _read_yaml(path: Path, name: str, criteria: CriteriaSet, periods: list[tuple[str, Location]],
               sink: ProblemSink) -> list[RawUnit]:
    loaded = load_mapping(path, name, "survey.schema.json", _("one unit's survey data"), sink)
    if loaded is None:
        return []
    doc, at = loaded

    if doc.get("criteria") not in (None, criteria.id):
        sink.add(at("criteria"), _("survey data is for criteria set {declared!r}, not {id!r}").format(
            declared=doc["criteria"], id=criteria.id))
    if "period" in doc:
        periods.append((nfc(doc["period"]), at("period")))
    unit = RawUnit(nfc(doc["unit"]), "", "", "", at("unit"), name, path.parent)
    default_citation = doc.get("citation")
    for code, reason in (doc.get("not_applicable") or {}).items():
        unit.not_applicable[nfc(code)] = (nfc(reason), at("not_applicable", code))
    for mid, m in (doc.get("metrics") or {}).items():
        raw = RawValue(location=at("metrics", mid), citation=m.get("citation", default_citation))
        raw.given = {k for k in ("value", "numerator", "denominator", "responses") if k in m}
        raw.value, raw.numerator, raw.denominator = m.get("value"), m.get("numerator"), m.get("denominator")
        if "responses" in m:
            raw.responses = {nfc(k): (v, at("metrics", mid, "responses", k)) for k, v in m["responses"].items()}
        unit.metrics[nfc(mid)] = raw
    return [unit]


def _read_table(path: Path, name: str, sink: ProblemSink) -> list[RawUnit]:
    table = read_table(path, name, sink, SURVEY_COLUMNS, ("unit_id", "metric"))
    if table is None:
        return []
    header, rows, sheet = table
    units: dict[str, RawUnit] = {}
    for rowno, cells in rows:
        at = lambda col: cell_loc(name, header, rowno, col, sheet)  # noqa: E731
        if not cells.get("unit_id"):
            sink.add(at("unit_id"), _("{column} is empty").format(column="unit_id"))
            continue
        unit = units.get(cells["unit_id"])
        if unit is None:
            unit = units[cells["unit_id"]] = RawUnit(cells["unit_id"], "", "", "", at("unit_id"), name, path.parent)
        na = cells.get("not_applicable", "")
        if na:
            if cells.get("metric"):
                sink.add(at("not_applicable"), _("a row gives either a metric or a not_applicable item, not both"))
            elif na in unit.not_applicable:
                sink.add(at("not_applicable"), _("survey item {code} of unit {unit} is declared not applicable twice").format(
                    code=na, unit=unit.unit_id))
            else:
                unit.not_applicable[na] = (cells.get("reason", ""), at("not_applicable"))
            continue
        if not cells.get("metric"):
            sink.add(at("metric"), _("metric is empty (or give not_applicable)"))
            continue
        metric = cells["metric"]
        citation = row_citation(cells, at, sink)
        existing = unit.metrics.get(metric)
        option = cells.get("option", "")
        if option:
            if existing is not None and existing.responses is None:
                sink.add(at("option"), _("metric {metric} is given twice (see {at})").format(
                    metric=metric, at=existing.location))
                continue
            raw = existing or RawValue(location=at("metric"), citation=citation)
            if raw.citation is None:
                raw.citation = citation
            raw.responses = raw.responses or {}
            raw.given.add("responses")
            if option in raw.responses:
                sink.add(at("option"), _("answer option {option!r} of {metric} is given twice").format(
                    option=option, metric=metric))
                continue
            raw.responses[option] = (cells.get("value", ""), at("value"))
            unit.metrics[metric] = raw
            continue
        if existing is not None:
            sink.add(at("metric"), _("metric {metric} of unit {unit} is given twice (first on {at})").format(
                metric=metric, unit=unit.unit_id, at=existing.location))
            continue
        raw = RawValue(location=at("metric"), citation=citation)
        for k in ("value", "numerator", "denominator"):
            if cells.get(k, "") != "":
                raw.given.add(k)
                setattr(raw, k, Cell(cells[k], at(k)))
        unit.metrics[metric] = raw
    return list(units.values())
