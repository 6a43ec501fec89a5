"""Where a round's inputs say what they may not: a problem points at the file and line (or CSV row)
of the record at fault."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Optional, Sequence

from ..errors import InputError, Problem
from ..model import CriteriaSet, EvidenceRecord
from ..roundio import problem_at
from ..survey_data import mixed_metric_problems, survey_metrics
from ..yamlio import load_yaml, position


def located(rec: EvidenceRecord, yaml_path: list, column: str, match: Optional[tuple[str, str]] = None) -> Problem:
    """Where a record says something (its evidence file is read again only to find the line)."""
    src = Path(rec.source)
    try:
        if src.suffix.lower() in (".yaml", ".yml"):
            line, col = position(load_yaml(src, rec.source), yaml_path)
            return Problem(rec.source, line, col)
        if src.suffix.lower() == ".csv":
            from ..tables import ProblemSink, rows_from_csv

            header, rows = rows_from_csv(src, rec.source, ProblemSink())
            for rowno, cells in rows:
                if cells.get("unit_id") == rec.unit_id and (match is None or cells.get(match[0]) == match[1]):
                    return Problem(rec.source, rowno, header.index(column) + 1 if column in header else 1)
    except InputError:
        pass
    return Problem(rec.source)


def at(p: Problem, message: str) -> Problem:
    return replace(p, message=message)


def round_problems(criteria: CriteriaSet, records: Sequence[EvidenceRecord]) -> tuple[str, list[Problem]]:
    """The round's period, and what the units' own evidence may not say in a round: survey values
    (survey items are never self-scored) and a period other than the round's."""
    problems = mixed_metric_problems(criteria)
    periods = sorted({r.period for r in records})
    period = max(periods, key=lambda p: (sum(1 for r in records if r.period == p), p)) if periods else ""
    for rec in records:
        if rec.period != period:
            problems.append(at(located(rec, ["period"], "period"),
                               f"unit {rec.unit_id} reports period {rec.period!r} but the round's period is "
                               f"{period!r}: one round scores one period"))
    survey = survey_metrics(criteria)
    subs = {s.code: s for s in criteria.sub_criteria()}
    for rec in records:
        for mid, mv in rec.values.items():
            if mid in survey:
                readers = sorted(s.code for s in subs.values() if s.metric == mid)
                problems.append(problem_at(mv.location, f"unit {rec.unit_id} gives its own value for survey metric "
                                                        f"{mid!r} (item {', '.join(readers)}): survey items are "
                                                        "scored from survey data (--survey), never self-scored"))
        for code in rec.not_applicable:
            if code in subs and subs[code].source == "survey":
                problems.append(at(located(rec, ["not_applicable", code], "not_applicable", ("not_applicable", code)),
                                   f"unit {rec.unit_id} declares survey item {code} not applicable: survey items "
                                   "are not self-assessed (the survey data declares them not applicable)"))
    return period, problems


def shown(p: Problem) -> str:
    if p.where:
        return f"{p.file}:{p.where}"
    return f"{p.file}:{p.line}:{p.col}" if p.line else p.file
