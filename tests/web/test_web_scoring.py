"""The unit's form scored by the engine: the points shown are `cchc score`'s on the same evidence."""
from __future__ import annotations

import json
import re
from html import unescape

import pytest
from typer.testing import CliRunner

from conftest import CRITERIA, example_form, xlsx
from engine import load_criteria

pytestmark = pytest.mark.django_db


def _save(client, unit, data: dict):
    return client.post(f"/don-vi/{unit.pk}/", data, follow=True)


def _text(resp) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", resp.content.decode("utf-8")))


def _decision_block(html: str, code: str) -> str:
    m = re.search(rf'id="decision-{re.escape(code)}">(.*?)</div>\s*</div>', html, re.S)
    assert m, code
    return unescape(re.sub(r"<[^>]+>", " ", m.group(1)))


def test_points_shown_equal_cchc_score_on_the_same_evidence(client, world, tmp_path):
    from cli import app
    from web.workspace.models import Assessment
    from web.workspace.templatetags.workspace_tags import pts

    client.force_login(world.officer_a)
    resp = _save(client, world.a, example_form(world.a))
    assert resp.status_code == 200
    html = resp.content.decode("utf-8")
    a = Assessment.objects.get(unit=world.a)
    assert a.result is not None and a.problems == []

    # The evidence the workspace scored, as a file, through the command line.
    evidence = client.get(f"/don-vi/{world.a.pk}/so-lieu.yaml")
    assert evidence["Content-Disposition"].startswith("attachment")
    (tmp_path / "so-tai-chinh.yaml").write_bytes(evidence.content)
    run = CliRunner().invoke(app, ["score", str(CRITERIA / "tien-giang-2023-departments.yaml"),
                                   str(tmp_path / "so-tai-chinh.yaml"), "--out", str(tmp_path / "out")])
    assert run.exit_code == 0, run.output
    cli_result = json.loads((tmp_path / "out" / "units" / "so-tai-chinh.json").read_text("utf-8"))

    assert a.result["total"] == cli_result["total"]
    assert a.result["areas"] == cli_result["areas"]
    shown = {i["code"]: i for i in a.result["items"]}
    labels = {mid: m.label for mid, m in load_criteria(CRITERIA / "tien-giang-2023-departments.yaml").metrics.items()}
    for item in cli_result["items"]:
        mine = shown[item["code"]]
        assert (mine["status"], mine["points"], mine["condition"]) == (item["status"], item["points"], item["condition"])
        block = _decision_block(html, item["code"]) if f'id="decision-{item["code"]}"' in html else None
        if block is not None:  # every self-assessed item is on the page with the engine's points and words
            assert pts(item["points"]) in block
            if item["status"] == "scored":
                assert " ".join(item["condition"].split()) in " ".join(block.split())
            for given in item["inputs"]:  # named by the criteria set's label: a result names the metric by id
                label = labels[given["metric"]]
                assert " ".join(f"{label}: {given['value']}".split()) in " ".join(block.split())
    assert f'id="total-points">{pts(cli_result["total"]["points"])}<' in html
    assert f'id="total-index">{pts(cli_result["total"]["index"])}<' in html
    # the same as scoring the example province's own file
    run = CliRunner().invoke(app, ["score", str(CRITERIA / "tien-giang-2023-departments.yaml"),
                                   str(world_example(world.a)), "--out", str(tmp_path / "orig")])
    assert run.exit_code == 0, run.output
    orig = json.loads((tmp_path / "orig" / "units" / "so-tai-chinh.json").read_text("utf-8"))
    assert orig["total"]["points"] == a.result["total"]["points"]


def world_example(unit):
    from conftest import EVIDENCE

    return EVIDENCE / "departments" / "evidence" / f"{unit.code}.yaml"


def test_a_better_figure_raises_the_points_and_shrinks_the_gap(client, world):
    from web.workspace.models import Assessment

    client.force_login(world.officer_a)
    data = example_form(world.a)
    _save(client, world.a, data)
    before = Assessment.objects.get(unit=world.a).result
    item = next(i for i in before["items"] if i["status"] == "scored" and i["points"] != i["max"]
                and i["method"] in ("tiers", "proportional") and i["inputs"][0]["metric"].endswith("_rate"))
    metric = item["inputs"][0]["metric"]
    for part in ("value", "numerator", "denominator"):
        data.pop(f"m|{metric}|{part}", None)
    data[f"m|{metric}|value"] = "100"
    resp = _save(client, world.a, data)
    after = Assessment.objects.get(unit=world.a).result
    new = next(i for i in after["items"] if i["code"] == item["code"])
    assert new["points"] == new["max"] != item["points"]
    assert after["total"]["points"] != before["total"]["points"]
    gaps = resp.content.decode("utf-8").split('id="gaps"')[1]
    assert f'href="#item-{item["code"]}"' not in gaps.split("</table>")[0]


