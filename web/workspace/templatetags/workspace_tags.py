from fractions import Fraction

from django import template

from engine.numbers import display, to_fraction

register = template.Library()


@register.filter
def pts(value) -> str:
    """An exact number (a Fraction or the engine's exact text) for a Vietnamese reader: 2 decimals,
    half-up, decimal comma."""
    if value in (None, ""):
        return "—"
    return display(value if isinstance(value, Fraction) else to_fraction(str(value)), vietnamese=True)
