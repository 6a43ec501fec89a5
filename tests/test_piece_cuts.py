"""Where a CSV file's units are cut into pieces (engine.inputs.evidence._cuts): every unit in one
piece, in order; the run's last pieces smaller, so that the processes sharing them end together."""
from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from engine.inputs import evidence
from engine.inputs.evidence import _cuts, evidence_pieces
from engine.inputs.tables import ProblemSink


@given(units=st.integers(0, 3000), size=st.integers(1, 200), last=st.booleans())
def test_every_unit_is_in_one_piece_and_the_last_pieces_are_smaller(units, size, last):
    cuts = _cuts(units, size, last)
    assert [a for a, _b in cuts] == ([0] + [b for _a, b in cuts[:-1]] if cuts else []) and \
        (cuts[-1][1] == units if cuts else units == 0)
    assert all(0 < b - a <= size for a, b in cuts)
    plain = [(a, min(a + size, units)) for a in range(0, units, size)]
    if last and units > 2 * size and size // 4 >= evidence._SMALLEST:
        assert all(b - a <= size // 4 for a, b in cuts if b > units - 2 * size)
        assert all(a % size == 0 and (b - a == size or b == units - 2 * size)
                   for a, b in cuts if b <= units - 2 * size)  # before them: whole pieces
    else:
        assert cuts == plain


def test_only_the_last_csv_file_of_the_evidence_ends_in_smaller_pieces(tmp_path: Path):
    header = "unit_id,unit_name,unit_type,period,metric,value\n"
    for name in ("a.csv", "b.csv"):
        rows = "".join(f"{name[0]}-{u:04d},U,huyen,2023,m,1\n" for u in range(300))
        (tmp_path / name).write_text(header + rows, encoding="utf-8")
    pieces = evidence_pieces([tmp_path], 64, 64, ProblemSink())
    sizes = [(p.path.name, p.units) for p in pieces]
    assert sizes == [("a.csv", n) for n in (64, 64, 64, 64, 44)] + \
        [("b.csv", n) for n in (64, 64, 44)] + [("b.csv", 16)] * 8
