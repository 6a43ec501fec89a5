"""The HTML reports opened in headless Chromium (Debian's `chromium`, installed by
scripts/ensure_browser.sh): what a reader sees on screen, and what printing gives (A4 pages).

Without Chromium (or the Playwright client) these tests skip locally and fail in CI (CI=true).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from test_reports import CRITERIA, province  # noqa: F401  (the province fixture)

CHROMIUM = os.environ.get("CCHC_CHROMIUM", "/usr/bin/chromium")
# The machine has no network: without these Chromium waits on connections that never come.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
A4 = (595.28, 841.89)  # points


def _unavailable(reason: str):
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason} (CI must run the browser tests: see scripts/ensure_browser.sh)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium() -> str:
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        _unavailable(f"{CHROMIUM} not found: run scripts/ensure_browser.sh (apt-get install chromium)")
    return CHROMIUM


@pytest.fixture(scope="module")
def browser(chromium, tmp_path_factory):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is missing: pip install -e '.[test]'")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(str(profile), executable_path=chromium, headless=True,
                                                       args=FLAGS, viewport={"width": 1000, "height": 1400})
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="module")
def html_reports(province, tmp_path_factory) -> Path:  # noqa: F811
    from engine.storage.outdir import write_outputs
    from reports import province_report_files, unit_report_files

    out = tmp_path_factory.mktemp("html")
    files = unit_report_files([province / "units"], CRITERIA, kinds=("html",), report_date="2024-01-15")
    files.update(province_report_files(province, criteria=CRITERIA, kinds=("html",)))
    write_outputs(out, files, command="report unit")
    return out


def open_page(browser, path: Path):
    page = browser.new_page()
    page.goto(path.as_uri())
    return page


def cells(row) -> list[str]:
    return [c.inner_text().strip() for c in row.locator("td").all()]


def test_unit_form_on_screen(browser, html_reports):
    page = open_page(browser, html_reports / "so-tai-chinh.html")
    assert page.title().startswith("BẢNG TỰ ĐÁNH GIÁ, CHẤM ĐIỂM CHỈ SỐ CẢI CÁCH HÀNH CHÍNH NĂM 2023")
    assert page.locator("#index").inner_text() == "54,95 %"
    assert page.locator("#self-total").inner_text() == "11,74"
    assert page.locator("#appraised-total").inner_text() == "10,99"
    assert page.locator("#applicable-max").inner_text() == "20,00"
    assert page.locator("#standing").inner_text() == "Xếp hạng: 3/4 trong nhóm Các sở, ban, ngành; xếp loại: Yếu"
    headers = [h.inner_text().replace("\n", " ") for h in page.locator("table.scores thead tr").first.locator("th").all()]
    assert headers == ["STT", "Lĩnh vực / tiêu chí / tiêu chí thành phần", "Điểm tối đa", "Điểm tự đánh giá",
                       "Điểm thẩm định", "Tài liệu kiểm chứng", "Giải trình"]
    # one row per area, criterion and sub-criterion of the criteria set, then the totals
    assert page.locator("table.scores tr.area").count() == 3
    assert page.locator("table.scores tr.criterion").count() == 4
    assert page.locator("table.scores tr.item").count() == 11
    assert cells(page.locator("#total-row"))[1:5] == ["TỔNG ĐIỂM", "20,00", "11,74", "10,99"]
    assert cells(page.locator("#index-row"))[3:5] == ["58,70 %", "54,95 %"]
    adjusted = page.locator("tr[data-code='1.1.3']")
    assert cells(adjusted)[2:5] == ["1,00", "0,50", "0,00"]
    assert "điều chỉnh thành 0,00 điểm" in cells(adjusted)[6]
    page.close()


def test_missing_evidence_stands_out_and_not_applicable_reads_as_such(browser, html_reports):
    page = open_page(browser, html_reports / "xa-an-binh.html")
    flagged = page.locator("tr.item.needs")
    assert flagged.count() == int(page.locator("#needs-count").inner_text()) == 2
    plain_bg = page.locator("tr[data-code='1.1.1'] td").first.evaluate("e => getComputedStyle(e).backgroundColor")
    for i in range(flagged.count()):
        r = flagged.nth(i)
        assert "Cần giải trình" in r.inner_text()
        assert r.locator("td").first.evaluate("e => getComputedStyle(e).backgroundColor") != plain_bg
    na = page.locator("tr.item.na")
    assert na.count() == 2
    assert cells(na.first)[2:4] == ["(1,00)", "Không áp dụng"]
    page.close()


def test_province_summary_chart_and_tables(browser, html_reports, province):  # noqa: F811
    import json

    doc = json.loads((province / "round.json").read_text("utf-8"))
    page = open_page(browser, html_reports / "province.html")
    assert page.locator("#unit-count").inner_text() == "7"
    for g in doc["groups"]:
        section = page.locator(f"#group-{g['id']}")
        bars = section.locator("svg rect.bar")
        with_index = [u for u in g["units"] if u["index"] is not None]
        assert bars.count() == len(with_index) == len(g["units"])
        # bars in rank order, lengths proportional to the index
        widths = [float(bars.nth(i).get_attribute("width")) for i in range(bars.count())]
        assert [bars.nth(i).get_attribute("data-unit") for i in range(bars.count())] == [u["id"] for u in with_index]
        top = float(with_index[0]["index_display"])
        for w, u in zip(widths, with_index):
            assert abs(w / widths[0] - float(u["index_display"]) / top) < 0.01
        assert section.locator("svg").first.bounding_box()["width"] > 300  # drawn, not collapsed
        rows = section.locator("table.ranking tbody tr")
        assert rows.count() == len(g["units"])
        first = cells(rows.first)
        assert first[0] == "1" and first[1] == g["units"][0]["name"]
        assert first[4] == g["units"][0]["index_display"].replace(".", ",")
        counts = {cells(r)[0]: cells(r)[1] for r in section.locator("tr.class-count").all()}
        assert counts == {c["class"]: str(c["count"]) for c in g["class_counts"]}
    assert page.locator("script").count() == 0
    page.close()


def test_print_media_repeats_headers_and_keeps_rows_whole(browser, html_reports):
    page = open_page(browser, html_reports / "so-tai-chinh.html")
    page.emulate_media(media="print")
    assert page.locator("table.scores thead").evaluate("e => getComputedStyle(e).display") == "table-header-group"
    assert page.locator("table.scores tr.item").first.evaluate("e => getComputedStyle(e).breakInside") == "avoid"
    page.close()


def pdf_pages(pdf: bytes) -> list[tuple[float, float]]:
    """Width and height (points) of every page of a PDF Chromium printed (page objects are plain)."""
    boxes = re.findall(rb"/Type\s*/Page\b(?!s).*?/MediaBox\s*\[\s*([\d.\-]+)\s+([\d.\-]+)\s+([\d.\-]+)\s+([\d.\-]+)\s*\]",
                       pdf, re.S)
    if not boxes:  # MediaBox before /Type in the dictionary
        boxes = re.findall(rb"/MediaBox\s*\[\s*([\d.\-]+)\s+([\d.\-]+)\s+([\d.\-]+)\s+([\d.\-]+)\s*\][^>]*?/Type\s*/Page\b(?!s)",
                           pdf, re.S)
    count = re.search(rb"/Type\s*/Pages\b.*?/Count\s+(\d+)", pdf, re.S) or re.search(rb"/Count\s+(\d+)", pdf)
    pages = [(float(x1) - float(x0), float(y1) - float(y0)) for x0, y0, x1, y1 in boxes]
    assert count and int(count.group(1)) == len(pages), "page count and page objects disagree"
    return pages


@pytest.mark.parametrize("name, min_pages, max_pages", [("so-tai-chinh.html", 2, 4), ("province.html", 1, 3)])
def test_printing_gives_a4_pages(chromium, html_reports, tmp_path, name, min_pages, max_pages):
    pdf = tmp_path / "out.pdf"
    profile = tempfile.mkdtemp(prefix="chromium-", dir=tmp_path)
    cmd = [chromium, "--headless", *FLAGS, f"--user-data-dir={profile}", "--no-pdf-header-footer",
           f"--print-to-pdf={pdf}", (html_reports / name).as_uri()]
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    pages = pdf_pages(pdf.read_bytes())
    assert min_pages <= len(pages) <= max_pages, len(pages)
    for w, h in pages:
        assert abs(w - A4[0]) <= 1 and abs(h - A4[1]) <= 1, (w, h)
    shutil.rmtree(profile, ignore_errors=True)


def test_markup_in_a_unit_name_reads_as_text(browser, province, tmp_path):  # noqa: F811
    from engine.storage.outdir import write_outputs
    from reports import unit_report_files
    from test_reports import hostile

    write_outputs(tmp_path / "reports", unit_report_files([hostile(province, tmp_path)], CRITERIA, kinds=("html",)),
                  command="report unit")
    page = open_page(browser, tmp_path / "reports" / "so-noi-vu.html")
    assert page.locator("script").count() == 0
    assert page.locator(".unit-name").inner_text() == "Sở <script>alert(1)</script> | Nội vụ mới"
    assert page.locator("tr[data-code='1.1.1'] td.evidence").inner_text() == "[1]"
    assert "12|KH SNV <b>x</b> ngày 20/01/2023" in page.locator("#citation-1").inner_text()
    page.close()


def test_without_a_browser_ci_fails_and_a_developer_skips(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run the browser tests"):
        _unavailable("no chromium")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        _unavailable("no chromium")


def test_a_long_group_starts_on_the_first_printed_page(chromium, province, tmp_path):  # noqa: F811
    """30 units in the first group (as the example province's communes): printed, the first page
    holds the group's heading and its whole chart, not only the letterhead."""
    import json

    import pypdf

    from engine.storage.outdir import write_outputs
    from reports import province_report_files

    doc = json.loads((province / "round.json").read_text("utf-8"))
    doc["criteria"]["title"] = ("Bộ tiêu chí xác định Chỉ số CCHC năm 2023 của UBND xã, phường, thị trấn "
                                "(xây dựng từ Kế hoạch CCHC năm 2023 tỉnh Tiền Giang)")  # a two-line subtitle
    doc["criteria"]["decision"] = ("Xây dựng từ Kế hoạch ban hành kèm QĐ 45/QĐ-UBND ngày 10/01/2023 — không phải "
                                   "văn bản ban hành bộ chỉ số")  # a note, not printed
    group = doc["groups"][0]
    group["units"] = [dict(group["units"][0], id=f"xa-{i}", name=f"UBND xã Thạnh Phú Đông Số {i} huyện Gò Công Tây",
                           rank=i) for i in range(1, 31)]
    folder = tmp_path / "round"
    folder.mkdir()
    (folder / "round.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    write_outputs(tmp_path / "reports", province_report_files(folder, kinds=("html",)), command="report province")
    pdf = tmp_path / "out.pdf"
    profile = tempfile.mkdtemp(prefix="chromium-", dir=tmp_path)
    subprocess.run([chromium, "--headless", *FLAGS, f"--user-data-dir={profile}", "--no-pdf-header-footer",
                    f"--print-to-pdf={pdf}", (tmp_path / "reports" / "province.html").as_uri()],
                   check=True, capture_output=True, timeout=60)
    shutil.rmtree(profile, ignore_errors=True)

    def squeeze(text: str) -> str:  # the browser's font fallback splits words into runs
        return "".join(text.split()).upper()

    first = squeeze(pypdf.PdfReader(str(pdf)).pages[0].extract_text())
    assert squeeze("BÁO CÁO TỔNG HỢP") in first and squeeze(group["label"]) in first
    assert squeeze("UBND xã Thạnh Phú Đông Số 1 huyện Gò Công Tây") in first  # full names, the chart's first bar
    assert squeeze("UBND xã Thạnh Phú Đông Số 30 huyện Gò Công Tây") in first  # … and its last: the whole chart
