"""A round's units as they leave the worker that decided them: appraised there, and each unit's
file encoded there up to its standing (rank, class, change since last year), which only the whole
round can give. What comes back is what the ranking and round.json need, and those bytes.

The parent finishes a unit file by writing its standing between the two parts: compact canonical
JSON (sorted keys, no whitespace) is the same bytes whether a value is encoded inside its document
or on its own, so the file is the one `encode` gives for the whole document.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Callable, Mapping, Optional, Sequence

from ..core.errors import Problem
from ..core.model import CriteriaSet, EvidenceRecord, MetricValue, UnitResult
from ..core.numbers import display, exact_text
from ..evaluation.appraisal import AppraisalEntry, AppraisalSet, AppraisedUnit, apply_appraisal, valid_appraisal
from ..inputs.evidence import RawUnit
from ..inputs.survey_data import SurveyRead, UnitSurvey, unit_survey
from ..inputs.tables import ProblemSink
from ..storage.bundle import Placed, recording_reads
from ..storage.results import display_json as _d, encode, exact_json as _x, rollup_json, unit_json

# Where a unit's standing goes in its encoded file: a string no input can make collide unseen (a
# unit file holding it anywhere else is encoded whole by the parent instead).
_STANDING = "\x00cchc:standing\x00"
_STANDING_BYTES = encode(_STANDING)[:-1]


@dataclass(frozen=True)
class RoundUnit:
    """What a round keeps of a decided, appraised unit."""

    unit_id: str
    unit_name: str
    unit_type: str
    points: Fraction  # final (appraised) total
    max: Fraction  # applicable maximum
    self_points: Fraction  # self-assessed total
    appraised_items: int  # items with an appraisal round
    evidence_source: str
    warnings: tuple[str, ...]  # what the criteria set's consistency rules say of the unit
    head: bytes  # the unit file up to its standing's value…
    tail: bytes  # …and after it; `doc` instead when the two could not be told apart
    doc: Optional[dict] = None
    held: bool = False  # the file's parts are held apart, packed, until the ranking (`held_files`)
    begun: bool = False  # its file is written up to its standing, where it was decided (`held_files`)

    def file(self, standing: dict) -> bytes:
        """The unit file with its standing (`engine.round.output.round_unit_json`'s bytes)."""
        assert not self.held, "a held unit's file is written where it is held (write_held)"
        if self.doc is not None:
            return encode({**self.doc, "standing": standing})
        return self.head + encode(standing)[:-1] + self.tail


def round_unit_doc(criteria: CriteriaSet, unit: AppraisedUnit, engine: str) -> dict:
    """The unit JSON of `score` (engine/storage/results.py unit_json) with final points, plus per item
    `source`, `self_points`, `appraised_points` and `appraisal_rounds`: the unit file but its standing."""
    doc = unit_json(criteria, unit.result, engine)  # format cchc-result/…: every reader of unit results reads it
    subs = {s.code: s for s in criteria.sub_criteria()}
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
    return doc


def round_unit(criteria: CriteriaSet, unit: AppraisedUnit, engine: str) -> RoundUnit:
    r = unit.result
    doc = round_unit_doc(criteria, unit, engine)
    data = encode({**doc, "standing": _STANDING})
    head, found, tail = data.partition(_STANDING_BYTES)
    whole = not found or _STANDING_BYTES in tail
    return RoundUnit(r.unit_id, r.unit_name, r.unit_type, r.total.points, r.total.max,
                     unit.self_result.total.points, len(unit.rounds), r.evidence_source, tuple(r.warnings),
                     b"" if whole else head, b"" if whole else tail, doc if whole else None)


def decided_units(criteria: CriteriaSet, results: list[UnitResult], engine: str,
                  appraisal: tuple[AppraisalEntry, ...]) -> tuple[list[RoundUnit], list[Problem]]:
    """A decided chunk as it leaves its worker (the pool's `finish`): its units appraised with the
    (valid) appraisal entries of the chunk's units, and the problems of those that adjust points
    without a reason."""
    units, problems = apply_appraisal(criteria, results, AppraisalSet(appraisal, ()))
    return [round_unit(criteria, u, engine) for u in units], problems


def held_files(payload: tuple[list[RoundUnit], list[Problem]], context: Optional["RoundInputs"] = None
               ) -> tuple[tuple[list[RoundUnit], list[Problem]], list[RoundUnit]]:
    """The pool's `hold` of a round that writes its output (engine.round.run.round_held): what a
    decided piece gives the round is its units without their files' parts; those are held apart
    (engine.round.pool.Host), each unit's file begun already in the round's units folder when the
    context names one (`_begun`)."""
    units, problems = payload
    if context is not None and context.units is not None:
        units = [_begun(u, context.units) for u in units]
    return ([replace(u, head=b"", tail=b"", doc=None, held=True) for u in units], problems), units


def _begun(unit: RoundUnit, folder: str) -> RoundUnit:
    """`unit` with its file begun: written up to its standing into `folder` as soon as it is
    decided, and finished by `write_held` once the round is ranked (a new file costs the system
    far more than its bytes, and a folder takes one at a time: made all at the end, a round's
    files are made one after the other by every process). Not a file encoded whole, nor one an
    id cannot name (the round refuses it), nor one that cannot be made: a unit given twice (the
    round refuses it), the same piece decided twice (engine.round.pool.claim), the disk; each of
    those is written whole at the end."""
    from ..storage.outdir import name_problem, write_new

    if unit.doc is not None or name_problem(unit.unit_id):
        return unit
    path = os.path.join(folder, f"{unit.unit_id}.json")
    try:
        write_new(path, unit.head)
    except FileExistsError:
        return unit
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(path)
        return unit
    return replace(unit, begun=True)


@dataclass
class FileTarget:
    """Where the held unit files go (a run's staging folder, engine.storage.outdir.Staging.claim)
    and, for their copies in the bundle, the inputs' paths as the bundle names them
    (engine.storage.bundle.localizer, built once in each worker). `anchors`, when the run has not
    read every input yet (`score`): the inputs' folders, where the paths `names` does not know
    yet lie (engine.storage.bundle.unknown_paths)."""

    names: Mapping[str, str]
    anchors: tuple[str, ...] = ()
    _local: Optional[Callable[..., bytes]] = field(default=None, repr=False)
    _listed: dict = field(default_factory=dict, repr=False)  # folders listed by `unknown`

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_local": None, "_listed": {}}

    def localized(self, data: bytes) -> bytes:
        if self._local is None:
            from ..storage.bundle import localizer

            self._local = localizer(self.names)
        return self._local(data, True)

    def write(self, path: str, data: bytes, begun: int = 0) -> bytes:
        """Write a file `Staging.claim` (or `Staging.folder`) gave, or, when its first `begun` bytes
        are written already, the rest: its copy in the bundle."""
        from ..storage.outdir import write_new, write_rest

        if begun:
            write_rest(path, data[begun:])
        else:
            write_new(path, data)
        return self.localized(data)

    def unknown(self, data: bytes) -> Optional[frozenset[str]]:
        """What the copy of `data` may have left unlocalized (engine.storage.bundle.unknown_paths)."""
        from ..storage.bundle import unknown_paths

        return unknown_paths(data, self.anchors, self.names, self._listed)


def write_held(units: list[RoundUnit], target: FileTarget, places: Mapping[str, tuple[str, dict]],
               spool: str) -> list[tuple[str, Placed]]:
    """Finish the held files of a piece's units, in whichever worker is given them: each written at its
    place with its standing (`places`: unit id -> (path, standing)), and its copy as the bundle
    holds it into `spool`, a scratch file of the run (engine.storage.outdir.Staging.scratch_path),
    hashed here: (unit id, where its copy is) for each. Only that crosses processes, not the bytes."""
    out = []
    with open(spool, "wb") as fh:
        for u in units:
            path, standing = places[u.unit_id]
            data = u.file(standing)
            try:
                copy = target.write(path, data, len(u.head) if u.begun else 0)
            except FileExistsError:  # begun by the same piece decided a second time, whose result was dropped
                os.unlink(path)
                copy = target.write(path, data)
            out.append((u.unit_id, Placed(spool, fh.tell(), len(copy), hashlib.sha256(copy).digest())))
            fh.write(copy)
    return out


@dataclass(frozen=True)
class RoundInputs:
    """What deciding a round's units needs of its other inputs, handed to every worker before the
    evidence is read (engine.round.pool.Workers.read_and_decide): each unit's survey data as read
    but not yet checked (engine.inputs.survey_data.SurveyRead), and its appraisal entries in the
    order the appraisal gives them. Each unit's are checked where the unit is decided, by the
    checks the whole round runs again once its evidence is read (`checked_survey`,
    `valid_appraisal`): a unit is decided with just what they keep of its inputs."""

    survey: Mapping[str, tuple[tuple[RawUnit, bool], ...]]
    appraisal: Mapping[str, tuple[AppraisalEntry, ...]]
    units: Optional[str] = None  # the folder each unit's file is begun in as it is decided (`held_files`)

    @classmethod
    def of(cls, survey: SurveyRead, appraisal: AppraisalSet, units: Optional[str] = None) -> "RoundInputs":
        by_unit: dict[str, list[AppraisalEntry]] = {}
        for e in appraisal.entries:
            by_unit.setdefault(e.unit_id, []).append(e)
        return cls(survey.units, {u: tuple(es) for u, es in by_unit.items()}, units)

    def prepared(self, criteria: CriteriaSet,
                 records: Sequence[EvidenceRecord]) -> tuple[list[EvidenceRecord], tuple, tuple]:
        """A piece's records as they are decided, with their units' survey values and survey items
        declared not applicable (`unit_survey`); what `decided_units` is handed besides the
        results (the valid appraisal entries of the piece's units: `valid_appraisal`); and each
        unit's survey data as checked (unit id -> values, marks, problems) with the files that
        read and their stamps as read (engine.storage.bundle.ReadStamps)."""
        checked: dict[str, UnitSurvey] = {}
        out = []
        with recording_reads() as reads:
            for r in records:
                values: dict = {}
                na: dict = {}
                entries = self.survey.get(r.unit_id)
                if entries:
                    sink = ProblemSink()
                    values, na = unit_survey(criteria, entries, r.unit_type, r.period, sink)
                    checked[r.unit_id] = (values, na, tuple(sink.problems))
                out.append(with_survey(r, values, na))
        entries = tuple(e for r in records for e in self.appraisal.get(r.unit_id, ()))
        valid = valid_appraisal(AppraisalSet(entries, ()), criteria, records)[0].entries if entries else ()
        names = tuple(sorted(reads))
        return out, (valid,), (checked, names, reads.packed(names))


def with_survey(record: EvidenceRecord, values: Mapping[str, MetricValue],
                not_applicable: Mapping[str, str]) -> EvidenceRecord:
    """A unit's record with its survey values and the survey items declared not applicable to it."""
    return replace(record, values=dict(sorted({**record.values, **values}.items())),
                   not_applicable=dict(sorted({**record.not_applicable, **not_applicable}.items())))
