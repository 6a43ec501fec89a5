"""Safe YAML loading that keeps line numbers, exact decimals and NFC text.

Mappings load as `YamlMap` (a dict) and sequences as `YamlList` (a list); both remember where each
entry stands so any later check can report `file:line:col`. Floats load as `Decimal` built from the
text as written, so `93.54` is exactly 93.54.
"""
from __future__ import annotations

import unicodedata
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from .errors import Problem
from .i18n import N_, _
from .numbers import check_digits

Pos = tuple[int, int]  # 1-based line and column


class YamlMap(dict):
    """A mapping that remembers its own position and each key's and value's position."""

    pos: Pos = (0, 0)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.key_pos: dict[Any, Pos] = {}
        self.value_pos: dict[Any, Pos] = {}


class YamlList(list):
    """A sequence that remembers its own position and each item's position."""

    pos: Pos = (0, 0)

    def __init__(self, *args: Any):
        super().__init__(*args)
        self.item_pos: list[Pos] = []


def _mark(node: yaml.Node) -> Pos:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


class DuplicateKey(yaml.MarkedYAMLError):
    pass


class LineLoader(yaml.SafeLoader):
    """SafeLoader that records positions, loads floats as Decimal and normalises text to NFC."""

    def construct_yaml_map(self, node: yaml.MappingNode):  # type: ignore[override]
        data = YamlMap()
        data.pos = _mark(node)
        yield data
        self.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, Decimal, bool)) and key is not None:
                key = str(key)
            if key in data:
                raise DuplicateKey(
                    "while constructing a mapping", node.start_mark,
                    _("duplicate key {key}: given twice in the same mapping").format(key=repr(key)),
                    key_node.start_mark)
            data[key] = self.construct_object(value_node, deep=True)
            data.key_pos[key] = _mark(key_node)
            data.value_pos[key] = _mark(value_node)

    def construct_yaml_seq(self, node: yaml.SequenceNode):  # type: ignore[override]
        data = YamlList()
        data.pos = _mark(node)
        yield data
        for child in node.value:
            data.append(self.construct_object(child, deep=True))
            data.item_pos.append(_mark(child))

    def construct_yaml_str(self, node: yaml.ScalarNode) -> str:  # type: ignore[override]
        return unicodedata.normalize("NFC", super().construct_yaml_str(node))

    def construct_yaml_float(self, node: yaml.ScalarNode) -> Decimal:  # type: ignore[override]
        text = str(self.construct_scalar(node)).replace("_", "").lower()
        if ":" in text:
            raise yaml.constructor.ConstructorError(
                None, None, f"sexagesimal number {text!r} is not accepted", node.start_mark)
        special = {".inf": "Infinity", "+.inf": "Infinity", "-.inf": "-Infinity", ".nan": "NaN"}
        try:
            value = Decimal(special.get(text, text))
        except InvalidOperation:
            raise yaml.constructor.ConstructorError(
                None, None, f"not a number: {text!r}", node.start_mark) from None
        return self._in_range(value, node)

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:  # type: ignore[override]
        text = str(self.construct_scalar(node)).replace("_", "").lstrip("+-")
        if text.isdigit():  # decimal: check the length before Python converts it
            self._in_range(Decimal(text), node)
        return super().construct_yaml_int(node)

    def construct_yaml_timestamp(self, node: yaml.ScalarNode):  # type: ignore[override]
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:  # 2023-31-12 looks like a date to YAML but is none
            raise yaml.constructor.ConstructorError(
                None, None, f"not a valid date {node.value!r}: {exc}", node.start_mark) from None

    @staticmethod
    def _in_range(value: Decimal, node: yaml.ScalarNode) -> Decimal:
        """Infinity, NaN and absurdly long numbers are refused where they stand (NaN would even
        break comparisons in the schema check)."""
        try:
            if not value.is_finite():
                raise ValueError(f"{node.value} is not a finite number")
            check_digits(value)
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(None, None, str(exc), node.start_mark) from None
        return value


LineLoader.add_constructor("tag:yaml.org,2002:map", LineLoader.construct_yaml_map)
LineLoader.add_constructor("tag:yaml.org,2002:seq", LineLoader.construct_yaml_seq)
LineLoader.add_constructor("tag:yaml.org,2002:str", LineLoader.construct_yaml_str)
LineLoader.add_constructor("tag:yaml.org,2002:float", LineLoader.construct_yaml_float)
LineLoader.add_constructor("tag:yaml.org,2002:int", LineLoader.construct_yaml_int)
LineLoader.add_constructor("tag:yaml.org,2002:timestamp", LineLoader.construct_yaml_timestamp)


