"""Every URL of the workspace, enumerated from the URLconf, asked by people who must see nothing of
unit A: an anonymous visitor, the officer of another unit, an appraiser not assigned to A (and, for the
administration pages, the auditor). CSRF, uploads, downloads, login throttling and session expiry."""
from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from conftest import PASSWORD, PDF, example_form

pytestmark = pytest.mark.django_db


def _patterns(resolver=None, namespace=""):
    """(name with namespace, pattern) of every URL the workspace serves."""
    for p in (resolver or get_resolver()).url_patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _patterns(p, ns)
        elif isinstance(p, URLPattern):
            yield (f"{namespace}{p.name}" if p.name else None), p


def _params(pattern) -> list[str]:
    regex = pattern.pattern.regex
    return list(regex.groupindex)


def _urls(world) -> list[str]:
    """A concrete URL for every pattern, pointing at unit A (or its file, its profile, its form…)."""
    from django.contrib.contenttypes.models import ContentType

    from web.workspace.models import Unit

    values = {"pk": world.a.pk, "file_id": world.file_a.pk, "object_id": world.a.pk, "app_label": "workspace",
              "content_type_id": ContentType.objects.get_for_model(Unit).pk, "url": "workspace/unit/",
              "id": world.officer_a.pk, "rc": world.a.criteria_id, "name": "province.html"}
    urls = []
    for name, p in _patterns():
        params = _params(p)
        if name is None:  # the admin's catch-all: any unknown path below it
            urls.append("/quan-tri/workspace/unit/%d/change/history/" % world.a.pk)
            continue
        kwargs = {k: values[k] for k in params}
        if name in ROUND_ADMIN | {"round"}:
            kwargs["pk"] = world.round.pk
        url = reverse(name, kwargs=kwargs)
        urls.append(url)
    for name in ("so-tai-chinh.html", "so-tai-chinh.pdf", "bundle.cchc"):  # a closed round's files of unit A
        urls.append(reverse("result_file", kwargs={"pk": world.round.pk, "rc": world.a.criteria_id, "name": name}))
    for model in ("unit", "assessment", "evidencefile", "profile", "round", "roundcriteria", "reopening"):
        urls.append(f"/quan-tri/workspace/{model}/")
    return sorted(set(urls))


def test_the_urlconf_is_enumerated(world):
    names = {n for n, _ in _patterns()}
    assert {"home", "login", "logout", "round_new", "round", "unit", "submit", "withdraw", "reopen", "upload",
            "download", "workbook", "evidence_file", "admin:index", "admin:workspace_unit_change", "appraisal",
            "explain", "audit_log", "notices"} | ROUND_ADMIN <= names
    assert len(_urls(world)) > 40  # the workspace's pages and the administration's


# The Sở Nội vụ's pages of a round and the audit log: nobody but the administrator (and the auditor,
# reading) may open them.
ROUND_ADMIN = {"dashboard", "survey", "close_round", "result_file", "assignments"}
ADMIN_ONLY_PREFIXES = ("/nhat-ky/",)


def _round_admin(url: str, world) -> bool:
    return url.startswith(ADMIN_ONLY_PREFIXES) or any(
        url.startswith(f"/dot/{world.round.pk}/{part}") for part in ("bang-dieu-khien/", "khao-sat/", "ket-thuc/",
                                                                     "ket-qua/", "phan-cong/"))


PUBLIC = {"/dang-nhap/", "/dang-xuat/", "/quan-tri/login/", "/quan-tri/logout/"}  # open to anyone, show nothing


def _secrets(world) -> list[str]:
    """What must not leak: unit A's name, its file, its evidence."""
    return [world.a.name, world.file_a.name, world.file_a.sha256, "12/BC-STC-MAT"]


def _forbidden(resp, login_url: str) -> bool:
    if resp.status_code in (403, 404, 405):
        return True
    return resp.status_code == 302 and resp["Location"].startswith(login_url)


