"""Fill an intake workbook (made by `cchc template`) from a unit's YAML evidence, as an agency would
by hand, with openpyxl only: the demo's filled workbooks and the round-trip test use it.

    python scripts/fill_intake_example.py WORKBOOK.xlsx EVIDENCE.yaml OUT.xlsx

Values are typed as a person types them (numbers as numbers, dates as dates, Có / Không); the
task list goes onto the `Nhiệm vụ` sheet; files cited by the evidence are copied next to OUT so
that its citations resolve.
"""
from __future__ import annotations

import csv
import shutil
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import yaml

DATA, TASKS = "Số liệu", "Nhiệm vụ"


def _typed(value):
    """A YAML value as a person would type it into a cell."""
    if isinstance(value, bool):
        return "Có" if value else "Không"
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


def _task_rows(evidence_file: Path, metric: dict) -> list[dict]:
    if "tasks" in metric:
        return [dict(t, partners=", ".join(t["partners"]) if isinstance(t.get("partners"), list)
                     else t.get("partners", "")) for t in metric["tasks"]]
    with open(evidence_file.parent / metric["tasks_file"], encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def fill(template: Path, evidence_file: Path, out: Path) -> Path:
    ev = yaml.safe_load(evidence_file.read_text("utf-8"))
    wb = openpyxl.load_workbook(template)
    ws = wb[DATA]
    header = {c.value: c.column for c in ws[1]}
    unit, metrics = ev["unit"], ev.get("metrics") or {}
    last = ws.max_row
    for row in range(2, last + 1):
        metric_id = ws.cell(row, header["Mã chỉ tiêu"]).value
        m = metrics.get(metric_id)
        for key, col in (("id", "Mã đơn vị"), ("name", "Tên đơn vị"), ("type", "Loại đơn vị")):
            ws.cell(row, header[col]).value = unit[key]
        ws.cell(row, header["Kỳ đánh giá"]).value = str(ev["period"])
        if m is None:
            continue
        option = ws.cell(row, header["Phương án trả lời"]).value
        if option:
            ws.cell(row, header["Giá trị"]).value = (m.get("responses") or {}).get(option, 0)
        elif "tasks" in m or "tasks_file" in m:
            ws.cell(row, header["Giá trị"]).value = TASKS
            tasks = wb[TASKS]
            theader = {c.value: c.column for c in tasks[1]}
            for r, t in enumerate(_task_rows(evidence_file, m), 2):
                for key, col in (("task", "Nhiệm vụ"), ("lead", "Cơ quan chủ trì"), ("partners", "Cơ quan phối hợp"),
                                 ("product", "Sản phẩm"), ("deadline", "Thời hạn hoàn thành"),
                                 ("completed", "Ngày hoàn thành")):
                    value = t.get(key)
                    tasks.cell(r, theader[col]).value = _typed(value) if value not in (None, "") else None
        else:
            for key, col in (("value", "Giá trị"), ("numerator", "Tử số"), ("denominator", "Mẫu số")):
                if key in m:
                    ws.cell(row, header[col]).value = _typed(m[key])
        citation = m.get("citation") or {}
        for key, col in (("document", "Số, ký hiệu văn bản"), ("date", "Ngày văn bản"),
                         ("issuer", "Cơ quan ban hành"), ("file", "Tệp tài liệu")):
            if citation.get(key) not in (None, ""):
                ws.cell(row, header[col]).value = citation[key]
        if m.get("reason"):
            ws.cell(row, header["Giải trình"]).value = m["reason"]
    for offset, (code, reason) in enumerate(sorted((ev.get("not_applicable") or {}).items()), 1):
        row = last + offset
        for key, col in (("id", "Mã đơn vị"), ("name", "Tên đơn vị"), ("type", "Loại đơn vị")):
            ws.cell(row, header[col]).value = unit[key]
        ws.cell(row, header["Kỳ đánh giá"]).value = str(ev["period"])
        ws.cell(row, header["Không áp dụng (mã tiêu chí)"]).value = str(code)
        ws.cell(row, header["Giải trình"]).value = reason
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    for m in metrics.values():
        ref = ((m or {}).get("citation") or {}).get("file")
        if ref:
            target = out.parent / ref
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(evidence_file.parent / ref, target)
    return out


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    print(fill(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])))
