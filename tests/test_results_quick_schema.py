"""The quick schema check (engine/inputs/schema.py `_quick_check`) gives jsonschema's answer.

Result documents read back, criteria sets, evidence, surveys, appraisals and round files are first
checked by functions compiled from their schema; jsonschema (`_Validator`) is asked only when one
fails, to say why. Here both answer the same for documents near the real ones (a valid document
changed one field at a time), for arbitrary values against every definition of every schema, and for
small random schemas made of the keywords the quick check reads."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cli import app
from engine.inputs import schema as schemas
from engine.inputs.yamlio import load_yaml
from test_fuzz_results import value_paths

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SCHEMAS = sorted(p.name for p in resources.files("engine").joinpath("schemas").iterdir() if p.name.endswith(".json"))


def quick_answer(doc, schema_name: str, definition: str = "") -> bool:
    holds = schemas._quick_check(schema_name, definition)
    assert holds is not None, f"{schema_name} is not checked quickly"
    return holds(doc)


def jsonschema_answer(doc, schema_name: str, definition: str = "") -> bool:
    schema = schemas.load_schema(schema_name)
    if definition:
        schema = {"$defs": schema["$defs"], "$ref": f"#/$defs/{definition}"}
    return schemas._Validator(schema).is_valid(doc)


@lru_cache(maxsize=None)
def documents() -> tuple[tuple[str, str, object], ...]:
    """Valid documents of every schema: results of `score` and of the annual round (read as JSON),
    criteria sets, evidence, surveys and appraisals (read as YAML, with exact numbers and dates)."""
    import tempfile
    base = Path(tempfile.mkdtemp(prefix="quick-schema-"))
    invoke = CliRunner().invoke
    assert invoke(app, ["score", str(DATA / "sample-criteria.yaml"), str(DATA / "evidence"), "--out",
                        str(base / "score")]).exit_code == 0
    r = DATA / "round"
    out = invoke(app, ["round", str(r / "criteria.yaml"), "--evidence", str(r / "evidence"), "--survey", str(r / "survey"),
                       "--appraisal", str(r / "appraisal"), "--previous", str(r / "previous" / "round-2022.json"),
                       "--out", str(base / "round"), "-j", "1"])
    assert out.exit_code == 0, out.output
    docs = []
    for folder in (base / "score", base / "round"):
        for path in sorted((folder / "units").glob("*.json"))[:3]:
            docs.append(("result.schema.json", "unit_result", json.loads(path.read_text("utf-8"))))
    docs.append(("result.schema.json", "summary", json.loads((base / "score" / "summary.json").read_text("utf-8"))))
    docs.append(("round.schema.json", "", json.loads((base / "round" / "round.json").read_text("utf-8"))))
    yaml_docs = [("criteria.schema.json", p) for p in [*sorted((ROOT / "criteria").glob("*.yaml")), r / "criteria.yaml"]]
    yaml_docs += [("evidence.schema.json", p) for p in sorted((DATA / "evidence").glob("*.yaml"))[:3]]
    yaml_docs += [("survey.schema.json", p) for p in sorted((r / "survey").glob("*.yaml"))[:2]]
    yaml_docs += [("appraisal.schema.json", p) for p in sorted((r / "appraisal").glob("*.yaml"))[:2]]
    for name, path in yaml_docs:
        docs.append((name, "", load_yaml(path, str(path))))
    for name, definition, doc in docs:
        assert jsonschema_answer(doc, name, definition), (name, definition)
    return tuple(docs)


def _copy(node):
    """A deep copy as plain dicts and lists (YAML's positioned mappings become dicts)."""
    if isinstance(node, dict):
        return {k: _copy(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_copy(v) for v in node]
    return node


TEXT = st.text(alphabet="09af/.-_Ax \n", max_size=8)
SCALAR = (st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from([0, 1, True, False, 10 ** 40, -1])
          | st.floats(allow_nan=False) | st.decimals(allow_nan=False, places=2, min_value=-5, max_value=5)
          | st.just(date(2024, 1, 31)) | TEXT
          | st.sampled_from(["", "0", "1/3", "1/2", "0.50", "12.34", "durable", "reference", "scored", "no_band",
                             "self", "2024-01-31", "2024-1-31", "2024-01-31\n", "1" * 400, "1" * 401, "x" * 1000, "x" * 1001, "cchc-result/2",
                             "cchc-summary/1", "percent", "0" * 64, "f" * 64, "1.10", "01", "-0.5", "inputs/x"]))
JSON = st.recursive(SCALAR, lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.sampled_from(["code", "title", "id", "x", "points", "date", "type"]) | TEXT,
                                      inner, max_size=3), max_leaves=6)


@st.composite
def near_value(draw, old):
    """A value near `old`: a small edit of a text, a neighbour of a number, a changed list, or any value."""
    if isinstance(old, str) and draw(st.booleans()):
        i = draw(st.integers(0, len(old)))
        return draw(st.sampled_from([old[:i] + draw(TEXT) + old[i:], old[:i] + old[i + 1:], old + "\n", old * 2,
                                     old.upper(), old[:i]]))
    if isinstance(old, (int, Decimal)) and not isinstance(old, bool) and draw(st.booleans()):
        return draw(st.sampled_from([old - 1, old + 1, -old, 0, Decimal(0), Decimal(old) + Decimal("0.5"), float(old),
                                     old == 1, 2000, 1999, 2100, 2101]))
    if isinstance(old, list) and old and draw(st.booleans()):
        i = draw(st.integers(0, len(old) - 1))
        return draw(st.sampled_from([old + [old[i]], old[:i] + old[i + 1:], [], old[::-1], old + [draw(JSON)]]))
    return draw(JSON)


@st.composite
def mutated(draw):
    """A valid document changed at one place: a value replaced by one near it, a key removed or added."""
    name, definition, original = draw(st.sampled_from(documents()))
    doc = _copy(original)
    path = draw(st.sampled_from(list(value_paths(doc))))
    if not path:
        return name, definition, draw(near_value(doc))
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
    if action == "delete" and isinstance(parent, dict):
        del parent[last]
    elif action == "add" and isinstance(parent, dict):
        parent[draw(st.sampled_from(["note", "extra", "index", "source", "standing", "warnings"]) | TEXT)] = draw(JSON)
    else:
        parent[last] = draw(near_value(parent[last]))
    return name, definition, doc


@SETTINGS
@given(mutated())
def test_a_changed_document_is_judged_as_jsonschema_judges_it(case):
    name, definition, doc = case
    assert quick_answer(doc, name, definition) == jsonschema_answer(doc, name, definition)


@pytest.mark.parametrize("name", SCHEMAS)
def test_every_shipped_schema_is_checked_quickly(name):
    assert schemas._quick_check(name, "") is not None


DEFINITIONS = [(name, d) for name in SCHEMAS for d in ["", *schemas.load_schema(name).get("$defs", {})]]


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(DEFINITIONS), JSON)
def test_any_value_is_judged_as_jsonschema_judges_it(which, value):
    name, definition = which
    assert quick_answer(value, name, definition) == jsonschema_answer(value, name, definition)


