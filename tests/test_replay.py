"""`cchc replay`: identical on both evaluators, an item-level diff (exit 1) for a different
criteria set or altered results, what-if under new criteria with ranks and classes."""
from __future__ import annotations

import json
import re
from fractions import Fraction
from pathlib import Path

import pytest

from bundle_kit import criteria_part, edit_criteria, evidence_tree, rebuild
from engine.storage.bundle import read_bundle
from engine.audit.bundle_kinds import BUNDLE_KINDS, get_kind, replay, what_if
from engine.audit.replay import Comparison, Outcome, ReplayKind, compare_results, replay_kind, standings
from engine.evaluation.reference import ReferenceEvaluator

ONE_GROUP = """groups:
  - id: tat-ca
    label: Tất cả đơn vị
    unit_types: [department, commune]
    bands:
      - {label: Tốt, min: 85}
      - {label: Khá, min: 70}
      - {label: Đạt, min: 0}
metrics:"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from typer.testing import CliRunner

    from cli import app

    root = tmp_path_factory.mktemp("replay")
    criteria, evidence = evidence_tree(root)
    out = root / "out"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        r = CliRunner().invoke(app, ["score", "criteria.yaml", "ho-so", "so-tu-phap/so-tu-phap.yaml",
                                     "--out", "out"])
    assert r.exit_code == 0, r.output
    return {"root": root, "criteria": criteria, "bundle": out / "bundle.cchc",
            "data": (out / "bundle.cchc").read_bytes()}


def write(tmp_path: Path, data: bytes, name: str = "b.cchc") -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


# ---------------------------------------------------------------- identical

@pytest.mark.parametrize("engine", [None, "durable", "reference"])
def test_replay_is_identical_on_both_evaluators(run, cchc, engine):
    args = ["replay", run["bundle"]] + (["--engine", engine] if engine else [])
    r = cchc(*args)
    assert r.exit_code == 0, r.output
    used = engine or "durable"
    assert f"identical: the {used} engine reproduces every decision and total of the durable run " \
           f"(3 unit(s), 33 decisions)" in r.output
    assert "6 parts" not in r.output and "parts verified" in r.output


def test_replay_api_compares_decisions_not_paths_or_engine_name(run):
    report = replay(read_bundle(run["data"]), ReferenceEvaluator())
    assert report.identical and report.engine == "reference" and report.recorded_engine == "durable"
    assert report.comparison.units == 3 and report.comparison.decisions == 33


# ---------------------------------------------------------------- differs

def test_another_criteria_set_in_a_consistent_bundle_gives_an_item_level_diff(run, cchc, tmp_path):
    b = read_bundle(run["data"])
    name = criteria_part(b)
    data = rebuild(run["data"], lambda parts: parts.update({name: edit_criteria(parts[name].decode()).encode()}))
    path = write(tmp_path, data)
    for engine in ("durable", "reference"):
        r = cchc("replay", path, "--engine", engine)
        assert r.exit_code == 1, r.output
        assert "DIFFERS" in r.output
        assert "criteria set: the recorded results were made with sha256 39fff4b7" in r.output
        assert ("unit so-noi-vu, item 2.1.1: recorded 2 of 3 — “Trên 90% đến dưới 98%” → "
                "replayed 3 of 3 — “Từ 93% trở lên”") in r.output
        # same points, another condition: still a difference
        assert ("unit xa-an-binh, item 2.1.1: recorded 3 of 3 — “Từ 98% trở lên” → "
                "replayed 3 of 3 — “Từ 93% trở lên”") in r.output
        assert re.search(r"unit so-noi-vu, total: recorded 13\.50 \(exact 1487449/110150\) of 20 = 67\.52 "
                         r"\(exact 1487449/22030\) % → replayed 14\.50 \(exact 1597599/110150\) of 20", r.output)
        assert "unit so-noi-vu, area 2:" in r.output and "unit so-noi-vu, criterion 2.1:" in r.output
        assert "Traceback" not in r.output
    report = replay(read_bundle(data), ReferenceEvaluator())
    items = {(d.unit, d.item): d for d in report.comparison.differences if d.kind == "item"}
    assert set(items) == {("so-noi-vu", "2.1.1"), ("so-tu-phap", "2.1.1"), ("xa-an-binh", "2.1.1")}
    d = items[("so-noi-vu", "2.1.1")]
    assert d.recorded == Outcome("scored", "2", "3", "Trên 90% đến dưới 98%")
    assert d.replayed == Outcome("scored", "3", "3", "Từ 93% trở lên")
    assert sum(1 for d in report.comparison.differences if d.kind == "criteria") == 1  # said once


def test_altered_recorded_results_are_caught_by_the_replay(run, cchc, tmp_path):
    def lower(parts):
        doc = json.loads(parts["results/units/so-tu-phap.json"])
        item = next(i for i in doc["items"] if i["code"] == "1.2.1")
        item["points"], item["condition"] = "0", "Không đạt"
        doc["total"]["points"] = "16.64"
        parts["results/units/so-tu-phap.json"] = json.dumps(doc).encode()
        summary = json.loads(parts["results/summary.json"])
        del summary["units"][0]
        parts["results/summary.json"] = json.dumps(summary).encode()
    r = cchc("replay", write(tmp_path, rebuild(run["data"], lower)))
    assert r.exit_code == 1, r.output
    assert "unit so-tu-phap, item 1.2.1: recorded 0 of 1 — “Không đạt” → replayed 1 of 1" in r.output
    assert "unit so-tu-phap, total: recorded 16.64 of 20" in r.output
    assert "unit so-noi-vu (summary.json): in the replayed results, but not recorded" in r.output


def test_altered_evidence_is_caught_by_the_replay(run, cchc, tmp_path):
    def edit(parts):
        name = "inputs/evidence/1/so-noi-vu.yaml"
        parts[name] = parts[name].replace(b"on_time_rate: {value: 93.54", b"on_time_rate: {value: 99.54")
    r = cchc("replay", write(tmp_path, rebuild(run["data"], edit)), "-e", "reference")
    assert r.exit_code == 1, r.output
    assert "unit so-noi-vu, item 2.1.1: recorded 2 of 3 — “Trên 90% đến dưới 98%” → replayed 3 of 3" in r.output
    assert "criteria set" not in r.output


def test_inputs_that_no_longer_load_are_reported_in_bundle_terms(run, cchc, tmp_path):
    b = read_bundle(run["data"])
    name = criteria_part(b)
    broken = rebuild(run["data"], lambda parts: parts.update({name: parts[name].replace(b"max: 20\n", b"max: 21\n")}))
    r = cchc("replay", write(tmp_path, broken))
    assert r.exit_code == 2, r.output
    assert f"{name}:" in r.output and "add up to 20" in r.output
    assert "cchc-replay-" not in r.output and "Traceback" not in r.output


def test_a_bundle_kind_this_cchc_does_not_know(run, cchc, tmp_path):
    b = read_bundle(run["data"])
    meta = {k: v for k, v in b.manifest().items() if k not in ("format", "parts")}
    meta["kind"] = "council-minutes"
    from engine.storage.bundle import assemble

    r = cchc("replay", write(tmp_path, assemble(meta, dict(b.parts))))
    assert r.exit_code == 2 and "cannot replay bundles of kind 'council-minutes'" in r.output


# ---------------------------------------------------------------- kinds of bundle and the comparison

def test_bundle_kinds_are_one_explicit_table_without_a_cycle():
    """Every kind a run writes is in the table; replay itself imports no kind's module (the round
    imports replay's helpers, so the other way round would be a cycle)."""
    import subprocess
    import sys

    assert sorted(BUNDLE_KINDS) == ["round", "score"]
    assert all(k.name == name and k.what_if is not None for name, k in BUNDLE_KINDS.items())
    probe = "import sys, engine.audit.replay; print('engine.round' in sys.modules, 'engine.audit.bundle_kinds' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert r.stdout.split() == ["False", "False"]
    with pytest.raises(TypeError):
        BUNDLE_KINDS["other"] = BUNDLE_KINDS["score"]  # read-only: nothing registers itself


