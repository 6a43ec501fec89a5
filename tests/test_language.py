"""The language people read: Vietnamese by default, English with LANG=en_*; numbers and dates as
written in Vietnamese; errors a person can act on (one message for a mismatched criteria set, "did
you mean", the key's own position, YAML syntax in plain words with a caret); `round` never scores
without survey data unless told to."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date
from fractions import Fraction
from pathlib import Path

import pytest

from conftest import ENGLISH, VIETNAMESE
from engine.core import i18n
from commands.language import library_text
from engine.core.numbers import num

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data"
ROUND = DATA / "round"
CCHC = str(Path(sys.executable).parent / "cchc")


def speak(monkeypatch, language: dict) -> None:
    for k, v in language.items():
        monkeypatch.setenv(k, v)


def run(*args, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([CCHC, *map(str, args)], capture_output=True, text=True, env={**os.environ, **env})


# ---------------------------------------------------------------- choosing the language

@pytest.mark.parametrize("env, expected", [
    ({}, "vi"), ({"LANG": "C"}, "vi"), ({"LANG": "C.UTF-8"}, "vi"), ({"LANG": "POSIX"}, "vi"),
    ({"LANG": "fr_FR.UTF-8"}, "vi"), ({"LANG": "vi_VN.UTF-8"}, "vi"), ({"LANG": "en_US.UTF-8"}, "en"),
    ({"LANG": "en_GB"}, "en"), ({"LANG": "vi_VN.UTF-8", "LANGUAGE": "en"}, "en"),
    ({"LANG": "en_US.UTF-8", "LANGUAGE": "fr:vi"}, "vi"), ({"LANG": "en_US.UTF-8", "LC_ALL": "vi_VN.UTF-8"}, "vi"),
    ({"LANG": "en_US.UTF-8", "LC_ALL": "C"}, "vi"), ({"LC_MESSAGES": "en_US.UTF-8"}, "en"),
])
def test_language_comes_from_the_environment_with_vietnamese_as_default(monkeypatch, env, expected):
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert i18n.language() == expected


def test_numbers_and_dates_for_people(monkeypatch):
    speak(monkeypatch, VIETNAMESE)
    assert num(Fraction(1, 200)) == "0,01" and num(Fraction(-1, 200)) == "-0,01"  # half-up
    assert num(Fraction(9354, 100)) == "93,54" and num(1) == "1,00"
    assert i18n.day(date(2026, 1, 5)) == "05/01/2026"
    assert i18n.moment("2026-11-30T06:55:31+00:00") == "30/11/2026 06:55:31 UTC"
    assert i18n.moment("") == "—" and i18n.moment("không rõ") == "không rõ"  # never a crash on what is stored
    speak(monkeypatch, ENGLISH)
    assert num(Fraction(1, 200)) == "0.01" and i18n.day("2026-01-05") == "2026-01-05"
    assert i18n.moment("2026-11-30T06:55:31+00:00") == "2026-11-30 06:55:31 UTC"


# ---------------------------------------------------------------- the catalogue

def _placeholders(text: str) -> list[str]:
    return sorted(re.findall(r"\{[^{}]*\}", text))


def test_every_message_of_the_code_has_a_vietnamese_translation_with_the_same_placeholders():
    """The committed catalogue is complete: what the code marks for translation (`make messages`)
    is in it, translated, with the same {placeholders}."""
    from babel.messages.extract import extract_from_file
    from babel.messages.pofile import read_po

    with (i18n.LOCALE_DIR / "vi" / "LC_MESSAGES" / "cchc.po").open("rb") as f:
        catalogue = read_po(f)
    keywords = {"_": None, "N_": None, "both": None, "ngettext": (1, 2)}
    sources = [ROOT / "cli.py", *sorted((ROOT / "commands").rglob("*.py")),
               *sorted((ROOT / "engine").rglob("*.py")), *sorted((ROOT / "reports").rglob("*.py")),
               *sorted((ROOT / "rules").rglob("*.py"))]
    marked = {msg[1] if isinstance(msg[1], str) else msg[1][0]
              for path in sources for msg in extract_from_file("python", str(path), keywords=keywords)}
    assert marked, "no message marked for translation"
    missing = sorted(m for m in marked if not (catalogue.get(m) and catalogue.get(m).string))
    assert not missing, f"not in engine/locale/vi/LC_MESSAGES/cchc.po (run `make messages`): {missing}"
    for m in catalogue:
        if not m.id:
            continue
        msgid = m.id if isinstance(m.id, str) else m.id[0]
        translated = m.string if isinstance(m.string, str) else m.string[0]
        assert _placeholders(msgid) == _placeholders(translated), msgid


def test_catalogue_compiles_from_the_po_file_on_first_use():
    """A fresh clone has no .mo: the committed .po is compiled when first needed."""
    import gettext
    from io import BytesIO

    compiled = gettext.GNUTranslations(BytesIO(i18n.compile_catalogue(
        i18n.LOCALE_DIR / "vi" / "LC_MESSAGES" / "cchc.po")))
    assert compiled.gettext("file not found") == "không tìm thấy tệp"


def test_a_fresh_clone_without_compiled_catalogue_speaks_vietnamese(tmp_path):
    """Without the .mo (a fresh clone before `make install`), the command compiles the .po itself."""
    locale = tmp_path / "locale" / "vi" / "LC_MESSAGES"
    locale.mkdir(parents=True)
    (locale / "cchc.po").write_bytes((i18n.LOCALE_DIR / "vi" / "LC_MESSAGES" / "cchc.po").read_bytes())
    code = ("import engine.core.i18n as i; from pathlib import Path; i.LOCALE_DIR = Path(r'%s');"
            "print(i._('file not found'))" % (tmp_path / "locale"))
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, **VIETNAMESE})
    assert res.stdout.strip() == "không tìm thấy tệp", res.stderr
    assert (locale / "cchc.mo").is_file()  # kept for the next run


# ---------------------------------------------------------------- the command line in both languages

def test_version_and_help_in_vietnamese_and_english():
    vi = run("--version", env=VIETNAMESE)
    assert vi.returncode == 0 and re.fullmatch(r"cchc \d+\.\d+\.\d+\S* \(durable_rules 2\.0\.28, Python 3\.\d+\.\d+\)\n",
                                               vi.stdout), vi.stdout + vi.stderr
    help_vi = run("score", "--help", env=VIETNAMESE).stdout
    assert "Chấm điểm các đơn vị" in help_vi and "Tùy chọn" in help_vi and "Thư mục ghi kết quả JSON" in help_vi
    help_en = run("score", "--help", env=ENGLISH).stdout
    assert "Score units" in help_en and "Options" in help_en and "Folder for the JSON results" in help_en


def test_terminal_summary_in_vietnamese_and_in_english(cchc, monkeypatch, tmp_path):
    crit = DATA / "sample-criteria.yaml"
    speak(monkeypatch, VIETNAMESE)
    vi = cchc("validate", crit, DATA / "evidence", "--criteria", crit)
    assert vi.exit_code == 0, vi.stderr
    assert f"{crit}: hợp lệ — bộ tiêu chí sample-2023, " in vi.stdout
    assert "tài liệu kiểm chứng hợp lệ: 2 đơn vị trong 2 tệp" in vi.stdout
    speak(monkeypatch, ENGLISH)
    en = cchc("validate", crit, DATA / "evidence", "--criteria", crit)
    assert f"{crit}: ok — criteria set sample-2023, " in en.stdout and "evidence ok: 2 unit(s) in 2 file(s)" in en.stdout


def test_decimal_comma_on_the_command_line(cchc, monkeypatch, tmp_path):
    speak(monkeypatch, VIETNAMESE)
    args = [ROOT / "criteria" / "tien-giang-2023-province.yaml", ROOT / "examples" / "tien-giang-2020-4thang" / "evidence"]
    comma = cchc("midyear", *args, "--elapsed", "0,25", "--out", tmp_path / "comma")
    assert comma.exit_code == 0, comma.stderr
    assert "(25,00 % của năm)" in comma.stdout
    fraction = cchc("midyear", *args, "--elapsed", "3/12", "--out", tmp_path / "fraction")
    assert fraction.exit_code == 0
    assert (tmp_path / "comma" / "midyear.json").read_bytes() == (tmp_path / "fraction" / "midyear.json").read_bytes()
    day_first = cchc("midyear", *args, "--as-of", "30/04/2020", "--out", tmp_path / "day")
    iso = cchc("midyear", *args, "--as-of", "2020-04-30", "--out", tmp_path / "iso")
    assert day_first.exit_code == iso.exit_code == 0
    assert (tmp_path / "day" / "midyear.json").read_bytes() == (tmp_path / "iso" / "midyear.json").read_bytes()
    bad = cchc("midyear", *args, "--elapsed", "0,25,1")
    assert bad.exit_code == 2 and "--elapsed: '0,25,1' không phải một phân số chính xác" in bad.stderr


# ---------------------------------------------------------------- errors a person can act on

def test_evidence_for_another_criteria_set_is_one_message_at_its_criteria_line(cchc, monkeypatch):
    speak(monkeypatch, VIETNAMESE)
    evidence = DATA / "evidence" / "so-noi-vu.yaml"
    other = ROOT / "criteria" / "tien-giang-2023-communes.yaml"
    res = cchc("validate", "--criteria", other, evidence)
    assert res.exit_code == 2
    errors = [line for line in res.stderr.splitlines() if line.startswith(str(evidence))]
    assert errors == [f"{evidence}:2:1: tài liệu này lập cho bộ tiêu chí sample-2023, nhưng đang được kiểm tra theo "
                      f"bộ tiêu chí tien-giang-2023-communes ({other}): hãy dùng bộ tiêu chí sample-2023, hoặc sửa "
                      "dòng này nếu tệp dành cho tien-giang-2023-communes"], res.stderr
    assert res.stderr.rstrip().endswith("Có 1 lỗi.")
    # a set that reads the same metrics for the same unit type (a what-if, next year's set) reads the file
    assert cchc("validate", "--criteria", ROUND / "criteria.yaml", evidence).exit_code == 0


def test_a_table_for_another_criteria_set_is_one_message_per_unit(cchc, monkeypatch, tmp_path):
    """A CSV names no criteria set: when none of a unit's metrics is in the set, one message says so."""
    table = tmp_path / "xa.csv"
    rows = [f"xa-1,Xã Một,commune,2023,{m},,1" for m in ("cap_tren_giao", "so_van_ban", "ty_le_dung_han")]
    table.write_text("unit_id,unit_name,unit_type,period,metric,option,value\n" + "\n".join(rows) + "\n", "utf-8")
    speak(monkeypatch, ENGLISH)
    res = cchc("validate", "--criteria", DATA / "sample-criteria.yaml", table)
    assert res.exit_code == 2
    problems = [line for line in res.stderr.splitlines() if str(table) in line]
    assert problems == [f"{table}:2:1: none of the 3 metrics of unit xa-1 is in the criteria set sample-2023 (first: "
                        "cap_tren_giao, so_van_ban, ty_le_dung_han): is this evidence for another criteria set?"], \
        res.stderr


