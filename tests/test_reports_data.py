"""A small province for the report tests (no tests here): seven units of the sample criteria set,
their evidence, survey data, one unit's appraisal in two rounds and last year's round summary,
written as a user writes them and run through the annual round (engine/round/).

`build_province(folder)` returns the round's output folder: `units/*.json` and `round.json`.
"""
from __future__ import annotations

import json
from pathlib import Path

DATA = Path(__file__).parent / "data"
CRITERIA = DATA / "sample-criteria.yaml"

# unit id, name, type, on-time %, online (numerator, denominator), late reports, awards,
# plan issued (date or None), report status, inspected, tasks done of 4, innovation points
UNITS = [
    ("so-noi-vu", "Sở Nội vụ", "department", "99.1", (1200, 2000), 0, 2, "2023-01-20", "on_time", True, 4, "1"),
    ("so-tu-phap", "Sở Tư pháp", "department", "95.5", (677, 2203), 1, 1, "2023-01-25", "on_time", True, 4, "0.75"),
    ("so-tai-chinh", "Sở Tài chính", "department", "92", (300, 1000), 2, 1, "2023-02-15", "late", True, 3, "0.5"),
    ("so-xay-dung", "Sở Xây dựng", "department", "85", None, 5, 0, None, "late", False, 2, "0.25"),
    ("xa-an-binh", "UBND xã An Bình", "commune", "98", None, 0, 1, "2023-02-10", "on_time", False, 4, None),
    ("xa-tan-phu", "UBND xã Tân Phú", "commune", "96", (150, 600), 0, 2, "2023-01-30", "on_time", True, 4, None),
    ("xa-my-loc", "UBND xã Mỹ Lộc", "commune", "68.5", (40, 500), 3, 0, "2023-01-15", "not_done", True, 1, None),
]
SURVEY = {  # satisfaction responses A–E, leader survey %
    "so-noi-vu": ((80, 15, 5, 0, 0), "92"), "so-tu-phap": ((60, 30, 10, 0, 0), "85.5"),
    "so-tai-chinh": ((50, 30, 15, 5, 0), "80"), "so-xay-dung": ((30, 30, 20, 10, 10), "70"),
    "xa-an-binh": ((10, 10, 0, 0, 0), "70"), "xa-tan-phu": ((70, 20, 10, 0, 0), "90"),
    "xa-my-loc": ((20, 30, 30, 10, 10), "60"),
}
PREVIOUS = {  # last year's round: id → (group, index, rank, class)
    "so-noi-vu": ("departments", "88.5", 2, "Khá"), "so-tu-phap": ("departments", "91.25", 1, "Tốt"),
    "so-xay-dung": ("departments", "60", 3, "Yếu"), "xa-an-binh": ("communes", "70", 2, "Đạt"),
    "xa-my-loc": ("communes", "86", 1, "Xuất sắc"), "xa-cu": ("communes", "50", 3, "Đạt"),
}


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def evidence_yaml(unit) -> str:
    uid, name, utype, on_time, online, late, awards, plan, report, inspected, done, innovation = unit
    tasks = []
    for i, (task, deadline, completed) in enumerate([("Ban hành kế hoạch", "Quý I", "2023-03-01"),
                                                      ("Kiểm tra CCHC", "Tháng 6", "2023-06-20"),
                                                      ("Tự đánh giá, chấm điểm", "Tháng 11", "2023-11-20"),
                                                      ("Báo cáo năm", "2023-12-15", "2023-12-10")]):
        when = completed if i < done else "null"
        tasks.append(f"      - {{task: {_q(task)}, lead: {_q(name)}, deadline: {_q(deadline)}, completed: {when}}}")
    short = uid.split("-", 1)[1].upper().replace("-", "")
    lines = [
        "format: cchc-evidence/1", "criteria: sample-2023",
        f"unit: {{id: {uid}, name: {_q(name)}, type: {utype}}}", 'period: "2023"', "metrics:",
        f"  plan_issued: {{value: {plan or 'null'}, citation: {{document: {_q('01/KH-' + short)}, "
        f"date: {plan or '2023-12-31'}, issuer: {_q(name)}}}}}",
        f"  report_status: {{value: {report}, citation: {{document: {_q('88/BC-' + short)}, issuer: {_q(name)}}}}}",
        f"  inspected: {{value: {'true' if inspected else 'false'}"
        + (f", citation: {{document: {_q('30/KH-' + short)}, date: 2023-03-15, issuer: {_q(name)}}}}}" if inspected else "}"),
        f"  on_time_rate: {{value: {on_time}, citation: {{document: {_q('101/BC-' + short)}, issuer: {_q(name)}}}}}",
        f"  late_reports: {{value: {late}}}",
        f"  awards: {{value: {awards}, citation: {{document: 5/QĐ-UBND, date: 2023-10-02, issuer: UBND tỉnh}}}}",
        "  plan_tasks:", "    citation: {document: " + _q("02/BC-" + short) + ", issuer: " + _q(name) + "}",
        "    tasks:", *tasks,
    ]
    if online:
        lines.append(f"  online_rate: {{numerator: {online[0]}, denominator: {online[1]}, "
                     f"citation: {{document: {_q('101/BC-' + short)}, issuer: {_q(name)}}}}}")
    if innovation:
        lines.append(f"  innovation: {{value: {innovation}, reason: Mô hình một cửa số, "
                     f"citation: {{document: {_q('45/BC-' + short)}, issuer: {_q(name)}}}}}")
    if not online and utype == "commune":
        lines.append("not_applicable: {\"2.1.2\": Xã chưa triển khai dịch vụ công trực tuyến}")
    return "\n".join(lines) + "\n"


