"""The workspace's pages. Every view checks who is asking and what the rules allow on every request;
the pages never compute a point (see scoring.py)."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from engine.core.errors import InputError
from reports.gaps import gap_report

from . import access, audit, council, scoring, services, throttle, uploads
from .forms import KIND_LABELS, ReasonForm, RoundForm, UploadForm, WorkbookForm, form_data
from .models import Assessment, EvidenceFile, Round
from .templatetags.workspace_tags import pts

ROUND_FIELDS = ("year", "title", "self_assessment_opens", "self_assessment_closes", "appraisal1_closes",
                "explanation_closes", "appraisal2_closes")


@require_http_methods(["GET", "POST"])
def login_view(request):
    form = AuthenticationForm(request, data=request.POST or None)
    status, refused = 200, ""
    if request.method == "POST":
        username, addr = request.POST.get("username", ""), throttle.address(request)
        if throttle.locked(username, addr):
            form = AuthenticationForm(request)
            refused = "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau 15 phút."
            status = 429
        elif form.is_valid():
            throttle.succeeded(username, addr)
            auth_login(request, form.get_user())
            audit.record(request, "login", after={"ok": True})
            target = request.GET.get("next", "")
            if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
                return redirect(target)
            return redirect("home")
        else:
            throttle.failed(username, addr)
            audit.record(request, "login", after={"ok": False}, username=username[:150])
    return render(request, "registration/login.html", {"form": form, "refused": refused}, status=status)


@login_required
@require_GET
def home(request):
    units = access.visible_units(request.user)
    if access.role(request.user) == "officer" and units.count() == 1:
        return redirect("unit", pk=units.get().pk)
    rounds = Round.objects.filter(pk__in=units.values("round")) if not access.is_admin(request.user) \
        else Round.objects.all()
    return render(request, "workspace/home.html", {"rounds": rounds, "role": access.role(request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def round_new(request):
    access.require_admin(request.user)
    form = RoundForm(request.POST or None, request.FILES or None)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        files = [(f.name, f.read()) for f in form.cleaned_data["criteria_files"]]
        units = form.cleaned_data["units_file"]
        made = services.create_round({k: form.cleaned_data[k] for k in ROUND_FIELDS}, files,
                                     (units.name, units.read()))
        if made.round is not None:
            messages.success(request, f"Đã tạo đợt đánh giá với {made.round.units.count()} đơn vị.")
            return redirect("round", pk=made.round.pk)
        problems = made.problems
    return render(request, "workspace/round_new.html", {"form": form, "problems": problems},
                  status=400 if problems else 200)


@login_required
@require_GET
def round_detail(request, pk: int):
    units = access.visible_units(request.user).filter(round_id=pk).select_related("assessment", "criteria")
    if not units.exists() and not access.is_admin(request.user):
        raise PermissionDenied
    r = Round.objects.filter(pk=pk).first()
    if r is None:
        raise Http404
    previous = _previous_year(r)
    rows = []
    for u in units.order_by("criteria__criteria_id", "name"):
        total = (u.assessment.result or {}).get("total") or {}
        rows.append({"unit": u, "a": u.assessment, "index": total.get("index"), "points": total.get("points"),
                     "previous": previous.get((u.criteria_id, u.code))})
    return render(request, "workspace/round.html", {"round": r, "rows": rows, "now": timezone.now()})


def _previous_year(r) -> dict:
    """Last year's final index and class per unit, from each group's `round.json` (`cchc round`)."""
    out = {}
    for rc in r.criteria_sets.exclude(previous_round=""):
        try:
            doc = json.loads(rc.previous_round)
            for group in doc.get("groups", []):
                for u in group.get("units", []):
                    out[(rc.pk, u["id"])] = {"index": u.get("index"), "class": u.get("class"), "rank": u.get("rank")}
        except (ValueError, TypeError, KeyError, AttributeError):
            continue  # not a round summary: the column stays empty
    return out


def _bound_metric(form, block):
    """A metric's fields as the template shows them (a template cannot look a field up by name)."""
    if block is None:
        return None
    return {"spec": block.spec, "kind": KIND_LABELS[block.spec.kind],
            "fields": [form[k] for k in block.fields],
            "task_rows": [[form[k] for k in row] for row in block.task_rows],
            "options": [(opt, form[k]) for opt, k in block.option_fields]}


