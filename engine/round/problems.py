"""Where a round's inputs say what they may not: a problem points at the file and line (or CSV row)
of the record at fault, as its reader recorded it."""
from __future__ import annotations

from typing import Optional, Sequence

from ..core.errors import Location, Problem
from ..core.i18n import _
from ..core.model import CriteriaSet, EvidenceRecord
from ..inputs.survey_data import mixed_metric_problems, survey_metrics


def where(rec: EvidenceRecord, location: Optional[Location]) -> Location:
    """A place the evidence reader recorded for the record, else its evidence file."""
    return location or Location(rec.source)


def round_problems(criteria: CriteriaSet, records: Sequence[EvidenceRecord]) -> tuple[str, list[Problem]]:
    """The round's period, and what the units' own evidence may not say in a round: survey values
    (survey items are never self-scored) and a period other than the round's."""
    problems = mixed_metric_problems(criteria)
    periods = sorted({r.period for r in records})
    period = max(periods, key=lambda p: (sum(1 for r in records if r.period == p), p)) if periods else ""
    for rec in records:
        if rec.period != period:
            problems.append(Problem.at(where(rec, rec.period_location),
                                       _("unit {unit} reports period {given!r} but the round's period is "
                                         "{period!r}: one round scores one period").format(
                                           unit=rec.unit_id, given=rec.period, period=period)))
    survey = survey_metrics(criteria)
    subs = {s.code: s for s in criteria.sub_criteria()}
    for rec in records:
        for mid, mv in rec.values.items():
            if mid in survey:
                readers = sorted(s.code for s in subs.values() if s.metric == mid)
                problems.append(Problem.at(mv.location, _("unit {unit} gives its own value for survey metric "
                                                          "{metric!r} (item {items}): survey items are "
                                                          "scored from survey data (--survey), never self-scored").format(
                    unit=rec.unit_id, metric=mid, items=", ".join(readers))))
        for code in rec.not_applicable:
            if code in subs and subs[code].source == "survey":
                problems.append(Problem.at(where(rec, rec.not_applicable_at.get(code)),
                                           _("unit {unit} declares survey item {code} not applicable: survey items "
                                             "are not self-assessed (the survey data declares them not applicable)").format(
                                               unit=rec.unit_id, code=code)))
    return period, problems
