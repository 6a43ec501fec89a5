"""Where a value was read travels with it (one `Location`), and the engine's notes travel as codes
that readers put into words."""
from __future__ import annotations

import json
import shutil
from csv import reader
from pathlib import Path

import pytest

from bundle_kit import evidence_tree, rebuild
from engine import load_criteria
from engine.core.errors import Location, Problem
from engine.inputs.evidence import load_evidence
from engine.core.model import NOTES
from engine.round.problems import round_problems

DATA = Path(__file__).parent / "data"
V1_WORDS = {"missing_evidence": "thiếu số liệu / tài liệu kiểm chứng: cần giải trình",
            "no_band": "giá trị không thuộc mức điểm nào của tiêu chí",
            "no_citation": "không có tài liệu kiểm chứng: cần giải trình"}


def test_a_location_reads_as_every_message_shows_it():
    assert str(Location("a.yaml", 3, 7)) == "a.yaml:3:7"
    assert str(Location("a.csv", 12)) == "a.csv:12:1"
    assert str(Location.in_sheet("a.xlsx", "evidence", "E", 5)) == "a.xlsx:evidence!E5"
    assert str(Location("a.yaml")) == "a.yaml"
    p = Problem.at(Location.in_sheet("a.xlsx", "evidence", "E", 5), "bad", "warning")
    assert (p.place, str(p)) == (Location("a.xlsx", cell="evidence!E5"), "a.xlsx:evidence!E5: warning: bad")


def test_a_round_names_the_place_from_what_was_read_not_by_reading_the_files_again(tmp_path):
    criteria = load_criteria(DATA / "round" / "criteria.yaml")
    ev = tmp_path / "evidence"
    shutil.copytree(DATA / "round" / "evidence", ev)
    f = ev / "kho-bac.yaml"
    f.write_text(f.read_text("utf-8").replace('period: "2023"', 'period: "2022"'), "utf-8")
    records = load_evidence([ev], criteria).records
    shutil.rmtree(ev)  # nothing is left to read again
    _, problems = round_problems(criteria, records)
    assert f"{f}:4:9: unit kho-bac reports period '2022' but the round's period is '2023': one round scores " \
           "one period" in [str(p) for p in problems]


def test_an_excel_row_is_named_by_its_cell_in_a_round(tmp_path):
    import openpyxl

    criteria = load_criteria(DATA / "round" / "criteria.yaml")
    ev = tmp_path / "evidence"
    shutil.copytree(DATA / "round" / "evidence", ev)
    csv = ev / "communes.csv"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "evidence"
    for row in reader(csv.read_text("utf-8").splitlines()):
        ws.append(["2022" if c == "2023" else c for c in row])
    book = ev / "communes.xlsx"
    wb.save(book)
    csv.unlink()
    records = load_evidence([ev], criteria).records
    _, problems = round_problems(criteria, records)
    periods = [str(p) for p in problems if "reports period '2022'" in p.message]
    assert periods and all(t.startswith(f"{book}:evidence!D") for t in periods), periods


def test_every_note_code_has_words_in_both_languages(monkeypatch):
    from reports.notes import WORDS, item_notes, note_text

    assert set(WORDS) == set(NOTES)
    monkeypatch.setenv("LANGUAGE", "vi")
    for code, words in V1_WORDS.items():
        assert note_text(code) == words
    assert note_text("not_for_unit_type", "commune") == "không áp dụng cho loại đơn vị commune"
    assert item_notes({"notes": ["no_citation"], "reason": "Đã giải trình"}) == \
        "không có tài liệu kiểm chứng: cần giải trình; Đã giải trình"
    monkeypatch.setenv("LANGUAGE", "en")
    assert note_text("no_band") == "the value is in none of the item's bands"
    assert note_text("a_code_from_a_later_version") == "a_code_from_a_later_version"


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    from typer.testing import CliRunner

    from cli import app

    root = tmp_path_factory.mktemp("notes")
    evidence_tree(root)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        r = CliRunner().invoke(app, ["score", "criteria.yaml", "ho-so", "so-tu-phap/so-tu-phap.yaml", "--out", "out"])
    assert r.exit_code == 0, r.output
    return root


