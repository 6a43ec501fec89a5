"""The annual round end to end: survey data, ranking with ties and boundaries, year over year,
located errors, the example province, and byte-identical output whatever the number of workers."""
from __future__ import annotations

import json
import shutil
from fractions import Fraction
from pathlib import Path

import pytest

from engine import load_criteria
from engine.core.errors import InputError
from engine.round.output import round_files
from engine.round.run import run_round
from rules import get_evaluator

ROOT = Path(__file__).parent.parent
DATA = Path(__file__).parent / "data" / "round"
EXAMPLE = ROOT / "examples" / "province-round"
UNIT_ENTRY_KEYS = {"id", "name", "type", "points", "points_display", "max", "index", "index_display",
                   "self_points", "self_index", "self_index_display", "appraised_items", "rank", "class",
                   "previous_index", "previous_index_display", "index_change", "index_change_display",
                   "previous_rank", "previous_class", "rank_change", "yoy"}


@pytest.fixture(scope="module")
def criteria():
    return load_criteria(DATA / "criteria.yaml")


@pytest.fixture(scope="module")
def files(criteria):
    result = run_round(criteria, [DATA / "evidence"], factory=get_evaluator, engine="reference",
                       survey_paths=[DATA / "survey"], appraisal_paths=[DATA / "appraisal"],
                       previous_path=DATA / "previous" / "round-2022.json")
    return {name: json.loads(data) for name, data in round_files(result).items()}


def errors(criteria, evidence, **kw) -> list[str]:
    with pytest.raises(InputError) as exc:
        run_round(criteria, evidence, factory=get_evaluator, engine="reference", **kw)
    return [str(p) for p in exc.value.problems]


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text("utf-8").splitlines(), 1) if needle in line)


def test_round_summary_ranks_ties_and_classifies_at_the_boundary(files):
    rnd = files["round.json"]
    assert rnd["format"] == "cchc-round/1" and rnd["period"] == "2023"
    deps, comms = rnd["groups"]
    assert [(u["id"], u["index"], u["rank"], u["class"]) for u in deps["units"]] == [
        ("so-noi-vu", "91.9", 1, "Tốt"),      # 93.15 self-assessed, 91.9 after appraisal
        ("so-tu-phap", "91", 2, "Tốt"),       # tie → equal rank …
        ("so-xay-dung", "91", 2, "Tốt"),
        ("so-tai-chinh", "90", 4, "Tốt"),     # … the next rank skips; exactly 90 is in the 90 band
    ]
    assert deps["units"][0]["self_index"] == "93.15" and deps["units"][0]["appraised_items"] == 3
    assert deps["class_counts"] == [{"class": "Tốt", "count": 4}, {"class": "Khá", "count": 0},
                                    {"class": "Trung bình", "count": 0}, {"class": "Yếu", "count": 0}]
    assert [(u["id"], u["index"], u["rank"], u["class"]) for u in comms["units"]] == [
        ("xa-binh-minh", "1555/19", 1, "Đạt"), ("xa-an-binh", "66.25", 2, "Đạt")]
    assert deps["bands"][0] == {"label": "Tốt", "min": "90", "min_display": "90.00"}
    for u in deps["units"] + comms["units"] + rnd["ungrouped"]["units"]:
        assert set(u) == UNIT_ENTRY_KEYS


def test_ungrouped_units_are_visible_and_not_ranked(files):
    rnd = files["round.json"]
    (agency,) = rnd["ungrouped"]["units"]
    assert agency["id"] == "kho-bac" and agency["rank"] is None and agency["class"] is None
    assert rnd["ungrouped"]["unit_types"] == ["agency"]
    assert any("unit type 'agency' is in no group" in w for w in rnd["warnings"])
    assert files["units/kho-bac.json"]["standing"]["group"] is None


