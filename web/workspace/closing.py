"""Closing a round: the workspace writes what was submitted, surveyed and appraised as the files
`cchc round` reads, runs the engine's round on them, and keeps its result files, its bundle (signed
when a key is configured) and the archive entry. Nothing here decides a point.

Layout under the data folder, per criteria set of the round:

    rounds/<round id>/<criteria id>/inputs/criteria/<name>.yaml
                                     inputs/evidence/<unit>.yaml      (submitted units)
                                     inputs/evidence/tai-lieu/<unit>/ (their uploaded files, cited)
                                     inputs/survey/<name>             (the uploaded survey files)
                                     inputs/appraisal/<unit>.yaml     (cchc-appraisal/1)
                                     inputs/previous/round-<year>.json
                                     inputs/audit/audit-head.json     (the audit log's head)
                                     out/units/<unit>.json, out/round.json, out/bundle.cchc
                                     reports/…                        (made when first downloaded)
"""
from __future__ import annotations

import json
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from engine import load_criteria
from engine.storage.bundle import BUNDLE_NAME, InputRoot, make_bundle, read_bundle, sha256, write_run
from engine.core.errors import CchcError, InputError
from engine.round.output import round_files
from engine.round.bundle import round_inputs
from engine.round.run import run_round
from rules import get_evaluator

from . import audit, scoring, services, uploads
from .models import SUBMITTED, Appraisal, Closing, Explanation, Round, RoundCriteria

_close_lock = threading.Lock()
REPORT_KINDS = ("html", "md", "xlsx", "docx", "pdf")


class CloseRefused(Exception):
    """The round cannot be closed; the messages say why."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def folder_of(rc: RoundCriteria) -> Path:
    return settings.DATA_DIR / "rounds" / str(rc.round_id) / rc.criteria_id


def signing_key() -> Optional[Path]:
    """The Ed25519 key bundles are signed with: CCHC_SIGNING_KEY, or `signing.key` in the data folder."""
    named = os.environ.get("CCHC_SIGNING_KEY")
    path = Path(named) if named else settings.DATA_DIR / "signing.key"
    return path if path.is_file() else None


def archive_path() -> Path:
    return settings.DATA_DIR / "archive.sqlite3"


def _dump_yaml(doc: dict) -> bytes:
    return scoring.evidence_yaml(doc).encode("utf-8")


def appraisal_document(unit, cs) -> Optional[dict]:
    """The unit's appraisal as `cchc-appraisal/1`: lần 1 and lần 2 with each item's accept or points,
    reason, appraiser and (lần 2) the unit's explanation."""
    explanations = {e.item: e.text for e in Explanation.objects.filter(unit=unit)}
    rounds = []
    for no in (1, 2):
        entries = Appraisal.objects.filter(unit=unit, round_no=no).select_related("by").order_by("item")
        items = {}
        for e in entries:
            entry: dict = {"accept": True} if e.accept else {"points": e.points}
            if e.reason:
                entry["reason"] = e.reason
            entry["appraiser"] = e.by.get_full_name() or e.by.get_username()
            if no == 2 and explanations.get(e.item):
                entry["explanation"] = explanations[e.item]
            items[e.item] = entry
        if items:
            rounds.append({"round": no, "items": items})
    if not rounds:
        return None
    return {"format": "cchc-appraisal/1", "criteria": cs.id, "unit": unit.code, "rounds": rounds}


