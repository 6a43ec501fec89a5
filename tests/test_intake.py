"""The intake workbook (`cchc template`): its sheets, validations and protection; what an agency
fills reads back through the evidence loader and scores exactly as the same figures in YAML; errors
name the sheet, the cell and the expected column."""
from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from cli import app

ROOT = Path(__file__).resolve().parent.parent
DEPARTMENTS = ROOT / "criteria" / "tien-giang-2023-departments.yaml"
COMMUNES = ROOT / "criteria" / "tien-giang-2023-communes.yaml"
EXAMPLES = ROOT / "examples" / "province"


def _filler():
    spec = importlib.util.spec_from_file_location("fill_intake_example", ROOT / "scripts" / "fill_intake_example.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.fill


def cchc(*args):
    r = CliRunner().invoke(app, [str(a) for a in args])
    return r


def decisions(folder: Path, uid: str) -> tuple[dict, dict]:
    doc = json.loads((folder / "units" / f"{uid}.json").read_text("utf-8"))
    items = {i["code"]: (i["status"], i["points"], i.get("condition"),
                         [(x["metric"], x["value"], x.get("citation")) for x in i.get("inputs", [])])
             for i in doc["items"]}
    return items, doc["total"]


@pytest.mark.parametrize("criteria, evidence", [
    (DEPARTMENTS, EXAMPLES / "departments" / "so-cong-thuong.yaml"),  # task list from a CSV file
    (COMMUNES, EXAMPLES / "communes" / "xa-an-binh.yaml"),
])
def test_round_trip_generate_fill_score_equals_yaml(tmp_path, criteria, evidence):
    import yaml

    unit = yaml.safe_load(evidence.read_text("utf-8"))["unit"]
    blank = tmp_path / "blank.xlsx"
    r = cchc("template", criteria, "--unit", unit["id"], "--name", unit["name"], "--type", unit["type"], "--out", blank)
    assert r.exit_code == 0, r.output
    filled = _filler()(blank, evidence, tmp_path / "agency" / f"{unit['id']}.xlsx")
    assert cchc("score", criteria, filled, "--out", tmp_path / "from-xlsx", "--engine", "reference").exit_code == 0
    r = cchc("score", criteria, evidence, "--out", tmp_path / "from-yaml", "--engine", "reference")
    assert r.exit_code == 0, r.output
    xlsx_items, xlsx_total = decisions(tmp_path / "from-xlsx", unit["id"])
    yaml_items, yaml_total = decisions(tmp_path / "from-yaml", unit["id"])
    assert xlsx_items == yaml_items
    assert xlsx_total == yaml_total


def test_workbook_sheets_validations_and_protection(tmp_path):
    from engine import load_criteria

    out = tmp_path / "t.xlsx"
    assert cchc("template", DEPARTMENTS, "--out", out).exit_code == 0
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Hướng dẫn", "Số liệu", "Nhiệm vụ"]
    ws = wb["Số liệu"]
    header = [c.value for c in ws[1]]
    assert header[:8] == ["STT", "Mã tiêu chí thành phần", "Tiêu chí thành phần", "Chỉ tiêu", "Đơn vị tính",
                          "Giá trị hợp lệ", "Năm trước", "Mã chỉ tiêu"]
    assert {"Giá trị", "Tử số", "Mẫu số", "Số, ký hiệu văn bản", "Ngày văn bản", "Cơ quan ban hành",
            "Tệp tài liệu", "Giải trình", "Mã đơn vị", "Kỳ đánh giá"} <= set(header)
    cs = load_criteria(DEPARTMENTS)
    col = {h: i + 1 for i, h in enumerate(header)}
    rows = {ws.cell(r, col["Mã chỉ tiêu"]).value: r for r in range(2, ws.max_row + 1)}
    expected = {s.metric for s in cs.sub_criteria()}
    assert set(rows) == expected
    responses = [m for m in expected if cs.metrics[m].kind == "responses"]
    assert ws.max_row - 1 == len(expected) + sum(len(cs.metrics[m].options) - 1 for m in responses)
    # the sub-criterion's code and title, the unit of measure, the allowed values
    r = rows["on_time_rate"]
    subs = [s for s in cs.sub_criteria() if s.metric == "on_time_rate"]
    assert ws.cell(r, col["Mã tiêu chí thành phần"]).value == "; ".join(s.code for s in subs)
    assert subs[0].title in ws.cell(r, col["Tiêu chí thành phần"]).value
    assert ws.cell(r, col["Đơn vị tính"]).value == "%"
    # validations: a list for yes/no, a range for percents, whole numbers for counts
    value_col = openpyxl.utils.get_column_letter(col["Giá trị"])

    def rule_for(metric):
        ref = f"{value_col}{rows[metric]}"
        found = [dv for dv in ws.data_validations.dataValidation if ref in dv.sqref]
        assert len(found) == 1, metric
        return found[0]

    kinds = {cs.metrics[m].kind: m for m in expected}
    assert rule_for(kinds["boolean"]).type == "list" and rule_for(kinds["boolean"]).formula1 == '"Có,Không"'
    pct = rule_for(kinds["percent"])
    assert (pct.type, pct.operator, pct.formula1, pct.formula2) == ("decimal", "between", "0", "100")
    count = rule_for(kinds["count"])
    assert (count.type, count.operator, count.formula1) == ("whole", "greaterThanOrEqual", "0")
    # protected headers, open data cells, frozen panes
    assert ws.protection.sheet and ws["A1"].protection.locked and ws.cell(2, col["Mã chỉ tiêu"]).protection.locked
    assert not ws.cell(2, col["Giá trị"]).protection.locked and not ws.cell(2, col["Mã đơn vị"]).protection.locked
    assert ws.freeze_panes == "D2"
    tasks = wb["Nhiệm vụ"]
    assert [c.value for c in tasks[1]] == ["STT", "Nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Sản phẩm",
                                           "Thời hạn hoàn thành", "Ngày hoàn thành"]
    assert tasks.protection.sheet and not tasks["B2"].protection.locked
    assert wb["Hướng dẫn"]["A1"].value == "PHIẾU NHẬP SỐ LIỆU CHỈ SỐ CẢI CÁCH HÀNH CHÍNH"


def test_pre_filled_from_last_years_result(tmp_path):
    last = tmp_path / "last"
    assert cchc("score", DEPARTMENTS, EXAMPLES / "departments" / "so-noi-vu.yaml", "--out", last,
                "--engine", "reference").exit_code == 0
    out = tmp_path / "t.xlsx"
    r = cchc("template", DEPARTMENTS, "--previous", last / "units" / "so-noi-vu.json", "--out", out)
    assert r.exit_code == 0, r.output
    ws = openpyxl.load_workbook(out)["Số liệu"]
    header = [c.value for c in ws[1]]
    col = {h: i + 1 for i, h in enumerate(header)}
    rows = {ws.cell(r, col["Mã chỉ tiêu"]).value: r for r in range(2, ws.max_row + 1)}
    assert ws.cell(2, col["Mã đơn vị"]).value == "so-noi-vu" and ws.cell(2, col["Tên đơn vị"]).value == "Sở Nội vụ"
    assert ws.cell(2, col["Loại đơn vị"]).value == "department" and ws.cell(2, col["Kỳ đánh giá"]).value == "2023"
    assert ws.cell(rows["plan_issued"], col["Năm trước"]).value  # last year's value shown, not entered
    assert ws.cell(rows["plan_issued"], col["Giá trị"]).value is None
    # a round summary names the unit only; many units: --unit is needed
    rd = ROOT / "examples" / "province-round" / "departments" / "previous" / "round-2022.json"
    r = cchc("template", DEPARTMENTS, "--previous", rd, "--out", tmp_path / "r.xlsx")
    assert r.exit_code == 2 and "pass --unit" in r.stderr
    r = cchc("template", DEPARTMENTS, "--previous", rd, "--unit", "so-noi-vu", "--out", tmp_path / "r.xlsx")
    assert r.exit_code == 0, r.output
    r = cchc("template", DEPARTMENTS, "--unit", "so-moi", "--out", tmp_path / "r.xlsx")
    assert r.exit_code == 2 and "give its --name and --type" in r.stderr


def _filled(tmp_path) -> Path:
    blank = tmp_path / "blank.xlsx"
    assert cchc("template", DEPARTMENTS, "--unit", "so-noi-vu", "--name", "Sở Nội vụ", "--type", "department",
                "--out", blank).exit_code == 0
    return blank


def test_errors_name_the_sheet_and_the_cell(tmp_path):
    path = _filled(tmp_path)
    wb = openpyxl.load_workbook(path)
    ws = wb["Số liệu"]
    header = [c.value for c in ws[1]]
    col = {h: i + 1 for i, h in enumerate(header)}
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, col["Mã chỉ tiêu"]).value == "on_time_rate")
    ws.cell(row, col["Giá trị"]).value = 101
    wb.save(path)
    r = cchc("validate", "--criteria", DEPARTMENTS, path)
    cell = f"{openpyxl.utils.get_column_letter(col['Giá trị'])}{row}"
    assert r.exit_code == 2
    assert f"{path}:Số liệu!{cell}: on_time_rate: a percent must be from 0 to 100, got 101" in r.stderr


