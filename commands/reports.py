"""`cchc report unit` and `cchc report province` (reports/)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

from engine.core.i18n import _
from engine.storage.outdir import write_outputs

from .console import say


def unit(results: Sequence[Path], criteria: Path, out_dir: Path, fmt: str, templates: Optional[Path],
         date: Optional[str], profile: Optional[Path]) -> None:
    import reports

    files = reports.unit_report_files(results, criteria, kinds=reports.formats(fmt), templates=templates,
                                      report_date=reports.parse_report_date(date), profile=profile)
    write_outputs(out_dir, files, command="report unit")
    _written(files, out_dir)


def province(source: Path, out_dir: Path, criteria: Optional[Path], previous: Optional[Path], fmt: str,
             templates: Optional[Path], date: Optional[str], profile: Optional[Path]) -> None:
    import reports

    files = reports.province_report_files(source, criteria=criteria, previous=previous,
                                          kinds=reports.formats(fmt), templates=templates,
                                          report_date=reports.parse_report_date(date), profile=profile)
    write_outputs(out_dir, files, command="report province")
    _written(files, out_dir)


def _written(files, out_dir: Path) -> None:
    say(_("{n} report file(s) → {out}/").format(n=len(files), out=out_dir))
