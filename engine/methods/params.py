"""The parameters a scoring method declares, and the one place they are checked.

A method lists its parameters as `Param`s: a name, what it means (for people and the docs), a type
(`Number`, `Text`, `Table` of values keyed by the metric's categories or options, `Records` for a list
of bands) and a default. `read_params` checks what a criteria set gives against that table —
unknown names, missing values, types, ranges, points above the item's maximum, keys the metric does
not have — and reports every problem at the parameter it concerns. Only then does the method's
`build` see the values, to check what needs several of them together and to freeze them.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, Optional, Protocol

from ..core.errors import did_you_mean
from ..core.i18n import _
from ..core.model import MetricSpec
from ..core.numbers import exact_text, to_fraction


class _Marker:
    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


REQUIRED = _Marker("required")  # no default: the criteria set must give the parameter
ITEM_MAX = _Marker("the item's maximum")  # default: the sub-criterion's own maximum
INVALID = _Marker("invalid")  # what a type's `read` returns after reporting a problem


class Report(Protocol):
    """Records a located problem: `path` inside `params`; `key` points at the key, not its value."""

    def __call__(self, path: tuple, message: str, key: bool = False) -> None: ...


@dataclass(frozen=True)
class Context:
    """What a parameter's value is checked against: the item's maximum and the metric it reads."""

    sub_max: Fraction
    metric: MetricSpec
    report: Report


def _and_list(words: list[str]) -> str:
    return words[0] if len(words) == 1 else _("{first} and {last}").format(first=", ".join(words[:-1]), last=words[-1])


def _shown(raw: Any) -> str:
    return _("a mapping") if isinstance(raw, dict) else _("a list") if isinstance(raw, list) else repr(raw)


@dataclass(frozen=True)
class Number:
    """An exact number (YAML floats load as Decimal; `"99.5"` and `1/3` are read exactly too).
    `minimum` (inclusive, None: none), `above` (exclusive), `maximum`; `points`: at most the item's
    maximum. `range_words` says the range in a message instead of the generated words."""

    minimum: Optional[Fraction] = Fraction(0)
    above: Optional[Fraction] = None
    maximum: Optional[Fraction] = None
    points: bool = False
    range_words: str = ""

    def read(self, raw: Any, name: str, path: tuple, ctx: Context) -> Any:
        try:
            value = to_fraction(raw)
        except (TypeError, ValueError, ArithmeticError):
            ctx.report(path, _("expected an exact number, got {value!r}").format(value=raw))
            return INVALID
        if ((self.minimum is not None and value < self.minimum) or (self.above is not None and value <= self.above)
                or (self.maximum is not None and value > self.maximum)):
            wanted = _(self.range_words) if self.range_words else _("{name} must be {range}").format(
                name=name, range=self.range())
            ctx.report(path, _("{wanted}, got {value}").format(wanted=wanted, value=exact_text(value)))
            return INVALID
        if self.points and value > ctx.sub_max:
            ctx.report(path, _("worth {points} points, more than the item's maximum of {max}").format(
                points=exact_text(value), max=exact_text(ctx.sub_max)))
            return INVALID
        return value

    def range(self) -> str:
        parts = ([_("above {n}").format(n=exact_text(self.above))] if self.above is not None else
                 [f"≥ {exact_text(self.minimum)}"] if self.minimum is not None else [])
        if self.maximum is not None:
            parts.append(_("at most {n}").format(n=exact_text(self.maximum)))
        return _(" and ").join(parts) or _("any number")


@dataclass(frozen=True)
class Text:
    """Words (a label in the criteria's own language); numbers written as words are kept as text."""

    def read(self, raw: Any, name: str, path: tuple, ctx: Context) -> Any:
        if isinstance(raw, (dict, list)) or raw is None or isinstance(raw, bool):
            ctx.report(path, _("{name}: expected text, got {value}").format(name=name, value=_shown(raw)))
            return INVALID
        return str(raw)


@dataclass(frozen=True)
class Table:
    """A mapping to values of one type. With `keys`, its keys are those of the metric (`keys(metric)`:
    its categories, its answer options …), named `key_words` in messages; with `every`, each of them
    must be given (`missing_words` says what a missing one lacks)."""

    values: Any
    what: str  # "a mapping of category to points"
    keys: Optional[Callable[[MetricSpec], tuple[str, ...]]] = None
    key_words: str = "key"
    every: bool = False
    missing_words: str = "is missing"

    def read(self, raw: Any, name: str, path: tuple, ctx: Context) -> Any:
        if not isinstance(raw, dict) or not raw:
            ctx.report(path, _("{name}: expected {what}").format(name=name, what=_(self.what)))
            return INVALID
        allowed = self.keys(ctx.metric) if self.keys else None
        out, ok = {}, True
        for key, value in raw.items():
            if allowed is not None and key not in allowed:
                ctx.report(path + (key,), _("unknown {what} {key!r}; the metric allows: {allowed}").format(
                    what=_(self.key_words), key=key, allowed=", ".join(allowed)))
                ok = False
                continue
            got = self.values.read(value, f"{name}.{key}", path + (key,), ctx)
            ok = ok and got is not INVALID
            out[key] = got
        for key in allowed if self.every and allowed is not None else ():
            if key not in raw:
                ctx.report(path, _("{what} {key!r} {missing}").format(what=_(self.key_words), key=key,
                                                                        missing=_(self.missing_words)))
                ok = False
        return out if ok else INVALID


@dataclass(frozen=True)
class Records:
    """A non-empty list of mappings with declared fields (`what`: one of them, e.g. "band"; `shape`:
    its fields in a few words; `note`: a hint for a stray key). `check(fields) -> problem or None`
    looks at one well-formed record."""

    fields: tuple["Param", ...]
    what: str
    shape: str = ""
    note: str = ""
    check: Optional[Callable[[dict], Optional[str]]] = None

    def read(self, raw: Any, name: str, path: tuple, ctx: Context) -> Any:
        if not isinstance(raw, list) or not raw:
            ctx.report(path, _("{name}: expected a non-empty list of {what}s").format(name=name, what=_(self.what)))
            return INVALID
        names = [f.name for f in self.fields]
        shape = _("a mapping with {fields}").format(fields=_(self.shape) if self.shape else _and_list(names))
        out, ok = [], True
        for i, item in enumerate(raw):
            at = path + (i,)
            if not isinstance(item, dict):
                ctx.report(at, _("expected {shape}").format(shape=shape))
                ok = False
                continue
            stray = [str(k) for k in item if k not in names]
            if stray:
                note = f" ({_(self.note)})" if self.note else ""
                ctx.report(at, _("unknown key(s) in a {what}: {keys}; a {what} has {fields}").format(
                    what=_(self.what), keys=", ".join(stray), fields=_and_list(names)) + note)
                ok = False
                continue
            values = _read_fields(self.fields, item, at, ctx)
            problem = self.check(values) if values is not None and self.check else None
            if problem:
                ctx.report(at, problem)
            if values is None or problem:
                ok = False
                continue
            out.append(values)
        return out if ok else INVALID


@dataclass(frozen=True)
class Param:
    """One parameter of a method. `default`: a value, `REQUIRED` or `ITEM_MAX`; `kinds`: the metric
    kinds it applies to (empty: all; on another kind it must not be given, and is never required)."""

    name: str
    type: Any  # Number, Text, Table or Records
    doc: str
    default: Any = None
    kinds: tuple[str, ...] = ()


def _read_fields(fields: tuple[Param, ...], raw: dict, path: tuple, ctx: Context) -> Optional[dict]:
    out, ok = {}, True
    for p in fields:
        applies = not p.kinds or ctx.metric.kind in p.kinds
        if p.name in raw and not applies:
            ctx.report(path + (p.name,), _("{name} applies to a metric of kind {kinds}; {metric!r} is {kind}").format(
                name=p.name, kinds=" / ".join(p.kinds), metric=ctx.metric.id, kind=ctx.metric.kind), key=True)
            ok = False
        elif p.name in raw:
            value = p.type.read(raw[p.name], p.name, path + (p.name,), ctx)
            ok = ok and value is not INVALID
            out[p.name] = value
        elif p.default is REQUIRED and applies:
            ctx.report(path + (p.name,), _("{name} is missing: {doc}").format(name=p.name, doc=_(p.doc)))
            ok = False
        else:  # a declared default, read like a given value (numbers become exact)
            default = ctx.sub_max if p.default is ITEM_MAX else None if p.default is REQUIRED else p.default
            simple = default is not None and isinstance(p.type, (Number, Text))
            out[p.name] = p.type.read(default, p.name, path + (p.name,), ctx) if simple else default
    return out if ok else None


def read_params(method, raw: dict, sub_max: Fraction, metric: MetricSpec, report: Report) -> Any:
    """A sub-criterion's `params` checked against its method's declared parameters, then built by the
    method; None (with every problem reported) when they are not valid."""
    known = [p.name for p in method.parameters]
    unknown = False
    for key in raw:
        if key not in known:
            listed = ", ".join(known) if known else _("none")
            report((key,), _("method {method} has no parameter {key!r}{hint}; its parameters: {keys}").format(
                method=method.name, key=key, hint=did_you_mean(str(key), known), keys=listed), key=True)
            unknown = True
    ctx = Context(sub_max, metric, report)
    values = _read_fields(tuple(method.parameters), raw, (), ctx)
    if values is None or unknown:
        return None
    return method.build(values, sub_max, metric, report)


def check_declaration(parameters: tuple[Param, ...], owner: str) -> None:
    """A method's parameter table is well formed (names unique, types known): a programming error
    otherwise, raised when the method is registered."""
    names = [p.name for p in parameters]
    if len(set(names)) != len(names):
        raise ValueError(f"scoring method {owner}: a parameter is declared twice ({', '.join(names)})")
    for p in parameters:
        if not isinstance(p, Param) or not isinstance(p.type, (Number, Text, Table, Records)):
            raise ValueError(f"scoring method {owner}: parameter {getattr(p, 'name', p)!r} is not a Param of "
                             "type Number, Text, Table or Records")
        if isinstance(p.type, Records):
            check_declaration(p.type.fields, owner)
