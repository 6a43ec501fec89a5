"""What the pages do, apart from the pages: create a round, save a unit's form through the engine,
submit, withdraw, reopen. Each checks the submit-and-lock rule itself, whoever calls it."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Optional

from django.db import transaction
from django.utils import timezone

from . import scoring
from .forms import AssessmentForm, form_data
from .models import DRAFT, SUBMITTED, Assessment, Reopening, Round, RoundCriteria, Unit
from .units import read_units


class Refused(Exception):
    """An action the rules do not allow now; the message says why, in Vietnamese."""


@dataclass
class NewRound:
    round: Optional[Round]
    problems: list[str]


def create_round(fields: dict, criteria_files: list[tuple[str, bytes]], units_file: tuple[str, bytes],
                 previous: Optional[dict[str, str]] = None) -> NewRound:
    """A round with its criteria sets (each validated by the engine: `file:line:col` problems) and its
    units; nothing is created unless everything is valid. `previous`: last year's `round.json` per
    criteria set id, kept for the comparison with last year."""
    problems: list[str] = []
    loaded = []
    for name, content in criteria_files:
        cs, found = scoring.criteria_problems(content, name)
        problems += [str(p) for p in found]
        if cs is not None:
            loaded.append((name, content, cs))
    ids = [cs.id for _, _, cs in loaded]
    for dup in sorted({i for i in ids if ids.count(i) > 1}):
        problems.append(f"bộ tiêu chí {dup} được tải lên hai lần")
    if problems:
        return NewRound(None, problems)
    rows, unit_problems = read_units(units_file[1], units_file[0],
                                     {cs.id: cs.unit_type_ids() for _, _, cs in loaded})
    if unit_problems:
        return NewRound(None, unit_problems)
    with transaction.atomic():
        r = Round.objects.create(**fields)
        sets = {cs.id: RoundCriteria.objects.create(
            round=r, name=name, content=content, sha256=hashlib.sha256(content).hexdigest(), criteria_id=cs.id,
            title=cs.title, unit_types=sorted(cs.unit_type_ids()), previous_round=(previous or {}).get(cs.id, ""))
            for name, content, cs in loaded}
        for row in rows:
            unit = Unit.objects.create(round=r, code=row.code, name=row.name, unit_type=row.unit_type,
                                       criteria=sets[row.criteria_id])
            Assessment.objects.create(unit=unit)
    return NewRound(r, [])


def assessment_form(unit: Unit, a: Assessment, data: Optional[dict] = None, *, disabled: bool = False,
                    files=None) -> AssessmentForm:
    """The unit's form, bound to what was posted or else to what is stored (so stored mistakes show
    their messages again), with the engine's problems of the last save next to their fields."""
    cs = scoring.criteria_of(unit.criteria)
    bound = data if data is not None else form_data(a.values, a.not_applicable)
    form = AssessmentForm(cs, unit.unit_type, a.values, a.not_applicable, bound, disabled=disabled)
    form.full_clean()
    form.general_problems = []
    if data is None:
        for p in a.problems:
            if not form.add_engine_problem(p["field"], p["message"]):
                form.general_problems.append(p["message"])
    return form


def save(unit: Unit, user, form: AssessmentForm) -> Assessment:
    """Score what the form holds through the engine and store it with the result; refused when the
    form is not open for editing (checked again inside the transaction)."""
    values, na = form.values(), form.not_applicable()
    outcome = scoring.evaluate(unit, form.cs, form.scorable_values(), na)
    with transaction.atomic():
        a = Assessment.objects.select_for_update().select_related("unit__round").get(unit=unit)
        if not a.editable():
            raise Refused(locked_reason(a))
        a.values, a.not_applicable = values, na
        a.result, a.problems = outcome.result, outcome.problems
        a.version += 1
        a.saved_at, a.saved_by = timezone.now(), user
        a.save()
    return a


def locked_reason(a: Assessment) -> str:
    if a.state == SUBMITTED:
        return "Bản tự đánh giá đã gửi và đang khóa; rút lại để sửa (khi còn hạn)."
    if timezone.now() < a.unit.round.self_assessment_opens:
        return "Chưa đến thời gian tự đánh giá."
    return "Đã hết hạn tự đánh giá: chỉ xem. Sở Nội vụ có thể mở lại cho đơn vị (kèm lý do)."


def submit(unit: Unit) -> None:
    with transaction.atomic():
        a = Assessment.objects.select_for_update().select_related("unit__round").get(unit=unit)
        if not a.can_submit():
            raise Refused(locked_reason(a))
        if a.result is None:
            raise Refused("Chưa gửi được: bộ chấm điểm chưa tính được điểm (xem các lỗi trong biểu mẫu).")
        a.state, a.submitted_at, a.reopened = SUBMITTED, timezone.now(), False
        a.save()


def withdraw(unit: Unit) -> None:
    with transaction.atomic():
        a = Assessment.objects.select_for_update().select_related("unit__round").get(unit=unit)
        if not a.can_withdraw():
            raise Refused("Chỉ rút lại được bản đã gửi, trước hạn tự đánh giá.")
        a.state = DRAFT
        a.save()


def reopen(unit: Unit, user, reason: str) -> None:
    with transaction.atomic():
        a = Assessment.objects.select_for_update().select_related("unit__round").get(unit=unit)
        if not a.can_reopen():
            raise Refused("Chỉ mở lại sau hạn tự đánh giá, cho bản chưa được mở lại.")
        Reopening.objects.create(unit=unit, by=user, reason=reason)
        a.state, a.reopened = DRAFT, True
        a.save()
