"""The quick ways of reading and typing cells give exactly what the general ways give: NFC skipped
for ASCII text, dates read without strptime, decimals made exact without a Decimal, exact text
without a search for the decimal places, limits read once per file."""
from __future__ import annotations

import functools
import unicodedata
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from engine.core import limits
from engine.core.numbers import NumberError, TypedNumber, _from_decimal, decimal_fraction, exact_text, parse_number, read_number
from engine.inputs import tables
from engine.inputs.tables import ProblemSink, as_date, nfc, rows_from_csv, strptime_date

SETTINGS = settings(max_examples=400, deadline=None)


def outcome(read, text):
    """What reading gives: the value, or the kind and message of the refusal."""
    try:
        return read(text)
    except (ValueError, ArithmeticError) as exc:
        return type(exc), str(exc)


# Texts near what people write: ASCII letters and digits with a few accents and odd spaces.
cell_text = st.text(st.sampled_from("aAzZ09 -/.,\t\u00a0e\u0301éEÉ\u1ec7\u0065\u0323\u0302ſﬁ"), max_size=12) | st.text(max_size=8)


@SETTINGS
@given(cell_text)
def test_nfc_skipping_ascii_is_always_nfc(text):
    assert nfc(text) == unicodedata.normalize("NFC", text).strip()


DATE_PIECES = ["2023", "0000", "1999", "9999", "02", "2", "12", "13", "0", "00", "29", "30", "31", "32", "-", "/",
               " ", "١", "٢٠٢٣", "Quý ", "I", "x", "\u00a0"]
date_text = st.lists(st.sampled_from(DATE_PIECES), max_size=6).map("".join) | st.text("0123456789-/ ", max_size=11)


@SETTINGS
@given(date_text)
def test_the_date_reader_decides_as_strptime_does(text):
    """The same date, or a refusal either way (a refused date's words are the caller's own, so only
    the refusal is compared: `date(0, 0, 0)` and strptime say it differently)."""
    def read(reader, t):
        try:
            return reader(t)
        except ValueError:
            return ValueError

    assert read(as_date, text) == read(strptime_date, text.strip())


@SETTINGS
@given(st.dates(date(1000, 1, 1), date(9999, 12, 31)), st.booleans(), st.booleans())
def test_every_valid_date_is_read_as_strptime_reads_it(day, iso, padded):
    m, d = (f"{day.month:02d}", f"{day.day:02d}") if padded else (str(day.month), str(day.day))
    text = f"{day.year}-{m}-{d}" if iso else f"{d}/{m}/{day.year}"
    assert as_date(text) == strptime_date(text) == day


digits = st.text("0123456789", min_size=1, max_size=110)


@SETTINGS
@given(st.sampled_from(["", "+", "-"]), digits, st.text("0123456789", max_size=110))
def test_a_decimal_is_made_exact_as_through_a_decimal(sign, whole, frac):
    slow = outcome(lambda t: _from_decimal(Decimal(t)), sign + whole + ("." + frac if frac else ""))
    assert outcome(lambda _t: decimal_fraction(sign, whole, frac), None) == slow