def _evidence(tmp_path: Path, metrics: str) -> Path:
    f = tmp_path / "so-a.yaml"
    f.write_text("format: cchc-evidence/1\ncriteria: sample-2023\nunit: {id: so-a, name: Sở A, type: department}\n"
                 'period: "2023"\nmetrics:\n' + metrics, "utf-8")
    return f


def test_unknown_metric_gets_did_you_mean_at_its_key(cchc, monkeypatch, tmp_path):
    f = _evidence(tmp_path, "  online_rat:\n    value: 30\n  late_reports: {value: 1}\n  zzz_unheard_of: {value: 1}\n")
    speak(monkeypatch, ENGLISH)
    res = cchc("validate", "--criteria", DATA / "sample-criteria.yaml", f)
    assert res.exit_code == 2
    # at the key's own line (6), not its value's (7)
    assert f"{f}:6:3: unknown metric 'online_rat': the criteria set sample-2023 has no such metric " \
           "(did you mean 'online_rate'" in res.stderr
    # nothing close: where the known ones are listed, not the whole list
    assert f"{f}:9:3: unknown metric 'zzz_unheard_of': the criteria set sample-2023 has no such metric (its " \
           f"metrics are listed in {DATA / 'sample-criteria.yaml'})" in res.stderr
    assert "awards, innovation" not in res.stderr
    speak(monkeypatch, VIETNAMESE)
    vi = cchc("validate", "--criteria", DATA / "sample-criteria.yaml", f)
    assert f"{f}:6:3: chỉ số không có trong bộ tiêu chí sample-2023: 'online_rat' (có phải là 'online_rate'" \
           in vi.stderr


