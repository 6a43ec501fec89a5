"""The round's JSON output: round.json (ranking, counts, warnings) and one unit file per unit."""
from __future__ import annotations

from typing import Any, Callable, Iterator, Mapping, Optional, Sequence

from ..core.model import CriteriaSet
from ..storage.outdir import Staging, check_names, flush_file_system
from ..evaluation.ranking import ROUND_FORMAT, Ranking, Standing, ranking_json, standing_json
from ..storage.bundle import Placed
from ..storage.results import encode
from .pool import Workers
from .run import RoundResult
from .units import FileTarget, write_held


def _criteria_json(cs: CriteriaSet) -> dict:
    return {"id": cs.id, "title": cs.title, "year": cs.year, "decision": cs.decision, "sha256": cs.content_hash}


def round_json(result: RoundResult, standings: Optional[Mapping[str, dict]] = None) -> dict:
    """round.json's document; `standings`: each unit's `standing_json`, if already made."""
    r, prev = result.ranking, result.ranking.previous
    return {
        "format": ROUND_FORMAT,
        "criteria": _criteria_json(result.criteria),
        "engine": result.engine,
        "period": result.period,
        "previous": None if prev is None else {"criteria": {"id": prev.criteria_id, "year": prev.year},
                                               "period": prev.period},
        **ranking_json(r, standings),
        "counts": {"units": len(result.units),
                   "appraised_units": sum(1 for u in result.units if u.appraised_items),
                   "new_units": sum(1 for st in _standings(r) if st.yoy == "new"),
                   "vanished_units": len(r.vanished)},
        # the round's own warnings, then what the criteria set's consistency rules say of each unit
        "warnings": [str(w) for w in result.warnings] + [w for u in result.units for w in u.warnings],
    }


def _standings(r: Ranking) -> list[Standing]:
    return [st for g in r.groups for st in g.standings] + list(r.ungrouped)


def standing_part(standing: Standing, group_label: str, group_size: int, st: Optional[dict] = None) -> dict:
    """A unit file's `standing`: its group, rank, class and change since last year (`st`: the
    standing's `standing_json`, if already made)."""
    st = standing_json(standing) if st is None else st
    return {"group": standing.group, "group_label": group_label, "group_size": group_size,
            **{k: st[k] for k in ("rank", "class", "previous_index", "previous_index_display", "index_change",
                                  "index_change_display", "previous_rank", "previous_class", "rank_change", "yoy")}}


class UnitStandings(Mapping[str, dict]):
    """Each unit's standing as round.json gives it (`standing_json`, by unit id: this mapping) and
    as its unit file does (`part`: `standing_part`), each made once, when first asked for: a round's
    unit files are finished piece by piece, each piece's standings made as it is sent, rather than
    all of them while the workers wait. The unit ids are checked as file names at once."""

    def __init__(self, result: RoundResult):
        self._where: dict[str, tuple[Standing, str, int]] = {}
        for g in result.ranking.groups:
            for st in g.standings:
                self._where[st.score.unit_id] = (st, g.group.label, len(g.standings))
        for st in result.ranking.ungrouped:
            self._where[st.score.unit_id] = (st, "", 0)
        check_names({u.unit_id: u.evidence_source for u in result.units})
        self._made: dict[str, dict] = {}

    def __getitem__(self, unit: str) -> dict:
        made = self._made.get(unit)
        if made is None:
            made = self._made[unit] = standing_json(self._where[unit][0])
        return made

    def __iter__(self) -> Iterator[str]:
        return iter(self._where)

    def __len__(self) -> int:
        return len(self._where)

    def part(self, unit: str) -> dict:
        return standing_part(*self._where[unit], self[unit])


def round_files(result: RoundResult) -> dict[str, bytes]:
    """`units/<id>.json` per unit (each encoded by the worker that decided it, but for its
    standing: engine/round/units.py) and `round.json`, canonically encoded."""
    standings = UnitStandings(result)
    files = {f"units/{u.unit_id}.json": u.file(standings.part(u.unit_id)) for u in result.units}
    files["round.json"] = encode(round_json(result, standings))
    return files


def write_round_files(result: RoundResult, pool: Workers, staged: Staging, names: Mapping[str, str],
                      beside: Optional[Callable[[], Any]] = None) -> Iterator[tuple[str, bytes | Placed]]:
    """`round_files` of a round whose unit files are held (engine.round.run.round_held), written into
    `staged`: each piece's unit files by whichever worker is free first, round.json here. Yields
    each file's name and its bytes as the bundle holds them (`names`: engine.storage.bundle.localizer),
    or, for a unit file, where the worker that wrote it put those bytes (a scratch file per piece).
    `beside`: what this process does once the spawned workers have their unit files to write."""
    standings = UnitStandings(result)
    target = FileTarget(names)
    pool.everywhere(target)

    def given(units: Sequence[str]) -> tuple:
        return ({u: (str(staged.claim(f"units/{u}.json")), standings.part(u)) for u in units},
                str(staged.scratch_path()))

    try:
        for piece in pool.finish_held(write_held, given, beside, str(staged.path)):
            for unit, placed in piece:
                yield f"units/{unit}.json", placed
    except OSError as exc:
        raise staged.failed(exc) from None
    # every unit file is written: the workers end beside round.json and the bundle, each first
    # bringing what is written to the disk
    pool.release(flush_file_system, str(staged.path))
    data = encode(round_json(result, standings))
    staged.add("round.json", data)
    yield "round.json", target.localized(data)
