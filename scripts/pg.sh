#!/usr/bin/env bash
# A throwaway PostgreSQL server for the workspace tests: Debian's `postgresql` package (installed
# with apt-get when missing), a fresh cluster in a temporary folder, listening on 127.0.0.1 only,
# trust authentication for the local user `cchc`, removed again on stop.
#
#   scripts/pg.sh start          start it; prints DATABASE_URL=postgresql://cchc@127.0.0.1:PORT/cchc
#   scripts/pg.sh stop           stop it and delete the cluster
#   scripts/pg.sh run CMD ARGS   start, run CMD with DATABASE_URL set, stop (also when CMD fails)
set -euo pipefail
STATE="${CCHC_PG_STATE:-${TMPDIR:-/tmp}/cchc-pg-$(id -u).state}"

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

ensure_installed() {
    if [ -n "$(pg_bin)" ]; then
        return
    fi
    . "$(dirname "${BASH_SOURCE[0]}")/apt_ensure.sh"
    apt_ensure pg.sh "the workspace tests" postgresql >&2
    if [ -z "$(pg_bin)" ]; then
        echo "pg.sh: PostgreSQL is missing; install it with: apt-get install postgresql" >&2
        exit 1
    fi
}

# PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` user (made by the
# Debian package) or else to `nobody`.
as_owner() {
    if [ "$(id -u)" = "0" ]; then
        local owner=postgres
        id postgres >/dev/null 2>&1 || owner=nobody
        runuser -u "$owner" -- "$@"
    else
        "$@"
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
    if [ -f "$STATE" ]; then
        echo "pg.sh: already started ($(cat "$STATE")); run scripts/pg.sh stop first" >&2
        exit 1
    fi
    ensure_installed
    local bin dir port
    bin="$(pg_bin)"
    dir="$(mktemp -d "${TMPDIR:-/tmp}/cchc-pg.XXXXXX")"
    port="$(free_port)"
    if [ "$(id -u)" = "0" ]; then
        if id postgres >/dev/null 2>&1; then chown postgres "$dir"; else chown nobody "$dir"; fi
    fi
    echo "$dir $port" > "$STATE"
    as_owner "$bin/initdb" -D "$dir/data" -U cchc -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 \
        || as_owner "$bin/initdb" -D "$dir/data" -U cchc -A trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir -c fsync=off -c full_page_writes=off -c max_connections=200" \
        start >/dev/null
    as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U cchc cchc
    echo "DATABASE_URL=postgresql://cchc@127.0.0.1:$port/cchc"
}

stop() {
    if [ ! -f "$STATE" ]; then
        return 0
    fi
    local dir port
    read -r dir port < "$STATE"
    if [ -d "$dir/data" ]; then
        as_owner "$(pg_bin)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    case "$dir" in
        */cchc-pg.*) rm -rf "$dir" ;;
    esac
    rm -f "$STATE"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    run)
        shift
        url="$(start)"
        trap stop EXIT
        export "${url?}"
        "$@"
        ;;
    *) echo "usage: scripts/pg.sh start|stop|run CMD..." >&2; exit 2 ;;
esac
