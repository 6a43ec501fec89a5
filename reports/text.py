"""How numbers and dates read in a Vietnamese report. Exact values stay exact until here."""
from __future__ import annotations

from datetime import date
from fractions import Fraction
from typing import Optional, Union

from engine.core.numbers import display, to_fraction

Number = Union[Fraction, int, str]


def num(value: Optional[Number]) -> str:
    """Points, indices and computed values: 2 decimals, half-up, decimal comma (`93,54`)."""
    if value is None:
        return ""
    return display(to_fraction(value), vietnamese=True)


def compact(value: Number) -> str:
    """A constant from the criteria (a threshold, a step, a count): as written, at most 2 decimals,
    no trailing zeros (`98`, `92,5`, `0,25`)."""
    f = to_fraction(value)
    text = display(f, vietnamese=True)
    if f * 100 == int(f * 100) and "," in text:
        text = text.rstrip("0").rstrip(",")
    return text


def percent(value: Optional[Number]) -> str:
    return "" if value is None else f"{num(value)} %"


def vn_date(value: Union[str, date, None]) -> str:
    """`2023-02-10` → `10/02/2023`."""
    if value is None or value == "":
        return ""
    d = value if isinstance(value, date) else date.fromisoformat(str(value))
    return d.strftime("%d/%m/%Y")


def long_date(value: Union[str, date]) -> str:
    """The date line of an official document: `ngày 15 tháng 01 năm 2024`."""
    d = value if isinstance(value, date) else date.fromisoformat(str(value))
    return f"ngày {d.day:02d} tháng {d.month:02d} năm {d.year}"


def signed(value: Optional[Number]) -> str:
    """A change: `+1,25`, `-0,50`, `0,00`."""
    if value is None:
        return ""
    f = to_fraction(value)
    text = num(f)
    return f"+{text}" if f > 0 else text


ROMAN = ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"),
         (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))


def roman(n: int) -> str:
    out = []
    for value, letters in ROMAN:
        while n >= value:
            out.append(letters)
            n -= value
    return "".join(out)


def basis(title: str, decision: str, issuer: str) -> str:
    """What a report is scored under, as the subtitle of an official form: `Theo <bộ chỉ số> ban
    hành kèm theo Quyết định số 1/QĐ-UBND của <cơ quan>`. A decision written as prose is a note of
    the criteria set's authors, not a citation: it is not printed."""
    text = f"Theo {title}"
    if decision and len(decision.split()) == 1:
        text += f" ban hành kèm theo Quyết định số {decision}"
        if issuer:
            text += f" của {issuer}"
    return text
