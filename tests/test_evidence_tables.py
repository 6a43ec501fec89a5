"""Task lists from CSV rows, the annexes' deadline wording, and Excel cells formatted as percent."""
from datetime import date
from fractions import Fraction

import openpyxl
import pytest

from engine import load_criteria, load_evidence
from engine.core.errors import EvidenceError

SAMPLE = "tests/data/sample-criteria.yaml"
HEADER = "unit_id,unit_name,unit_type,period,metric,option,value,numerator,denominator,document,date,issuer,file,reason,not_applicable\n"


@pytest.fixture(scope="module")
def criteria():
    return load_criteria(SAMPLE)


def write_tasks(folder, body, header="task,lead,deadline,completed"):
    (folder / "tasks").mkdir(exist_ok=True)
    (folder / "tasks" / "u1.csv").write_text(header + "\n" + body, encoding="utf-8")


def test_a_csv_row_names_the_task_file(tmp_path, criteria):
    write_tasks(tmp_path, "Kế hoạch,Sở Nội vụ,Quý IV năm 2022,2022-12-20\n"
                          "Báo cáo,Sở Nội vụ,Năm 2023,2023-12-31\n"
                          "Tuyên truyền,Sở Nội vụ,Thường xuyên,\n"
                          "Kiểm tra,Sở Nội vụ,Tháng 8 năm 2023,2023-09-01\n")
    (tmp_path / "u.csv").write_text(HEADER + "u1,Đơn vị 1,department,2023,plan_tasks,,tasks/u1.csv,,,,,,,,\n",
                                    encoding="utf-8")
    [rec] = load_evidence([tmp_path], criteria).records
    tasks = rec.values["plan_tasks"].value
    assert [t.deadline for t in tasks] == [date(2022, 12, 31), date(2023, 12, 31), date(2023, 12, 31),
                                           date(2023, 8, 31)]
    assert [t.completed for t in tasks] == [date(2022, 12, 20), date(2023, 12, 31), None, date(2023, 9, 1)]


def test_a_misspelt_task_column_is_an_error_but_extra_columns_are_not(tmp_path, criteria):
    write_tasks(tmp_path, "1,Kế hoạch,Sở Nội vụ,Quý I,2023-03-01\n", header="stt,task,lead,deadline,complete")
    (tmp_path / "u.csv").write_text(HEADER + "u1,Đơn vị 1,department,2023,plan_tasks,,tasks/u1.csv,,,,,,,,\n",
                                    encoding="utf-8")
    with pytest.raises(EvidenceError) as exc:
        load_evidence([tmp_path], criteria)
    [problem] = exc.value.problems
    assert problem.file.endswith("u1.csv") and (problem.line, problem.col) == (1, 5)
    assert "'complete'" in problem.message and "did you mean 'completed'" in problem.message


def test_a_task_file_outside_the_folder_is_refused(tmp_path, criteria):
    (tmp_path / "ev").mkdir()
    write_tasks(tmp_path, "Kế hoạch,Sở Nội vụ,Quý I,2023-03-01\n")
    (tmp_path / "ev" / "u.csv").write_text(
        HEADER + "u1,Đơn vị 1,department,2023,plan_tasks,,../tasks/u1.csv,,,,,,,,\n", encoding="utf-8")
    with pytest.raises(EvidenceError) as exc:
        load_evidence([tmp_path / "ev"], criteria)
    assert any("escapes the evidence folder" in p.message and p.line == 2 for p in exc.value.problems)


def test_an_excel_percent_cell_is_read_as_the_percentage_it_shows(tmp_path, criteria):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "evidence"
    ws.append(["unit_id", "unit_name", "unit_type", "period", "metric", "value"])
    ws.append(["u1", "Đơn vị 1", "department", "2023", "on_time_rate", 0.9354])
    ws["F2"].number_format = "0.00%"
    ws.append(["u1", "Đơn vị 1", "department", "2023", "online_rate", 30.73])
    wb.save(tmp_path / "e.xlsx")
    [rec] = load_evidence([tmp_path / "e.xlsx"], criteria).records
    assert rec.values["on_time_rate"].value == Fraction("93.54")
    assert rec.values["online_rate"].value == Fraction("30.73")