def load_yaml(path: Path, display: str | None = None) -> Any:
    """Load one YAML document; every failure becomes a located `Problem` list (raised as
    `InputError` by the caller)."""
    from .errors import InputError

    name = display or str(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise InputError([Problem(name, message="file not found")]) from None
    except UnicodeDecodeError as exc:
        raise InputError([Problem(name, message=f"not UTF-8 text ({exc.reason} at byte {exc.start})")]) from None
    except OSError as exc:
        raise InputError([Problem(name, message=f"cannot read: {exc.strerror}")]) from None
    try:
        return yaml.load(text, Loader=LineLoader)  # noqa: S506 - LineLoader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        message = exc.problem or str(exc)
        if "could not determine a constructor" in message or exc.__class__.__name__ == "ConstructorError" and "tag" in message:
            message = f"{message} (custom YAML tags are refused; only plain YAML is read)"
        if not isinstance(exc, (yaml.constructor.ConstructorError, DuplicateKey)):  # the parser's words, plainly
            message = plain_syntax_message(message)
        raise InputError([Problem(name, line, col, message, excerpt=caret_excerpt(text, line, col))]) from None
    except yaml.YAMLError as exc:
        raise InputError([Problem(name, message=f"invalid YAML: {exc}")]) from None


# What the YAML parser says (its own English words, matched by a phrase of them) in plain words.
_SYNTAX = (
    ("mapping values are not allowed", N_("a ':' where none can stand: a value that contains ': ' must be put in "
                                       "quotes")),
    ("could not find expected ':'", N_("a key without its ':' (each entry of a mapping is written `key: value`)")),
    ("found character '\\t'", N_("a tab: YAML is indented with spaces only")),
    ("did not find expected key", N_("this line is not indented like the lines of its mapping")),
    ("did not find expected '-' indicator", N_("this line is not indented like the items of its list")),
    ("expected <block end>", N_("this line is not indented like the lines above it")),
    ("found unexpected end of stream", N_("the file ends inside a quoted text: a closing quote is missing")),
    ("found undefined alias", N_("an alias (*name) without an anchor (&name) before it")),
    ("found unknown escape character", N_("an unknown escape in a text in double quotes (write \\\\ for a "
                                       "backslash, or use single quotes)")),
    ("found unexpected ':'", N_("a ':' where none can stand: a value that contains ': ' must be put in quotes")),
    ("expected ',' or ']'", N_("a list in brackets [...] that is not closed")),
    ("expected ',' or '}'", N_("a mapping in braces {...} that is not closed")),
)


def plain_syntax_message(problem: str) -> str:
    """A YAML syntax error in plain words, in the reader's language."""
    from .i18n import _

    for start, plain in _SYNTAX:
        if start in problem:
            return _("YAML syntax: {what}").format(what=_(plain))
    return _("YAML syntax: {what}").format(what=problem)


def caret_excerpt(text: str, line: int, col: int) -> str:
    """The offending line, and a caret under its column."""
    lines = text.splitlines()
    if not 0 < line <= len(lines):
        return ""
    shown = lines[line - 1]
    pad = "".join("\t" if c == "\t" else " " for c in shown[:col - 1])
    return f"    {shown}\n    {pad}^"


def position(doc: Any, path: tuple | list) -> Pos:
    """Best position for a path of keys/indexes inside a loaded document: the deepest node reached."""
    node, best = doc, getattr(doc, "pos", (0, 0))
    for step in path:
        if isinstance(node, YamlMap) and step in node:
            best = node.value_pos.get(step, best)
            node = node[step]
        elif isinstance(node, YamlList) and isinstance(step, int) and 0 <= step < len(node):
            best = node.item_pos[step] if step < len(node.item_pos) else best
            node = node[step]
        else:
            break
    return best


def key_position(doc: Any, path: tuple | list) -> Pos:
    """Position of the key that ends a path (so a message points at `key:` rather than its value)."""
    *head, last = path
    parent = doc
    for step in head:
        try:
            parent = parent[step]
        except (KeyError, IndexError, TypeError):
            return position(doc, path)
    if isinstance(parent, YamlMap) and last in parent.key_pos:
        return parent.key_pos[last]
    return position(doc, path)
