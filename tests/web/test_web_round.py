"""A whole round through the workspace's pages: self-assessment, lần 1, giải trình, lần 2, survey,
closing. The final results equal `cchc round` byte for byte on the files the workspace wrote, the
bundle replays identical, and the audit chain detects an edited or deleted entry."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from conftest import EVIDENCE, PDF, REPO, example_form

CCHC = [sys.executable, "-c", "import cli; cli.main()"]
SURVEY = EVIDENCE / "departments" / "survey"


def _cchc(*args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([*CCHC, *map(str, args)], cwd=REPO, capture_output=True, text=True, timeout=600,
                          env=env)


def _phase(r, phase: str) -> None:
    """Move the round's deadlines so that `phase` is open now."""
    now = timezone.now()
    order = ["self", "appraisal1", "explanation", "appraisal2", "closed"]
    fields = ["self_assessment_closes", "appraisal1_closes", "explanation_closes", "appraisal2_closes"]
    at = order.index(phase)
    for i, f in enumerate(fields):
        setattr(r, f, now + timedelta(hours=(i - at) * 2 + 1))
    r.self_assessment_opens = now - timedelta(days=30)
    r.save()


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _messages(resp) -> str:
    return " ".join(str(m) for m in resp.context["messages"]) if resp.context else ""


def _appraise(c, unit, round_no, item, points=None, reason=""):
    data = {"round_no": str(round_no), "item": item, "reason": reason}
    data.update({"accept": "yes"} if points is None else {"accept": "no", "points": points})
    return c.post(f"/don-vi/{unit.pk}/tham-dinh/", data, follow=True)


@pytest.fixture
def round_world(world):
    from web.workspace.models import Profile

    Profile.objects.get(user=world.appraiser).assigned.add(world.a, world.b)
    for officer, unit in ((world.officer_a, world.a), (world.officer_b, world.b)):
        c = _client(officer)
        assert c.post(f"/don-vi/{unit.pk}/", example_form(unit)).status_code == 302
        assert c.post(f"/don-vi/{unit.pk}/gui/").status_code == 302
    return world


