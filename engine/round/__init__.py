"""The annual round, by job: worker processes (`pool`), orchestration (`run`), where inputs say what
they may not (`problems`), JSON output (`output`), the replay bundle (`replay`).

Results do not depend on the number of workers: files are read in fixed chunks taken back in order,
every unit is decided on its own, and everything is sorted by unit id before it is written.
"""
from __future__ import annotations

from .output import ranking_json, round_files, round_json, round_unit_json, standing_json
from .pool import FILES_PER_CHUNK, EvaluatorFactory, Progress, Workers, decide_all, default_workers
from .problems import round_problems
from .replay import round_bundle, round_inputs, round_places
from .run import RoundResult, run_round

__all__ = ["FILES_PER_CHUNK", "EvaluatorFactory", "Progress", "RoundResult", "Workers", "decide_all",
           "default_workers", "ranking_json", "round_bundle", "round_files", "round_inputs", "round_json",
           "round_places", "round_problems", "round_unit_json", "run_round", "standing_json"]
