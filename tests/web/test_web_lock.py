"""Submit and lock, withdraw, deadlines and reopening: enforced by the server on every request."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import example_form

pytestmark = pytest.mark.django_db


def _state(unit):
    from web.workspace.models import Assessment

    return Assessment.objects.get(unit=unit)


def _past_deadline(world):
    r = world.round
    r.self_assessment_closes = timezone.now() - timedelta(minutes=1)
    r.save()


def test_submit_locks_and_withdraw_unlocks_before_the_deadline(client, world):
    client.force_login(world.officer_a)
    data = example_form(world.a)
    client.post(f"/don-vi/{world.a.pk}/", data)
    client.post(f"/don-vi/{world.a.pk}/gui/")
    a = _state(world.a)
    assert a.state == "submitted"
    version = a.version
    resp = client.post(f"/don-vi/{world.a.pk}/", {**data, "m|late_reports|value": "7"}, follow=True)
    assert "đã gửi và đang khóa" in resp.content.decode("utf-8")
    assert _state(world.a).version == version  # the save was refused by the server
    page = client.get(f"/don-vi/{world.a.pk}/").content.decode("utf-8")
    assert 'id="readonly"' in page and 'name="save"' not in page and "disabled" in page
    client.post(f"/don-vi/{world.a.pk}/rut-lai/")
    assert _state(world.a).state == "draft"
    client.post(f"/don-vi/{world.a.pk}/", {**data, "m|late_reports|value": "7"})
    assert _state(world.a).values["late_reports"]["value"] == "7"


def test_submit_needs_a_scored_form(client, world):
    client.force_login(world.officer_a)
    resp = client.post(f"/don-vi/{world.a.pk}/gui/", follow=True)
    assert _state(world.a).state == "draft"
    assert "chưa tính được điểm" in resp.content.decode("utf-8")


def test_after_the_deadline_nothing_changes_until_the_administrator_reopens(client, world):
    from web.workspace.models import Reopening

    client.force_login(world.officer_a)
    data = example_form(world.a)
    client.post(f"/don-vi/{world.a.pk}/", data)
    client.post(f"/don-vi/{world.a.pk}/gui/")
    _past_deadline(world)
    client.post(f"/don-vi/{world.a.pk}/rut-lai/")
    assert _state(world.a).state == "submitted"  # no withdrawing after the deadline

    # a unit that never submitted is read-only too
    client.force_login(world.officer_b)
    resp = client.post(f"/don-vi/{world.b.pk}/", example_form(world.b), follow=True)
    assert "Đã hết hạn tự đánh giá" in resp.content.decode("utf-8")
    assert _state(world.b).version == 0
    client.post(f"/don-vi/{world.b.pk}/gui/")
    assert _state(world.b).state == "draft"
    from django.core.files.uploadedfile import SimpleUploadedFile

    from conftest import PDF
    client.post(f"/don-vi/{world.b.pk}/tep/", {"item": "1.1.1", "file": SimpleUploadedFile("a.pdf", PDF)})
    assert world.b.files.count() == 0

    # officers cannot reopen; the administrator needs a reason
    client.post(f"/don-vi/{world.b.pk}/mo-lai/", {"reason": "xin mở lại"})
    assert not _state(world.b).reopened
    client.force_login(world.admin)
    client.post(f"/don-vi/{world.b.pk}/mo-lai/", {"reason": ""})
    assert not _state(world.b).reopened
    client.post(f"/don-vi/{world.b.pk}/mo-lai/", {"reason": "Đơn vị bị mất điện ngày cuối hạn"})
    assert _state(world.b).reopened
    assert Reopening.objects.get(unit=world.b).reason == "Đơn vị bị mất điện ngày cuối hạn"

    client.force_login(world.officer_b)
    client.post(f"/don-vi/{world.b.pk}/", example_form(world.b))
    assert _state(world.b).version == 1
    client.post(f"/don-vi/{world.b.pk}/gui/")
    b = _state(world.b)
    assert b.state == "submitted" and not b.reopened  # reopening ends with the new submission
    client.post(f"/don-vi/{world.b.pk}/", example_form(world.b))
    assert _state(world.b).version == 1


def test_before_the_window_opens_nothing_is_saved(client, world):
    r = world.round
    r.self_assessment_opens = timezone.now() + timedelta(days=1)
    r.save()
    client.force_login(world.officer_a)
    resp = client.post(f"/don-vi/{world.a.pk}/", example_form(world.a), follow=True)
    assert "Chưa đến thời gian tự đánh giá" in resp.content.decode("utf-8")
    assert _state(world.a).version == 0


def test_only_the_units_officer_edits(client, world):
    for user in (world.admin, world.auditor):
        client.force_login(user)
        assert client.get(f"/don-vi/{world.a.pk}/").status_code == 200  # they may read it
        assert client.post(f"/don-vi/{world.a.pk}/", example_form(world.a)).status_code == 403
        assert client.post(f"/don-vi/{world.a.pk}/gui/").status_code == 403
    assert _state(world.a).version == 0