def test_unknown_key_is_reported_at_the_key_with_did_you_mean(cchc, monkeypatch, tmp_path):
    f = _evidence(tmp_path, "  late_reports: {value: 1}\n")
    f.write_text(f.read_text("utf-8") + "not_aplicable:\n  1.1.1: không có\n", "utf-8")
    speak(monkeypatch, ENGLISH)
    res = cchc("validate", "--criteria", DATA / "sample-criteria.yaml", f)
    assert res.exit_code == 2
    assert f"{f}:7:1: unknown key 'not_aplicable'" in res.stderr and "did you mean 'not_applicable'" in res.stderr


def test_yaml_syntax_error_in_plain_vietnamese_with_a_caret(cchc, monkeypatch, tmp_path):
    f = _evidence(tmp_path, "  late_reports: {value: 1}\n  awards: value: 2\n")
    speak(monkeypatch, VIETNAMESE)
    res = cchc("validate", "--criteria", DATA / "sample-criteria.yaml", f)
    assert res.exit_code == 2
    lines = res.stderr.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith(f"{f}:"))
    m = re.match(rf"{re.escape(str(f))}:7:(\d+): lỗi cú pháp YAML: dấu ':' đặt sai chỗ", lines[head])
    assert m, res.stderr
    assert lines[head + 1] == "      awards: value: 2"
    caret = lines[head + 2]
    assert caret.strip() == "^" and caret.index("^") - 4 == int(m.group(1)) - 1  # under the column reported
    assert "mapping values are not allowed" not in res.stderr