def write_inputs(rc: RoundCriteria, root: Path) -> dict:
    """Write the round's inputs for one criteria set under `root/inputs`; return their paths."""
    inputs = root / "inputs"
    if inputs.exists():
        shutil.rmtree(inputs)
    cs = scoring.criteria_of(rc)
    criteria = inputs / "criteria" / Path(rc.name).name
    criteria.parent.mkdir(parents=True)
    criteria.write_bytes(bytes(rc.content))
    evidence = inputs / "evidence"
    evidence.mkdir()
    evidence_files: list[Path] = []
    appraisal = inputs / "appraisal"
    for unit in rc.units.select_related("assessment", "round").order_by("code"):
        a = unit.assessment
        if a.state != SUBMITTED:
            continue
        form = services.assessment_form(unit, a)
        doc = scoring.evidence_document(unit, cs, form.scorable_values(), form.not_applicable())
        _cite_uploads(unit, cs, doc, evidence)
        (evidence / f"{unit.code}.yaml").write_bytes(_dump_yaml(doc))
        evidence_files.append(evidence / f"{unit.code}.yaml")
        adoc = appraisal_document(unit, cs)
        if adoc is not None:
            appraisal.mkdir(exist_ok=True)
            (appraisal / f"{unit.code}.yaml").write_bytes(_dump_yaml(adoc))
    survey = inputs / "survey"
    for f in rc.survey_files.all():
        survey.mkdir(exist_ok=True)
        (survey / Path(f.name).name).write_bytes(bytes(f.content))
    previous = None
    data = rc.previous_round.encode("utf-8") if rc.previous_round else _archived_previous(rc)
    if data:
        previous = inputs / "previous" / f"round-{rc.round.year - 1}.json"
        previous.parent.mkdir()
        previous.write_bytes(data)
    head = inputs / "audit" / "audit-head.json"
    head.parent.mkdir()
    verdict = audit.verify()
    if not verdict.ok:
        raise CloseRefused([f"Nhật ký thao tác không toàn vẹn: {verdict.problem}"])
    head.write_bytes(json.dumps({"format": "cchc-audit-head/1", "entries": verdict.entries, "head": verdict.head},
                                sort_keys=True, indent=2).encode("utf-8") + b"\n")
    return {"criteria": criteria, "evidence": evidence_files, "survey": survey if survey.is_dir() else None,
            "appraisal": appraisal if appraisal.is_dir() else None, "previous": previous, "audit": head}


def _cite_uploads(unit, cs, doc: dict, evidence: Path) -> None:
    """Each item's latest uploaded file becomes its metric's `citation.file` (where the citation names
    its document), copied beside the evidence under `tai-lieu/<unit>/`; the round's bundle packs it.
    (Evidence files are passed to the round one by one, so these copies are never read as evidence.)"""
    latest: dict[str, object] = {}
    for f in unit.files.filter(explanation=False).order_by("uploaded_at", "pk"):
        latest[f.item] = f
    for sub in cs.sub_criteria():
        f = latest.get(sub.code)
        entry = doc["metrics"].get(sub.metric) if f is not None else None
        if entry is None or not (entry.get("citation") or {}).get("document") or entry["citation"].get("file"):
            continue
        rel = f"tai-lieu/{unit.code}/{f.sha256[:16]}.{f.kind}"
        target = evidence / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(uploads.path_of(f.sha256), target)
        entry["citation"]["file"] = rel


def _archived_previous(rc: RoundCriteria) -> Optional[bytes]:
    from engine.audit.archive import previous_round_json

    if not archive_path().is_file():
        return None
    return previous_round_json(archive_path(), rc.round.year)


@dataclass
class Closed:
    criteria: RoundCriteria
    units: int
    bundle: Path


def run_inputs(paths: dict, out: Path, key: Optional[Path]) -> tuple[bytes, str]:
    """`cchc round` on the inputs written by `write_inputs`: result files and bundle under `out`
    (the bundle carries the audit head as an input of role `audit`). Returns (bundle, round.json)."""
    cs = load_criteria(paths["criteria"])
    survey = [paths["survey"]] if paths["survey"] else []
    appraisal = [paths["appraisal"]] if paths["appraisal"] else []
    with scoring.ENGINE_LOCK:
        result = run_round(cs, paths["evidence"], factory=get_evaluator, engine=scoring.ENGINE,
                           survey_paths=survey, appraisal_paths=appraisal, previous_path=paths["previous"],
                           workers=1)
    files = round_files(result)
    roles = round_inputs(paths["criteria"], paths["evidence"], result, survey_paths=survey,
                         appraisal_paths=appraisal, previous_path=paths["previous"])
    roles["audit"] = [InputRoot(paths["audit"], (paths["audit"],))]
    about = {"criteria_id": cs.id, "criteria_sha256": cs.content_hash, "title": cs.title, "year": cs.year,
             "period": result.period}
    data = make_bundle("round", roles, files, result.engine, about=about, key=key)
    write_run(out, files, out / BUNDLE_NAME, data, command="round")
    return data, files["round.json"].decode("utf-8")