@pytest.mark.parametrize("who", ["anonymous", "other_officer", "unassigned_appraiser"])
def test_every_url_shows_nothing_of_another_unit(world, who):
    from web.workspace.models import Assessment

    officer = Client()
    officer.force_login(world.officer_a)
    data = example_form(world.a)
    data["m|late_reports|document"] = "12/BC-STC-MAT"
    officer.post(f"/don-vi/{world.a.pk}/", data)
    before = Assessment.objects.values("state", "version", "values", "reopened").get(unit=world.a)
    files_before = world.a.files.count()

    client = Client()
    user = {"anonymous": None, "other_officer": world.officer_b, "unassigned_appraiser": world.appraiser}[who]
    if user is not None:
        client.force_login(user)
    checked = 0
    for url in _urls(world):
        admin = url.startswith("/quan-tri/")
        unit_scoped = url.startswith(f"/don-vi/{world.a.pk}/") or admin or _round_admin(url, world)
        for method in ("get", "post"):
            body = {**data, "reason": "mở lại cho vui", "item": "1.1.1", "round_no": "1", "accept": "no",
                    "points": "0", "text": "giải trình thử", "criteria": str(world.a.criteria_id),
                    "file": SimpleUploadedFile("x.pdf", PDF)} if method == "post" else {}
            resp = getattr(client, method)(url, body)
            login = "/quan-tri/login/" if admin else "/dang-nhap/"
            content = resp.content.decode("utf-8", "replace") if not resp.streaming else ""
            where = f"{who} {method.upper()} {url} -> {resp.status_code}"
            if user is None or unit_scoped:
                if url not in PUBLIC:
                    assert _forbidden(resp, login), where
            for secret in _secrets(world):
                assert secret not in content, f"{where} shows {secret!r}"
            checked += 1
    assert checked >= 40
    assert Assessment.objects.values("state", "version", "values", "reopened").get(unit=world.a) == before
    assert world.a.files.count() == files_before
    from web.workspace.models import Appraisal, Explanation, Round, SurveyFile

    assert not Appraisal.objects.exists() and not Explanation.objects.exists() and not SurveyFile.objects.exists()
    assert Round.objects.get(pk=world.round.pk).closed_at is None


def test_the_auditor_reads_but_cannot_administer(world):
    client = Client()
    client.force_login(world.auditor)
    assert client.get(f"/don-vi/{world.a.pk}/").status_code == 200
    assert client.get(f"/don-vi/{world.a.pk}/tep/{world.file_a.pk}/").status_code == 200
    for url in ("/quan-tri/", "/quan-tri/workspace/unit/", "/dot/moi/"):
        resp = client.get(url)
        assert resp.status_code in (302, 403), url
    assert client.post(f"/don-vi/{world.a.pk}/mo-lai/", {"reason": "kiểm tra thử"}).status_code == 403


def test_the_appraiser_sees_only_assigned_units(world):
    client = Client()
    client.force_login(world.appraiser)
    assert client.get(f"/don-vi/{world.c.pk}/").status_code == 200
    assert client.get(f"/don-vi/{world.a.pk}/").status_code == 403
    page = client.get(f"/dot/{world.round.pk}/").content.decode("utf-8")
    assert world.c.name in page and world.a.name not in page and world.b.name not in page


def test_csrf_is_enforced(world):
    from web.workspace.models import Assessment

    client = Client(enforce_csrf_checks=True)
    client.force_login(world.officer_a)
    data = example_form(world.a)
    for url in (f"/don-vi/{world.a.pk}/", f"/don-vi/{world.a.pk}/gui/", f"/don-vi/{world.a.pk}/tep/",
                "/dang-xuat/"):
        assert client.post(url, data).status_code == 403, url
    assert Assessment.objects.get(unit=world.a).version == 0
    page = client.get(f"/don-vi/{world.a.pk}/").content.decode("utf-8")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert client.post(f"/don-vi/{world.a.pk}/", {**data, "csrfmiddlewaretoken": token}).status_code == 302
    assert Assessment.objects.get(unit=world.a).version == 1
    anonymous = Client(enforce_csrf_checks=True)
    assert anonymous.post("/dang-nhap/", {"username": "canbo-a", "password": PASSWORD}).status_code == 403


def _upload(client, unit, name: str, data: bytes):
    return client.post(f"/don-vi/{unit.pk}/tep/", {"item": "1.1.1", "file": SimpleUploadedFile(name, data)},
                       follow=True)


