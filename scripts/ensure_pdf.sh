#!/usr/bin/env bash
# What PDF output (WeasyPrint) needs from the system: the pango libraries and a serif font with every
# Vietnamese glyph (Debian's libpango-1.0-0, libpangoft2-1.0-0, libharfbuzz-subset0, fonts-dejavu-core, and
# fonts-dejavu-extra for DejaVu Serif Condensed, which keeps a department's form to about 4 pages).
# Installs what is missing when we are root; otherwise says what to install.
set -euo pipefail
have_lib() { ldconfig -p 2>/dev/null | grep -q "$1"; }
need=()
have_lib libpango-1.0.so.0 || need+=(libpango-1.0-0)
have_lib libpangoft2-1.0.so.0 || need+=(libpangoft2-1.0-0)
have_lib libharfbuzz-subset.so.0 || need+=(libharfbuzz-subset0)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf ] || need+=(fonts-dejavu-core)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSerifCondensed.ttf ] || need+=(fonts-dejavu-extra)
. "$(dirname "$0")/apt_ensure.sh"
apt_ensure ensure_pdf "PDF reports" "${need[@]}"
