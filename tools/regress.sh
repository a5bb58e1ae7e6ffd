#!/usr/bin/env bash
# Runs the pg_regress suite (pg_test/) against a throwaway cluster that loads
# the freshly built waljson and Debian's wal2json, and prints "N passed, N failed".
#
#   tools/regress.sh [SO]      SO defaults to target/release/libwaljson.so
#   ACCEPT=1 tools/regress.sh  copy the results over the expected files (review the diff!)
set -uo pipefail
cd "$(dirname "$0")/.."
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PGBIN=$("$PG_CONFIG" --bindir)
PG_REGRESS=$("$PG_CONFIG" --pkglibdir)/pgxs/src/test/regress/pg_regress
so=${1:-${CARGO_TARGET_DIR:-target}/release/libwaljson.so}

work=$(mktemp -d /tmp/waljson-regress.XXXXXX)
chmod 755 "$work"
cleanup() { tools/cluster.sh destroy "$work/cluster" >/dev/null 2>&1; [ -n "${KEEP:-}" ] || rm -rf "$work"; }
trap cleanup EXIT

# Every output the suite reads through w() is also captured here and checked
# against the JSON Schemas afterwards.
mkdir -p "$work/capture"
chmod 777 "$work/capture"
EXTRA_CONF="${EXTRA_CONF:-}
waljson_test.capture_dir = '$work/capture'" \
    tools/cluster.sh start "$work/cluster" "$so" || { echo "0 passed, 1 failed (cluster did not start)"; exit 1; }
eval "$(tools/cluster.sh env "$work/cluster")"

tests=$(awk '/^test:/ {for (i = 2; i <= NF; i++) print $i}' pg_test/schedule)
mkdir -p "$work/out"
"$PG_REGRESS" --bindir="$PGBIN" --host="$PGHOST" --port="$PGPORT" --user=postgres \
    --dbname=waljson_regress --inputdir=pg_test --outputdir="$work/out" \
    --schedule=pg_test/schedule >"$work/out/pg_regress.log" 2>&1
status=$?
cat "$work/out/pg_regress.log"

# pg_regress prints "test NAME ... ok" / "... FAILED" per test (up to
# PostgreSQL 15) or TAP lines "ok 1 - NAME" / "not ok 2 - NAME" (16 and later).
passed=$(grep -Ec '^(test| ) *[^ ]+ +\.\.\. ok|^ok [0-9]+ ' "$work/out/pg_regress.log")
failed=$(grep -Ec '^(test| ) *[^ ]+ +\.\.\. FAILED|^not ok [0-9]+ ' "$work/out/pg_regress.log")
[ $status -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
if [ -f "$work/out/regression.diffs" ] && [ $status -ne 0 ]; then
    head -c 20000 "$work/out/regression.diffs"
fi
if [ -n "${ACCEPT:-}" ]; then
    for t in $tests; do
        [ -f "$work/out/results/$t.out" ] && cp "$work/out/results/$t.out" "pg_test/expected/$t.out"
    done
    echo "expected files updated from results"
fi
# Every message the suite produced validates against its format's schema.
if /usr/bin/python3 tools/schema_check.py --capture "$work/capture"; then
    passed=$((passed + 1))
else
    failed=$((failed + 1))
fi
# A crash anywhere during the suite is a failure even if the outputs matched.
if grep -q "terminated by signal" "$work/cluster/server.log"; then
    echo "server log shows a backend terminated by a signal:"
    grep "terminated by signal" "$work/cluster/server.log"
    failed=$((failed + 1))
fi
echo "pg_regress: $passed passed, $failed failed"
[ $failed -eq 0 ] && [ $status -eq 0 ]
