"""`cchc round` with worker processes: units are decided, appraised and encoded where they were
decided, and the round writes the same bytes (bundle included) for any number of workers."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from engine import load_criteria, load_evidence
from engine.evaluation.appraisal import apply_appraisal
from engine.round.output import round_files, standing_part
from engine.round.units import with_survey
from engine.round.run import run_round
from engine.round.units import round_unit, round_unit_doc
from engine.storage.results import encode
from rules import get_evaluator

DATA = Path(__file__).parent / "data" / "round"


def _folder(path: Path) -> dict[str, bytes]:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def result():
    return run_round(load_criteria(DATA / "criteria.yaml"), [DATA / "evidence"], factory=get_evaluator,
                     engine="reference", survey_paths=[DATA / "survey"], appraisal_paths=[DATA / "appraisal"],
                     previous_path=DATA / "previous" / "round-2022.json", workers=2)


def test_round_with_one_and_two_workers_writes_the_same_bytes(cchc, tmp_path, monkeypatch):
    """Survey data, two appraisal rounds and last year's round, the evidence in several pieces: the
    result folder and the bundle are byte-identical with one and two workers (started before the
    evidence is read, as for a large round), and a replay of the two-worker bundle is identical."""
    from engine.round import pool, run

    started = []
    start = pool.Workers.start
    monkeypatch.setattr(pool, "EARLY_START_BYTES", 0)
    # five pieces (the CSV's two units one by one, the YAML files two by two): each read, kept and
    # decided by the worker its number names
    monkeypatch.setattr(run, "UNITS_PER_PIECE", 1)
    monkeypatch.setattr(run, "FILES_PER_PIECE", 2)
    monkeypatch.setattr(pool.Workers, "start", lambda self: started.append(self.workers) or start(self))
    outs = []
    for n in (1, 2):
        res = cchc("round", DATA / "criteria.yaml", "--evidence", DATA / "evidence", "--survey", DATA / "survey",
                   "--appraisal", DATA / "appraisal", "--previous", DATA / "previous" / "round-2022.json",
                   "--out", tmp_path / f"w{n}", "--workers", n, "--rows", 0)
        assert res.exit_code == 0, res.stderr
        outs.append(_folder(tmp_path / f"w{n}"))
    assert outs[0] == outs[1] and started == [1, 2]
    assert sum(1 for name in outs[0] if name.startswith("units/")) == 7
    assert b'"appraisal_rounds":[{' in b"".join(outs[0].values())  # appraised in the workers
    rep = cchc("replay", tmp_path / "w2" / "bundle.cchc")
    assert rep.exit_code == 0 and "identical" in rep.stdout, rep.stdout


def test_a_unit_file_is_its_whole_document_encoded_at_once(result):
    """The unit file the parent finishes (the worker's bytes around the standing) is the file
    `encode` gives for the whole document: the unit's result, its appraisal and its standing."""
    files = round_files(result)
    where = {st.score.unit_id: (st, g.group.label, len(g.standings))
             for g in result.ranking.groups for st in g.standings}
    where.update({st.score.unit_id: (st, "", 0) for st in result.ranking.ungrouped})
    cs = result.criteria
    evaluator = get_evaluator("reference")
    from engine.evaluation.evaluate import decide

    records = [with_survey(r, result.survey.values.get(r.unit_id, {}), result.survey.not_applicable.get(r.unit_id, {}))
               for r in load_evidence([DATA / "evidence"], cs).records]
    units, problems = apply_appraisal(cs, decide(cs, records, evaluator), result.appraisal)
    assert not problems and any(u.rounds for u in units)
    for u in units:
        doc = {**round_unit_doc(cs, u, result.engine), "standing": standing_part(*where[u.result.unit_id])}
        assert files[f"units/{u.result.unit_id}.json"] == encode(doc)


def test_a_unit_whose_text_holds_the_standing_marker_is_encoded_whole(result):
    """No input can make the parent write the standing in the wrong place: a unit whose own text
    holds the marker the worker splits at is sent back as a document and encoded whole."""
    cs = result.criteria
    from engine.evaluation.evaluate import decide

    res = decide(cs, load_evidence([DATA / "evidence"], cs).records[:1], get_evaluator("reference"))[0]
    marker = "\x00cchc:standing\x00"
    for name, whole in ((marker, True), ('"' + marker, True), ("Xã " + marker, False), ("Xã", False)):
        (unit,), _ = apply_appraisal(cs, [replace(res, unit_name=name, evidence_source=name)], result.appraisal)
        ru = round_unit(cs, unit, result.engine)
        assert (ru.doc is not None) == whole, name
        standing = {"group": "g", "rank": 1, "yoy": None}
        assert ru.file(standing) == encode({**round_unit_doc(cs, unit, result.engine), "standing": standing})



def test_only_large_evidence_starts_the_workers_before_it_is_read(tmp_path):
    """For a round and for `score` (engine.round.pool.large_evidence)."""
    from engine.inputs.evidence import evidence_files
    from engine.round.pool import EARLY_START_BYTES, large_evidence as _large

    (tmp_path / "ev").mkdir()
    (tmp_path / "ev" / "a.csv").write_bytes(b"x" * (EARLY_START_BYTES - 1))
    assert not _large(evidence_files([tmp_path / "ev"]))
    (tmp_path / "ev" / "tasks").mkdir()  # task lists are read through their units, not counted
    (tmp_path / "ev" / "tasks" / "t.csv").write_bytes(b"x" * EARLY_START_BYTES)
    assert not _large(evidence_files([tmp_path / "ev"]))
    (tmp_path / "ev" / "b.yaml").write_bytes(b"x")
    assert _large(evidence_files([tmp_path / "ev"])) and not _large(evidence_files([tmp_path / "missing"]))


def test_a_round_reads_and_types_each_evidence_file_once(cchc, tmp_path, monkeypatch):
    """Each evidence file is parsed once in a whole `cchc round` (the bundle included): a YAML file
    read once, a CSV file scanned once for where its units stand and each unit typed once."""
    from collections import Counter

    from engine.inputs import evidence

    calls: Counter = Counter()

    def counted(name, real):
        def call(*args, **kw):
            calls[(name, str(args[0].unit_id if name == "_record" else args[0]))] += 1
            return real(*args, **kw)
        monkeypatch.setattr(evidence, name, call)

    for name in ("_read_yaml", "scan_csv", "_record", "load_evidence"):
        counted(name, getattr(evidence, name))
    res = cchc("round", DATA / "criteria.yaml", "--evidence", DATA / "evidence", "--survey", DATA / "survey",
               "--appraisal", DATA / "appraisal", "--out", tmp_path / "out", "--workers", 1, "--rows", 0)
    assert res.exit_code == 0, res.stderr
    files = sorted((DATA / "evidence").iterdir())
    units = [name[:-len(".json")] for name in sorted(p.name for p in (tmp_path / "out" / "units").iterdir())]
    assert calls == Counter({**{("_read_yaml", str(f)): 1 for f in files if f.suffix == ".yaml"},
                             **{("scan_csv", str(f)): 1 for f in files if f.suffix == ".csv"},
                             **{("_record", u): 1 for u in units}})


def test_a_problem_in_the_last_piece_is_reported_as_with_one_worker(cchc, tmp_path, monkeypatch):
    """The evidence in one piece per file: a period other than the round's, given in the last
    piece (read and kept by the second worker), is reported at its line, the same with one and
    two workers, and nothing is written."""
    import shutil

    from engine.round import run

    monkeypatch.setattr(run, "UNITS_PER_PIECE", 1)
    monkeypatch.setattr(run, "FILES_PER_PIECE", 1)
    shutil.copytree(DATA / "evidence", tmp_path / "ev")
    last = tmp_path / "ev" / "so-xay-dung.yaml"
    last.write_text(last.read_text("utf-8").replace('period: "2023"', 'period: "2022"'), "utf-8")
    errors = []
    for n in (1, 2):
        res = cchc("round", DATA / "criteria.yaml", "--evidence", tmp_path / "ev", "--survey", DATA / "survey",
                   "--appraisal", DATA / "appraisal", "--out", tmp_path / f"w{n}", "--workers", n)
        assert res.exit_code == 2 and not (tmp_path / f"w{n}").exists(), res.stderr
        errors.append(res.stderr)
    assert errors[0] == errors[1]
    assert f"{last}:4:" in errors[0] and "'2022'" in errors[0]
