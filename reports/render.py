"""The one Jinja environment factory and the one render path.

Jinja kinds: `html` (autoescaped), `md` (every value written into a Markdown table is escaped so
that `|`, newlines or markup in a name or a citation cannot break the table) and `docx` (a Word
template rendered by docxtpl, values XML-escaped). `produce` makes every output format from one
context: html, md and docx from their templates, pdf from the HTML (WeasyPrint), xlsx from the
context (reports/sheets.py). Templates are looked up in a province's own folder first
(`--templates DIR`), then in the ones shipped here.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

import jinja2
from markupsafe import Markup

from engine.core.errors import InputError, Problem
from engine.core.i18n import _

from . import text

KINDS = ("html", "md", "docx")
OUTPUTS = ("html", "md", "xlsx", "docx", "pdf")
SHIPPED = Path(__file__).parent / "templates"
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|&~#])")
_LINE_BREAKS = re.compile(r"\s*[\r\n\u2028\u2029]+\s*")


def md_escape(value: Any) -> str:
    """Plain text made safe inside a Markdown table cell. `Markup` passes unchanged: it is a
    fragment a template (not the data) wrote."""
    if isinstance(value, Markup):
        return str(value)
    s = _LINE_BREAKS.sub(" ", str(value))
    return _MD_SPECIAL.sub(r"\\\1", s)


def environment(kind: str, templates: Optional[Path] = None) -> jinja2.Environment:
    """The Jinja environment for one output kind: StrictUndefined (a misspelt variable is an error,
    never an empty cell), HTML autoescaped, Markdown escaped value by value."""
    if kind not in KINDS:
        raise ValueError(f"unknown report format {kind!r}")
    loaders: list[jinja2.BaseLoader] = []
    if templates is not None:
        if not templates.is_dir():
            raise InputError([Problem(str(templates), message=_("templates folder not found"))])
        loaders.append(jinja2.FileSystemLoader(str(templates)))
    loaders.append(jinja2.FileSystemLoader(str(SHIPPED)))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=kind in ("html", "docx"),
        undefined=jinja2.StrictUndefined,
        finalize=md_escape if kind == "md" else None,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=True,
    )
    env.filters.update(num=text.num, compact=text.compact, percent=text.percent, vn_date=text.vn_date,
                       signed=text.signed, roman=text.roman, md=md_escape)
    env.globals["kind"] = kind
    return env


@lru_cache(maxsize=8)
def _cached(kind: str, templates: Optional[str]) -> jinja2.Environment:
    return environment(kind, Path(templates) if templates else None)


def render(name: str, kind: str, context: dict, templates: Optional[Path] = None) -> bytes:
    """Render `NAME.KIND.j2` to UTF-8 bytes (LF line ends, one final newline)."""
    env = _cached(kind, str(templates) if templates else None)
    template_name = f"{name}.{kind}.j2"
    try:
        out = env.get_template(template_name).render(**context)
    except jinja2.TemplateNotFound as exc:
        where = str(templates) if templates else str(SHIPPED)
        raise InputError([Problem(where, message=_("template {name} not found").format(name=exc.name))]) from None
    except jinja2.TemplateSyntaxError as exc:
        raise InputError([Problem(exc.filename or exc.name or template_name, exc.lineno or 0, 0,
                                  _("template syntax error: {reason}").format(reason=exc.message))]) from None
    except jinja2.UndefinedError as exc:
        raise InputError([Problem(_origin(env, template_name), message=(
            _("template uses something the report does not provide: {reason} "
              "(the variables are listed in docs/reports.md)").format(reason=exc.message)))]) from None
    out = out.replace("\r\n", "\n")
    return (out.rstrip("\n") + "\n").encode("utf-8")


def _origin(env: jinja2.Environment, name: str) -> str:
    try:
        source = env.loader.get_source(env, name)
        return source[1] or name
    except jinja2.TemplateNotFound:
        return name


def template_path(name: str, templates: Optional[Path] = None) -> Path:
    """A file template (`unit.docx`): the province's own first, else the shipped one."""
    for folder in ([templates] if templates is not None else []) + [SHIPPED]:
        if (folder / name).is_file():
            return folder / name
    raise InputError([Problem(str(templates or SHIPPED), message=_("template {name} not found").format(name=name))])


def produce(name: str, kind: str, context: dict, templates: Optional[Path] = None) -> bytes:
    """One report (`unit`, `province`) in one output format, as bytes."""
    if kind in ("html", "md"):
        return render(name, kind, context, templates)
    if kind == "pdf":
        from .pdf import pdf_bytes

        return pdf_bytes(render(name, "html", context, templates))
    if kind == "docx":
        from .docx import docx_bytes

        return docx_bytes(template_path(f"{name}.docx", templates), _cached("docx", str(templates) if templates else None),
                          context)
    if kind == "xlsx":
        from . import sheets

        return {"unit": sheets.unit_workbook, "province": sheets.province_workbook}[name](context)
    raise ValueError(f"unknown report format {kind!r}")
