"""In-app notices (the workspace may run with no internet: no e-mail): deadlines approaching and
passed, for the people who must act, and appraisal results for the unit's officers. Deadline notices
are made when the person next opens a page; `key` keeps each from being made twice."""
from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from . import access
from .models import ADMIN, APPRAISER, DRAFT, OFFICER, Appraisal, Notice, Round

SOON = timedelta(days=3)


def _deadlines(user) -> list[tuple[str, Round, str, object]]:
    """(key, round, what, deadline) of the deadlines this person must meet."""
    r = access.role(user)
    out = []
    if r == OFFICER and user.profile.unit_id:
        unit = user.profile.unit
        rd = unit.round
        if unit.assessment.state == DRAFT:
            out.append((f"self:{unit.pk}", rd, "hạn tự đánh giá", rd.self_assessment_closes))
        if Appraisal.objects.filter(unit=unit, round_no=1).exists():
            out.append((f"explain:{unit.pk}", rd, "hạn giải trình", rd.explanation_closes))
    elif r == APPRAISER:
        for rd in Round.objects.filter(units__in=user.profile.assigned.all(), closed_at__isnull=True).distinct():
            out.append((f"a1:{rd.pk}", rd, "hạn thẩm định lần 1", rd.appraisal1_closes))
            out.append((f"a2:{rd.pk}", rd, "hạn thẩm định lần 2", rd.appraisal2_closes))
    elif r == ADMIN:
        for rd in Round.objects.filter(closed_at__isnull=True):
            out.append((f"self:{rd.pk}", rd, "hạn tự đánh giá", rd.self_assessment_closes))
    return out


def refresh(user, now=None) -> None:
    now = now or timezone.now()
    have = set(Notice.objects.filter(user=user).values_list("key", flat=True))
    for key, rd, what, deadline in _deadlines(user):
        when = timezone.localtime(deadline).strftime("%d/%m/%Y %H:%M")
        if deadline < now and f"passed:{key}" not in have:
            Notice.objects.get_or_create(user=user, key=f"passed:{key}", defaults=dict(
                text=f"{rd.title}: đã quá {what} ({when}).", link=f"/dot/{rd.pk}/"))
        elif now <= deadline <= now + SOON and f"soon:{key}" not in have:
            Notice.objects.get_or_create(user=user, key=f"soon:{key}", defaults=dict(
                text=f"{rd.title}: sắp đến {what} ({when}).", link=f"/dot/{rd.pk}/"))


def appraised(unit, round_no: int, item: str, after: dict) -> None:
    """Tell the unit's officers what lần `round_no` decided on an item."""
    what = "công nhận điểm tự chấm" if after["accept"] else f"{after['points']} điểm"
    text = f"Thẩm định lần {round_no}, mục {item}: {what}" + (f" — {after['reason']}" if after["reason"] else "")
    for p in unit.officers.select_related("user"):
        Notice.objects.update_or_create(user=p.user, key=f"appraisal:{unit.pk}:{round_no}:{item}",
                                        defaults=dict(text=text, link=f"/don-vi/{unit.pk}/tham-dinh/", read=False))


def unread(user) -> int:
    return Notice.objects.filter(user=user, read=False).count() if user.is_authenticated else 0
