"""The kinds of bundle this cchc can replay, in one table: a bundle's `kind` (manifest.json) →
how to re-run it and, where it can be, re-score it under other criteria (engine/audit/replay.py).

Adding a kind of run that writes bundles means adding its line here; nothing registers itself."""
from __future__ import annotations

from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from ..storage.bundle import Bundle
from ..core.errors import CchcError
from ..evaluation.evaluate import Evaluator
from .replay import ReplayKind, ReplayReport, WhatIf, replay_kind, replay_score, what_if_kind, what_if_score
from .round_replay import replay_round, what_if_round

BUNDLE_KINDS: Mapping[str, ReplayKind] = MappingProxyType({
    "score": ReplayKind("score", replay_score, what_if=what_if_score),  # `cchc score`
    "round": ReplayKind("round", replay_round, what_if=what_if_round),  # `cchc round`, the workspace
})


def get_kind(name: str) -> ReplayKind:
    """The replay of bundles of kind `name`; an unknown kind is an error that lists the known ones."""
    try:
        return BUNDLE_KINDS[name]
    except KeyError:
        raise CchcError(f"this cchc cannot replay bundles of kind {name!r}; it knows: "
                        f"{', '.join(sorted(BUNDLE_KINDS))}") from None


def replay(bundle: Bundle, evaluator: Evaluator) -> ReplayReport:
    """Re-run a verified bundle from its own inputs and compare with its recorded results."""
    return replay_kind(get_kind(bundle.kind), bundle, evaluator)


def what_if(bundle: Bundle, new_criteria: Path, evaluator: Evaluator) -> WhatIf:
    """Re-score a bundle's recorded evidence under another criteria set."""
    return what_if_kind(get_kind(bundle.kind), bundle, new_criteria, evaluator)
