"""The shipped criteria sets, examples and demo: they validate, their maxima add up per unit type,
their provenance quotes are really in the seed documents, the mid-year example's key figures are
the ones computed by hand from seed 002, and the demo's JSON results equal the golden files byte
for byte (regenerate them on purpose with `make golden`)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
import yaml

from conftest import VIETNAMESE
from engine import load_criteria, load_evidence, score
from rules import get_evaluator
from warm_cchc import warm_bin

ROOT = Path(__file__).resolve().parent.parent
CRITERIA = sorted((ROOT / "criteria").glob("*.yaml"))
GOLDEN = ROOT / "tests" / "golden" / "demo"
# The demo's scoring runs whose JSON results are golden (other demo steps write other outputs).
SCORED = ("province/departments", "province/communes", "tien-giang-2020-4thang")
SEEDS = ROOT / "sources"
SEED_FILES = {"000": "000-tien-giang-2023-ke-hoach-cchc.txt", "001": "001-tuyen-quang-2020-2025-ke-hoach-dot-pha-cchc.txt",
              "002": "002-tien-giang-2020-bao-cao-cchc-4-thang.txt", "003": "003-binh-thuan-2023-ke-hoach-cchc.txt",
              "004": "004-vinh-long-2023-ke-hoach-cchc.txt"}
MIDYEAR_CRITERIA = ROOT / "criteria" / "tien-giang-2023-province.yaml"
MIDYEAR_EVIDENCE = ROOT / "examples" / "tien-giang-2020-4thang" / "evidence"

# What each shipped set promises: points per unit type and the survey part of them.
PER_UNIT_TYPE = {
    "national-876-2022-provinces": {"province": (100, 32)},
    "tien-giang-2023-province": {"province": (100, 20)},
    "tien-giang-2023-departments": {"department": (100, 20)},
    "tien-giang-2023-districts": {"district": (100, 20)},
    "tien-giang-2023-communes": {"commune": (100, 30)},
    "binh-thuan-2023": {t: (100, 20) for t in ("department", "district", "commune")},
    "tuyen-quang-2020": {t: (100, 20) for t in ("department", "district", "commune")},
    "tuyen-quang-2021-2025": {t: (100, 20) for t in ("department", "district", "commune", "commune_2025")},
    "vinh-long-2023": {t: (100, 20) for t in ("department", "district")},
}
AREA_TITLES_START = ("Công tác chỉ đạo", "Cải cách thể chế", "Cải cách thủ tục hành chính",
                     "Cải cách tổ chức bộ máy", "Cải cách chế độ công vụ", "Cải cách tài chính công",
                     "Xây dựng và phát triển chính quyền điện tử", "")


def _norm(text: str) -> str:
    return " ".join(text.replace("*", "").replace("|", " ").split()).lower()


@pytest.fixture(scope="module")
def sets():
    return {p.stem: load_criteria(p) for p in CRITERIA}


# ------------------------------------------------------------------ criteria sets

def test_criteria_folder_holds_only_valid_sets(sets):
    others = [p.name for p in (ROOT / "criteria").iterdir() if p.suffix != ".yaml"]
    assert others == [], f"criteria/ should hold criteria sets only: {others}"
    assert set(sets) == set(PER_UNIT_TYPE), "every shipped set needs its promise in PER_UNIT_TYPE"
    for stem, cs in sets.items():
        assert cs.id == stem, f"{stem}.yaml declares id {cs.id}"


@pytest.mark.parametrize("stem", sorted(PER_UNIT_TYPE))
def test_maxima_add_up_per_unit_type(sets, stem):
    cs = sets[stem]
    assert [t.id for t in cs.unit_types] == list(PER_UNIT_TYPE[stem])
    assert [a.code for a in cs.areas] == [str(i) for i in range(1, 9)], "the 8 areas, in order"
    for area, start in zip(cs.areas, AREA_TITLES_START):
        assert area.title.startswith(start)
    for unit_type, (total, survey) in PER_UNIT_TYPE[stem].items():
        subs = [s for s in cs.sub_criteria() if s.applies(unit_type)]
        assert sum(s.max for s in subs) == total, unit_type
        assert sum(s.max for s in subs if s.source == "survey") == survey, unit_type
        for area in cs.areas:  # no area left empty for a unit type
            assert any(s.applies(unit_type) for c in area.criteria for s in c.sub_criteria), (unit_type, area.code)
    grouped = [t for g in cs.groups for t in g.unit_types]
    assert sorted(grouped) == sorted(PER_UNIT_TYPE[stem]), "every unit type is in exactly one group"
    for g in cs.groups:
        assert g.bands[-1].min == 0, "the lowest band takes every index"


def test_every_item_has_provenance_and_the_876_set_is_not_official(sets):
    for stem, cs in sets.items():
        for s in cs.sub_criteria():
            assert s.provenance is not None and s.provenance.source, (stem, s.code)
            assert s.provenance.official is False, (stem, s.code, "no shipped set is official text")
            if stem.startswith("national-876"):
                assert s.provenance.source.startswith("QĐ 876/QĐ-BNV"), s.code
            else:
                assert re.match(r"Seed 00[0134] — ", s.provenance.source), (stem, s.code)
                assert s.provenance.clause, (stem, s.code)


def test_tier_items_carry_only_bounds_points_and_label():
    """An unquoted comma in a YAML flow mapping (`label: Đạt, vượt`) silently cuts the label and
    adds a stray key; the tiers method ignores the stray key, so this test catches it."""
    allowed = {"gt", "ge", "lt", "le", "eq", "points", "label"}
    for path in CRITERIA:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for area in doc["areas"]:
            for crit in area["criteria"]:
                for sub in crit["sub_criteria"]:
                    for tier in (sub.get("params") or {}).get("tiers", []):
                        assert set(tier) <= allowed, (path.name, sub["code"], tier)


def test_every_method_is_used(sets):
    used = {s.method for cs in sets.values() for s in cs.sub_criteria()}
    assert used == {"tiers", "categories", "pass_fail", "proportional", "deductions", "bonus", "survey", "manual"}
    survey_kinds = {cs.metrics[s.metric].kind for cs in sets.values() for s in cs.sub_criteria() if s.method == "survey"}
    assert survey_kinds == {"responses", "percent"}


def test_quoted_seed_wording_is_in_the_seed_at_the_cited_lines(sets):
    """Every “quote” in a provenance note occurs in the seed it cites (fragments split at …), and
    when the note gives `dòng N` / `dòng N–M` right after the quote, it occurs on those lines."""
    lines = {k: (SEEDS / f).read_text(encoding="utf-8").split("\n") for k, f in SEED_FILES.items()}
    whole = {k: _norm("\n".join(v)) for k, v in lines.items()}
    checked = 0
    for stem, cs in sets.items():
        for s in cs.sub_criteria():
            m = re.match(r"Seed (\d{3})", s.provenance.source)
            if not m:
                continue
            seed = m.group(1)
            for quote, ref in re.findall(r"“([^”]*)”(?:\s*\([^()]*?dòng ([0-9–, ]+))?", s.provenance.note):
                window = whole[seed]
                if ref:
                    nums = [int(n) for n in re.findall(r"\d+", ref)]
                    window = _norm(" ".join(lines[seed][min(nums) - 2:max(nums)]))
                for fragment in quote.split("…"):
                    fragment = _norm(fragment).strip(" ,.")
                    if len(fragment) >= 6:
                        assert fragment in window, (stem, s.code, ref, fragment)
                        checked += 1
    assert checked > 150


# ------------------------------------------------------------------ the mid-year example (seed 002)

@pytest.fixture(scope="module")
def midyear():
    cs = load_criteria(MIDYEAR_CRITERIA)
    ev = load_evidence([MIDYEAR_EVIDENCE], cs)
    [result] = score(cs, ev, get_evaluator("reference"))
    return cs, ev, result


def test_midyear_key_figures_equal_the_hand_computation(midyear):
    _, _, result = midyear
    d = {x.code: x for x in result.decisions}
    # on time: 93,54 % (seed 002 line 174) is in the band "Từ 90% đến dưới 98%" → 3 of 6 points
    assert Fraction("93.54") >= 90 and Fraction("93.54") < 98
    assert (d["3.2.1"].points, d["3.2.1"].condition) == (3, "Từ 90% đến dưới 98%")
    # online files: 677 of 2 203 (line 89), proportional on 3 points → 3 × 677 / 2203
    assert d["7.1.4"].points == Fraction(3 * 677, 2203) == Fraction(2031, 2203)
    # self-financing public service units: (05 + 37) of 667 (line 136), full points at 9,4 %
    share = Fraction(100 * (5 + 37), 667)
    assert d["6.1.3"].points == 3 * share / Fraction("9.4") == Fraction(63000, 31349)
    # 415/415 and 667/667 (lines 123, 127) reach 100 %
    assert d["6.1.1"].points == 2 and d["6.1.2"].points == 2
    # the whole check: 25 whole points + the two fractions, over the 70 points that apply
    points = 25 + Fraction(2031, 2203) + Fraction(63000, 31349)
    assert result.total.points == points
    assert result.total.max == 70
    assert result.total.index == points / 70 * 100
    statuses = [x.status for x in result.decisions]
    assert (statuses.count("scored"), statuses.count("not_applicable"), statuses.count("missing_evidence")) == (15, 8, 18)


def test_seed002_procedure_totals_warn_naming_both_places(midyear):
    _, ev, _ = midyear
    messages = [str(w) for w in ev.warnings]
    [totals] = [m for m in messages if "procedures_total" in m]
    text = (MIDYEAR_EVIDENCE / "tien-giang.yaml").read_text(encoding="utf-8").split("\n")
    line_2025 = next(i for i, t in enumerate(text, 1) if t.startswith("  procedures_total: {value: 2025"))
    line_2033 = next(i for i, t in enumerate(text, 1) if t.startswith("  procedures_total_by_service_level: {value: 2033"))
    assert "2033" in totals and "2025" in totals
    assert f"tien-giang.yaml:{line_2025}:" in totals and f"tien-giang.yaml:{line_2033}:" in totals
    assert "dòng 73" in text[line_2025 - 1] and "dòng 168" in text[line_2033 - 1]
    # the seed's other contradiction: 11 QĐ issued (line 39) but 10 entered (line 61) "100%"
    assert any("legal_qd_updated is 10" in m and "legal_qd_issued is 11" in m for m in messages)
    # and the consistent splits raise nothing: 1644 + 263 + 118 = 2025, 76 + 1140 + 817 = 2033, …
    assert len(messages) == 2


def test_vinh_long_annex_reads_as_a_task_list(tmp_path):
    """The transcribed annex of seed 004 is a valid task list for the Vĩnh Long set: all 58 rows
    load, every deadline parses, and an unfilled list scores 0 on completion."""
    (tmp_path / "tasks").mkdir()
    annex = ROOT / "examples" / "vinh-long-2023" / "tasks" / "phu-luc-nhiem-vu-2023.csv"
    (tmp_path / "tasks" / "phu-luc.csv").write_bytes(annex.read_bytes())
    (tmp_path / "unit.yaml").write_text(
        "format: cchc-evidence/1\nunit: {id: u, name: Đơn vị thử, type: department}\nperiod: '2023'\n"
        "metrics:\n  plan_tasks: {tasks_file: tasks/phu-luc.csv}\n", encoding="utf-8")
    cs = load_criteria(ROOT / "criteria" / "vinh-long-2023.yaml")
    ev = load_evidence([tmp_path], cs)
    tasks = ev.records[0].values["plan_tasks"].value
    assert len(tasks) == 58
    assert min(t.deadline for t in tasks).isoformat() == "2022-12-31"  # row V.3, printed "Năm 2022"
    assert max(t.deadline for t in tasks).isoformat() == "2023-12-31"
    [result] = score(cs, ev, get_evaluator("reference"))
    assert {d.code: d.points for d in result.decisions}["1.1.2"] == 0


# ------------------------------------------------------------------ example province and demo

def test_example_province_is_regenerated_byte_for_byte(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_example_province.py"), str(tmp_path)],
                   check=True, capture_output=True)
    for part in ("departments", "communes"):
        made = sorted(p.relative_to(tmp_path) for p in (tmp_path / part).rglob("*") if p.is_file())
        shipped = sorted(p.relative_to(ROOT / "examples" / "province")
                         for p in (ROOT / "examples" / "province" / part).rglob("*") if p.is_file())
        assert made == shipped
        for rel in made:
            assert (tmp_path / rel).read_bytes() == (ROOT / "examples" / "province" / rel).read_bytes(), rel


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo, run once, as a Vietnamese official runs it: (its output folder, the finished run).
    Its 28 `cchc` commands run forked from one warm process (tests/warm_cchc.py), not each from a
    fresh interpreter: the same commands, without 28 start-ups."""
    base = tmp_path_factory.mktemp("demo")
    out, env = base / "demo", {**os.environ, **VIETNAMESE}
    with warm_bin(base / "bin", env) as bin_folder:
        run = subprocess.run(["bash", str(ROOT / "scripts" / "demo.sh"), str(bin_folder), str(out)],
                             capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    return out, run


def test_demo_results_equal_the_golden_files(demo):
    out, run = demo
    # the demo's first step is `cchc validate criteria/*.yaml`: every shipped set passes it
    assert run.stdout.count(": hợp lệ — bộ tiêu chí") == len(CRITERIA)
    made = sorted(p.relative_to(out) for d in SCORED for p in (out / d).rglob("*.json")
                  if not p.name.startswith("."))  # .cchc-out.json says who wrote the folder: not a result
    golden = sorted(p.relative_to(GOLDEN) for p in GOLDEN.rglob("*.json"))
    assert made == golden, "a result file was added or removed: review, then `make golden`"
    changed = [str(rel) for rel in made if (out / rel).read_bytes() != (GOLDEN / rel).read_bytes()]
    assert not changed, f"results differ from tests/golden/demo (review, then `make golden`): {changed}"
    assert len(made) == 20 + 1 + 30 + 1 + 1 + 1


def test_every_bundle_the_demo_writes_replays_on_both_evaluators(demo, cchc, tmp_path, monkeypatch):
    """`scripts/demo.sh` replays every bundle it wrote with the `cchc` command (and fails if one
    differs); here each is replayed once more with the reference evaluator (in this process: the
    command's start-up is the demo's to show)."""
    out, run = demo
    bundles = sorted(out.rglob("*.cchc"))
    assert len(bundles) == 5
    assert run.stdout.count("trùng khớp: bộ máy chấm durable cho lại đúng") == len(bundles)
    monkeypatch.chdir(tmp_path)
    for b in bundles:
        r = cchc("replay", b, "--engine", "reference")
        assert r.exit_code == 0 and "identical: the reference engine" in r.stdout, (b, r.stdout + r.stderr)


# Words of English a person would read in the demo's output were it not in Vietnamese (none of them
# is a Vietnamese word); ids, paths, file names and commands to type are not read as language.
ENGLISH_WORDS = frozenset(
    "the and of with from is are not by for to more each without back reads open print unit units decision "
    "decisions engine criteria set sub bundle replay identical warning error problem problems found scored "
    "score report reports file files kind recorded verified signed outputs output example check round survey "
    "appraisal target targets risk filled summary summaries forms mid year years province departments communes "
    "month months against intake workbooks office documents seed wrote differs shipped validate".split())


def english_words(text: str) -> list[str]:
    text = re.sub(r"`[^`]*`", " ", text)  # a command to type
    text = re.sub(r"\S*[-_/.<>]\S*", " ", text)  # ids, paths, file names, placeholders
    return sorted({w for w in re.findall(r"[^\W\d_]+", text.lower()) if w in ENGLISH_WORDS})


def test_demo_speaks_vietnamese(demo):
    """With LANG=vi_VN.UTF-8, nothing the demo prints for a person is in English: cchc's messages,
    tables and summaries, and the demo's own lines."""
    assert english_words("20 unit(s), 1000 decisions (durable engine) → out/units/*.json") == [
        "decisions", "engine", "unit"]  # the check sees English where there is some
    _, run = demo
    lines = [line for line in (run.stdout + run.stderr).splitlines() if english_words(line)]
    assert not lines, "English in the Vietnamese demo:\n" + "\n".join(lines[:20])


def test_example_province_shows_what_it_promises():
    """The README of examples/province promises these; check them on the golden results."""
    import json

    units = {}
    for part in ("departments", "communes"):
        summary = json.loads((GOLDEN / "province" / part / "summary.json").read_text(encoding="utf-8"))
        for u in summary["units"]:
            units[u["id"]] = (part, u)
    assert sum(1 for p, _ in units.values() if p == "departments") == 20
    assert sum(1 for p, _ in units.values() if p == "communes") == 30
    statuses, conditions, manual_reasons = set(), set(), 0
    for uid, (part, _) in units.items():
        doc = json.loads((GOLDEN / "province" / part / "units" / f"{uid}.json").read_text(encoding="utf-8"))
        for item in doc["items"]:
            statuses.add(item["status"])
            conditions.add(item["condition"])
            if item["method"] == "manual" and item["status"] == "scored":
                manual_reasons += 1
    assert {"scored", "not_applicable", "missing_evidence"} <= statuses
    assert "Ban hành sau tháng 01/2023" in conditions and "Không ban hành" in conditions
    assert manual_reasons == 50
    # a department below the Trung bình band (70 %) and a commune below it (60 %)
    assert Fraction(units["so-ngoai-vu"][1]["index"]) < 70
    assert Fraction(units["xa-vinh-hoa"][1]["index"]) < 60
