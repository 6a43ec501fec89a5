"""The appraisal council's work in a round: lần 1 → the unit's giải trình → lần 2, and the survey
files. What points an appraiser may give is the engine's answer (engine.evaluation.appraisal); the final points
are the engine's round on the files `closing.py` writes. Every rule is checked here, whoever calls."""
from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Optional

from django.db import transaction
from django.utils import timezone

from engine.evaluation.appraisal import allowed_problem, allowed_values
from engine.core.model import EvidenceRecord, SubCriterion
from engine.core.numbers import exact_text, parse_number, to_fraction
from engine.inputs.survey_data import load_survey

from . import scoring
from .models import SUBMITTED, Appraisal, Explanation, SurveyFile, Unit

DRAFT_STAGE, SUBMITTED_STAGE, APPRAISED1, EXPLAINED, APPRAISED2 = (
    "draft", "submitted", "appraised1", "explained", "appraised2")
STAGES = [(DRAFT_STAGE, "Đang nhập"), (SUBMITTED_STAGE, "Đã gửi"), (APPRAISED1, "Đã thẩm định lần 1"),
          (EXPLAINED, "Đã giải trình"), (APPRAISED2, "Đã thẩm định lần 2")]
STAGE_LABELS = dict(STAGES)


class Refused(Exception):
    """Not allowed now, or not a value the item's rule gives; the message says why, in Vietnamese."""


def stage(unit: Unit) -> str:
    """Where a unit is in the round, from what was recorded (the furthest step reached)."""
    if unit.assessment.state != SUBMITTED:
        return DRAFT_STAGE
    rounds = set(unit.appraisals.values_list("round_no", flat=True))
    if 2 in rounds:
        return APPRAISED2
    if unit.explanations.exists():
        return EXPLAINED
    return APPRAISED1 if 1 in rounds else SUBMITTED_STAGE


def window(unit: Unit, round_no: int, now=None) -> bool:
    """Whether lần `round_no` of the appraisal is open: after the previous deadline, until its own."""
    now, r = now or timezone.now(), unit.round
    if r.closed_at is not None:
        return False
    if round_no == 1:
        return r.self_assessment_closes < now <= r.appraisal1_closes
    return r.explanation_closes < now <= r.appraisal2_closes


def explanation_open(unit: Unit, now=None) -> bool:
    now, r = now or timezone.now(), unit.round
    return r.closed_at is None and r.appraisal1_closes < now <= r.explanation_closes


def appraisable(unit: Unit) -> list[SubCriterion]:
    """The items an appraiser may appraise: self-assessed (never survey items), applicable to the
    unit's type and not declared not applicable by it."""
    cs = scoring.criteria_of(unit.criteria)
    na = unit.assessment.not_applicable or {}
    return [s for s in scoring.self_assessed(cs, unit.unit_type) if s.code not in na]


def self_points(unit: Unit) -> dict[str, Fraction]:
    items = (unit.assessment.result or {}).get("items", [])
    return {i["code"]: to_fraction(i["points"]) for i in items if i.get("points") is not None}


def choices(sub: SubCriterion) -> Optional[list[str]]:
    """The exact point values to choose from, highest first (None: any value the rule allows)."""
    values = allowed_values(sub)
    return None if values is None else [exact_text(v) for v in values]


@dataclass(frozen=True)
class Given:
    accept: bool
    points: str  # exact text, "" when accepted
    reason: str


def check(sub: SubCriterion, own: Optional[Fraction], accept: bool, points_text: str, reason: str) -> Given:
    """What an appraiser entered, checked as `cchc round` checks an appraisal file."""
    reason = reason.strip()
    if accept:
        if own is None:
            raise Refused(f"Mục {sub.code} chưa có điểm tự chấm để công nhận: hãy cho điểm thẩm định.")
        return Given(True, "", reason)
    try:
        points = parse_number(points_text.strip())  # as the appraisal file reader reads it
    except (ValueError, TypeError, ArithmeticError):
        raise Refused(f"Mục {sub.code}: “{points_text}” không phải là một số điểm.") from None
    problem = allowed_problem(sub, points)
    if problem:
        raise Refused(f"Mục {sub.code}: điểm không hợp lệ theo quy tắc chấm của mục ({problem}).")
    if points != own and len(reason) < 5:
        raise Refused(f"Mục {sub.code}: điều chỉnh điểm (khác điểm tự chấm) cần ghi lý do.")
    return Given(False, exact_text(points), reason)


