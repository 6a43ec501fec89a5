"""The archive: bundles by year and unit in SQLite, round-trips, year-over-year, migrations."""
from __future__ import annotations

import re
import sqlite3
from fractions import Fraction
from pathlib import Path

import pytest

from bundle_kit import evidence_tree
from conftest import ENGLISH, VIETNAMESE
from engine.audit.archive import (MIGRATIONS, SCHEMA_VERSION, Archive, ArchiveError, migrate, previous_results,
                            results_for_year)
from engine.storage.bundle import read_bundle
from rules import get_evaluator


@pytest.fixture(scope="module")
def years(tmp_path_factory):
    """Bundles of two years: 2023 (three units) and 2024 (the same evidence under the 2024 set)."""
    from typer.testing import CliRunner

    from cli import app

    root = tmp_path_factory.mktemp("archive")
    criteria, evidence = evidence_tree(root)
    c2024 = root / "criteria-2024.yaml"
    c2024.write_text(criteria.read_text("utf-8").replace("id: sample-2023", "id: sample-2024")
                     .replace("year: 2023", "year: 2024")
                     .replace("{ge: 98, points: 3, label: Từ 98% trở lên}", "{ge: 93, points: 3, label: Từ 93% trở lên}")
                     .replace("{gt: 90, lt: 98, points: 2, label: Trên 90% đến dưới 98%}",
                              "{gt: 90, lt: 93, points: 2, label: Trên 90% đến dưới 93%}"), "utf-8")
    out = {}
    runner = CliRunner()
    for year, crit in ((2023, criteria), (2024, c2024)):
        r = runner.invoke(app, ["score", str(crit), *map(str, evidence), "--out", str(root / f"out{year}")])
        assert r.exit_code == 0, r.output
        out[year] = root / f"out{year}" / "bundle.cchc"
    return out


def test_add_list_show_export_round_trip(years, cchc, tmp_path, monkeypatch):
    db = tmp_path / "a" / "archive.sqlite"
    monkeypatch.setenv("CCHC_ARCHIVE", str(db))
    r = cchc("archive", "add", years[2023], years[2024])
    assert r.exit_code == 0, r.output
    assert "added as #1 (year 2023, 3 unit(s)" in r.output and "added as #2 (year 2024, 3 unit(s)" in r.output
    r = cchc("archive", "add", years[2023])  # the same bundle again: kept once
    assert r.exit_code == 0 and "already archived as #1" in r.output
    r = cchc("archive", "list")
    assert r.exit_code == 0 and "2 bundle(s)" in r.output and "sample-2024" in r.output
    r = cchc("archive", "list", "--year", "2024")
    assert "1 bundle(s)" in r.output and "sample-2023" not in r.output
    r = cchc("archive", "list", "--unit", "so-noi-vu")
    assert r.exit_code == 0 and "2 result(s)" in r.output and "67.52" in r.output and "72.52" in r.output
    r = cchc("archive", "show", "so-noi-vu", "--year", "2023")
    assert r.exit_code == 0 and "Trên 90% đến dưới" in r.output and "2.1.1" in r.output, r.output
    assert "Tỷ lệ hồ sơ" in r.output  # the item's title, from the criteria set in the bundle
    monkeypatch.setenv("CCHC_MAX_YAML_DEPTH", "2")  # a criteria set this cchc cannot read: the items all the same
    r = cchc("archive", "show", "so-noi-vu", "--year", "2023")
    assert r.exit_code == 0 and "Trên 90% đến dưới" in r.output and "Tỷ lệ hồ sơ" not in r.output, r.output
    assert "#1:inputs/criteria/1/" in r.stderr and "cchc-archive-" not in r.output
    monkeypatch.delenv("CCHC_MAX_YAML_DEPTH")
    r = cchc("archive", "show", "2")
    assert r.exit_code == 0 and "kind scoring of units" in r.output and "sample-2024" in r.output
    r = cchc("archive", "show", "nobody")
    assert r.exit_code == 2 and "no archived results for unit 'nobody'" in r.output
    exported = tmp_path / "back.cchc"
    r = cchc("archive", "export", "1", "--out", exported)
    assert r.exit_code == 0
    assert exported.read_bytes() == years[2023].read_bytes()
    r = cchc("replay", exported)
    assert r.exit_code == 0 and "identical" in r.output
    # --db wins over the environment
    other = tmp_path / "other.sqlite"
    assert cchc("archive", "add", years[2024], "--db", other).exit_code == 0
    with Archive(other, create=False) as a:
        assert [b.year for b in a.bundles()] == [2024]