# ---------------------------------------------------------------- a whole kind of input missing

def test_round_requires_survey_data_or_no_survey(cchc, monkeypatch, tmp_path):
    speak(monkeypatch, VIETNAMESE)
    base = ["round", ROUND / "criteria.yaml", "--evidence", ROUND / "evidence", "-j", 1]
    without = cchc(*base, "--out", tmp_path / "a")
    assert without.exit_code == 2 and not (tmp_path / "a").exists()
    assert "bộ tiêu chí round-2023 có 2 tiêu chí khảo sát (3.1.1, 3.1.2)" in without.stderr
    assert "--no-survey" in without.stderr
    both = cchc(*base, "--survey", ROUND / "survey", "--no-survey", "--out", tmp_path / "b")
    assert both.exit_code == 2 and "--survey hoặc --no-survey" in both.stderr
    told = cchc(*base, "--no-survey", "--out", tmp_path / "c")
    assert told.exit_code == 0, told.stderr
    assert "không có số liệu khảo sát (--no-survey): 2 tiêu chí khảo sát 3.1.1, 3.1.2 được chấm là thiếu tài liệu " \
           "kiểm chứng" in told.stdout
    assert "không có kết quả thẩm định (--appraisal)" in told.stdout
    assert "không có kết quả năm trước (--previous hoặc --archive)" in told.stdout
    unit = json.loads(next((tmp_path / "c" / "units").glob("*.json")).read_text("utf-8"))
    survey_items = [i for i in unit["items"] if i["code"] in ("3.1.1", "3.1.2")]
    assert survey_items and all(i["status"] == "missing_evidence" for i in survey_items)


