"""Rounds, units, their self-assessment and its files; people and what they may see.

Points are never stored as something a person typed: `Assessment.result` is the engine's own unit
result (the same JSON `cchc score` writes), recomputed from the form's values on every save.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

ADMIN, OFFICER, APPRAISER, AUDITOR = "admin", "officer", "appraiser", "auditor"
ROLES = [
    (ADMIN, "Quản trị (Sở Nội vụ)"),
    (OFFICER, "Cán bộ đầu mối của đơn vị"),
    (APPRAISER, "Thành viên Hội đồng thẩm định"),
    (AUDITOR, "Kiểm tra (chỉ xem)"),
]


class Round(models.Model):
    """One year's scoring, with its deadlines (each the last moment something may be done)."""

    year = models.PositiveIntegerField("năm đánh giá")
    title = models.CharField("tên đợt", max_length=200)
    self_assessment_opens = models.DateTimeField("mở tự đánh giá")
    self_assessment_closes = models.DateTimeField("hạn tự đánh giá")
    appraisal1_closes = models.DateTimeField("hạn thẩm định lần 1")
    explanation_closes = models.DateTimeField("hạn giải trình")
    appraisal2_closes = models.DateTimeField("hạn thẩm định lần 2")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField("đã kết thúc lúc", null=True, blank=True)

    class Meta:
        ordering = ["-year", "-id"]
        verbose_name = "đợt đánh giá"
        verbose_name_plural = "đợt đánh giá"

    def __str__(self) -> str:
        return f"{self.title} ({self.year})"


class RoundCriteria(models.Model):
    """A criteria set of a round (the uploaded YAML, kept byte for byte) for the unit types it declares."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="criteria_sets")
    name = models.CharField("tên tệp", max_length=200)
    content = models.BinaryField("nội dung YAML")
    sha256 = models.CharField(max_length=64)
    criteria_id = models.CharField("mã bộ tiêu chí", max_length=200)
    title = models.CharField(max_length=500)
    unit_types = models.JSONField(default=list)
    previous_round = models.TextField("kết quả năm trước của nhóm (round.json của cchc round)", blank=True)

    class Meta:
        unique_together = [("round", "criteria_id")]
        verbose_name = "bộ tiêu chí"
        verbose_name_plural = "bộ tiêu chí"

    def __str__(self) -> str:
        return f"{self.criteria_id} ({self.name})"


class Unit(models.Model):
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="units")
    code = models.CharField("mã đơn vị", max_length=100)
    name = models.CharField("tên đơn vị", max_length=300)
    unit_type = models.CharField("loại đơn vị", max_length=100)
    criteria = models.ForeignKey(RoundCriteria, on_delete=models.PROTECT, related_name="units")

    class Meta:
        unique_together = [("round", "code")]
        ordering = ["round", "name"]
        verbose_name = "đơn vị"
        verbose_name_plural = "đơn vị"

    def __str__(self) -> str:
        return self.name


class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    role = models.CharField("vai trò", max_length=20, choices=ROLES)
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.CASCADE, related_name="officers",
                             help_text="Đơn vị của cán bộ đầu mối")
    assigned = models.ManyToManyField(Unit, blank=True, related_name="appraisers",
                                      help_text="Đơn vị được phân công thẩm định")

    class Meta:
        verbose_name = "tài khoản"
        verbose_name_plural = "tài khoản"

    def __str__(self) -> str:
        return f"{self.user.username} ({self.get_role_display()})"


DRAFT, SUBMITTED = "draft", "submitted"
STATES = [(DRAFT, "Đang nhập"), (SUBMITTED, "Đã gửi (khóa)")]


class Assessment(models.Model):
    """A unit's self-assessment: what the form holds, the engine's result on it, and its state."""

    unit = models.OneToOneField(Unit, on_delete=models.CASCADE, related_name="assessment")
    state = models.CharField(max_length=20, choices=STATES, default=DRAFT)
    values = models.JSONField(default=dict)  # metric id -> the form's fields, as typed
    not_applicable = models.JSONField(default=dict)  # item code -> reason
    result = models.JSONField(null=True, blank=True)  # the engine's unit result (cchc-result/…)
    problems = models.JSONField(default=list)  # the engine's located problems with the last save
    version = models.PositiveIntegerField(default=0)  # one more on every save
    saved_at = models.DateTimeField(null=True, blank=True)
    saved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    submitted_at = models.DateTimeField(null=True, blank=True)
    reopened = models.BooleanField(default=False)  # the administrator reopened it after the deadline

    class Meta:
        verbose_name = "bản tự đánh giá"
        verbose_name_plural = "bản tự đánh giá"

    def __str__(self) -> str:
        return f"{self.unit} — {self.get_state_display()}"

    # The whole submit-and-lock rule, in one place; every view asks here on every request.
    def window_open(self, now=None) -> bool:
        now = now or timezone.now()
        r = self.unit.round
        return r.self_assessment_opens <= now <= r.self_assessment_closes

    def editable(self, now=None) -> bool:
        return self.state == DRAFT and (self.window_open(now) or self.reopened)

    def can_submit(self, now=None) -> bool:
        return self.editable(now)

    def can_withdraw(self, now=None) -> bool:
        return self.state == SUBMITTED and self.window_open(now)

    def can_reopen(self, now=None) -> bool:
        now = now or timezone.now()
        return now > self.unit.round.self_assessment_closes and not (self.state == DRAFT and self.reopened)


class Reopening(models.Model):
    """The administrator reopened a unit's form after the deadline, with a reason."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="reopenings")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    at = models.DateTimeField(auto_now_add=True)


