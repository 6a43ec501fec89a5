"""The command line's values converted without pydantic (commands/option_values.py) are what typer's
own conversion gives: the same values, the same errors, the same messages and exit codes; and a
command that needs no other conversion starts without importing pydantic."""
from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest
from hypothesis import given, settings, strategies as st

from commands import option_values
from conftest import DATA

ROOT = Path(__file__).resolve().parent.parent


@functools.cache
def _param(annotation, option: bool = True):
    """A typer parameter of `annotation` as cli.py declares them (an option, or an argument); made
    once (the test of typer's own path checks changes what it checks on one made apart)."""
    return _new_param(annotation, option)


def _new_param(annotation, option: bool = True):
    import typer
    from typer.main import get_command

    app = typer.Typer(cls=option_values.PlainValuesGroup)
    info = typer.Option("--value") if option else typer.Argument()

    def command(value: annotation = info) -> None:  # type: ignore[valid-type]
        pass

    command.__annotations__ = {"value": annotation, "return": None}
    app.command()(command)
    app.command("other")(lambda: None)
    command = get_command(app).commands["command"]
    [param] = command.params
    param.command = command  # the context a value is converted in is the command's
    return param


def _outcome(runtime, param, value):
    from typer._click import Context
    from typer._click.exceptions import BadParameter

    try:
        return "value", runtime.coerce(value, param=param, ctx=Context(param.command))
    except BadParameter as exc:
        return "error", exc.format_message()


def _agree(annotation, value, option=True):
    from typer._coercion import build_runtime_param

    param = _param(annotation, option)
    plain = _outcome(option_values.PlainValues(param), param, value)
    general = _outcome(build_runtime_param(param.type_descriptor), param, value)
    assert plain == general, (annotation, value)
    assert type(plain[1]) is type(general[1]), (annotation, value)  # noqa: E721 - Path, not str; int, not bool
    if isinstance(plain[1], list):
        assert [type(v) for v in plain[1]] == [type(v) for v in general[1]]
    return plain


WORDS = st.one_of(st.text(max_size=12), st.from_regex(r"[-+ ]?[0-9_]{0,20}[ .]?[0-9]{0,3}", fullmatch=True),
                  st.sampled_from(["", "-", "0", "-0", "007", "1_000", " 7", "7 ", "+5", "5.0", "٣", "a\0b", ".",
                                   str(DATA), str(DATA / "sample-criteria.yaml"), "/nonexistent/x"]))


@settings(max_examples=150, deadline=None)
@given(value=st.one_of(WORDS, st.none(), st.integers(-10**20, 10**20), st.booleans()))
def test_a_single_value_converts_as_typer_converts_it(value):
    for annotation in (Path, str, int, bool):
        _agree(annotation, value)
    _agree(Path, value, option=False)


@settings(max_examples=80, deadline=None)
@given(values=st.one_of(st.lists(WORDS, max_size=4).map(tuple), st.lists(WORDS, max_size=4), st.none(), WORDS))
def test_a_list_of_paths_converts_as_typer_converts_it(values):
    _agree(List[Path], values)
    _agree(List[Path], values, option=False)


def test_typer_checks_and_messages_of_a_path_are_kept(tmp_path):
    """What typer checks of an existing path (readable by default) it still checks, with its words."""
    from typer._click import Context
    from typer._click.exceptions import BadParameter

    param = _new_param(Path)
    param.type_descriptor.parameter_info.exists = True
    param.type_descriptor.parameter_info.dir_okay = False
    for value, expected in ((tmp_path / "missing", "does not exist"), (tmp_path, "is a directory")):
        with pytest.raises(BadParameter, match=expected):
            option_values.PlainValues(param).coerce(str(value), param=param, ctx=Context(param.command))
        _agree_with = _outcome(option_values.PlainValues(param), param, str(value))
        from typer._coercion import build_runtime_param

        assert _agree_with == _outcome(build_runtime_param(param.type_descriptor), param, str(value))


@pytest.fixture
def cchc(cchc, monkeypatch):
    """The command line run in this process, its click command built anew for every run as a new
    process builds it: the conversion a run gives the command's parameters is not kept for the next
    (the tests' shared runner keeps one command per app, tests/conftest.py)."""
    import typer.main
    import typer.testing

    monkeypatch.setattr(typer.testing, "_get_command", typer.main.get_command)
    return cchc


BAD_COMMAND_LINES = [
    ["score", "/nonexistent/criteria.yaml", str(DATA / "evidence")],
    ["score", str(DATA / "sample-criteria.yaml"), "/nonexistent/evidence"],
    ["score", str(DATA / "evidence"), str(DATA / "evidence")],
    ["validate", str(DATA / "sample-criteria.yaml"), "--criteria", "/nonexistent/c.yaml"],
    ["show", str(DATA)],
    ["score", str(DATA / "sample-criteria.yaml"), str(DATA / "evidence"), "--rows", "ba"],
    ["score", str(DATA / "sample-criteria.yaml"), str(DATA / "evidence"), "--workers", "1.5"],
    ["score", str(DATA / "sample-criteria.yaml"), "a\0b"],
    ["score", "--help"], ["archive", "add", "--help"], ["report", "unit"], ["--version"],
]


@pytest.mark.parametrize("args", BAD_COMMAND_LINES, ids=lambda a: " ".join(a[:1] + a[-2:])[-40:])
def test_the_command_line_says_what_typer_alone_says(args, cchc, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    plain = cchc(*args, "--out", tmp_path / "a") if args[0] == "score" and "--help" not in args else cchc(*args)
    monkeypatch.setattr(option_values, "plain_values", lambda params: None)  # typer's own conversion
    general = cchc(*args, "--out", tmp_path / "a") if args[0] == "score" and "--help" not in args else cchc(*args)
    assert (plain.exit_code, plain.stdout, plain.stderr) == (general.exit_code, general.stdout, general.stderr)
    assert plain.exit_code != 0 or "--help" in args or "--version" in args, plain.stdout + plain.stderr


def test_a_command_starts_without_pydantic():
    """`cchc validate` (paths, a list of paths) and `cchc score` (also texts and numbers) run without
    importing pydantic, which typer would import for their values."""
    code = ("import sys, cli\nfor argv in (['validate', %r, %r], ['score', %r, %r, '--rows', '3', '--engine', "
            "'reference', '-o', %r]):\n    sys.argv = ['cchc', *argv]\n    try:\n        cli.app()\n"
            "    except SystemExit as e:\n        assert not e.code, e.code\n"
            "assert 'pydantic' not in sys.modules, 'pydantic imported'\n")
    crit, ev = str(DATA / "sample-criteria.yaml"), str(DATA / "evidence")
    import tempfile

    with tempfile.TemporaryDirectory() as out:
        run = subprocess.run([sys.executable, "-c", code % (crit, ev, crit, ev, str(Path(out) / "o"))], cwd=ROOT,
                             capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