def test_a_kind_is_replayed_and_compared_generically(run):
    b = read_bundle(run["data"])
    meta = {k: v for k, v in b.manifest().items() if k not in ("format", "parts")}
    meta["kind"] = "test-echo"
    parts = dict(b.parts)
    parts["results/round.json"] = json.dumps({"format": "x/1", "ranks": {"a": 1, "b": 2}, "engine": "durable"}).encode()
    from engine.storage.bundle import assemble

    bundle = read_bundle(assemble(meta, parts))
    seen = {}

    def echo(ctx):
        seen["roles"] = {k: [p.relative_to(ctx.root).as_posix() for p in v] for k, v in ctx.inputs.items()}
        seen["files"] = sorted(p.relative_to(ctx.root).as_posix() for p in ctx.root.rglob("*") if p.is_file())
        out = dict(ctx.bundle.results())
        out["round.json"] = json.dumps({"format": "x/1", "ranks": {"a": 1, "b": 3}, "engine": "reference"}).encode()
        return out

    report = replay_kind(ReplayKind("test-echo", echo), bundle, ReferenceEvaluator())
    assert seen["roles"] == {"criteria": ["inputs/criteria/1/criteria.yaml"],
                             "evidence": ["inputs/evidence/1", "inputs/evidence/2/so-tu-phap.yaml"]}
    assert all(f.startswith("inputs/") for f in seen["files"])  # only inputs are rebuilt
    [d] = report.comparison.differences
    assert (d.kind, d.file, d.item, d.recorded, d.replayed) == ("file", "round.json", "ranks.b", "2", "3")
    assert get_kind("score").what_if is not None


