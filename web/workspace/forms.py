"""The unit's form, generated from its criteria set: one section per area and criterion, one group of
fields per metric (by its kind), the citation, and "not applicable, because …" per item.

The form only checks that what was typed can be read (numbers, dates, whole counts), with messages
in Vietnamese next to the field; the engine then decides the points."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from typing import Optional

from django import forms
from django.core.exceptions import ValidationError

from engine.core.model import CriteriaSet, MetricSpec, SubCriterion
from engine.core.numbers import parse_number

from .scoring import CITATION_FIELDS, TASK_FIELDS, self_assessed

EXTRA_TASK_ROWS = 3
TABLE_PART = re.compile(r"t\d+\||r:")  # a task row's cell or a survey option's count
KIND_LABELS = {"percent": "tỷ lệ %", "count": "số lượng", "points": "điểm tự chấm", "boolean": "có / không",
               "date": "ngày", "category": "mức", "responses": "số phiếu", "tasks": "danh sách nhiệm vụ"}


def name(metric: str, part: str) -> str:
    return f"m|{metric}|{part}"


def na_name(code: str) -> str:
    return f"na|{code}"


def _number(text: str) -> Optional[Fraction]:
    try:
        return parse_number(text)
    except (ValueError, TypeError, ArithmeticError):
        return None


def _whole(text: str) -> Optional[int]:
    f = _number(text)
    return int(f) if f is not None and f.denominator == 1 and f >= 0 else None


def _date_ok(text: str) -> bool:
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            datetime.strptime(text.strip(), fmt)
            return True
        except ValueError:
            pass
    return False


@dataclass
class MetricBlock:
    """The fields of one metric, shown under the first item that uses it."""

    spec: MetricSpec
    fields: list[str]
    task_rows: list[list[str]] = field(default_factory=list)
    option_fields: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class ItemBlock:
    sub: SubCriterion
    metric: Optional[MetricBlock]  # None when an earlier item shows the same metric
    shared_with: str = ""


class AssessmentForm(forms.Form):
    """Built for one criteria set and unit type; `values()` / `not_applicable()` give what to store."""

    def __init__(self, cs: CriteriaSet, unit_type: str, stored: dict, stored_na: dict, *args,
                 disabled: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.cs = cs
        self.items: list[ItemBlock] = []
        self.blocks: dict[str, MetricBlock] = {}
        first_item: dict[str, str] = {}
        for sub in self_assessed(cs, unit_type):
            spec = cs.metrics[sub.metric]
            block = None
            if sub.metric not in self.blocks:
                block = self.blocks[sub.metric] = self._metric_fields(spec, stored.get(sub.metric) or {})
                first_item[sub.metric] = sub.code
            self.fields[na_name(sub.code)] = forms.CharField(
                required=False, max_length=1000, label="Không áp dụng, vì", initial=stored_na.get(sub.code, ""))
            self.items.append(ItemBlock(sub, block, "" if block else first_item[sub.metric]))
        if disabled:
            for f in self.fields.values():
                f.disabled = True

    def _add(self, key: str, f: forms.Field, initial) -> str:
        f.initial = initial
        f.required = False
        self.fields[key] = f
        return key

    def _metric_fields(self, spec: MetricSpec, stored: dict) -> MetricBlock:
        m = spec.id
        text = lambda part, label, **kw: self._add(name(m, part), forms.CharField(label=label, max_length=200, **kw),  # noqa: E731
                                                  stored.get(part, ""))
        fields: list[str] = []
        block = MetricBlock(spec, fields)
        if spec.kind == "percent":
            fields += [text("value", "Tỷ lệ (%)"), text("numerator", "hoặc: tử số"), text("denominator", "mẫu số")]
        elif spec.kind in ("count", "points"):
            fields.append(text("value", KIND_LABELS[spec.kind].capitalize()))
        elif spec.kind == "boolean":
            fields.append(self._add(name(m, "value"), forms.ChoiceField(
                label="Kết quả", choices=[("", "— chưa nhập —"), ("yes", "Có / Đạt"), ("no", "Không")]),
                stored.get("value", "")))
        elif spec.kind == "date":
            fields.append(text("value", "Ngày (dd/mm/yyyy)"))
            fields.append(self._add(name(m, "not_done"), forms.BooleanField(label="Chưa thực hiện"),
                                    bool(stored.get("not_done"))))
        elif spec.kind == "category":
            fields.append(self._add(name(m, "value"), forms.ChoiceField(
                label="Mức", choices=[("", "— chưa nhập —")] + [(c, c) for c in spec.categories]),
                stored.get("value", "")))
        elif spec.kind == "responses":
            responses = stored.get("responses") or {}
            for opt in spec.options:
                key = self._add(name(m, f"r:{opt}"), forms.CharField(label=opt, max_length=20), responses.get(opt, ""))
                block.option_fields.append((opt, key))
        elif spec.kind == "tasks":
            rows = stored.get("tasks") or []
            posted = sum(1 for k in (self.data or {}) if k.startswith(name(m, "t")) and k.endswith("|task"))
            for i in range(max(len(rows) + EXTRA_TASK_ROWS, posted)):
                row = rows[i] if i < len(rows) else {}
                block.task_rows.append([
                    self._add(name(m, f"t{i}|{k}"), forms.CharField(label=k, max_length=500), row.get(k, ""))
                    for k in TASK_FIELDS])
        for part, label in zip(CITATION_FIELDS, ("Số, ký hiệu văn bản", "Ngày ban hành", "Cơ quan ban hành")):
            fields.append(text(part, label))
        fields.append(text("reason", "Giải thích (nếu cần)", widget=forms.TextInput))
        return block

    # ------------------------------------------------------------ reading what was typed
    def clean(self):
        data = super().clean()
        for m, block in self.blocks.items():
            self._check_metric(block, data)
        return data

    def _err(self, m: str, part: str, message: str) -> None:
        self.add_error(name(m, part), ValidationError(message))

    def _check_metric(self, block: MetricBlock, data: dict) -> None:
        spec, m = block.spec, block.spec.id
        get = lambda part: (data.get(name(m, part)) or "").strip() if isinstance(data.get(name(m, part)), str) \
            else data.get(name(m, part))  # noqa: E731
        value = get("value")
        if spec.kind == "percent":
            num, den = get("numerator"), get("denominator")
            if num or den:
                if value:
                    self._err(m, "value", "Nhập tỷ lệ hoặc tử số/mẫu số, không nhập cả hai.")
                if _whole(num) is None:
                    self._err(m, "numerator", "Tử số phải là số nguyên không âm.")
                if _whole(den) is None or _whole(den) == 0:
                    self._err(m, "denominator", "Mẫu số phải là số nguyên lớn hơn 0.")
                elif _whole(num) is not None and _whole(num) > _whole(den):
                    self._err(m, "numerator", "Tử số không được lớn hơn mẫu số.")
            elif value:
                q = _number(value)
                if q is None:
                    self._err(m, "value", "Nhập một số, ví dụ 95,5.")
                elif not 0 <= q <= 100:
                    self._err(m, "value", "Tỷ lệ phải từ 0 đến 100 (%).")
        elif spec.kind == "count" and value and _whole(value) is None:
            self._err(m, "value", "Nhập một số nguyên không âm.")
        elif spec.kind == "points" and value and (_number(value) is None or _number(value) < 0):
            self._err(m, "value", "Nhập số điểm (không âm), ví dụ 1,75.")
        elif spec.kind == "date" and value and not _date_ok(value):
            self._err(m, "value", "Ngày không hợp lệ: nhập dd/mm/yyyy, ví dụ 26/01/2023.")
        elif spec.kind == "responses":
            for opt, key in block.option_fields:
                if (data.get(key) or "").strip() and _whole(data[key]) is None:
                    self.add_error(key, ValidationError("Số phiếu phải là số nguyên không âm."))
        elif spec.kind == "tasks":
            for row in block.task_rows:
                cells = {k: (data.get(key) or "").strip() for k, key in zip(TASK_FIELDS, row)}
                if not any(cells.values()):
                    continue
                for k, key in zip(TASK_FIELDS, row):
                    if k in ("task", "lead", "deadline") and not cells[k]:
                        self.add_error(key, ValidationError("Bắt buộc khi dòng nhiệm vụ có nội dung."))
                if cells["completed"] and not _date_ok(cells["completed"]):
                    self.add_error(row[TASK_FIELDS.index("completed")],
                                   ValidationError("Ngày hoàn thành không hợp lệ (dd/mm/yyyy)."))
        if get("date") and not _date_ok(get("date")):
            self._err(m, "date", "Ngày ban hành không hợp lệ (dd/mm/yyyy).")
        if (get("date") or get("issuer")) and not get("document"):
            self._err(m, "document", "Nhập số, ký hiệu của văn bản kiểm chứng.")

    def metric_has_errors(self, m: str) -> bool:
        return any(k.startswith(f"m|{m}|") for k in self.errors)

    def _raw(self, key: str):
        """What was typed in a field (kept even when it cannot be read)."""
        f = self.fields[key]
        if isinstance(f, forms.BooleanField):
            return bool(f.to_python(self[key].data))
        v = self[key].data
        return v.strip() if isinstance(v, str) else ""

    def values(self) -> dict:
        """Every metric's fields as typed (kept even when wrong, so nothing typed is lost)."""
        out = {}
        for m, block in self.blocks.items():
            prefix = f"m|{m}|"
            raw = {k[len(prefix):]: self._raw(k) for k in self.fields if k.startswith(prefix)}
            entry = {k: v for k, v in raw.items() if isinstance(v, str) and v and not TABLE_PART.match(k)}
            if raw.get("not_done"):
                entry["not_done"] = True
            if block.option_fields:
                entry["responses"] = {opt: raw[f"r:{opt}"] for opt, _ in block.option_fields if raw.get(f"r:{opt}")}
            if block.task_rows:
                rows = [{k: raw[f"t{i}|{k}"] for k in TASK_FIELDS if raw.get(f"t{i}|{k}")}
                        for i in range(len(block.task_rows))]
                entry["tasks"] = [r for r in rows if r]
            entry = {k: v for k, v in entry.items() if v not in ({}, [])}
            if entry:
                out[m] = entry
        return out

    def not_applicable(self) -> dict:
        return {item.sub.code: self._raw(na_name(item.sub.code)) for item in self.items
                if self._raw(na_name(item.sub.code))}

    def scorable_values(self) -> dict:
        """The values the engine is given: metrics whose fields could not be read are left out (the
        item then shows as missing evidence until the field is corrected)."""
        return {m: v for m, v in self.values().items() if not self.metric_has_errors(m)}

    def add_engine_problem(self, field_key: str, message: str) -> bool:
        """Show one of the engine's problems next to the field it is about; False if it has none here."""
        if field_key.startswith("na:"):
            key = na_name(field_key[3:])
        elif field_key in self.blocks:
            b = self.blocks[field_key]
            key = b.fields[0] if b.fields and not b.task_rows and not b.option_fields else (
                b.task_rows[0][0] if b.task_rows else b.option_fields[0][1] if b.option_fields else "")
        else:
            return False
        if key not in self.fields:
            return False
        self.add_error(key, ValidationError(f"Kiểm tra của bộ chấm điểm: {message}"))
        return True


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            return [super(MultipleFileField, self).clean(d, initial) for d in data]
        return [super().clean(data, initial)]


