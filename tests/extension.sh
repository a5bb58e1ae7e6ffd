#!/usr/bin/env bash
# CREATE EXTENSION waljson beyond pg_regress: json_schema() returns the
# repository's schema documents; ALTER EXTENSION waljson UPDATE from the
# previous version (0.1.0, whose install script is kept in
# tests/extension/) gives the same objects as a fresh install; and the
# README's psql + pg_recvlogical recipe (initial snapshot, then stream).
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
start_cluster extension "${1:-}"
extdir=$("$PG_CONFIG" --sharedir)/extension
version=$(sed -nE 's/^version = "([^"]+)"/\1/p' Cargo.toml | head -1)

sql "CREATE EXTENSION waljson" || fail "CREATE EXTENSION waljson"
for f in 1 2 3; do
    if sql "SELECT waljson.json_schema($f)" | python3 -c "
import json, sys
got = json.load(sys.stdin)
want = json.load(open('schema/format-$f.json'))
sys.exit(0 if got == want else 1)"; then
        ok "json_schema($f) is schema/format-$f.json"
    else
        fail "json_schema($f) differs from schema/format-$f.json"
    fi
done
[ "$(sql "SELECT waljson.version()")" = "$version" ] && ok "version() is $version (Cargo.toml)" || fail "version() is not $version"

# The previous version's install script, only for this test.
install -m 644 tests/extension/waljson--0.1.0.sql "$extdir/waljson--0.1.0.sql"
trap 'rm -f "$extdir/waljson--0.1.0.sql"; kill $(jobs -p) 2>/dev/null; tools/cluster.sh destroy "$dir/cluster" >/dev/null 2>&1; rm -rf "$dir"' EXIT
sql "CREATE DATABASE fresh" && sql "CREATE DATABASE upgraded"
psql -X -q -d fresh -c "CREATE EXTENSION waljson"
psql -X -q -d upgraded -c "CREATE EXTENSION waljson VERSION '0.1.0'"
before=$(psql -X -At -d upgraded -c "SELECT extversion FROM pg_extension WHERE extname = 'waljson'")
psql -X -q -d upgraded -v ON_ERROR_STOP=1 -c "ALTER EXTENSION waljson UPDATE" || fail "ALTER EXTENSION waljson UPDATE"
after=$(psql -X -At -d upgraded -c "SELECT extversion FROM pg_extension WHERE extname = 'waljson'")
[ "$before/$after" = "0.1.0/$version" ] && ok "ALTER EXTENSION waljson UPDATE: $before -> $after" || fail "update went $before -> $after"
# The extension's objects, each function's definition and the schema's
# privileges, as a fresh install and the update leave them.
describe='
SELECT pg_describe_object(classid, objid, objsubid) FROM pg_depend
 WHERE refclassid = $$pg_extension$$::regclass AND deptype = $$e$$
   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = $$waljson$$)
UNION ALL SELECT pg_get_functiondef(p.oid) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $$waljson$$
UNION ALL SELECT coalesce(nspacl::text, $$-$$) FROM pg_namespace WHERE nspname = $$waljson$$
ORDER BY 1'
if diff <(psql -X -At -d fresh -c "$describe") <(psql -X -At -d upgraded -c "$describe") >"$dir/ext.diff"; then
    ok "the updated extension has the objects of a fresh install ($(psql -X -At -d fresh -c "$describe" | grep -c '^function') functions)"
else
    fail "the updated extension differs from a fresh install:"; cat "$dir/ext.diff"
fi
psql -X -q -d upgraded -c "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)"
[ "$(psql -X -At -d upgraded -c "SELECT count(*) FROM waljson.snapshot('t', 'format-version', '2')")" = 1 ] \
    && ok "waljson.snapshot() works after the update" || fail "waljson.snapshot() after the update"

# The README recipe with psql and pg_recvlogical: a replication session
# creates the slot and exports its snapshot (kept open, idle, while the
# snapshot is read), psql reads each table inside it, pg_recvlogical streams
# from the slot's consistent point.
sql "CREATE TABLE recipe (id int PRIMARY KEY, v text); INSERT INTO recipe SELECT g, 'before' FROM generate_series(1, 5) g"
coproc REPL { psql -X -At -d "dbname=postgres replication=database" 2>&1; }
echo "CREATE_REPLICATION_SLOT recipe_slot LOGICAL waljson EXPORT_SNAPSHOT;" >&"${REPL[1]}"
read -r -t 30 line <&"${REPL[0]}" || line=""
snapshot_name=$(echo "$line" | cut -d'|' -f3)
# Changes after the slot's consistent point: only the stream has them.
sql "INSERT INTO recipe VALUES (6, 'after'); UPDATE recipe SET v = 'updated' WHERE id = 1; DELETE FROM recipe WHERE id = 2"
psql -X -q -At -d postgres -v ON_ERROR_STOP=1 >"$dir/recipe.snapshot" <<SQL
BEGIN ISOLATION LEVEL REPEATABLE READ;
SET TRANSACTION SNAPSHOT '$snapshot_name';
SELECT * FROM waljson.snapshot('recipe', 'format-version', '2');
COMMIT;
SQL
echo "\\q" >&"${REPL[1]}"
wait "$REPL_PID" 2>/dev/null
sql "SELECT pg_logical_emit_message(true, 'recipe-end', '')" >/dev/null
timeout 30 "$PGBIN/pg_recvlogical" -d postgres --slot recipe_slot --start -o format-version=2 -f "$dir/recipe.stream" &
for _ in $(seq 100); do grep -q recipe-end "$dir/recipe.stream" 2>/dev/null && break; sleep 0.2; done
kill %% 2>/dev/null
if python3 - "$dir/recipe.snapshot" "$dir/recipe.stream" <<'PY'
import json, sys
rows = {}
for line in open(sys.argv[1]):
    ev = json.loads(line)
    row = {c["name"]: c["value"] for c in ev["columns"]}
    assert row["id"] not in rows
    rows[row["id"]] = row["v"]
assert rows == {i: "before" for i in range(1, 6)}, rows
for line in open(sys.argv[2]):
    ev = json.loads(line)
    a = ev["action"]
    if a in ("U", "D"):
        del rows[{c["name"]: c["value"] for c in ev["identity"]}["id"]]
    if a in ("I", "U"):
        row = {c["name"]: c["value"] for c in ev["columns"]}
        assert row["id"] not in rows
        rows[row["id"]] = row["v"]
assert rows == {1: "updated", 3: "before", 4: "before", 5: "before", 6: "after"}, rows
PY
then
    ok "psql + pg_recvlogical recipe: snapshot then stream rebuild the table"
else
    fail "psql + pg_recvlogical recipe (snapshot $snapshot_name):"; cat "$dir/recipe.snapshot" "$dir/recipe.stream"
fi
wait 2>/dev/null
# The walsender exits shortly after pg_recvlogical does.
for _ in $(seq 100); do [ "$(sql "SELECT active FROM pg_replication_slots WHERE slot_name = 'recipe_slot'")" = f ] && break; sleep 0.1; done
sql "SELECT pg_drop_replication_slot('recipe_slot')" >/dev/null || fail "drop the recipe's slot"
finish extension