# ---------------------------------------------------------------- no English left for a Vietnamese reader

# Words of English sentences; none is a Vietnamese word. Names, quoted values, paths and options
# are removed before looking (`_english`), since a metric id or a file name is not a sentence; two
# such words in a row are taken for English.
ENGLISH_WORDS = {"the", "is", "are", "not", "must", "cannot", "expected", "got", "missing", "write", "found",
                 "only", "with", "should", "invalid", "error", "which", "would", "does", "empty", "unknown",
                 "given", "twice", "refused", "damaged", "folder", "usage", "option", "argument", "number", "file",
                 "sheet", "column", "value", "metric", "item", "unit", "criteria", "set", "points", "appraisal",
                 "survey", "bundle", "archive", "limit", "over", "rows", "no", "of", "or", "and", "to", "in", "for",
                 "exit", "show", "this", "message", "such", "try", "help", "options", "possible", "requires"}


def _english(text: str) -> list[str]:
    shown = re.sub(r"'[^']*'|\"[^\"]*\"|`[^`]*`|“[^”]*”", " ", text)  # quoted values and names
    shown = re.sub(r"\S*[/\\]\S*|--?[\w-]+|\S*[_.]\S*|\b[A-Z_]{2,}\b|\S+@\S+", " ", shown)  # paths, options, ids
    # two English words in a row make a sentence; one alone is a name (a column `metric`, a kind `count`)
    words = r"(?:%s)" % "|".join(sorted(ENGLISH_WORDS, key=len, reverse=True))
    return re.findall(rf"(?i)\b{words}[ \t]+{words}\b", shown)


def _problems(exc: BaseException) -> list[str]:
    problems = getattr(exc, "problems", None)
    return [p.text() for p in problems] if problems else [str(exc)]


def _vietnamese_only(messages: list[str]) -> None:
    assert messages
    for m in messages:
        assert not _english(m), f"English words {_english(m)} in: {m}"


def test_the_english_detector_sees_english():
    """The check below can fail: an English message is caught, a Vietnamese one with names is not."""
    assert _english("sample.csv:2:1: unknown column 'x'; expected: a, b")
    assert not _english("tests/a.csv:2:1: cột 'x' không hợp lệ; các cột hợp lệ: unit_id, metric")


@pytest.fixture
def vietnamese(monkeypatch):
    speak(monkeypatch, VIETNAMESE)


def _raised(call) -> list[str]:
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - each area raises its own error class
        return _problems(exc)
    raise AssertionError("no error")


def test_number_typing_errors_are_vietnamese(vietnamese):
    from engine.core.numbers import parse_number

    messages = [m for text, kw in (("2.000", {"whole": True}), ("1e5", {}), ("93,5%", {}), ("1.000.000", {}),
                                    ("", {}), ("٣", {}), ("5/0", {"percent": True}), ("x", {}))
                for m in _raised(lambda: parse_number(text, **kw))]
    _vietnamese_only(messages)
    assert any("không rõ nghĩa" in m for m in messages)


def test_criteria_loader_errors_are_vietnamese(vietnamese, tmp_path):
    from engine.inputs.criteria import load_criteria

    text = (DATA / "sample-criteria.yaml").read_text("utf-8")
    broken = tmp_path / "broken.yaml"
    broken.write_text(text.replace("year: 2023", "year: 2023\nyaer: 2023", 1).replace("kind: category", "kind: cat", 1),
                      "utf-8")
    sums = tmp_path / "sums.yaml"
    sums.write_text(text.replace("\nmax: 20", "\nmax: 21", 1), "utf-8")
    messages = _raised(lambda: load_criteria(broken)) + _raised(lambda: load_criteria(sums)) + \
        _raised(lambda: load_criteria(tmp_path / "none.yaml"))
    _vietnamese_only(messages)
    assert any("khóa 'yaer' không hợp lệ" in m or "'yaer'" in m for m in messages)


