"""The quick ways of reading evidence give exactly what the general ways give: table cells located
without the frozen dataclass's set-up, a citation written alike taken again as it was made, the
items whose method checks a value found once per criteria set."""
from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from engine import methods
from engine.core.errors import InputError, Location
from engine.inputs import evidence
from engine.inputs.criteria import load_criteria
from engine.inputs.evidence import RawUnit
from engine.inputs.tables import ProblemSink, located

SETTINGS = settings(max_examples=300, deadline=None)
ROOT = Path(__file__).resolve().parents[1]


@SETTINGS
@given(st.text(max_size=8), st.integers(0, 10 ** 7), st.integers(0, 300))
def test_a_location_made_quickly_is_the_location_made(file, line, col):
    quick, made = located(file, line, col), Location(file, line, col)
    assert quick == made and hash(quick) == hash(made) and repr(quick) == repr(made) and str(quick) == str(made)
    assert vars(quick) == vars(made) and list(vars(quick)) == list(vars(made))  # the same fields, in their order
    assert pickle.dumps(quick) == pickle.dumps(made) and pickle.loads(pickle.dumps(quick)) == made
    assert not (quick < made) and not (quick > made)


written = st.fixed_dictionaries({"document": st.sampled_from(["1/QĐ", "2/BC", ""])}, optional={
    "issuer": st.sampled_from(["UBND", "", "UBND "]), "date": st.sampled_from(["2023-05-02", "2/5/2023", "31/2/2023", ""]),
    "file": st.sampled_from(["", "a.csv", "../x.csv"])})


@SETTINGS
@given(st.lists(st.tuples(written, st.integers(0, 3)), max_size=12))
@example([({"document": "1/QĐ", "date": "31/2/2023"}, 0), ({"document": "1/QĐ", "date": "31/2/2023"}, 1)])
def test_a_citation_written_alike_is_what_checking_it_gives(tmp_path_factory, items):
    """Citations, some the very same mapping given again (as a table's rows share them): each gives
    the citation and the problems that checking it afresh gives, whatever came before."""
    folder = tmp_path_factory.mktemp("ev")
    (folder / "a.csv").write_text("task\n")
    unit = RawUnit("u1", "U", "district", "2023", Location("e.csv", 2, 1), "e.csv", folder)
    shared: dict[int, dict] = {}
    for raw, again in items:
        raw = shared.setdefault(again, raw) if again else raw
        where = Location("e.csv", len(shared) + 2, 10)
        quick, general = ProblemSink(), ProblemSink()
        assert evidence._citation(raw, unit, where, quick) == evidence._written_citation(raw, unit, where, general)
        assert quick.problems == general.problems


def test_the_items_whose_method_checks_a_value_are_every_item_whose_method_can_object():
    """Every item but those whose method keeps the general `check_value` (which finds nothing)."""
    criteria = load_criteria(ROOT / "criteria" / "tien-giang-2023-districts.yaml")
    checking = evidence._checking(criteria)
    assert evidence._checking(criteria) is checking
    skipped = [s for s in criteria.sub_criteria() if s not in [c for c, _check in checking.checked]]
    assert checking.checked and skipped
    assert all(type(methods.get(s.method)).check_value is methods.ScoringMethod.check_value for s in skipped)
    assert [c for c, _check in checking.checked] == [s for s in criteria.sub_criteria() if s not in skipped]
    assert checking.subs == {s.code: s for s in criteria.sub_criteria()}
    other = load_criteria(ROOT / "criteria" / "tien-giang-2023-districts.yaml")
    assert evidence._checking(other) is not checking and evidence._checking(other).criteria is other


