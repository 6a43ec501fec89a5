"""The words of the notes the engine writes on a decision as codes (`notes` in a unit result,
engine/core/model.py `NOTES`), in the reader's language through the gettext catalogue."""
from __future__ import annotations

from typing import Mapping, Optional, Union

from engine.core.i18n import N_, _, language
from engine.core.model import (NOTE_CONDITION_MISSING, NOTE_KNOCKED_OUT, NOTE_MISSING, NOTE_NO_BAND, NOTE_NO_CITATION,
                          NOTE_NOT_FOR_UNIT_TYPE)
from engine.core.numbers import to_fraction
from engine.storage.documents import ResultItem

from .text import compact

WORDS = {
    NOTE_NOT_FOR_UNIT_TYPE: N_("not applicable to units of type {unit_type}"),
    NOTE_MISSING: N_("missing data or evidence: an explanation is needed"),
    NOTE_NO_BAND: N_("the value is in none of the item's bands"),
    NOTE_NO_CITATION: N_("no evidence document is cited: an explanation is needed"),
    NOTE_CONDITION_MISSING: N_("missing data for metric {metric}, which the item's conditions need: an explanation "
                               "is needed"),
    NOTE_KNOCKED_OUT: N_("knock-out condition: {labels}; by the figures alone the level «{band}» = {points} points"),
}


def note_text(code: str, unit_type: str = "", values: Optional[Mapping[str, str]] = None) -> str:
    """One note in words, with the decision's `note_values`; a code this version does not know is
    shown as it is."""
    words = WORDS.get(code)
    if not words:
        return code
    values = {"metric": "", "labels": "", "band": "", "points": "", **(values or {})}
    if values["points"]:
        values["points"] = _points(values["points"])
    return _(words).format(unit_type=unit_type, **values)


def _points(exact: str) -> str:
    """Points as a reader writes them: `0,5` in Vietnamese, `0.5` in English, a third as `0,33`."""
    try:
        text = compact(to_fraction(exact))
    except (TypeError, ValueError, ArithmeticError):
        return exact
    return text if language() == "vi" else text.replace(",", ".")


def item_notes(item: Union[ResultItem, Mapping], unit_type: str = "") -> str:
    """An item's notes in words and the unit's own reason, `; `-separated (empty when none); the
    item typed (`engine.storage.documents.ResultItem`) or as the engine's decision mapping."""
    if isinstance(item, ResultItem):
        notes, values, reason = item.notes, item.note_values, item.reason
    else:
        notes, values, reason = item.get("notes") or (), item.get("note_values"), item.get("reason")
    texts = [note_text(code, unit_type, values) for code in notes]
    if reason:
        texts.append(reason)
    return "; ".join(texts)
