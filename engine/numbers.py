"""Exact numbers: parsing, canonical text, display rounding (half-up, 2 decimals)."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

Exact = Fraction


def to_fraction(value: object) -> Fraction:
    """An exact Fraction from an int, Decimal or numeric string; floats and bools are refused."""
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, (int, Fraction)):
        return Fraction(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a finite number")
        return Fraction(value)
    if isinstance(value, str):
        text = value.strip().replace("\u00a0", "").replace(" ", "")
        if "/" in text:
            num, den = text.split("/", 1)
            return Fraction(int(num), int(den))
        dec = Decimal(text)
        if not dec.is_finite():
            raise ValueError(f"{value} is not a finite number")
        return Fraction(dec)
    raise TypeError(f"{type(value).__name__} is not an exact number")


def parse_number(text: str, *, comma_decimal: bool = True) -> Fraction:
    """Parse a number as written in a CSV or spreadsheet cell: `93.54` or `93,54` (decimal comma).
    Thousands separators are not accepted (`2.203` is two point two zero three). A trailing `%` is
    dropped."""
    t = text.strip().rstrip("%").strip()
    if comma_decimal and "," in t and "." not in t:
        t = t.replace(",", ".")
    return to_fraction(t)


def is_terminating(value: Fraction) -> bool:
    den = value.denominator
    for p in (2, 5):
        while den % p == 0:
            den //= p
    return den == 1


def exact_text(value: Fraction) -> str:
    """Canonical exact text: a plain decimal when it terminates (`1.5`, `0.25`, `10`), else `p/q`."""
    if is_terminating(value):
        d = Decimal(value.numerator) / Decimal(value.denominator)
        text = format(d.normalize(), "f")
        return text
    return f"{value.numerator}/{value.denominator}"


def round_half_up(value: Fraction, places: int = 2) -> Decimal:
    q = Decimal(1).scaleb(-places)
    # Exact: scale, then round the exact rational half-up by integer arithmetic.
    scaled = value * (10 ** places)
    sign = -1 if scaled < 0 else 1
    a = abs(scaled)
    n = (a.numerator * 2 + a.denominator) // (2 * a.denominator)
    return (Decimal(sign * n) * q).quantize(q)


def display(value: Fraction, places: int = 2, *, vietnamese: bool = False) -> str:
    """Rounded for people: half-up, fixed decimals; `93,54` with the Vietnamese comma."""
    text = format(round_half_up(value, places), "f")
    return text.replace(".", ",") if vietnamese else text