def exact_text_by_search(value: Fraction) -> str:
    """Exact text as it was first written: a search for the number of decimal places."""
    den = value.denominator
    for p in (2, 5):
        while den % p == 0:
            den //= p
    if den != 1:
        return f"{value.numerator}/{value.denominator}"
    places = 0
    while 10 ** places % value.denominator:
        places += 1
    digits_ = str(abs(value.numerator) * (10 ** places // value.denominator)).rjust(places + 1, "0")
    whole, frac = digits_[:len(digits_) - places], digits_[len(digits_) - places:].rstrip("0")
    return ("-" if value < 0 else "") + whole + ("." + frac if frac else "")


@SETTINGS
@given(st.fractions() | st.builds(lambda n, a, b: Fraction(n, 2 ** a * 5 ** b), st.integers(),
                                  st.integers(0, 60), st.integers(0, 60)))
def test_exact_text_is_what_the_search_gave(value):
    assert exact_text(value) == exact_text_by_search(value)


def test_a_table_reads_its_text_limit_once_and_only_when_it_has_rows(tmp_path, monkeypatch):
    calls = []
    read = limits.limit
    monkeypatch.setattr(tables, "limit", lambda name: calls.append(name) or read(name))
    many = tmp_path / "many.csv"
    many.write_text("a,b\n" + "x,y\n" * 50, encoding="utf-8")
    header, rows = rows_from_csv(many, "many.csv", ProblemSink())
    assert len(rows) == 50 and calls.count("string_chars") == 1

    monkeypatch.setenv("CCHC_MAX_STRING_CHARS", "lots")
    only_header = tmp_path / "header.csv"
    only_header.write_text("a,b\n", encoding="utf-8")
    assert rows_from_csv(only_header, "header.csv", ProblemSink()) == (["a", "b"], [])  # never asked for
    with pytest.raises(limits.InputError) as refused:
        rows_from_csv(many, "many.csv", ProblemSink())
    assert "CCHC_MAX_STRING_CHARS" in str(refused.value.problems[0])


def test_a_cell_over_the_text_limit_is_still_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("CCHC_MAX_STRING_CHARS", "5")
    f = tmp_path / "t.csv"
    f.write_text("a,b\nabcdef,x\nabc,x\n", encoding="utf-8")
    sink = ProblemSink()
    header, rows = rows_from_csv(f, "t.csv", sink)
    assert [r for r, _cells in rows] == [3]
    assert len(sink.problems) == 1 and "CCHC_MAX_STRING_CHARS" in sink.problems[0].message


# ---------------------------------------------------------------- numbers, rows, schemas, sums

number_text = (st.lists(st.sampled_from(["0", "7", "12", "007", "93", "54", "000", "1234567890", ".", ",", " ", "%",
                                         "-", "+", "/", "e", "\u00a0", "٣", "_", "x"]), max_size=6).map("".join)
               | st.text("0123456789.,", max_size=60) | st.text(max_size=8)
               | st.tuples(st.text("0123456789", min_size=1, max_size=4), st.sampled_from(".,"),
                           st.text("0123456789", min_size=1, max_size=4)).map("".join))


@SETTINGS
@given(number_text, st.booleans(), st.booleans(), st.booleans())
def test_the_quick_number_reader_reads_as_the_whole_grammar(text, percent, whole, typed):
    text = TypedNumber(text) if typed else text
    assert outcome(lambda t: parse_number(t, percent=percent, whole=whole), text) == \
        outcome(lambda t: read_number(t, percent=percent, whole=whole), text)


row_cell = st.text(st.sampled_from("ab9 ,\t\u00a0e\u0301é\u1ec7\u0323\u0302\n\"ſ"), max_size=7)


@SETTINGS
@given(st.lists(row_cell, min_size=1, max_size=5), st.integers(1, 8), st.booleans())
def test_a_plain_csv_row_is_read_as_cell_by_cell(row, most, unnamed):
    """Where the quick test finds a row plain, `_cells` takes every cell as it stands, stripped."""
    header = ["a", "b", "c", "d", "e"][:len(row)]
    if unnamed:
        header[-1] = ""
    joined = "\n".join(row)
    if "" not in header and tables._plain_row(joined, row, most):
        sink = ProblemSink()
        assert tables._cells(header, row, lambda col: col, sink, lambda: most) == \
            dict(zip(header, [c.strip() for c in row]))
        assert not sink.problems


@SETTINGS
@given(st.lists(row_cell, max_size=5))
def test_a_csv_file_reads_as_cell_by_cell(rows):
    """rows_from_csv (with its quick path) gives the cells and problems `_cells` gives row by row."""
    import csv
    import io
    import tempfile
    from pathlib import Path

    buf = io.StringIO()
    csv.writer(buf).writerows([["a", "b"]] + [[c, c[::-1]] for c in rows])
    with tempfile.TemporaryDirectory() as folder:
        f = Path(folder) / "t.csv"
        f.write_bytes(buf.getvalue().encode("utf-8"))
        sink = ProblemSink()
        header, got = rows_from_csv(f, "t.csv", sink)
    expected = []
    for i, c in enumerate(rows, start=2):
        if (c + c[::-1]).strip():
            expected.append((i, tables._cells(["a", "b"], [c, c[::-1]], lambda col: col, ProblemSink(),
                                              lambda: 10 ** 6)))
    assert header == ["a", "b"] and got == expected and not sink.problems


yaml_scalar = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from([Decimal("1.5"), Decimal("2.0")]),
                        st.sampled_from(["", "x", "cchc-evidence/1", "0/BC-UBND", "district"]),
                        st.dates(date(2023, 1, 1), date(2023, 1, 3)))
CITATION_KEYS = ["document", "date", "issuer", "file", "page"]
METRIC_KEYS = ["value", "numerator", "denominator", "responses", "tasks", "tasks_file", "citation", "reason", "x"]


def _mapping(keys, values):
    return st.dictionaries(st.sampled_from(keys), values, max_size=4)


yaml_value = st.recursive(yaml_scalar, lambda inner: st.lists(inner, max_size=3)
                          | _mapping(["task", "lead", "deadline", "partners", "A", "document", "id"], inner), max_leaves=8)
citation_doc = _mapping(CITATION_KEYS, yaml_value) | yaml_scalar
metric_doc = st.fixed_dictionaries({}, optional={
    "value": yaml_value, "numerator": yaml_value, "denominator": yaml_value,
    "responses": _mapping(["A", "B"], yaml_value) | yaml_scalar,
    "tasks": st.lists(_mapping(["task", "lead", "deadline", "partners", "product", "other"], yaml_value), max_size=2),
    "tasks_file": yaml_value, "citation": citation_doc, "reason": yaml_value, "x": yaml_value}) | yaml_scalar
evidence_doc = st.fixed_dictionaries({}, optional={
    "format": st.sampled_from(["cchc-evidence/1", "cchc-evidence/2"]) | yaml_scalar,
    "criteria": yaml_scalar,
    "unit": _mapping(["id", "name", "type", "other"], yaml_scalar) | yaml_scalar,
    "period": yaml_scalar,
    "metrics": st.dictionaries(st.sampled_from(["m1", "m2", "m3"]), metric_doc, max_size=3) | yaml_scalar,
    "not_applicable": _mapping(["1.1", "1.2"], yaml_scalar) | yaml_scalar,
    "extra": yaml_scalar})


# 750 examples each for this test and the next (1,500 each before): the same compiled checks of the same
# plain schemas are compared with jsonschema again in tests/test_results_quick_schema.py, on documents
# near the real ones, on any value against every definition, and keyword by keyword.
@settings(max_examples=750, deadline=None)
@given(evidence_doc)
def test_the_quick_schema_check_holds_exactly_when_jsonschema_finds_nothing(doc):
    from engine.inputs import schema

    full = schema.load_schema("evidence.schema.json")
    assert schema._plain_schema("evidence.schema.json")
    assert schema._quick_check("evidence.schema.json", "")(doc) == (not list(schema._Validator(full).iter_errors(doc)))


def _near(schema, defs):
    """Documents shaped by a plain schema, most of them valid, the others wrong in a place or two
    (a value of another kind, a required key left out, a key the schema does not know)."""
    return _mostly(_shaped(schema, defs), st.one_of(yaml_scalar, yaml_value))


def _mostly(usual, other, one_in=20):
    return st.integers(1, one_in).flatmap(lambda i: other if i == 1 else usual)


def _shaped(schema, defs):
    if schema is True or not set(schema) - {"description", "title", "$schema", "$id", "$defs"}:
        return yaml_value
    if "$ref" in schema:
        return st.deferred(lambda: _near(defs[schema["$ref"].split("/")[-1]], defs))
    if "const" in schema:
        return _mostly(st.just(schema["const"]), st.just(schema["const"] + "x"))
    kinds = [schema["type"]] if isinstance(schema["type"], str) else schema["type"]
    return st.one_of(*[_of_kind(kind, schema, defs) for kind in kinds])


def _of_kind(kind, schema, defs):
    if kind == "object":
        props = schema.get("properties", {})
        required = {k: _near(props[k], defs) for k in schema.get("required", ())}
        optional = {k: _near(sub, defs) for k, sub in props.items() if k not in required}
        extra = schema.get("additionalProperties", True)
        shaped = st.fixed_dictionaries(required, optional=optional)
        if isinstance(extra, dict):
            more = _mostly(st.dictionaries(st.sampled_from(["a", "b", "1.1"]), _near(extra, defs), min_size=1,
                                           max_size=3), st.just({}))
            shaped = st.tuples(shaped, more).map(lambda both: {**both[1], **both[0]})
        wrong = st.tuples(shaped, st.sampled_from([*props, "zz"]), yaml_scalar).map(
            lambda t: {k: v for k, v in t[0].items() if k != t[1]} if t[1] in t[0] else {**t[0], t[1]: t[2]})
        return _mostly(shaped, wrong)
    if kind == "array":
        return _mostly(st.lists(_near(schema.get("items", True), defs), min_size=1, max_size=3), st.just([]))
    return {"string": _mostly(st.sampled_from(["x", "0/BC-UBND"]), st.just("")), "boolean": st.booleans(),
            "null": st.none(), "integer": _mostly(st.integers(1, 3) | st.just(Decimal("2.0")),
                                                  st.integers(-2, 0) | st.just(Decimal("1.5"))),
            "number": st.integers(-2, 3) | st.sampled_from([Decimal("2.0"), Decimal("0.5")])}[kind]


PLAIN_SCHEMAS = ["evidence.schema.json", "appraisal.schema.json", "survey.schema.json"]


@settings(max_examples=750, deadline=None)
@given(st.data())
def test_the_quick_schema_check_of_documents_shaped_by_each_plain_schema_agrees_with_jsonschema(data):
    from engine.inputs import schema

    name = data.draw(st.sampled_from(PLAIN_SCHEMAS))
    definition = data.draw(st.sampled_from(_definitions(name)))
    shaped, validator = _shaped_by(name, definition)
    doc = data.draw(shaped)
    assert schema._quick_check(name, definition)(doc) == (not list(validator.iter_errors(doc)))


@functools.cache
def _definitions(name: str) -> list[str]:
    from engine.inputs import schema

    return ["", *schema.load_schema(name).get("$defs", {})]


@functools.cache
def _shaped_by(name: str, definition: str):
    """Documents near the shape of a plain schema (or one of its definitions), and jsonschema's
    validator of it: built once each, not for every example."""
    from engine.inputs import schema

    full = schema.load_schema(name)
    target = full["$defs"][definition] if definition else full
    whole = {"$defs": full.get("$defs", {}), "$ref": f"#/$defs/{definition}"} if definition else full
    return _near(target, full.get("$defs", {})), schema._Validator(whole)


def test_a_schema_with_other_keywords_is_left_to_jsonschema():
    from engine.inputs import schema

    for other in ({"anyOf": [{"type": "string"}]}, {"properties": {"a": {"not": {}}}}, {"enum": ["a", 1]},
                  {"const": 1}, {"type": "array", "items": {"type": "integer"}, "uniqueItems": True},
                  {"$ref": "other.schema.json"}, {"oneOf": [{"type": "string"}, {"format": "date", "if": {}}]}):
        assert not schema._plain(other), other  # jsonschema alone
    assert all(schema._plain_schema(name) for name in PLAIN_SCHEMAS)


# points n/d in [0, 50] with d ≤ 12, drawn as two integers (st.fractions costs ten times more per draw)
ITEM_POINTS = st.builds(lambda d, n: Fraction(n % (50 * d + 1), d), st.integers(1, 12), st.integers(0, 600))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(ITEM_POINTS, st.sampled_from(["scored", "not_applicable", "missing_evidence"])),
                min_size=53, max_size=53))