def test_year_over_year_against_last_years_round(files):
    rnd = files["round.json"]
    units = {u["id"]: u for g in rnd["groups"] for u in g["units"]}
    snv, stp, stc = units["so-noi-vu"], units["so-tu-phap"], units["so-tai-chinh"]
    assert (snv["previous_index"], snv["index_change"], snv["previous_rank"], snv["rank_change"]) == (
        "88.5", "3.4", 2, 1)
    assert (stp["index_change"], stp["rank_change"], stp["previous_class"]) == ("-1.5", -1, "Tốt")
    assert (stc["index_change"], stc["rank_change"]) == ("5", -1)  # better index, lower rank
    assert units["so-xay-dung"]["yoy"] == "new" and units["so-xay-dung"]["previous_index"] is None
    assert snv["yoy"] == "continuing"
    assert [v["id"] for v in rnd["vanished"]] == ["so-cong-thuong"]
    assert rnd["vanished"][0]["previous_group"] == "departments" and rnd["vanished"][0]["previous_rank"] == 4
    kho_bac = rnd["ungrouped"]["units"][0]
    assert kho_bac["index_change"] == "-320/19" and kho_bac["rank_change"] is None
    assert rnd["previous"] == {"criteria": {"id": "round-2022", "year": 2022}, "period": "2022"}
    assert rnd["counts"] == {"units": 7, "appraised_units": 2, "new_units": 2, "vanished_units": 1}


def test_unit_files_show_self_assessed_and_appraised_points_side_by_side(files):
    snv = files["units/so-noi-vu.json"]
    assert snv["format"] == "cchc-result/3"  # the shape of `cchc score`, with more keys
    items = {i["code"]: i for i in snv["items"]}
    survey = items["3.1.1"]
    assert survey["source"] == "survey" and survey["self_points"] is None and survey["appraised_points"] is None
    assert survey["points"] == "3.68"  # A 80, B 20 → 92 % → 4 × 0.92
    assert survey["inputs"][0]["location"].endswith("survey/so-noi-vu.yaml:8:5")
    assert items["3.1.2"]["points"] == "1.8"
    assert snv["standing"] == {
        "group": "departments", "group_label": "Các sở, ban, ngành", "group_size": 4, "rank": 1, "class": "Tốt",
        "previous_index": "88.5", "previous_index_display": "88.50", "index_change": "3.4",
        "index_change_display": "3.40", "previous_rank": 2, "previous_class": "Khá", "rank_change": 1,
        "yoy": "continuing"}
    # CSV survey data with a numerator / denominator
    xa = {i["code"]: i for i in files["units/xa-binh-minh.json"]["items"]}
    assert xa["3.1.2"]["points"] == "1.6" and xa["3.1.2"]["inputs"][0]["value"] == "40/50"
    # no survey data for the agency: its survey items are missing, not zero by silence
    kb = {i["code"]: i for i in files["units/kho-bac.json"]["items"]}
    assert kb["3.1.1"]["status"] == "missing_evidence"


def test_a_unit_giving_its_own_survey_value_is_an_error(criteria, tmp_path):
    ev = tmp_path / "evidence"
    shutil.copytree(DATA / "evidence", ev)
    snv = ev / "so-noi-vu.yaml"
    snv.write_text(snv.read_text("utf-8") + "  leader_survey: {value: 99}\n", "utf-8")
    csv = ev / "communes.csv"
    csv.write_text(csv.read_text("utf-8") + "xa-an-binh,UBND xã An Bình,commune,2023,satisfaction,A,90,,,,,,,,\n"
                   + "xa-an-binh,UBND xã An Bình,commune,2023,,,,,,,,,,Không khảo sát,3.1.2\n", "utf-8")
    text = errors(criteria, [ev], survey_paths=[DATA / "survey"])
    line = line_of(snv, "leader_survey")
    assert f"{snv}:{line}:18: unit so-noi-vu gives its own value for survey metric 'leader_survey' (item 3.1.2): " \
           "survey items are scored from survey data (--survey), never self-scored" in text
    assert any(t.startswith(f"{csv}:16:5: unit xa-an-binh gives its own value for survey metric 'satisfaction'")
               for t in text), text
    assert any(t.startswith(f"{csv}:17:15: unit xa-an-binh declares survey item 3.1.2 not applicable")
               for t in text), text


def test_survey_file_errors_are_located(criteria, tmp_path):
    y = tmp_path / "so-noi-vu.yaml"
    y.write_text("""\
format: cchc-survey/1
unit: so-noi-vu
metrics:
  satisfaction: {responses: {A: 5, F: 1}}
  on_time_rate: {value: 99}
  leader_survey: {value: 101}
""", "utf-8")
    c = tmp_path / "khao-sat.csv"
    c.write_text("unit_id,metric,option,value\nxa-ma,leader_survey,,80\nxa-an-binh,satisfaction,A,-1\n"
                 "xa-an-binh,,,\n", "utf-8")
    text = errors(criteria, [DATA / "evidence"], survey_paths=[y, c])
    assert f"{y}:4:39: satisfaction: unknown answer option 'F'; the options are: A, B, C, D, E" in text
    assert any(t.startswith(f"{y}:5:17: metric 'on_time_rate' is not read by any survey item") for t in text)
    assert any(t.startswith(f"{y}:6:18: leader_survey: a percent must be from 0 to 100") for t in text), text
    assert any(t.startswith(f"{c}:2:1: survey data for unknown unit 'xa-ma'") for t in text)
    assert any(t.startswith(f"{c}:3:4: satisfaction: response count for 'A' cannot be negative") for t in text)
    assert any(t.startswith(f"{c}:4:2: metric is empty (or give not_applicable)") for t in text), text


