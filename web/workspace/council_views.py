"""Pages of the appraisal council, the province dashboard, the closing of a round, the audit log and
the notices. Who may do what is checked here on every request (and again in council.py)."""
from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from engine.storage.bundle import BUNDLE_NAME
from engine.core.errors import CchcError
from reports.province import province_context

from . import access, audit, closing, council, notices, scoring
from .models import ADMIN, APPRAISER, AUDITOR, SUBMITTED, AuditEntry, Notice, Profile, Round, RoundCriteria


def _download(path, name):
    resp = FileResponse(path.open("rb"), as_attachment=True, filename=name, content_type="application/octet-stream")
    resp["X-Content-Type-Options"] = "nosniff"
    resp["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return resp


def _require(user, *roles) -> None:
    if access.role(user) not in roles:
        raise PermissionDenied


# ---------------------------------------------------------------- appraisal and explanation

@login_required
@require_http_methods(["GET", "POST"])
def appraisal_page(request, pk: int):
    unit = access.unit_for(request.user, pk)
    is_appraiser = access.role(request.user) == APPRAISER
    if request.method == "POST":
        if not is_appraiser:
            raise PermissionDenied
        round_no = int(request.POST.get("round_no") or 0) if (request.POST.get("round_no") or "").isdigit() else 0
        code = request.POST.get("item", "")
        try:
            before, after = council.appraise(unit, request.user, round_no, code, request.POST.get("accept") == "yes",
                                             request.POST.get("points", ""), request.POST.get("reason", ""))
        except council.Refused as exc:
            messages.error(request, str(exc))
        else:
            audit.record(request, "appraise", unit=unit, before=before, after=after)
            notices.appraised(unit, round_no, code, after)
            messages.success(request, f"Đã ghi ý kiến thẩm định lần {round_no} cho mục {code}.")
        return redirect(f"/don-vi/{unit.pk}/tham-dinh/#item-{code}")
    a = unit.assessment
    decisions = scoring.shown_items(scoring.criteria_of(unit.criteria), scoring.stored_result(unit.code, a.result))
    entries = {(e.item, e.round_no): e for e in unit.appraisals.select_related("by")}
    explanations = {e.item: e for e in unit.explanations.all()}
    files: dict[str, list] = {}
    for f in unit.files.all():
        files.setdefault(f.item, []).append(f)
    can = {n: is_appraiser and a.state == SUBMITTED and council.window(unit, n) for n in (1, 2)}
    officer = access.is_officer_of(request.user, unit)
    items = []
    for sub in council.appraisable(unit):
        first = entries.get((sub.code, 1))
        items.append({"sub": sub, "decision": decisions.get(sub.code), "files": files.get(sub.code, []),
                      "choices": council.choices(sub), "first": first, "second": entries.get((sub.code, 2)),
                      "explanation": explanations.get(sub.code),
                      "can1": can[1], "can2": can[2] and first is not None,
                      "can_explain": officer and first is not None and council.explanation_open(unit)})
    cs = scoring.criteria_of(unit.criteria)
    survey = [s for s in cs.sub_criteria() if s.source == "survey" and s.applies(unit.unit_type)]
    return render(request, "workspace/appraisal.html", {
        "unit": unit, "a": a, "items": items, "stage": council.STAGE_LABELS[council.stage(unit)],
        "survey": survey, "is_appraiser": is_appraiser, "officer": officer, "now": timezone.now()})


@login_required
@require_POST
def explain(request, pk: int):
    unit = access.unit_for(request.user, pk)
    if not access.is_officer_of(request.user, unit):
        raise PermissionDenied
    code = request.POST.get("item", "")
    try:
        before, after = council.explain(unit, request.user, code, request.POST.get("text", ""))
    except council.Refused as exc:
        messages.error(request, str(exc))
    else:
        audit.record(request, "explain", unit=unit, before=before, after={"item": code, "text": after})
        messages.success(request, f"Đã gửi giải trình mục {code}.")
    return redirect(f"/don-vi/{unit.pk}/tham-dinh/#item-{code}")


# ---------------------------------------------------------------- the administrator's round pages

def _round(pk: int) -> Round:
    r = Round.objects.filter(pk=pk).first()
    if r is None:
        raise Http404
    return r


@login_required
@require_http_methods(["GET", "POST"])
def survey(request, pk: int):
    _require(request.user, ADMIN)
    r = _round(pk)
    problems: list[str] = []
    if request.method == "POST":
        rc = r.criteria_sets.filter(pk=request.POST.get("criteria") or 0).first() \
            if (request.POST.get("criteria") or "").isdigit() else None
        f = request.FILES.get("file")
        if rc is None or f is None:
            problems = ["Chọn bộ tiêu chí và tệp số liệu khảo sát."]
        elif f.size > 20 * 1024 * 1024:
            problems = [f"{f.name}: tệp quá lớn."]
        else:
            content = f.read()
            problems = council.add_survey(rc, request.user, f.name, content)
            if not problems:
                audit.record(request, "upload", round=r, before=None, after={
                    "survey": f.name, "criteria": rc.criteria_id, "sha256": rc.survey_files.get(name=f.name).sha256})
                messages.success(request, f"Đã nhận tệp khảo sát “{f.name}”.")
                return redirect("survey", pk=r.pk)
    return render(request, "workspace/survey.html", {"round": r, "problems": problems,
                                                     "sets": r.criteria_sets.prefetch_related("survey_files")},
                  status=400 if problems else 200)


def _ranking(rc: RoundCriteria) -> list[dict]:
    """The closed round's groups as the province report shows them (its SVG chart included)."""
    doc = closing.round_summary(rc)
    if doc is None:
        return []
    return province_context(doc, scoring.criteria_of(rc))["groups"]


@login_required
@require_GET
def dashboard(request, pk: int):
    _require(request.user, ADMIN, AUDITOR)
    r = _round(pk)
    now = timezone.now()
    rows, counts = [], {k: 0 for k, _ in council.STAGES}
    units = r.units.select_related("assessment", "criteria").prefetch_related("appraisals", "explanations")
    for u in units.order_by("criteria__criteria_id", "name"):
        st = council.stage(u)
        counts[st] += 1
        late = u.assessment.state != SUBMITTED and now > r.self_assessment_closes
        total = (u.assessment.result or {}).get("total") or {}
        rows.append({"unit": u, "stage": st, "label": council.STAGE_LABELS[st], "late": late,
                     "index": total.get("index")})
    sets = [{"rc": rc, "groups": _ranking(rc), "closing": getattr(rc, "closing", None),
             "units": sorted(p.stem for p in (closing.folder_of(rc) / "out" / "units").glob("*.json"))
             if getattr(rc, "closing", None) else []}
            for rc in r.criteria_sets.select_related("closing").order_by("criteria_id")]
    return render(request, "workspace/dashboard.html", {
        "round": r, "rows": rows, "counts": [(k, label, counts[k]) for k, label in council.STAGES],
        "late": [row for row in rows if row["late"]], "sets": sets, "now": now,
        "can_close": access.is_admin(request.user) and r.closed_at is None and now > r.appraisal2_closes,
        "kinds": closing.REPORT_KINDS})


@login_required
@require_POST
def close_round(request, pk: int):
    _require(request.user, ADMIN)
    r = _round(pk)
    try:
        done = closing.close(r, request)
    except closing.CloseRefused as exc:
        for p in exc.problems[:50]:
            messages.error(request, p)
    else:
        messages.success(request, "Đã kết thúc đợt đánh giá: " + "; ".join(
            f"{c.criteria.title}: {c.units} đơn vị" for c in done))
    return redirect("dashboard", pk=r.pk)


@login_required
@require_GET
def result_file(request, pk: int, rc: int, name: str):
    """The bundle of a closed round, or one of its reports (province: administrator and auditor; a
    unit's: also whoever may see that unit)."""
    r = _round(pk)
    criteria = r.criteria_sets.select_related("closing").filter(pk=rc).first()
    stem = name.rpartition(".")[0]
    allowed = access.role(request.user) in (ADMIN, AUDITOR) or (
        criteria is not None and stem not in ("province", "bundle") and access.visible_units(request.user).filter(
            round=r, criteria=criteria, code=stem).exists())
    if not allowed:
        raise PermissionDenied
    if criteria is None or getattr(criteria, "closing", None) is None:
        raise Http404
    if name == BUNDLE_NAME:
        path = closing.folder_of(criteria) / "out" / BUNDLE_NAME
    else:
        try:
            path = closing.report_file(criteria, name)
        except CchcError as exc:
            messages.error(request, str(exc))
            return redirect("dashboard", pk=r.pk)
    if path is None or not path.is_file():
        raise Http404
    return _download(path, f"{r.year}-{criteria.criteria_id}-{name}" if name == BUNDLE_NAME else name)


# ---------------------------------------------------------------- audit log and notices

@login_required
@require_GET
def audit_log(request):
    _require(request.user, ADMIN, AUDITOR)
    entries = AuditEntry.objects.all().order_by("-seq")
    unit, person = request.GET.get("unit", "").strip(), request.GET.get("user", "").strip()
    if unit:
        entries = entries.filter(unit_code=unit)
    if person:
        entries = entries.filter(username=person)
    page = Paginator(entries, 100).get_page(request.GET.get("page"))
    rows = [{"e": e, "detail": json.dumps(audit.detail_of(e), ensure_ascii=False, sort_keys=True)} for e in page]
    return render(request, "workspace/audit.html", {
        "page": page, "rows": rows, "unit": unit, "person": person, "verdict": audit.verify(),
        "units": AuditEntry.objects.exclude(unit_code="").values_list("unit_code", flat=True).distinct()
        .order_by("unit_code"),
        "people": AuditEntry.objects.exclude(username="").values_list("username", flat=True).distinct()
        .order_by("username")})


@login_required
@require_http_methods(["GET", "POST"])
def notice_list(request):
    if request.method == "POST":
        Notice.objects.filter(user=request.user, read=False).update(read=True)
        return redirect("notices")
    notices.refresh(request.user)
    return render(request, "workspace/notices.html", {"notices": Notice.objects.filter(user=request.user)[:200]})


@login_required
@require_http_methods(["GET", "POST"])
def assignments(request, pk: int):
    """Which appraiser appraises which units of the round (the administrator's page)."""
    _require(request.user, ADMIN)
    r = _round(pk)
    appraisers = list(Profile.objects.filter(role=APPRAISER).select_related("user").order_by("user__username"))
    units = list(r.units.select_related("criteria").order_by("criteria__criteria_id", "name"))
    codes = {u.pk: u.code for u in units}
    if request.method == "POST":
        for p in appraisers:
            chosen = {int(v) for v in request.POST.getlist(f"a{p.pk}") if v.isdigit()} & set(codes)
            before = set(p.assigned.filter(round=r).values_list("pk", flat=True))
            if chosen != before:
                p.assigned.remove(*(before - chosen))
                p.assigned.add(*(chosen - before))
                audit.record(request, "assign", round=r, before={"appraiser": p.user.username,
                                                                 "units": sorted(codes[i] for i in before)},
                             after={"appraiser": p.user.username, "units": sorted(codes[i] for i in chosen)})
        messages.success(request, "Đã lưu phân công thẩm định.")
        return redirect("assignments", pk=r.pk)
    assigned = {p.pk: set(p.assigned.filter(round=r).values_list("pk", flat=True)) for p in appraisers}
    rows = [{"unit": u, "cells": [(p, u.pk in assigned[p.pk]) for p in appraisers]} for u in units]
    return render(request, "workspace/assignments.html", {"round": r, "appraisers": appraisers, "rows": rows})