def test_previous_results_feed_year_over_year(years, tmp_path):
    db = tmp_path / "archive.sqlite"
    with Archive(db) as a:
        added = a.add([read_bundle(years[2023].read_bytes()), read_bundle(years[2024].read_bytes())], get_evaluator)
        assert [x.new for x in added] == [True, True]
        prev = previous_results(a, 2024)
    assert list(prev) == ["so-noi-vu", "so-tu-phap", "xa-an-binh"]
    snv = prev["so-noi-vu"]
    assert (snv.year, snv.criteria_id, snv.unit_name, snv.unit_type, snv.period) == \
        (2023, "sample-2023", "Sở Nội vụ", "department", "2023")
    assert snv.points == Fraction(1487449, 110150) and snv.max == 20
    assert snv.index == Fraction(1487449, 22030)  # exact, not a rounded display value
    assert previous_results(db, 2025)["so-noi-vu"].index == Fraction(1597599, 22030)
    assert previous_results(db, 2024, criteria_id="sample-2024") == {}
    assert previous_results(db, 2023) == {}
    assert results_for_year(db, 2024, "sample-2024")["xa-an-binh"].max == 16


def test_a_later_evaluation_of_the_same_year_counts(years, tmp_path, cchc):
    """Two bundles of 2023 holding the same unit: the one archived last is last year's result."""
    b2023 = years[2023].read_bytes()
    engine_ref = tmp_path / "ref"
    root = years[2023].parent.parent
    r = cchc("score", root / "criteria.yaml", root / "ho-so", "--out", engine_ref, "--engine", "reference")
    assert r.exit_code == 0, r.output
    with Archive(tmp_path / "db.sqlite") as a:
        a.add([read_bundle(b2023), read_bundle((engine_ref / "bundle.cchc").read_bytes())], get_evaluator)
        prev = previous_results(a, 2024)
        assert prev["so-noi-vu"].bundle_id == 2 and prev["so-tu-phap"].bundle_id == 1
        assert [b.engine for b in a.bundles(unit="so-tu-phap")] == ["durable"]


def test_damaged_bundles_are_not_archived(years, tmp_path, cchc):
    data = bytearray(years[2023].read_bytes())
    data[3000] ^= 0x20
    bad = tmp_path / "bad.cchc"
    bad.write_bytes(bytes(data))
    db = tmp_path / "db.sqlite"
    r = cchc("archive", "add", years[2024], bad, "--db", db)
    assert r.exit_code == 2 and "damaged or was altered" in r.output
    with Archive(db) as a:  # all or nothing: the good one was not stored either
        assert a.bundles() == []


def test_stored_bytes_are_verified_on_the_way_out(years, tmp_path):
    db = tmp_path / "db.sqlite"
    with Archive(db) as a:
        a.add([read_bundle(years[2023].read_bytes())], get_evaluator)
    con = sqlite3.connect(db)
    data = bytearray(con.execute("SELECT data FROM bundles WHERE id = 1").fetchone()[0])
    data[2000] ^= 1
    con.execute("UPDATE bundles SET data = ? WHERE id = 1", (bytes(data),))
    con.commit()
    con.close()
    with Archive(db) as a:
        with pytest.raises(ArchiveError, match="#1 no longer verifies"):
            a.bundle(1)


def test_missing_or_foreign_archives(tmp_path, cchc):
    r = cchc("archive", "list", "--db", tmp_path / "none.sqlite")
    assert r.exit_code == 2 and "no archive at" in r.output
    assert not (tmp_path / "none.sqlite").exists()
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database, only text" * 100)
    r = cchc("archive", "list", "--db", junk)
    assert r.exit_code == 2 and "not a cchc archive" in r.output and "Traceback" not in r.output
    with pytest.raises(ArchiveError):
        previous_results(tmp_path / "none.sqlite", 2024)


