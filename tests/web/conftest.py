"""A small round for the workspace tests: two criteria sets, three units, one account per role.

The database is the one Django's settings name: SQLite in a throwaway folder, or PostgreSQL when
DATABASE_URL is set (`make test` runs these tests on both, the browser tests on SQLite only:
scripts/run_tests.sh says why)."""
from __future__ import annotations

import functools
import io
import os
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
CRITERIA = REPO / "criteria"
EVIDENCE = REPO / "examples" / "province-round"
PASSWORD = "mật-khẩu-thử-1"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
UNITS_CSV = ("unit_id,unit_name,unit_type\n"
             "so-tai-chinh,Sở Tài chính,department\n"
             "so-cong-thuong,Sở Công Thương,department\n"
             "xa-an-hoa,Xã An Hòa,commune\n").encode("utf-8")


@pytest.fixture(autouse=True)
def _fast_hashes(settings):
    """Password hashing is slow on purpose; the tests do not measure it."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class World:
    round: object
    a: object  # Sở Tài chính
    b: object  # Sở Công Thương
    c: object  # Xã An Hòa
    admin: object
    officer_a: object
    officer_b: object
    appraiser: object  # assigned to Xã An Hòa only
    auditor: object
    file_a: object  # a PDF attached to unit a


def make_world(uploaded_by_a: bool = True) -> World:
    from django.contrib.auth.models import User
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from web.workspace import services, uploads
    from web.workspace.models import ADMIN, APPRAISER, AUDITOR, OFFICER, EvidenceFile, Profile

    now = timezone.now()
    files = [(n, (CRITERIA / n).read_bytes()) for n in ("tien-giang-2023-departments.yaml",
                                                        "tien-giang-2023-communes.yaml")]
    made = services.create_round(dict(year=2023, title="Đợt thử", self_assessment_opens=now - timedelta(days=1),
                                      self_assessment_closes=now + timedelta(days=10),
                                      appraisal1_closes=now + timedelta(days=20),
                                      explanation_closes=now + timedelta(days=25),
                                      appraisal2_closes=now + timedelta(days=30)),
                                 files, ("don-vi.csv", UNITS_CSV))
    assert made.round is not None, made.problems
    units = {u.code: u for u in made.round.units.select_related("round", "criteria", "assessment")}

    def user(name, role, **kw):
        u = User.objects.create_user(name, password=PASSWORD, is_staff=role == ADMIN, is_superuser=role == ADMIN)
        p = Profile.objects.create(user=u, role=role, **kw)
        return u, p

    admin, _ = user("sonoivu", ADMIN)
    officer_a, _ = user("canbo-a", OFFICER, unit=units["so-tai-chinh"])
    officer_b, _ = user("canbo-b", OFFICER, unit=units["so-cong-thuong"])
    appraiser, p = user("thamdinh", APPRAISER)
    p.assigned.set([units["xa-an-hoa"]])
    auditor, _ = user("kiemtra", AUDITOR)
    sha, kind, size = uploads.store(SimpleUploadedFile("ke-hoach.pdf", PDF))
    file_a = EvidenceFile.objects.create(unit=units["so-tai-chinh"], item="1.1.1", sha256=sha, name="ke-hoach.pdf",
                                         size=size, kind=kind, uploaded_by=officer_a)
    return World(made.round, units["so-tai-chinh"], units["so-cong-thuong"], units["xa-an-hoa"], admin, officer_a,
                 officer_b, appraiser, auditor, file_a)


@pytest.fixture
def world(db) -> World:
    return make_world()


def example_form(unit) -> dict:
    """The form's fields filled with the example province's evidence of this unit."""
    return dict(_example_form(unit.code, unit.unit_type, unit.criteria.sha256))


@functools.lru_cache(maxsize=None)
def _example_form(code: str, unit_type: str, sha: str) -> tuple:
    from web.workspace import scoring
    from web.workspace.forms import form_data
    from web.workspace.models import RoundCriteria

    cs = scoring.criteria_of(RoundCriteria.objects.filter(sha256=sha).first())
    kind = "departments" if unit_type == "department" else "communes"
    path = EVIDENCE / kind / "evidence" / f"{code}.yaml"
    rec = next(r for r in scoring.load_records([path], cs) if r.unit_id == code)
    return tuple(form_data(*scoring.record_form(rec, cs)).items())


def xlsx(rows: list[list]) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "So lieu"
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def pg() -> bool:
    return bool(os.environ.get("DATABASE_URL"))
