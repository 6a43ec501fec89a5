"""Reports as a reader gets them: the Markdown self-assessment forms and province summary against
golden files, the figures a reader checks, the gap analysis, escaping, a province's own templates,
and the errors a user can cause.

Golden files: tests/golden/reports/. After an intended change of the reports, regenerate them with
    CCHC_REGEN_GOLDEN=1 .venv/bin/python -m pytest tests/test_reports.py
and read the diff before committing it.
"""
from __future__ import annotations

import json
import os
import re
import shutil
from fractions import Fraction
from pathlib import Path

import pytest

from test_reports_data import CRITERIA, build_province

GOLDEN = Path(__file__).parent / "golden" / "reports"
REGEN = bool(os.environ.get("CCHC_REGEN_GOLDEN"))
SAMPLE_EVIDENCE = Path(__file__).parent / "data" / "evidence"


@pytest.fixture(scope="session")
def province(tmp_path_factory) -> Path:
    """The annual round of the test province, run from inside its folder so that every path in
    the results is relative (the reports show where the evidence came from)."""
    folder = tmp_path_factory.mktemp("province")
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        return folder / build_province(Path("."))
    finally:
        os.chdir(cwd)


@pytest.fixture(scope="session")
def scored(tmp_path_factory) -> Path:
    """`cchc score` on the sample data (no annual round: no appraisal), paths relative."""
    from typer.testing import CliRunner

    from cli import app

    folder = tmp_path_factory.mktemp("scored")
    shutil.copytree(SAMPLE_EVIDENCE, folder / "evidence")
    shutil.copy(CRITERIA, folder / "criteria.yaml")
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        r = CliRunner().invoke(app, ["score", "criteria.yaml", "evidence", "--out", "out", "--engine", "reference"])
        assert r.exit_code == 0, r.output
    finally:
        os.chdir(cwd)
    return folder / "out"


def report(cchc, tmp_path: Path, *args, ok: bool = True) -> Path:
    out = tmp_path / "reports" / args[0]  # one folder per kind: each run replaces its own folder
    r = cchc("report", *args, "--out", out)
    if ok:
        assert r.exit_code == 0, r.output
    return out


def golden(name: str, actual: bytes) -> None:
    path = GOLDEN / name
    if REGEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual)
    assert path.exists(), f"{path} is missing: run CCHC_REGEN_GOLDEN=1 .venv/bin/python -m pytest tests/test_reports.py"
    expected = path.read_bytes()
    assert actual.decode("utf-8") == expected.decode("utf-8"), (
        f"{name} differs from its golden file; if the change is intended, regenerate with CCHC_REGEN_GOLDEN=1")


def row(md: str, first_cell: str) -> list[str]:
    """The cells of the Markdown table row whose first cell is `first_cell` (escaped pipes kept)."""
    for line in md.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            if cells and cells[0] == first_cell:
                return cells
    raise AssertionError(f"no row starting with {first_cell!r}")


# ---------------------------------------------------------------- golden Markdown

@pytest.mark.parametrize("unit", ["so-tai-chinh", "so-xay-dung", "xa-an-binh"])
def test_unit_form_markdown_matches_golden(cchc, tmp_path, province, unit):
    out = report(cchc, tmp_path, "unit", province / "units" / f"{unit}.json", "--criteria", CRITERIA,
                 "--format", "md", "--date", "2024-01-15")
    golden(f"unit-{unit}.md", (out / f"{unit}.md").read_bytes())


def test_province_summary_markdown_matches_golden(cchc, tmp_path, province):
    out = report(cchc, tmp_path, "province", province / "round.json", "--criteria", CRITERIA, "--format", "md",
                 "--date", "15/01/2024")
    golden("province.md", (out / "province.md").read_bytes())


def test_plain_score_output_matches_golden(cchc, tmp_path, scored):
    out = report(cchc, tmp_path, "unit", scored, "--criteria", CRITERIA, "--format", "md")
    golden("score-so-noi-vu.md", (out / "so-noi-vu.md").read_bytes())


# ---------------------------------------------------------------- what a reader checks

