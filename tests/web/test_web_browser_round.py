"""A whole round in headless Chromium: two officers submit, a third unit is late and locked, the
appraiser lowers an item with a reason, the officer explains, the appraiser accepts in lần 2, the
administrator uploads the survey and closes the round; the ranking page and the downloaded bundle
match `cchc round`, and the audit chain verifies. Screenshots go to out/test-artifacts/workspace/."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import timedelta

from conftest import EVIDENCE, PASSWORD, REPO, example_form
from test_web_browser import SHOTS, in_thread, live_url, page  # noqa: F401 - fixtures
from test_web_round import _phase


def _login(page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/dang-nhap/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def _setup():
    from django.contrib.auth.models import User
    from django.test import Client

    from conftest import make_world
    from web.workspace.models import OFFICER, Profile

    w = make_world()
    Profile.objects.get(user=w.appraiser).assigned.add(w.a, w.b)
    late = User.objects.create_user("canbo-c", password=PASSWORD)
    Profile.objects.create(user=late, role=OFFICER, unit=w.c)
    for officer, unit in ((w.officer_a, w.a), (w.officer_b, w.b)):  # the figures, as typed in part 1's test
        c = Client()
        c.force_login(officer)
        assert c.post(f"/don-vi/{unit.pk}/", example_form(unit)).status_code == 302
    return w


def test_a_whole_round_in_the_browser(live_url, page, tmp_path):  # noqa: F811 - fixtures
    from django.conf import settings

    w = in_thread(_setup)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for user, unit in (("canbo-a", w.a), ("canbo-b", w.b)):
        _login(page, live_url, user)
        page.wait_for_url(re.compile(rf".*/don-vi/{unit.pk}/$"))
        page.click("#submit")
        page.wait_for_selector("#withdraw")
        assert "Đã gửi" in page.inner_text("#state")

    in_thread(lambda: _phase(w.round, "appraisal1"))
    _login(page, live_url, "canbo-c")  # never submitted: the form is read-only now
    page.wait_for_url(re.compile(rf".*/don-vi/{w.c.pk}/$"))
    assert page.locator("#readonly").is_visible() and page.locator("#submit").count() == 0

    _login(page, live_url, "thamdinh")
    page.goto(f"{live_url}/don-vi/{w.a.pk}/tham-dinh/")
    item = page.locator('[id="item-1.3.2"]')
    assert "Tự chấm: 2,00" in item.inner_text()
    item.locator('input[name="accept"][value="no"]').check()
    item.locator('input[name="points"]').fill("1")
    item.locator('input[name="reason"]').fill("Chỉ có 1 sáng kiến kèm quyết định công nhận")
    item.locator("button[type=submit]").click()
    page.wait_for_selector(".messages .success")
    assert "1,00 điểm" in page.locator('[id="item-1.3.2"] .first').inner_text()
    page.locator('[id="item-1.3.2"]').screenshot(path=str(SHOTS / "6-appraisal-1.png"))

    in_thread(lambda: _phase(w.round, "explanation"))
    _login(page, live_url, "canbo-a")
    page.goto(f"{live_url}/thong-bao/")
    assert "Thẩm định lần 1, mục 1.3.2: 1 điểm" in page.inner_text("#notices")
    page.goto(f"{live_url}/don-vi/{w.a.pk}/tham-dinh/")
    item = page.locator('[id="item-1.3.2"]')
    item.locator('textarea[name="text"]').fill("Bổ sung Quyết định số 12/QĐ-HĐSK công nhận sáng kiến thứ hai")
    item.locator("form.explain button").click()
    page.wait_for_selector(".messages .success")
    assert "12/QĐ-HĐSK" in page.locator('[id="item-1.3.2"] .explanation').inner_text()
    page.locator('[id="item-1.3.2"]').screenshot(path=str(SHOTS / "7-explanation.png"))

    in_thread(lambda: _phase(w.round, "appraisal2"))
    _login(page, live_url, "thamdinh")
    page.goto(f"{live_url}/don-vi/{w.a.pk}/tham-dinh/")
    item = page.locator('[id="item-1.3.2"]')
    assert "Thẩm định lần 2" in item.inner_text()
    item.locator('input[name="reason"]').fill("Đã bổ sung quyết định công nhận")
    item.locator("button[type=submit]").click()  # công nhận (accept) is the default choice
    page.wait_for_selector(".messages .success")
    assert "Công nhận" in page.locator('[id="item-1.3.2"] .second').inner_text()

    _login(page, live_url, "sonoivu")
    for code in ("so-tai-chinh", "so-cong-thuong"):
        page.goto(f"{live_url}/dot/{w.round.pk}/khao-sat/")
        page.set_input_files('input[name="file"]', str(EVIDENCE / "departments" / "survey" / f"{code}.yaml"))
        page.click("form button.primary")
        page.wait_for_selector(".messages .success")
    in_thread(lambda: _phase(w.round, "closed"))
    page.goto(f"{live_url}/dot/{w.round.pk}/bang-dieu-khien/")
    assert page.inner_text("#late-count") == "1"
    page.screenshot(path=str(SHOTS / "8-dashboard.png"), full_page=False)
    page.click("#close-round")
    page.wait_for_selector("#result-tien-giang-2023-departments", timeout=120_000)
    page.locator("#result-tien-giang-2023-departments").screenshot(path=str(SHOTS / "9-ranking.png"))

    # the ranking page against `cchc round` on the files the workspace wrote
    from web.workspace.models import Closing

    closing = in_thread(lambda: Closing.objects.get(criteria=w.a.criteria))
    inputs = settings.DATA_DIR / closing.folder / "inputs"
    out = tmp_path / "cli"
    done = subprocess.run([sys.executable, "-c", "import cli; cli.main()", "round",
                           str(inputs / "criteria" / "tien-giang-2023-departments.yaml"),
                           *[x for f in sorted((inputs / "evidence").glob("*.yaml")) for x in ("--evidence", str(f))],
                           "--survey", str(inputs / "survey"), "--appraisal",
                           str(inputs / "appraisal"), "--out", str(out), "--workers", "1"],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "round.json").read_text("utf-8"))
    section = page.locator("#result-tien-giang-2023-departments")
    shown = [(r.get_attribute("data-unit"), r.locator(".rank").inner_text(), r.locator(".index").inner_text(),
              r.locator(".class").inner_text()) for r in section.locator("table.ranking tr[data-unit]").all()]
    expected = [(u["id"], str(u["rank"]), u["index_display"].replace(".", ","), u["class"] or "—")
                for g in summary["groups"] for u in g["units"]]
    assert shown == expected

    with page.expect_download() as dl:
        page.click('a[href$="/bundle.cchc"]')
    bundle = tmp_path / "bundle.cchc"
    dl.value.save_as(bundle)
    from engine.storage.bundle import read_bundle

    assert read_bundle(bundle.read_bytes()).results()["round.json"] == (out / "round.json").read_bytes()
    replay = subprocess.run([sys.executable, "-c", "import cli; cli.main()", "replay", str(bundle)], cwd=REPO,
                            capture_output=True, text=True, timeout=600)
    assert replay.returncode == 0, replay.stdout + replay.stderr

    page.goto(f"{live_url}/nhat-ky/?unit=so-tai-chinh")
    assert "Chuỗi băm toàn vẹn" in page.inner_text("#verdict")
    page.screenshot(path=str(SHOTS / "10-audit.png"), full_page=False)
