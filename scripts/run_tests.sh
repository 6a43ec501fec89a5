#!/usr/bin/env bash
# The tests as `make test` runs them: every test on two workers (the workspace on SQLite), and, at the
# same time, the workspace tests again on PostgreSQL, but for those in a browser (a throwaway server
# started and stopped by scripts/pg.sh) in one more process, which works while the first run's workers
# wait (on subprocesses, servers, the browser) and spares the time of a second start-up and a second
# last file. The second run's output is shown when both have ended; the exit status is the first
# failure's.
#   bash scripts/run_tests.sh [BIN]     BIN: the virtualenv's bin folder (default .venv/bin)
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN="${1:-.venv/bin}"
# The tests write many small files (one test alone 20,000 results): they, the temporary files of the
# commands they run and the throwaway PostgreSQL cluster go to a folder of this run in memory where the
# system has one (the 20,000-unit test measured 29 s of CPU on this machine's disk, 20 s in memory),
# removed when the run ends.
# (Readable by all: the cluster inside belongs to PostgreSQL's own user.)
tmp_base="${TMPDIR:-/tmp}"
if [ -d /dev/shm ] && [ -w /dev/shm ]; then tmp_base=/dev/shm; fi
run_tmp="$(mktemp -d "$tmp_base/cchc-tests.XXXXXX")"
chmod 755 "$run_tmp"
export TMPDIR="$run_tmp"
pg_log="$run_tmp/pg-tests.log"
trap 'wait; rm -rf "$run_tmp"' EXIT
# pytest keeps the test files it rewrote for assertion messages as bytecode (unless Python is told to
# write none), so a second process, or the next run, does not rewrite them again
unset PYTHONDONTWRITEBYTECODE
# a command started with & would ignore Ctrl-C (SIGINT): given back its default, Ctrl-C ends both runs
# The browser tests are not run again there: what they add to the other workspace tests is the page in
# a browser, the same on either database, and the workflow they drive through it (saving, uploading,
# submitting, the deadline, a whole round) is run on PostgreSQL by test_web_scoring, test_web_lock and
# test_web_round (and officers saving at once by test_web_serve's load test).
( trap - INT QUIT; exec bash scripts/pg.sh run "$BIN/python" -m pytest tests/web \
    --ignore=tests/web/test_web_browser.py --ignore=tests/web/test_web_browser_round.py ) >"$pg_log" 2>&1 &
pg_run=$!
env -u DATABASE_URL "$BIN/python" -m pytest -n 2 --dist loadfile
main_status=$?
wait "$pg_run"
pg_status=$?
echo
echo "the workspace tests again (but those in a browser), on PostgreSQL (run alongside; scripts/pg.sh started a throwaway server and stopped it):"
cat "$pg_log"
if [ "$main_status" -ne 0 ]; then exit "$main_status"; fi
exit "$pg_status"
