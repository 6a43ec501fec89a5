"""The round's JSON output: round.json (ranking, counts, warnings) and one unit file per unit."""
from __future__ import annotations

from ..evaluation.appraisal import AppraisedUnit
from ..core.model import CriteriaSet
from ..core.numbers import display, exact_text
from ..storage.outdir import check_names
from ..evaluation.ranking import ROUND_FORMAT, Ranking, Standing, ranking_json, standing_json
from ..storage.results import display_json as _d, encode, exact_json as _x, rollup_json, unit_json
from .run import RoundResult


def _criteria_json(cs: CriteriaSet) -> dict:
    return {"id": cs.id, "title": cs.title, "year": cs.year, "decision": cs.decision, "sha256": cs.content_hash}


def round_json(result: RoundResult) -> dict:
    r, prev = result.ranking, result.ranking.previous
    return {
        "format": ROUND_FORMAT,
        "criteria": _criteria_json(result.criteria),
        "engine": result.engine,
        "period": result.period,
        "previous": None if prev is None else {"criteria": {"id": prev.criteria_id, "year": prev.year},
                                               "period": prev.period},
        **ranking_json(r),
        "counts": {"units": len(result.units),
                   "appraised_units": sum(1 for u in result.units if u.rounds),
                   "new_units": sum(1 for st in _standings(r) if st.yoy == "new"),
                   "vanished_units": len(r.vanished)},
        # the round's own warnings, then what the criteria set's consistency rules say of each unit
        "warnings": [str(w) for w in result.warnings] + [w for u in result.units for w in u.result.warnings],
    }


def _standings(r: Ranking) -> list[Standing]:
    return [st for g in r.groups for st in g.standings] + list(r.ungrouped)


def round_unit_json(result: RoundResult, unit: AppraisedUnit, standing: Standing, group_label: str,
                    group_size: int) -> dict:
    """The unit JSON of `score` (engine/storage/results.py unit_json) with final points, plus per item
    `source`, `self_points`, `appraised_points` and `appraisal_rounds`, and the unit's standing."""
    cs = result.criteria
    doc = unit_json(cs, unit.result, result.engine)  # format cchc-result/1: every reader of unit results reads it
    subs = {s.code: s for s in cs.sub_criteria()}
    own = {d.code: d for d in unit.self_result.decisions}
    for item in doc["items"]:
        code = item["code"]
        survey = subs[code].source == "survey"
        self_pts = None if survey else own[code].points
        appraised = unit.appraised_points(code)
        item["source"] = subs[code].source
        item["self_points"], item["self_points_display"] = _x(self_pts), _d(self_pts)
        item["appraised_points"], item["appraised_points_display"] = _x(appraised), _d(appraised)
        item["appraisal_rounds"] = [{
            "round": a.round, "points": exact_text(a.points), "points_display": display(a.points),
            "accepted": a.accepted, "reason": a.reason, "appraiser": a.appraiser, "explanation": a.explanation,
            "date": a.date.isoformat() if a.date else None, "location": str(a.location),
        } for a in unit.rounds.get(code, ())]
    doc["self_total"] = rollup_json(unit.self_result.total)
    st = standing_json(standing)
    doc["standing"] = {"group": standing.group, "group_label": group_label, "group_size": group_size,
                       **{k: st[k] for k in ("rank", "class", "previous_index", "previous_index_display",
                                             "index_change", "index_change_display", "previous_rank",
                                             "previous_class", "rank_change", "yoy")}}
    return doc


def round_files(result: RoundResult) -> dict[str, bytes]:
    """`units/<id>.json` per unit and `round.json`, canonically encoded."""
    where: dict[str, tuple[Standing, str, int]] = {}
    for g in result.ranking.groups:
        for st in g.standings:
            where[st.score.unit_id] = (st, g.group.label, len(g.standings))
    for st in result.ranking.ungrouped:
        where[st.score.unit_id] = (st, "", 0)
    check_names({u.result.unit_id: u.result.evidence_source for u in result.units})
    files = {}
    for u in result.units:
        st, label, size = where[u.result.unit_id]
        files[f"units/{u.result.unit_id}.json"] = encode(round_unit_json(result, u, st, label, size))
    files["round.json"] = encode(round_json(result))
    return files
