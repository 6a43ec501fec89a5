"""The province summary (báo cáo tổng hợp): ranking tables per group, class counts, a bar chart of
indices (inline SVG), and changes since last year where known.

It reads the annual round's `round.json` (engine/round/). From a folder of unit results without a
round summary (the output of `cchc score`), the same summary is built with the round's own ranking
rules (engine/evaluation/ranking.py), so both read alike.
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Optional, Sequence

from engine.core.i18n import _
from engine.core.model import CriteriaSet
from engine.core.numbers import display, to_fraction

from .load import UnitResultDoc, one_per_unit
from .profile import Profile, profile_context
from .text import basis, compact, num, percent, signed

# Bar colours by class, best band first; units without a class are grey.
PALETTE = ("#1f4e8c", "#3f7cc0", "#7fa9d8", "#b7cde8", "#d6e2f1", "#e8eef7")
NO_CLASS = "#9a9a9a"


def _f(value) -> Optional[Fraction]:
    return None if value is None else to_fraction(value)


# ---------------------------------------------------------------- a summary from unit results

def summary_from_results(criteria: CriteriaSet, docs: Sequence[UnitResultDoc],
                         previous: Optional[Path] = None) -> dict:
    """The round summary's shape (as `round.json`), from unit results scored with `criteria`."""
    from engine.evaluation.ranking import UnitScore, load_previous, rank_units
    from engine.evaluation.ranking import ranking_json

    one_per_unit(docs)
    scores = [UnitScore(doc.unit_id, doc.unit_name, doc.unit_type, doc.points, doc.max, doc.self_points) for doc in docs]
    prev = load_previous(previous) if previous is not None else None
    ranking = rank_units(criteria, scores, prev)
    periods = sorted({d.period for d in docs})
    engines = sorted({d.engine for d in docs})
    return {
        "format": "cchc-round/1",
        "engine": ", ".join(e for e in engines if e),
        "criteria": {"id": criteria.id, "title": criteria.title, "year": criteria.year,
                     "decision": criteria.decision, "sha256": criteria.content_hash},
        "period": periods[-1] if periods else str(criteria.year),
        "previous": None if prev is None else {"criteria": {"id": prev.criteria_id, "year": prev.year},
                                               "period": prev.period, "source": prev.path},
        **ranking_json(ranking),
    }


# ---------------------------------------------------------------- the context templates get

def _rank_change(units_row: dict) -> tuple[str, str]:
    """(text, direction) of a rank change: `▲ 2` up, `▼ 1` down, `=`; `mới` for a new unit."""
    change = units_row.get("rank_change")
    if change is None:
        return ("mới", "new") if units_row.get("yoy") == "new" else ("", "")
    if change > 0:
        return f"▲ {change}", "up"
    if change < 0:
        return f"▼ {-change}", "down"
    return "=", "same"


def _unit_row(u: dict, type_labels: dict[str, str]) -> dict:
    index = _f(u.get("index"))
    change = _f(u.get("index_change"))
    rank_text, rank_dir = _rank_change(u)
    return {
        "id": u["id"], "name": u["name"], "type": u["type"], "type_label": type_labels.get(u["type"], u["type"]),
        "rank": "" if u.get("rank") is None else str(u["rank"]),
        "points": num(u.get("points")), "max": num(u.get("max")),
        "index": num(index) if index is not None else "—",
        "index_value": index,
        "values": {"points": _f(u.get("points")), "max": _f(u.get("max")), "index": index,
                   "previous_index": _f(u.get("previous_index")), "index_change": change,
                   "rank": u.get("rank"), "previous_rank": u.get("previous_rank")},
        "class": u.get("class") or "",
        "previous_index": num(u.get("previous_index")),
        "index_change": signed(change) if change is not None else "",
        "index_change_dir": "" if change is None else "up" if change > 0 else "down" if change < 0 else "same",
        "previous_rank": "" if u.get("previous_rank") is None else str(u["previous_rank"]),
        "rank_change": rank_text, "rank_change_dir": rank_dir,
        "new": u.get("yoy") == "new",
    }


def _label_lines(name: str, width: int) -> list[str]:
    """A unit's full name over as many lines of at most `width` characters as it needs."""
    lines, line = [], ""
    for word in name.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return lines + [line] if line else lines or [""]


