"""The command line's words made into the values the commands take (paths, texts, whole numbers)
without the validation library typer puts under every parameter.

typer 0.29 converts each value through a pydantic TypeAdapter: importing pydantic and building the
first adapter cost about 0.15 s of CPU at every `cchc` start (measured: a one-unit `cchc score`,
0.58 s of CPU with it, 0.45 s without). The parameters of cchc are paths, lists of paths, texts, whole numbers and flags; for
these the conversion is plain: `Path(word)` (then typer's own checks of the path, with its messages),
the word itself, `int(word)` of a word of digits. A value that is anything else (a number written
`1_000` or ` 7`, a path with a NUL byte) goes to typer's own conversion, which gives the same result
or the same error as without this module (tests/test_tests_option_values.py compares the two)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, List

try:
    from typer._coercion import build_runtime_param
    from typer._param_types import coerce_cli_path
    from typer.core import TyperGroup, _TyperParameter
except ImportError:  # a typer without pydantic: its own conversion is already plain
    from typer.core import TyperGroup

    build_runtime_param = None

PLAIN_LISTS = (List[Path], list[Path])
PLAIN = (Path, str, int, bool, *PLAIN_LISTS)
NOT_PLAIN = object()  # what a conversion gives for a value it leaves to typer's


class PlainValues:
    """The conversion of one parameter: plain values here, any other by typer's own conversion
    (built the first time one is met)."""

    def __init__(self, param: "_TyperParameter") -> None:
        self.param = param
        self.annotation = param.type_descriptor.annotation
        self.general = None

    def coerce(self, value: Any, param: "_TyperParameter", ctx) -> Any:
        many = param.multiple or param.nargs == -1
        if value is None:
            return () if many else None  # as typer's own conversion
        if not many:
            converted = self.plain(value, ctx)
        elif self.annotation in PLAIN_LISTS and isinstance(value, (list, tuple)):
            converted = [self.path(v, ctx) for v in value] if all(map(plain_path, value)) else NOT_PLAIN
        else:
            converted = NOT_PLAIN
        if converted is not NOT_PLAIN:
            return converted
        if self.general is None:
            self.general = build_runtime_param(self.param.type_descriptor)
        return self.general.coerce(value, param=param, ctx=ctx)

    def plain(self, value: Any, ctx) -> Any:
        if self.annotation is Path:
            return self.path(value, ctx) if plain_path(value) else NOT_PLAIN
        if self.annotation is str and isinstance(value, str):
            return value
        if self.annotation in (int, bool) and type(value) is self.annotation:  # a default, a flag
            return value
        if self.annotation is int and isinstance(value, str) and len(value) <= 18 and \
                value.removeprefix("-").isascii() and value.removeprefix("-").isdigit():
            return int(value)
        return NOT_PLAIN

    def path(self, value: str | Path, ctx) -> Path:
        # a Path given to typer's path check is taken as it is (no adapter): the same checks, the same messages
        return coerce_cli_path(Path(value), self.param.type_descriptor.parameter_info, path_type=Path,
                               param=self.param, ctx=ctx)


def plain_path(value: Any) -> bool:
    """Whether typer's adapter makes `value` into `Path(value)` (a NUL byte is its to report)."""
    return isinstance(value, (str, Path)) and "\0" not in str(value)


def plain_values(params) -> None:
    """Give each parameter of paths, texts, whole numbers or flags the plain conversion."""
    for param in params:
        descriptor = getattr(param, "type_descriptor", None)  # (a typer that keeps them otherwise: left alone)
        if isinstance(param, _TyperParameter) and getattr(param, "_runtime_param", False) is None and \
                descriptor is not None and descriptor.file_annotation is None and descriptor.annotation in PLAIN:
            param._runtime_param = PlainValues(param)


class PlainValuesGroup(TyperGroup):
    """A group of `cchc` commands: its own parameters and those of the command it runs convert plain
    values themselves (see the module's text)."""

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        if build_runtime_param is not None:
            plain_values(self.get_params(ctx))
        return super().parse_args(ctx, args)

    def resolve_command(self, ctx, args: list[str]):
        name, command, rest = super().resolve_command(ctx, args)
        if build_runtime_param is not None and command is not None and not isinstance(command, TyperGroup):
            # the context the command is about to be given (its help option is made for it)
            plain_values(command.get_params(command.context_class(command, info_name=name, parent=ctx,
                                                                  **command.context_settings)))
        return name, command, rest
