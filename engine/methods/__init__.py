"""The explicit registry of scoring methods: the built-in ones, and any a program adds by calling
`register` (nothing registers itself on import)."""
from __future__ import annotations

from ..core.errors import CchcError
from ..core.i18n import _
from ..core.model import METRIC_KINDS
from .base import LABELS, ScoringMethod, Target, Wording, interval_words
from .bonus import Bonus
from .categories import Categories
from .deductions import Deductions
from .manual import Manual
from .params import ITEM_MAX, REQUIRED, Number, Param, Records, Table, Text, check_declaration, read_params
from .pass_fail import PassFail
from .proportional import Proportional
from .survey import Survey
from .tiers import Tiers

BUILT_IN: tuple[ScoringMethod, ...] = (Tiers(), Categories(), PassFail(), Proportional(), Deductions(), Bonus(),
                                       Survey(), Manual())
REGISTRY: dict[str, ScoringMethod] = {m.name: m for m in BUILT_IN}

__all__ = ["BUILT_IN", "ITEM_MAX", "LABELS", "REGISTRY", "REQUIRED", "Number", "Param", "Records", "ScoringMethod",
           "Table", "Target", "Text", "UnknownMethodError", "Wording", "check", "get", "interval_words", "names",
           "read_params", "register", "unregister"]


class UnknownMethodError(CchcError, KeyError):
    def __str__(self) -> str:
        return self.args[0]


def get(name: str) -> ScoringMethod:
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownMethodError(
            _("unknown scoring method {method!r}; valid methods: {methods}").format(
                method=name, methods=", ".join(sorted(REGISTRY)))) from None


def names() -> list[str]:
    return sorted(REGISTRY)


def register(method: ScoringMethod) -> None:
    """Add a scoring method (an instance of a `ScoringMethod` subclass) under its `name`; criteria
    sets loaded afterwards may use it. A method registered in one process is known in that process
    only (run the round with one worker, or register it in each)."""
    check(method)
    if method.name in REGISTRY:
        raise ValueError(f"a scoring method named {method.name!r} is already registered")
    REGISTRY[method.name] = method


def check(method: ScoringMethod) -> None:
    """A method's declaration is complete and well formed; a mistake in it is its author's, raised
    as `ValueError`."""
    if not isinstance(method, ScoringMethod):
        raise ValueError(f"{method!r} is not a ScoringMethod")
    name = getattr(method, "name", "")
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"a scoring method's name is a word of letters, digits and _, got {name!r}")
    kinds = getattr(method, "metric_kinds", ())
    if not kinds or not set(kinds) <= set(METRIC_KINDS):
        raise ValueError(f"scoring method {name}: metric_kinds must name some of {', '.join(METRIC_KINDS)}, "
                         f"got {kinds!r}")
    for hook in ("build", "branches", "points"):
        if getattr(type(method), hook) is getattr(ScoringMethod, hook):
            raise ValueError(f"scoring method {name} does not define {hook}()")
    check_declaration(tuple(method.parameters), name)


def unregister(name: str) -> None:
    """Remove a method added by `register`; the built-in methods stay."""
    if any(m.name == name for m in BUILT_IN):
        raise ValueError(f"{name!r} is a built-in scoring method")
    get(name)
    del REGISTRY[name]
