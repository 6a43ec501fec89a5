"""The per-unit self-assessment report (báo cáo tự đánh giá, chấm điểm): the context its templates get.

Every number is computed exactly from the unit's result and turned into display text here, so that a
province's own templates only lay things out. The variables are listed in docs/reports.md.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Optional

from engine import methods
from engine.core.model import (NOTE_CONDITION_MISSING, NOTE_KNOCKED_OUT, NOTE_MISSING, NOTE_NO_BAND, NOTE_NO_CITATION,
                               NOTE_NOT_FOR_UNIT_TYPE, CriteriaSet, index_of)
from engine.core.numbers import to_fraction
from engine.storage.documents import AppraisalRound, ResultCitation, ResultItem, ResultRollup, UnitResultDoc

from .gaps import current, gap_report, outcome
from .notes import note_text
from .profile import Profile, profile_context
from .text import basis, long_date, num, percent, roman, signed, vn_date

NEEDS_EXPLANATION = {  # by the engine's note code: what the unit owes
    NOTE_MISSING: "Thiếu số liệu, tài liệu kiểm chứng: giải trình lý do, bổ sung tài liệu.",
    NOTE_NO_BAND: "Kết quả không thuộc mức điểm nào của tiêu chí: giải trình, rà soát số liệu.",
    NOTE_NO_CITATION: "Chưa có tài liệu kiểm chứng: giải trình, bổ sung tài liệu.",
    NOTE_CONDITION_MISSING: "Thiếu số liệu chỉ tiêu «{metric}» mà điều kiện của tiêu chí cần: giải trình lý do, "
                            "bổ sung số liệu.",
}


def _f(value) -> Optional[Fraction]:
    return None if value is None else to_fraction(value)


def citation_text(c: ResultCitation) -> str:
    """`12/KH-SNV ngày 20/01/2023 của Sở Nội vụ (tệp: ke-hoach.pdf)`."""
    parts = [c.document]
    if c.date:
        parts.append(f"ngày {vn_date(c.date)}")
    if c.issuer:
        parts.append(f"của {c.issuer}")
    out = " ".join(p for p in parts if p)
    if c.file:
        out += f" (tệp: {c.file})"
    return out


def round_lines(r: AppraisalRound) -> list[str]:
    """One appraisal round as a reader reads it: the unit's explanation it considered, then the
    council's word (`Thẩm định lần 1 (05/12/2023): điều chỉnh thành 0,25 điểm — lý do`)."""
    lines = []
    n = r.round
    if r.explanation:
        lines.append(f"Giải trình của đơn vị (lần {n}): {r.explanation}")
    label = f"Thẩm định lần {n}"
    if r.date:
        label += f" ({vn_date(r.date)})"
    if r.accepted:
        text = f"{label}: công nhận {num(r.points)} điểm"
    else:
        text = f"{label}: điều chỉnh thành {num(r.points)} điểm"
    if r.reason:
        text += f" — {r.reason}"
    lines.append(text)
    return lines


def _sum(values) -> Fraction:
    return sum(values, Fraction(0))


def number_citations(rows: list[dict]) -> list[dict]:
    """Each distinct citation once, numbered in order of first use; every row refers to its own by
    number (`refs`, `[1], [3]`) so that a document cited by many rows is printed once."""
    numbers: dict[str, int] = {}
    for r in rows:
        r["refs"] = [numbers.setdefault(text, len(numbers) + 1) for text in r["evidence"]]
        r["refs_text"] = ", ".join(f"[{n}]" for n in r["refs"])
    return [{"no": n, "text": text} for text, n in numbers.items()]


