"""Memos of what a run works out again and again, unit after unit — typed values, citations,
deadlines, rule-engine answers, outcomes, roll-ups, number texts, result parts. They live from one
piece of the evidence to the next, so each is bounded: emptied when it holds `ENTRIES` entries
(then filled again by the units that follow). What a run holds in memory therefore does not grow
with its number of units; a memo only ever saves work, never changes a result."""
from __future__ import annotations

from typing import Any, Hashable, TypeVar

ENTRIES = 4096  # the most entries of one memo: about what a thousand units of the largest shipped set fill

T = TypeVar("T")


def remember(memo: dict, key: Hashable, value: T) -> T:
    """`memo[key] = value`, emptying `memo` first when it is full; returns `value`."""
    if len(memo) >= ENTRIES:
        memo.clear()
    memo[key] = value
    return value
