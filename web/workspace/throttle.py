"""Login throttling: after LOGIN_FAILURE_LIMIT failures for a user name from one address within
LOGIN_FAILURE_WINDOW seconds, that pair is refused until the window has passed. Kept in the database,
so it holds across server threads and processes."""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from .models import LoginFailure


def address(request) -> str:
    return request.META.get("REMOTE_ADDR", "")[:64]


def _recent(username: str, addr: str):
    since = timezone.now() - timedelta(seconds=settings.LOGIN_FAILURE_WINDOW)
    return LoginFailure.objects.filter(username=username.lower()[:150], address=addr, at__gte=since)


def locked(username: str, addr: str) -> bool:
    return _recent(username, addr).count() >= settings.LOGIN_FAILURE_LIMIT


def failed(username: str, addr: str) -> None:
    LoginFailure.objects.create(username=username.lower()[:150], address=addr)


def succeeded(username: str, addr: str) -> None:
    LoginFailure.objects.filter(username=username.lower()[:150], address=addr).delete()
