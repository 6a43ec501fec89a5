from fractions import Fraction

from django import forms, template
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from engine.numbers import display, to_fraction

register = template.Library()


@register.filter
def pts(value) -> str:
    """An exact number (a Fraction or the engine's exact text) for a Vietnamese reader: 2 decimals,
    half-up, decimal comma."""
    if value in (None, ""):
        return "—"
    return display(value if isinstance(value, Fraction) else to_fraction(str(value)), vietnamese=True)


@register.filter
def widget(bf) -> str:
    """A form field's input, written directly: the unit's form has hundreds of fields and Django's
    template-based widget rendering would dominate the time of every page."""
    f = bf.field
    attrs = {"name": bf.html_name, "id": bf.auto_id}
    if f.disabled:
        attrs["disabled"] = True
    value = bf.value()
    if isinstance(f, forms.BooleanField):
        attrs["type"] = "checkbox"
        if value:
            attrs["checked"] = True
        return mark_safe(f"<input{flatatt(attrs)}>")
    if isinstance(f, forms.ChoiceField):
        chosen = "" if value is None else str(value)
        options = "".join(format_html('<option value="{}"{}>{}</option>', v, mark_safe(" selected") if str(v) == chosen
                                      else "", label) for v, label in f.choices)
        return format_html("<select{}>{}</select>", flatatt(attrs), mark_safe(options))
    attrs.update(type="text", value="" if value is None else str(value))
    if getattr(f, "max_length", None):
        attrs["maxlength"] = f.max_length
    if bf.errors:
        attrs["aria-invalid"] = "true"
    return format_html("<input{}>", flatatt(attrs))


@register.filter
def field_errors(bf) -> str:
    """A field's messages, next to it (empty when there are none)."""
    if not bf.errors:
        return ""
    items = format_html_join("", "<li>{}</li>", ((e,) for e in bf.errors))
    return format_html('<ul class="errorlist" id="{}_error">{}</ul>', bf.auto_id, items)