def test_table_and_excel_errors_are_vietnamese(vietnamese, tmp_path):
    import openpyxl

    from engine.inputs.criteria import load_criteria
    from engine.inputs.evidence import load_evidence

    criteria = load_criteria(DATA / "sample-criteria.yaml")
    table = tmp_path / "ev.csv"
    table.write_text("unit_id,unit_name,unit_type,period,metric,value,colour\nso-a,Sở A,department,2023,"
                     "late_reports,\"1.000\",x\n", "utf-8")
    wrong_sheet = tmp_path / "wrongsheet.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Hướng dẫn"
    wb.save(wrong_sheet)
    formula = tmp_path / "formula.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "evidence"
    ws.append(["unit_id", "unit_name", "unit_type", "period", "metric", "value"])
    ws.append(["so-a", "Sở A", "department", "2023", "late_reports", "=1+1"])
    wb.save(formula)
    messages = [m for f in (table, wrong_sheet, formula) for m in _raised(lambda: load_evidence([f], criteria))]
    _vietnamese_only(messages)
    assert any("trang tính" in m for m in messages) and any("công thức" in m for m in messages)


def test_evidence_value_errors_are_vietnamese(vietnamese, tmp_path):
    from engine.inputs.criteria import load_criteria
    from engine.inputs.evidence import load_evidence

    criteria = load_criteria(DATA / "sample-criteria.yaml")
    f = _evidence(tmp_path, "  late_reports: {value: -1}\n  online_rate: {numerator: 5, denominator: 3}\n"
                            "  report_status: {value: sớm}\n")
    _vietnamese_only(_raised(lambda: load_evidence([f], criteria)))


def test_appraisal_and_survey_errors_are_vietnamese(vietnamese, tmp_path):
    from engine.evaluation.appraisal import check_appraisal, load_appraisal
    from engine.inputs.criteria import load_criteria
    from engine.inputs.evidence import load_evidence
    from engine.inputs.survey_data import load_survey

    criteria = load_criteria(ROUND / "criteria.yaml")
    records = load_evidence([ROUND / "evidence"], criteria).records
    appraisal = tmp_path / "appraisal.csv"
    appraisal.write_text("unit_id,round,item,accept,points,reason,appraiser\n"
                         "xa-an-binh,0,1.1.1,,0,,Tổ\n"          # round 0
                         "xa-an-binh,1,1.1.1,có,1,,Tổ\n"        # accept and points
                         "xa-khong-co,1,1.1.1,có,,,Tổ\n"        # unknown unit
                         "xa-an-binh,1,9.9.9,có,,,Tổ\n", "utf-8")  # unknown item
    loaded, problems = load_appraisal([appraisal], criteria)
    messages = [p.text() for p in problems + check_appraisal(loaded, criteria, records)]
    survey = tmp_path / "survey.csv"
    survey.write_text("unit_id,metric,option,value\nxa-khong-co,satisfaction,A,1\nxa-an-binh,zzz,,1\n"
                      "xa-an-binh,satisfaction,Z,1\n", "utf-8")
    messages += [p.text() for p in load_survey([survey], criteria, records)[1]]
    assert len(messages) >= 6, messages
    _vietnamese_only(messages)


def test_bundle_archive_outdir_and_limit_errors_are_vietnamese(vietnamese, monkeypatch, tmp_path):
    from engine.audit.archive import Archive
    from engine.storage.bundle import read_bundle
    from engine.core.limits import limit
    from engine.storage.outdir import check_names, write_outputs

    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("x", "utf-8")
    messages = _raised(lambda: read_bundle(b"not a bundle" * 100)) + \
        _raised(lambda: read_bundle(bytes(1024))) + \
        _raised(lambda: Archive(tmp_path / "none.sqlite", create=False)) + \
        _raised(lambda: write_outputs(busy, {"a.json": b"{}"}, command="score")) + \
        _raised(lambda: check_names({"CON": "a.yaml", "so-a": "b.yaml", "So-A": "c.yaml"}))
    monkeypatch.setenv("CCHC_MAX_ROWS", "nhiều")
    messages += _raised(lambda: limit("rows"))
    monkeypatch.setenv("CCHC_MAX_ROWS", "1")
    table = tmp_path / "big.csv"
    table.write_text("unit_id,metric\n" + "a,b\n" * 5, "utf-8")
    from engine.inputs.criteria import load_criteria
    from engine.inputs.evidence import load_evidence
    messages += _raised(lambda: load_evidence([table], load_criteria(DATA / "sample-criteria.yaml")))
    _vietnamese_only(messages)
    assert any("CCHC_MAX_ROWS" in m and "vượt giới hạn" in m for m in messages), messages


