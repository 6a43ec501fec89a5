#!/usr/bin/env bash
# Headless Chromium (and serif fonts with Vietnamese glyphs) for the HTML report tests in
# tests/test_reports_browser.py: Debian's `chromium`, `fonts-liberation`, `fonts-dejavu-core`.
# Installs what is missing when we are root; otherwise says what to install. Without a browser the
# report tests skip locally and fail when CI=true.
set -euo pipefail
CHROMIUM="${CCHC_CHROMIUM:-/usr/bin/chromium}"
need=()
[ -x "$CHROMIUM" ] || need+=(chromium)
[ -d /usr/share/fonts/truetype/liberation ] || need+=(fonts-liberation)
[ -d /usr/share/fonts/truetype/dejavu ] || need+=(fonts-dejavu-core)
if [ ${#need[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure_browser: installing ${need[*]} for the report tests"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    if [ -x "$CHROMIUM" ]; then
        exit 0
    fi
    echo "ensure_browser: apt-get ran but $CHROMIUM is still missing" >&2
    exit 1
fi
echo "ensure_browser: missing ${need[*]}; the HTML report tests need them." >&2
echo "  install as root with: apt-get update && apt-get install -y ${need[*]}" >&2
echo "  (or point CCHC_CHROMIUM at a Chromium binary)." >&2
exit 0
