"""A YAML document written in plain lines (`key: value`, blocks of them, mappings in braces) is read
line by line, without libyaml's events: the same data at the same places, and the same refusals, as
the walk over the events gives; anything else is left to that walk."""
from __future__ import annotations

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from engine.inputs import yamlio

from test_fast_paths import _loaded_by, _same_outcome, _same_yaml

pytestmark = pytest.mark.skipif(not hasattr(yamlio, "CSafeLineLoader"), reason="PyYAML without libyaml")

indent = st.sampled_from(["", "", "  ", "  ", "    ", " ", "   "])
# what the line reader takes, and what it must leave to the walk (or read as the walk does)
good_key = st.sampled_from(["a", "b", "k1", "x-y", "x.y", "_", "1.1", "01", "7", "true", "null", "2023-01-02"])
odd_key = st.sampled_from(["a b", "é", "-a", '"q"', "a" * 1001])
good_value = st.sampled_from([
    "x", "x y", "x  y", "1", "-1", "-0", "1.50", "017", "0x1F", "true", "yes", "~", "null", "2023-02-06",
    "-x", "-.5", "é", "e\u0301", "0/BC-UBND", "x'y", 'x"y', "x|y", "x?", "1234567890123456789012345678901",
    '"x"', '""', '"é"', '"e\u0301"', '"a # b"', '"1.5"', '"2023"', "'q'", "''", "'true'", '" x "', "'é'",
    "{a: b}", '{a: b, c: "d"}', "{ a : b }", '{id: u-1, name: "Huyện 0", type: district}', "{a: '', b: \"\"}",
    "{a: x y ,b: -1}", "{1: a, true: b, 2023-01-01: c}", ""])
odd_value = st.sampled_from([
    "2023-02-30", "2023-02-06 10:30:00", "-", "a#b", "a #b", "a: b", "a:b", "?x", "%x", "@x", "`x", "x,y", "[x]",
    "x}", "x\u00a0y", "\u00a0x", "x\u3000", '"a\\"b"', '"x" y', "'it''s'", "{a: 1, a: 2}", "{}", "{a: b,}",
    "{a: {b: c}}", "{a:b}", "{a: b} x", "{a: b, c}", "{a: -}", "|", ">", "[b]", "*x", "x" * 40])
good_after = st.sampled_from(["", "", " ", "  "])
odd_after = st.sampled_from([" # c", "\t", "#c", " x"])
odd_separator = st.sampled_from([":", ":  ", " : ", ":\t", "::"])
# an entry as the line reader takes it, or (now and then) one it must leave to the walk
odd_line = st.builds(lambda i, k, sep, v, a: f"{i}{k}{sep}{v}{a}", indent, good_key | odd_key,
                     st.just(": ") | odd_separator, good_value | odd_value, good_after | odd_after)
other_line = st.sampled_from(["", "  ", "# c", "  # c", "---", "...", "- a", "\t", "a:\r", "\u2028", "\ufeffa: b",
                              "%YAML 1.1", "x", "? a", "  - b", "\x85", "a: &x b", "a: !!str b"])
# a mapping: (key, value or a block of its own, what follows on the line) for each entry
block = st.deferred(lambda: st.lists(st.tuples(good_key, good_value | good_value | block, good_after),
                                     min_size=1, max_size=4, unique_by=lambda entry: entry[0]))


def written(entries, indent: str, step: str) -> list[str]:
    lines = []
    for k, v, tail in entries:
        if isinstance(v, list):
            lines += [f"{indent}{k}:{tail}", *written(v, indent + step, step)]
        else:
            lines.append(f"{indent}{k}: {v}{tail}")
    return lines


def changed(lines: list[str], changes: list[tuple[int, bool, str]]) -> str:
    """`lines` with a line put in, or in place of one, at each place (counted round)."""
    for at, instead, line in changes:
        at %= len(lines) + 1
        lines[at:at + instead] = [line]
    return "\n".join(lines)


