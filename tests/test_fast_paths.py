"""The quick ways of reading and typing cells give exactly what the general ways give: NFC skipped
for ASCII text, dates read without strptime, decimals made exact without a Decimal, exact text
without a search for the decimal places, limits read once per file."""
from __future__ import annotations

import unicodedata
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core import limits
from engine.core.numbers import NumberError, _from_decimal, decimal_fraction, exact_text
from engine.inputs import tables
from engine.inputs.tables import ProblemSink, as_date, nfc, rows_from_csv, strptime_date

SETTINGS = settings(max_examples=400, deadline=None)


def outcome(read, text):
    """What reading gives: the value, or the kind and message of the refusal."""
    try:
        return read(text)
    except (ValueError, ArithmeticError) as exc:
        return type(exc), str(exc)


# Texts near what people write: ASCII letters and digits with a few accents and odd spaces.
cell_text = st.text(st.sampled_from("aAzZ09 -/.,\t\u00a0e\u0301éEÉ\u1ec7\u0065\u0323\u0302ſﬁ"), max_size=12) | st.text(max_size=8)


@SETTINGS
@given(cell_text)
def test_nfc_skipping_ascii_is_always_nfc(text):
    assert nfc(text) == unicodedata.normalize("NFC", text).strip()


DATE_PIECES = ["2023", "0000", "1999", "9999", "02", "2", "12", "13", "0", "00", "29", "30", "31", "32", "-", "/",
               " ", "١", "٢٠٢٣", "Quý ", "I", "x", "\u00a0"]
date_text = st.lists(st.sampled_from(DATE_PIECES), max_size=6).map("".join) | st.text("0123456789-/ ", max_size=11)


@SETTINGS
@given(date_text)
def test_the_date_reader_decides_as_strptime_does(text):
    assert outcome(as_date, text) == outcome(strptime_date, text.strip())


@SETTINGS
@given(st.dates(date(1000, 1, 1), date(9999, 12, 31)), st.booleans(), st.booleans())
def test_every_valid_date_is_read_as_strptime_reads_it(day, iso, padded):
    m, d = (f"{day.month:02d}", f"{day.day:02d}") if padded else (str(day.month), str(day.day))
    text = f"{day.year}-{m}-{d}" if iso else f"{d}/{m}/{day.year}"
    assert as_date(text) == strptime_date(text) == day


digits = st.text("0123456789", min_size=1, max_size=110)


@SETTINGS
@given(st.sampled_from(["", "+", "-"]), digits, st.text("0123456789", max_size=110))
def test_a_decimal_is_made_exact_as_through_a_decimal(sign, whole, frac):
    slow = outcome(lambda t: _from_decimal(Decimal(t)), sign + whole + ("." + frac if frac else ""))
    assert outcome(lambda _t: decimal_fraction(sign, whole, frac), None) == slow


def exact_text_by_search(value: Fraction) -> str:
    """Exact text as it was first written: a search for the number of decimal places."""
    den = value.denominator
    for p in (2, 5):
        while den % p == 0:
            den //= p
    if den != 1:
        return f"{value.numerator}/{value.denominator}"
    places = 0
    while 10 ** places % value.denominator:
        places += 1
    digits_ = str(abs(value.numerator) * (10 ** places // value.denominator)).rjust(places + 1, "0")
    whole, frac = digits_[:len(digits_) - places], digits_[len(digits_) - places:].rstrip("0")
    return ("-" if value < 0 else "") + whole + ("." + frac if frac else "")


@SETTINGS
@given(st.fractions() | st.builds(lambda n, a, b: Fraction(n, 2 ** a * 5 ** b), st.integers(),
                                  st.integers(0, 60), st.integers(0, 60)))
def test_exact_text_is_what_the_search_gave(value):
    assert exact_text(value) == exact_text_by_search(value)


def test_a_table_reads_its_text_limit_once_and_only_when_it_has_rows(tmp_path, monkeypatch):
    calls = []
    read = limits.limit
    monkeypatch.setattr(tables, "limit", lambda name: calls.append(name) or read(name))
    many = tmp_path / "many.csv"
    many.write_text("a,b\n" + "x,y\n" * 50, encoding="utf-8")
    header, rows = rows_from_csv(many, "many.csv", ProblemSink())
    assert len(rows) == 50 and calls.count("string_chars") == 1

    monkeypatch.setenv("CCHC_MAX_STRING_CHARS", "lots")
    only_header = tmp_path / "header.csv"
    only_header.write_text("a,b\n", encoding="utf-8")
    assert rows_from_csv(only_header, "header.csv", ProblemSink()) == (["a", "b"], [])  # never asked for
    with pytest.raises(limits.InputError) as refused:
        rows_from_csv(many, "many.csv", ProblemSink())
    assert "CCHC_MAX_STRING_CHARS" in str(refused.value.problems[0])


def test_a_cell_over_the_text_limit_is_still_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("CCHC_MAX_STRING_CHARS", "5")
    f = tmp_path / "t.csv"
    f.write_text("a,b\nabcdef,x\nabc,x\n", encoding="utf-8")
    sink = ProblemSink()
    header, rows = rows_from_csv(f, "t.csv", sink)
    assert [r for r, _cells in rows] == [3]
    assert len(sink.problems) == 1 and "CCHC_MAX_STRING_CHARS" in sink.problems[0].message
