"""Exact numbers: the grammar of numbers people type, canonical text, display rounding (half-up, 2
decimals)."""
from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from fractions import Fraction
from typing import Optional

from .i18n import _, language
from .memo import remember

Exact = Fraction


def to_fraction(value: object) -> Fraction:
    """An exact Fraction from an int, Decimal or numeric string; floats and bools are refused."""
    if isinstance(value, bool):
        raise TypeError(_("a boolean is not a number"))
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
    raise TypeError(_("{kind} is not an exact number").format(kind=type(value).__name__))


class NumberError(ValueError):
    """A number written in a form the grammar refuses; the message says what to write instead."""


MAX_DIGITS = 100  # per side of the decimal point; `1e-10000000` would take seconds to convert


def check_digits(dec: Decimal) -> None:
    """Refuse a number with more than MAX_DIGITS digits before or after the decimal point."""
    t = dec.as_tuple()
    if len(t.digits) + t.exponent > MAX_DIGITS or -t.exponent > MAX_DIGITS:
        raise NumberError(_("number out of range: at most {n} digits before and after the decimal point").format(
            n=MAX_DIGITS))


def _from_decimal(dec: Decimal) -> Fraction:
    if not dec.is_finite():
        raise ValueError(_("{number} is not a finite number").format(number=dec))
    check_digits(dec)
    return Fraction(dec)


class TypedNumber(str):
    """The text of a number a spreadsheet stored as a number (not typed as text): its decimal point
    is never a thousands separator, so the three-digit ambiguity check does not apply."""


_GROUP_MARKS = re.compile(r"[\s_'\u00a0\u2009\u202f]")
_PLAIN = re.compile(r"(\d+)(?:([.,])(\d+))?")
_WHOLE = re.compile(r"\d+")
_EXPONENT = re.compile(r"\d+(?:[.,]\d+)?[eE][+-]?\d+")
_TYPED_PERCENT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")  # how `_xlsx_value` writes a sheet's percentage
_SIMPLE = re.compile(r"([0-9]{1,50})(?:[.,]([0-9]{1,50}))?")  # the most common form, short of MAX_DIGITS


def _ascii_suggestion(text: str) -> str:
    """`text` with every non-ASCII digit replaced by its ASCII digit (and full-width signs folded)."""
    out = []
    for ch in text:
        d = unicodedata.decimal(ch, None)
        out.append(str(d) if d is not None else unicodedata.normalize("NFKC", ch))
    return "".join(out)


def _ungrouped(body: str) -> str:
    """A grouped number without its group marks: the last separator stays as the decimal point when
    it differs from the others (`1.234,5` → 1234.5), else all of them go (`1,000,000` → 1000000)."""
    body = _GROUP_MARKS.sub("", body)
    seps = [c for c in body if c in ".,"]
    if seps and (len(seps) == 1 or seps[-1] != seps[0]):
        head, _sep, tail = body.rpartition(seps[-1])
        return head.replace(".", "").replace(",", "") + "." + tail
    return body.replace(".", "").replace(",", "")


def parse_number(text: str, *, percent: bool = False, whole: bool = False) -> Fraction:
    """Read a number as people type it in YAML, CSV or a spreadsheet cell (the grammar of
    docs/evidence-format.md): `93.54` or `93,54`; in a percent field also `93.54%` and a ratio
    `677/2203`, read as the share 100 × 677 ÷ 2203. Refused, with what to write instead: thousands
    separators and digit groups (`2 203`, `1_000`, `1.000.000`), non-ASCII digits, exponents, `%`
    anywhere but once at the end; and where a `whole` number is expected (a count), a lone
    separator before exactly three digits (`2.000`, `1,000`: two or two thousand?). In a percent or
    points field that form is a decimal: a thousand percent or points is out of range anyway."""
    m = _SIMPLE.fullmatch(text.strip())
    if m is not None and not (whole and m[2] is not None):
        # the commonest form, read as `read_number` reads it: ASCII digits, at most one separator
        frac = m[2]
        return Fraction(int(m[1])) if frac is None else Fraction(int(m[1] + frac), 10 ** len(frac))
    return read_number(text, percent=percent, whole=whole)


