"""Exact numbers: parsing, canonical text, display rounding (half-up, 2 decimals)."""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

Exact = Fraction


def to_fraction(value: object) -> Fraction:
    """An exact Fraction from an int, Decimal or numeric string; floats and bools are refused."""
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, (int, Fraction)):
        return Fraction(value)
    if isinstance(value, Decimal):
        return _from_decimal(value)
    if isinstance(value, str):
        text = value.strip().replace("\u00a0", "").replace(" ", "")
        if "/" in text:
            num, den = text.split("/", 1)
            return Fraction(int(num), int(den))
        return _from_decimal(Decimal(text))
    raise TypeError(f"{type(value).__name__} is not an exact number")


MAX_DIGITS = 100  # per side of the decimal point; `1e-10000000` would take seconds to convert


def check_digits(dec: Decimal) -> None:
    """Refuse a number with more than MAX_DIGITS digits before or after the decimal point."""
    t = dec.as_tuple()
    if len(t.digits) + t.exponent > MAX_DIGITS or -t.exponent > MAX_DIGITS:
        raise ValueError(f"number out of range: at most {MAX_DIGITS} digits before and after the decimal point")


def _from_decimal(dec: Decimal) -> Fraction:
    if not dec.is_finite():
        raise ValueError(f"{dec} is not a finite number")
    check_digits(dec)
    return Fraction(dec)


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
    """Canonical exact text: a plain decimal when it terminates (`1.5`, `0.25`, `10`), else `p/q`.
    Integer arithmetic only, so no digit is ever rounded away (a Decimal division would round
    beyond 28 significant digits)."""
    if not is_terminating(value):
        return f"{value.numerator}/{value.denominator}"
    places = 0
    while 10 ** places % value.denominator:
        places += 1
    digits = str(abs(value.numerator) * (10 ** places // value.denominator)).rjust(places + 1, "0")
    whole, frac = digits[:len(digits) - places], digits[len(digits) - places:].rstrip("0")
    return ("-" if value < 0 else "") + whole + ("." + frac if frac else "")


def words_number(value: Fraction) -> str:
    """An exact number inside Vietnamese words (a generated condition label): decimal comma."""
    return exact_text(value).replace(".", ",")


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