def test_unreadable_fields_get_vietnamese_messages_next_to_them(client, world):
    from web.workspace.models import Assessment

    client.force_login(world.officer_a)
    data = example_form(world.a)
    for part in ("value", "numerator", "denominator"):
        data.pop(f"m|on_time_rate|{part}", None)
    data["m|on_time_rate|value"] = "120"
    data["m|training_rate|numerator"], data["m|training_rate|denominator"] = "50", "40"
    data["m|late_reports|value"] = "hai"
    html = _save(client, world.a, data).content.decode("utf-8")
    assert re.search(r'id="id_m\|on_time_rate\|value_error"><li>Tỷ lệ phải từ 0 đến 100', html)
    assert re.search(r'id="id_m\|training_rate\|numerator_error"><li>Tử số không được lớn hơn mẫu số', html)
    assert re.search(r'id="id_m\|late_reports\|value_error"><li>Nhập một số nguyên không âm', html)
    a = Assessment.objects.get(unit=world.a)
    assert a.values["on_time_rate"]["value"] == "120"  # kept as typed, not lost
    statuses = {i["inputs"][0]["metric"] if i["inputs"] else i["code"]: i["status"] for i in a.result["items"]}
    assert "on_time_rate" not in statuses  # not given to the engine: its item is missing evidence
    on_time = [i for i in a.result["items"] if i["status"] == "missing_evidence"]
    assert on_time


def test_not_applicable_with_a_reason(client, world):
    from web.workspace.models import Assessment

    client.force_login(world.officer_a)
    data = example_form(world.a)
    data["na|2.2.1"] = "Không có văn bản cần thẩm định trong năm"
    _save(client, world.a, data)
    item = next(i for i in Assessment.objects.get(unit=world.a).result["items"] if i["code"] == "2.2.1")
    assert item["status"] == "not_applicable" and "văn bản" in item["reason"]


def test_empty_form_is_missing_evidence_everywhere_not_zero_points_hidden(client, world):
    from web.workspace.models import Assessment

    client.force_login(world.officer_a)
    _save(client, world.a, {})
    result = Assessment.objects.get(unit=world.a).result
    assert {i["status"] for i in result["items"]} <= {"missing_evidence", "not_applicable"}
    assert result["status_counts"]["missing_evidence"] > 0


def test_workbook_upload_fills_the_form(client, world):
    from web.workspace.models import Assessment

    client.force_login(world.officer_a)
    head = ["unit_id", "unit_name", "unit_type", "period", "metric", "value", "numerator", "denominator", "document",
            "date", "issuer"]
    rows = [head,
            ["so-tai-chinh", "Sở Tài chính", "department", "2023", "on_time_rate", "", 95, 100, "12/BC-STC",
             "2023-12-10", "Sở Tài chính"],
            ["so-tai-chinh", "Sở Tài chính", "department", "2023", "late_reports", 0, "", "", "12/BC-STC", "", ""]]
    resp = client.post(f"/don-vi/{world.a.pk}/so-lieu/", {"workbook": _file("so-lieu.xlsx", xlsx(rows))}, follow=True)
    assert "Đã nhập số liệu" in resp.content.decode("utf-8")
    a = Assessment.objects.get(unit=world.a)
    assert a.values["on_time_rate"]["numerator"] == "95" and a.values["on_time_rate"]["document"] == "12/BC-STC"
    assert any(i["status"] == "scored" and i["inputs"][0]["metric"] == "on_time_rate" for i in a.result["items"]
               if i["inputs"])


def test_workbook_errors_name_the_cell(client, world):
    from web.workspace.models import Assessment

    client.force_login(world.officer_a)
    head = ["unit_id", "unit_name", "unit_type", "period", "metric", "value"]
    rows = [head, ["so-tai-chinh", "Sở Tài chính", "department", "2023", "on_time_rate", "nhiều"]]
    resp = client.post(f"/don-vi/{world.a.pk}/so-lieu/", {"workbook": _file("so-lieu.xlsx", xlsx(rows))}, follow=True)
    text = _text(resp)
    assert "so-lieu.xlsx:So lieu!F2" in text
    assert Assessment.objects.get(unit=world.a).version == 0  # nothing saved


def test_workbook_of_another_unit_is_refused(client, world):
    client.force_login(world.officer_a)
    rows = [["unit_id", "unit_name", "unit_type", "period", "metric", "value"],
            ["so-cong-thuong", "Sở Công Thương", "department", "2023", "late_reports", 0]]
    resp = client.post(f"/don-vi/{world.a.pk}/so-lieu/", {"workbook": _file("x.xlsx", xlsx(rows))}, follow=True)
    assert "không có số liệu của đơn vị so-tai-chinh" in _text(resp)


