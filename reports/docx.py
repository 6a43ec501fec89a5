"""Word output: a .docx template (reports/templates/unit.docx, province.docx, or the province's own
under `--templates`) rendered by docxtpl with the project's Jinja environment (values XML-escaped,
an unknown variable is an error). The shipped templates are made by scripts/make_docx_templates.py
and can be restyled in Word: fonts, margins, column widths and colours are the template's own.

Besides the context the HTML gets, a Word template gets a few fields joined for it (see
`word_fields`): a line break in a value (`\\n`) becomes a line break in the cell.
"""
from __future__ import annotations

import io
import re
from pathlib import Path

import jinja2

from engine.core.errors import InputError, Problem
from engine.core.i18n import _

from .office import fixed_package

_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
ROW_SHADE = {"area": "DFE4EC", "criterion": "F3F5F8"}


def _clean(value):
    """Text an XML document can hold, recursively through the context."""
    if isinstance(value, str):
        return _XML_ILLEGAL.sub("", value)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def word_fields(context: dict) -> dict:
    """The fields a Word template reads besides the HTML's: `letterhead` and `date_line` (text with
    line breaks); per unit-form row `text` (title, then the result), `notes` (explanations, one a
    line) and `shade` (a cell colour for area and criterion rows, white for items); `signer` and
    `recipients` (one a line) from the profile."""
    p = context["profile"]
    ctx = dict(context)
    if "unit" in context:
        lines = ([p["unit_parent"]] if p["unit_parent"] else []) + [context["unit"]["name_upper"]]
    else:
        lines = list(p["issuer_lines"])
    ctx["letterhead"] = "\n".join(lines)
    ctx["date_line"] = (f"{p['place']}, " if p["place"] else "") + context["report_date"]
    if "rows" in context:
        ctx["rows"] = [dict(r, text=r["title"] + (f"\n{r['result']}" if r["result"] else ""),
                            notes="\n".join((["Cần giải trình."] if r["needs_explanation"] else []) + r["explanation"]),
                            shade=ROW_SHADE.get(r["kind"], "FFFFFF"))
                       for r in context["rows"]]
    ctx["signer"] = "\n".join(p["signer_lines"])
    ctx["recipients"] = "\n".join(f"- {r}" for r in p["recipients"])
    return _clean(ctx)


def docx_bytes(template: Path, env: jinja2.Environment, context: dict) -> bytes:
    from docxtpl import DocxTemplate

    try:
        doc = DocxTemplate(str(template))
        doc.render(word_fields(context), jinja_env=env, autoescape=True)
    except jinja2.TemplateSyntaxError as exc:
        raise InputError([Problem(str(template), message=_("template syntax error: {reason}").format(
            reason=exc.message))]) from None
    except jinja2.UndefinedError as exc:
        raise InputError([Problem(str(template), message=(
            _("template uses something the report does not provide: {reason} "
              "(the variables are listed in docs/reports.md)").format(reason=exc.message)))]) from None
    except Exception as exc:  # a damaged or foreign .docx
        raise InputError([Problem(str(template), message=_("cannot use as a Word template: {reason}").format(
            reason=exc))]) from None
    buf = io.BytesIO()
    doc.save(buf)
    return fixed_package(buf.getvalue())
