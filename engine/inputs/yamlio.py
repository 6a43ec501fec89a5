"""Safe YAML loading that keeps line numbers, exact decimals and NFC text.

Mappings load as `YamlMap` (a dict) and sequences as `YamlList` (a list); both remember where each
entry stands so any later check can report `file:line:col`. Floats load as `Decimal` built from the
text as written, so `93.54` is exactly 93.54.

Plain scalars are typed as YAML 1.2 types them, more strictly: `true`/`false` are booleans, a
decimal integer without leading zeros is an integer, `93.54` is a decimal; everything else is text
(`017`, `03717`, `0x1F`, `1:30`, `1_000`, `yes`, `.inf`), so ids and periods keep their digits and
a number in a form the number grammar refuses reaches it as written. The document's size
(aliases counted as copies), nesting depth and text lengths are limited while it is composed,
before anything is built from it.
"""
from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Optional

import yaml

from ..core.errors import Problem
from ..core.i18n import N_, _
from ..core.limits import check_file_size, limit, over
from ..core.memo import remember
from ..core.numbers import check_digits

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


_SCALAR_TAGS: dict[tuple, str] = {}  # (resolvers, text, how it was written) -> the tag they give it


class DuplicateKey(yaml.MarkedYAMLError):
    pass


class SafeLineLoader(yaml.SafeLoader):
    """SafeLoader that records positions, loads floats as Decimal and normalises text to NFC; its
    composer refuses a document over the size, depth or text-length limits as it reads it."""

    def __init__(self, stream: Any):
        super().__init__(stream)
        self._start_limits()
        self._plain_keys(stream)

    def _plain_keys(self, stream: Any) -> None:
        # A merge (`<<`) or value (`=`) key needs those characters, or a tag (`!`): without any of
        # them no mapping has one to flatten.
        self._flat = isinstance(stream, str) and not any(c in stream for c in ("<<", "=", "!"))

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        """The tag of a node, as the resolver finds it; a scalar's depends only on its text and how
        it was written (there are no path resolvers), so it is looked up once per text."""
        if kind is not yaml.ScalarNode or self.yaml_path_resolvers:
            return super().resolve(kind, value, implicit)
        key = (id(self.yaml_implicit_resolvers), value, implicit)
        tag = _SCALAR_TAGS.get(key)
        if tag is None:
            tag = remember(_SCALAR_TAGS, key, super().resolve(kind, value, implicit))
        return tag

    def _start_limits(self) -> None:
        self._depth = 0
        self._sizes: dict[int, int] = {}  # id(node) -> node count with aliases expanded
        self._limits = {name: limit(name) for name in ("yaml_nodes", "yaml_depth", "string_chars")}

    def compose_node(self, parent: Any, index: Any) -> yaml.Node:  # type: ignore[override]
        mark = self.peek_event().start_mark
        alias = self.check_event(yaml.AliasEvent)
        self._depth += 1
        if self._depth > self._limits["yaml_depth"]:
            raise yaml.composer.ComposerError(None, None, over("yaml_depth", _("nesting is too deep")), mark)
        node = super().compose_node(parent, index)
        self._depth -= 1
        if alias:
            if id(node) not in self._sizes:
                raise yaml.composer.ComposerError(None, None, _("an alias refers to a node that contains it"), mark)
            return node
        if isinstance(node, yaml.ScalarNode):
            if len(node.value) > self._limits["string_chars"]:
                raise yaml.composer.ComposerError(
                    None, None, over("string_chars", _("a text of {n} characters").format(n=len(node.value))), mark)
            size = 1
        elif isinstance(node, yaml.SequenceNode):
            size = 1 + sum(self._sizes[id(child)] for child in node.value)
        else:
            size = 1 + sum(self._sizes[id(k)] + self._sizes[id(v)] for k, v in node.value)
        if size > self._limits["yaml_nodes"]:
            raise yaml.composer.ComposerError(
                None, None, over("yaml_nodes", _("the document is too large (aliases counted as copies)")), mark)
        self._sizes[id(node)] = size
        return node

    def construct_yaml_map(self, node: yaml.MappingNode):  # type: ignore[override]
        data = YamlMap()
        data.pos = _mark(node)
        yield data
        if not self._flat:
            self.flatten_mapping(node)
        key_pos, value_pos = data.key_pos, data.value_pos
        for key_node, value_node in node.value:
            key = self._construct(key_node)
            if not isinstance(key, (str, int, Decimal, bool)) and key is not None:
                key = str(key)
            if key in data:
                raise DuplicateKey(
                    "while constructing a mapping", node.start_mark,
                    _("duplicate key {key}: given twice in the same mapping").format(key=repr(key)),
                    key_node.start_mark)
            data[key] = self._construct(value_node)
            key_pos[key] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            value_pos[key] = (value_node.start_mark.line + 1, value_node.start_mark.column + 1)

    def construct_yaml_seq(self, node: yaml.SequenceNode):  # type: ignore[override]
        data = YamlList()
        data.pos = _mark(node)
        yield data
        for child in node.value:
            data.append(self._construct(child))
            data.item_pos.append(_mark(child))

    def _construct(self, node: yaml.Node) -> Any:
        """`construct_object(node, deep=True)`; a plain scalar (text, number, boolean, null, date)
        straight from its constructor, which is all construct_object does for one (a scalar reached
        twice through an alias is built twice: equal values of immutable types)."""
        if node.__class__ is yaml.ScalarNode:
            build = _SCALAR_CONSTRUCTORS.get(node.tag)
            if build is not None:
                return build(self, node)
        return self.construct_object(node, deep=True)

    def construct_yaml_str(self, node: yaml.ScalarNode) -> str:  # type: ignore[override]
        text = super().construct_yaml_str(node)
        return text if text.isascii() else unicodedata.normalize("NFC", text)

    def construct_yaml_float(self, node: yaml.ScalarNode) -> Decimal:  # type: ignore[override]
        text = str(self.construct_scalar(node))
        try:
            value = Decimal(text) if _DECIMAL.fullmatch(text) else Decimal("NaN")
        except InvalidOperation:
            value = Decimal("NaN")
        if value.is_nan():
            raise yaml.constructor.ConstructorError(
                None, None, _("not a decimal number: {text!r}").format(text=text), node.start_mark) from None
        return self._in_range(value, node)

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:  # type: ignore[override]
        text = str(self.construct_scalar(node))
        if not _INTEGER.fullmatch(text):  # an explicit `!!int 017` or `!!int 0x1F`
            raise yaml.constructor.ConstructorError(
                None, None, _("not a decimal integer: {text!r}").format(text=text), node.start_mark)
        self._in_range(Decimal(text), node)  # check the length before Python converts it
        return int(text)

    def construct_yaml_timestamp(self, node: yaml.ScalarNode):  # type: ignore[override]
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:  # 2023-31-12 looks like a date to YAML but is none
            raise yaml.constructor.ConstructorError(
                None, None, _("not a valid date {value!r}: {reason}").format(value=node.value, reason=exc),
                node.start_mark) from None

    @staticmethod
    def _in_range(value: Decimal, node: yaml.ScalarNode) -> Decimal:
        """Infinity, NaN and absurdly long numbers are refused where they stand (NaN would even
        break comparisons in the schema check)."""
        try:
            if not value.is_finite():
                raise ValueError(_("{value} is not a finite number").format(value=node.value))
            check_digits(value)
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(None, None, str(exc), node.start_mark) from None
        return value


