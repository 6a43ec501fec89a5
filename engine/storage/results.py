"""The JSON result of a unit (schema: engine/schemas/result.schema.json), canonically encoded:
compact by default (`encode`), indented for people (`dumps`, what `cchc show` prints).

A result names the criteria set's parts by their codes and metrics, never by their words: the
titles and labels are the same in every unit's file, and are the criteria set's (pinned by its
sha256 in the file). Readers put them back from the criteria set (engine/storage/documents.py)."""
from __future__ import annotations

import json
from fractions import Fraction
from typing import Any, Callable, Optional, Sequence

import orjson

from ..core.memo import remember
from ..core.model import Citation, CriteriaSet, Decision, Input, Rollup, UnitResult, index_ratio
from ..core.numbers import display, exact_text, ratio_display, ratio_text
from .outdir import check_names

# /2: notes are codes (`notes`), a not-applicable reason is `reason`; /3: no titles or labels
RESULT_FORMAT = "cchc-result/3"
_ORJSON_CANONICAL = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE
_ORJSON_COMPACT = orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE


def dumps(obj: Any) -> bytes:
    """Canonical JSON: sorted keys, UTF-8, two-space indent, trailing newline. Encoded in C by
    orjson, whose bytes are the standard library's for these options and the values results hold
    (strings, integers, booleans, null; exact numbers are strings, never binary floats, whose
    exponent orjson would write unpadded); what orjson refuses (integers beyond 64 bits, non-string
    keys) goes through the standard library."""
    try:
        return orjson.dumps(obj, option=_ORJSON_CANONICAL)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return (json.dumps(obj, sort_keys=True, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def encode(obj: Any) -> bytes:
    """Compact canonical JSON, how result files are written: sorted keys, UTF-8, no whitespace
    between tokens, trailing newline (a third of the indented size). The same bytes as the
    standard library's `separators=(",", ":")`; `dumps` gives the indented form of the same data."""
    try:
        return orjson.dumps(obj, option=_ORJSON_COMPACT)
    except TypeError:
        return (json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


# Results repeat a few hundred distinct numbers (points, maxima, indexes) unit after unit: each is
# written out once. Keyed by `_number_key`, so 1 and Fraction(1) stay apart; bounded (engine.core.memo).
_EXACT: dict[tuple, str] = {}
_DISPLAY: dict[tuple, str] = {}


def _number_key(value: Any) -> tuple:
    """A dict key for an exact number: a Fraction by its two integers (its own hash is slow)."""
    return (value.numerator, value.denominator) if value.__class__ is Fraction else (value.__class__, value)


def _text(memo: dict[tuple, str], write: Callable[[Any], str], value: Any) -> str:
    key = _number_key(value)
    text = memo.get(key)
    if text is None:
        text = remember(memo, key, write(value))
    return text


def exact_json(value: Optional[Fraction]) -> Optional[str]:
    """Exact text of a figure in a result (None stays None)."""
    return None if value is None else _text(_EXACT, exact_text, value)


def display_json(value: Optional[Fraction]) -> Optional[str]:
    """Rounded display text of a figure in a result (None stays None)."""
    return None if value is None else _text(_DISPLAY, display, value)


def rollup_json(r: Rollup) -> dict:
    """A roll-up's fields, written from their integers: its points and index are mostly the unit's
    own, so not looked up in the number memos."""
    points, maximum = r.points, r.max
    n, d = points.numerator, points.denominator
    idx = index_ratio(points, maximum)
    return {"code": r.code, "points": ratio_text(n, d), "points_display": ratio_display(n, d),
            "max": exact_json(maximum), "index": None if idx is None else ratio_text(*idx),
            "index_display": None if idx is None else ratio_display(*idx)}


def _citation(c: Optional[Citation]) -> Optional[dict]:
    if c is None:
        return None
    return {"document": c.document, "date": c.date.isoformat() if c.date else None,
            "issuer": c.issuer, "file": c.file}


_dumps = orjson.dumps
# Where an item's own values go in its encoded fields: a string no criteria set can make
# collide unseen (an item whose fields hold it is encoded whole instead, `_cut`).
_GAP = "\x00cchc:gap\x00"
_GAP_BYTES = _dumps(_GAP)


def _kept(value: Any) -> bytes:
    """`value` encoded, in bytes of their own size: what orjson returns holds a buffer of at least
    4 KiB whatever its length, too much to keep thousands of."""
    return bytes(memoryview(_dumps(value)))


def _cut(encoded: bytes) -> tuple[bytes, ...]:
    """An encoded item with `_GAP` for its inputs, points, points_display and quantity, cut around
    the four; () when `_GAP` stands elsewhere in it too."""
    cut = tuple(encoded.split(_GAP_BYTES))
    return cut if len(cut) == 5 else ()


class _Parts:
    """What result documents repeat, unit after unit, for one criteria set: an item's fields given
    its outcome (status, points, notes …) and a roll-up's fields — each made once.
    Only the items' quantities and inputs are the unit's own. Bounded (engine.core.memo)."""

    def __init__(self, criteria: CriteriaSet) -> None:
        self.criteria = criteria
        self.items: dict[tuple, dict] = {}
        self.rollups: dict[tuple, dict] = {}
        self.cuts: dict[tuple, tuple[bytes, ...]] = {}
        self.numbers: dict[tuple, tuple[bytes, bytes]] = {}
        self.last_citation: tuple = (object(), b"")
        self.inputs: dict[str, bytes] = {}
        self.encoded_rollups: dict[tuple, bytes] = {}

    def item(self, d: Decision) -> dict:
        key = (d.code, d.status, d.method, _number_key(d.points), _number_key(d.max), d.condition, d.notes,
               d.reason, d.note_values)
        fixed = self.items.get(key)
        if fixed is None:
            fixed = remember(self.items, key, {
                "code": d.code, "method": d.method, "status": d.status,
                "points": exact_json(d.points), "points_display": display_json(d.points),
                "max": exact_json(d.max), "condition": d.condition, "reason": d.reason})
        q = d.quantity
        quantity = exact_json(q) if isinstance(q, Fraction) else q
        return {**fixed, "notes": list(d.notes),
                **({"note_values": dict(d.note_values)} if d.note_values else {}),
                "quantity": quantity,
                "inputs": [{"metric": i.metric, "value": i.value,
                            "citation": _citation(i.citation), "location": str(i.location)} for i in d.inputs]}

    def rollup(self, r: Rollup) -> dict:
        key = (r.code, _number_key(r.points), _number_key(r.max))
        found = self.rollups.get(key)
        if found is None:
            found = remember(self.rollups, key, rollup_json(r))
        return dict(found)

    # ---- the same fields as compact JSON bytes, for `unit_file`

    def item_bytes(self, d: Decision) -> bytes:
        """`encode(self.item(d))` without its newline: the encoded fields an item shares with others
        of the same outcome but its points (cut out of the general encoding around its inputs,
        points and quantity, made once), those four encoded in between."""
        maximum = d.max  # its texts depend on its two integers alone
        key = (d.code, d.status, d.method, maximum.numerator, maximum.denominator, d.condition, d.notes, d.reason,
               d.note_values)
        cut = self.cuts.get(key)
        if cut is None:
            cut = remember(self.cuts, key, _cut(encode(
                {**self.item(d), "inputs": _GAP, "points": _GAP, "points_display": _GAP, "quantity": _GAP})[:-1]))
        if not cut:
            return encode(self.item(d))[:-1]
        given = d.inputs
        if len(given) == 1:  # mostly
            inputs = b"[" + self.input_bytes(given[0]) + b"]"
        else:
            inputs = b"[" + b",".join([self.input_bytes(i) for i in given]) + b"]"
        points = self.number_bytes(d.points)
        q = d.quantity
        quantity = _dumps(exact_text(q) if q.__class__ is Fraction else q)  # mostly the unit's own: not kept
        return b"".join((cut[0], inputs, cut[1], points[0], cut[2], points[1], cut[3], quantity, cut[4]))

    def number_bytes(self, value: Fraction) -> tuple[bytes, bytes]:
        """A figure's exact and display texts, encoded."""
        key = (value.numerator, value.denominator)  # its texts depend on these alone
        found = self.numbers.get(key)
        if found is None:
            found = remember(self.numbers, key, (_kept(ratio_text(*key)), _kept(ratio_display(*key))))
        return found

    def input_bytes(self, i: Input) -> bytes:
        """An item's input, its keys in sorted order (citation, location, metric, value)."""
        metric = self.inputs.get(i.metric)
        if metric is None:
            metric = remember(self.inputs, i.metric, b',"metric":' + _dumps(i.metric) + b',"value":')
        c = i.citation
        last = self.last_citation  # a unit's inputs mostly cite one document
        if last[0] is not c:
            last = self.last_citation = (c, b"null" if c is None else _dumps(_citation(c), option=orjson.OPT_SORT_KEYS))
        return b"".join((b'{"citation":', last[1], b',"location":', _dumps(str(i.location)), metric,
                         _dumps(i.value), b"}"))

    def rollup_bytes(self, r: Rollup) -> bytes:
        points, maximum = r.points, r.max
        key = (r.code, points.numerator, points.denominator, maximum.numerator, maximum.denominator)
        found = self.encoded_rollups.get(key)
        if found is None:
            found = remember(self.encoded_rollups, key, encode(rollup_json(r))[:-1])
        return found


_PARTS: list[_Parts] = []  # the parts of the criteria set last encoded


def _parts(criteria: CriteriaSet) -> _Parts:
    """The parts of `criteria` (the one checked here is the one returned, whatever another thread
    puts in `_PARTS` meanwhile)."""
    parts = _PARTS[0] if _PARTS else None
    if parts is None or parts.criteria is not criteria:
        parts = _Parts(criteria)
        _PARTS[:] = [parts]
    return parts


def unit_json(criteria: CriteriaSet, result: UnitResult, engine: str) -> dict:
    parts = _parts(criteria)
    rollup = parts.rollup
    return _unit_doc(criteria, result, engine, [parts.item(d) for d in result.decisions],
                     [rollup(r) for r in result.criteria], [rollup(r) for r in result.areas], rollup(result.total))


def unit_file(criteria: CriteriaSet, result: UnitResult, engine: str) -> bytes:
    """The unit's result file, `encode(unit_json(criteria, result, engine))`: its items and
    roll-ups put in as encoded parts (`_Parts.item_bytes`), so that only what is the unit's own is
    encoded unit after unit. What orjson refuses is encoded by `encode` as a whole."""
    parts = _parts(criteria)
    rollup = parts.rollup_bytes
    try:
        return orjson.dumps(_unit_doc(
            criteria, result, engine, orjson.Fragment(_array([parts.item_bytes(d) for d in result.decisions])),
            orjson.Fragment(_array([rollup(r) for r in result.criteria])),
            orjson.Fragment(_array([rollup(r) for r in result.areas])), orjson.Fragment(rollup(result.total))),
            option=_ORJSON_COMPACT)
    except TypeError:
        return encode(unit_json(criteria, result, engine))


def _array(encoded: list[bytes]) -> bytes:
    return b"[" + b",".join(encoded) + b"]"


def _unit_doc(criteria: CriteriaSet, result: UnitResult, engine: str, items: Any, criteria_rollup: Any, areas: Any,
              total: Any) -> dict:
    counts = {s: 0 for s in ("scored", "not_applicable", "missing_evidence", "no_matching_band")}
    for d in result.decisions:
        if d.status in counts:
            counts[d.status] += 1
    return {
        "format": RESULT_FORMAT,
        "criteria": {"id": criteria.id, "title": criteria.title, "year": criteria.year,
                     "decision": criteria.decision, "sha256": criteria.content_hash},
        "engine": engine,
        "unit": {"id": result.unit_id, "name": result.unit_name, "type": result.unit_type},
        "period": result.period,
        "evidence_source": result.evidence_source,
        "items": items,
        "criteria_rollup": criteria_rollup,
        "areas": areas,
        "total": total,
        "status_counts": counts,
        **({"warnings": list(result.warnings)} if result.warnings else {}),
    }


def summary_row(r: UnitResult) -> dict:
    """A unit's line in summary.json."""
    return {"id": r.unit_id, "name": r.unit_name, "type": r.unit_type, "period": r.period,
            **{k: v for k, v in rollup_json(r.total).items() if k != "code"}}


def summary_doc(criteria: CriteriaSet, rows: Sequence[dict], engine: str, warnings: Sequence[str]) -> dict:
    """summary.json from its units' lines (`summary_row`), in unit order."""
    return {
        "format": "cchc-summary/1",
        "criteria": {"id": criteria.id, "title": criteria.title, "year": criteria.year,
                     "sha256": criteria.content_hash},
        "engine": engine,
        "units": list(rows),
        "warnings": list(warnings),
    }


def summary_json(criteria: CriteriaSet, results: Sequence[UnitResult], engine: str,
                 warnings: Sequence[str]) -> dict:
    return summary_doc(criteria, [summary_row(r) for r in results], engine,
                       list(warnings) + [w for r in results for w in r.warnings])


def result_files(criteria: CriteriaSet, results: Sequence[UnitResult], engine: str,
                 warnings: Sequence[str]) -> dict[str, bytes]:
    check_names({r.unit_id: r.evidence_source for r in results})
    files = {f"units/{r.unit_id}.json": unit_file(criteria, r, engine) for r in results}
    files["summary.json"] = encode(summary_json(criteria, results, engine, warnings))
    return files
