#!/usr/bin/env bash
# Streaming and two-phase property test (tests/stream.py) on a throwaway
# cluster: STREAM_CASES large transactions (default 40), seed STREAM_SEED;
# with --crash, the server is killed and restarted during some of them.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
crash=""
[ "${1:-}" = "--crash" ] && { crash="--crash"; shift; }
start_cluster stream "${1:-}"
if /usr/bin/python3 tests/stream.py "${STREAM_CASES:-40}" "${STREAM_SEED:-20261202}" "$dir" "$PGBIN" $crash | tee "$dir/out.txt"; then
    ok "streamed and prepared transactions rebuild the tables${crash:+ (with crashes)}"
else
    fail "streaming property test (seed ${STREAM_SEED:-20261202})"
fi
finish stream
