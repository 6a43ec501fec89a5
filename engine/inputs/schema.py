"""JSON Schema checks on loaded YAML, with problems located by line."""
from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Callable, Optional

from ..core.errors import Problem, did_you_mean
from ..core.i18n import N_, _
from .yamlio import key_position, position

if TYPE_CHECKING:
    import jsonschema


def _is_number(checker, instance) -> bool:
    return (isinstance(instance, (int, Decimal, Fraction, float)) and not isinstance(instance, bool))


def _is_integer(checker, instance) -> bool:
    if isinstance(instance, bool):
        return False
    return isinstance(instance, int) or (isinstance(instance, Decimal) and instance == instance.to_integral_value())


@lru_cache(maxsize=None)
def _validator_class() -> type:
    """JSON Schema 2020-12 with exact numbers, imported when a document is checked in full (a
    worker process that only reads evidence which holds never imports it: half its start-up)."""
    import jsonschema

    types = jsonschema.Draft202012Validator.TYPE_CHECKER.redefine_many({"number": _is_number, "integer": _is_integer})
    return jsonschema.validators.extend(jsonschema.Draft202012Validator, type_checker=types)


def _Validator(schema: dict) -> "jsonschema.protocols.Validator":
    return _validator_class()(schema)


@lru_cache(maxsize=None)
def load_schema(name: str) -> dict:
    return json.loads(resources.files("engine").joinpath("schemas", name).read_text("utf-8"))


def schema_problems(doc: Any, schema_name: str, file: str, definition: str = "") -> list[Problem]:
    """Every problem of `doc` against a schema (or against one of its `$defs`, named by `definition`)."""
    schema = load_schema(schema_name)
    if definition:
        schema = {"$defs": schema["$defs"], "$ref": f"#/$defs/{definition}"}
    holds = _quick_check(schema_name, definition)
    if holds is not None and holds(doc):
        return []  # most documents hold: jsonschema is asked only to say what is wrong
    validator = _Validator(schema)
    problems = []
    for err in validator.iter_errors(doc):
        path = list(err.absolute_path)
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            allowed = set(err.schema.get("properties", {}))
            extra = sorted(k for k in err.instance if k not in allowed)
            for key in extra:
                line, col = key_position(doc, path + [key])
                problems.append(Problem(file, line, col, _("unknown key {key!r}{hint}; expected one of: {keys}").format(
                    key=key, hint=did_you_mean(str(key), allowed), keys=", ".join(sorted(allowed)))))
            continue
        if err.validator == "required":
            line, col = position(doc, path)
        else:
            line, col = key_position(doc, path) if path else (1, 1)
        where = ".".join(str(p) for p in path) or _("document")
        problems.append(Problem(file, line, col, f"{where}: {_message(err)}"))
    return problems


# The keywords `_quick_check` reads, as JSON Schema 2020-12 (and `_Validator`'s types) define them; a
# schema with any other keyword is checked by jsonschema alone. `format` is an annotation only: `_Validator`
# is made without a format checker, so it asserts nothing.
_PLAIN_KEYWORDS = frozenset({"$schema", "$id", "$defs", "title", "description", "format", "type", "required",
                             "properties", "additionalProperties", "propertyNames", "items", "minItems", "uniqueItems",
                             "minProperties", "minLength", "maxLength", "pattern", "minimum", "exclusiveMinimum",
                             "maximum", "const", "enum", "oneOf", "$ref"})
_TYPE_TESTS = {"string": lambda v: isinstance(v, str), "object": lambda v: isinstance(v, dict),
               "array": lambda v: isinstance(v, list), "boolean": lambda v: isinstance(v, bool),
               "null": lambda v: v is None, "number": lambda v: _is_number(None, v),
               "integer": lambda v: _is_integer(None, v)}


def _enum_of_texts(node: dict) -> bool:
    return isinstance(node.get("enum"), list) and all(isinstance(e, str) for e in node["enum"])


def _only_texts(node: Any) -> bool:
    """Whether a schema holds for texts only (a `type` of string, or an `enum` of texts)."""
    return isinstance(node, dict) and (node.get("type") == "string" or _enum_of_texts(node))