def test_appraised_form_shows_self_and_appraised_points(cchc, tmp_path, province):
    out = report(cchc, tmp_path, "unit", province / "units" / "so-tai-chinh.json", "--criteria", CRITERIA,
                 "--format", "md")
    md = (out / "so-tai-chinh.md").read_text("utf-8")
    doc = json.loads((province / "units" / "so-tai-chinh.json").read_text("utf-8"))
    # item 1.1.3: self-assessed 0.5 (late report), the council adjusted it to 0 with a reason
    cells = row(md, "1.1.3")
    assert cells[2:5] == ["1,00", "0,50", "**0,00**"]
    assert "Thẩm định lần 1 (05/12/2023): điều chỉnh thành 0,00 điểm — Báo cáo không đúng đề cương" in cells[6]
    # two rounds on 1.2.4, with the unit's explanation between them
    assert re.search(r"lần 1 .*0,25 điểm.*Giải trình của đơn vị \(lần 2\): Đơn vị gửi báo cáo 50/BC-TC.*lần 2",
                     row(md, "1.2.4")[6])
    # totals: self 11.74, appraised = the result's final points, index on the applicable maximum
    final = Fraction(doc["total"]["points"])
    assert row(md, "")[1:5] == ["**TỔNG ĐIỂM**", "**20,00**", "**11,74**", "**10,99**"]
    assert final == Fraction(1099, 100)
    assert "- Chỉ số CCHC: **54,95 %**" in md
    assert "- Xếp hạng: 3/4 trong nhóm Các sở, ban, ngành; xếp loại: Yếu" in md


def test_plain_score_output_leaves_the_appraised_column_empty(cchc, tmp_path, scored):
    out = report(cchc, tmp_path, "unit", scored / "units" / "so-noi-vu.json", "--criteria", CRITERIA, "--format", "md")
    md = (out / "so-noi-vu.md").read_text("utf-8")
    assert row(md, "2.1.1")[2:5] == ["3,00", "2,00", ""]
    assert "Tổng điểm thẩm định" not in md
    assert "- Chỉ số CCHC: **67,52 %**" in md  # 13.5 / 20, with a Vietnamese decimal comma


def test_not_applicable_items_and_the_reduced_maximum(cchc, tmp_path, province):
    out = report(cchc, tmp_path, "unit", province / "units" / "xa-an-binh.json", "--criteria", CRITERIA, "--format", "md")
    md = (out / "xa-an-binh.md").read_text("utf-8")
    na_type = row(md, "1.2.4")
    assert na_type[2:4] == ["(1,00)", "Không áp dụng"] and "Không áp dụng đối với UBND cấp xã." in na_type[-1]
    na_own = row(md, "2.1.2")
    assert na_own[2:4] == ["(3,00)", "Không áp dụng"] and na_own[-1] == "Xã chưa triển khai dịch vụ công trực tuyến"
    assert "- Điểm tối đa áp dụng: **16,00** (bộ chỉ số 20,00; không áp dụng 4,00)" in md
    assert row(md, "**I**")[2] == "**7,00**"  # area 1 without 1.2.4


def test_items_missing_evidence_stand_out_with_the_explanation_due(cchc, tmp_path, province):
    out = report(cchc, tmp_path, "unit", province / "units" / "so-xay-dung.json", "--criteria", CRITERIA, "--format", "md")
    md = (out / "so-xay-dung.md").read_text("utf-8")
    missing = row(md, "2.1.2 ⚠")  # no online figures at all
    assert missing[5] == "Chưa có"
    assert missing[6] == "**Cần giải trình:** Thiếu số liệu, tài liệu kiểm chứng: giải trình lý do, bổ sung tài liệu."
    uncited = row(md, "1.2.2 ⚠")  # a figure without a document
    assert uncited[6].startswith("**Cần giải trình:** Chưa có tài liệu kiểm chứng")
    flagged = [line for line in md.splitlines() if re.match(r"\| [\d.]+ ⚠ \|", line)]
    assert f"- Tiêu chí thành phần cần giải trình: **{len(flagged)}**" in md