def close(r: Round, request) -> list[Closed]:
    """Close the round: one engine round per criteria set, all or nothing (the round stays open when
    any input has a problem; the engine's located problems are returned in `CloseRefused`)."""
    from engine.audit.archive import Archive

    with _close_lock:
        r = Round.objects.get(pk=r.pk)
        if r.closed_at is not None:
            raise CloseRefused(["Đợt đánh giá đã kết thúc."])
        if timezone.now() <= r.appraisal2_closes:
            raise CloseRefused(["Chỉ kết thúc đợt sau hạn thẩm định lần 2."])
        key = signing_key()
        done, problems, bundles = [], [], []
        for rc in r.criteria_sets.order_by("criteria_id"):
            root = folder_of(rc)
            if not rc.units.filter(assessment__state=SUBMITTED).exists():
                continue
            try:
                paths = write_inputs(rc, root)
                data, summary = run_inputs(paths, root / "out", key)
            except InputError as exc:
                problems += [str(p).replace(str(root) + "/", "") for p in exc.problems]
                continue
            except CchcError as exc:
                problems.append(str(exc))
                continue
            bundles.append((rc, data, summary, paths["audit"]))
        if problems:
            raise CloseRefused(problems)
        if not bundles:
            raise CloseRefused(["Chưa có đơn vị nào gửi bản tự đánh giá."])
        try:
            with Archive(archive_path()) as archive, scoring.ENGINE_LOCK:
                archive.add([read_bundle(d) for _, d, _, _ in bundles], get_evaluator,
                            names=[f"{r.year}/{rc.criteria_id}" for rc, _, _, _ in bundles])
        except CchcError as exc:  # not reproduced on replay, a signature the archive requires, …
            raise CloseRefused([f"Lưu trữ không nhận gói kiểm chứng: {exc}"]) from None
        with transaction.atomic():
            for rc, data, summary, head in bundles:
                Closing.objects.update_or_create(criteria=rc, defaults=dict(
                    folder=str(folder_of(rc).relative_to(settings.DATA_DIR)), bundle_sha256=sha256(data),
                    signed=key is not None, audit_head=json.loads(head.read_text("utf-8"))["head"],
                    round_json=summary))
                done.append(Closed(rc, rc.units.filter(assessment__state=SUBMITTED).count(),
                                   folder_of(rc) / "out" / BUNDLE_NAME))
            r.closed_at = timezone.now()
            r.save(update_fields=["closed_at"])
        audit.record(request, "close", round=r, before={"closed": False}, after={
            "closed": True, "bundles": {c.criteria.criteria_id: sha256(c.bundle.read_bytes()) for c in done}})
    return done


def report_file(rc: RoundCriteria, name: str) -> Optional[Path]:
    """A report of a closed round (`province.<kind>` or `<unit id>.<kind>`), made on first request
    with the same library calls as `cchc report`."""
    import reports

    closing = getattr(rc, "closing", None)
    stem, _, kind = name.rpartition(".")
    if closing is None or kind not in REPORT_KINDS:
        return None
    root = settings.DATA_DIR / closing.folder
    out = root / "reports"
    target = out / name
    if target.is_file():
        return target
    criteria = root / "inputs" / "criteria" / Path(rc.name).name
    if stem == "province":
        files = reports.province_report_files(root / "out" / "round.json", criteria=criteria, kinds=(kind,))
    else:
        unit_json = root / "out" / "units" / f"{stem}.json"
        if stem not in {p.stem for p in (root / "out" / "units").glob("*.json")}:
            return None
        files = reports.unit_report_files([unit_json], criteria, kinds=(kind,))
    out.mkdir(exist_ok=True)
    tmp = out / f".{name}.tmp"
    tmp.write_bytes(files[name])
    os.replace(tmp, target)
    return target


def round_summary(rc: RoundCriteria) -> Optional[dict]:
    closing = getattr(rc, "closing", None)
    return json.loads(closing.round_json) if closing else None