def test_a_file_reference_resolves_under_its_own_folder_whatever_was_resolved_before(tmp_path):
    """Evidence folders resolved once by name: each reference still resolves under its own folder
    (a folder reached through a link: under the folder linked to), as every check resolves it."""
    for name in ("a", "b", "c"):
        (tmp_path / name / "tasks").mkdir(parents=True)
        (tmp_path / name / "tasks" / "t.csv").write_text("task\n")
    (tmp_path / "to-b").symlink_to(tmp_path / "b")
    where = Location("e.csv", 2, 7)
    for folder in ["a", "b", "to-b", "c", "a", "to-b"]:
        quick = evidence._inside(tmp_path / folder, "tasks/t.csv", where, ProblemSink())
        assert quick == evidence.checked_inside(tmp_path / folder, "tasks/t.csv", where, ProblemSink())
        assert str(quick) == str((tmp_path / folder).resolve() / "tasks" / "t.csv")
    for folder in ["a", "b"]:  # named from the working folder, which changes
        with pytest.MonkeyPatch.context() as patch:
            patch.chdir(tmp_path / folder)
            quick = evidence._inside(Path("tasks"), "t.csv", where, ProblemSink())
            assert str(quick) == str(tmp_path.resolve() / folder / "tasks" / "t.csv")


task_header = st.lists(st.sampled_from(["task", "lead", "deadline", "partners", "product", "completed", "Task", " lead",
                                        "complete", "", "note"]), min_size=1, max_size=5)
task_cell = st.text(st.sampled_from("ab 7é\u0301,\"\t"), max_size=5) | st.sampled_from(["Quý 4", "2023-03-12", ""])


@settings(SETTINGS, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(task_header, st.lists(st.lists(task_cell, min_size=1, max_size=5), max_size=5), st.sampled_from(["4", "100"]),
       st.sampled_from(["2", "6"]), st.sampled_from(["", "\n"]))
@example(["task", "lead", "deadline"], [["Việc 1", " UBND ", "Quý 4"], ["", "", ""], ["x", "y", "2023-03-12"]], "100",
         "6", "\n")
@example(["task", "lead", "deadline", "lead"], [["a", "b", "c", "d"]], "100", "6", "\n")  # a column given twice
@example(["lead", "deadline", "task"], [["b", "Quý 4", "a"]], "100", "6", "")  # the task column not first
@example(["task", "lead", "deadline"], [["a", "b"]], "100", "6", "\n")  # a row short of a cell
@example(["task", "lead", "deadline"], [["a", "b", "long text"]], "4", "6", "\n")  # a cell over the text limit
@example(["task", "lead", "deadline", "product"], [["a", "b", "c", "d"]], "100", "3", "\n")  # too many columns
@example(["task", "lead", "deadline"], [], "4", "6", "")  # a header alone: no task
def test_a_plain_task_list_is_read_as_every_check_reads_it(monkeypatch, tmp_path_factory, header, rows, chars,
                                                           columns, end):
    """A task list's items and problems are the same read quickly as by every check: headers that
    are not task columns, misspelt or given twice, blank rows, rows of another width, white space,
    NFD text, quotes, text over the limit, more columns than allowed."""
    monkeypatch.setenv("CCHC_MAX_STRING_CHARS", chars)
    monkeypatch.setenv("CCHC_MAX_COLUMNS", columns)
    folder = tmp_path_factory.mktemp("ev")
    (folder / "tasks").mkdir()
    (folder / "tasks" / "t.csv").write_text("\n".join(",".join(r) for r in [header] + rows) + end, encoding="utf-8")

    def read():
        sink = ProblemSink()
        try:
            return evidence._read_task_file(folder, "tasks/t.csv", Location("e.csv", 3, 7), sink), sink.problems
        except InputError as exc:
            return "refused", exc.problems

    quick = read()
    taken = evidence._plain_task_list(folder / "tasks" / "t.csv", "t") is not None
    with monkeypatch.context() as patch:
        patch.setattr(evidence, "_plain_task_list", lambda path, name: None)
        assert quick == read()
    if taken:  # a list of tasks (none, for a header alone), without a problem
        assert isinstance(quick[0], list) and not quick[1]
    if set(header) == {"task", "lead", "deadline"} and len(header) == 3 and all(
            len(r) == 3 and all(c == c.strip() and c.isascii() and c.isalnum() for c in r) for r in rows) \
            and columns == "6" and chars == "100":
        assert taken  # the quick way is taken whenever it can be
