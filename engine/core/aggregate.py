"""Roll decisions up to criteria, areas and the unit total over the unit's applicable maximum."""
from __future__ import annotations

from fractions import Fraction
from math import gcd
from typing import Optional, Sequence

from .model import CriteriaSet, Decision, Rollup


def roll_up(criteria: CriteriaSet, decisions: Sequence[Decision],
            made: Optional[dict] = None) -> tuple[tuple[Rollup, ...], tuple[Rollup, ...], Rollup]:
    """Sums are kept as integer numerators over a common denominator (`_added`): the same exact
    values as adding Fractions, without a gcd at every step. Units share most of their sums: with
    `made` (a dict kept by the caller) each roll-up is made once and shared (they are immutable)."""
    made = {} if made is None else made
    by_code = {d.code: d for d in decisions}
    crit_rollups, area_rollups = [], []
    tn, td, tmn, tmd = 0, 1, 0, 1
    for area in criteria.areas:
        an, ad, amn, amd = 0, 1, 0, 1
        for crit in area.criteria:
            cn, cd, cmn, cmd = 0, 1, 0, 1
            for sub in crit.sub_criteria:
                d = by_code[sub.code]
                if d.status == "not_applicable":
                    continue
                points, maximum = d.points, d.max
                n, den = points.numerator, points.denominator
                if den == cd:  # mostly: the common denominator is already there
                    cn += n
                else:
                    cn, cd = _added(cn, cd, n, den)
                n, den = maximum.numerator, maximum.denominator
                if den == cmd:
                    cmn += n
                else:
                    cmn, cmd = _added(cmn, cmd, n, den)
            crit_rollups.append(_rollup(made, crit.code, cn, cd, cmn, cmd))
            an, ad = _added(an, ad, cn, cd)
            amn, amd = _added(amn, amd, cmn, cmd)
        area_rollups.append(_rollup(made, area.code, an, ad, amn, amd))
        tn, td = _added(tn, td, an, ad)
        tmn, tmd = _added(tmn, tmd, amn, amd)
    return tuple(crit_rollups), tuple(area_rollups), _rollup(made, "total", tn, td, tmn, tmd)


def _rollup(made: dict, code: str, n: int, d: int, max_n: int, max_d: int) -> Rollup:
    key = (code, n, d, max_n, max_d)
    found = made.get(key)
    if found is None:
        found = made[key] = Rollup(code, Fraction(n, d), Fraction(max_n, max_d))  # in lowest terms
    return found


def _added(n: int, d: int, n2: int, d2: int) -> tuple[int, int]:
    """n/d + n2/d2 over a common denominator (positive, not in lowest terms)."""
    if d == d2:
        return n + n2, d
    g = gcd(d, d2)
    return n * (d2 // g) + n2 * (d // g), d // g * d2
