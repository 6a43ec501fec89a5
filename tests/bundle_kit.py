"""Shared by the bundle, replay and archive tests: an evidence tree that uses every kind of input a
bundle must carry (folders and single files, task lists, citation files), and bundle surgery."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable, Optional

from engine.storage.bundle import Bundle, assemble, read_bundle

DATA = Path(__file__).parent / "data"

SO_TU_PHAP = """\
format: cchc-evidence/1
criteria: sample-2023
unit: {id: so-tu-phap, name: Sở Tư pháp, type: department}
period: "2023"
metrics:
  plan_issued:
    value: 2023-01-15
    citation: {document: 05/KH-STP, date: 2023-01-15, issuer: Sở Tư pháp, file: scan/05-KH-STP.pdf}
  report_status: {value: on_time, citation: {document: 40/BC-STP, issuer: Sở Tư pháp}}
  inspected: {value: true, citation: {document: 11/KH-STP, issuer: Sở Tư pháp}}
  on_time_rate: {value: 99.1, citation: {document: 41/BC-STP, issuer: Sở Tư pháp}}
  online_rate: {numerator: 300, denominator: 500, citation: {document: 41/BC-STP, issuer: Sở Tư pháp}}
  late_reports: {value: 0}
  awards: {value: 1}
  satisfaction: {responses: {A: 50, B: 40, C: 10}, citation: {document: KS-2023, issuer: Sở Nội vụ}}
  leader_survey: {value: 80, citation: {document: KS-LD-2023, issuer: Sở Nội vụ}}
  innovation: {value: 0.5, reason: Mô hình tư vấn pháp lý trực tuyến, citation: {document: 12/BC-STP, issuer: Sở Tư pháp}}
  plan_tasks: {tasks_file: ke-hoach/nhiem-vu.csv}
"""

TASKS = """\
task,lead,partners,product,deadline,completed
Ban hành kế hoạch,Sở Tư pháp,,Kế hoạch,Quý I,2023-02-01
Rà soát VBQPPL,Sở Tư pháp,Sở Nội vụ,Báo cáo,Tháng 9,2023-09-20
"""


def evidence_tree(root: Path) -> tuple[Path, list[Path]]:
    """The sample criteria and two evidence inputs: a folder (the sample evidence, plus a task
    list and a citation file it references and a file nobody reads) and a single file in another
    folder (with its own task list and a citation file below it)."""
    folder = root / "ho-so"
    shutil.copytree(DATA / "evidence", folder)
    snv = folder / "so-noi-vu.yaml"
    text = snv.read_text("utf-8")
    text = text.replace("citation: {document: 30/KH-SNV, issuer: Sở Nội vụ}",
                        "citation: {document: 30/KH-SNV, issuer: Sở Nội vụ, file: tai-lieu/30-KH-SNV.pdf}")
    snv.write_text(text, "utf-8")
    (folder / "tai-lieu").mkdir()
    (folder / "tai-lieu" / "30-KH-SNV.pdf").write_bytes(b"%PDF-1.4 ke hoach kiem tra\n")
    (folder / "khong-dung.pdf").write_bytes(b"%PDF-1.4 not cited by anyone\n")
    other = root / "so-tu-phap"
    (other / "scan").mkdir(parents=True)
    (other / "ke-hoach").mkdir()
    (other / "scan" / "05-KH-STP.pdf").write_bytes(b"%PDF-1.4 ke hoach CCHC\n")
    (other / "ke-hoach" / "nhiem-vu.csv").write_text(TASKS, "utf-8")
    single = other / "so-tu-phap.yaml"
    single.write_text(SO_TU_PHAP, "utf-8")
    criteria = root / "criteria.yaml"
    shutil.copy(DATA / "sample-criteria.yaml", criteria)
    return criteria, [folder, single]


def edit_criteria(text: str) -> str:
    """Another criteria set: the on-time tiers move from 98 % to 93 %."""
    out = text.replace("{ge: 98, points: 3, label: Từ 98% trở lên}", "{ge: 93, points: 3, label: Từ 93% trở lên}")
    out = out.replace("{gt: 90, lt: 98, points: 2, label: Trên 90% đến dưới 98%}",
                      "{gt: 90, lt: 93, points: 2, label: Trên 90% đến dưới 93%}")
    assert out != text
    return out


def rebuild(data: bytes, change: Callable[[dict[str, bytes]], None], *, key: Optional[Path] = None) -> bytes:
    """A consistent bundle (re-hashed, re-sealed) whose parts were changed by `change`."""
    b: Bundle = read_bundle(data)
    meta = {k: v for k, v in b.manifest().items() if k not in ("format", "parts")}
    parts = dict(b.parts)
    change(parts)
    return assemble(meta, parts, key=key)


def criteria_part(b: Bundle) -> str:
    return b.inputs["criteria"][0]
