"""`cchc serve --demo`: the example province (its two criteria sets, 50 units with their 2023
evidence as drafts, last year's round) and one account per role, with fresh passwords."""
from __future__ import annotations

import csv
import io
import secrets
from datetime import timedelta
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from . import scoring, services
from .forms import form_data
from .models import ADMIN, APPRAISER, AUDITOR, OFFICER, Profile, Round

REPO = Path(__file__).resolve().parents[2]
GROUPS = {  # criteria file -> the example round's folder
    "tien-giang-2023-departments.yaml": "departments",
    "tien-giang-2023-communes.yaml": "communes",
}


# Units that get an officer's account (more are added in the administration pages): a password
# hash takes a good fraction of a second by design, so the demo does not make fifty of them.
OFFICER_UNITS = ("so-tai-chinh", "so-ke-hoach-dau-tu", "so-cong-thuong", "xa-an-hoa", "xa-an-binh")


def _password() -> str:
    return secrets.token_urlsafe(12)


def _user(username: str, role: str, password: str, **profile) -> Profile:
    User = get_user_model()
    user = User.objects.create_user(username, password=password, is_staff=role == ADMIN,
                                    is_superuser=role == ADMIN)
    return Profile.objects.create(user=user, role=role, **profile)


def load_demo(officer_units: tuple[str, ...] = OFFICER_UNITS) -> list[tuple[str, str, str]]:
    """Create the example round; return (username, password, what the account is for)."""
    if Round.objects.exists():
        raise services.Refused("the data folder already holds a round: the demo is loaded only into an empty "
                               "data folder (its passwords were printed when it was loaded)")
    now = timezone.now().replace(second=0, microsecond=0)
    fields = dict(year=2023, title="Đánh giá Chỉ số CCHC năm 2023 (tỉnh ví dụ)",
                  self_assessment_opens=now - timedelta(days=1), self_assessment_closes=now + timedelta(days=30),
                  appraisal1_closes=now + timedelta(days=45), explanation_closes=now + timedelta(days=55),
                  appraisal2_closes=now + timedelta(days=65))
    files, previous, rows, records = [], {}, [], {}
    for name, folder in GROUPS.items():
        content = (REPO / "criteria" / name).read_bytes()
        files.append((name, content))
        cs, _ = scoring.criteria_problems(content, name)
        base = REPO / "examples" / "province-round" / folder
        previous[cs.id] = (base / "previous" / "round-2022.json").read_text("utf-8")
        for rec in scoring.load_records([base / "evidence"], cs):
            rows.append((rec.unit_id, rec.unit_name, rec.unit_type, cs.id))
            records[rec.unit_id] = (rec, cs)
    out = io.StringIO()
    csv.writer(out).writerows([("unit_id", "unit_name", "unit_type", "criteria"), *rows])
    accounts = []
    with transaction.atomic():
        made = services.create_round(fields, files, ("don-vi.csv", out.getvalue().encode("utf-8")), previous)
        if made.round is None:
            raise services.Refused("; ".join(made.problems))
        for unit in made.round.units.select_related("criteria", "round", "assessment"):
            rec, cs = records[unit.code]
            values, na = scoring.record_form(rec, cs)
            services.save(unit, None, services.assessment_form(unit, unit.assessment, form_data(values, na)))
            if unit.code in officer_units:
                pw = _password()
                _user(unit.code, OFFICER, pw, unit=unit)
                accounts.append((unit.code, pw, f"cán bộ đầu mối: {unit.name}"))
        pw = _password()
        _user("sonoivu", ADMIN, pw)
        accounts.insert(0, ("sonoivu", pw, "Sở Nội vụ (quản trị)"))
        pw = _password()
        appraiser = _user("thamdinh", APPRAISER, pw)
        assigned = list(made.round.units.filter(code__in=("so-tai-chinh", "so-ke-hoach-dau-tu", "xa-an-hoa")))
        appraiser.assigned.set(assigned)
        accounts.insert(1, ("thamdinh", pw, "thành viên Hội đồng thẩm định: " + ", ".join(u.name for u in assigned)))
        pw = _password()
        _user("kiemtra", AUDITOR, pw)
        accounts.insert(2, ("kiemtra", pw, "kiểm tra (chỉ xem)"))
    return accounts