def test_compare_results_reports_units_on_one_side_only():
    unit = {"format": "cchc-result/1", "unit": {"id": "a", "name": "A", "type": "t"}, "period": "2023",
            "criteria": {"sha256": "x"}, "items": [], "criteria_rollup": [], "areas": [],
            "total": {"points": "1", "max": "2", "index": "50"}}
    c = compare_results({"units/a.json": json.dumps(unit).encode()}, {"units/b.json": json.dumps(unit).encode()})
    assert isinstance(c, Comparison) and not c.identical
    assert [(d.kind, d.file) for d in c.differences] == [("missing", "units/a.json"), ("extra", "units/b.json")]
    assert c.differences[0].text() == "unit a (units/a.json): recorded, but missing from the replayed results"


# ---------------------------------------------------------------- what-if

def test_what_if_under_new_criteria_shows_who_moves(run, cchc, tmp_path):
    text = edit_criteria(run["criteria"].read_text("utf-8"))
    text = re.sub(r"groups:\n.*?\nmetrics:", ONE_GROUP, text, flags=re.S)
    new = tmp_path / "new-criteria.yaml"
    new.write_text(text.replace("id: sample-2023", "id: sample-2023-moi"), "utf-8")
    r = cchc("replay", run["bundle"], "--against", new, "--items")
    assert r.exit_code == 0, r.output
    assert "what if: criteria set sample-2023-moi" in r.output
    assert "3 unit(s) would move in points, rank or class; 0 would not." in r.output
    assert "unit so-noi-vu, item 2.1.1: recorded 2 of 3 — “Trên 90% đến dưới 98%” → what-if 3 of 3" in r.output
    w = what_if(read_bundle(run["data"]), new, ReferenceEvaluator())
    moves = {m.unit_id: m for m in w.moves}
    snv, stp, xa = moves["so-noi-vu"], moves["so-tu-phap"], moves["xa-an-binh"]
    # points: only so-noi-vu's on-time item moves (2 → 3 points)
    assert snv.after.points - snv.before.points == 1 and stp.after.points == stp.before.points
    # ranks within the groups each criteria set declares: two groups before, one after
    assert (snv.before.group, snv.before.rank, snv.before.of) == ("departments", 2, 2)
    assert (xa.before.group, xa.before.rank, xa.before.of) == ("communes", 1, 1)
    assert [(m.after.group, m.after.rank, m.after.of) for m in (stp, snv, xa)] == \
        [("tat-ca", 1, 3), ("tat-ca", 2, 3), ("tat-ca", 3, 3)]
    # classes by each set's bands
    assert (snv.before.klass, snv.after.klass) == ("Yếu", "Khá")  # 67.52 % → 72.52 %
    assert (stp.before.klass, stp.after.klass) == ("Khá", "Tốt")  # 88.2 % under 90 / over 85
    assert (xa.before.klass, xa.after.klass) == ("Đạt", "Đạt")
    assert snv.before.index == Fraction(1487449, 22030)


def test_what_if_with_the_same_criteria_moves_nobody(run, cchc):
    r = cchc("replay", run["bundle"], "--against", run["criteria"], "-e", "reference")
    assert r.exit_code == 0, r.output
    assert "0 unit(s) would move in points, rank or class; 3 would not." in r.output


def test_what_if_with_criteria_the_evidence_does_not_fit(run, cchc, tmp_path):
    text = run["criteria"].read_text("utf-8").replace("innovation", "innovation_score")
    new = tmp_path / "narrow.yaml"
    new.write_text(text, "utf-8")
    r = cchc("replay", run["bundle"], "--against", new)
    assert r.exit_code == 2, r.output
    assert "inputs/evidence/1/so-noi-vu.yaml" in r.output and "unknown metric 'innovation'" in r.output
    r = cchc("replay", run["bundle"], "--against", tmp_path / "missing.yaml")
    assert r.exit_code == 2 and "missing.yaml" in r.output


def test_standings_equal_index_equal_rank_next_skips(run):
    from engine.inputs.criteria import load_criteria

    cs = load_criteria(run["criteria"])
    units = [("a", "A", "department", Fraction(18), Fraction(20)), ("b", "B", "department", Fraction(9), Fraction(10)),
             ("c", "C", "department", Fraction(16), Fraction(20)), ("d", "D", "department", Fraction(179999, 10000), Fraction(20)),
             ("x", "X", "commune", Fraction(17), Fraction(20)), ("z", "Z", "commune", Fraction(0), Fraction(0))]
    s = standings(cs, units)
    assert [(u, s[u].rank, s[u].klass) for u in "abdc"] == [("a", 1, "Tốt"), ("b", 1, "Tốt"), ("d", 3, "Khá"),
                                                          ("c", 4, "Khá")]
    assert (s["x"].rank, s["x"].of, s["x"].klass) == (1, 1, "Xuất sắc")
    assert (s["z"].rank, s["z"].klass, s["z"].index) == (None, None, None)


