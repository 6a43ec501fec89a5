"""Regenerate the annual-round example from the example province (examples/province/).

The example province's evidence carries the survey results inside each unit's file, as `cchc score`
reads them. In the annual round survey items are never self-scored, so this script splits them out:

- `<kind>/evidence/`  the units' own evidence: examples/province/<kind>/ without survey metrics and
                      without survey items declared not applicable (task lists and cited files kept);
- `<kind>/survey/`    the survey results per unit (departments: one YAML file per unit; communes: one
                      CSV file), including the survey items that do not apply to a unit;
- `<kind>/previous/round-2022.json`  last year's round, written by the round itself from a 2022
                      variant of the same evidence (another survey, one unit that has since been
                      merged away, one unit that did not yet exist).

The appraisal files (`<kind>/appraisal/`) are written by hand and left alone.

    .venv/bin/python examples/province-round/prepare.py
"""
from __future__ import annotations

import csv
import io
import re
import shutil
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from engine import load_criteria, load_evidence  # noqa: E402
from engine.core.numbers import exact_text  # noqa: E402
from engine.storage.results import dumps  # noqa: E402
from engine.round.output import round_json  # noqa: E402
from engine.round.run import run_round
from engine.inputs.survey_data import survey_metrics  # noqa: E402
from rules import get_evaluator  # noqa: E402

KINDS = {
    # kind: (criteria file, the unit gone by 2023 (a copy of `template`), template, the unit new in 2023)
    "departments": ("criteria/tien-giang-2023-departments.yaml", ("ban-ton-giao", "Ban Tôn giáo"),
                    "so-tu-phap.yaml", "thanh-tra-tinh"),
    "communes": ("criteria/tien-giang-2023-communes.yaml", ("xa-tan-thuan", "UBND xã Tân Thuận"),
                 "xa-an-binh.yaml", "phuong-tan-long-ben-giang"),
}
SURVEY_COLUMNS = ["unit_id", "metric", "option", "value", "numerator", "denominator", "document", "date",
                  "issuer", "not_applicable", "reason"]


