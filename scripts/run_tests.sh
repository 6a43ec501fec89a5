#!/usr/bin/env bash
# The tests as `make test` runs them: every test on two workers (the workspace on SQLite), and, at the
# same time, the workspace tests again on PostgreSQL (a throwaway server started and stopped by
# scripts/pg.sh) in one more process, which works while the first run's workers wait (on subprocesses,
# servers, the browser) and spares the time of a second start-up and a second last file. The second
# run's output is shown when both have ended; the exit status is the first failure's.
#   bash scripts/run_tests.sh [BIN]     BIN: the virtualenv's bin folder (default .venv/bin)
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN="${1:-.venv/bin}"
pg_log="$(mktemp "${TMPDIR:-/tmp}/cchc-pg-tests.XXXXXX")"
trap 'wait; rm -f "$pg_log"' EXIT
# a command started with & would ignore Ctrl-C (SIGINT): given back its default, Ctrl-C ends both runs
( trap - INT QUIT; exec bash scripts/pg.sh run "$BIN/python" -m pytest tests/web ) >"$pg_log" 2>&1 &
pg_run=$!
env -u DATABASE_URL "$BIN/python" -m pytest -n 2 --dist loadfile
main_status=$?
wait "$pg_run"
pg_status=$?
echo
echo "the workspace tests again, on PostgreSQL (run alongside; scripts/pg.sh started a throwaway server and stopped it):"
cat "$pg_log"
if [ "$main_status" -ne 0 ]; then exit "$main_status"; fi
exit "$pg_status"
