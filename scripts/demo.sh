#!/usr/bin/env bash
# The demo: validate the shipped criteria sets, score the shipped examples, say where the outputs are.
# Called by `make demo` as:  bash scripts/demo.sh BIN OUT
#   BIN  the virtualenv's bin folder (default .venv/bin)
#   OUT  where the outputs go (default out/demo)
# Each step is a section below; add new steps as new sections.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${1:-$ROOT/.venv/bin}"
OUT="${2:-out/demo}"
BIN="$(cd "$BIN" && pwd)"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
CCHC="$BIN/cchc"
cd "$ROOT"  # evidence paths in the results are relative to the repository

section() { printf '\n=== %s\n' "$*"; }

# --- 1. criteria sets ---------------------------------------------------------------------------
section "Validate the shipped criteria sets (criteria/*.yaml)"
"$CCHC" validate criteria/*.yaml

# --- 2. example province: 20 departments, 30 communes (invented data) -------------------------------
section "Example province — departments (Tiền Giang 2023 set for sở, ban, ngành)"
"$CCHC" score criteria/tien-giang-2023-departments.yaml examples/province/departments \
    --out "$OUT/province/departments"

section "Example province — communes (Tiền Giang 2023 set for UBND cấp xã)"
"$CCHC" score criteria/tien-giang-2023-communes.yaml examples/province/communes \
    --out "$OUT/province/communes"

# --- 3. Tiền Giang mid-year self-check: the 2020 four-month report against the 2023 targets -------
section "Tiền Giang — four-month report 2020 (seed 002) against the 2023 province-wide targets"
"$CCHC" score criteria/tien-giang-2023-province.yaml examples/tien-giang-2020-4thang/evidence \
    --out "$OUT/tien-giang-2020-4thang"

# --- outputs -------------------------------------------------------------------------------------
section "Outputs"
echo "Example province, departments: $OUT/province/departments/summary.json (one file per unit in units/)"
echo "Example province, communes:    $OUT/province/communes/summary.json"
echo "Tiền Giang mid-year check:     $OUT/tien-giang-2020-4thang/units/tien-giang.json"
echo "  (hand computation to compare: examples/tien-giang-2020-4thang/README.md)"

# --- annual round (docs/annual-round.md): survey, two appraisal rounds, ranking, year over year ---
# (section added with the annual round; examples/province-round/README.md explains the data)
section "Annual round — example province: survey data, appraisal lần 1 → giải trình → lần 2, last year's round"
for kind in departments communes; do
    "$CCHC" round "criteria/tien-giang-2023-$kind.yaml" \
        --evidence "examples/province-round/$kind/evidence" \
        --survey "examples/province-round/$kind/survey" \
        --appraisal "examples/province-round/$kind/appraisal" \
        --previous "examples/province-round/$kind/previous/round-2022.json" \
        --out "$OUT/round/$kind" --rows 10
done
section "Mid-year check — Tiền Giang's four-month report 2020 against the 2023 targets (4 of 12 months)"
"$CCHC" midyear criteria/tien-giang-2023-province.yaml examples/tien-giang-2020-4thang/evidence \
    --elapsed 4/12 --out "$OUT/midyear"
echo "Round summaries: $OUT/round/departments/round.json, $OUT/round/communes/round.json"
echo "  (units/<id>.json: self-assessed and appraised points side by side; bundle.cchc: replay with cchc replay)"
echo "Mid-year check:  $OUT/midyear/midyear.json"
# --- end of the annual round section ------------------------------------------------------------

# --- reports (docs/reports.md): self-assessment forms and province summaries ----------------------
section "Reports — self-assessment forms (bảng tự đánh giá, chấm điểm) and province summaries"
for kind in departments communes; do
    # from the annual round: self-assessed and appraised points side by side, ranks, last year
    # each command replaces its own --out folder whole (docs/results.md): one folder per kind of report
    "$CCHC" report unit "$OUT/round/$kind" --criteria "criteria/tien-giang-2023-$kind.yaml" \
        --out "$OUT/reports/$kind/units" --format both
    "$CCHC" report province "$OUT/round/$kind/round.json" --criteria "criteria/tien-giang-2023-$kind.yaml" \
        --out "$OUT/reports/$kind/province" --format both
done
echo "Province summaries:     $OUT/reports/departments/province/province.html, $OUT/reports/communes/province/province.html"
echo "Self-assessment forms:  $OUT/reports/departments/units/<unit id>.html, $OUT/reports/communes/units/<unit id>.html"
echo "  (each also as .md; open the HTML in a browser and print it on A4)"


# --- office documents (docs/reports.md): intake workbooks, Excel / Word / PDF reports ---------------
section "Office documents — intake workbooks (phiếu nhập số liệu) and the reports as Excel, Word, PDF"
PROFILE=profiles/tien-giang.yaml
for pair in departments:so-cong-thuong communes:xa-an-binh; do
    kind="${pair%%:*}"; unit="${pair##*:}"
    "$CCHC" template "criteria/tien-giang-2023-$kind.yaml" --out "$OUT/intake/$kind/mau-trong.xlsx"
    "$CCHC" template "criteria/tien-giang-2023-$kind.yaml" --unit "$unit" \
        --previous "$OUT/round/$kind/units/$unit.json" --out "$OUT/intake/$kind/$unit-mau.xlsx"
    "$BIN/python" scripts/fill_intake_example.py "$OUT/intake/$kind/$unit-mau.xlsx" \
        "examples/province/$kind/$unit.yaml" "$OUT/intake/$kind/filled/$unit.xlsx" >/dev/null
    "$CCHC" validate --criteria "criteria/tien-giang-2023-$kind.yaml" "$OUT/intake/$kind/filled/$unit.xlsx" >/dev/null
    echo "$OUT/intake/$kind/filled/$unit.xlsx: filled from examples/province/$kind/$unit.yaml, reads back without error"
    "$CCHC" report unit "$OUT/round/$kind/units/$unit.json" --criteria "criteria/tien-giang-2023-$kind.yaml" \
        --profile "$PROFILE" --out "$OUT/office/$kind/units" --format xlsx,docx,pdf
    "$CCHC" report province "$OUT/round/$kind/round.json" --criteria "criteria/tien-giang-2023-$kind.yaml" \
        --profile "$PROFILE" --out "$OUT/office/$kind/province" --format xlsx,docx,pdf
done
echo "Intake workbooks: $OUT/intake/<kind>/mau-trong.xlsx (blank), <unit>-mau.xlsx (pre-filled), filled/<unit>.xlsx"
echo "Office reports:   $OUT/office/<kind>/units/<unit>.{xlsx,docx,pdf}, $OUT/office/<kind>/province/province.{xlsx,docx,pdf}"
# --- end of the office documents section -----------------------------------------------------------

# --- replay (docs/replay.md): every bundle written above must reproduce its recorded results -------
section "Replay — every bundle the demo wrote, from its own bytes (fails the demo if any differs)"
while IFS= read -r b; do
    "$CCHC" replay "$b"
done < <(find "$OUT" -name '*.cchc' -type f | sort)