def _plain(node: Any) -> bool:
    """Whether a (sub)schema is plain (see `_plain_schema`)."""
    if isinstance(node, bool):
        return True
    if not isinstance(node, dict) or not set(node) <= _PLAIN_KEYWORDS:
        return False
    if "const" in node and not isinstance(node["const"], str):
        return False
    if "enum" in node and not _enum_of_texts(node):
        return False
    if node.get("uniqueItems") and not _only_texts(node.get("items")):
        return False
    if "pattern" in node and not isinstance(node["pattern"], str):
        return False
    if any(not _is_number(None, node[k]) for k in ("minimum", "exclusiveMinimum", "maximum") if k in node):
        return False
    if "$ref" in node and not str(node["$ref"]).startswith("#/$defs/"):
        return False
    if "type" in node and not set([node["type"]] if isinstance(node["type"], str) else node["type"]) <= set(_TYPE_TESTS):
        return False
    if "oneOf" in node and not isinstance(node["oneOf"], list):
        return False
    subs = [*node.get("properties", {}).values(), *node.get("$defs", {}).values(), *node.get("oneOf", ())]
    subs += [node[k] for k in ("additionalProperties", "items", "propertyNames") if k in node]
    return all(_plain(sub) for sub in subs)


@lru_cache(maxsize=None)
def _plain_schema(schema_name: str) -> bool:
    """Whether the schema uses only keywords `_quick_check` reads (a `const` only of a text, an `enum` only
    of texts, `uniqueItems` only of items that are texts, `$ref` only to the schema's own `$defs`)."""
    return _plain(load_schema(schema_name))


@lru_cache(maxsize=None)
def _quick_check(schema_name: str, definition: str) -> Optional[Callable[[Any], bool]]:
    """For a plain schema (`_plain_schema`), a function saying whether a document is valid against
    it (or against one of its `$defs`): the same answer as `_Validator` gives, without its errors;
    anything unexpected answers False (then jsonschema decides, and says why). None for another
    schema."""
    if not _plain_schema(schema_name):
        return None
    full = load_schema(schema_name)
    defs: dict[str, Optional[Callable[[Any], bool]]] = {}
    for name, sub in full.get("$defs", {}).items():
        defs[name] = _compiled(sub, defs)
    check = _compiled({"$ref": f"#/$defs/{definition}"} if definition else full, defs)

    def holds(doc: Any) -> bool:
        try:
            return check is None or check(doc)
        except Exception:  # noqa: BLE001 - e.g. a comparison that raises: jsonschema reports it as before
            return False

    return holds


_CHECKING = _PLAIN_KEYWORDS - {"$schema", "$id", "$defs", "title", "description", "format"}
_ABSENT = object()


def _never(instance: Any) -> bool:
    return False


