"""Categories: a fixed number of points per category (on time → 1, late → 0.5, not done → 0)."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..i18n import _
from ..model import Branch, Category
from .base import ScoringMethod, number, quantity_domain, within_max

DEFAULT_LABELS = {"on_time": "Đúng hạn", "late": "Trễ hạn", "not_done": "Không thực hiện",
                  "yes": "Có", "no": "Không"}


@dataclass(frozen=True)
class CategoriesParams:
    points: tuple[tuple[str, Fraction], ...]
    labels: tuple[tuple[str, str], ...]


class Categories(ScoringMethod):
    name = "categories"
    metric_kinds = ("category", "date", "boolean")
    parameters = {
        "points": "mapping category -> points; every category of the metric must be given",
        "labels": "optional mapping category -> the criteria's own words",
    }
    defaults = {"labels": {}}

    def parse(self, raw, sub_max, metric, report):
        mapping = raw.get("points")
        if not isinstance(mapping, dict) or not mapping:
            report(("points",), _("points: expected a mapping of category to points"))
            return None
        allowed = quantity_domain(metric).categories
        ok = True
        for key in mapping:
            if key not in allowed:
                report(("points", key), _("unknown category {category!r}; the metric allows: {allowed}").format(
                    category=key, allowed=', '.join(allowed)))
                ok = False
        for cat in allowed:
            if cat not in mapping:
                report(("points",), _("category {category!r} has no points (gap: every category must be scored)").format(
                    category=cat))
                ok = False
        pts = {}
        for key, val in mapping.items():
            p = number(val, ("points", key), report)
            within_max(p, sub_max, ("points", key), report)
            if p is None or p > sub_max:
                ok = False
            pts[key] = p
        labels = raw.get("labels") or {}
        if not ok:
            return None
        return CategoriesParams(
            tuple((c, pts[c]) for c in allowed),
            tuple((c, str(labels.get(c) or DEFAULT_LABELS.get(c, c))) for c in allowed))

    def branches(self, params, sub_max, metric):
        labels = dict(params.labels)
        return tuple(Branch(cat, labels[cat], Category(cat)) for cat, _ in params.points)

    def points(self, params, sub_max, branch, quantity):
        return dict(params.points)[branch]
