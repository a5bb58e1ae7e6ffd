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
# shellcheck disable=SC2086
cargo test --lib ${CARGO_FEATURE_FLAGS:-} 2>&1 | tee /tmp/waljson-unit.log | grep -E "^test |test result"
p=$(grep -Eo "test result: [a-z]+\. [0-9]+ passed" /tmp/waljson-unit.log | grep -Eo "[0-9]+ passed" | awk '{s += $1} END {print s + 0}')
f=$(grep -Eo "[0-9]+ failed" /tmp/waljson-unit.log | awk '{s += $1} END {print s + 0}')
grep -q "test result" /tmp/waljson-unit.log || f=1
add "${p:-0}" "${f:-0}"

echo "== type-check for every PostgreSQL major"
if tools/check-versions.sh; then add 1 0; else add 0 1; fi

echo "== pg_regress suite (differential against wal2json)"
tools/regress.sh | tee /tmp/waljson-regress.log | grep -E "^test |^ +[a-z_]+ +\.\.\.|^(not )?ok [0-9]|passed|failed|^[-+]" | head -200
line=$(tail -1 /tmp/waljson-regress.log)
p=$(echo "$line" | grep -Eo "[0-9]+ passed" | grep -Eo "[0-9]+")
f=$(echo "$line" | grep -Eo "[0-9]+ failed" | grep -Eo "[0-9]+")
add "${p:-0}" "${f:-1}"

echo "== replication protocol (pg_recvlogical, psycopg2)"
tests/protocol.sh | tee /tmp/waljson-protocol.log
line=$(tail -1 /tmp/waljson-protocol.log)
p=$(echo "$line" | grep -Eo "[0-9]+ passed" | grep -Eo "[0-9]+")
f=$(echo "$line" | grep -Eo "[0-9]+ failed" | grep -Eo "[0-9]+")
add "${p:-0}" "${f:-1}"

echo "== round trip: replaying the stream rebuilds random tables"
tests/roundtrip.sh | tee /tmp/waljson-roundtrip.log | grep -E "^(ok|FAIL)|passed"
line=$(tail -1 /tmp/waljson-roundtrip.log)
p=$(echo "$line" | grep -Eo "[0-9]+ passed" | grep -Eo "[0-9]+")
f=$(echo "$line" | grep -Eo "[0-9]+ failed" | grep -Eo "[0-9]+")
add "${p:-0}" "${f:-1}"

echo "== panics become ERRORs (test-only fault-injection build)"
tests/panic.sh | tee /tmp/waljson-panic.log | grep -E "^(ok|FAIL)|passed"
line=$(tail -1 /tmp/waljson-panic.log)
p=$(echo "$line" | grep -Eo "[0-9]+ passed" | grep -Eo "[0-9]+")
f=$(echo "$line" | grep -Eo "[0-9]+ failed" | grep -Eo "[0-9]+")
add "${p:-0}" "${f:-1}"

echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
