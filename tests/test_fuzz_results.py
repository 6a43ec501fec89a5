"""Result files are read back by `report unit`, `report province` and `round --previous`: whatever is
in them — damaged, hand-edited or hostile — the answer is a report (exit 0) or a located refusal
(exit 2), never a traceback and never exit 4."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cli import app
from engine.core.errors import InputError
from engine.evaluation.ranking import load_previous

DATA = Path(__file__).parent / "data"
SAMPLE = DATA / "sample-criteria.yaml"
ROUND = DATA / "round"
FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                          HealthCheck.too_slow])


def cli(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, tuple[Path, dict]]:
    """A result of `score`, a unit result and the round.json of the annual round, with their criteria."""
    base = tmp_path_factory.mktemp("results")
    assert cli("score", SAMPLE, DATA / "evidence", "--out", base / "score").exit_code == 0
    r = cli("round", ROUND / "criteria.yaml", "--evidence", ROUND / "evidence", "--survey", ROUND / "survey",
            "--appraisal", ROUND / "appraisal", "--previous", ROUND / "previous" / "round-2022.json",
            "--out", base / "round", "-j", 1)
    assert r.exit_code == 0, r.output

    def doc(p: Path) -> dict:
        return json.loads(p.read_text("utf-8"))

    return {"score": (SAMPLE, doc(base / "score" / "units" / "so-noi-vu.json")),
            "round": (ROUND / "criteria.yaml", doc(base / "round" / "units" / "so-noi-vu.json")),
            "summary": (ROUND / "criteria.yaml", doc(base / "round" / "round.json"))}


JSON = st.recursive(st.none() | st.booleans() | st.integers(-10 ** 6, 10 ** 6) | st.floats()
                    | st.text(max_size=12) | st.sampled_from(["1/0", "-1", "0.5", "1e9", "", "../x", "NaN", "\ud800"]),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                    max_leaves=6)


def value_paths(node, prefix=()):
    """Every path to a value inside a JSON document (the document's own first: `()`)."""
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from value_paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from value_paths(v, prefix + (i,))


@st.composite
def damaged(draw, doc: dict) -> dict:
    """`doc` with one to three values replaced by any JSON value, or removed."""
    doc = copy.deepcopy(doc)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from([p for p in value_paths(doc) if p]))
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        if draw(st.booleans()):
            parent[path[-1]] = draw(JSON)
        else:
            del parent[path[-1]]
        if not isinstance(doc, dict):
            break
    return doc


def _write(path: Path, doc) -> None:
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2), "utf-8", errors="surrogatepass")


def _refused_or_done(r, path: Path) -> None:
    assert r.exit_code in (0, 2), r.output
    assert "Traceback" not in r.output and "internal error" not in r.output
    if r.exit_code == 2:
        assert str(path) in r.output, r.output  # located: the file is named (with its line when known)


@pytest.mark.parametrize("kind", ["score", "round"])
def test_report_unit_never_crashes_on_a_damaged_result(results, tmp_path, kind):
    criteria, base = results[kind]

    @FUZZ
    @given(doc=damaged(base))
    def check(doc):
        path = tmp_path / "unit.json"
        _write(path, doc)
        _refused_or_done(cli("report", "unit", path, "--criteria", criteria, "--format", "md",
                             "--out", tmp_path / "reports"), path)

    check()


def test_report_province_never_crashes_on_a_damaged_round_summary(results, tmp_path):
    _, base = results["summary"]

    @FUZZ
    @given(doc=damaged(base))
    def check(doc):
        path = tmp_path / "round.json"
        _write(path, doc)
        _refused_or_done(cli("report", "province", path, "--format", "md", "--out", tmp_path / "reports"), path)

    check()


def test_last_years_round_is_read_or_refused_never_crashes(results, tmp_path):
    _, base = results["summary"]

    @FUZZ
    @given(doc=damaged(base))
    def check(doc):
        path = tmp_path / "round-2022.json"
        _write(path, doc)
        try:
            load_previous(path)
        except InputError as exc:
            assert all(p.file == str(path) for p in exc.problems)

    check()


HOSTILE = {
    "empty": b"",
    "not json": b"\x00\xff\xfe garbage",
    "utf-16": json.dumps({"format": "cchc-result/1"}).encode("utf-16"),
    "a list": b"[]",
    "a string": b'"cchc-result/1"',
    "deep": b"[" * 100_000 + b"]" * 100_000,
    "deep object": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "NaN": b'{"format": "cchc-result/1", "total": NaN}',
    "huge float": b'{"format": "cchc-result/1", "criteria": {"year": 1e999}}',
    "huge int": b'{"format": "cchc-result/1", "criteria": {"year": ' + b"9" * 5000 + b"}}",
    "lone surrogate": b'{"format": "cchc-result/1", "unit": {"id": "a", "name": "\\ud800", "type": "x"}}',
    "only a format": b'{"format": "cchc-result/1"}',
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hand_made_hostile_result_files_are_refused_with_their_name(tmp_path, name):
    path = tmp_path / "unit.json"
    path.write_bytes(HOSTILE[name])
    r = cli("report", "unit", path, "--criteria", SAMPLE, "--out", tmp_path / "reports")
    assert r.exit_code == 2 and str(path) in r.output and "Traceback" not in r.output, r.output
    r = cli("report", "province", path, "--out", tmp_path / "province")
    assert r.exit_code == 2 and str(path) in r.output and "Traceback" not in r.output, r.output
    assert not (tmp_path / "reports").exists() and not (tmp_path / "province").exists()


@pytest.mark.parametrize("change, message", [
    (lambda d: d["items"].pop(), "items: expected each of the criteria set's 11 codes once; missing"),
    (lambda d: d["items"].append(d["items"][0]), "unexpected or repeated"),
    (lambda d: next(i for i in d["items"] if i["inputs"])["inputs"][0].update(metric="no_such_metric"),
     "inputs: metrics the criteria set does not have: no_such_metric"),
    (lambda d: d["total"].update(points="1/0"), "total.points"),
    (lambda d: d["items"][0].update(points=3), "items.0.points: expected string"),
])
def test_a_result_that_does_not_fit_its_criteria_or_schema_is_located(results, tmp_path, change, message):
    _, base = results["score"]
    doc = copy.deepcopy(base)
    change(doc)
    path = tmp_path / "unit.json"
    _write(path, doc)
    r = cli("report", "unit", path, "--criteria", SAMPLE, "--out", tmp_path / "reports")
    assert r.exit_code == 2 and f"{path}" in r.stderr and message in r.stderr, r.stderr


def test_round_previous_hostile_is_exit_2_with_its_place(results, tmp_path):
    _, base = results["summary"]
    doc = copy.deepcopy(base)
    doc["groups"][0]["units"][0]["index"] = "1/0"
    path = tmp_path / "round-2022.json"
    _write(path, doc)
    r = cli("round", ROUND / "criteria.yaml", "--evidence", ROUND / "evidence", "--survey", ROUND / "survey",
            "--appraisal", ROUND / "appraisal", "--previous", path, "--out", tmp_path / "out", "-j", 1)
    assert r.exit_code == 2 and f"{path}:" in r.stderr and "groups.0.units.0.index" in r.stderr, r.stderr
    assert not (tmp_path / "out").exists()
