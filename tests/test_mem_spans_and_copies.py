"""What a national run holds less of: a CSV piece's spans kept as numbers in one array (they still
name the rows of its units, in file order), input files copied into a bundle in blocks no larger
than they are (the bundle their bytes added whole make), and the memory of the run's end given
back once its inputs are laid out and once its summary is written."""
from __future__ import annotations

import csv
import io
import pickle
from pathlib import Path

from builders import generated_evidence
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.inputs.evidence import evidence_pieces
from engine.inputs.tables import ProblemSink, span_rows
from engine.round import scoring
from engine.storage.bundle import BundleWriter

HEADER = ["unit_id", "unit_name", "unit_type", "period", "metric", "option", "value", "numerator", "denominator",
          "document", "reason"]
META = {"kind": "score", "engine": "durable", "versions": {}, "inputs": {}, "about": {}}


@settings(max_examples=80, deadline=None)
@given(order=st.lists(st.integers(0, 6), min_size=1, max_size=40), per_piece=st.integers(1, 4))
def test_a_pieces_spans_name_the_rows_of_its_units_in_file_order(tmp_path_factory, order, per_piece):
    """Each piece's spans, read, are the rows of its units (the units in the order first given, cut
    `per_piece` at a time), in file order, with their numbers: what reading the whole file gives."""
    path = tmp_path_factory.mktemp("ev") / "units.csv"
    rows = [[f"u{u}", f"Huyện {u}", "district", "2023", "plan_issued", "", str(k), "", "", "", ""]
            for k, u in enumerate(order)]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows([HEADER, *rows])
    units = list(dict.fromkeys(row[0] for row in rows))
    pieces = evidence_pieces([path], per_piece, 64, ProblemSink())
    assert len(pieces) == -(-len(units) // per_piece)
    for k, piece in enumerate(pieces):
        some = units[k * per_piece:(k + 1) * per_piece]
        spans = list(piece.spans)
        assert spans == sorted(spans) and all(type(s) is tuple and len(s) == 3 for s in spans)
        assert list(span_rows(path, spans)) == [(n, row) for n, row in enumerate(rows, start=2) if row[0] in some]
        assert pickle.loads(pickle.dumps(piece)) == piece  # as it is sent to a worker


def _written(writer: BundleWriter) -> bytes:
    out = io.BytesIO()
    writer.write(META, out)
    return out.getvalue()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sizes=st.lists(st.integers(0, 2600), max_size=6))
def test_files_copied_in_blocks_of_their_size_make_the_bundle_of_their_bytes(monkeypatch, tmp_path_factory, sizes):
    """Small and empty files, and files of several blocks (`COPY` made 1 KiB), in a bundle as `add`
    of their bytes puts them."""
    monkeypatch.setattr(BundleWriter, "COPY", 1024)
    folder = tmp_path_factory.mktemp("in")
    by_file, by_bytes = BundleWriter(io.BytesIO()), BundleWriter(io.BytesIO())
    for k, size in enumerate(sizes):
        data = bytes((k + i) % 251 for i in range(size))
        (folder / f"{k}.bin").write_bytes(data)
        by_file.add_file(f"inputs/x/{k}.bin", folder / f"{k}.bin")
        by_bytes.add(f"inputs/x/{k}.bin", data)
    assert _written(by_file) == _written(by_bytes)


def test_a_score_gives_memory_back_after_laying_its_inputs_out_and_after_its_summary(cchc, tmp_path: Path,
                                                                                  monkeypatch):
    """The tables laying the inputs out makes for a while, and the summary's pieces, are given back
    before what comes after them is made (a national run's: megabytes each)."""
    criteria = generated_evidence(tmp_path / "ev", 3)
    events: list[str] = []
    give_back, lay_out, add_pieces = scoring._give_back, scoring.lay_out_inputs, BundleWriter.add_pieces
    monkeypatch.setattr(scoring, "_give_back", lambda: events.append("give back") or give_back())
    monkeypatch.setattr(scoring, "lay_out_inputs", lambda *a, **k: events.append("lay out") or lay_out(*a, **k))

    def summary_added(self, name, pieces):
        add_pieces(self, name, pieces)
        events.append(name)

    monkeypatch.setattr(BundleWriter, "add_pieces", summary_added)
    res = cchc("score", criteria, tmp_path / "ev", "--out", tmp_path / "out", "--workers", 1)
    assert res.exit_code == 0, res.output
    end = events[len(events) - 1 - events[::-1].index("lay out"):]
    assert end == ["lay out", "give back", "results/summary.json", "give back"], events