def test_data_on_the_wrong_sheet_is_told_which_sheet_and_column(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "Hướng dẫn"
    wb.active["A1"] = "Hướng dẫn điền"
    summary = wb.create_sheet("Tổng hợp")
    summary["A1"] = "BẢNG SỐ LIỆU"
    wrong = tmp_path / "wrongsheet.xlsx"
    wb.save(wrong)
    r = cchc("validate", "--criteria", DEPARTMENTS, wrong)
    assert r.exit_code == 2
    assert (f"{wrong}:Tổng hợp!A1: missing column 'period' (Kỳ đánh giá) on sheet 'Tổng hợp': the evidence table "
            f"is read from the sheet 'Số liệu' (or 'evidence')") in r.stderr
    # instructions first and the table on the next sheet: read
    ok = openpyxl.Workbook()
    ok.active.title = "Hướng dẫn"
    data = ok.create_sheet("Sheet1")
    data.append(["unit_id", "unit_name", "unit_type", "period", "metric", "value"])
    data.append(["so-noi-vu", "Sở Nội vụ", "department", "2023", "late_reports", 0])
    ok.save(tmp_path / "ok.xlsx")
    r = cchc("validate", "--criteria", DEPARTMENTS, tmp_path / "ok.xlsx")
    assert r.exit_code == 0, r.stderr


def test_an_unfilled_workbook_gives_no_figures_and_a_task_sheet_is_read(tmp_path):
    from engine import load_criteria, load_evidence

    path = _filled(tmp_path)
    cs = load_criteria(DEPARTMENTS)
    wb = openpyxl.load_workbook(path)
    ws = wb["Số liệu"]
    header = [c.value for c in ws[1]]
    col = {h: i + 1 for i, h in enumerate(header)}
    rows = {ws.cell(r, col["Mã chỉ tiêu"]).value: r for r in range(2, ws.max_row + 1)}
    ws.cell(rows["late_reports"], col["Giá trị"]).value = 2
    ws.cell(rows["plan_tasks"], col["Giá trị"]).value = "Nhiệm vụ"
    tasks = wb["Nhiệm vụ"]
    tasks.append([None])  # rows below the prepared ones are read too
    for i, (task, deadline, done) in enumerate([("Ban hành kế hoạch", "Quý I", "2023-03-01"),
                                                ("Kiểm tra CCHC", "Tháng 6", None)], 2):
        tasks.cell(i, 2).value, tasks.cell(i, 3).value = task, "Sở Nội vụ"
        tasks.cell(i, 6).value, tasks.cell(i, 7).value = deadline, done
    wb.save(path)
    ev = load_evidence([path], cs)
    (record,) = ev.records
    assert set(record.values) == {"late_reports", "plan_tasks"}  # the rest: missing evidence
    assert [t.task for t in record.values["plan_tasks"].value] == ["Ban hành kế hoạch", "Kiểm tra CCHC"]


def test_the_plain_layout_still_reads(tmp_path):
    from engine import load_criteria, load_evidence

    shutil.copy(EXAMPLES / "departments" / "departments.csv", tmp_path / "d.csv")
    import csv

    rows = list(csv.reader((tmp_path / "d.csv").open(encoding="utf-8")))
    wb = openpyxl.Workbook()
    wb.active.title = "evidence"
    keep = rows[:1] + [r for r in rows[1:] if r[4] != "plan_tasks" and not r[12]]
    for r in keep:
        wb.active.append(r)
    wb.save(tmp_path / "plain.xlsx")
    ev = load_evidence([tmp_path / "plain.xlsx"], load_criteria(DEPARTMENTS))
    assert len(ev.records) == len({r[0] for r in keep[1:]})