def test_roll_ups_sum_as_fractions_do(items):
    from engine import load_criteria
    from engine.core.aggregate import roll_up
    from engine.core.model import Decision

    cs = _districts()
    decisions = [Decision("u", s.code, status, s.method, points, s.max + points)
                 for s, (points, status) in zip(cs.sub_criteria(), items)]
    crit, areas, total = roll_up(cs, decisions)
    counted = {d.code: d for d in decisions if d.status != "not_applicable"}

    def summed(subs):
        return (sum((counted[s.code].points for s in subs if s.code in counted), Fraction(0)),
                sum((counted[s.code].max for s in subs if s.code in counted), Fraction(0)))

    assert [(r.points, r.max) for r in crit] == [summed(c.sub_criteria) for a in cs.areas for c in a.criteria]
    assert [(r.points, r.max) for r in areas] == [summed([s for c in a.criteria for s in c.sub_criteria])
                                                 for a in cs.areas]
    assert (total.points, total.max) == summed(cs.sub_criteria())
    assert all(type(r.points) is Fraction and type(r.max) is Fraction for r in (*crit, *areas, total))


def _districts():
    from pathlib import Path

    from engine import load_criteria

    if not _LOADED:
        _LOADED.append(load_criteria(Path(__file__).parent.parent / "criteria" / "tien-giang-2023-districts.yaml"))
    return _LOADED[0]