@pytest.mark.parametrize("name,data", [
    ("bao-cao.pdf", b"<html><script>alert(1)</script></html>"),  # a page renamed .pdf
    ("anh.png", b"GIF89a\x01\x00\x01\x00"),
    ("tai-lieu.docx", b"PK\x03\x04 not really a zip"),
    ("chay.exe", b"MZ\x90\x00\x03"),
])
def test_uploads_of_the_wrong_type_are_refused_with_a_message(client, world, name, data):
    client.force_login(world.officer_a)
    resp = _upload(client, world.a, name, data)
    assert "Loại tệp không được nhận" in resp.content.decode("utf-8")
    assert world.a.files.count() == 1  # only the fixture's file


def test_uploads_over_the_limit_are_refused(client, world, settings):
    settings.UPLOAD_MAX_BYTES = 1024
    client.force_login(world.officer_a)
    resp = _upload(client, world.a, "lon.pdf", PDF + b"0" * 2048)
    assert "Tệp quá lớn" in resp.content.decode("utf-8")
    assert world.a.files.count() == 1


def test_uploads_are_content_addressed_and_served_as_downloads(client, world, settings):
    import io
    import zipfile

    client.force_login(world.officer_a)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    docx = buf.getvalue()
    resp = _upload(client, world.a, "../../bao cao <1>.docx", docx)
    assert "Đã đính kèm" in resp.content.decode("utf-8")
    f = world.a.files.get(kind="docx")
    assert f.sha256 == hashlib.sha256(docx).hexdigest() and f.name == "bao cao <1>.docx"
    from web.workspace.uploads import path_of
    assert path_of(f.sha256).read_bytes() == docx and str(path_of(f.sha256)).startswith(str(settings.UPLOAD_DIR))
    resp = client.get(f"/don-vi/{world.a.pk}/tep/{f.pk}/")
    assert resp.status_code == 200
    assert resp["Content-Disposition"].startswith("attachment")
    assert resp["Content-Type"] == "application/octet-stream"
    assert resp["X-Content-Type-Options"] == "nosniff"
    assert b"".join(resp.streaming_content) == docx
    # a file id of another unit through this unit's URL
    other = world.b.files.create(item="1.1.1", sha256=f.sha256, name="b.docx", size=1, kind="docx")
    assert client.get(f"/don-vi/{world.a.pk}/tep/{other.pk}/").status_code == 404
    assert client.get(f"/don-vi/{world.b.pk}/tep/{other.pk}/").status_code == 403


def test_login_is_throttled(world):
    client = Client()
    for _ in range(5):
        assert client.post("/dang-nhap/", {"username": "canbo-a", "password": "sai"}).status_code == 200
    resp = client.post("/dang-nhap/", {"username": "canbo-a", "password": PASSWORD})
    assert resp.status_code == 429 and "quá nhiều lần" in resp.content.decode("utf-8")
    assert "_auth_user_id" not in client.session
    other = Client()  # another account is not locked by it
    assert other.post("/dang-nhap/", {"username": "canbo-b", "password": PASSWORD}).status_code == 302


def test_sessions_expire(world):
    from django.contrib.sessions.models import Session

    client = Client()
    assert client.post("/dang-nhap/", {"username": "canbo-a", "password": PASSWORD}).status_code == 302
    assert client.get(f"/don-vi/{world.a.pk}/").status_code == 200
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    resp = client.get(f"/don-vi/{world.a.pk}/")
    assert resp.status_code == 302 and resp["Location"].startswith("/dang-nhap/")


def test_no_debug_pages(client, world, settings):
    assert settings.DEBUG is False
    resp = client.get("/khong-co/")
    assert resp.status_code == 404 and b"Traceback" not in resp.content and b"URLconf" not in resp.content


def test_login_returns_to_the_page_asked_for_but_never_elsewhere(world):
    client = Client()
    resp = client.get(f"/don-vi/{world.a.pk}/")
    assert resp.status_code == 302 and resp["Location"] == f"/dang-nhap/?next=/don-vi/{world.a.pk}/"
    resp = client.post(resp["Location"], {"username": "canbo-a", "password": PASSWORD})
    assert resp["Location"] == f"/don-vi/{world.a.pk}/"
    resp = Client().post("/dang-nhap/?next=https://evil.example/", {"username": "canbo-a", "password": PASSWORD})
    assert resp["Location"] == "/"