def _as_v2(doc: dict, criteria_path: Path) -> dict:
    """A unit result as `cchc-result/2` wrote it: with the criteria set's words in every file (the
    items' and roll-ups' titles, the inputs' labels), as `cchc show --criteria` puts them back."""
    from engine.storage.documents import unit_result, with_titles

    return with_titles(unit_result(criteria_path, doc), load_criteria(criteria_path))


def _as_v1(doc: dict) -> dict:
    """A unit result as `cchc-result/1` wrote it (a `cchc-result/2` one): notes as Vietnamese text in `note`."""
    items = []
    for item in doc["items"]:
        item = dict(item)
        notes, reason = item.pop("notes"), item.pop("reason")
        words = [V1_WORDS.get(c, f"không áp dụng cho loại đơn vị {doc['unit']['type']}") for c in notes]
        item["note"] = "; ".join(words + ([reason] if reason else []))
        items.append(item)
    return {**doc, "format": "cchc-result/1", "items": items}


@pytest.mark.parametrize("older", ["cchc-result/1", "cchc-result/2"])
def test_results_keep_note_codes_and_reports_read_earlier_formats_alike(scored, tmp_path, older):
    from reports import unit_report_files
    from reports.load import unit_result

    units = sorted((scored / "out" / "units").glob("*.json"))
    docs = [json.loads(u.read_text("utf-8")) for u in units]
    codes = {c for d in docs for i in d["items"] for c in i["notes"]}
    assert codes and codes <= set(NOTES)
    assert not {k for d in docs for i in d["items"] for k in i if k == "title"}  # the criteria set's words stay there
    assert not {k for d in docs for i in d["items"] for x in i["inputs"] for k in x if k == "label"}
    old = tmp_path / "old"
    old.mkdir()
    for u, d in zip(units, docs):
        v2 = _as_v2(d, scored / "criteria.yaml")
        written = v2 if older == "cchc-result/2" else _as_v1(v2)
        (old / u.name).write_text(json.dumps(written, ensure_ascii=False), "utf-8")
        assert unit_result(old / u.name, written).data == d  # read back exactly as written now
    now = unit_report_files([scored / "out"], scored / "criteria.yaml", kinds=("html", "md"))
    before = unit_report_files([old], scored / "criteria.yaml", kinds=("html", "md"))
    assert now == before


def test_a_replay_of_results_in_the_format_before_matches_them(scored, cchc, tmp_path):
    """Bundles whose unit results still hold the criteria set's words (`cchc-result/2`) replay:
    their decisions are compared, not their titles."""
    data = (scored / "out" / "bundle.cchc").read_bytes()

    def to_v2(parts: dict) -> None:
        for name in [n for n in parts if n.startswith("results/units/")]:
            parts[name] = json.dumps(_as_v2(json.loads(parts[name]), scored / "criteria.yaml"),
                                     ensure_ascii=False).encode()

    old = tmp_path / "old.cchc"
    old.write_bytes(rebuild(data, to_v2))
    r = cchc("replay", old)
    assert r.exit_code == 0, r.output
    assert "Traceback" not in r.output


def test_a_result_format_this_version_does_not_know_is_refused(tmp_path):
    from engine.core.errors import InputError
    from reports.load import unit_result

    with pytest.raises(InputError) as exc:
        unit_result(tmp_path / "u.json", {"format": "cchc-result/9"})
    assert "cchc-result/9, which this cchc does not know" in str(exc.value)


def test_a_replay_of_results_in_the_older_format_says_why_it_cannot_match(scored, cchc, tmp_path):
    data = (scored / "out" / "bundle.cchc").read_bytes()

    def to_v1(parts: dict) -> None:
        for name in [n for n in parts if n.startswith("results/units/")]:
            parts[name] = json.dumps(_as_v1(_as_v2(json.loads(parts[name]), scored / "criteria.yaml"))).encode()

    old = tmp_path / "old.cchc"
    old.write_bytes(rebuild(data, to_v1))
    r = cchc("replay", old)
    assert r.exit_code == 2, r.output
    assert "in the format cchc-result/1" in r.output and "score its inputs again" in r.output
    assert "Traceback" not in r.output