def test_reports_are_byte_identical_for_the_same_inputs(cchc, tmp_path, province):
    a = report(cchc, tmp_path / "a", "unit", province, "--criteria", CRITERIA, "--format", "both")
    b = report(cchc, tmp_path / "b", "unit", province, "--criteria", CRITERIA, "--format", "both")
    pa = report(cchc, tmp_path / "a", "province", province, "--criteria", CRITERIA, "--format", "both")
    pb = report(cchc, tmp_path / "b", "province", province, "--criteria", CRITERIA, "--format", "both")
    for x, y, n in ((a, b, 7 * 2), (pa, pb, 2)):
        names = sorted(p.name for p in x.iterdir())
        assert names == sorted(p.name for p in y.iterdir()) and len(names) == n + 1  # and .cchc-out.json
        for name in names:
            assert (x / name).read_bytes() == (y / name).read_bytes(), name


# ---------------------------------------------------------------- gap analysis

def gaps_of(doc: dict):
    from engine import load_criteria
    from engine.storage.documents import unit_result
    from reports.gaps import gap_report

    return gap_report(load_criteria(CRITERIA), unit_result(Path("u.json"), doc).items)


def test_gaps_sorted_by_points_at_stake_and_total_reachable(province):
    doc = json.loads((province / "units" / "so-tai-chinh.json").read_text("utf-8"))
    report_ = gaps_of(doc)
    stakes = [g.stake for g in report_.gaps]
    assert stakes == sorted(stakes, reverse=True)
    total = doc["total"]
    assert report_.reachable == Fraction(total["max"]) - Fraction(total["points"])
    assert all(g.points < g.best for g in report_.gaps)
    items = {i["code"]: i for i in doc["items"]}
    at_best = {c for c, i in items.items() if Fraction(i["points"]) == Fraction(i["max"])}
    assert not at_best & {g.code for g in report_.gaps}


def test_next_threshold_per_method(province):
    doc = json.loads((province / "units" / "so-tai-chinh.json").read_text("utf-8"))
    g = {x.code: x for x in gaps_of(doc).gaps}
    # tiers: 92 % is in "> 90 and < 98" (2 points); the next band starts at 98 %
    assert (g["2.1.1"].value, g["2.1.1"].target, g["2.1.1"].gain) == (
        "92,00 %", "Từ 98% trở lên (≥ 98 %)", Fraction(1))
    # tiers on a task list: 3 of 4 done = 75 %; next band from 80 %
    assert g["1.1.2"].value == "75,00 % (trên 4 nhiệm vụ)" and g["1.1.2"].target.endswith("(≥ 80 %)")
    # categories: late → on time
    assert (g["1.1.1"].target, g["1.1.1"].gain) == ("Đúng hạn", Fraction(1, 2))
    # proportional: 300 of 1000 = 30 %; full points from 50 %
    assert g["2.1.2"].value == "30,00 % (300/1000)"
    assert g["2.1.2"].target == "Tỷ lệ đạt (%) ≥ 50: điểm tối đa (cần thêm 20,00 điểm phần trăm)"
    assert g["2.1.2"].gain == Fraction(3) - Fraction(9, 5)
    # deductions: 2 late reports → 0; bonus: 1 award → 2 (cap 1 point at 0.5 each)
    assert g["1.2.2"].target.startswith("Giảm 2 lần, còn 0 lần") and g["1.2.2"].gain == Fraction(1, 2)
    assert g["1.2.3"].target.startswith("Thêm 1 lần, đạt 2 lần") and g["1.2.3"].gain == Fraction(1, 2)
    # survey items are marked, never presented as the unit's own score
    assert g["3.1.1"].survey and g["3.1.1"].target.startswith("Điểm khảo sát (%) ≥ 100")


def test_missing_evidence_gap_names_the_best_outcome(province):
    doc = json.loads((province / "units" / "so-xay-dung.json").read_text("utf-8"))
    g = {x.code: x for x in gaps_of(doc).gaps}["2.1.2"]
    assert g.value == "Chưa có số liệu" and g.gain == g.stake == 3
    assert g.target.startswith("Bổ sung số liệu và tài liệu kiểm chứng; mức cao nhất:")