_LOADED: list = []


# ---------------------------------------------------------------- YAML composed in C

yaml_piece = st.sampled_from(["a", "b", "k", "x: ", "- ", "[", "]", "{", "}", ", ", ": ", "\n", "  ", "&a ", "*a",
                              "&b ", "*b", "1.5", "017", "true", '"é"', "<<: *a", "!!int ", "'q'", "#c", "long text",
                              "2023-02-30", "[[[", "]]]", "- - - ", "{a: {b: ", "[a, b, a, b]",
                              # scalars YAML 1.1 reads otherwise, dates and times, NFC, keys of every kind
                              "0x1F", "1_000", "1:30", "yes", "off", ".inf", "-.5", "1e3", "+7", "-0", "0.50", "~",
                              "null", "False", "2023-02-06", "2023-2-6", "2023-02-06 10:30:00+07:00",
                              "1234567890123456789012345678901", "e\u0301", "'e\u0301'", "|\n  a\n", "? k\n: v",
                              "{a: 1, a: 2}", "'true'", '"1.5"', "{1: a, 1.0: b, true: c, ~: d, 2023-01-01: e}", "[1, 1.5, x]: y"])
yaml_text = st.lists(yaml_piece, max_size=30).map("".join)


@settings(max_examples=600, deadline=None)
@given(yaml_text, st.sampled_from([None, ("CCHC_MAX_YAML_DEPTH", "3"), ("CCHC_MAX_YAML_NODES", "4"),
                                   ("CCHC_MAX_STRING_CHARS", "4")]))
