#!/usr/bin/env bash
# `make test`: Rust unit tests, a type-check of every supported PostgreSQL
# major (pgrx features pg13..pg18), the pg_regress suite (with the
# differential comparison against wal2json) and the replication-protocol
# test, and the panic test. Ends with one "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."
total_passed=0
total_failed=0
add() { total_passed=$((total_passed + $1)); total_failed=$((total_failed + $2)); }

echo "== Rust unit tests"
unit_log=$(mktemp /tmp/waljson-unit.XXXXXX)
# shellcheck disable=SC2086
cargo test --lib ${CARGO_FEATURE_FLAGS:-} 2>&1 | tee "$unit_log" | grep -E "^test |test result"
p=$(grep -Eo "test result: [a-z]+\. [0-9]+ passed" "$unit_log" | grep -Eo "[0-9]+ passed" | awk '{s += $1} END {print s + 0}')
f=$(grep -Eo "[0-9]+ failed" "$unit_log" | awk '{s += $1} END {print s + 0}')
grep -q "test result" "$unit_log" || f=1
rm -f "$unit_log"
add "${p:-0}" "${f:-0}"

echo "== type-check for every PostgreSQL major"
if tools/check-versions.sh; then add 1 0; else add 0 1; fi

# suite TITLE FILTER CMD...: runs a suite whose last line is "NAME: N passed,
# N failed", shows the lines matching FILTER, and adds its counts.
suite() {
    local title=$1 filter=$2 log
    shift 2
    log=$(mktemp /tmp/waljson-suite.XXXXXX)
    echo "== $title"
    "$@" | tee "$log" | grep -E "$filter" | head -200
    local line p f
    line=$(tail -1 "$log")
    rm -f "$log"
    p=$(echo "$line" | grep -Eo "[0-9]+ passed" | grep -Eo "[0-9]+")
    f=$(echo "$line" | grep -Eo "[0-9]+ failed" | grep -Eo "[0-9]+")
    add "${p:-0}" "${f:-1}"
}

suite "pg_regress suite (differential against wal2json)" \
    "^test |^ +[a-z_]+ +\.\.\.|^(not )?ok [0-9]|passed|failed|^[-+]" tools/regress.sh
suite "replication protocol (pg_recvlogical, psycopg2)" "." tests/protocol.sh
suite "CREATE EXTENSION: schemas, update from 0.1.0, the psql recipe" "^(ok|FAIL)|passed" tests/extension.sh
suite "initial snapshot, then stream, under concurrent writers" "^(ok|FAIL)|passed" tests/snapshot.sh
suite "round trip: replaying the stream rebuilds random tables" "^(ok|FAIL)|passed" tests/roundtrip.sh
suite "publications against pgoutput: random publications and changes" "^(ok|FAIL)|passed" tests/pubdiff.sh
suite "streaming and two-phase: random large transactions reassembled" "^(ok|FAIL)|passed" tests/stream.sh
suite "streaming and two-phase, with the server killed and restarted" "^(ok|FAIL)|passed" env STREAM_CASES=30 tests/stream.sh --crash
suite "concurrency soak: pgbench, concurrent DDL, two slots" "^(ok|FAIL)|passed|changes per" tests/soak.sh
suite "panics become ERRORs (test-only fault-injection build)" "^(ok|FAIL)|passed" tests/panic.sh

echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
