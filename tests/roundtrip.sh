#!/usr/bin/env bash
# Runs tests/roundtrip.py (replaying the stream rebuilds every table) on a
# throwaway cluster: ROUNDTRIP_CASES cases (default 200), seed ROUNDTRIP_SEED.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
start_cluster roundtrip "${1:-}"
if /usr/bin/python3 tests/roundtrip.py "${ROUNDTRIP_CASES:-200}" "${ROUNDTRIP_SEED:-20261121}" | tee "$dir/out.txt" | grep -Ev "^ {2,}"; then
    ok "$(grep -E "^[0-9]+ cases" "$dir/out.txt")"
else
    fail "round trip (see the FAIL lines and their SQL above)"
    grep -A40 "^FAIL" "$dir/out.txt" | head -80
fi
finish roundtrip
