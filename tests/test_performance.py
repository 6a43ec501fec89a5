"""Work done once and in C where it can be: the YAML parser, the rule engine's questions, the
files of a run. Speed itself is measured by `make bench`, never asserted here."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from builders import generated_evidence, scored_alike_by_one_and_two_workers

from engine import load_criteria
from engine.core.errors import InputError
from engine.storage.documents import unit_result
from engine.storage.results import dumps, encode
from engine.inputs.yamlio import SafeLineLoader, YamlList, YamlMap, load_yaml
from engine.inputs import yamlio

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_YAML = sorted([*ROOT.glob("criteria/*.yaml"), *ROOT.glob("examples/**/*.yaml")])
needs_libyaml = pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML built without libyaml")


def _same(a, b, where=""):
    assert type(a) is type(b), where
    if isinstance(a, YamlMap):
        assert (a.pos, a.key_pos, a.value_pos, list(a)) == (b.pos, b.key_pos, b.value_pos, list(b)), where
        for k in a:
            _same(a[k], b[k], f"{where}/{k}")
    elif isinstance(a, YamlList):
        assert (a.pos, a.item_pos, len(a)) == (b.pos, b.item_pos, len(b)), where
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{where}[{i}]")
    else:
        assert a == b, where


@needs_libyaml
@pytest.mark.parametrize("path", SHIPPED_YAML, ids=lambda p: str(p.relative_to(ROOT)))
def test_libyaml_loads_the_same_data_and_positions_as_the_python_parser(path):
    text = path.read_text("utf-8-sig")
    _same(yaml.load(text, Loader=SafeLineLoader), yaml.load(text, Loader=yamlio.CSafeLineLoader), path.name)  # noqa: S506


@needs_libyaml
def test_libyaml_is_the_parser_used_and_positions_count_characters(tmp_path, monkeypatch):
    path = tmp_path / "u.yaml"
    path.write_text('tên: "Xã Đông Sơn"\nđiểm: {tỷ_lệ: 93.54, có: true}\n', encoding="utf-8")
    python_loads = []
    monkeypatch.setattr(SafeLineLoader, "__init__", lambda self, s: python_loads.append(s) or yaml.SafeLoader.__init__(self, s))
    doc = load_yaml(path)
    assert python_loads == []
    assert doc["điểm"].value_pos["có"] == (2, 26) and str(doc["điểm"]["tỷ_lệ"]) == "93.54"


@pytest.mark.parametrize("text, line, col, message", [
    ("a: 1\n  b: 2\n", 2, 4, "a ':' where none can stand"),
    ("a: [1, 2\nb: 3\n", 2, 2, "a list in brackets [...] that is not closed"),
    ("a: 1\na: 2\n", 2, 1, "duplicate key 'a'"),
    ("a: !!python/object:os.system x\n", 1, 4, "custom YAML tags are refused"),
    ("a: !!int 017\n", 1, 4, "not a decimal integer"),
    ("a: " + "[" * 60 + "]" * 60 + "\n", 1, 53, "nesting is too deep"),
])
def test_a_yaml_error_reads_the_same_with_either_parser(tmp_path, monkeypatch, text, line, col, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    seen = []
    for loader in (SafeLineLoader, yamlio.FastSafeLoader):
        monkeypatch.setattr(yamlio, "FastSafeLoader", loader)
        with pytest.raises(InputError) as exc:
            load_yaml(path)
        [p] = exc.value.problems
        seen.append((p.line, p.col, p.message))
    assert seen[0] == seen[1]
    assert seen[0][:2] == (line, col) and message in seen[0][2]


def _pack_cpu(folder: Path, n: int) -> float:
    """CPU seconds to lay out a folder input of `n` evidence files, each also cited."""
    import time

    from engine.storage.bundle import InputRoot, pack_inputs
    from engine.storage.bundle import cited_files
    from engine.core.model import Citation, MetricValue

    folder.mkdir()
    files = []
    for i in range(n):
        f = folder / f"u{i:05d}.yaml"
        f.write_bytes(b"x")
        files.append(f)
    values = [(str(f), MetricValue("m", "count", 1, Citation("d", file=f.name), f.name)) for f in files]
    start = time.process_time()
    cited = cited_files(values)
    packed = pack_inputs({"evidence": [InputRoot(folder, tuple(files), tuple(cited))]})
    spent = time.process_time() - start
    assert len(cited) == n and len(packed.parts) == n
    assert packed.parts[f"inputs/evidence/1/u{n - 1:05d}.yaml"] == b"x"
    return spent


@pytest.fixture
def fast_tmp(tmp_path):
    """A folder in memory where the system has one (40,000 opens on disk take most of a minute)."""
    import shutil
    import tempfile

    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    folder = Path(tempfile.mkdtemp(prefix="cchc-test-", dir=shm))
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


def test_laying_out_20000_input_files_grows_linearly(fast_tmp):
    """No step of collecting and packing a run's files compares every file with every other:
    ten times the files cost far less than a hundred times the time."""
    small, large = _pack_cpu(fast_tmp / "small", 2000), _pack_cpu(fast_tmp / "large", 20000)
    assert large < 30 * max(small, 0.01), (small, large)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2 ** 70, max_value=2 ** 70) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_the_fast_encoder_writes_the_standard_librarys_canonical_bytes(value):
    expected = (json.dumps(value, sort_keys=True, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    assert dumps(value) == expected


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_compact_results_are_the_standard_librarys_compact_canonical_bytes(value):
    expected = (json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
    assert encode(value) == expected


def test_non_string_keys_and_huge_integers_still_encode():
    assert dumps({1: 2 ** 80}) == b'{\n  "1": 1208925819614629174706176\n}\n'
    assert encode({1: 2 ** 80}) == b'{"1":1208925819614629174706176}\n'


def _naive_localized(value, names):
    """Every input path standing whole in a string value, longest first, replaced by its bundle name
    (an input folder, `inputs/<role>/<n>` in the bundle, only before a path inside it)."""
    from engine.storage.bundle import _path_ends, _path_starts

    if isinstance(value, list):
        return [_naive_localized(v, names) for v in value]
    if isinstance(value, dict):
        return {k: _naive_localized(v, names) for k, v in value.items()}
    if not isinstance(value, str):
        return value
    out, i = "", 0
    while i < len(value):
        hit = next((k for k in sorted(names, key=len, reverse=True) if value.startswith(k, i)
                    and _path_starts(value, i) and _path_ends(value, i + len(k))
                    and (names[k].count("/") != 2 or value.startswith("/", i + len(k)))), None)
        if hit:
            out, i = out + names[hit], i + len(hit)
        else:
            out, i = out + value[i], i + 1
    return out


paths = st.sampled_from(["ev", "ev/u1.yaml", "/tmp/ev/u1.yaml", "/tmp/ev", "items", "1", "true", "x y.csv",
                         'q"x.csv', "Xã/ú.yaml"])
texts = st.lists(st.one_of(paths, st.sampled_from([":3:4", "/", " ", ",", "a", '"', "\n", "\\", "ev-"])),
                 max_size=6).map("".join)
localized_docs = st.recursive(st.none() | st.integers() | texts,
                              lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
                              max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(localized_docs, st.booleans())
def test_bundled_results_name_inputs_by_their_bundle_names_wherever_they_stand(doc, compact):
    """Input paths are replaced in string values only (keys, numbers and literals are kept), in
    compact and indented JSON alike, and the rest of the bytes are unchanged."""
    from engine.storage.bundle import localize
    from engine.storage.results import encode

    names = {"ev": "inputs/e/1", "ev/u1.yaml": "inputs/e/1/u1.yaml", "/tmp/ev/u1.yaml": "inputs/e/1/u1.yaml",
             "/tmp/ev": "inputs/e/1", "items": "inputs/i/1", "1": "inputs/one", "true": "inputs/t",
             'q"x.csv': "inputs/q/x.csv", "Xã/ú.yaml": "inputs/x/ú.yaml"}
    enc = encode if compact else dumps
    out = localize({"r.json": enc(doc), "r.txt": b"ev/u1.yaml"}, names)
    assert out["r.json"] == enc(_naive_localized(doc, names))
    assert out["r.txt"] == b"ev/u1.yaml"


@pytest.mark.parametrize("as_yaml", [False, True], ids=["one CSV", "a YAML file per unit"])
def test_score_with_one_and_two_workers_writes_the_same_bytes(cchc, tmp_path, as_yaml):
    """Units decided and encoded in two worker processes give the bytes one process gives (the
    bundle included), and the bytes a replay computes."""
    criteria = generated_evidence(tmp_path / "ev", 12, as_yaml)
    scored_alike_by_one_and_two_workers(cchc, criteria, tmp_path / "ev", tmp_path, 12, 3)
    rep = cchc("replay", tmp_path / "w2" / "bundle.cchc", "--engine", "reference")
    assert rep.exit_code == 0 and "identical" in rep.stdout, rep.stdout


def test_show_prints_a_compact_result_indented(cchc, tmp_path):
    (tmp_path / "r.json").write_bytes(encode({"b": [1, "Xã"], "a": None}))
    res = cchc("show", tmp_path / "r.json")
    assert res.exit_code == 0 and res.stdout == '{\n  "a": null,\n  "b": [\n    1,\n    "Xã"\n  ]\n}\n'
    (tmp_path / "bad.json").write_text('{"a":\n', "utf-8")
    res = cchc("show", tmp_path / "bad.json")
    assert res.exit_code == 2 and f"{tmp_path / 'bad.json'}:2:1: not valid JSON" in res.stderr


def test_show_puts_the_criteria_sets_words_back_into_a_unit_result(cchc, tmp_path):
    """Results name sub-criteria, criteria, areas and metrics by code; `show --criteria` prints
    them with their titles and labels, and only with the criteria set they were scored with."""
    criteria = generated_evidence(tmp_path / "ev", 2, False)
    assert cchc("score", criteria, tmp_path / "ev", "--out", tmp_path / "out").exit_code == 0
    unit = sorted((tmp_path / "out" / "units").glob("*.json"))[0]
    raw = json.loads(unit.read_bytes())
    assert all("title" not in i and all("label" not in x for x in i["inputs"]) for i in raw["items"])
    res = cchc("show", unit, "--criteria", criteria)
    assert res.exit_code == 0, res.output
    shown = json.loads(res.stdout)
    cs = load_criteria(criteria)
    subs = {s.code: s for s in cs.sub_criteria()}
    assert [i["title"] for i in shown["items"]] == [subs[i["code"]].title for i in raw["items"]]
    assert {x["label"] for i in shown["items"] for x in i["inputs"]} == {
        cs.metrics[x["metric"]].label for i in raw["items"] for x in i["inputs"]}
    assert [a["title"] for a in shown["areas"]] == [a.title for a in cs.areas] and shown["total"]["title"] == cs.title
    # what `cchc-result/2` wrote, which every reader still reads: back to the very result
    assert shown["format"] == "cchc-result/2" and unit_result(unit, shown).data == raw
    # a result naming a code or a metric the criteria set does not have is refused, not shown untitled
    for where in ("code", "metric"):
        odd = json.loads(unit.read_bytes())
        if where == "code":
            odd["items"][0]["code"] = "9.9.9"
        else:
            odd["items"][0]["inputs"][0]["metric"] = "no_such_metric"
        (tmp_path / "odd.json").write_bytes(encode(odd))
        res = cchc("show", tmp_path / "odd.json", "--criteria", criteria)
        assert res.exit_code == 2 and ("9.9.9" if where == "code" else "no_such_metric") in res.output, res.output
    other = tmp_path / "other.yaml"
    other.write_text(Path(criteria).read_text("utf-8").replace("title:", "title: Khác", 1), "utf-8")
    res = cchc("show", unit, "--criteria", other)
    assert res.exit_code == 2 and "pass the criteria file the results were scored with" in res.output


def test_the_running_process_keeps_no_worker_state_of_its_own():
    """With one worker the units are decided by the `Workers`' own host; the process-wide host is
    set only in spawned worker processes, so two runs in one process never share an evaluator."""
    from engine import load_criteria, load_evidence
    from engine.round.pool import Workers
    from engine.round import pool
    from rules import get_evaluator

    cs = load_criteria(ROOT / "tests" / "data" / "sample-criteria.yaml")
    records = load_evidence([ROOT / "tests" / "data" / "evidence"], cs).records
    runs = []
    for _ in range(2):
        with Workers(cs, get_evaluator, "durable", 1) as workers:
            results = workers.decide(records)
            runs.append(workers.host.evaluator())
        assert [r.unit_id for r in results] == sorted(r.unit_id for r in records)
    assert pool._PROCESS_HOST == [] and runs[0] is not runs[1]


def test_a_bundle_of_an_earlier_version_with_indented_results_still_replays(cchc, tmp_path):
    """Bundles written before results were compact hold them indented: a replay compares the data,
    so they replay as identical."""
    from engine import load_criteria, load_evidence
    from engine.storage.bundle import read_bundle_file, write_bundle
    from engine.audit.replay import score_bundle

    criteria, evidence = ROOT / "tests" / "data" / "sample-criteria.yaml", ROOT / "tests" / "data" / "evidence"
    res = cchc("score", criteria, evidence, "--out", tmp_path / "out")
    assert res.exit_code == 0, res.stderr
    results = {k[len("results/"):]: v for k, v in read_bundle_file(tmp_path / "out" / "bundle.cchc").parts
               if k.startswith("results/")}
    indented = {k: dumps(json.loads(v)) for k, v in results.items()}
    assert indented != results and all(b"\n  " in v for v in indented.values())
    cs = load_criteria(criteria)
    old = score_bundle(criteria, [evidence], cs, load_evidence([evidence], cs), indented, "durable")
    write_bundle(tmp_path / "old.cchc", old)
    rep = cchc("replay", tmp_path / "old.cchc")
    assert rep.exit_code == 0 and "identical" in rep.stdout, rep.stdout


def test_a_pre_check_imports_no_library_it_does_not_use(tmp_path):
    """An agency's one-unit `cchc score` (start-up included, under 1 s in the benchmark) imports
    none of the libraries only other commands or inputs need: the schema validator (for a document
    failing the quick check), Excel, report templates, signing keys, the archive."""
    import subprocess
    import sys

    criteria = generated_evidence(tmp_path / "ev", 1, True)
    unit = next((tmp_path / "ev").glob("*.yaml"))
    probe = ("import sys, cli\n"
             f"sys.argv = ['cchc', 'score', {str(criteria)!r}, {str(unit)!r}, '--out', {str(tmp_path / 'out')!r}]\n"
             "try:\n    cli.app()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
             "print('imported:', *(m for m in ('jsonschema', 'openpyxl', 'jinja2', 'cryptography',"
             " 'engine.audit.archive', 'reports') if m in sys.modules))\n")
    run = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[-1] == "imported:", run.stdout


def test_a_round_without_an_archive_imports_neither_the_archive_nor_sqlite(tmp_path):
    """`cchc round` reads the archive (and sqlite3 with it) only when given --archive."""
    import subprocess
    import sys

    criteria = generated_evidence(tmp_path / "ev", 3, survey=False)
    probe = ("import sys, cli\n"
             f"sys.argv = ['cchc', 'round', {str(criteria)!r}, '--evidence', {str(tmp_path / 'ev')!r}, '--no-survey',"
             f" '--out', {str(tmp_path / 'out')!r}, '-j1']\n"
             "try:\n    cli.app()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
             "print('imported:', *(m for m in ('engine.audit.archive', 'sqlite3') if m in sys.modules))\n")
    run = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[-1] == "imported:", run.stdout