def test_a_misread_value_is_never_used(province):
    """The current value is kept only if it gives the self-assessed points back."""
    import dataclasses

    from engine import load_criteria
    from engine.storage.documents import ResultInput, ResultItem
    from reports.gaps import current

    cs = load_criteria(CRITERIA)
    sub = next(s for s in cs.sub_criteria() if s.code == "2.1.1")
    item = ResultItem("2.1.1", "tiers", "scored", Fraction(2), Fraction(3), "", (), {}, "",
                      (ResultInput("on_time_rate", "99", None, ""),), "99")  # 99 % gives 3
    assert current(sub, cs.metrics[sub.metric], item).quantity is None
    item = dataclasses.replace(item, quantity="93.5")
    assert current(sub, cs.metrics[sub.metric], item).quantity == Fraction(187, 2)


# ---------------------------------------------------------------- escaping

def hostile(province: Path, tmp_path: Path) -> Path:
    doc = json.loads((province / "units" / "so-noi-vu.json").read_text("utf-8"))
    doc["unit"]["name"] = "Sở <script>alert(1)</script> | Nội vụ\nmới"
    doc["items"][0]["inputs"][0]["citation"]["document"] = "12|KH\nSNV <b>x</b>"
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def test_html_shows_markup_in_names_and_citations_as_text(cchc, tmp_path, province):
    out = report(cchc, tmp_path, "unit", hostile(province, tmp_path), "--criteria", CRITERIA, "--format", "html")
    html = (out / "so-noi-vu.html").read_text("utf-8")
    assert "<script" not in html and "<b>x</b>" not in html
    assert "Sở &lt;script&gt;alert(1)&lt;/script&gt; | Nội vụ" in html
    assert "12|KH\nSNV &lt;b&gt;x&lt;/b&gt;" in html


def test_markdown_escapes_what_would_break_a_table(cchc, tmp_path, province):
    out = report(cchc, tmp_path, "unit", hostile(province, tmp_path), "--criteria", CRITERIA, "--format", "md")
    md = (out / "so-noi-vu.md").read_text("utf-8")
    cells = row(md, "1.1.1")
    assert len(cells) == 7
    assert cells[5] == r"\[1\]"  # the citation by number; its text once, in the list under the table
    assert "\n1. " + r"12\|KH SNV \<b\>x\</b\> ngày 20/01/2023 của Sở Nội vụ" + "\n" in md
    assert r"Sở \<script\>alert(1)\</script\> \| Nội vụ mới" in md
    header = next(line for line in md.splitlines() if line.startswith("| STT |"))
    for line in md.splitlines():
        if line.startswith("| 1.") or line.startswith("| **I"):
            assert len(re.split(r"(?<!\\)\|", line)) == len(header.split("|")), line


# ---------------------------------------------------------------- a province's own templates

def test_own_templates_come_first_and_the_shipped_ones_fill_in(cchc, tmp_path, province):
    own = tmp_path / "templates"
    own.mkdir()
    (own / "unit.md.j2").write_text(
        "{% extends \"base.md.j2\" %}{% block content %}TỈNH MẪU — {{ unit.name }}: {{ total.index }}\n"
        "{% for r in rows if r.kind == 'area' %}{{ r.stt }}. {{ r.title }}: {{ r.self }}\n{% endfor %}{% endblock %}",
        encoding="utf-8")
    (own / "report.css").write_text("body { font-family: serif; color: #123456; }\n", encoding="utf-8")
    out = report(cchc, tmp_path, "unit", province / "units" / "so-noi-vu.json", "--criteria", CRITERIA,
                 "--format", "both", "--templates", own)
    md = (out / "so-noi-vu.md").read_text("utf-8")
    assert md.startswith("TỈNH MẪU — Sở Nội vụ: 97,20 %\nI. Công tác chỉ đạo, điều hành CCHC: 8,00\n")
    html = (out / "so-noi-vu.html").read_text("utf-8")
    assert "color: #123456" in html and "BẢNG TỰ ĐÁNH GIÁ" in html  # own CSS, shipped layout