def form_data(stored: dict, stored_na: dict) -> dict:
    """The form's field values for what is stored (the inverse of `values()` / `not_applicable()`)."""
    data = {na_name(code): reason for code, reason in stored_na.items()}
    for m, entry in stored.items():
        for part, v in entry.items():
            if part == "tasks":
                for i, row in enumerate(v):
                    data.update({name(m, f"t{i}|{k}"): cell for k, cell in row.items()})
            elif part == "responses":
                data.update({name(m, f"r:{opt}"): n for opt, n in v.items()})
            elif part == "not_done":
                if v:
                    data[name(m, part)] = "on"
            else:
                data[name(m, part)] = v
    return data


class RoundForm(forms.Form):
    """A new round: year, title, deadlines, criteria sets and the list of units."""

    year = forms.IntegerField(label="Năm đánh giá", min_value=2000, max_value=2100)
    title = forms.CharField(label="Tên đợt", max_length=200)
    self_assessment_opens = forms.DateTimeField(label="Mở tự đánh giá")
    self_assessment_closes = forms.DateTimeField(label="Hạn tự đánh giá")
    appraisal1_closes = forms.DateTimeField(label="Hạn thẩm định lần 1")
    explanation_closes = forms.DateTimeField(label="Hạn giải trình")
    appraisal2_closes = forms.DateTimeField(label="Hạn thẩm định lần 2")
    criteria_files = MultipleFileField(label="Bộ tiêu chí (YAML, một tệp cho mỗi nhóm đơn vị)")
    units_file = forms.FileField(label="Danh sách đơn vị (CSV hoặc Excel: unit_id, unit_name, unit_type)")

    ORDER = ("self_assessment_opens", "self_assessment_closes", "appraisal1_closes", "explanation_closes",
             "appraisal2_closes")

    def clean(self):
        data = super().clean()
        times = [data.get(k) for k in self.ORDER]
        if all(times):
            for (a, ta), (b, tb) in zip(zip(self.ORDER, times), list(zip(self.ORDER, times))[1:]):
                if tb <= ta:
                    self.add_error(b, ValidationError(f"Phải sau “{self.fields[a].label}”."))
        return data


class ReasonForm(forms.Form):
    reason = forms.CharField(label="Lý do", max_length=2000, min_length=5, widget=forms.Textarea(attrs={"rows": 2}))


class UploadForm(forms.Form):
    item = forms.CharField(max_length=50)
    file = forms.FileField(label="Tệp minh chứng")


class WorkbookForm(forms.Form):
    workbook = forms.FileField(label="Tệp số liệu (Excel .xlsx hoặc CSV theo mẫu của cchc)")
