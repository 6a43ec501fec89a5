"""The explicit registry of scoring methods."""
from __future__ import annotations

from ..errors import CchcError
from ..i18n import _
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
            _("unknown scoring method {method!r}; valid methods: {methods}").format(
                method=name, methods=', '.join(sorted(REGISTRY)))) from None


def names() -> list[str]:
    return sorted(REGISTRY)
