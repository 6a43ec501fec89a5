#!/usr/bin/env bash
# Regenerate tests/golden/demo/ from the demo's JSON results — on purpose, after a change that is
# meant to alter results (criteria, examples, engine output). Review the diff before committing.
# Usage: bash scripts/regen_golden.sh [BIN]   (make golden)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${1:-$ROOT/.venv/bin}"
GOLDEN="$ROOT/tests/golden/demo"
# the demo's scoring runs (keep in step with SCORED in tests/test_shipped.py)
SCORED="province/departments province/communes tien-giang-2020-4thang"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

bash "$ROOT/scripts/demo.sh" "$BIN" "$TMP" > "$TMP.log" 2>&1 || { cat "$TMP.log"; rm -f "$TMP.log"; exit 1; }
rm -f "$TMP.log"
rm -rf "$GOLDEN"
(cd "$TMP" && find $SCORED -name '*.json' -not -name '.*' -print) | sort | while read -r f; do
    mkdir -p "$GOLDEN/$(dirname "$f")"
    cp "$TMP/$f" "$GOLDEN/$f"
done
echo "golden files written: $(find "$GOLDEN" -name '*.json' | wc -l) under ${GOLDEN#$ROOT/}"