def _chart(rows: list[dict], bands: list[dict]) -> dict:
    """Geometry of a horizontal bar chart (0–100 %), one bar per unit with an index, in SVG user
    units written with a decimal point (SVG's own syntax). Names are printed in full (the label
    column widens, then wraps); the values stand in their own column right of 100 %, where no
    threshold line runs; rows get lower as units get more, so that a group's chart fits one page."""
    longest = max((len(r["name"]) for r in rows), default=10)
    chars = min(max(longest, 28), 52)  # label column: up to 52 characters a line, then wrap
    width, label_w, right = Fraction(680), Fraction(chars * 11, 2) + 8, Fraction(46)
    n = max(len(rows), 1)
    row_h = Fraction(20) if n <= 16 else Fraction(15)
    bar_h, line_h = row_h - 6, Fraction(11)
    top, bottom = Fraction(36), Fraction(46)
    x0, x1 = label_w, width - right
    scale = (x1 - x0) / 100
    band_color = {b["label"]: PALETTE[min(i, len(PALETTE) - 1)] for i, b in enumerate(bands)}

    def c(v: Fraction) -> str:
        return display(v).rstrip("0").rstrip(".")

    bars, labels, y = [], [], top
    for r in rows:
        name_lines = _label_lines(r["name"], chars)
        h = max(row_h, line_h * len(name_lines) + 4)
        first = y + bar_h - 2 - line_h * (len(name_lines) - 1) / 2
        labels.append({"x": c(x0 - 6), "y": c(first), "text": r["name"], "full": r["name"],
                       "lines": [{"text": t, "dy": "0" if i == 0 else c(line_h)} for i, t in enumerate(name_lines)]})
        if r["index_value"] is not None:
            w = min(max(r["index_value"], Fraction(0)), Fraction(100)) * scale
            bars.append({"x": c(x0), "y": c(y), "width": c(w), "height": c(bar_h),
                         "fill": band_color.get(r["class"], NO_CLASS), "unit": r["id"],
                         "title": f"{r['name']}: {r['index']} %",
                         "value_x": c(width - 2), "value_y": c(y + bar_h - 2), "value": r["index"]})
        y += h
    axis_y = y if rows else top + row_h
    height = axis_y + bottom
    ticks = [{"x": c(x0 + scale * t), "label": str(t)} for t in range(0, 101, 20)]
    # Band thresholds as dashed lines; their labels alternate between two heights so that close
    # thresholds (70, 80, 90) do not overlap.
    lines = [{"x": c(x0 + scale * to_fraction(b["min"])), "label": f"{b['label']} ≥ {compact(b['min'])}",
              "label_y": c(top - 20 if i % 2 else top - 9)}
             for i, b in enumerate(b for b in bands if to_fraction(b["min"]) > 0)]
    legend, x = [], x0
    for b in bands:  # one swatch per class, in band order, then "no class"
        legend.append({"label": b["label"], "fill": band_color[b["label"]], "x": c(x), "text_x": c(x + 12)})
        x += 12 + 5 * len(b["label"]) + 16
    if any(r["index_value"] is not None and not r["class"] for r in rows):
        legend.append({"label": "Chưa xếp loại", "fill": NO_CLASS, "x": c(x), "text_x": c(x + 12)})
    return {"width": c(width), "height": c(height), "x0": c(x0), "x1": c(x1), "top": c(top - 6),
            "axis_y": c(axis_y), "tick_y": c(axis_y + 13), "band_y": c(top - 6),
            "axis_label_y": c(axis_y + 25), "legend_y": c(axis_y + 30), "legend_text_y": c(axis_y + 38),
            "bars": bars, "labels": labels, "ticks": ticks, "band_lines": lines, "legend": legend}


def province_context(doc: dict, criteria: Optional[CriteriaSet] = None, *,
                     report_date: Optional[str] = None, profile: Optional[Profile] = None) -> dict:
    """Everything the province templates show, as display text; exact values under each unit's
    `values`. The issuing body and signer come from the province profile, never from the criteria
    set (whose issuer is who issued the criteria)."""
    from .text import long_date

    type_labels = {t.id: t.label for t in criteria.unit_types} if criteria else {}
    has_previous = doc.get("previous") is not None
    groups = []
    for g in doc["groups"]:
        rows = [_unit_row(u, type_labels) for u in g["units"]]
        bands = [{"label": b["label"], "min": b["min"]} for b in g.get("bands", [])]
        counts = [{"label": c["class"], "count": c["count"]} for c in g.get("class_counts", [])]
        if g.get("unclassified"):
            counts.append({"label": "Chưa xếp loại", "count": g["unclassified"]})
        indexed = [r["index_value"] for r in rows if r["index_value"] is not None]
        groups.append({
            "id": g["id"], "label": g.get("label") or g["id"], "size": len(rows), "units": rows,
            "bands": [{"label": b["label"], "rule": _band_rule(bands, i)} for i, b in enumerate(bands)],
            "class_counts": counts,
            "average": percent(sum(indexed, Fraction(0)) / len(indexed)) if indexed else "",
            "chart": _chart(rows, bands),
        })
    ungrouped = [_unit_row(u, type_labels) for u in doc.get("ungrouped", {}).get("units", [])]
    vanished = [{"id": v["id"], "name": v["name"], "previous_index": num(v.get("previous_index")),
                 "previous_rank": "" if v.get("previous_rank") is None else str(v["previous_rank"])}
                for v in doc.get("vanished", [])]
    crit = doc.get("criteria", {})
    period = str(doc.get("period") or crit.get("year", ""))
    issuer = criteria.issuer if criteria else ""
    prev = doc.get("previous") or {}
    who = profile_context(profile)
    return {
        "title": f"BÁO CÁO TỔNG HỢP KẾT QUẢ CHỈ SỐ CẢI CÁCH HÀNH CHÍNH NĂM {period}",
        "profile": who,
        "issuer": " ".join(who["issuer_lines"]), "issuer_upper": " ".join(who["issuer_lines"]).upper(),
        "period": period,
        "criteria": {"id": crit.get("id", ""), "title": crit.get("title", ""),
                     "decision": crit.get("decision", ""), "sha256": crit.get("sha256", ""),
                     "basis": basis(crit.get("title", ""), crit.get("decision", ""), issuer)},
        "report_date": long_date(report_date) if report_date else "ngày … tháng … năm …",
        "has_previous": has_previous,
        "previous_period": str(prev.get("period", "")) if prev else "",
        "groups": groups,
        "ungrouped": ungrouped,
        "vanished": vanished,
        "unit_count": sum(g["size"] for g in groups) + len(ungrouped),
        "engine": doc.get("engine", ""),
    }


def _band_rule(bands: list[dict], i: int) -> str:
    """`từ 80 % đến dưới 90 %`, `từ 90 % trở lên`, `dưới 70 %`."""
    lo = to_fraction(bands[i]["min"])
    hi = to_fraction(bands[i - 1]["min"]) if i > 0 else None
    if hi is None:
        return f"từ {compact(lo)} % trở lên" if lo > 0 else "mọi chỉ số"
    if lo == 0:
        return f"dưới {compact(hi)} %"
    return f"từ {compact(lo)} % đến dưới {compact(hi)} %"
