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
# say VIETNAMESE ENGLISH: the demo's own lines in the language cchc speaks (engine/core/i18n.py: English
# only when LANGUAGE / LC_ALL / LC_MESSAGES / LANG asks for it, else Vietnamese).
say() { case "${LANGUAGE:-${LC_ALL:-${LC_MESSAGES:-${LANG:-}}}}" in en*) printf '%s' "$2" ;; *) printf '%s' "$1" ;; esac; }

# --- 1. criteria sets ---------------------------------------------------------------------------
section "$(say "Kiểm tra các bộ tiêu chí có sẵn (criteria/*.yaml)" "Validate the shipped criteria sets (criteria/*.yaml)")"
"$CCHC" validate criteria/*.yaml

# --- 2. example province: 20 departments, 30 communes (invented data) -------------------------------
section "$(say "Tỉnh mẫu — các sở, ban, ngành (bộ tiêu chí Tiền Giang 2023)" "Example province — departments (Tiền Giang 2023 set for sở, ban, ngành)")"
"$CCHC" score criteria/tien-giang-2023-departments.yaml examples/province/departments \
    --out "$OUT/province/departments"

section "$(say "Tỉnh mẫu — UBND cấp xã (bộ tiêu chí Tiền Giang 2023)" "Example province — communes (Tiền Giang 2023 set for UBND cấp xã)")"
"$CCHC" score criteria/tien-giang-2023-communes.yaml examples/province/communes \
    --out "$OUT/province/communes"

# --- 3. Tiền Giang mid-year self-check: the 2020 four-month report against the 2023 targets -------
section "$(say "Tiền Giang — báo cáo 4 tháng năm 2020 (tài liệu 002) so với chỉ tiêu toàn tỉnh năm 2023" "Tiền Giang — four-month report 2020 (seed 002) against the 2023 province-wide targets")"
"$CCHC" score criteria/tien-giang-2023-province.yaml examples/tien-giang-2020-4thang/evidence \
    --out "$OUT/tien-giang-2020-4thang"

# --- outputs -------------------------------------------------------------------------------------
section "$(say "Kết quả" "Outputs")"
say "Tỉnh mẫu, các sở, ban, ngành: $OUT/province/departments/summary.json (mỗi đơn vị một tệp trong units/)
Tỉnh mẫu, UBND cấp xã:        $OUT/province/communes/summary.json
Tiền Giang, kiểm tra giữa kỳ: $OUT/tien-giang-2020-4thang/units/tien-giang.json
  (đối chiếu với phần tính tay: examples/tien-giang-2020-4thang/README.md)
" \
    "Example province, departments: $OUT/province/departments/summary.json (one file per unit in units/)
Example province, communes:    $OUT/province/communes/summary.json
Tiền Giang mid-year check:     $OUT/tien-giang-2020-4thang/units/tien-giang.json
  (hand computation to compare: examples/tien-giang-2020-4thang/README.md)
"

# --- annual round (docs/annual-round.md): survey, two appraisal rounds, ranking, year over year ---
# (section added with the annual round; examples/province-round/README.md explains the data)
section "$(say "Kỳ đánh giá năm — tỉnh mẫu: số liệu khảo sát, thẩm định lần 1 → giải trình → lần 2, kết quả năm trước" "Annual round — example province: survey data, appraisal lần 1 → giải trình → lần 2, last year's round")"
for kind in departments communes; do
    "$CCHC" round "criteria/tien-giang-2023-$kind.yaml" \
        --evidence "examples/province-round/$kind/evidence" \
        --survey "examples/province-round/$kind/survey" \
        --appraisal "examples/province-round/$kind/appraisal" \
        --previous "examples/province-round/$kind/previous/round-2022.json" \
        --out "$OUT/round/$kind" --rows 10
done
section "$(say "Kiểm tra giữa kỳ — báo cáo 4 tháng năm 2020 của Tiền Giang so với chỉ tiêu năm 2023 (4 trên 12 tháng)" "Mid-year check — Tiền Giang's four-month report 2020 against the 2023 targets (4 of 12 months)")"
"$CCHC" midyear criteria/tien-giang-2023-province.yaml examples/tien-giang-2020-4thang/evidence \
    --elapsed 4/12 --out "$OUT/midyear"
say "Tổng hợp kỳ đánh giá: $OUT/round/departments/round.json, $OUT/round/communes/round.json
  (units/<mã>.json: điểm tự chấm và điểm thẩm định song song; bundle.cchc: chạy lại bằng \`cchc replay\`)
Kiểm tra giữa kỳ:     $OUT/midyear/midyear.json
" \
    "Round summaries: $OUT/round/departments/round.json, $OUT/round/communes/round.json
  (units/<id>.json: self-assessed and appraised points side by side; bundle.cchc: replay with cchc replay)
Mid-year check:  $OUT/midyear/midyear.json
"
# --- end of the annual round section ------------------------------------------------------------

# --- reports (docs/reports.md): self-assessment forms and province summaries ----------------------
section "$(say "Báo cáo — bảng tự đánh giá, chấm điểm và báo cáo tổng hợp của tỉnh" "Reports — self-assessment forms (bảng tự đánh giá, chấm điểm) and province summaries")"
for kind in departments communes; do
    # from the annual round: self-assessed and appraised points side by side, ranks, last year
    # each command replaces its own --out folder whole (docs/results.md): one folder per kind of report
    "$CCHC" report unit "$OUT/round/$kind" --criteria "criteria/tien-giang-2023-$kind.yaml" \
        --out "$OUT/reports/$kind/units" --format both
    "$CCHC" report province "$OUT/round/$kind/round.json" --criteria "criteria/tien-giang-2023-$kind.yaml" \
        --out "$OUT/reports/$kind/province" --format both
done
say "Báo cáo tổng hợp của tỉnh: $OUT/reports/departments/province/province.html, $OUT/reports/communes/province/province.html
Bảng tự đánh giá:          $OUT/reports/departments/units/<mã đơn vị>.html, $OUT/reports/communes/units/<mã đơn vị>.html
  (kèm bản .md; mở tệp HTML bằng trình duyệt và in khổ A4)
" \
    "Province summaries:     $OUT/reports/departments/province/province.html, $OUT/reports/communes/province/province.html
Self-assessment forms:  $OUT/reports/departments/units/<unit id>.html, $OUT/reports/communes/units/<unit id>.html
  (each also as .md; open the HTML in a browser and print it on A4)
"


# --- office documents (docs/reports.md): intake workbooks, Excel / Word / PDF reports ---------------
section "$(say "Văn bản — phiếu nhập số liệu và các báo cáo dạng Excel, Word, PDF" "Office documents — intake workbooks (phiếu nhập số liệu) and the reports as Excel, Word, PDF")"
PROFILE=profiles/tien-giang.yaml
for pair in departments:so-cong-thuong communes:xa-an-binh; do
    kind="${pair%%:*}"; unit="${pair##*:}"
    "$CCHC" template "criteria/tien-giang-2023-$kind.yaml" --out "$OUT/intake/$kind/mau-trong.xlsx"
    "$CCHC" template "criteria/tien-giang-2023-$kind.yaml" --unit "$unit" \
        --previous "$OUT/round/$kind/units/$unit.json" --out "$OUT/intake/$kind/$unit-mau.xlsx"
    "$BIN/python" scripts/fill_intake_example.py "$OUT/intake/$kind/$unit-mau.xlsx" \
        "examples/province/$kind/$unit.yaml" "$OUT/intake/$kind/filled/$unit.xlsx" >/dev/null
    "$CCHC" validate --criteria "criteria/tien-giang-2023-$kind.yaml" "$OUT/intake/$kind/filled/$unit.xlsx" >/dev/null
    say "$OUT/intake/$kind/filled/$unit.xlsx: điền từ examples/province/$kind/$unit.yaml, đọc lại không có lỗi
" \
        "$OUT/intake/$kind/filled/$unit.xlsx: filled from examples/province/$kind/$unit.yaml, reads back without error
"
    "$CCHC" report unit "$OUT/round/$kind/units/$unit.json" --criteria "criteria/tien-giang-2023-$kind.yaml" \
        --profile "$PROFILE" --out "$OUT/office/$kind/units" --format xlsx,docx,pdf
    "$CCHC" report province "$OUT/round/$kind/round.json" --criteria "criteria/tien-giang-2023-$kind.yaml" \
        --profile "$PROFILE" --out "$OUT/office/$kind/province" --format xlsx,docx,pdf
done
say "Phiếu nhập số liệu: $OUT/intake/<loại>/mau-trong.xlsx (trống), <đơn vị>-mau.xlsx (điền sẵn), filled/<đơn vị>.xlsx
Báo cáo văn bản:    $OUT/office/<loại>/units/<đơn vị>.{xlsx,docx,pdf}, $OUT/office/<loại>/province/province.{xlsx,docx,pdf}
" \
    "Intake workbooks: $OUT/intake/<kind>/mau-trong.xlsx (blank), <unit>-mau.xlsx (pre-filled), filled/<unit>.xlsx
Office reports:   $OUT/office/<kind>/units/<unit>.{xlsx,docx,pdf}, $OUT/office/<kind>/province/province.{xlsx,docx,pdf}
"
# --- end of the office documents section -----------------------------------------------------------

# --- replay (docs/replay.md): every bundle written above must reproduce its recorded results -------
section "$(say "Chạy lại — mọi gói chấm điểm mà bản trình diễn đã ghi, từ chính nội dung của gói (sai lệch là lỗi)" "Replay — every bundle the demo wrote, from its own bytes (fails the demo if any differs)")"
while IFS= read -r b; do
    "$CCHC" replay "$b"
done < <(find "$OUT" -name '*.cchc' -type f | sort)