def _file(name: str, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


def _round_post(units: bytes, criteria: list[tuple[str, bytes]]) -> dict:
    return {"year": 2024, "title": "Đợt 2024", "self_assessment_opens": "2024-01-01 08:00",
            "self_assessment_closes": "2024-02-01 17:00", "appraisal1_closes": "2024-03-01 17:00",
            "explanation_closes": "2024-03-15 17:00", "appraisal2_closes": "2024-04-01 17:00",
            "criteria_files": [_file(n, c) for n, c in criteria], "units_file": _file("don-vi.csv", units)}


def test_round_creation_shows_the_engines_located_criteria_errors(client, world):
    from web.workspace.models import Round

    client.force_login(world.admin)
    good = (CRITERIA / "tien-giang-2023-departments.yaml").read_bytes()
    broken = good.replace(b"max: ", b"max: -", 1)
    resp = client.post("/dot/moi/", _round_post(b"unit_id,unit_name,unit_type\nx,X,department\n",
                                                [("bo-tieu-chi.yaml", broken)]))
    assert resp.status_code == 400
    assert re.search(r"bo-tieu-chi\.yaml:\d+:\d+: ", _text(resp))
    assert Round.objects.count() == 1


def test_round_creation_with_an_excel_unit_list(client, world):
    from web.workspace.models import Round

    client.force_login(world.admin)
    units = xlsx([["unit_id", "unit_name", "unit_type"], ["so-y-te", "Sở Y tế", "department"],
                  ["xa-moi", "Xã Mới", "commune"]])
    resp = client.post("/dot/moi/", _round_post(units, [(n, (CRITERIA / n).read_bytes()) for n in
                                                        ("tien-giang-2023-departments.yaml",
                                                         "tien-giang-2023-communes.yaml")]))
    assert resp.status_code == 302
    r = Round.objects.get(year=2024)
    assert sorted((u.code, u.criteria.criteria_id) for u in r.units.all()) == [
        ("so-y-te", "tien-giang-2023-departments"), ("xa-moi", "tien-giang-2023-communes")]


def test_unit_list_errors_name_the_row(client, world):
    client.force_login(world.admin)
    units = b"unit_id,unit_name,unit_type\nso-y-te,S\xe1\xbb\x9f Y t\xe1\xba\xbf,department\nx y,X,department\nz,Z,truong-hoc\n"
    resp = client.post("/dot/moi/", _round_post(units, [("d.yaml", (CRITERIA / "tien-giang-2023-departments.yaml")
                                                         .read_bytes())]))
    text = _text(resp)
    assert "don-vi.csv:3:" in text and "don-vi.csv:4:" in text and "truong-hoc" in text


def test_the_engines_own_problems_appear_next_to_their_field(client, world):
    from web.workspace.models import Assessment

    client.force_login(world.officer_a)
    data = {k: v for k, v in example_form(world.a).items() if not k.startswith("m|plan_tasks|t")}
    data.update({"m|plan_tasks|t0|task": "Rà soát TTHC", "m|plan_tasks|t0|lead": "Văn phòng",
                 "m|plan_tasks|t0|deadline": "Quý V"})
    html = _save(client, world.a, data).content.decode("utf-8")
    a = Assessment.objects.get(unit=world.a)
    assert a.result is None and a.problems and a.problems[0]["field"] == "plan_tasks"
    m = re.search(r'id="id_m\|plan_tasks\|t0\|task_error"><li>Kiểm tra của bộ chấm điểm: ([^<]*Quý V[^<]*)<', html)
    assert m, "the engine's message is shown beside the task list"
    assert "chưa tính được điểm" in html
    assert client.post(f"/don-vi/{world.a.pk}/gui/", follow=True) and Assessment.objects.get(unit=world.a).state == "draft"


def test_the_intake_workbook_of_cchc_template_imports_into_the_form(client, world):
    """The workbook an agency fills (`cchc template`) is read by the same loader as `cchc score`."""
    import io

    import openpyxl

    from engine.inputs import workbook as layout
    from reports.intake import intake_unit, intake_workbook
    from web.workspace import scoring
    from web.workspace.models import Assessment

    cs = scoring.criteria_of(world.a.criteria)
    who, values = intake_unit(cs, "so-tai-chinh", "Sở Tài chính", "department", None)
    wb = openpyxl.load_workbook(io.BytesIO(intake_workbook(cs, who, values)))
    ws = wb[layout.DATA_SHEET]
    col = {c.value: c.column for c in ws[1]}
    row = next(r[0].row for r in ws.iter_rows(min_row=2) if r[col["Mã chỉ tiêu"] - 1].value == "on_time_rate")
    ws.cell(row, col["Tử số"], 95)
    ws.cell(row, col["Mẫu số"], 100)
    ws.cell(row, col["Số, ký hiệu văn bản"], "12/BC-STC")
    data = io.BytesIO()
    wb.save(data)

    client.force_login(world.officer_a)
    resp = client.post(f"/don-vi/{world.a.pk}/so-lieu/", {"workbook": _file("phieu.xlsx", data.getvalue())},
                       follow=True)
    assert "Đã nhập số liệu" in resp.content.decode("utf-8")
    a = Assessment.objects.get(unit=world.a)
    assert a.values["on_time_rate"]["numerator"] == "95" and a.values["on_time_rate"]["document"] == "12/BC-STC"
