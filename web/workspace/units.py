"""The list of units of a round, from CSV or Excel (columns unit_id, unit_name, unit_type and,
when two criteria sets declare the same unit type, criteria)."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import openpyxl

COLUMNS = ("unit_id", "unit_name", "unit_type")
UNIT_ID_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


@dataclass(frozen=True)
class UnitRow:
    code: str
    name: str
    unit_type: str
    criteria_id: str
    where: str


def _rows(data: bytes, name: str) -> tuple[list[str], list[tuple[str, dict]]]:
    if data.startswith(b"PK\x03\x04"):
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        ws = wb.worksheets[0]
        rows = list(ws.iter_rows(values_only=True))
        header = [str(c or "").strip().lower() for c in (rows[0] if rows else [])]
        return header, [(f"{name}:{ws.title}!A{i}", {h: str(v if v is not None else "").strip()
                                                     for h, v in zip(header, r)})
                        for i, r in enumerate(rows[1:], start=2) if any(v not in (None, "") for v in r)]
    text = data.decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text))
    rows = list(reader)
    header = [h.strip().lower() for h in (rows[0] if rows else [])]
    return header, [(f"{name}:{i}", {h: v.strip() for h, v in zip(header, r)})
                    for i, r in enumerate(rows[1:], start=2) if any(v.strip() for v in r)]


def read_units(data: bytes, name: str, types_by_criteria: dict[str, set[str]]) -> tuple[list[UnitRow], list[str]]:
    """The units, each matched to a criteria set, and every problem as `file:row: message`."""
    try:
        header, rows = _rows(data, name)
    except (UnicodeDecodeError, csv.Error, OSError, KeyError, ValueError) as exc:
        return [], [f"{name}: không đọc được danh sách đơn vị (CSV UTF-8 hoặc Excel .xlsx): {exc}"]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        return [], [f"{name}:1: thiếu cột {', '.join(missing)} (cần: {', '.join(COLUMNS)}, có thể thêm criteria)"]
    out, problems, seen = [], [], {}
    for where, cells in rows:
        code, unit_type = cells.get("unit_id", ""), cells.get("unit_type", "")
        if not code or not cells.get("unit_name") or not unit_type:
            problems.append(f"{where}: cần đủ unit_id, unit_name, unit_type")
            continue
        if not set(code) <= UNIT_ID_CHARS:
            problems.append(f"{where}: mã đơn vị {code!r} chỉ được gồm chữ, số, '.', '_' và '-'")
            continue
        if code in seen:
            problems.append(f"{where}: đơn vị {code} đã có ở {seen[code]}")
            continue
        seen[code] = where
        wanted = cells.get("criteria", "")
        matches = [cid for cid, types in types_by_criteria.items()
                   if unit_type in types and (not wanted or cid == wanted)]
        if len(matches) != 1:
            why = ("không bộ tiêu chí nào khai báo loại đơn vị này" if not matches
                   else f"nhiều bộ tiêu chí khai báo loại này ({', '.join(sorted(matches))}): ghi rõ ở cột criteria")
            problems.append(f"{where}: loại đơn vị {unit_type!r}: {why}")
            continue
        out.append(UnitRow(code, cells["unit_name"], unit_type, matches[0], where))
    if not out and not problems:
        problems.append(f"{name}: danh sách không có đơn vị nào")
    return out, problems