def survey_yaml(uid: str) -> str:
    (a, b, c, d, e), leader = SURVEY[uid]
    return (f"format: cchc-survey/1\nunit: {uid}\nperiod: \"2023\"\n"
            "citation: {document: KS-2023, date: 2023-11-30, issuer: Sở Nội vụ}\n"
            f"metrics:\n  satisfaction: {{responses: {{A: {a}, B: {b}, C: {c}, D: {d}, E: {e}}}}}\n"
            f"  leader_survey: {{value: {leader}}}\n")


APPRAISAL = """format: cchc-appraisal/1
unit: so-tai-chinh
rounds:
  - round: 1
    appraiser: Tổ thẩm định
    date: 2023-12-05
    items:
      "1.1.1": {accept: true}
      "1.1.3": {points: 0, reason: Báo cáo không đúng đề cương hướng dẫn}
      "1.2.4": {points: 0.25, reason: Mô hình chưa được nhân rộng}
  - round: 2
    appraiser: Hội đồng thẩm định
    date: 2023-12-20
    items:
      "1.2.4": {points: 0.25, reason: Tài liệu bổ sung chưa chứng minh việc nhân rộng, explanation: Đơn vị gửi báo cáo 50/BC-TC}
"""


def previous_round() -> dict:
    groups = {"departments": [], "communes": []}
    names = {u[0]: (u[1], u[2]) for u in UNITS}
    names["xa-cu"] = ("UBND xã Cũ", "commune")
    for uid, (gid, index, rank, klass) in PREVIOUS.items():
        name, utype = names[uid]
        groups[gid].append({"id": uid, "name": name, "type": utype, "index": index, "rank": rank, "class": klass})
    return {"format": "cchc-round/1", "criteria": {"id": "sample-2023", "year": 2022}, "period": "2022",
            "groups": [{"id": g, "units": sorted(us, key=lambda u: u["rank"])} for g, us in groups.items()],
            "ungrouped": {"units": []}}


def build_inputs(folder: Path) -> dict[str, Path]:
    """Write the province's inputs; return their folders and files."""
    ev, sv, ap = folder / "evidence", folder / "survey", folder / "appraisal"
    for d in (ev, sv, ap):
        d.mkdir(parents=True, exist_ok=True)
    for unit in UNITS:
        (ev / f"{unit[0]}.yaml").write_text(evidence_yaml(unit), encoding="utf-8")
        (sv / f"{unit[0]}.yaml").write_text(survey_yaml(unit[0]), encoding="utf-8")
    (ap / "so-tai-chinh.yaml").write_text(APPRAISAL, encoding="utf-8")
    prev = folder / "round-2022.json"
    prev.write_text(json.dumps(previous_round(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return {"evidence": ev, "survey": sv, "appraisal": ap, "previous": prev}


def build_province(folder: Path, engine: str = "reference") -> Path:
    """Run the annual round on the inputs; return its output folder (units/*.json, round.json)."""
    from engine import load_criteria
    from engine.storage.outdir import write_outputs
    from engine.round.output import round_files
    from engine.round.run import run_round
    from rules import get_evaluator

    inputs = build_inputs(folder)
    cs = load_criteria(CRITERIA)
    result = run_round(cs, [inputs["evidence"]], factory=get_evaluator, engine=engine,
                       survey_paths=[inputs["survey"]], appraisal_paths=[inputs["appraisal"]],
                       previous_path=inputs["previous"])
    out = folder / "round"
    write_outputs(out, round_files(result), command="round")
    return out
