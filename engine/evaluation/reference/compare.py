"""Two complete results side by side: every unit, every item's status, points, words, inputs and
quantity, every roll-up and its index. The index is recomputed here rather than read from the
`Rollup` model, so that it too is checked by a second implementation."""
from __future__ import annotations

from fractions import Fraction
from typing import Optional, Sequence

from ...core.model import Rollup, UnitResult

UNIT_FIELDS = ("unit_name", "unit_type", "period", "evidence_source", "warnings")
ITEM_FIELDS = ("status", "method", "points", "max", "condition", "inputs", "notes", "reason", "note_values", "quantity")


def index(points: Fraction, applicable_max: Fraction) -> Optional[Fraction]:
    """Points as a percent of the applicable maximum; none when nothing applies."""
    if applicable_max == 0:
        return None
    return Fraction(100) * points / applicable_max


def _rollups(where: str, main: Sequence[Rollup], ref: Sequence[Rollup]) -> list[str]:
    if [r.code for r in main] != [r.code for r in ref]:
        return [f"{where}: roll-ups {[r.code for r in main]} ≠ {[r.code for r in ref]}"]
    out = []
    for a, b in zip(main, ref):
        for name in ("points", "max"):
            if getattr(a, name) != getattr(b, name):
                out.append(f"{where} {a.code}: {name} {getattr(a, name)!r} ≠ {getattr(b, name)!r}")
        if a.index != index(b.points, b.max):
            out.append(f"{where} {a.code}: index {a.index!r} ≠ {index(b.points, b.max)!r}")
    return out


def differences(main: Sequence[UnitResult], ref: Sequence[UnitResult]) -> list[str]:
    """Every way in which two complete results differ, in words; empty when they are the same."""
    if [u.unit_id for u in main] != [u.unit_id for u in ref]:
        return [f"units {[u.unit_id for u in main]} ≠ {[u.unit_id for u in ref]}"]
    out: list[str] = []
    for a, b in zip(main, ref):
        unit = f"unit {a.unit_id}"
        out += [f"{unit}: {name} {getattr(a, name)!r} ≠ {getattr(b, name)!r}"
                for name in UNIT_FIELDS if getattr(a, name) != getattr(b, name)]
        if [(d.unit_id, d.code) for d in a.decisions] != [(d.unit_id, d.code) for d in b.decisions]:
            out.append(f"{unit}: items {[d.code for d in a.decisions]} ≠ {[d.code for d in b.decisions]}")
            continue
        for da, db in zip(a.decisions, b.decisions):
            out += [f"{unit} item {da.code}: {name} {getattr(da, name)!r} ≠ {getattr(db, name)!r}"
                    for name in ITEM_FIELDS if getattr(da, name) != getattr(db, name)]
        out += _rollups(f"{unit} criterion", a.criteria, b.criteria)
        out += _rollups(f"{unit} area", a.areas, b.areas)
        out += _rollups(unit, (a.total,), (b.total,))
    return out
