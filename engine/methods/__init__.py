"""The explicit registry of scoring methods."""
from __future__ import annotations

from ..errors import CchcError
from .base import ScoringMethod
from .bonus import Bonus
from .categories import Categories
from .deductions import Deductions
from .manual import Manual
from .pass_fail import PassFail
from .proportional import Proportional
from .survey import Survey
from .tiers import Tiers

REGISTRY: dict[str, ScoringMethod] = {
    m.name: m for m in (Tiers(), Categories(), PassFail(), Proportional(), Deductions(), Bonus(),
                        Survey(), Manual())
}


class UnknownMethodError(CchcError, KeyError):
    def __str__(self) -> str:
        return self.args[0]


def get(name: str) -> ScoringMethod:
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownMethodError(
            f"unknown scoring method {name!r}; valid methods: {', '.join(sorted(REGISTRY))}") from None


def names() -> list[str]:
    return sorted(REGISTRY)
