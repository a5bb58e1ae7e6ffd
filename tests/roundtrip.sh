#!/usr/bin/env bash
# Runs tests/roundtrip.py (replaying the stream rebuilds every table) on a
# throwaway cluster: ROUNDTRIP_CASES cases (default 200), seed ROUNDTRIP_SEED,
# in format 2 and in format 3 (replayed with jsonb_populate_record).
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
start_cluster roundtrip "${1:-}"
for format in 2 3; do
    if ROUNDTRIP_FORMAT=$format /usr/bin/python3 tests/roundtrip.py "${ROUNDTRIP_CASES:-200}" "${ROUNDTRIP_SEED:-20261121}" \
        | tee "$dir/out.$format.txt" | grep -Ev "^ {2,}"; then
        ok "$(grep -E "^format [0-9]+: [0-9]+ cases" "$dir/out.$format.txt")"
    else
        fail "round trip, format $format (see the FAIL lines and their SQL above)"
        grep -A40 "^FAIL" "$dir/out.$format.txt" | head -80
    fi
done
finish roundtrip