def test_survey_organiser_declares_survey_items_not_applicable(criteria, tmp_path):
    y = tmp_path / "kho-bac.yaml"
    y.write_text('format: cchc-survey/1\nunit: kho-bac\nnot_applicable:\n  "3.1.1": Không giải quyết TTHC\n'
                 'metrics:\n  leader_survey: {value: 90}\n', "utf-8")
    result = run_round(criteria, [DATA / "evidence"], factory=get_evaluator, engine="reference", survey_paths=[y])
    kb = {i["code"]: i for i in json.loads(round_files(result)["units/kho-bac.json"])["items"]}
    assert kb["3.1.1"]["status"] == "not_applicable" and kb["3.1.1"]["reason"] == "Không giải quyết TTHC"
    assert kb["3.1.2"]["points"] == "1.8"
    # declaring a self-assessed item, or an item whose metric the survey gives, is refused
    y.write_text('format: cchc-survey/1\nunit: kho-bac\nnot_applicable:\n  "1.1.1": x\n  "3.1.2": y\n'
                 'metrics:\n  leader_survey: {value: 90}\n', "utf-8")
    text = errors(criteria, [DATA / "evidence"], survey_paths=[y])
    assert any(t.startswith(f"{y}:4:12: not_applicable names '1.1.1', which is not a survey item") for t in text)
    assert any(t.startswith(f"{y}:5:12: survey item 3.1.2 of unit kho-bac is declared not applicable, but")
               for t in text), text


def test_units_of_a_round_report_one_period(criteria, tmp_path):
    ev = tmp_path / "evidence"
    shutil.copytree(DATA / "evidence", ev)
    f = ev / "kho-bac.yaml"
    f.write_text(f.read_text("utf-8").replace('period: "2023"', 'period: "2022"'), "utf-8")
    text = errors(criteria, [ev])
    assert f"{f}:4:9: unit kho-bac reports period '2022' but the round's period is '2023': one round scores " \
           "one period" in text


def test_one_worker_and_two_workers_write_the_same_bytes(cchc, tmp_path):
    args = [DATA / "criteria.yaml", "--evidence", DATA / "evidence", "--survey", DATA / "survey",
            "--appraisal", DATA / "appraisal", "--previous", DATA / "previous" / "round-2022.json"]
    outs = []
    for n in (1, 2):
        out = tmp_path / f"w{n}"
        res = cchc("round", *args, "--out", out, "--workers", n)
        assert res.exit_code == 0, res.stderr
        outs.append({p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()})
    assert outs[0] == outs[1]
    assert {"round.json", "units/so-noi-vu.json", "units/kho-bac.json", "bundle.cchc"} <= set(outs[0])
    # the round's bundle replays to the same decisions, totals, ranks and classes
    rep = cchc("replay", tmp_path / "w1" / "bundle.cchc", "--engine", "reference")
    assert rep.exit_code == 0 and "kind annual round" in rep.stdout and "identical" in rep.stdout, rep.stdout
    assert "Sở Nội vụ" in res.stdout and " new " in res.stdout  # the terminal table, new units marked


def test_bad_round_input_exits_2_with_located_problems(cchc, tmp_path):
    bad = tmp_path / "a.csv"
    bad.write_text("unit_id,round,item,points,reason,appraiser\nso-noi-vu,1,1.1.2,1.5,x,Tổ\n", "utf-8")
    res = cchc("round", DATA / "criteria.yaml", "--evidence", DATA / "evidence", "--appraisal", bad,
               "--no-survey", "--out", tmp_path / "out", "-j", 1)
    assert res.exit_code == 2
    assert f"{bad}:2:4: unit so-noi-vu: 1.5 points is not a value the rule of item 1.1.2" in res.stderr
    assert "Traceback" not in res.stderr and not (tmp_path / "out").exists()