plain_text = st.builds(lambda entries, first, step, changes, end: changed(written(entries, first, step), changes) + end,
                       block, st.sampled_from(["", "", "  "]), st.sampled_from(["  ", "  ", "    ", " ", "\t"]),
                       st.lists(st.tuples(st.integers(0, 40), st.booleans(), odd_line | other_line), max_size=2),
                       st.sampled_from(["\n", "", "\n\n", "\n# end\n"]))
LIMITS = st.sampled_from([None, None, ("CCHC_MAX_YAML_DEPTH", "2"), ("CCHC_MAX_YAML_DEPTH", "3"),
                          ("CCHC_MAX_YAML_NODES", "5"), ("CCHC_MAX_STRING_CHARS", "3")])


class Walked(yamlio.CSafeLineLoader):
    """The C loader without the line reader: every tree is built by the walk over libyaml's events."""

    def _plain_lines(self):
        return yamlio._NOT_PLAIN_LINES


# (400 examples: each example of tests/test_cpu_yaml_lines.py compares one to three more texts drawn
# from the same `plain_text` and `LIMITS`, and their lines moved, the same way)
@settings(max_examples=400, deadline=None)
@given(plain_text, LIMITS)
@example("a: 1\nb:\n  c: {d: \"x y\", e: 2023-01-02}\n  f: 'q'\ng: -1\n", None).via("each kind of value")
@example("  a: 1\n  b: 2\n", None).via("a document indented as a whole")
@example("a:\n\n  # c\n  b: 1\nc:\n    d: 1\n  e: 2\n", None).via("a block under a comment; a line between two indents")
@example("a:\n  b:\n    c: 1\n", ("CCHC_MAX_YAML_DEPTH", "3")).via("one level over the limit")
@example("a: {b: c, d: e}\n", ("CCHC_MAX_YAML_NODES", "5")).via("a mapping in braces over the node limit")
@example("a:\nb: 1\n", None).via("a key with no value (null)")
@example("a: x # c\nb: x#c\nc: 'q' # c\nd: {e: f} # c\n", None).via("a comment after a value; a # inside one")
def test_plain_lines_load_and_refuse_as_the_walk_over_events(text, limit):
    _same_outcome(*_loaded_by(text, limit, Walked, yamlio.CSafeLineLoader))


@settings(max_examples=300, deadline=None)
@given(plain_text)
def test_what_the_line_reader_builds_is_what_the_python_loader_builds(text):
    """Straight against the pure-Python loader: whatever the line reader takes, it reads as that
    loader reads it (so the walk is not the only reference)."""
    quick = yamlio.CSafeLineLoader(text)._plain_lines()
    if quick is not yamlio._NOT_PLAIN_LINES:
        _same_yaml(yaml.load(text, Loader=yamlio.SafeLineLoader), quick)  # noqa: S506 - a safe loader


def test_evidence_as_written_is_read_by_the_line_reader():
    """The line reader is the path a unit's evidence file shaped as the benchmark writes it takes,
    with the data the walk gives."""
    text = ("format: cchc-evidence/1\ncriteria: tien-giang-2023-districts\n"
            'unit: {id: huyen-000001, name: "Huyện 1", type: district}\nperiod: "2023"\nmetrics:\n'
            "  plan_issued:\n    value: 2023-02-06\n    citation: {document: \"0/BC-UBND\"}\n"
            "  plan_tasks:\n    tasks_file: tasks/huyen-000001.csv\n    citation: {document: \"0/BC-UBND\"}\n"
            "  late_reports:\n    value: 0\n    citation: {document: \"0/BC-UBND\", date: 2023-03-01}\n"
            "  communes_plan_rate:\n    value: 81.09\n    citation: {document: \"0/BC-UBND\"}\n")
    quick = yamlio.CSafeLineLoader(text)._plain_lines()
    assert quick is not yamlio._NOT_PLAIN_LINES
    loader = Walked(text)
    try:
        _same_yaml(loader.get_single_data(), quick)
    finally:
        loader.dispose()
