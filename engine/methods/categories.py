"""Categories: a fixed number of points per category (on time → 1, late → 0.5, not done → 0)."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..core.model import Branch, Category, MetricSpec
from ..core.i18n import N_
from .base import LABELS, ScoringMethod, Target, quantity_domain
from .params import REQUIRED, Number, Param, Table, Text

DEFAULT_LABELS = {"on_time": "Đúng hạn", "late": "Trễ hạn", "not_done": "Không thực hiện",
                  "yes": "Có", "no": "Không"}


@dataclass(frozen=True)
class CategoriesParams:
    points: tuple[tuple[str, Fraction], ...]
    labels: tuple[tuple[str, str], ...]


def metric_categories(metric: MetricSpec) -> tuple[str, ...]:
    return quantity_domain(metric).categories


class Categories(ScoringMethod):
    name = "categories"
    points_from_branch = True
    metric_kinds = ("category", "date", "boolean")
    parameters = (
        Param("points", Table(Number(points=True), N_("a mapping of category to points"), keys=metric_categories,
                              key_words=N_("category"), every=True,
                              missing_words=N_("has no points (gap: every category must be scored)")),
              "mapping category -> points; every category of the metric must be given", REQUIRED),
        Param("labels", Table(Text(), N_("a mapping of category to the criteria's words"), keys=metric_categories,
                              key_words=N_("category")),
              "optional mapping category -> the criteria's own words"),
    )

    def build(self, values, sub_max, metric, report):
        pts, labels = values["points"], values["labels"] or {}
        allowed = metric_categories(metric)
        return CategoriesParams(
            tuple((c, pts[c]) for c in allowed),
            tuple((c, labels.get(c) or DEFAULT_LABELS.get(c, c)) for c in allowed))

    def branches(self, params, sub_max, metric):
        labels = dict(params.labels)
        return tuple(Branch(cat, labels[cat], Category(cat)) for cat, _ in params.points)

    def points(self, params, sub_max, branch, quantity):
        return dict(params.points)[branch]

    def point_values(self, sub):
        return tuple(sorted({v for _, v in sub.params.points}, reverse=True))

    def best(self, sub, wording=LABELS):
        cat, pts = max(sub.params.points, key=lambda cp: cp[1])
        label = dict(sub.params.labels)[cat]
        return Target(pts, label, label, cat)

    def next_target(self, sub, points, quantity, wording=LABELS):
        cat, pts = min(((c, v) for c, v in sub.params.points if v > points), key=lambda cv: cv[1])
        label = dict(sub.params.labels)[cat]
        return Target(pts, label, label, cat)