def test_a_whole_round_gives_what_cchc_round_gives(round_world, settings, tmp_path, monkeypatch):
    from engine.storage.bundle import generate_key
    from web.workspace import audit
    from web.workspace.models import Appraisal, Assessment, Closing, Notice

    w = round_world
    r = w.round
    appraiser, officer, admin = _client(w.appraiser), _client(w.officer_a), _client(w.admin)
    self_points = {i["code"]: i["points"] for i in Assessment.objects.get(unit=w.a).result["items"]}
    assert self_points["1.3.2"] == "2"

    # not yet: the self-assessment is still open
    assert "Không trong thời gian thẩm định lần 1" in _messages(_appraise(appraiser, w.a, 1, "1.3.2", "1", "x" * 9))
    _phase(r, "appraisal1")
    page = appraiser.get(f"/don-vi/{w.a.pk}/tham-dinh/").content.decode()
    assert "1.3.2" in page and 'name="points"' in page and "2.3.1 —" in page  # survey items listed apart
    # the engine's allowed values and reasons, checked by the server
    assert "không hợp lệ" in _messages(_appraise(appraiser, w.a, 1, "1.3.2", "1,5", "nửa sáng kiến"))
    assert "cần ghi lý do" in _messages(_appraise(appraiser, w.a, 1, "1.3.2", "1"))
    assert "không thẩm định được" in _messages(_appraise(appraiser, w.a, 1, "2.3.1", "0", "mục khảo sát"))
    assert not Appraisal.objects.exists()
    reason = "Chỉ có 1 sáng kiến kèm quyết định công nhận"
    assert "Đã ghi" in _messages(_appraise(appraiser, w.a, 1, "1.3.2", "1", reason))
    assert "Đã ghi" in _messages(_appraise(appraiser, w.a, 1, "3.2.1"))
    assert "Đã ghi" in _messages(_appraise(appraiser, w.b, 1, "1.3.2"))
    # only the assigned appraiser appraises; an officer cannot
    assert officer.post(f"/don-vi/{w.a.pk}/tham-dinh/", {"round_no": "1", "item": "1.3.2", "accept": "yes"}
                        ).status_code == 403
    assert Notice.objects.filter(user=w.officer_a, text__contains="1.3.2").exists()
    # lần 2 before the explanation: refused; explanation outside its window: refused
    assert "Không trong thời gian" in _messages(_appraise(appraiser, w.a, 2, "1.3.2"))
    assert "Không trong thời gian giải trình" in _messages(
        officer.post(f"/don-vi/{w.a.pk}/giai-trinh/", {"item": "1.3.2", "text": "Bổ sung quyết định"}, follow=True))

    _phase(r, "explanation")
    explanation = "Bổ sung Quyết định số 12/QĐ-HĐSK công nhận sáng kiến thứ hai"
    assert "Đã gửi giải trình" in _messages(officer.post(f"/don-vi/{w.a.pk}/giai-trinh/",
                                                          {"item": "1.3.2", "text": explanation}, follow=True))
    from django.core.files.uploadedfile import SimpleUploadedFile

    resp = officer.post(f"/don-vi/{w.a.pk}/tep/", {"item": "1.3.2", "file": SimpleUploadedFile("qd-12.pdf", PDF)},
                        follow=True)
    assert "Đã đính kèm" in _messages(resp) and w.a.files.filter(explanation=True, item="1.3.2").exists()

    _phase(r, "appraisal2")
    assert "lần 2 chỉ xét" in _messages(_appraise(appraiser, w.a, 2, "7.2.3"))
    assert "Đã ghi" in _messages(_appraise(appraiser, w.a, 2, "1.3.2", None, "Đã bổ sung quyết định công nhận"))

    # survey files, read by the engine when uploaded; a file of a unit not in the round is refused
    resp = admin.post(f"/dot/{r.pk}/khao-sat/", {"criteria": str(w.a.criteria_id),
                                                 "file": SimpleUploadedFile("so-y-te.yaml",
                                                                            (SURVEY / "so-y-te.yaml").read_bytes())})
    assert resp.status_code == 400 and "so-y-te" in resp.content.decode()
    for code in ("so-tai-chinh", "so-cong-thuong"):
        f = SimpleUploadedFile(f"{code}.yaml", (SURVEY / f"{code}.yaml").read_bytes())
        assert admin.post(f"/dot/{r.pk}/khao-sat/", {"criteria": str(w.a.criteria_id), "file": f}).status_code == 302

    # closing: refused before the last deadline, then the engine's round
    assert "sau hạn thẩm định lần 2" in _messages(admin.post(f"/dot/{r.pk}/ket-thuc/", follow=True))
    _phase(r, "closed")
    _, fingerprint = generate_key(tmp_path / "ky.key")
    monkeypatch.setenv("CCHC_SIGNING_KEY", str(tmp_path / "ky.key"))  # the province's signing key
    dash = admin.get(f"/dot/{r.pk}/bang-dieu-khien/").content.decode()
    assert 'data-stage="appraised2">1<' in dash and 'data-stage="appraised1">1<' in dash
    assert 'id="late-count">1<' in dash  # Xã An Hòa never submitted
    resp = admin.post(f"/dot/{r.pk}/ket-thuc/", follow=True)
    assert "Đã kết thúc" in _messages(resp), _messages(resp)
    closing = Closing.objects.get(criteria=w.a.criteria)
    root = settings.DATA_DIR / closing.folder

    # the same inputs through `cchc round`: byte-identical results
    inputs = root / "inputs"
    out = tmp_path / "cli"
    evidence = [x for f in sorted((inputs / "evidence").glob("*.yaml")) for x in ("--evidence", f)]
    args = ["round", inputs / "criteria" / "tien-giang-2023-departments.yaml", *evidence,
            "--survey", inputs / "survey", "--appraisal", inputs / "appraisal", "--out", out, "--workers", "1"]
    done = _cchc(*args)
    assert done.returncode == 0, done.stderr
    mine = sorted(p.relative_to(root / "out").as_posix() for p in (root / "out").rglob("*.json")
                  if not p.name.startswith("."))  # the output folder's own marker aside
    theirs = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.json") if not p.name.startswith("."))
    assert mine == theirs == ["round.json", "units/so-cong-thuong.json", "units/so-tai-chinh.json"]
    for name in mine:
        assert (root / "out" / name).read_bytes() == (out / name).read_bytes(), name

    # what the appraisal did, as the engine reports it
    unit = json.loads((root / "out" / "units" / "so-tai-chinh.json").read_text("utf-8"))
    item = next(i for i in unit["items"] if i["code"] == "1.3.2")
    assert [(a["round"], a["points"], a["accepted"]) for a in item["appraisal_rounds"]] == [(1, "1", False),
                                                                                          (2, "2", True)]
    assert item["appraisal_rounds"][1]["explanation"] == explanation and item["points"] == "2"
    assert item["appraisal_rounds"][0]["reason"] == reason
    survey_item = next(i for i in unit["items"] if i["code"] == "2.3.1")
    assert survey_item["source"] == "survey" and survey_item["status"] == "scored"

    # the ranking page shows the engine's ranking, with the reports' chart
    dash = admin.get(f"/dot/{r.pk}/bang-dieu-khien/").content.decode()
    summary = json.loads((root / "out" / "round.json").read_text("utf-8"))
    for g in summary["groups"]:
        for u in g["units"]:
            assert f'data-unit="{u["id"]}"><td class="rank">{u["rank"]}</td>' in dash
    assert '<rect class="bar" data-unit="so-tai-chinh"' in dash

    # the bundle, downloaded, replays identical; it carries the audit log's head
    resp = _client(w.auditor).get(f"/dot/{r.pk}/ket-qua/{w.a.criteria_id}/bundle.cchc")
    assert resp.status_code == 200
    bundle = tmp_path / "round.cchc"
    bundle.write_bytes(b"".join(resp.streaming_content))
    done = _cchc("replay", bundle)
    assert done.returncode == 0, done.stdout + done.stderr
    from engine.storage.bundle import read_bundle

    b = read_bundle(bundle.read_bytes())
    assert b.signer == fingerprint and closing.signed
    # the file the officer attached to item 1.1.1 is that item's citation file, packed in the bundle
    item = next(i for i in unit["items"] if i["code"] == "1.1.1")
    cited = item["inputs"][0]["citation"]["file"]
    assert cited == f"tai-lieu/so-tai-chinh/{w.file_a.sha256[:16]}.pdf"
    assert PDF in [data for name, data in b.parts if name.endswith(cited)]
    head = json.loads(b.part(b.inputs["audit"][0]))
    assert head["head"] == closing.audit_head and len(head["head"]) == 64
    # the officer cannot download the bundle or the province report, but their unit's report
    assert officer.get(f"/dot/{r.pk}/ket-qua/{w.a.criteria_id}/bundle.cchc").status_code == 403
    assert officer.get(f"/dot/{r.pk}/ket-qua/{w.a.criteria_id}/province.html").status_code == 403
    assert _client(w.officer_b).get(f"/dot/{r.pk}/ket-qua/{w.a.criteria_id}/so-tai-chinh.md").status_code == 403
    resp = officer.get(f"/dot/{r.pk}/ket-qua/{w.a.criteria_id}/so-tai-chinh.md")
    assert resp.status_code == 200 and "Sở Tài chính".encode() in b"".join(resp.streaming_content)
    for kind in ("html", "md", "xlsx", "docx"):
        resp = admin.get(f"/dot/{r.pk}/ket-qua/{w.a.criteria_id}/province.{kind}")
        assert resp.status_code == 200 and len(b"".join(resp.streaming_content)) > 500, kind

    # every action is in the log, and the chain verifies
    from web.workspace.models import AuditEntry

    actions = list(AuditEntry.objects.values_list("action", flat=True))
    assert {"save", "submit", "appraise", "explain", "upload", "close"} <= set(actions)
    assert audit.verify().ok
    log = admin.get("/nhat-ky/?unit=so-tai-chinh").content.decode()
    assert "explain" in log and "so-cong-thuong</td>" not in log
    # a closed round takes no more appraisal
    assert "Không trong thời gian" in _messages(_appraise(appraiser, w.a, 2, "1.3.2"))