@pytest.mark.parametrize("index", range(14))
def test_every_shipped_document_holds(index):
    docs = documents()
    if index < len(docs):
        name, definition, doc = docs[index]
        assert quick_answer(doc, name, definition)


# ---------------------------------------------------------------- small random schemas

PATTERNS = ["^a", "b$", "^[0-9]+$", "^x$", "a|b", "^$", "[.]"]
LEAF_KEYWORDS = {
    "type": st.sampled_from(["string", "integer", "number", "boolean", "null", "array", "object"])
    | st.lists(st.sampled_from(["string", "null", "integer"]), min_size=1, max_size=2, unique=True),
    "const": st.sampled_from(["a", "b", ""]), "enum": st.lists(st.sampled_from(["a", "b", "x", "0"]), min_size=1, max_size=3),
    "minLength": st.integers(0, 2), "maxLength": st.integers(0, 2), "pattern": st.sampled_from(PATTERNS),
    "minimum": st.integers(-1, 1), "exclusiveMinimum": st.integers(-1, 1) | st.just(0.5), "maximum": st.integers(-1, 1),
    "format": st.just("date"), "description": st.just("words")}


def _some_of(keywords: dict):
    """Schemas with a few of `keywords` (few, so that valid instances are common)."""
    return st.lists(st.sampled_from(sorted(keywords)), max_size=3, unique=True).flatmap(
        lambda names: st.fixed_dictionaries({name: keywords[name] for name in names}))


LEAF = _some_of(LEAF_KEYWORDS)


UNIQUE = st.builds(lambda items, unique: {"type": "array", "items": items, "uniqueItems": unique},
                   st.sampled_from([{"type": "string"}, {"enum": ["a", "b", "x"]}]), st.booleans())


def _compound(inner):
    return _some_of({
        "type": st.sampled_from(["object", "array"]), "properties": st.dictionaries(st.sampled_from("abc"), inner, max_size=2),
        "required": st.lists(st.sampled_from("abc"), max_size=2, unique=True),
        "additionalProperties": st.booleans() | inner, "propertyNames": inner, "minProperties": st.integers(0, 2),
        "items": inner, "minItems": st.integers(0, 2), "oneOf": st.lists(inner, min_size=1, max_size=3)}) | UNIQUE


SCHEMA = st.recursive(LEAF | st.booleans(), _compound, max_leaves=5)
SMALL_JSON = st.recursive(st.none() | st.booleans() | st.integers(-2, 2) | st.sampled_from([0.5, Decimal("0.5"), 1.0])
                          | st.text(alphabet="abx0.\n", max_size=3),
                          lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("abcx") | st.text(
                              alphabet="ab0", max_size=2), inner, max_size=3), max_leaves=6)


@settings(max_examples=600, deadline=None)
@given(SCHEMA, SMALL_JSON)
def test_each_keyword_is_read_as_jsonschema_reads_it(schema, value):
    assert schemas._plain(schema)
    check = schemas._compiled(schema, {})
    assert (check is None or check(value)) == schemas._Validator(schema).is_valid(value)


@settings(max_examples=600, deadline=None)
@given(LEAF | UNIQUE, SMALL_JSON | st.lists(st.sampled_from(["a", "b", "x"]), max_size=4))
def test_each_keyword_is_read_at_its_limits(schema, value):
    """One schema of a few keywords, values at and around their limits."""
    check = schemas._compiled(schema, {})
    assert (check is None or check(value)) == schemas._Validator(schema).is_valid(value)


@settings(max_examples=300, deadline=None)
@given(_some_of({k: LEAF_KEYWORDS[k] for k in ("minLength", "maxLength", "pattern")}).map(lambda s: {**s, "type": "string"}),
       st.text(alphabet="abx0.\n", max_size=3) | st.none())
def test_a_text_is_read_at_its_limits(schema, value):
    check = schemas._compiled(schema, {})
    assert (check is None or check(value)) == schemas._Validator(schema).is_valid(value)