@example("a{a: {b: ", None).via("an empty value in braces: libyaml places it elsewhere")
@example("x: [a: , {b: }, {? : c}]\ny: {&a b: }", None).via("empty values in brackets and braces")
def test_yaml_composed_in_c_loads_and_refuses_as_the_python_composer(text, limit):
    """Data, positions, and every refusal (limits included) are the same with either composer."""
    from engine.inputs import yamlio

    if not hasattr(yamlio, "CSafeLineLoader"):
        return
    _same_outcome(*_loaded_by(text, limit, yamlio.SafeLineLoader, yamlio.CSafeLineLoader))


@settings(max_examples=600, deadline=None)
@given(yaml_text, st.sampled_from([None, ("CCHC_MAX_YAML_DEPTH", "3"), ("CCHC_MAX_YAML_NODES", "4"),
                                   ("CCHC_MAX_STRING_CHARS", "4")]))
@example("[[a]]", ("CCHC_MAX_YAML_DEPTH", "3")).via("one level under the limit")
@example("[[[a]]]", ("CCHC_MAX_YAML_DEPTH", "3")).via("one level over the limit")
@example("[a, b, c]", ("CCHC_MAX_YAML_NODES", "4")).via("as many nodes as the limit")
@example("[a, b, c, d]", ("CCHC_MAX_YAML_NODES", "4")).via("one node over the limit")
@example("{a: b, c: d}", ("CCHC_MAX_YAML_NODES", "4")).via("a key and its value over the limit")
@example("[abcd, abcde]", ("CCHC_MAX_STRING_CHARS", "4")).via("a text one character over the limit")
@example("[true, 'true', 1.5, \"1.5\", ~, '~', 2023-01-02, '2023-01-02']", None).via("plain and quoted alike")
@example("x: [a: , {b: }, {? : c}]\ny: {b: , c}", None).via("empty values in brackets and braces")
def test_a_tree_built_in_one_walk_loads_and_refuses_as_the_constructor_builds_it(text, limit):
    """The C loader's one walk over a tree (no anchor, tag or merge key) and its general path (the
    graph checked against the limits, then constructed) give the same data, positions and refusals."""
    from engine.inputs import yamlio

    if not hasattr(yamlio, "CSafeLineLoader"):
        return

    class General(yamlio.CSafeLineLoader):
        def _plain_keys(self, stream):
            super()._plain_keys(stream)
            self._tree = False

    _same_outcome(*_loaded_by(text, limit, General, yamlio.CSafeLineLoader))


