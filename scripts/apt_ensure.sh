#!/usr/bin/env bash
# Sourced by the scripts that need Debian packages (ensure_browser.sh, ensure_pdf.sh, pg.sh):
#   apt_ensure WHO WHAT PACKAGE...
# installs the packages with apt-get when we are root (or through sudo when it is there); otherwise
# says how to install them. Returns non-zero only when an install was tried and failed.
apt_ensure() {
    local who="$1" what="$2"
    shift 2
    [ $# -eq 0 ] && return 0
    local run=()
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        run=(env DEBIAN_FRONTEND=noninteractive)
    elif command -v sudo >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
        run=(sudo env DEBIAN_FRONTEND=noninteractive)
    else
        echo "$who: missing $*; $what needs them." >&2
        echo "  install as root with: apt-get update && apt-get install -y $*" >&2
        return 0
    fi
    echo "$who: installing $* for $what"
    "${run[@]}" apt-get update -qq
    "${run[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