class EvidenceFile(models.Model):
    """A file attached to one item of a unit; the bytes live under the data folder by their sha256."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="files")
    item = models.CharField("mục", max_length=50)
    sha256 = models.CharField(max_length=64)
    name = models.CharField("tên tệp", max_length=255)
    size = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=10)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    explanation = models.BooleanField("kèm giải trình", default=False)

    class Meta:
        ordering = ["item", "uploaded_at"]


class LoginFailure(models.Model):
    username = models.CharField(max_length=150, db_index=True)
    address = models.CharField(max_length=64)
    at = models.DateTimeField(auto_now_add=True, db_index=True)


# ---------------------------------------------------------------- appraisal council, survey, closing

class Appraisal(models.Model):
    """An appraiser's word on one self-assessed item of a unit in lần 1 or lần 2: accept the
    self-assessed points, or set points the item's rule can give (with a reason when they differ).
    Written to the unit's `cchc-appraisal/1` file when the round is closed; never scored here."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="appraisals")
    item = models.CharField("mục", max_length=50)
    round_no = models.PositiveSmallIntegerField("lần thẩm định")
    accept = models.BooleanField("công nhận điểm tự chấm", default=False)
    points = models.CharField("điểm thẩm định (chính xác)", max_length=50, blank=True)
    reason = models.TextField("lý do", blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now=True)

    class Meta:
        unique_together = [("unit", "item", "round_no")]
        ordering = ["unit", "round_no", "item"]
        verbose_name = "ý kiến thẩm định"
        verbose_name_plural = "ý kiến thẩm định"


class Explanation(models.Model):
    """The unit's giải trình on an item appraised in lần 1, before the explanation deadline."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="explanations")
    item = models.CharField("mục", max_length=50)
    text = models.TextField("giải trình")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now=True)

    class Meta:
        unique_together = [("unit", "item")]
        ordering = ["unit", "item"]
        verbose_name = "giải trình"
        verbose_name_plural = "giải trình"


class SurveyFile(models.Model):
    """A survey data file (`cchc-survey/1` YAML, or CSV/Excel) of one criteria set, kept byte for byte."""

    criteria = models.ForeignKey(RoundCriteria, on_delete=models.CASCADE, related_name="survey_files")
    name = models.CharField("tên tệp", max_length=200)
    content = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        unique_together = [("criteria", "name")]
        ordering = ["criteria", "name"]


class Closing(models.Model):
    """A closed round's result for one criteria set: the engine's files and bundle under the data folder."""

    criteria = models.OneToOneField(RoundCriteria, on_delete=models.CASCADE, related_name="closing")
    folder = models.CharField(max_length=300)  # relative to the data folder
    bundle_sha256 = models.CharField(max_length=64)
    signed = models.BooleanField(default=False)
    audit_head = models.CharField(max_length=64)
    round_json = models.TextField()
    at = models.DateTimeField(auto_now_add=True)


class AuditEntry(models.Model):
    """One action, append-only; `hash` covers the entry's canonical JSON and the previous entry's hash."""

    seq = models.PositiveBigIntegerField(unique=True)
    at = models.CharField(max_length=40)  # ISO time, UTC, as hashed
    username = models.CharField(max_length=150, db_index=True)
    role = models.CharField(max_length=20)
    action = models.CharField(max_length=30)
    round_id_text = models.CharField(max_length=20, blank=True)
    unit_code = models.CharField(max_length=100, blank=True, db_index=True)
    address = models.CharField(max_length=64, blank=True)
    detail = models.TextField()  # canonical JSON: {"before": …, "after": …, …}
    prev = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]


class AuditHead(models.Model):
    """The last entry's number and hash; locked while an entry is appended (one writer at a time)."""

    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)


class Notice(models.Model):
    """An in-app notice to one person (deadlines, appraisal results); `key` keeps it from repeating."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices")
    key = models.CharField(max_length=200)
    text = models.TextField()
    link = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(auto_now_add=True)
    read = models.BooleanField(default=False)

    class Meta:
        unique_together = [("user", "key")]
        ordering = ["-at"]