# ---------------------------------------------------------------- migrations

def test_migrations_are_ordered_and_reach_the_current_version():
    assert [m.version for m in MIGRATIONS] == list(range(1, SCHEMA_VERSION + 1))


def test_upgrade_from_v1_keeps_and_fills_in_the_data(years, tmp_path):
    db = tmp_path / "old.sqlite"
    con = sqlite3.connect(db, isolation_level=None)
    assert migrate(con, target=1) == 1
    # an archive as version 1 wrote it: bundle bytes and bare unit totals
    b = read_bundle(years[2023].read_bytes())
    con.execute("INSERT INTO bundles (id, sha256, kind, year, criteria_id, data) VALUES (1, ?, 'score', 2023, "
                "'sample-2023', ?)", (b.sha256, b.data))
    con.execute("INSERT INTO unit_results VALUES (1, 'so-noi-vu', '2023', '1487449/110150', '20')")
    con.execute("INSERT INTO unit_results VALUES (1, 'xa-an-binh', '2023', '10.6', '16')")
    cols = [r[1] for r in con.execute("PRAGMA table_info(unit_results)")]
    assert "unit_name" not in cols and "idx" not in cols
    con.close()
    with Archive(db) as a:
        assert a.version == SCHEMA_VERSION
        rows = a.results(year=2023)
        assert [(r.unit_id, r.unit_name, r.unit_type) for r in rows] == \
            [("so-noi-vu", "Sở Nội vụ", "department"), ("xa-an-binh", "UBND xã An Bình", "commune")]
        assert rows[0].index == Fraction(1487449, 22030)
        [row] = a.bundles()
        assert (row.engine, row.criteria_id, row.units) == ("durable", "sample-2023", 2)
        assert row.title == "Bộ chỉ số mẫu dùng cho kiểm thử"
        # archived before bundles were replayed on the way in: not read as last year until verified
        assert not row.verified and previous_results(a, 2024) == {}
        [(bid, ok, verdict)] = a.verify(get_evaluator)
        assert (bid, ok) == (1, True) and verdict.startswith("identical")
        assert a.bundles()[0].verified and a.verify(get_evaluator) == []
        assert previous_results(a, 2024)["xa-an-binh"].points == Fraction(53, 5)
    names = {r[0] for r in sqlite3.connect(db).execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"bundles_by_year", "unit_results_by_unit"} <= names


def test_a_failed_upgrade_changes_nothing(years, tmp_path):
    db = tmp_path / "old.sqlite"
    con = sqlite3.connect(db, isolation_level=None)
    migrate(con, target=1)
    data = bytearray(years[2023].read_bytes())
    data[1500] ^= 1  # a stored bundle that no longer verifies stops the upgrade
    con.execute("INSERT INTO bundles (id, sha256, kind, year, data) VALUES (1, 'x', 'score', 2023, ?)", (bytes(data),))
    con.close()
    with pytest.raises(ArchiveError, match="no longer verifies"):
        Archive(db)
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 1
    assert "unit_name" not in [r[1] for r in con.execute("PRAGMA table_info(unit_results)")]


def test_an_archive_from_a_newer_cchc_is_refused(tmp_path):
    db = tmp_path / "new.sqlite"
    con = sqlite3.connect(db)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.close()
    with pytest.raises(ArchiveError, match="newer than this cchc knows"):
        Archive(db)


# ---------------------------------------------------------------- the annual round reads last year from the archive

ROUND = Path(__file__).parent / "data" / "round"


