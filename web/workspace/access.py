"""Who may see and do what. Every view asks here, on every request."""
from __future__ import annotations

from django.core.exceptions import PermissionDenied

from .models import ADMIN, APPRAISER, AUDITOR, OFFICER, Unit


def role(user) -> str:
    if not user.is_authenticated:
        return ""
    profile = getattr(user, "profile", None)
    return profile.role if profile else (ADMIN if user.is_superuser else "")


def is_admin(user) -> bool:
    return role(user) == ADMIN


def visible_units(user):
    """The units a person may see: all (administrator, auditor), their own (officer), or those
    assigned to them (appraiser)."""
    r = role(user)
    if r in (ADMIN, AUDITOR):
        return Unit.objects.all()
    if r == OFFICER:
        return Unit.objects.filter(pk=user.profile.unit_id) if user.profile.unit_id else Unit.objects.none()
    if r == APPRAISER:
        return user.profile.assigned.all()
    return Unit.objects.none()


def unit_for(user, pk: int) -> Unit:
    """The unit, if this person may see it; otherwise 403 (the same answer whether it exists or not)."""
    unit = visible_units(user).select_related("round", "criteria").filter(pk=pk).first()
    if unit is None:
        raise PermissionDenied
    return unit


def is_officer_of(user, unit: Unit) -> bool:
    return role(user) == OFFICER and user.profile.unit_id == unit.pk


def require_admin(user) -> None:
    if not is_admin(user):
        raise PermissionDenied