def test_a_template_error_names_the_template(cchc, tmp_path, province):
    own = tmp_path / "templates"
    own.mkdir()
    (own / "unit.md.j2").write_text("{{ unit.nmae }}\n", encoding="utf-8")
    r = cchc("report", "unit", province / "units" / "so-noi-vu.json", "--criteria", CRITERIA, "--format", "md",
             "--templates", own, "--out", tmp_path / "out")
    assert r.exit_code == 2
    assert "unit.md.j2" in r.stderr and "nmae" in r.stderr
    (own / "unit.md.j2").write_text("{% if %}\n", encoding="utf-8")
    r = cchc("report", "unit", province / "units" / "so-noi-vu.json", "--criteria", CRITERIA, "--format", "md",
             "--templates", own, "--out", tmp_path / "out")
    assert r.exit_code == 2 and "unit.md.j2:1" in r.stderr and "template syntax error" in r.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


# ---------------------------------------------------------------- province summary

def test_province_summary_ranks_classes_and_changes(cchc, tmp_path, province):
    out = report(cchc, tmp_path, "province", province, "--criteria", CRITERIA, "--format", "md")
    md = (out / "province.md").read_text("utf-8")
    assert row(md, "1")[:6] == ["1", "Sở Nội vụ", "19,44", "20,00", "97,20", "Tốt"]
    assert row(md, "1")[6:] == ["88,50", "+8,70", "2", "▲ 1"]
    tai_chinh = next(line for line in md.splitlines() if "Sở Tài chính" in line)
    assert tai_chinh.endswith("| mới |")  # no result last year
    assert row(md, "Trung bình") == ["Trung bình", "1"] and row(md, "Yếu") == ["Yếu", "2"]
    assert "không có trong năm nay: UBND xã Cũ." in md


def test_province_summary_from_a_results_folder_ranks_like_the_round(cchc, tmp_path, province):
    units_only = tmp_path / "units-only"
    shutil.copytree(province / "units", units_only / "units")
    out = report(cchc, tmp_path, "province", units_only, "--criteria", CRITERIA, "--format", "md")
    md = (out / "province.md").read_text("utf-8")
    round_md = (report(cchc, tmp_path / "r", "province", province, "--criteria", CRITERIA, "--format", "md")
                / "province.md").read_text("utf-8")
    ranking = [line for line in round_md.splitlines() if re.match(r"\| \d \| ", line)]
    assert [line.split("|")[1:7] for line in ranking] == [
        line.split("|")[1:7] for line in md.splitlines() if re.match(r"\| \d \| ", line)]


def test_province_from_results_needs_the_criteria(cchc, tmp_path, province):
    units_only = tmp_path / "units-only"
    shutil.copytree(province / "units", units_only)
    r = cchc("report", "province", units_only, "--out", tmp_path / "o")
    assert r.exit_code == 2 and "pass --criteria" in r.stderr


# ---------------------------------------------------------------- errors a user can cause

def test_results_scored_with_another_criteria_set_are_refused(cchc, tmp_path, province):
    other = tmp_path / "other.yaml"
    other.write_text(CRITERIA.read_text("utf-8").replace("title: Bộ chỉ số mẫu", "title: Bộ chỉ số khác"), "utf-8")
    r = cchc("report", "unit", province / "units" / "so-noi-vu.json", "--criteria", other, "--out", tmp_path / "o")
    assert r.exit_code == 2
    assert "scored with criteria set 'sample-2023'" in r.stderr and "pass the criteria file" in r.stderr
    r = cchc("report", "province", province / "round.json", "--criteria", other, "--out", tmp_path / "o")
    assert r.exit_code == 2 and "pass the criteria file the round was scored with" in r.stderr