def read_number(text: str, *, percent: bool = False, whole: bool = False) -> Fraction:
    """`parse_number` by the whole grammar, step by step."""
    t = text.strip()
    if not t:
        raise NumberError(_("empty: write a number"))
    if not t.isascii() and any(not ch.isascii() and not _GROUP_MARKS.match(ch) for ch in t):
        fixed = _ascii_suggestion(t)
        if fixed != t and fixed.isascii():
            raise NumberError(_("{text!r} uses non-ASCII digits or signs: write {fixed}").format(text=t, fixed=fixed))
        raise NumberError(_("{text!r} is not a number").format(text=t))
    if "%" in t:
        body = t.rstrip("%").rstrip()
        if not body:
            raise NumberError(_("{text!r} has no digits: write a number").format(text=t))
        if t.count("%") > 1 or "%" in body:
            raise NumberError(_("{text!r} has more than one {sign} sign: write {fixed}{sign}").format(
                text=t, fixed=body.replace('%', ''), sign="%"))
        if not percent and isinstance(text, TypedNumber) and _TYPED_PERCENT.fullmatch(body):
            # a sheet's percentage-formatted number; any other text is refused below as it is written
            stored = exact_text(Fraction(body) / 100)
            raise NumberError(_("the cell stores {stored} but is formatted as a percentage (shows {shown}); this "
                                "value is a plain number: remove the cell's percentage format").format(
                stored=stored, shown=t))
        if not percent:
            raise NumberError(_("{text!r} is a percentage, but this value is a plain number: write {fixed}").format(
                text=t, fixed=body))
        if "/" in body:
            raise NumberError(_("{text!r}: a ratio is already a share; write {fixed} without %").format(
                text=t, fixed=body.replace(' ', '')))
        t = body
    if "/" in t:
        return _ratio(t, percent)
    sign = ""
    if t[0] in "+-":
        sign, t = t[0], t[1:].lstrip()
    if _EXPONENT.fullmatch(t):
        try:
            written_out = _plain(Decimal(t.replace(",", ".")))
        except ValueError as exc:
            raise NumberError(_("{reason}; {text!r} is in exponent notation").format(
                reason=exc, text=sign + t)) from None
        raise NumberError(_("{text!r} is in exponent notation: write the number out in full, like {fixed}").format(
            text=sign + t, fixed=sign + written_out))
    if _GROUP_MARKS.search(t) or t.count(".") + t.count(",") > 1:
        fixed = _ungrouped(t)
        if re.fullmatch(r"\d+(?:\.\d+)?", fixed):
            raise NumberError(_("{text!r} has thousands separators or digit groups: write {fixed}").format(
                text=sign + t, fixed=sign + fixed))
        raise NumberError(_("{text!r} is not a number").format(text=sign + t))
    m = _PLAIN.fullmatch(t)
    if not m:
        raise NumberError(_("{text!r} is not a number").format(text=sign + t))
    digits, sep, frac = m.groups()
    if (whole and sep and len(frac) == 3 and len(digits) <= 3 and digits[0] != "0"
            and not isinstance(text, TypedNumber)):
        instead = (_("{a} or {b}").format(a=f"{sign}{digits}{frac}", b=f"{sign}{digits}") if frac == "000"
                   else f"{sign}{digits}{frac}")
        raise NumberError(_("{text!r} is ambiguous: {sep!r} may be a decimal point or a thousands separator; "
                            "write {fixed} (whole numbers have no separators)").format(text=sign + t, sep=sep, fixed=instead))
    return decimal_fraction(sign, digits, frac or "")


def decimal_fraction(sign: str, digits: str, frac: str) -> Fraction:
    """The exact value of the decimal `{sign}{digits}.{frac}` (ASCII digits), as
    `_from_decimal(Decimal(...))` gives it (the same refusal past MAX_DIGITS) without the Decimal."""
    significant = len((digits + frac).lstrip("0")) or 1  # a Decimal keeps one digit for zero
    if significant - len(frac) > MAX_DIGITS or len(frac) > MAX_DIGITS:
        raise NumberError(_("number out of range: at most {n} digits before and after the decimal point").format(
            n=MAX_DIGITS))
    return Fraction(int(sign + digits + frac), 10 ** len(frac))


