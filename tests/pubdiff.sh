#!/usr/bin/env bash
# Runs tests/pubdiff.py (publication-names against pgoutput, on random
# publications and DML) on a throwaway cluster: PUBDIFF_CASES cases
# (default 60), seed PUBDIFF_SEED.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
start_cluster pubdiff "${1:-}"
if /usr/bin/python3 tests/pubdiff.py "${PUBDIFF_CASES:-60}" "${PUBDIFF_SEED:-20261202}" | tee "$dir/out.txt" | grep -Ev "^ {2,}"; then
    ok "$(grep -E "^[0-9]+ cases" "$dir/out.txt")"
else
    fail "publications differ from pgoutput (see the FAIL lines above)"
    grep -A60 "^FAIL" "$dir/out.txt" | head -120
fi
finish pubdiff