def _csv(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def strip_yaml(text: str, metrics: set[str], items: set[str]) -> str:
    """Drop the blocks of survey metrics and the not_applicable lines of survey items."""
    lines = text.splitlines(keepends=True)
    out, skip_indent, section = [], None, ""
    for line in lines:
        stripped = line.strip()
        indent = len(line) - len(line.lstrip(" "))
        if skip_indent is not None:
            if stripped and not stripped.startswith("#") and indent <= skip_indent:
                skip_indent = None
            else:
                continue
        if indent == 0 and stripped:
            section = stripped.split(":")[0]
        key = stripped.split(":")[0].strip("\"'")
        if section == "metrics" and indent == 2 and key in metrics:
            skip_indent = indent
            continue
        if section == "not_applicable" and indent == 2 and key in items:
            continue
        out.append(line)
    text = "".join(out)
    return re.sub(r"^not_applicable:\s*\n(?=\S|\Z)", "", text, flags=re.M)


def strip_csv(text: str, metrics: set[str], items: set[str]) -> str:
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    m, na = header.index("metric"), header.index("not_applicable")
    return _csv([header] + [r for r in rows[1:] if r and r[m] not in metrics and r[na] not in items])


def survey_rows(ev, cs, metrics: set[str], items: set[str]) -> dict[str, list[list[str]]]:
    """Per unit: the survey CSV rows (values and not-applicable survey items) of its evidence."""
    out: dict[str, list[list[str]]] = {}
    for rec in ev.records:
        rows = []
        for mid in sorted(metrics):
            mv = rec.values.get(mid)
            if mv is None:
                continue
            c = mv.citation
            cite = [c.document, c.date.isoformat() if c and c.date else "", c.issuer] if c else ["", "", ""]
            if mv.kind == "responses":
                for i, (opt, n) in enumerate(mv.value.items()):
                    rows.append([rec.unit_id, mid, opt, str(n), "", ""] + (cite if i == 0 else ["", "", ""]) + ["", ""])
            elif mv.numerator is not None:
                rows.append([rec.unit_id, mid, "", "", str(mv.numerator), str(mv.denominator)] + cite + ["", ""])
            else:
                rows.append([rec.unit_id, mid, "", exact_text(Fraction(mv.value)), "", ""] + cite + ["", ""])
        for code in sorted(items):
            if code in rec.not_applicable:
                rows.append([rec.unit_id, "", "", "", "", "", "", "", "", code, rec.not_applicable[code]])
        out[rec.unit_id] = rows
    return out


def survey_yaml(unit_id: str, cs_id: str, rows: list[list[str]]) -> str:
    lines = ["# Survey results of one unit (điều tra xã hội học, invented example data).",
             "format: cchc-survey/1", f"criteria: {cs_id}", f"unit: {unit_id}", 'period: "2023"']
    metrics: dict[str, list[list[str]]] = {}
    na = [r for r in rows if r[9]]
    for r in rows:
        if r[1]:
            metrics.setdefault(r[1], []).append(r)
    first = next((r for r in rows if r[6]), None)
    if first:
        lines.append(f'citation: {{document: "{first[6]}", date: {first[7]}, issuer: "{first[8]}"}}')
    if metrics:
        lines.append("metrics:")
        for mid, rs in metrics.items():
            if rs[0][2]:
                lines.append(f"  {mid}:")
                lines.append("    responses: {" + ", ".join(f"{r[2]}: {r[3]}" for r in rs) + "}")
            elif rs[0][4]:
                lines.append(f"  {mid}: {{numerator: {rs[0][4]}, denominator: {rs[0][5]}}}")
            else:
                lines.append(f"  {mid}: {{value: {rs[0][3]}}}")
    if na:
        lines.append("not_applicable:")
        lines += [f'  "{r[9]}": "{r[10]}"' for r in na]
    return "\n".join(lines) + "\n"


def last_year(rows: dict[str, list[list[str]]], order: list[str]) -> dict[str, list[list[str]]]:
    """2022's survey: a little different for every unit (deterministic)."""
    out = {}
    for pos, uid in enumerate(order):
        shift = pos * 7 % 11
        new = []
        for r in rows[uid]:
            r = list(r)
            if r[2] == "A" and r[3]:
                moved = min(int(r[3]), shift)
                r[3] = str(int(r[3]) - moved)
                r.append(str(moved))  # carried to option C below
            new.append(r)
        carry = 0
        for r in new:
            if r[2] == "A" and len(r) > 11:
                carry = int(r.pop())
            elif r[2] == "C" and carry:
                r[3] = str(int(r[3]) + carry)
                carry = 0
            elif r[3] and not r[2]:
                r[3] = exact_text(max(Fraction(0), Fraction(r[3]) - shift))
            elif r[4]:
                r[4] = str(max(0, int(r[4]) - shift))
        out[uid] = new
    return out


def prepare(kind: str) -> None:
    crit_path, (gone_id, gone_name), template, newcomer = KINDS[kind]
    cs = load_criteria(ROOT / crit_path)
    metrics = survey_metrics(cs)
    items = {s.code for s in cs.sub_criteria() if s.source == "survey"}
    src = ROOT / "examples" / "province" / kind
    ev = load_evidence([src], cs)
    rows = survey_rows(ev, cs, metrics, items)

    base = HERE / kind
    evidence = base / "evidence"
    if evidence.exists():
        shutil.rmtree(evidence)
    shutil.copytree(src, evidence)
    for f in sorted(evidence.rglob("*")):
        if f.parent.name == "tasks" or "tai-lieu" in f.parts:
            continue
        if f.suffix == ".yaml":
            f.write_text(strip_yaml(f.read_text("utf-8"), metrics, items), "utf-8")
        elif f.suffix == ".csv":
            f.write_text(strip_csv(f.read_text("utf-8"), metrics, items), "utf-8")

    survey = base / "survey"
    if survey.exists():
        shutil.rmtree(survey)
    survey.mkdir()
    if kind == "departments":
        for uid, rs in rows.items():
            (survey / f"{uid}.yaml").write_text(survey_yaml(uid, cs.id, rs), "utf-8")
    else:
        (survey / "khao-sat-2023.csv").write_text(_csv([SURVEY_COLUMNS] + [r for uid in rows for r in rows[uid]]),
                                                   "utf-8")

    # last year: the same units but `newcomer`, plus `gone` (merged away since), another survey
    with tempfile.TemporaryDirectory() as tmp:
        tmp_ev = Path(tmp) / "evidence"
        shutil.copytree(evidence, tmp_ev)
        for f in tmp_ev.rglob("*"):
            if f.suffix == ".yaml" and f.parent == tmp_ev:
                f.write_text(f.read_text("utf-8").replace('period: "2023"', 'period: "2022"'), "utf-8")
            elif f.suffix == ".csv" and f.parent == tmp_ev:
                f.write_text(f.read_text("utf-8").replace(",2023,", ",2022,"), "utf-8")
        for f in tmp_ev.glob("*"):
            if f.is_file() and f.suffix == ".yaml" and f"id: {newcomer}," in f.read_text("utf-8"):
                f.unlink()
            elif f.is_file() and f.suffix == ".csv":
                kept = [r for r in csv.reader(io.StringIO(f.read_text("utf-8"))) if r and r[0] != newcomer]
                f.write_text(_csv(kept), "utf-8")
        text = (tmp_ev / template).read_text("utf-8")
        old_id = re.search(r"unit: \{id: ([^,]+), name: (\"[^\"]*\"|[^,]*),", text)
        text = text.replace(old_id.group(0), f'unit: {{id: {gone_id}, name: "{gone_name}",')
        (tmp_ev / f"{gone_id}.yaml").write_text(text, "utf-8")
        order = sorted(rows)
        old = last_year(rows, order)
        old[gone_id] = [[gone_id] + r[1:] for r in old[template[:-5]]]
        old.pop(newcomer, None)
        tmp_survey = Path(tmp) / "survey.csv"
        tmp_survey.write_text(_csv([SURVEY_COLUMNS] + [r for uid in sorted(old) for r in old[uid]]), "utf-8")
        result = run_round(cs, [tmp_ev], factory=get_evaluator, survey_paths=[tmp_survey])
        doc = round_json(result)
        doc["warnings"] = []  # they quote the temporary folder
    (base / "previous").mkdir(parents=True, exist_ok=True)
    (base / "previous" / "round-2022.json").write_bytes(dumps(doc))


if __name__ == "__main__":
    for k in KINDS:
        prepare(k)
        print(f"examples/province-round/{k}: evidence/, survey/, previous/round-2022.json")
