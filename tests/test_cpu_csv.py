"""A plain span of CSV rows whose cells neither start nor end with white space is taken without
stripping each cell: the rows picked are still those every check reads, whatever white space
(spaces, tabs, no-break spaces, separators a line split does not see) stands in or around a cell."""
from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from engine.inputs.evidence import CSV_COLUMNS
from engine.inputs.tables import ProblemSink, picked_cells, span_cells, span_rows, table_rows

HEADER = ["unit_id", "metric", "value"]
cell = st.text(st.sampled_from("ab7 \t\xa0\x1c\x85\u2028\u3000é"), max_size=4)
line = st.lists(cell, min_size=1, max_size=4).map(",".join)


@settings(max_examples=400, deadline=None)
@given(st.lists(line, min_size=1, max_size=6))
@example(["u1,m,7", "u1,m2, 8"]).via("one cell with a space before it")
@example(["u1,m,7\xa0", "u1,m2,8"]).via("a no-break space after a cell")
@example(["u1,m,\x1c", "u1,m2,8"]).via("a separator a line split does not see")
def test_rows_of_cells_without_white_space_at_their_ends_are_the_rows_every_check_reads(lines):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "e.csv"
        head = (",".join(HEADER) + "\n").encode()
        body = ("\n".join(lines) + "\n").encode("utf-8")
        path.write_bytes(head + body)
        spans = [(len(head), len(head) + len(body), 2)]
        quick, general = ProblemSink(), ProblemSink()
        got = list(span_cells(path, spans, HEADER, CSV_COLUMNS, "e.csv", quick))
        expected = list(picked_cells(CSV_COLUMNS, table_rows(HEADER, span_rows(path, spans), "e.csv", general)))
    assert got == expected
    assert quick.problems == general.problems