def _compiled(schema: Any, defs: dict) -> Optional[Callable[[Any], bool]]:
    """A plain (sub)schema as one function of an instance, the keywords read once; None for one
    every instance is valid against. `$ref`s are looked up in `defs` (compiled `$defs`) when used."""
    if schema is True or (isinstance(schema, dict) and not _CHECKING & set(schema)):
        return None
    if schema is False:
        return _never
    checking = set(_CHECKING & set(schema))
    if not schema.get("uniqueItems", True):  # as jsonschema: a false value asks nothing
        checking.discard("uniqueItems")
    if checking == {"type"} and isinstance(schema["type"], str):  # a leaf: its type test alone
        return _TYPE_TESTS[schema["type"]]
    ref = schema["$ref"][len("#/$defs/"):] if "$ref" in schema else None
    if checking == {"$ref"}:
        return defs[ref] if ref in defs else lambda v: defs[ref] is None or defs[ref](v)  # compiled before, or later
    t = schema.get("type")
    type_tests = [_TYPE_TESTS[n] for n in ([t] if isinstance(t, str) else t)] if t is not None else []
    type_ok = type_tests[0] if len(type_tests) == 1 else (lambda v: any(test(v) for test in type_tests)) if type_tests else None
    const = schema.get("const", _ABSENT)
    texts = frozenset(schema["enum"]) if "enum" in schema else None
    required = tuple(schema.get("required", ()))
    min_properties = schema.get("minProperties", 0)
    props = {key: _compiled(sub, defs) for key, sub in schema.get("properties", {}).items()}
    extra_ok = _compiled(schema.get("additionalProperties", True), defs)
    name_ok = _compiled(schema.get("propertyNames", True), defs)
    min_items = schema.get("minItems", 0)
    items_ok = _compiled(schema.get("items", True), defs)
    unique = "uniqueItems" in checking
    min_length = schema.get("minLength", 0)
    max_length = schema.get("maxLength", _ABSENT)
    search = re.compile(schema["pattern"]).search if "pattern" in schema else None  # as jsonschema: re.search
    minimum = schema.get("minimum", _ABSENT)
    exclusive_minimum = schema.get("exclusiveMinimum", _ABSENT)
    maximum = schema.get("maximum", _ABSENT)
    one_of = tuple(_compiled(sub, defs) for sub in schema.get("oneOf", ()))
    if t == "object" and checking <= _OBJECT_KEYWORDS:  # the most common shapes, checked without the rest
        return _object_check(required, min_properties, props, extra_ok)
    if t == "string" and checking <= _TEXT_KEYWORDS:
        return _text_check(min_length, None if max_length is _ABSENT else max_length, search)
    if checking == {"enum"}:
        return lambda v: isinstance(v, str) and v in texts  # jsonschema's equality with a text: ==, texts only
    if checking == {"oneOf"}:
        return _one_of_check(one_of)
    one_ok = _one_of_check(one_of) if one_of else None

    def valid(v: Any) -> bool:
        if type_ok is not None and not type_ok(v):
            return False
        if const is not _ABSENT and not (isinstance(v, str) and v == const):
            return False
        if texts is not None and not (isinstance(v, str) and v in texts):
            return False
        if ref is not None:
            check = defs[ref]
            if check is not None and not check(v):
                return False
        if one_ok is not None and not one_ok(v):
            return False
        if isinstance(v, dict):
            for key in required:
                if key not in v:
                    return False
            if len(v) < min_properties:
                return False
            for key, value in v.items():
                if name_ok is not None and not name_ok(key):
                    return False
                if key in props:
                    if not isinstance(key, str):  # equal to a property name without being a text (never from YAML)
                        return False
                    check = props[key]
                    if check is not None and not check(value):
                        return False
                elif extra_ok is not None and not extra_ok(value):
                    return False
        elif isinstance(v, list):
            if len(v) < min_items:
                return False
            if items_ok is not None:
                for item in v:
                    if not items_ok(item):
                        return False
            if unique and len(set(v)) != len(v):  # the items are texts (`_plain_schema`): equal is ==
                return False
        elif isinstance(v, str):
            if len(v) < min_length or (max_length is not _ABSENT and len(v) > max_length):
                return False
            if search is not None and not search(v):
                return False
        elif _is_number(None, v):
            if minimum is not _ABSENT and v < minimum:
                return False
            if exclusive_minimum is not _ABSENT and v <= exclusive_minimum:
                return False
            if maximum is not _ABSENT and v > maximum:
                return False
        return True

    return valid


_OBJECT_KEYWORDS = frozenset({"type", "required", "minProperties", "properties", "additionalProperties"})
_TEXT_KEYWORDS = frozenset({"type", "minLength", "maxLength", "pattern"})


def _object_check(required: tuple, min_properties: int, props: dict, extra_ok: Optional[Callable[[Any], bool]]
                  ) -> Callable[[Any], bool]:
    """`_compiled`'s check of an object schema with no keyword but `_OBJECT_KEYWORDS`."""
    def valid_object(v: Any) -> bool:
        if not isinstance(v, dict) or len(v) < min_properties:
            return False
        for key in required:
            if key not in v:
                return False
        for key, value in v.items():
            check = props.get(key, _ABSENT)
            if check is _ABSENT:
                if extra_ok is not None and not extra_ok(value):
                    return False
            elif not isinstance(key, str) or (check is not None and not check(value)):
                return False  # a key equal to a property name without being a text: never from YAML
        return True

    return valid_object


def _text_check(min_length: int, max_length: Optional[int], search: Optional[Callable[[str], Any]]
                ) -> Callable[[Any], bool]:
    """`_compiled`'s check of a text schema with no keyword but `_TEXT_KEYWORDS`."""
    if search is None and max_length is None:
        return lambda v: isinstance(v, str) and len(v) >= min_length
    if max_length is None:
        return lambda v: isinstance(v, str) and len(v) >= min_length and search(v) is not None
    if search is None:
        return lambda v: isinstance(v, str) and min_length <= len(v) <= max_length
    return lambda v: isinstance(v, str) and min_length <= len(v) <= max_length and search(v) is not None