_INTEGER = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9]*)\.[0-9]+")
_NUMBER = re.compile(r"[-+]?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")  # an _INTEGER or a _DECIMAL
_SHORT_NUMBER = 50  # characters: a number this long is within `check_digits`' range, however written
# YAML 1.2 types for plain scalars (PyYAML implements YAML 1.1: octal `017`, sexagesimal `1:30`,
# `1_000`, `yes`/`no`/`on`/`off` booleans): the 1.1 resolvers for these tags are replaced.
SafeLineLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers
            if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
SafeLineLoader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                 list("tTfF"))
SafeLineLoader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(f"^{_INTEGER.pattern}$"),
                                 list("-+0123456789"))
SafeLineLoader.add_implicit_resolver("tag:yaml.org,2002:float", re.compile(f"^{_DECIMAL.pattern}$"),
                                 list("-+0123456789"))
SafeLineLoader.add_constructor("tag:yaml.org,2002:map", SafeLineLoader.construct_yaml_map)
SafeLineLoader.add_constructor("tag:yaml.org,2002:seq", SafeLineLoader.construct_yaml_seq)
SafeLineLoader.add_constructor("tag:yaml.org,2002:str", SafeLineLoader.construct_yaml_str)
SafeLineLoader.add_constructor("tag:yaml.org,2002:float", SafeLineLoader.construct_yaml_float)
SafeLineLoader.add_constructor("tag:yaml.org,2002:int", SafeLineLoader.construct_yaml_int)
SafeLineLoader.add_constructor("tag:yaml.org,2002:timestamp", SafeLineLoader.construct_yaml_timestamp)
_SCALAR_CONSTRUCTORS = {tag: SafeLineLoader.yaml_constructors[tag] for tag in (
    "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null", "tag:yaml.org,2002:timestamp")}
