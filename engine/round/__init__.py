"""The annual round, by job: worker processes (`pool`, which `score` uses too), orchestration
(`run`), where inputs say what they may not (`problems`), units appraised and encoded where they
were decided (`units`), JSON output (`output`), the replay bundle (`replay`, listed in
engine/audit/bundle_kinds.py).

Results do not depend on the number of workers: files are read in fixed chunks taken back in order,
every unit is decided on its own, and everything is sorted by unit id before it is written.

Callers import the part they use (`from engine.round.pool import Workers`): a `score` run loads the
worker processes, not the ranking and its output.
"""