def _one_of_check(checks: tuple) -> Callable[[Any], bool]:
    """`oneOf`: exactly one of the compiled subschemas holds (None: one every instance holds against)."""
    def exactly_one(v: Any) -> bool:
        found = False
        for check in checks:
            if check is None or check(v):
                if found:
                    return False
                found = True
        return found

    return exactly_one


def _message(err: jsonschema.ValidationError) -> str:
    if err.validator == "enum":
        return _("{value} is not one of: {allowed}").format(
            value=_show(err.instance), allowed=", ".join(map(str, err.validator_value)))
    if err.validator == "const":
        return _("expected {expected!r}, got {value}").format(expected=err.validator_value, value=_show(err.instance))
    if err.validator == "type":
        return _("expected {expected}, got {value}").format(expected=_type(err.validator_value), value=_show(err.instance))
    if err.validator == "pattern":
        return _("{value} is not a valid identifier or code").format(value=_show(err.instance))
    if err.validator == "required":  # one error per missing key, each naming its own in its message
        missing = [k for k in err.validator_value if isinstance(err.instance, dict) and k not in err.instance]
        key = next((k for k in missing if err.message == f"{k!r} is a required property"),
                   missing[0] if missing else err.validator_value[0])
        return _("{key!r} is a required property").format(key=key)
    if err.validator in ("minimum", "exclusiveMinimum", "maximum", "minLength", "maxLength", "minItems",
                         "minProperties", "oneOf"):
        return _(_LIMITS[err.validator]).format(limit=err.validator_value, value=_show(err.instance))
    return err.message


_LIMITS = {  # jsonschema's own messages are English: these say the same in the reader's language
    "minimum": N_("{value} is less than the minimum {limit}"),
    "exclusiveMinimum": N_("{value} must be greater than {limit}"),
    "maximum": N_("{value} is greater than the maximum {limit}"),
    "minLength": N_("{value} is too short: at least {limit} character(s)"),
    "maxLength": N_("{value} is too long: at most {limit} characters"),
    "minItems": N_("{value} has too few items: at least {limit}"),
    "minProperties": N_("{value} is empty: at least {limit} entry is needed"),
    "oneOf": N_("{value} does not have any of the allowed forms"),
}


def _type(names: Any) -> str:
    """A JSON Schema type (or list of types) as the reader calls it."""
    words = {"string": _("string"), "number": _("number"), "integer": _("integer"), "boolean": _("boolean"),
             "object": _("object"), "array": _("array"), "null": _("null")}
    return _(" or ").join(words.get(n, n) for n in ([names] if isinstance(names, str) else names))


def _show(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return type(value).__name__.replace("YamlMap", _("mapping")).replace("YamlList", _("list"))
    if isinstance(value, date):
        return value.isoformat()
    return repr(value)


def json_problem(doc: Any, schema_name: str, definition: str) -> str:
    """The first problem of a JSON document (a bundle's manifest, a result) against one of a
    schema's `$defs`, naming the field: "the field 'total.max' is missing"; "" when it holds."""
    quick = _quick_check(schema_name, definition)
    if quick is not None and quick(doc):  # jsonschema only says what is wrong
        return ""
    schema = load_schema(schema_name)
    validator = _Validator({"$defs": schema["$defs"], "$ref": f"#/$defs/{definition}"})
    errors = sorted(validator.iter_errors(doc), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if not errors:
        return ""
    err = errors[0]
    path = [str(p) for p in err.absolute_path]
    if err.validator == "required":
        missing = next(k for k in err.validator_value if k not in err.instance)
        return f"the field {'.'.join(path + [missing])!r} is missing"
    field = ".".join(path) or "document"
    if err.validator in ("enum", "const", "type"):
        return f"the field {field!r}: {_message(err)}"
    if err.validator in ("pattern", "oneOf", "minimum", "minLength", "maxLength"):
        return f"the field {field!r} is malformed: {_show(err.instance)}"
    return f"the field {field!r} is malformed: {err.message}"