# An empty plain scalar inside brackets or braces (`{b: }`, `[a: ]`): libyaml places it at the token
# after it, the pure-Python parser right after the `:` before it. A document holding one is read by
# SafeLineLoader, so that its positions do not depend on the parser ("empty in flow" below).

# CSafeLineLoader._plain_lines: a line `key: value` (or `key:` before its block), the key a plain text
# of letters, digits and `_.-`, the value plain (no character that could mean more than text),
# in quotes (no escape, no quote inside) or a mapping in braces of such keys and values.
_PLAIN_TEXT = r"(?:[^\s\-?:,\[\]{}#&*!|>'\"%@`]|-(?=[0-9.]))(?:[^\s:#,\[\]{}]| +(?=[^\s:#,\[\]{}]))*"
_KEY_TEXT = r"[A-Za-z0-9_][A-Za-z0-9_.-]*"
_PLAIN_LINE = re.compile(rf"( *)({_KEY_TEXT}):(?: *$| +(({_PLAIN_TEXT})|\"([^\"\\]*)\"|'([^']*)'|\{{[^{{}}]*\}}) *$)")
_FLOW_PAIR = re.compile(rf" *({_KEY_TEXT}): +(\"([^\"\\]*)\"|'([^']*)'|({_PLAIN_TEXT})) *[,}}]")
_BLANK_LINE = re.compile(r" *(?:#.*)?$")
# Characters a plain line never holds: tab, carriage return, line breaks other than "\n" (NEL, U+2028,
# U+2029), the byte order mark and whatever YAML does not print (controls, surrogates, U+FFFE/F).
_NOT_PLAIN_CHARACTER = re.compile("[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
_SIMPLE_KEY_CHARS = 1000  # libyaml looks for a key's ':' within 1,024 characters of where the key starts


def _key(key: Any) -> Any:
    """A mapping key as the loaders keep it: a text, a number, a boolean or null as built, anything
    else (a date) as its text."""
    if key.__class__ is not str and not isinstance(key, (int, Decimal, bool)) and key is not None:
        return str(key)
    return key


class _NotPlain(Exception):
    pass


_NOT_PLAIN_LINES = object()

# Whether a scalar is plain -> its text -> its value, for CSafeLineLoader._built
_BUILT: dict[bool, dict[str, Any]] = {True: {}, False: {}}
# The longest text allowed -> a line's text -> what it holds, for CSafeLineLoader._plain_lines
_LINE_SHAPES: dict[int, dict[str, tuple]] = {}
_BLANK = ()  # the shape of a blank or comment line


if yaml.__with_libyaml__:
    class CSafeLineLoader(SafeLineLoader, yaml.cyaml.CParser):  # type: ignore[misc]
        """SafeLineLoader on libyaml (C) up to the node graph: scanned, parsed and composed in C
        (tags resolved by SafeLineLoader's resolvers, libyaml nests at most 1,000 levels), then
        checked against the size, depth and length limits, and constructed as there: the same data
        and positions, several times faster. A document it refuses, or that may pass a limit, is
        read again by SafeLineLoader alone, so that the decision, message and position a person
        sees do not depend on the parser. A tree written in plain lines (`_plain_lines`) is read
        without the parser at all."""

        check_event = yaml.cyaml.CParser.check_event
        peek_event = yaml.cyaml.CParser.peek_event
        get_event = yaml.cyaml.CParser.get_event
        # The composer calls these for every node; without path resolvers they keep nothing, and a
        # C callable that takes the same arguments and does nothing costs less than a Python method.
        descend_resolver = staticmethod(slice)  # (parent, index) -> a throwaway slice
        ascend_resolver = staticmethod(tuple)  # () -> ()

        def __init__(self, stream: str):
            yaml.cyaml.CParser.__init__(self, stream)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            self._start_limits()
            self._plain_keys(stream)

        def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
            """As SafeLineLoader resolves (it has no path resolvers): a plain scalar's tag by its text
            (looked up once per text there), any other node's the default of its kind."""
            if kind is not yaml.ScalarNode:
                return self.DEFAULT_MAPPING_TAG if kind is yaml.MappingNode else self.DEFAULT_SEQUENCE_TAG
            if not implicit[0]:
                return self.DEFAULT_SCALAR_TAG
            return SafeLineLoader.resolve(self, kind, value, implicit)

        def get_single_data(self) -> Any:
            if self._tree:
                data = self._plain_lines()
                return self._built() if data is _NOT_PLAIN_LINES else data
            node = yaml.cyaml.CParser.get_single_node(self)
            if node is None:
                return None
            self._check_graph(node)
            return self.construct_document(node)

        def _plain_keys(self, stream: Any) -> None:
            super()._plain_keys(stream)
            # Without an anchor (`&`) no node is reached twice: the graph is a tree.
            self._tree = self._flat and "&" not in stream
            self._text = stream

        def _plain_lines(self) -> Any:
            """The data of a tree written in plain lines (`_PLAIN_LINE`: `key: value` or `key:` over
            a more indented block, a value being a plain or quoted text on one line or a mapping in
            braces of such texts; blank and comment lines between them), read line by line by two
            patterns instead of through the parser's events: the same data at the same places as
            `_built` builds. `_NOT_PLAIN_LINES` for any other text, or for one that may pass a limit,
            which `_built` then reads. What a line holds does not depend on where it stands: each
            line's text is read once per run (`_LINE_SHAPES`), only its place in the tree line by line."""
            text = self._text
            if _NOT_PLAIN_CHARACTER.search(text):
                return _NOT_PLAIN_LINES
            most_chars, most_depth, most_nodes = (self._limits[k] for k in ("string_chars", "yaml_depth", "yaml_nodes"))
            shapes = _LINE_SHAPES.get(most_chars)
            if shapes is None:
                shapes = _LINE_SHAPES[most_chars] = {}
            new_map = YamlMap.__new__
            root = new_map(YamlMap)
            root.key_pos, root.value_pos = {}, {}
            # (indent, mapping, its keys' and values' places) of each block mapping open, innermost last
            levels = [(-1, root, root.key_pos, root.value_pos)]
            indent_at, data, key_pos, value_pos = levels[-1]
            absent = _NOT_PLAIN_LINES
            waiting: Any = absent  # the key (of the innermost mapping) whose block of lines comes next
            counted = 1
            try:
                for number, line in enumerate(text.split("\n"), start=1):
                    shape = shapes.get(line)
                    if shape is None:
                        shape = remember(shapes, line, self._line_shape(line, most_chars))
                    if shape is _BLANK:
                        continue
                    indent, key, start, value, pairs = shape
                    if waiting is not absent:
                        if indent <= indent_at:
                            raise _NotPlain  # `key:` with no value (null)
                        block = new_map(YamlMap)
                        block.key_pos, block.value_pos = {}, {}
                        block.pos = value_pos[waiting] = (number, indent + 1)
                        data[waiting] = block
                        levels.append((indent, block, block.key_pos, block.value_pos))
                        indent_at, data, key_pos, value_pos = levels[-1]
                        waiting = absent
                    elif indent != indent_at:
                        if indent_at == -1:  # the first line: the document's mapping starts here
                            levels[0] = (indent, root, key_pos, value_pos)
                            root.pos = (number, indent + 1)
                        else:
                            while len(levels) > 1 and levels[-1][0] > indent:
                                levels.pop()
                            if levels[-1][0] != indent:
                                raise _NotPlain
                        indent_at, data, key_pos, value_pos = levels[-1]
                    depth = len(levels) + 1  # of its key and value
                    counted += 2
                    if depth > most_depth or counted > most_nodes:
                        raise _NotPlain
                    if key in data:
                        raise _NotPlain
                    key_pos[key] = (number, indent + 1)
                    if not start:
                        data[key] = None  # for now: its block follows
                        waiting = key
                        continue
                    value_pos[key] = (number, start)
                    if pairs is None:
                        data[key] = value
                        continue
                    inner = new_map(YamlMap)  # in braces
                    inner.pos = (number, start)
                    inner_keys, inner_values = inner.key_pos, inner.value_pos = {}, {}
                    data[key] = inner
                    if pairs:
                        counted += 2 * len(pairs)
                        if depth + 1 > most_depth or counted > most_nodes:
                            raise _NotPlain
                        for pair_key, key_at, value_at, pair_value in pairs:
                            inner_keys[pair_key] = (number, key_at)
                            inner_values[pair_key] = (number, value_at)
                            inner[pair_key] = pair_value
            except (_NotPlain, yaml.YAMLError):  # a value its constructor refuses: `_built` decides too
                return _NOT_PLAIN_LINES
            if waiting is not absent or levels[0][0] == -1:  # a last `key:` with no value; no line at all
                return _NOT_PLAIN_LINES
            return root

        def _line_shape(self, line: str, most_chars: int) -> tuple:
            """What a line of `_plain_lines` holds, wherever it stands: `_BLANK` (white space or a
            comment), else (its indent, its key, the column of its value — 0 for `key:` before its
            block —, the value, and for a mapping in braces instead of a value its entries: (key,
            its column, its value's column, the value) each). Raises `_NotPlain` for any other line,
            or a `yaml.YAMLError` for a value its constructor refuses."""
            plain_built, quoted_built = _BUILT[True], _BUILT[False]
            absent = _NOT_PLAIN_LINES

            def value(text: str, plain: bool) -> Any:
                """A scalar's value, every check made (built once per run, `_BUILT`; a short plain
                integer or decimal, which the resolvers make an int or a float, straight from its text)."""
                if len(text) > most_chars:
                    raise _NotPlain
                if plain and len(text) <= _SHORT_NUMBER and _NUMBER.fullmatch(text):
                    return Decimal(text) if "." in text else int(text)
                known = plain_built if plain else quoted_built
                found = known.get(text, absent)
                if found is absent:
                    tag = self.resolve(yaml.ScalarNode, text, (plain, not plain))
                    construct = _SCALAR_CONSTRUCTORS.get(tag)
                    if construct is None:
                        raise _NotPlain
                    found = remember(known, text, construct(self, yaml.ScalarNode(tag, text, None, None,
                                                                                  None if plain else "'")))
                return found

            def keyed(text: str) -> Any:
                if len(text) > _SIMPLE_KEY_CHARS:
                    raise _NotPlain
                return _key(value(text, True))

            def quoted_or_plain(plain: Optional[str], double: Optional[str], single: Optional[str]) -> Any:
                """The value of the one of a pattern's three value groups that matched."""
                if plain is not None:
                    return value(plain, True)
                return value(double if double is not None else single, False)

            m = _PLAIN_LINE.match(line)
            if m is None:
                if _BLANK_LINE.match(line):
                    return _BLANK
                raise _NotPlain
            spaces, key_text, written, plain, double, single = m.groups()
            key = keyed(key_text)
            if written is None:
                return (len(spaces), key, 0, None, None)
            start = m.start(3)
            if plain is not None or double is not None or single is not None:
                return (len(spaces), key, start + 1, quoted_or_plain(plain, double, single), None)
            pairs, keys = [], set()  # in braces
            at, end = start + 1, m.end(3) - 1
            while at <= end:
                pair = _FLOW_PAIR.match(line, at, end + 1)
                if pair is None:
                    raise _NotPlain
                key_text, written, double, single, plain = pair.groups()
                pair_key = keyed(key_text)
                if pair_key in keys:
                    raise _NotPlain
                keys.add(pair_key)
                pairs.append((pair_key, pair.start(1) + 1, pair.start(2) + 1, quoted_or_plain(plain, double, single)))
                at = pair.end()
            return (len(spaces), key, start + 1, None, tuple(pairs))

        def _built(self) -> Any:
            """The data of a tree (no anchor, alias, tag, merge or value key: the text has no `&`, `!`,
            `<<` or `=`, so no event has an anchor or a tag) built straight from the parser's events,
            without its node graph: composed as the composer composes it, checked against the limits
            as `_check_graph` checks the graph, and built as `construct_document` builds it (a
            scalar's value depends only on its text and whether it is plain: built once per run).
            Anything else (a limit passed, a value refused) is refused, for SafeLineLoader to word."""
            most_chars, most_depth, most_nodes = (self._limits[k] for k in ("string_chars", "yaml_depth", "yaml_nodes"))
            get = self.get_event
            plain_built, quoted_built = _BUILT[True], _BUILT[False]
            scalar_event, mapping_start, sequence_start = yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent
            mapping_end, sequence_end = yaml.MappingEndEvent, yaml.SequenceEndEvent
            new_map, new_list = YamlMap.__new__, YamlList.__new__
            absent = object()

            def refuse(event: yaml.Event) -> yaml.YAMLError:
                return yaml.composer.ComposerError(None, None, "over a limit or not plain", event.start_mark)

            def scalar(event: yaml.ScalarEvent, flow: bool) -> Any:
                """A scalar's value, every check made (`flow`: it stands in brackets or braces); its
                collection's walk takes a value built before straight from `_BUILT` instead."""
                text = event.value
                plain = event.implicit[0]  # a plain scalar's tag depends on its text, any other's is str
                if len(text) > most_chars or (flow and not text and plain):  # over the limit, or empty in flow
                    raise refuse(event)
                known = plain_built if plain else quoted_built
                value = known.get(text, absent)
                if value is absent:
                    tag = self.resolve(yaml.ScalarNode, text, event.implicit)
                    construct = _SCALAR_CONSTRUCTORS.get(tag)
                    if construct is None:
                        raise refuse(event)
                    value = remember(known, text, construct(self, yaml.ScalarNode(tag, text, event.start_mark,
                                                                                  event.end_mark, event.style)))
                return value

            def node(event: yaml.Event, depth: int, flow: bool = False) -> Any:
                """A node whose children stand at `depth` (`flow`: inside brackets or braces)."""
                nonlocal counted
                kind = event.__class__
                if kind is scalar_event:
                    return scalar(event, flow)
                if kind is not mapping_start and kind is not sequence_start:  # an alias (of no anchor)
                    raise refuse(event)
                mark = event.start_mark
                flow = flow or bool(event.flow_style)
                if kind is mapping_start:
                    data = new_map(YamlMap)
                    data.pos = (mark.line + 1, mark.column + 1)
                    data.key_pos = key_pos = {}
                    data.value_pos = value_pos = {}
                    event = get()
                    while event.__class__ is not mapping_end:
                        counted += 2
                        if depth > most_depth or counted > most_nodes:
                            raise refuse(event)
                        key_mark = event.start_mark
                        key = _key(node(event, depth + 1, flow))
                        if key in data:
                            raise refuse(event)
                        event = get()
                        mark = event.start_mark
                        data[key] = node(event, depth + 1, flow)
                        key_pos[key] = (key_mark.line + 1, key_mark.column + 1)
                        value_pos[key] = (mark.line + 1, mark.column + 1)
                        event = get()
                    return data
                items = new_list(YamlList)
                items.pos = (mark.line + 1, mark.column + 1)
                items.item_pos = item_pos = []
                event = get()
                while event.__class__ is not sequence_end:
                    counted += 1
                    if depth > most_depth or counted > most_nodes:
                        raise refuse(event)
                    mark = event.start_mark
                    items.append(node(event, depth + 1, flow))
                    item_pos.append((mark.line + 1, mark.column + 1))
                    event = get()
                return items

            get()  # the stream's start
            event = get()
            if event.__class__ is yaml.StreamEndEvent:
                return None
            counted = 1
            try:
                data = node(get(), 2)  # after the document's start (at depth 1; limits are at least 1)
            except RecursionError:  # only when CCHC_MAX_YAML_DEPTH is raised past what Python can nest
                raise refuse(event) from None
            get()  # the document's end
            event = get()
            if event.__class__ is not yaml.StreamEndEvent:
                raise refuse(event)  # a second document
            return data

        def _check_graph(self, root: yaml.Node) -> None:
            """Refuse (for SafeLineLoader to word it) a graph that may pass a limit. Nodes are counted
            as SafeLineLoader's composer counts them (an alias as a copy of its node); a node reached
            through an alias counts its depth there too, so a deeper count can only send a document
            to SafeLineLoader, which decides (a node that contains itself is too deep at once). The
            walk stops at the first limit passed: its work is bounded by the limits."""
            most_chars, most_depth, most_nodes = (self._limits[k] for k in ("string_chars", "yaml_depth", "yaml_nodes"))
            counted = [0]
            scalar, mapping = yaml.ScalarNode, yaml.MappingNode

            def walk(node: yaml.Node, depth: int, flow: bool = False) -> None:
                counted[0] += 1
                if depth > most_depth or counted[0] > most_nodes:
                    raise yaml.composer.ComposerError(None, None, "over a limit", node.start_mark)
                if node.__class__ is scalar:
                    if len(node.value) > most_chars or (flow and not node.value and not node.style):
                        raise yaml.composer.ComposerError(None, None, "over a limit", node.start_mark)  # or empty in flow
                    return
                inside = flow or bool(node.flow_style)  # everything in brackets or braces is in flow
                if node.__class__ is mapping:
                    for key, value in node.value:
                        walk(key, depth + 1, inside)
                        walk(value, depth + 1, inside)
                else:
                    for child in node.value:
                        walk(child, depth + 1, inside)

            try:
                walk(root, 1)
            except RecursionError:  # only when CCHC_MAX_YAML_DEPTH is raised past what Python can nest
                raise yaml.composer.ComposerError(None, None, "over a limit", root.start_mark) from None

    FastSafeLoader: type = CSafeLineLoader
else:  # PyYAML built without libyaml
    FastSafeLoader = SafeLineLoader


def load_yaml(path: Path, display: str | None = None, data: bytes | None = None) -> Any:
    """Load one YAML document; every failure becomes a located `Problem` list (raised as
    `InputError` by the caller). `data` is the file's bytes when the caller has read them (to hash
    what it parses): the file is then not read again."""
    from ..core.errors import InputError

    name = display or str(path)
    try:
        if data is None:
            check_file_size(path, name)
            data = path.read_bytes()
        text = data.decode("utf-8-sig")
    except FileNotFoundError:
        raise InputError([Problem(name, message=_("file not found"))]) from None
    except UnicodeDecodeError as exc:
        raise InputError([Problem(name, message=_("not UTF-8 text ({reason} at byte {byte})").format(
            reason=exc.reason, byte=exc.start))]) from None
    except OSError as exc:
        raise InputError([Problem(name, message=_("cannot read: {reason}").format(reason=exc.strerror))]) from None
    try:
        try:
            return yaml.load(text, Loader=FastSafeLoader)  # noqa: S506 - a SafeLoader on libyaml
        except yaml.YAMLError:
            if FastSafeLoader is SafeLineLoader:
                raise
        return yaml.load(text, Loader=SafeLineLoader)  # noqa: S506 - the pure-Python one says where and why
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        message = exc.problem or str(exc)
        if "could not determine a constructor" in message or exc.__class__.__name__ == "ConstructorError" and "tag" in message:
            message = _("{message} (custom YAML tags are refused; only plain YAML is read)").format(message=message)
        if not isinstance(exc, (yaml.constructor.ConstructorError, DuplicateKey)):  # the parser's words, plainly
            message = plain_syntax_message(message, isinstance(exc, (yaml.scanner.ScannerError, yaml.parser.ParserError)))
        raise InputError([Problem(name, line, col, message, excerpt=caret_excerpt(text, line, col))]) from None
    except yaml.YAMLError as exc:
        raise InputError([Problem(name, message=_("invalid YAML: {reason}").format(reason=exc))]) from None
    except RecursionError:  # only when CCHC_MAX_YAML_DEPTH is raised past what Python can nest
        raise InputError([Problem(name, message=over("yaml_depth", _("nesting is too deep to read")))]) from None


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


def plain_syntax_message(problem: str, syntax: bool = True) -> str:
    """A YAML syntax error in plain words, in the reader's language (`problem` itself when it is not
    one the parser words: a limit, an alias that contains itself)."""
    for start, plain in _SYNTAX:
        if start in problem:
            return _("YAML syntax: {what}").format(what=_(plain))
    return _("YAML syntax: {what}").format(what=problem) if syntax else problem


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
