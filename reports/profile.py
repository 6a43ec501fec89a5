"""Who issues a report: a province profile (`cchc-profile/1`, YAML), e.g. profiles/tien-giang.yaml.

The letterhead lines, the place on the date line, the document number, the signer's title lines and
name, and the recipients are data, never guessed from the criteria set. Without a profile the
province summary leaves the issuing body and the signer for the person printing it to fill in.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from engine.core.errors import InputError, Problem
from engine.core.i18n import N_, _
from engine.inputs.yamlio import key_position, load_yaml, position

FORMAT = "cchc-profile/1"
# key → (kind, required, meaning)
FIELDS: dict[str, tuple[type, bool, str]] = {
    "format": (str, True, f"'{FORMAT}'"),
    "province": (str, True, N_("the province's name")),
    "place": (str, True, N_("the place on the date line")),
    "issuer_lines": (list, True, N_("the letterhead lines of the issuing body, top first")),
    "unit_parent": (str, False, N_("the line above a unit's own name on its form")),
    "document_number": (str, False, N_("the number line under the letterhead")),
    "signer_lines": (list, True, N_("the signer's title lines (e.g. KT. CHỦ TỊCH, PHÓ CHỦ TỊCH)")),
    "signer_name": (str, False, N_("the signer's name")),
    "recipients": (list, False, "Nơi nhận"),
}


@dataclass(frozen=True)
class Profile:
    province: str
    place: str
    issuer_lines: tuple[str, ...]
    signer_lines: tuple[str, ...]
    unit_parent: str = ""
    document_number: str = ""
    signer_name: str = ""
    recipients: tuple[str, ...] = ()
    path: str = ""

    def context(self) -> dict:
        return {"province": self.province, "place": self.place, "issuer_lines": list(self.issuer_lines),
                "unit_parent": self.unit_parent, "document_number": self.document_number,
                "signer_lines": list(self.signer_lines), "signer_name": self.signer_name,
                "recipients": list(self.recipients)}


# Without a profile: lines left to fill in by hand, never an internal note.
BLANK = {"province": "", "place": "", "issuer_lines": ["……………………………"], "unit_parent": "",
         "document_number": "", "signer_lines": ["THỦ TRƯỞNG CƠ QUAN"], "signer_name": "", "recipients": []}


def load_profile(path: Optional[Path]) -> Optional[Profile]:
    """Read and check a profile through the safe YAML loader; every problem located `file:line:col`."""
    if path is None:
        return None
    name = str(path)
    doc = load_yaml(path, name)
    if not isinstance(doc, dict):
        raise InputError([Problem(name, 1, 1, _("expected a mapping (a province profile) at the top level"))])
    problems = []

    def at(*keys: Any, key: bool = False) -> tuple[int, int]:
        return (key_position if key else position)(doc, list(keys))

    for k in doc:
        if k not in FIELDS:
            problems.append(Problem(name, *at(k, key=True), _("unknown key {key!r}; expected: {keys}").format(
                key=k, keys=', '.join(FIELDS))))
    for k, (kind, required, meaning) in FIELDS.items():
        if k not in doc:
            if required:
                problems.append(Problem(name, *at(), _("missing {key!r}: {meaning}").format(key=k, meaning=_(meaning))))
            continue
        v = doc[k]
        if kind is str and not isinstance(v, str):
            problems.append(Problem(name, *at(k), _("{key} must be text ({meaning})").format(key=k, meaning=_(meaning))))
        elif kind is list and (not isinstance(v, list) or not all(isinstance(x, str) and x.strip() for x in v)):
            problems.append(Problem(name, *at(k), _("{key} must be a list of text lines ({meaning})").format(
                key=k, meaning=_(meaning))))
        elif kind is list and required and not v:
            problems.append(Problem(name, *at(k), _("{key} needs at least one line ({meaning})").format(
                key=k, meaning=_(meaning))))
    if "format" in doc and doc["format"] != FORMAT and isinstance(doc["format"], str):
        problems.append(Problem(name, *at("format"), _("format must be {format!r}, got {value!r}").format(
            format=FORMAT, value=doc["format"])))
    if problems:
        raise InputError(problems)
    return Profile(province=doc["province"].strip(), place=doc["place"].strip(),
                   issuer_lines=tuple(x.strip() for x in doc["issuer_lines"]),
                   signer_lines=tuple(x.strip() for x in doc["signer_lines"]),
                   unit_parent=(doc.get("unit_parent") or "").strip(),
                   document_number=(doc.get("document_number") or "").strip(),
                   signer_name=(doc.get("signer_name") or "").strip(),
                   recipients=tuple(x.strip() for x in doc.get("recipients") or ()), path=name)


def profile_context(profile: Optional[Profile]) -> dict:
    return profile.context() if profile is not None else dict(BLANK)