def test_round_takes_last_years_results_from_the_archive(cchc, tmp_path):
    import json

    c2022 = tmp_path / "criteria-2022.yaml"
    c2022.write_text((ROUND / "criteria.yaml").read_text("utf-8").replace("\nyear: 2023", "\nyear: 2022")
                     .replace("id: round-2023", "id: round-2022"), "utf-8")
    r = cchc("score", c2022, ROUND / "evidence", "--out", tmp_path / "p", "--engine", "reference")
    assert r.exit_code == 0, r.output
    db = tmp_path / "db.sqlite"
    assert cchc("archive", "add", tmp_path / "p" / "bundle.cchc", "--db", db).exit_code == 0

    from engine.audit.archive import previous_round_json
    from engine.evaluation.ranking import load_previous

    doc = json.loads(previous_round_json(db, 2023))
    assert doc["criteria"] == {"id": "round-2022", "year": 2022}
    assert len(doc["source"]["archive_bundles"]) == 1 and str(tmp_path) not in json.dumps(doc)
    (tmp_path / "prev.json").write_text(json.dumps(doc), "utf-8")
    prev = load_previous(tmp_path / "prev.json")  # the round's own reader accepts it
    assert prev.year == 2022 and set(prev.units) >= {"so-noi-vu", "xa-an-binh"}
    assert previous_round_json(db, 2022) is None

    args = ["round", ROUND / "criteria.yaml", "--evidence", ROUND / "evidence", "--survey", ROUND / "survey",
            "--appraisal", ROUND / "appraisal", "-j", "1", "--engine", "reference"]
    r = cchc(*args, "--out", tmp_path / "r", "--archive", db)
    assert r.exit_code == 0, r.output
    summary = json.loads((tmp_path / "r" / "round.json").read_text("utf-8"))
    assert summary["previous"]["criteria"] == {"id": "round-2022", "year": 2022}
    units = {u["id"]: u for g in summary["groups"] for u in g["units"]}
    assert units["so-noi-vu"]["yoy"] == "continuing"
    from engine.core.numbers import to_fraction

    assert to_fraction(units["so-noi-vu"]["previous_index"]) == prev.units["so-noi-vu"].index
    assert units["so-noi-vu"]["previous_rank"] == prev.units["so-noi-vu"].rank
    r = cchc(*args, "--out", tmp_path / "r2", "--archive", db, "--previous-year", "2021")
    assert r.exit_code == 2 and "holds no results of 2021" in r.output
    r = cchc(*args, "--out", tmp_path / "r3", "--archive", db, "--previous", ROUND / "previous" / "round-2022.json")
    assert r.exit_code == 2 and "not both" in r.output


# ---------------------------------------------------------------- only what replays; required signers

def test_a_forged_rehashed_bundle_with_better_results_is_refused(years, tmp_path, cchc):
    from bundle_kit import rebuild

    def better(parts: dict) -> None:
        import json

        doc = json.loads(parts["results/units/so-noi-vu.json"])
        doc["total"]["points"] = "20"
        parts["results/units/so-noi-vu.json"] = (json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True)
                                                 + "\n").encode()

    forged = tmp_path / "forged.cchc"
    forged.write_bytes(rebuild(years[2023].read_bytes(), better))
    read_bundle(forged.read_bytes())  # consistent: every hash and the seal hold
    db = tmp_path / "db.sqlite"
    r = cchc("archive", "add", years[2024], forged, "--db", db)
    assert r.exit_code == 1, r.output
    assert "forged.cchc: not archived" in r.output and "unit so-noi-vu, total" in r.output, r.output
    with Archive(db) as a:  # all or nothing
        assert a.bundles() == [] and previous_results(a, 2024) == {}


def test_a_result_without_the_keys_the_archive_reads_is_refused_by_name(years, tmp_path, cchc):
    from bundle_kit import rebuild

    def no_max(parts: dict) -> None:
        import json

        doc = json.loads(parts["results/units/so-noi-vu.json"])
        del doc["total"]["max"]
        parts["results/units/so-noi-vu.json"] = (json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True)
                                                 + "\n").encode()

    from engine.audit.archive import index_bundle

    with pytest.raises(ArchiveError) as exc:
        index_bundle(read_bundle(rebuild(years[2023].read_bytes(), no_max)))
    assert "result units/so-noi-vu.json: the field 'total.max' is missing" in str(exc.value)