def unit_context(criteria: CriteriaSet, doc: UnitResultDoc, *, report_date: Optional[str] = None,
                 profile: Optional[Profile] = None) -> dict:
    """Everything the unit templates show, as display text (Vietnamese numbers and dates); exact
    values for spreadsheets under each row's and the total's `values`."""
    items = {i.code: i for i in doc.items}
    crit_roll = {r.code: r for r in doc.criteria_rollup}
    area_roll = {r.code: r for r in doc.areas}
    type_labels = {t.id: t.label for t in criteria.unit_types}
    # Appraised: the council named at least one item (an annual round's result). Then the appraised
    # column shows every applicable item's final points (an item it did not name keeps its own).
    appraised = any(i.appraised_points is not None for i in doc.items)

    def self_pts(i: ResultItem) -> Fraction:
        return i.own_points

    rows: list[dict] = []
    n_explain = n_na = n_items = 0
    for ai, area in enumerate(criteria.areas, 1):
        area_items = [items[s.code] for c in area.criteria for s in c.sub_criteria]
        rows.append(_group_row("area", roman(ai), area.code, area.title, area.max, area_roll[area.code],
                               area_items, self_pts, appraised))
        for crit in area.criteria:
            crit_items = [items[s.code] for s in crit.sub_criteria]
            rows.append(_group_row("criterion", crit.code, crit.code, crit.title, crit.max,
                                   crit_roll[crit.code], crit_items, self_pts, appraised))
            for sub in crit.sub_criteria:
                item = items[sub.code]
                n_items += 1
                row = _item_row(criteria, sub, item, self_pts(item), appraised, type_labels, doc.unit_type)
                n_explain += row["needs_explanation"]
                n_na += row["not_applicable"]
                rows.append(row)

    total = doc.total
    t_max = total.max
    applicable = [i for i in doc.items if i.status != "not_applicable"]
    self_total = _sum(self_pts(i) for i in applicable)
    final_total = total.points
    gaps = gap_report(criteria, doc.items)
    reachable_index = index_of(final_total + gaps.reachable, t_max)
    year = doc.period or str(criteria.year)
    st = doc.data.get("standing") or None
    standing = None
    if st and st.get("group"):
        text = (f"{st['rank'] if st.get('rank') is not None else '—'}/{st.get('group_size') or '—'} trong nhóm "
                f"{st.get('group_label') or st['group']}")
        if st.get("class"):
            text += f"; xếp loại: {st['class']}"
        if st.get("previous_index") is not None:
            text += f"; năm trước: {percent(_f(st['previous_index']))}"
            if st.get("previous_rank") is not None:
                text += f", hạng {st['previous_rank']}"
            if st.get("index_change") is not None:
                text += f" ({signed(_f(st['index_change']))} điểm %)"
        standing = {"text": text, "rank": "" if st.get("rank") is None else str(st["rank"]),
                    "class": st.get("class") or ""}
    citations = number_citations(rows)
    return {
        "title": f"BẢNG TỰ ĐÁNH GIÁ, CHẤM ĐIỂM CHỈ SỐ CẢI CÁCH HÀNH CHÍNH NĂM {year}",
        "profile": profile_context(profile),
        "citations": citations,
        "unit": {"id": doc.unit_id, "name": doc.unit_name, "name_upper": doc.unit_name.upper(),
                 "type": doc.unit_type, "type_label": type_labels.get(doc.unit_type, doc.unit_type)},
        "period": year,
        "criteria": {"id": criteria.id, "title": criteria.title, "decision": criteria.decision,
                     "issuer": criteria.issuer, "year": criteria.year, "max": num(criteria.max),
                     "sha256": criteria.content_hash,
                     "basis": basis(criteria.title, criteria.decision, criteria.issuer)},
        "report_date": long_date(report_date) if report_date else "ngày … tháng … năm …",
        "appraisal": appraised,
        "standing": standing,
        "rows": rows,
        "counts": {"items": n_items, "applicable": n_items - n_na, "not_applicable": n_na,
                   "needs_explanation": n_explain},
        "total": {
            "max": num(t_max),
            "self": num(self_total),
            "appraised": num(final_total) if appraised else "",
            "points": num(final_total),
            # no applicable item: no index (shown as a dash)
            "self_index": percent(index_of(self_total, t_max)) if t_max else "—",
            "appraised_index": (percent(index_of(final_total, t_max)) if t_max else "—") if appraised else "",
            "index": percent(total.index) if total.index is not None else "—",
            "index_number": num(total.index) if total.index is not None else "—",
            "criteria_max": num(criteria.max),
            "excluded_max": num(criteria.max - t_max),
            "values": {"max": t_max, "self": self_total, "appraised": final_total if appraised else None,
                       "self_index": index_of(self_total, t_max),
                       "appraised_index": index_of(final_total, t_max) if appraised else None},
        },
        "gaps": [{
            "code": g.code, "title": g.title, "points": num(g.points), "max": num(g.max),
            "best": num(g.best), "value": g.value, "target": g.target, "gain": num(g.gain),
            "stake": num(g.stake), "survey": g.survey, "limit": g.limit,
            "needs_data": g.status in ("missing_evidence", "no_matching_band"),
        } for g in gaps.gaps],
        "gap_total": {
            "reachable": num(gaps.reachable), "next_gain": num(gaps.next_gain),
            "count": len(gaps.gaps),
            "reachable_index": percent(reachable_index) if reachable_index is not None else "—",
            "next_index": percent(index_of(final_total + gaps.next_gain, t_max)) if t_max else "—",
        },
        "source": {"engine": doc.engine, "evidence": doc.data["evidence_source"]},
        # what the criteria set's consistency rules say of the unit's figures (scores stand as given)
        "warnings": list(doc.data.get("warnings") or ()),
    }


