"""Evidence files: checked by their content against an allowlist, kept once by sha256 under the data
folder, and only ever handed back as downloads."""
from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Optional

from django.conf import settings

ALLOWED = "PDF, PNG, JPEG, Word (.docx), Excel (.xlsx)"


def sniff(head: bytes, path: Path) -> Optional[str]:
    """The file's type from its bytes (never from its name), or None when it is not allowed."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as z:
                names = set(z.namelist())
        except (zipfile.BadZipFile, OSError):
            return None
        if "[Content_Types].xml" in names and "word/document.xml" in names:
            return "docx"
        if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
            return "xlsx"
    return None


class UploadRefused(Exception):
    """A file that is not kept; the message says why, in Vietnamese."""


def store(uploaded) -> tuple[str, str, int]:
    """Keep an uploaded file; return (sha256, kind, size). Refuses files over the limit or of a type
    outside the allowlist."""
    limit = settings.UPLOAD_MAX_BYTES
    if uploaded.size > limit:
        raise UploadRefused(f"Tệp quá lớn: {uploaded.size / 1048576:.1f} MB, tối đa {limit // 1048576} MB.")
    root = Path(settings.UPLOAD_DIR)
    root.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    fd, tmp_name = tempfile.mkstemp(dir=root, prefix=".upload-")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in uploaded.chunks():
                size += len(chunk)
                if size > limit:
                    raise UploadRefused(f"Tệp quá lớn: tối đa {limit // 1048576} MB.")
                digest.update(chunk)
                out.write(chunk)
        with open(tmp, "rb") as f:
            kind = sniff(f.read(16), tmp)
        if kind is None:
            raise UploadRefused(f"Loại tệp không được nhận (theo nội dung tệp). Chỉ nhận: {ALLOWED}.")
        sha = digest.hexdigest()
        target = path_of(sha)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            tmp.unlink()
        else:
            os.replace(tmp, target)
        return sha, kind, size
    finally:
        if tmp.exists():
            tmp.unlink()


def path_of(sha: str) -> Path:
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise ValueError("not a sha256")
    return Path(settings.UPLOAD_DIR) / sha[:2] / sha