def test_round_warnings_are_shown_in_vietnamese_and_kept_in_english(monkeypatch):
    from engine.core.errors import Problem
    from engine.core.i18n import both

    speak(monkeypatch, VIETNAMESE)
    message, translated = both("unit type {type!r} is in no group of criteria set {id}: its {n} unit(s) are "
                               "reported as ungrouped, without rank or class", type="x", id="s", n=2)
    warning = Problem("c.yaml", message=message, severity="warning", translated=translated)
    assert str(warning).startswith("c.yaml: warning: unit type 'x' is in no group")  # what round.json keeps
    _vietnamese_only([warning.text()])


# ---------------------------------------------------------------- the command-line library's own texts

@pytest.mark.parametrize("args", [["score"], ["score", "--bogus"], ["midyear", "--elapsed"], ["--help"],
                                  ["score", "--help"]])
def test_usage_help_and_usage_errors_in_vietnamese_and_english(args):
    vi = run(*args, env=VIETNAMESE)
    en = run(*args, env=ENGLISH)
    shown_vi, shown_en = vi.stdout + vi.stderr, en.stdout + en.stderr
    assert vi.returncode == en.returncode and vi.returncode in (0, 2), shown_vi
    assert ("Usage:" in shown_en) == ("Cách dùng:" in shown_vi) and "Usage:" not in shown_vi
    for english in ("Missing argument", "No such option", "requires an argument", "Show this message and exit",
                    "Try '", "Possible options", "Options", "Error"):
        assert english not in shown_vi, (english, shown_vi)
    if args == ["score"]:
        assert "Thiếu tham số 'criteria'." in shown_vi and "Missing argument 'criteria'." in shown_en
    if args == ["--help"]:
        assert "Hiện hướng dẫn này rồi thoát." in shown_vi and "Show this message and exit." in shown_en


def test_library_text_translates_only_what_it_knows(monkeypatch):
    speak(monkeypatch, VIETNAMESE)
    assert library_text("Missing option '--criteria' / '-c'.") == "Thiếu tùy chọn '--criteria' / '-c'."
    assert library_text("No such option: --x (Possible options: --out, --rows)") == \
        "Không có tùy chọn: --x (Các tùy chọn có thể dùng: --out, --rows)"
    assert library_text("something else entirely") == "something else entirely"
    speak(monkeypatch, ENGLISH)
    assert library_text("Missing option '--criteria' / '-c'.") == "Missing option '--criteria' / '-c'."


# ---------------------------------------------------------------- the catalogue itself

def test_catalogue_has_no_empty_or_fuzzy_translation():
    from babel.messages.pofile import read_po

    with (i18n.LOCALE_DIR / "vi" / "LC_MESSAGES" / "cchc.po").open("rb") as f:
        catalogue = read_po(f)
    entries = [m for m in catalogue if m.id]
    assert len(entries) > 500
    empty = [m.id for m in entries if not all(s for s in (m.string if isinstance(m.string, tuple) else (m.string,)))]
    fuzzy = [m.id for m in entries if m.fuzzy]
    assert not empty and not fuzzy, (empty, fuzzy)
    # what `pybabel compile` (make install) checks: it fails on any of these
    assert [(m.id, [str(e) for e in errors]) for m, errors in catalogue.check()] == []