def test_required_signers(years, tmp_path, cchc):
    key, other = tmp_path / "snv", tmp_path / "other"
    assert cchc("keygen", key).exit_code == 0 and cchc("keygen", other).exit_code == 0
    root = years[2023].parent.parent
    signed = {}
    for k in (key, other):
        r = cchc("score", root / "criteria.yaml", root / "ho-so", "--out", tmp_path / f"out-{k.name}", "--sign", k)
        assert r.exit_code == 0, r.output
        signed[k.name] = tmp_path / f"out-{k.name}" / "bundle.cchc"
    db = tmp_path / "db.sqlite"
    r = cchc("archive", "init", "--require-signer", f"{key}.pub", "--db", db)
    assert r.exit_code == 0 and "requires a signature by key" in r.output, r.output
    r = cchc("archive", "add", years[2023], "--db", db)
    assert r.exit_code == 2 and "not signed" in r.output and "requires a signature" in r.output, r.output
    r = cchc("archive", "add", signed["other"], "--db", db)
    assert r.exit_code == 2 and "signed by key" in r.output, r.output
    r = cchc("archive", "add", signed["snv"], "--db", db)
    assert r.exit_code == 0, r.output
    fingerprint = read_bundle(signed["snv"].read_bytes()).signer
    with Archive(db) as a:
        [row] = a.bundles()
        assert row.signer == fingerprint and row.verified and row.verification.startswith("identical")
        assert row.added_at  # wall clock in the archive, never in the bundle
        assert a.required_signers() == [fingerprint]
    r = cchc("archive", "show", "1", "--db", db)
    assert r.exit_code == 0 and "verified: identical" in r.output and f"signed by key {fingerprint}" in r.output


def test_how_a_bundle_was_verified_is_shown_in_the_readers_language(years, tmp_path, monkeypatch):
    """The archive keeps each verification as data and says it in the reader's language, those of
    earlier versions' archives too (kept in English words)."""
    db = tmp_path / "db.sqlite"
    with Archive(db) as a:
        a.add([read_bundle(years[2023].read_bytes())], get_evaluator)
        a.con.execute("INSERT INTO bundles (sha256, kind, year, criteria_id, data, added_at, verified, verification) "
                      "SELECT 'x' || sha256, kind, 2022, criteria_id, data, added_at, 0, "
                      "'archived before bundles were replayed on the way in' FROM bundles")
        a.con.commit()
        for env, words in ((VIETNAMESE, [r"trùng khớp: chạy lại bằng bộ máy chấm durable, cchc \S+ \({n} đơn vị, "
                                         r"\d+ kết quả chấm tiêu chí\)", "lưu từ trước khi gói được chạy lại lúc nhập kho"]),
                           (ENGLISH, [r"identical: replayed with the durable engine, cchc \S+ \({n} unit\(s\), \d+ "
                                      r"decisions\)", "archived before bundles were replayed on the way in"])):
            for k, v in env.items():
                monkeypatch.setenv(k, v)
            now, before = sorted(a.bundles(), key=lambda row: row.id)
            assert re.fullmatch(words[0].format(n=now.units), now.verification), now.verification
            assert before.verification == words[1]


ADD = """
import pathlib, sys, time
from typer.testing import CliRunner
from cli import app
import engine.audit.archive, engine.audit.replay, rules
pathlib.Path(sys.argv[3] + ".ready").touch()
while not pathlib.Path(sys.argv[3]).exists():  # both start at the same moment
    time.sleep(0.001)
r = CliRunner().invoke(app, ["archive", "add", sys.argv[1], "--db", sys.argv[2]])
print(r.output)
sys.exit(r.exit_code)
"""


def test_two_processes_adding_to_a_new_archive_both_succeed(years, tmp_path):
    import subprocess
    import sys

    db = tmp_path / "new" / "archive.sqlite"
    repo = Path(__file__).parent.parent
    import time

    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", ADD, str(years[y]), str(db), f"{go}{y}"], cwd=repo,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for y in (2023, 2024)]
    deadline = time.monotonic() + 120
    while not all(Path(f"{go}{y}.ready").exists() for y in (2023, 2024)) and time.monotonic() < deadline:
        time.sleep(0.01)
    for y in (2023, 2024):
        Path(f"{go}{y}").touch()
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    with Archive(db) as a:
        assert sorted(b.year for b in a.bundles()) == [2023, 2024] and a.version == SCHEMA_VERSION
