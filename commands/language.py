"""The command-line libraries (click, typer) in the reader's language: their own texts, looked up
through the cchc catalogue (engine/locale)."""
from __future__ import annotations

import gettext
import re

from engine.core.i18n import N_, _, language, ngettext


def install_for_libraries() -> None:
    """Let the command-line libraries (click, typer) speak the same language: they look their
    texts up through the `gettext` module's functions, bound when they are imported, so this runs
    before they are. The catalogue carries translations of the texts of theirs that a user sees.

    The click that typer carries inside (`typer._click`) writes its usage line, its help option
    and its usage errors in English without gettext: those texts are translated where they are
    made (`library_text`)."""
    gettext.gettext = _
    gettext.ngettext = ngettext
    try:
        from typer._click import core, formatting
        from typer.exceptions import TyperException
    except ImportError:  # a typer on the stand-alone click, which looks its texts up through gettext
        return

    if getattr(core.Command.get_help_option, "translated", False):
        return  # installed already

    def translated(method):
        def wrapper(self, *args, **kwargs):
            return library_text(method(self, *args, **kwargs))
        return wrapper

    classes = [TyperException]
    while classes:
        cls = classes.pop()
        classes += cls.__subclasses__()
        if "format_message" in vars(cls):
            cls.format_message = translated(cls.format_message)

    write_usage = formatting.HelpFormatter.write_usage

    def usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        write_usage(self, prog, args, _("Usage: ") if prefix is None else prefix)

    formatting.HelpFormatter.write_usage = usage
    get_help_option = core.Command.get_help_option

    def help_option(self, ctx):
        option = get_help_option(self, ctx)
        if option is not None:
            option.help = _("Show this message and exit.")
        return option

    help_option.translated = True
    core.Command.get_help_option = help_option


# The usage errors of the command-line library, as it words them in English: (pattern, message).
_LIBRARY_ERRORS = tuple((re.compile(pattern, re.S), message) for pattern, message in (
    (r"Missing argument (?P<name>.+?)\.(?: (?P<more>.+))?", N_("Missing argument {name}.")),
    (r"Missing option (?P<name>.+?)\.(?: (?P<more>.+))?", N_("Missing option {name}.")),
    (r"Missing parameter(?::)? (?P<name>.+?)\.?(?: (?P<more>.+))?", N_("Missing parameter {name}.")),
    (r"No such option: (?P<name>\S+)(?: \(Possible options: (?P<options>.+)\))?", N_("No such option: {name}")),
    (r"Option (?P<name>'.+?') requires an argument\.", N_("Option {name} requires an argument.")),
    (r"Option (?P<name>'.+?') requires (?P<n>\d+) arguments\.", N_("Option {name} requires {n} arguments.")),
    (r"Option (?P<name>'.+?') does not take a value\.", N_("Option {name} does not take a value.")),
    (r"Argument (?P<name>'.+?') takes (?P<n>\d+) values\.", N_("Argument {name} takes {n} values.")),
    (r"Got unexpected extra arguments? \((?P<args>.*)\)", N_("Got unexpected extra argument(s) ({args})")),
    (r"Invalid value for (?P<name>.+?): (?P<more>.+)", N_("Invalid value for {name}:")),
    (r"Invalid value: (?P<more>.+)", N_("Invalid value:")),
    (r"Value (?P<value>.+) is not a valid (?P<kind>\w+)\.", N_("Value {value} is not a valid {kind}.")),
    (r"Input should be a valid (?P<kind>\w+)(?:,.*)?", N_("Input should be a valid {kind}.")),
    (r"(?P<kind>File|Directory|Path) (?P<name>'.+') does not exist\.", N_("{kind} {name} does not exist.")),
    (r"(?P<kind>File|Directory|Path) (?P<name>'.+') is a file\.", N_("{kind} {name} is a file.")),
    (r"(?P<kind>File|Directory|Path) (?P<name>'.+') is a directory\.", N_("{kind} {name} is a directory.")),
    (r"(?P<kind>File|Directory|Path) (?P<name>'.+') is not readable\.", N_("{kind} {name} is not readable.")),
    (r"(?P<kind>File|Directory|Path) (?P<name>'.+') is not writable\.", N_("{kind} {name} is not writable.")),
))
_LIBRARY_WORDS = {"File": N_("File"), "Directory": N_("Directory"), "Path": N_("Path"), "integer": N_("integer"),
                  "number": N_("number"), "boolean": N_("boolean"), "float": N_("number"), "decimal": N_("number")}


def library_text(text: str) -> str:
    """A usage error of the command-line library in the reader's language (as it is when the
    library words it otherwise)."""
    if language() == "en":  # the library's own words
        return text
    for pattern, message in _LIBRARY_ERRORS:
        m = pattern.fullmatch(text.strip())
        if m is None:
            continue
        parts = {k: v for k, v in m.groupdict().items() if k not in ("more", "options")}
        if "kind" in parts and parts["kind"] in _LIBRARY_WORDS:
            parts["kind"] = _(_LIBRARY_WORDS[parts["kind"]])
        shown = _(message).format(**parts)
        options, more = m.groupdict().get("options"), m.groupdict().get("more")
        if options:
            shown += " " + _("(Possible options: {options})").format(options=options)
        return f"{shown} {library_text(more)}" if more else shown
    return text


# The texts of the command-line library (typer) that a user sees, so that the catalogue carries them.
LIBRARY_TEXTS = (
    N_("Arguments"), N_("Options"), N_("Commands"), N_("Error"), N_("Aborted."), N_("Aborted!"),
    N_("Try [blue]'{command_path} {help_option}'[/] for help."), N_("[default: {}]"), N_("[env var: {}]"),
    N_("[required]"), N_("Missing command."), N_("No such command {name!r}."), N_("(deprecated) "),
    N_("default: {default}"), N_("required"), N_("env var: {var}"), N_("(dynamic)"),
)