def _unit_page(request, unit):
    a = unit.assessment
    editable = access.is_officer_of(request.user, unit) and a.editable()
    form = services.assessment_form(unit, a, disabled=not editable)
    cs = form.cs
    result = a.result
    doc = scoring.stored_result(unit.code, result)
    decisions = scoring.shown_items(cs, doc)
    gaps = gap_report(cs, doc.items) if doc is not None else None
    files: dict[str, list] = {}
    for f in unit.files.all():
        files.setdefault(f.item, []).append(f)
    areas = []
    for area in cs.areas:
        crits = []
        for crit in area.criteria:
            items = [i for i in form.items if i.sub in crit.sub_criteria]
            if items:
                crits.append({"criterion": crit, "items": [
                    {"sub": i.sub, "shared_with": i.shared_with, "metric": _bound_metric(form, i.metric),
                     "decision": decisions.get(i.sub.code), "files": files.get(i.sub.code, []),
                     "na": form[f"na|{i.sub.code}"]} for i in items]})
        if crits:
            areas.append({"area": area, "criteria": crits})
    survey = [s for s in cs.sub_criteria() if s.source == "survey" and s.applies(unit.unit_type)]
    ctx = {
        "unit": unit, "a": a, "form": form, "areas": areas, "result": result, "gaps": gaps,
        "survey_items": [{"sub": s, "decision": decisions.get(s.code)} for s in survey],
        "editable": editable, "is_officer": access.is_officer_of(request.user, unit),
        "can_submit": editable and a.can_submit(),
        "can_withdraw": access.is_officer_of(request.user, unit) and a.can_withdraw(),
        "can_reopen": access.is_admin(request.user) and a.can_reopen(),
        "reason_form": ReasonForm(), "workbook_form": WorkbookForm(),
        "reachable": gaps.reachable if gaps else None, "reopenings": unit.reopenings.all(),
        "max_upload_mb": settings.UPLOAD_MAX_BYTES // 1048576, "allowed": uploads.ALLOWED,
    }
    return render(request, "workspace/unit.html", ctx)


@login_required
@require_http_methods(["GET", "POST"])
def unit_page(request, pk: int):
    unit = access.unit_for(request.user, pk)
    if request.method == "GET":
        return _unit_page(request, unit)
    if not access.is_officer_of(request.user, unit):
        raise PermissionDenied
    form = services.assessment_form(unit, unit.assessment, request.POST)
    try:
        a = _save(request, unit, form)
    except services.Refused as exc:
        messages.error(request, str(exc))
        return redirect("unit", pk=unit.pk)
    total = (a.result or {}).get("total")
    if total:
        messages.success(request, f"Đã lưu. Tổng điểm {pts(total['points'])} / {pts(total['max'])} "
                                  f"(chỉ số {pts(total['index'])} %).")
    else:
        messages.warning(request, "Đã lưu, nhưng bộ chấm điểm chưa tính được điểm: xem các lỗi bên dưới.")
    return redirect("unit", pk=unit.pk)


def _save(request, unit, form):
    """Save the form through the engine and record what changed (values and total) in the audit log."""
    old = unit.assessment
    before = {"values": old.values, "not_applicable": old.not_applicable,
              "total": ((old.result or {}).get("total") or {}).get("points")}
    a = services.save(unit, request.user, form)
    after = {"values": a.values, "not_applicable": a.not_applicable,
             "total": ((a.result or {}).get("total") or {}).get("points")}
    changed = {k: audit.diff(before[k], after[k]) if k != "total" else (before[k], after[k]) for k in before}
    audit.record(request, "save", unit=unit, before={k: v[0] for k, v in changed.items()},
                 after={k: v[1] for k, v in changed.items()}, version=a.version)
    return a


def _officer_action(request, pk: int, action, done: str):
    unit = access.unit_for(request.user, pk)
    if not access.is_officer_of(request.user, unit):
        raise PermissionDenied
    try:
        before = unit.assessment.state
        action(unit)
        audit.record(request, action.__name__, unit=unit, before={"state": before},
                     after={"state": Assessment.objects.values_list("state", flat=True).get(unit=unit)})
        messages.success(request, done)
    except services.Refused as exc:
        messages.error(request, str(exc))
    return redirect("unit", pk=unit.pk)


@login_required
@require_POST
def submit(request, pk: int):
    return _officer_action(request, pk, services.submit, "Đã gửi bản tự đánh giá; biểu mẫu đã khóa.")


@login_required
@require_POST
def withdraw(request, pk: int):
    return _officer_action(request, pk, services.withdraw, "Đã rút lại; có thể sửa tiếp đến hạn tự đánh giá.")


@login_required
@require_POST
def reopen(request, pk: int):
    unit = access.unit_for(request.user, pk)
    access.require_admin(request.user)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Cần ghi lý do mở lại (ít nhất 5 ký tự).")
    else:
        try:
            services.reopen(unit, request.user, form.cleaned_data["reason"])
            audit.record(request, "reopen", unit=unit, before={"state": unit.assessment.state},
                         after={"state": "draft", "reopened": True}, reason=form.cleaned_data["reason"])
            messages.success(request, "Đã mở lại biểu mẫu cho đơn vị.")
        except services.Refused as exc:
            messages.error(request, str(exc))
    return redirect("unit", pk=unit.pk)


