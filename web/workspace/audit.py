"""The audit log: every action, append-only, each entry chained to the one before by its hash.

An entry's hash is sha256 over the previous entry's hash and the entry's canonical JSON (sorted keys,
UTF-8, no spaces), so editing a row changes its hash and deleting one breaks the next entry's link;
`cchc audit verify` recomputes the chain. The head hash (the last entry's) goes into each closed
round's bundle as an input file of role `audit`.
"""
from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from typing import Any, Optional

from django.db import transaction
from django.utils import timezone

from .models import AuditEntry, AuditHead

GENESIS = "0" * 64
_append_lock = threading.Lock()  # one writer per process; the head row's lock orders processes


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def entry_hash(prev: str, fields: dict) -> str:
    return hashlib.sha256((prev + canonical(fields)).encode("utf-8")).hexdigest()


def _fields(e: AuditEntry) -> dict:
    """What an entry's hash covers: every column but the hash itself."""
    return {"seq": e.seq, "at": e.at, "user": e.username, "role": e.role, "action": e.action,
            "round": e.round_id_text, "unit": e.unit_code, "address": e.address, "detail": e.detail, "prev": e.prev}


def record(request, action: str, *, unit=None, round=None, before: Any = None, after: Any = None,
           user=None, **more: Any) -> AuditEntry:
    """Append one entry: who (the request's user, or `user`), when, what changed, from where."""
    from .access import role
    from .throttle import address

    who = user if user is not None else getattr(request, "user", None)
    username = who.get_username() if who is not None and who.is_authenticated else more.pop("username", "")
    r = round if round is not None else (unit.round if unit is not None else None)
    detail = canonical({"before": before, "after": after, **more})
    with _append_lock, transaction.atomic():
        head = AuditHead.objects.select_for_update().filter(pk=1).first()
        if head is None:
            head = AuditHead.objects.create(pk=1)
            head = AuditHead.objects.select_for_update().get(pk=1)
        e = AuditEntry(seq=head.seq + 1, at=timezone.now().isoformat(timespec="microseconds"), username=username,
                       role=role(who) if who is not None else "", action=action,
                       round_id_text=str(r.pk) if r is not None else "", unit_code=unit.code if unit is not None else "",
                       address=address(request) if request is not None else "", detail=detail, prev=head.hash)
        e.hash = entry_hash(e.prev, _fields(e))
        e.save()
        head.seq, head.hash = e.seq, e.hash
        head.save()
    return e


def head_hash() -> str:
    head = AuditHead.objects.filter(pk=1).first()
    return head.hash if head else GENESIS


@dataclass(frozen=True)
class Verdict:
    entries: int
    head: str
    bad_seq: Optional[int] = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.bad_seq is None


def verify() -> Verdict:
    """Recompute the chain from the first entry; the first entry that does not fit is named."""
    prev, expected, count = GENESIS, 1, 0
    for e in AuditEntry.objects.order_by("seq").iterator():
        if e.seq != expected:
            return Verdict(count, prev, expected, f"entry {expected} is missing (the next one is {e.seq})")
        if e.prev != prev:
            return Verdict(count, prev, e.seq, f"entry {e.seq} does not follow entry {e.seq - 1}: "
                                               "an entry before it was changed or deleted")
        if entry_hash(e.prev, _fields(e)) != e.hash:
            return Verdict(count, prev, e.seq, f"entry {e.seq} was changed after it was written "
                                               f"({e.action} by {e.username or '—'} at {e.at})")
        prev, expected, count = e.hash, expected + 1, count + 1
    head = AuditHead.objects.filter(pk=1).first()
    if head is not None and (head.seq, head.hash) != (count, prev):
        return Verdict(count, prev, count + 1 if head.seq > count else head.seq,
                       f"the log ends at entry {count}, but entry {head.seq} was written: "
                       "entries at the end were deleted")
    return Verdict(count, prev)


def detail_of(e: AuditEntry) -> dict:
    try:
        return json.loads(e.detail)
    except ValueError:
        return {}


def diff(before: dict, after: dict) -> tuple[dict, dict]:
    """Only what changed between two mappings: (old values, new values) of the keys that differ."""
    keys = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}
