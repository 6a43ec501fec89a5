"""Roll decisions up to criteria, areas and the unit total over the unit's applicable maximum."""
from __future__ import annotations

from fractions import Fraction
from math import gcd
from typing import Optional, Sequence

from .model import CriteriaSet, Decision, Rollup


def roll_up(criteria: CriteriaSet, decisions: Sequence[Decision],
            made: Optional[dict] = None) -> tuple[tuple[Rollup, ...], tuple[Rollup, ...], Rollup]:
    """Sums are kept as integer numerators over a common denominator (`_Sum`): the same exact
    values as adding Fractions, without a gcd at every step. Units share most of their sums: with
    `made` (a dict kept by the caller) each roll-up is made once and shared (they are immutable)."""
    made = {} if made is None else made
    by_code = {d.code: d for d in decisions}
    crit_rollups, area_rollups = [], []
    total_pts, total_max = _Sum(), _Sum()
    for area in criteria.areas:
        a_pts, a_max = _Sum(), _Sum()
        for crit in area.criteria:
            c_pts, c_max = _Sum(), _Sum()
            for sub in crit.sub_criteria:
                d = by_code[sub.code]
                if d.status == "not_applicable":
                    continue
                c_pts.add(d.points.numerator, d.points.denominator)
                c_max.add(d.max.numerator, d.max.denominator)
            crit_rollups.append(_rollup(made, crit.code, crit.title, c_pts, c_max))
            a_pts.add(c_pts.n, c_pts.d)
            a_max.add(c_max.n, c_max.d)
        area_rollups.append(_rollup(made, area.code, area.title, a_pts, a_max))
        total_pts.add(a_pts.n, a_pts.d)
        total_max.add(a_max.n, a_max.d)
    return tuple(crit_rollups), tuple(area_rollups), _rollup(made, "total", criteria.title, total_pts, total_max)


def _rollup(made: dict, code: str, title: str, points: _Sum, maximum: _Sum) -> Rollup:
    key = (code, points.n, points.d, maximum.n, maximum.d)
    found = made.get(key)
    if found is None:
        found = made[key] = Rollup(code, title, points.exact(), maximum.exact())
    return found


class _Sum:
    """An exact sum as numerator `n` over a positive denominator `d` (not in lowest terms)."""

    __slots__ = ("n", "d")

    def __init__(self) -> None:
        self.n, self.d = 0, 1

    def add(self, n: int, d: int) -> None:
        if d == self.d:
            self.n += n
        else:
            g = gcd(self.d, d)
            self.n = self.n * (d // g) + n * (self.d // g)
            self.d = self.d // g * d

    def exact(self) -> Fraction:
        return Fraction(self.n, self.d)  # in lowest terms, as a sum of Fractions is
