#!/usr/bin/env bash
# `make demo`: a throwaway cluster, a waljson slot, some changes, and the
# stream as pg_recvlogical receives it. Everything is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PGBIN=$("$PG_CONFIG" --bindir)
dir=$(mktemp -d /tmp/waljson-demo.XXXXXX)
chmod 755 "$dir"
trap 'tools/cluster.sh destroy "$dir/cluster" >/dev/null 2>&1; rm -rf "$dir"' EXIT

tools/cluster.sh start "$dir/cluster"
eval "$(tools/cluster.sh env "$dir/cluster")"
echo "== cluster on port $PGPORT: wal_level=logical, output_plugin_libraries includes waljson"

run() { echo "sql> $*"; psql -X -q -d postgres -c "$*"; }
run "CREATE TABLE customers (id bigint PRIMARY KEY, name text, email text, balance numeric(10,2), joined timestamptz DEFAULT '2026-01-02 03:04:05+00')"
"$PGBIN/pg_recvlogical" -d postgres --slot demo_slot --create-slot -P waljson
echo "sql> pg_recvlogical --create-slot -P waljson  (slot demo_slot)"
run "INSERT INTO customers (id, name, email, balance) VALUES (1, 'Ada', 'ada@example.com', 10.50), (2, 'Grace \"Amazing\" Hopper', NULL, 0)"
run "UPDATE customers SET balance = balance + 5 WHERE id = 1"
run "UPDATE customers SET id = 3 WHERE id = 2"
run "DELETE FROM customers WHERE id = 1"
run "SELECT pg_logical_emit_message(true, 'app', 'welcome mail sent to ada@example.com')"
run "TRUNCATE customers"
end=$(psql -X -At -d postgres -c "SELECT pg_current_wal_lsn()")

echo
echo "== pg_recvlogical --slot demo_slot --start -o format-version=2 -o include-xids -o include-pk=1 (up to $end)"
"$PGBIN/pg_recvlogical" -d postgres --slot demo_slot --start --endpos "$end" --no-loop -f - \
    -o format-version=2 -o include-xids -o include-pk=1
"$PGBIN/pg_recvlogical" -d postgres --slot demo_slot --drop-slot
echo
echo "== done: slot dropped, cluster removed"