def test_bad_inputs_exit_2_with_a_clear_message(cchc, tmp_path, province):
    bad = tmp_path / "bad.json"
    bad.write_text("{\"format\": \"cchc-summary/1\"}", encoding="utf-8")
    r = cchc("report", "unit", bad, "--criteria", CRITERIA, "--out", tmp_path / "o")
    assert r.exit_code == 2 and "not a unit result" in r.stderr
    bad.write_text("{oops", encoding="utf-8")
    r = cchc("report", "unit", bad, "--criteria", CRITERIA, "--out", tmp_path / "o")
    assert r.exit_code == 2 and f"{bad}:1:2: not valid JSON" in r.stderr
    r = cchc("report", "unit", province / "units", "--criteria", CRITERIA, "--format", "xlsx,odt", "--out", tmp_path / "o")
    assert r.exit_code == 2 and "unknown format 'odt'" in r.stderr
    r = cchc("report", "unit", province / "units", "--criteria", CRITERIA, "--date", "31/02/2024", "--out", tmp_path / "o")
    assert r.exit_code == 2 and "is not a date" in r.stderr
    r = cchc("report", "unit", province / "units", "--criteria", CRITERIA, "--templates", tmp_path / "nope",
             "--out", tmp_path / "o")
    assert r.exit_code == 2 and "templates folder not found" in r.stderr
    r = cchc("report", "province", province / "units" / "so-noi-vu.json", "--out", tmp_path / "o")
    assert r.exit_code == 2 and "not a round summary" in r.stderr


def test_a_unit_given_twice_is_refused_by_both_reports(cchc, tmp_path, province):
    twice = tmp_path / "twice"
    shutil.copytree(province / "units", twice)
    shutil.copy(twice / "so-noi-vu.json", twice / "so-noi-vu-again.json")
    for kind in ("unit", "province"):
        r = cchc("report", kind, twice, "--criteria", CRITERIA, "--out", tmp_path / kind)
        assert r.exit_code == 2 and f"{twice / 'so-noi-vu.json'}: unit 'so-noi-vu' is also in " \
            f"{twice / 'so-noi-vu-again.json'}: one result per unit" in r.stderr, r.stderr
        assert not (tmp_path / kind).exists()


# ---------------------------------------------------------------- edge cases a province meets

def test_a_unit_with_no_applicable_item_has_no_index(province):
    from engine import load_criteria
    from engine.storage.documents import unit_result
    from reports import render, unit_context

    doc = json.loads((province / "units" / "xa-an-binh.json").read_text("utf-8"))
    for i in doc["items"]:
        i.update(status="not_applicable", points="0", notes=[], reason="Không phát sinh", inputs=[],
                 self_points=None, appraised_points=None, appraisal_rounds=[])
    for r in doc["areas"] + doc["criteria_rollup"] + [doc["total"]]:
        r.update(points="0", max="0", index=None, index_display=None)
    ctx = unit_context(load_criteria(CRITERIA), unit_result(Path("xa-an-binh.json"), doc))
    md = render("unit", "md", ctx).decode("utf-8")
    assert "- Chỉ số CCHC: **—**" in md and "- Điểm tối đa áp dụng: **0,00**" in md
    assert row(md, "**I**")[2:4] == ["(8,00)", "Không áp dụng"]
    assert "Đơn vị đã đạt điểm cao nhất" in md  # nothing left to gain
    render("unit", "html", ctx)


def test_ungrouped_units_and_units_without_index_in_the_summary(province):
    from engine import load_criteria
    from reports import province_context, render

    doc = json.loads((province / "round.json").read_text("utf-8"))
    communes = doc["groups"][1]
    moved = communes["units"].pop()
    moved.update(rank=None, **{"class": None})
    doc["ungrouped"] = {"unit_types": ["commune"], "units": [moved]}
    communes["units"][-1].update(index=None, index_display=None, rank=None, **{"class": None})
    communes["unclassified"] = 1
    ctx = province_context(doc, load_criteria(CRITERIA))
    md = render("province", "md", ctx).decode("utf-8")
    assert "Đơn vị không thuộc nhóm xếp hạng" in md and f"| {moved['name']} | UBND cấp xã |" in md
    no_index = communes["units"][-1]["name"]
    assert row(md, "—")[1] == no_index and row(md, "—")[4] == "—"
    assert row(md, "Chưa xếp loại") == ["Chưa xếp loại", "1"]
    html = render("province", "html", ctx).decode("utf-8")
    section = html.split('id="group-communes"')[1].split("</section>")[0]
    assert section.count('<rect class="bar"') == 1  # one unit left with an index