def _ratio(t: str, percent: bool) -> Fraction:
    num, _sep, den = (s.strip() for s in t.partition("/"))
    if not percent:
        raise NumberError(_("{text!r}: a ratio is read only in a percent field (as a share); write the number itself").format(
            text=t))
    if not (_WHOLE.fullmatch(num) and _WHOLE.fullmatch(den)):
        raise NumberError(_("{text!r}: a ratio is two whole numbers, like 677/2203").format(text=t))
    if max(len(num), len(den)) > MAX_DIGITS:
        raise NumberError(_("number out of range: at most {n} digits").format(n=MAX_DIGITS))
    if int(den) == 0:
        raise NumberError(_("{text!r}: the denominator is 0").format(text=t))
    return Fraction(100 * int(num), int(den))


def _plain(dec: Decimal) -> str:
    check_digits(dec)
    return format(dec.normalize(), "f") if dec == dec.to_integral_value() else format(dec, "f")


def is_terminating(value: Fraction) -> bool:
    return _decimal_places(value.denominator) is not None


def _decimal_places(den: int) -> Optional[int]:
    """How many decimal places 1/den has when it terminates (den = 2^a × 5^b: max(a, b)), else None."""
    twos = (den & -den).bit_length() - 1
    den >>= twos
    fives = 0
    while den % 5 == 0:
        den //= 5
        fives += 1
    return max(twos, fives) if den == 1 else None


# Per denominator (figures share a few dozen): its decimal places and 10^places ÷ it, (0, 0) when
# the decimal does not terminate. Bounded (engine.core.memo).
_SCALES: dict[int, tuple[int, int]] = {}


def exact_text(value: Fraction) -> str:
    """Canonical exact text: a plain decimal when it terminates (`1.5`, `0.25`, `10`), else `p/q`.
    Integer arithmetic only, so no digit is ever rounded away (a Decimal division would round
    beyond 28 significant digits)."""
    return ratio_text(value.numerator, value.denominator)


def ratio_text(n: int, d: int) -> str:
    """`exact_text` of the number n/d, given in lowest terms with d > 0 (as a Fraction holds it)."""
    if d == 1:  # a whole number (most points and maxima)
        return str(n)
    scale = _SCALES.get(d)
    if scale is None:
        places = _decimal_places(d)
        scale = remember(_SCALES, d, (0, 0) if places is None else (places, 10 ** places // d))
    places, times = scale
    if not places:
        return f"{n}/{d}"
    if n < 0:
        return "-" + ratio_text(-n, d)
    digits = str(n * times)  # in lowest terms its last digit is never 0
    if len(digits) <= places:
        digits = digits.rjust(places + 1, "0")
    return digits[:-places] + "." + digits[-places:]


def words_number(value: Fraction) -> str:
    """An exact number inside Vietnamese words (a generated condition label): decimal comma."""
    return exact_text(value).replace(".", ",")


def _half_up(n: int, d: int, places: int) -> int:
    """|n/d| × 10^places rounded half-up to an integer, exactly (d > 0)."""
    return (abs(n) * 10 ** places * 2 + d) // (2 * d)


def round_half_up(value: Fraction, places: int = 2) -> Decimal:
    q = Decimal(1).scaleb(-places)
    sign = -1 if value < 0 else 1
    return (Decimal(sign * _half_up(value.numerator, value.denominator, places)) * q).quantize(q)


def display(value: Fraction, places: int = 2, *, vietnamese: bool = False) -> str:
    """Rounded for people: half-up, fixed decimals; `93,54` with the Vietnamese comma. The text
    `round_half_up` gives, made from its integer without a Decimal."""
    return ratio_display(value.numerator, value.denominator, places, vietnamese=vietnamese)


def ratio_display(n: int, d: int, places: int = 2, *, vietnamese: bool = False) -> str:
    """`display` of the number n/d (d > 0)."""
    rounded = _half_up(n, d, places)
    digits = str(rounded).rjust(places + 1, "0")
    text = ("-" if n < 0 and rounded else "") + (digits[:-places] + "." + digits[-places:] if places else digits)
    return text.replace(".", ",") if vietnamese else text


def num(value: Fraction | int, places: int = 2) -> str:
    """A number for people: rounded half-up, with the decimal comma in Vietnamese."""
    return display(Fraction(value), places, vietnamese=language() == "vi")
