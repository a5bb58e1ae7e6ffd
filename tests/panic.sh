#!/usr/bin/env bash
# A Rust panic inside a callback must become a PostgreSQL ERROR, never a
# crash: a test-only build (feature fault-injection, never in release builds)
# has an option, waljson-test-panic, that panics in the change callback.
# The session must get an ERROR, stay usable, and no backend may die.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
target=${CARGO_TARGET_DIR:-target}/fault-injection
# shellcheck disable=SC2086
cargo build --quiet ${CARGO_FEATURE_FLAGS:-} --features fault-injection --target-dir "$target" || { echo "panic: 0 passed, 1 failed"; exit 1; }
start_cluster panic "$target/debug/libwaljson.so"

out=$(psql -X -d postgres -v VERBOSITY=terse 2>&1 <<'SQL'
CREATE TABLE p (a int PRIMARY KEY);
SELECT 'init' FROM pg_create_logical_replication_slot('s', 'waljson');
INSERT INTO p VALUES (1);
SELECT data FROM pg_logical_slot_peek_changes('s', NULL, NULL, 'format-version', '2', 'waljson-test-panic', '1');
SELECT 'still usable' AS session;
SELECT data FROM pg_logical_slot_get_changes('s', NULL, NULL, 'format-version', '2', 'include-transaction', '0');
SQL
)
echo "$out" | sed 's/^/     /'
if grep -q "ERROR:  waljson: injected failure in the change callback" <<<"$out"; then ok "the panic arrives as an ERROR"; else fail "no ERROR for the panic"; fi
if grep -q "still usable" <<<"$out"; then ok "the session stays usable"; else fail "session lost"; fi
if grep -q '{"action":"I","schema":"public","table":"p"' <<<"$out"; then ok "the slot decodes normally afterwards"; else fail "slot unusable after the panic"; fi
# the release build does not know the option
if grep -q "waljson-test-panic" <(strings "${CARGO_TARGET_DIR:-target}/release/libwaljson.so" 2>/dev/null); then
    fail "the release build contains the fault-injection option"
else
    ok "the release build has no fault-injection option"
fi
finish panic