@login_required
@require_POST
def upload(request, pk: int):
    unit = access.unit_for(request.user, pk)
    if not access.is_officer_of(request.user, unit):
        raise PermissionDenied
    explaining = not unit.assessment.editable() and council.explanation_open(unit)
    if not unit.assessment.editable() and not explaining:
        messages.error(request, services.locked_reason(unit.assessment))
        return redirect("unit", pk=unit.pk)
    form = UploadForm(request.POST, request.FILES)
    codes = {s.code for s in scoring.self_assessed(scoring.criteria_of(unit.criteria), unit.unit_type)}
    if explaining:  # giải trình: files for the items appraised in lần 1 only
        codes &= set(unit.appraisals.filter(round_no=1).values_list("item", flat=True))
    if not form.is_valid() or form.cleaned_data["item"] not in codes:
        messages.error(request, "Chọn một tệp và mục của tiêu chí để đính kèm.")
        return redirect("unit", pk=unit.pk)
    item, f = form.cleaned_data["item"], form.cleaned_data["file"]
    try:
        sha, kind, size = uploads.store(f)
    except uploads.UploadRefused as exc:
        messages.error(request, f"Không nhận tệp “{f.name}”: {exc}")
        return redirect(f"{unit_url(unit)}#item-{item}")
    EvidenceFile.objects.create(unit=unit, item=item, sha256=sha, name=Path(f.name).name[:255], size=size,
                                kind=kind, uploaded_by=request.user, explanation=explaining)
    audit.record(request, "upload", unit=unit, after={"item": item, "file": Path(f.name).name[:255], "sha256": sha,
                                                       "size": size, "explanation": explaining})
    messages.success(request, f"Đã đính kèm “{f.name}” vào mục {item}.")
    if explaining:
        return redirect(f"/don-vi/{unit.pk}/tham-dinh/#item-{item}")
    return redirect(f"{unit_url(unit)}#item-{item}")


def unit_url(unit) -> str:
    return reverse("unit", kwargs={"pk": unit.pk})


@login_required
@require_GET
def download(request, pk: int, file_id: int):
    unit = access.unit_for(request.user, pk)
    f = unit.files.filter(pk=file_id).first()
    if f is None:
        raise Http404
    path = uploads.path_of(f.sha256)
    if not path.is_file():
        raise Http404
    resp = FileResponse(path.open("rb"), as_attachment=True, filename=f.name,
                        content_type="application/octet-stream")
    resp["X-Content-Type-Options"] = "nosniff"
    resp["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return resp


@login_required
@require_POST
def workbook(request, pk: int):
    """The unit's figures from an evidence workbook (Excel or CSV, the engine's table format) instead of
    typing; the engine's located problems are shown when it cannot be read."""
    unit = access.unit_for(request.user, pk)
    if not access.is_officer_of(request.user, unit):
        raise PermissionDenied
    a = unit.assessment
    if not a.editable():
        messages.error(request, services.locked_reason(a))
        return redirect("unit", pk=unit.pk)
    form = WorkbookForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Chọn tệp số liệu (.xlsx hoặc .csv).")
        return redirect("unit", pk=unit.pk)
    f = form.cleaned_data["workbook"]
    suffix = Path(f.name).suffix.lower()
    if suffix not in (".xlsx", ".csv") or f.size > settings.UPLOAD_MAX_BYTES:
        messages.error(request, "Tệp số liệu phải là .xlsx hoặc .csv, không quá giới hạn dung lượng.")
        return redirect("unit", pk=unit.pk)
    cs = scoring.criteria_of(unit.criteria)
    with tempfile.TemporaryDirectory(prefix="cchc-workbook-") as tmp:
        path = Path(tmp) / f"{Path(f.name).stem[:100] or 'so-lieu'}{suffix}"
        with path.open("wb") as out:
            for chunk in f.chunks():
                out.write(chunk)
        try:
            records = scoring.load_records([path], cs)
            problems = []
        except InputError as exc:
            records, problems = [], [str(p).replace(str(path.parent) + "/", "") for p in exc.problems]
    mine = [r for r in records if r.unit_id == unit.code]
    if not problems and not mine:
        found = ", ".join(sorted(r.unit_id for r in records)) or "không có"
        problems = [f"{path.name}: tệp không có số liệu của đơn vị {unit.code} (đơn vị trong tệp: {found})"]
    if problems:
        for p in problems[:50]:
            messages.error(request, p)
        return redirect("unit", pk=unit.pk)
    values, na = scoring.record_form(mine[0], cs)
    try:
        _save(request, unit, services.assessment_form(unit, a, form_data(values, na)))
    except services.Refused as exc:
        messages.error(request, str(exc))
        return redirect("unit", pk=unit.pk)
    messages.success(request, f"Đã nhập số liệu từ “{f.name}” ({len(values)} chỉ số).")
    return redirect("unit", pk=unit.pk)


@login_required
@require_GET
def evidence_file(request, pk: int):
    """The unit's evidence as a `cchc-evidence/1` YAML file: `cchc score` on it gives the same points."""
    unit = access.unit_for(request.user, pk)
    form = services.assessment_form(unit, unit.assessment)
    doc = scoring.evidence_document(unit, form.cs, form.scorable_values(), form.not_applicable())
    resp = HttpResponse(scoring.evidence_yaml(doc).encode("utf-8"), content_type="application/octet-stream")
    resp["Content-Disposition"] = f'attachment; filename="{unit.code}.yaml"'
    return resp