def test_an_edited_or_deleted_audit_entry_is_found(world):
    from web.workspace import audit
    from web.workspace.models import AuditEntry

    for n in range(5):
        audit.record(None, "save", unit=world.a, user=world.officer_a, before={"n": n}, after={"n": n + 1})
    assert audit.verify().ok and audit.verify().entries == 5
    AuditEntry.objects.filter(seq=3).update(detail=audit.canonical({"before": {"n": 2}, "after": {"n": 30}}))
    v = audit.verify()
    assert not v.ok and v.bad_seq == 3
    AuditEntry.objects.filter(seq=3).delete()
    v = audit.verify()
    assert not v.ok and v.bad_seq == 3 and "missing" in v.problem
    AuditEntry.objects.filter(seq__gte=3).delete()
    v = audit.verify()
    assert not v.ok and "deleted" in v.problem


SCRIPT = """
import sys
from pathlib import Path
from web.cchcweb.server import setup
setup(Path(sys.argv[1]))
from django.contrib.auth.models import User
from web.workspace import audit
u = User.objects.create_user("canbo", password="x")
for n in range(4):
    audit.record(None, "save", user=u, before={"n": n}, after={"n": n + 1})
"""


@pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="the command's own SQLite set-up; run once")
def test_cchc_audit_verify_fails_on_an_edited_or_deleted_row(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CCHC_DATA", "DJANGO_SETTINGS_MODULE")}
    data = tmp_path / "data"
    made = subprocess.run([sys.executable, "-c", SCRIPT, str(data)], cwd=REPO, capture_output=True, text=True,
                          env=env, timeout=300)
    assert made.returncode == 0, made.stderr
    ok = _cchc("audit", "verify", "--data", data, env=env)
    assert ok.returncode == 0 and "4 entries" in ok.stdout, ok.stdout + ok.stderr
    db = sqlite3.connect(data / "cchc.sqlite3")
    db.execute("UPDATE workspace_auditentry SET detail = replace(detail, '\"n\":2', '\"n\":9') WHERE seq = 2")
    db.commit()
    bad = _cchc("audit", "verify", "--data", data, env=env)
    assert bad.returncode == 2 and "entry 2 was changed" in bad.stderr, bad.stdout + bad.stderr
    db.execute("DELETE FROM workspace_auditentry WHERE seq = 2")
    db.commit()
    bad = _cchc("audit", "verify", "--data", data, env=env)
    assert bad.returncode == 2 and "entry 2 is missing" in bad.stderr, bad.stdout + bad.stderr
    db.close()


def test_the_administrator_assigns_appraisers_in_the_workspace(world):
    from web.workspace.models import AuditEntry, Profile

    admin = _client(world.admin)
    p = Profile.objects.get(user=world.appraiser)
    page = admin.get(f"/dot/{world.round.pk}/phan-cong/").content.decode()
    assert f'name="a{p.pk}" value="{world.c.pk}" checked' in page
    resp = admin.post(f"/dot/{world.round.pk}/phan-cong/", {f"a{p.pk}": [str(world.a.pk), str(world.b.pk), "x"]})
    assert resp.status_code == 302
    assert set(p.assigned.values_list("code", flat=True)) == {"so-tai-chinh", "so-cong-thuong"}
    e = AuditEntry.objects.get(action="assign")
    assert '"units":["xa-an-hoa"]' in e.detail and '"so-tai-chinh"' in e.detail
    assert _client(world.appraiser).get(f"/don-vi/{world.a.pk}/tham-dinh/").status_code == 200
    assert _client(world.auditor).post(f"/dot/{world.round.pk}/phan-cong/", {}).status_code == 403


def test_notices_of_approaching_and_passed_deadlines(world):
    from web.workspace.models import Notice

    officer = _client(world.officer_a)
    r = world.round
    r.self_assessment_closes = timezone.now() + timedelta(days=2)
    r.save()
    page = officer.get("/thong-bao/").content.decode()
    assert "sắp đến hạn tự đánh giá" in page and "Thông báo (1)" in page
    officer.get("/thong-bao/")
    assert Notice.objects.filter(user=world.officer_a).count() == 1  # made once
    r.self_assessment_closes = timezone.now() - timedelta(minutes=1)
    r.save()
    page = officer.get("/thong-bao/").content.decode()
    assert "đã quá hạn tự đánh giá" in page
    officer.post("/thong-bao/")
    assert not Notice.objects.filter(user=world.officer_a, read=False).exists()
    # the appraiser is told of its own deadlines, not of the officer's
    _phase(r, "appraisal1")
    page = _client(world.appraiser).get("/thong-bao/").content.decode()
    assert "sắp đến hạn thẩm định lần 1" in page and "hạn tự đánh giá" not in page
    assert not Notice.objects.filter(user=world.officer_b, text__contains="thẩm định").exists()


def test_the_appraisal_page_names_each_input_by_the_criteria_sets_label(round_world):
    """A stored result names its inputs' metrics by id; the appraiser reads the criteria set's words."""
    import re
    from html import unescape

    from web.workspace import scoring
    from web.workspace.models import Assessment

    w = round_world
    page = unescape(_client(w.appraiser).get(f"/don-vi/{w.a.pk}/tham-dinh/").content.decode())
    shown = re.findall(r'<br><span class="muted">([^<]*)', page)
    cs = scoring.criteria_of(w.a.criteria)
    given = [x for i in Assessment.objects.get(unit=w.a).result["items"] for x in i["inputs"]
             if i["code"] in {s.code for s in scoring.self_assessed(cs, w.a.unit_type)}]
    assert shown and given and not any(line.startswith(":") for line in shown)
    for x in given:
        assert any(line.startswith(f"{cs.metrics[x['metric']].label}: {x['value']}") for line in shown), x