def _group_row(kind, stt, code, title, nominal_max, rollup: ResultRollup, group_items, self_pts, appraised) -> dict:
    applicable = [i for i in group_items if i.status != "not_applicable"]
    mx = rollup.max
    return {
        "kind": kind, "stt": stt, "code": code, "title": title,
        "max": num(mx), "nominal_max": num(nominal_max), "reduced": mx != nominal_max,
        "self": num(_sum(self_pts(i) for i in applicable)) if applicable else "",
        "appraised": num(rollup.points) if appraised and applicable else "",
        "not_applicable": not applicable, "needs_explanation": False, "survey": False, "adjusted": False,
        "result": "", "evidence": [], "explanation": [],
        "index": percent(rollup.index) if rollup.index is not None else "",
        "values": {"max": mx if applicable else nominal_max,
                   "self": _sum(self_pts(i) for i in applicable) if applicable else None,
                   "appraised": rollup.points if appraised and applicable else None},
    }


def _item_row(criteria, sub, item: ResultItem, self_points, appraised, type_labels, unit_type) -> dict:
    status = item.status
    na = status == "not_applicable"
    evidence = [citation_text(i.citation) for i in item.inputs if i.citation]
    notes, reason = item.notes, item.reason
    explanation: list[str] = []
    told = item.note_values
    metric = criteria.metrics.get(told.get("metric", ""))
    owed = [NEEDS_EXPLANATION[code].format(metric=metric.label if metric else told.get("metric", ""))
            for code in notes if code in NEEDS_EXPLANATION][:1]
    needs = not na and bool(owed)
    if na:
        if NOTE_NOT_FOR_UNIT_TYPE in notes:
            reason = f"Không áp dụng đối với {type_labels.get(unit_type, unit_type)}."
        explanation.append(reason or "Không áp dụng.")
    else:
        explanation += owed + ([reason] if reason else [])
    if NOTE_KNOCKED_OUT in notes:  # the knock-out that capped the item, and what the figures alone gave
        knocked = note_text(NOTE_KNOCKED_OUT, unit_type, told)
        explanation.insert(0, knocked[:1].upper() + knocked[1:] + ".")
    for r in item.appraisal_rounds:
        explanation += round_lines(r)
    result = ""
    if not na and status != "missing_evidence":
        cur = current(sub, criteria.metrics[sub.metric], item)
        parts = []
        if cur.text:
            parts.append(f"Kết quả: {cur.text}")
        band = methods.get(sub.method).band_words(sub, outcome(sub, item).label)
        if band:  # the band, in the criteria's words, where the result alone does not say it
            parts.append(f"Mức: {band}")
        result = "; ".join(parts)
    return {
        "kind": "item", "stt": sub.code, "code": sub.code, "title": sub.title,
        "max": num(item.max), "nominal_max": num(sub.max), "reduced": False,
        "self": "" if na else num(self_points),
        "appraised": num(item.points) if appraised and not na else "",
        "adjusted": appraised and not na and item.points != self_points,
        "not_applicable": na, "needs_explanation": needs, "survey": sub.source == "survey",
        "status": status, "result": result, "evidence": evidence, "explanation": explanation,
        "index": "",
        "values": {"max": item.max, "self": None if na else self_points,
                   "appraised": item.points if appraised and not na else None},
    }

