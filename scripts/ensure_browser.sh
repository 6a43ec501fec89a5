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
. "$(dirname "$0")/apt_ensure.sh"
apt_ensure ensure_browser "the report tests" "${need[@]}"
if [ ! -x "$CHROMIUM" ]; then
    echo "ensure_browser: $CHROMIUM is missing (or point CCHC_CHROMIUM at a Chromium binary); the report" >&2
    echo "  tests skip locally and fail when CI=true." >&2
fi
exit 0
