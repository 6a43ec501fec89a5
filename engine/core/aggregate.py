"""Roll decisions up to criteria, areas and the unit total over the unit's applicable maximum."""
from __future__ import annotations

from fractions import Fraction
from typing import Sequence

from .model import CriteriaSet, Decision, Rollup


def roll_up(criteria: CriteriaSet, decisions: Sequence[Decision]) -> tuple[tuple[Rollup, ...], tuple[Rollup, ...], Rollup]:
    by_code = {d.code: d for d in decisions}
    crit_rollups, area_rollups = [], []
    total_pts = total_max = Fraction(0)
    for area in criteria.areas:
        a_pts = a_max = Fraction(0)
        for crit in area.criteria:
            c_pts = c_max = Fraction(0)
            for sub in crit.sub_criteria:
                d = by_code[sub.code]
                if d.status == "not_applicable":
                    continue
                c_pts += d.points
                c_max += d.max
            crit_rollups.append(Rollup(crit.code, crit.title, c_pts, c_max))
            a_pts += c_pts
            a_max += c_max
        area_rollups.append(Rollup(area.code, area.title, a_pts, a_max))
        total_pts += a_pts
        total_max += a_max
    return tuple(crit_rollups), tuple(area_rollups), Rollup("total", criteria.title, total_pts, total_max)