def _loaded_by(text, limit, *loaders):
    """`text` read by `load_yaml` with each loader as its fast one (under a limit, if given): its
    data or the problems it reports."""
    import os
    import tempfile
    from pathlib import Path

    from engine.core.errors import InputError
    from engine.inputs import yamlio

    def load(loader):
        saved = yamlio.FastSafeLoader
        yamlio.FastSafeLoader = loader
        try:
            return "ok", yamlio.load_yaml(path)
        except InputError as exc:
            return "refused", [(p.line, p.col, p.message) for p in exc.problems]
        finally:
            yamlio.FastSafeLoader = saved

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "d.yaml"
        path.write_text(text, encoding="utf-8")
        old = os.environ.get(limit[0]) if limit else None
        if limit:
            os.environ[limit[0]] = limit[1]
        try:
            return [load(loader) for loader in loaders]
        finally:
            if limit:
                os.environ.pop(limit[0]) if old is None else os.environ.__setitem__(limit[0], old)


def _loads_alike(text, loader):
    """`text` loads (or is refused) alike with the project's loader and with `loader`."""
    import yaml

    from engine.inputs import yamlio

    def load(cls):
        try:
            return "ok", yaml.load(text, Loader=cls)  # noqa: S506 - safe loaders
        except yaml.YAMLError as exc:
            return "refused", str(exc)

    _same_outcome(load(yamlio.SafeLineLoader), load(loader))


def _same_outcome(a, b):
    """Two loads of one text: both refused with the same message, or the same data at the same places."""
    assert a[0] == b[0]
    if a[0] == "ok":
        _same_yaml(a[1], b[1])
    else:
        assert a[1] == b[1]


def _same_yaml(a, b):
    from engine.inputs.yamlio import YamlList, YamlMap

    assert type(a) is type(b)
    if isinstance(a, YamlMap):
        assert (a.pos, a.key_pos, a.value_pos, list(a)) == (b.pos, b.key_pos, b.value_pos, list(b))
        for k in a:
            _same_yaml(a[k], b[k])
    elif isinstance(a, YamlList):
        assert (a.pos, a.item_pos, len(a)) == (b.pos, b.item_pos, len(b))
        for x, y in zip(a, b):
            _same_yaml(x, y)
    else:
        assert a == b


@settings(max_examples=400, deadline=None)
@given(yaml_text)
def test_scalars_built_straight_from_their_constructor_are_what_construct_object_builds(text):
    import yaml

    from engine.inputs import yamlio

    class Generic(yamlio.SafeLineLoader):
        def _construct(self, node):
            return self.construct_object(node, deep=True)

    _loads_alike(text, Generic)


@settings(max_examples=400, deadline=None)
@given(yaml_text)
def test_tags_looked_up_once_and_merges_skipped_without_merge_keys_load_as_before(text):
    """A loader that resolves every scalar afresh and flattens every mapping loads the same."""
    import yaml

    from engine.inputs import yamlio

    class Afresh(yamlio.SafeLineLoader):
        def resolve(self, kind, value, implicit):
            return yaml.resolver.Resolver.resolve(self, kind, value, implicit)

        def _plain_keys(self, stream):
            self._flat = False

    _loads_alike(text, Afresh)


def test_a_memo_is_emptied_when_full_and_keeps_what_it_was_given(monkeypatch):
    """Run-wide memos (engine.core.memo) never grow past their bound, and what is remembered is
    what was given."""
    from engine.core import memo

    monkeypatch.setattr(memo, "ENTRIES", 3)
    kept: dict = {}
    for i in range(10):
        assert memo.remember(kept, i, str(i)) == str(i)
        assert len(kept) <= 3 and kept[i] == str(i)
    assert kept == {9: "9"}