def appraise(unit: Unit, user, round_no: int, code: str, accept: bool, points_text: str, reason: str):
    """Record lần `round_no` on one item; returns (before, after) for the audit log."""
    if round_no not in (1, 2):
        raise Refused("Chỉ có thẩm định lần 1 và lần 2.")
    if unit.assessment.state != SUBMITTED:
        raise Refused("Đơn vị chưa gửi bản tự đánh giá: chưa thẩm định được.")
    if not window(unit, round_no):
        raise Refused(f"Không trong thời gian thẩm định lần {round_no}.")
    subs = {s.code: s for s in appraisable(unit)}
    sub = subs.get(code)
    if sub is None:
        raise Refused(f"Mục {code} không thẩm định được: mục khảo sát, không áp dụng, hoặc không có trong "
                      "bộ tiêu chí của đơn vị.")
    if round_no == 2 and not Appraisal.objects.filter(unit=unit, round_no=1, item=code).exists():
        raise Refused(f"Mục {code} không được thẩm định lần 1: lần 2 chỉ xét các mục đã thẩm định lần 1.")
    given = check(sub, self_points(unit).get(code), accept, points_text, reason)
    with transaction.atomic():
        old = Appraisal.objects.select_for_update().filter(unit=unit, round_no=round_no, item=code).first()
        before = _shown(old)
        entry = old or Appraisal(unit=unit, round_no=round_no, item=code, by=user)
        entry.accept, entry.points, entry.reason, entry.by = given.accept, given.points, given.reason, user
        entry.save()
    return before, _shown(entry)


def _shown(e: Optional[Appraisal]) -> Optional[dict]:
    if e is None:
        return None
    return {"round": e.round_no, "item": e.item, "accept": e.accept, "points": e.points, "reason": e.reason}


def explain(unit: Unit, user, code: str, text: str):
    """The unit's giải trình on an item appraised in lần 1; returns (before, after)."""
    if not explanation_open(unit):
        raise Refused("Không trong thời gian giải trình.")
    if not Appraisal.objects.filter(unit=unit, round_no=1, item=code).exists():
        raise Refused(f"Mục {code} không được thẩm định lần 1: không có gì để giải trình.")
    text = text.strip()
    if len(text) < 5:
        raise Refused("Nội dung giải trình cần ít nhất 5 ký tự.")
    with transaction.atomic():
        old = Explanation.objects.select_for_update().filter(unit=unit, item=code).first()
        before = old.text if old else None
        entry = old or Explanation(unit=unit, item=code, by=user)
        entry.text, entry.by = text, user
        entry.save()
    return before, text


SURVEY_SUFFIXES = (".yaml", ".yml", ".csv", ".xlsx")


def add_survey(rc, user, name: str, content: bytes) -> list[str]:
    """Keep a survey file of a criteria set after the engine has read it without a problem (the
    same reader as `cchc round --survey`); returns the located problems otherwise."""
    name = Path(name).name
    if Path(name).suffix.lower() not in SURVEY_SUFFIXES:
        return [f"{name}: tệp khảo sát phải là .yaml, .csv hoặc .xlsx"]
    if rc.round.closed_at is not None:
        return ["Đợt đánh giá đã kết thúc."]
    cs = scoring.criteria_of(rc)
    records = [EvidenceRecord(u.code, u.name, u.unit_type, str(rc.round.year), {}, {}, "workspace")
               for u in rc.units.all()]
    with tempfile.TemporaryDirectory(prefix="cchc-survey-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(content)
        _, problems = load_survey([path], cs, records, str(rc.round.year))
    errors = [str(p).replace(str(path), name) for p in problems if p.severity == "error"]
    if errors:
        return errors
    SurveyFile.objects.update_or_create(criteria=rc, name=name, defaults=dict(
        content=content, sha256=hashlib.sha256(content).hexdigest(), by=user))
    return []