# ---------------------------------------------------------------- round bundles: what-if

ROUND = Path(__file__).parent / "data" / "round"


def test_what_if_on_a_round_bundle_shows_new_index_rank_and_class(cchc, tmp_path):
    """A round bundle re-run under a criteria set with other tiers and class bands: every unit's
    recorded and what-if standing; the what-if side equals a real round under the new set."""
    import json

    from engine.audit.round_replay import round_places

    args = ["--evidence", ROUND / "evidence", "--survey", ROUND / "survey", "--appraisal", ROUND / "appraisal",
            "--previous", ROUND / "previous" / "round-2022.json", "-j", "1"]
    r = cchc("round", ROUND / "criteria.yaml", *args, "--out", tmp_path / "old")
    assert r.exit_code == 0, r.output
    text = (ROUND / "criteria.yaml").read_text("utf-8")
    new_text = edit_criteria(text).replace("{label: Xuất sắc, min: 85}", "{label: Xuất sắc, min: 80}")
    new = tmp_path / "criteria-new.yaml"
    new.write_text(new_text, "utf-8")
    r = cchc("round", new, *args, "--out", tmp_path / "new")
    assert r.exit_code == 0, r.output
    before = round_places((tmp_path / "old" / "round.json").read_bytes())
    truth = round_places((tmp_path / "new" / "round.json").read_bytes())

    from engine.storage.bundle import read_bundle_file
    from rules import get_evaluator

    w = what_if(read_bundle_file(tmp_path / "old" / "bundle.cchc"), new, get_evaluator("durable"))
    assert {m.unit_id: m.before for m in w.moves} == {u: p for u, (_, _, p) in before.items()}
    assert {m.unit_id: m.after for m in w.moves} == {u: p for u, (_, _, p) in truth.items()}
    movers = w.movers()
    assert movers and any(m.before.klass != m.after.klass for m in movers)
    r = cchc("replay", tmp_path / "old" / "bundle.cchc", "--against", new)
    assert r.exit_code == 0, r.output
    m = next(m for m in movers if m.before.klass != m.after.klass)
    assert "Xuất" in r.output and f"{len(movers)} unit(s) would move" in r.output, r.output
    assert json.loads((tmp_path / "old" / "round.json").read_text("utf-8"))["format"].startswith("cchc-round/")



@pytest.mark.parametrize("kind", ["score", "round"])
def test_bundles_whose_results_hold_the_criteria_sets_words_still_replay(cchc, kind):
    """Written by the cchc before `cchc-result/3` (`cchc score` of tests/data/evidence, and the round
    of tests/data/round): their unit results, `cchc-result/2`, repeat the criteria set's titles and
    labels. An auditor replays them with this version and gets every decision back."""
    path = Path(__file__).parent / "data" / "bundles" / f"results-2-{kind}.cchc"
    units = {name: json.loads(data) for name, data in read_bundle(path.read_bytes()).results().items()
             if name.startswith("units/")}
    assert units and {doc["format"] for doc in units.values()} == {"cchc-result/2"}
    assert all("title" in item for doc in units.values() for item in doc["items"])
    r = cchc("replay", path)
    assert r.exit_code == 0 and "identical" in r.stdout, r.output


def test_an_input_folder_named_as_a_word_the_results_write_replays(cchc, tmp_path, monkeypatch):
    """A folder given as `tiers` (a scoring method's name, as `survey` is an item's source): the
    bundle's copies rewrite paths inside it, never the word itself, so the replay matches."""
    import shutil

    monkeypatch.chdir(tmp_path)
    criteria, (folder, single) = evidence_tree(tmp_path)
    shutil.copytree(folder, tmp_path / "tiers")
    r = cchc("score", "criteria.yaml", "tiers", single.relative_to(tmp_path), "--out", "out")
    assert r.exit_code == 0, r.output
    recorded = read_bundle((tmp_path / "out" / "bundle.cchc").read_bytes()).results()
    items = [i for name, data in recorded.items() if name.startswith("units/") for i in json.loads(data)["items"]]
    assert "tiers" in {i["method"] for i in items}
    assert any(x["location"].startswith("inputs/evidence/1/") for i in items for x in i["inputs"])  # paths still rewritten
    r = cchc("replay", tmp_path / "out" / "bundle.cchc")
    assert r.exit_code == 0 and "identical" in r.stdout, r.output
