from fractions import Fraction
from html import escape as _escape

from django import forms, template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from engine.core.numbers import display, to_fraction
from reports.notes import item_notes

register = template.Library()


@register.filter
def pts(value) -> str:
    """An exact number (a Fraction or the engine's exact text) for a Vietnamese reader: 2 decimals,
    half-up, decimal comma."""
    if value in (None, ""):
        return "—"
    return display(value if isinstance(value, Fraction) else to_fraction(str(value)), vietnamese=True)


@register.filter
def notes(decision: dict, unit_type: str = "") -> str:
    """The engine's notes on a decision (codes in the result) in words, and the unit's own reason."""
    return item_notes(decision, unit_type)


def _attrs(attrs: dict) -> str:
    """HTML attributes, escaped (`True`: the bare name)."""
    return "".join(f" {k}" if v is True else f' {k}="{_escape(str(v), quote=True)}"' for k, v in attrs.items())


@register.filter
def widget(bf) -> str:
    """A form field's input, written directly with the standard library's escaping: the unit's form
    has hundreds of fields, and Django's widget templates (or format_html per option) would dominate
    the time of every page."""
    f = bf.field
    attrs = {"name": bf.html_name, "id": bf.auto_id}
    if f.disabled:
        attrs["disabled"] = True
    value = bf.value()
    if isinstance(f, forms.BooleanField):
        attrs["type"] = "checkbox"
        if value:
            attrs["checked"] = True
        return mark_safe(f"<input{_attrs(attrs)}>")
    if isinstance(f, forms.ChoiceField):
        chosen = "" if value is None else str(value)
        options = "".join(f'<option value="{_escape(str(v), quote=True)}"{" selected" if str(v) == chosen else ""}>'
                          f"{_escape(str(label))}</option>" for v, label in f.choices)
        return mark_safe(f"<select{_attrs(attrs)}>{options}</select>")
    attrs.update(type="text", value="" if value is None else str(value))
    if getattr(f, "max_length", None):
        attrs["maxlength"] = f.max_length
    if bf.errors:
        attrs["aria-invalid"] = "true"
    return mark_safe(f"<input{_attrs(attrs)}>")


@register.filter
def field_errors(bf) -> str:
    """A field's messages, next to it (empty when there are none)."""
    if not bf.errors:
        return ""
    items = format_html_join("", "<li>{}</li>", ((e,) for e in bf.errors))
    return format_html('<ul class="errorlist" id="{}_error">{}</ul>', bf.auto_id, items)


@register.simple_tag
def unread_notices(user) -> int:
    from ..notices import unread

    return unread(user)


@register.filter
def chart_svg(group: dict) -> str:
    """A group's SVG chart drawn by the reports' own template (the province report shows the same)."""
    from reports import environment

    return mark_safe(environment("html").get_template("chart.svg.j2").render(g=group))