def test_example_province_round(cchc, tmp_path):
    """The shipped example: departments of the example province, two appraisal rounds, survey
    files, last year's round."""
    e = EXAMPLE / "departments"
    out = tmp_path / "out"
    res = cchc("round", ROOT / "criteria" / "tien-giang-2023-departments.yaml", "--evidence", e / "evidence",
               "--survey", e / "survey", "--appraisal", e / "appraisal",
               "--previous", e / "previous" / "round-2022.json", "--out", out, "-e", "reference", "-j", 1)
    assert res.exit_code == 0, res.stderr
    rnd = json.loads((out / "round.json").read_text("utf-8"))
    units = {u["id"]: u for u in rnd["groups"][0]["units"]}
    assert len(units) == 20
    stc = units["so-tai-chinh"]
    # appraisal takes Sở Tài chính from 90.57 % (Tốt) to 89.95 % (Khá): 1.4.1 1.75 → 1.25
    assert (stc["self_index_display"], stc["index_display"], stc["class"]) == ("90.57", "89.95", "Khá")
    assert stc["rank_change"] == stc["previous_rank"] - stc["rank"] < 0  # lower than in 2022
    assert units["thanh-tra-tinh"]["yoy"] == "new"
    assert [v["id"] for v in rnd["vanished"]] == ["ban-ton-giao"]
    ranks = [u["rank"] for u in rnd["groups"][0]["units"]]
    assert ranks == sorted(ranks) and ranks[0] == 1
    items = {i["code"]: i for i in json.loads((out / "units" / "so-tai-chinh.json").read_text("utf-8"))["items"]}
    assert [r["points"] for r in items["1.3.2"]["appraisal_rounds"]] == ["1", "2"]
    assert items["1.3.2"]["points"] == "2" and items["1.4.1"]["points"] == "1.25"
    # the bundle carries every input by role, with the task lists and cited files of the evidence
    from engine.storage.bundle import read_bundle_file

    b = read_bundle_file(out / "bundle.cchc")
    assert b.kind == "round"
    names = {name for name, _ in b.parts}
    assert {"inputs/evidence/1/tasks/so-noi-vu.csv", "inputs/evidence/1/tai-lieu/so-noi-vu/ke-hoach-cchc-2023.txt",
            "inputs/survey/1/so-noi-vu.yaml", "inputs/appraisal/1/so-tai-chinh.yaml",
            "inputs/previous/1/round-2022.json", "results/round.json"} <= names



@pytest.mark.parametrize("workers", [1, 2])
def test_evidence_read_in_pieces_reports_what_one_reading_reports(criteria, tmp_path, workers):
    """The round reads its evidence in pieces, each in the worker that decides it: a unit
    given in two pieces (the second in the last piece) is reported exactly as `load_evidence`
    reports a unit given twice, and the records the round checks are those `load_evidence` reads."""
    from engine import load_evidence
    from engine.inputs.survey_data import survey_metrics
    from engine.round.pool import Workers, checked_record
    from engine.round.units import RoundInputs

    src = (DATA / "evidence" / "so-tu-phap.yaml").read_text("utf-8")
    n = 4 * 2 + 2
    for i in range(n):
        uid = "so-a" if i in (0, n - 1) else f"so-{i:02d}"  # first and last file: the same unit
        (tmp_path / f"f{i:02d}.yaml").write_text(src.replace("id: so-tu-phap", f"id: {uid}"), "utf-8")
    with pytest.raises(InputError) as whole:
        load_evidence([tmp_path], criteria)
    with Workers(criteria, get_evaluator, "reference", workers) as pool, pytest.raises(InputError) as pieces:
        pool.read_and_decide([tmp_path], 64, 4, RoundInputs({}, {}))
    assert [str(p) for p in pieces.value.problems] == [str(p) for p in whole.value.problems]
    (p,) = pieces.value.problems
    assert str(p) == f"{tmp_path / f'f{n - 1:02d}.yaml'}:3:7: duplicate unit 'so-a': already given at " \
                     f"{tmp_path / 'f00.yaml'}:3:7"
    (tmp_path / f"f{n - 1:02d}.yaml").unlink()
    with Workers(criteria, get_evaluator, "reference", workers) as pool:
        ev = pool.read_and_decide([tmp_path], 64, 4, RoundInputs({}, {}))
    full = load_evidence([tmp_path], criteria)
    assert ev.records == tuple(checked_record(r, survey_metrics(criteria)) for r in full.records)
    assert (ev.warnings, ev.files) == (full.warnings, full.files)
