#!/usr/bin/env bash
# Differential test over the replication protocol: the same changes read by
# pg_recvlogical (and psycopg2's LogicalReplicationConnection) from a waljson
# slot and from a wal2json slot must be byte-identical. Also covers options
# given without a value (`-o include-xids`), which the SQL functions cannot
# pass, format 3 over the protocol (the same changes as format 2), and checks
# every output against its format's JSON Schema.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
start_cluster protocol "${1:-}"

# option sets as pg_recvlogical arguments (values may be absent)
sets=(
    "-o format-version=2"
    "-o format-version -o include-xids -o include-timestamp -o include-lsn -o include-pk -o include-type-oids"
    "-o format-version=2 -o include-transaction=0 -o include-not-null -o include-default -o include-column-positions"
    "-o format-version=2 -o actions=insert,truncate -o add-tables=public.* -o filter-tables=public.skip_me"
    "-o format-version=2 -o include-schemas=0 -o include-types=0 -o filter-msg-prefixes=skip"
    "-o include-xids=0"
    "-o format-version=1 -o pretty-print -o write-in-chunks -o include-xids -o include-lsn -o include-timestamp"
    "-o write-in-chunks=1 -o include-pk -o include-typmod=0 -o include-type-oids -o add-tables=public.proto"
)
sql "CREATE TABLE proto (id int PRIMARY KEY, t text, n numeric, ts timestamptz DEFAULT '2026-01-01 00:00:00+00', j jsonb)"
sql "CREATE TABLE skip_me (id int PRIMARY KEY)"
for i in "${!sets[@]}"; do
    for plugin in waljson wal2json; do
        "$PGBIN/pg_recvlogical" -d postgres --slot "${plugin}_$i" --create-slot -P "$plugin" || fail "create slot ${plugin}_$i"
    done
done
v3sets=("-o format-version=3" "-o format-version=3 -o include-transaction=0 -o include-relations=0 -o binary-encoding=base64")
for i in "${!v3sets[@]}"; do
    "$PGBIN/pg_recvlogical" -d postgres --slot "v3_$i" --create-slot -P waljson || fail "create slot v3_$i"
done
"$PGBIN/pg_recvlogical" -d postgres --slot py_waljson --create-slot -P waljson
"$PGBIN/pg_recvlogical" -d postgres --slot py_wal2json --create-slot -P wal2json

sql "INSERT INTO proto SELECT g, 'row ' || g || ' \"q\" \\ ⁿ', g / 7.0, '2026-01-01 00:00:00+00', jsonb_build_object('g', g) FROM generate_series(1, 50) g"
sql "INSERT INTO skip_me VALUES (1)"
sql "UPDATE proto SET t = NULL WHERE id % 3 = 0"
sql "UPDATE proto SET id = id + 1000 WHERE id % 5 = 0"
sql "DELETE FROM proto WHERE id % 2 = 0"
sql "SELECT pg_logical_emit_message(true, 'app', 'in a transaction')" >/dev/null
sql "SELECT pg_logical_emit_message(false, 'skip', 'not transactional')" >/dev/null
sql "BEGIN; INSERT INTO proto VALUES (9999, 'rolled back'); ROLLBACK"
sql "TRUNCATE proto, skip_me"
end=$(sql "SELECT pg_current_wal_lsn()")

for i in "${!sets[@]}"; do
    for plugin in waljson wal2json; do
        # shellcheck disable=SC2086
        "$PGBIN/pg_recvlogical" -d postgres --slot "${plugin}_$i" --start --endpos "$end" --no-loop \
            -f "$dir/$plugin.$i.out" ${sets[$i]} 2>"$dir/$plugin.$i.err" || fail "pg_recvlogical ${plugin}_$i: $(cat "$dir/$plugin.$i.err")"
    done
    lines=$(wc -l <"$dir/waljson.$i.out")
    if [ "$lines" -gt 0 ] && cmp -s "$dir/waljson.$i.out" "$dir/wal2json.$i.out"; then
        ok "pg_recvlogical ${sets[$i]}: identical ($lines lines)"
    else
        fail "pg_recvlogical ${sets[$i]}: outputs differ"
        diff "$dir/waljson.$i.out" "$dir/wal2json.$i.out" | head -5
    fi
done

# format 3 over the protocol carries the same changes as format 2
for i in "${!v3sets[@]}"; do
    # shellcheck disable=SC2086
    "$PGBIN/pg_recvlogical" -d postgres --slot "v3_$i" --start --endpos "$end" --no-loop \
        -f "$dir/v3.$i.out" ${v3sets[$i]} 2>"$dir/v3.$i.err" || fail "pg_recvlogical v3_$i: $(cat "$dir/v3.$i.err")"
    if /usr/bin/python3 - "$dir/waljson.0.out" "$dir/v3.$i.out" <<'PY'
import collections, json, sys
v2 = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
v3 = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8") if l.strip()]
ops = {"I": "c", "U": "u", "D": "d", "T": "t"}
want = collections.Counter(ops[e["action"]] for e in v2 if e["action"] in ops)
got = collections.Counter(e["op"] for e in v3 if e.get("op") in ("c", "u", "d", "t"))
assert want == got, (want, got)
# the new rows, value by value (format 2 prints numbers and strings alike here)
rows2 = [{c["name"]: c["value"] for c in e["columns"]} for e in v2 if e["action"] == "I" and e["table"] == "proto"]
rows3 = [e["after"] for e in v3 if e.get("op") == "c" and e["source"]["table"] == "proto"]
assert len(rows2) == len(rows3) == 50, (len(rows2), len(rows3))
for a, b in zip(rows2, rows3):
    assert a["id"] == b["id"] and a["t"] == b["t"] and a["j"] == json.dumps(b["j"], separators=(", ", ": ")), (a, b)
print(sum(got.values()), "changes")
PY
    then ok "pg_recvlogical ${v3sets[$i]}: the same changes as format 2"; else fail "format 3 over the protocol (${v3sets[$i]})"; fi
done

# every message of every waljson output validates against its format's schema
schema_ok=1
for i in "${!sets[@]}"; do
    case "${sets[$i]}" in
        *"format-version=2"* | *"format-version "* | *"format-version") v=2 ;;
        *) v=1 ;;
    esac
    /usr/bin/python3 tools/schema_check.py "$v" "$dir/waljson.$i.out" >"$dir/schema.$i.txt" || { schema_ok=0; cat "$dir/schema.$i.txt"; }
done
for i in "${!v3sets[@]}"; do
    /usr/bin/python3 tools/schema_check.py 3 "$dir/v3.$i.out" >"$dir/schema.v3.$i.txt" || { schema_ok=0; cat "$dir/schema.v3.$i.txt"; }
done
if [ $schema_ok = 1 ]; then ok "every output validates against its format's JSON Schema"; else fail "JSON Schema"; fi

# every output parses as a stream of strict JSON documents (format 1 chunks
# joined by pg_recvlogical's newlines form whole documents again)
if /usr/bin/python3 - "$dir"/waljson.*.out "$dir"/v3.*.out <<'PY'
import json, sys
def reject(c):
    raise ValueError("non-standard constant " + c)
dec = json.JSONDecoder(parse_constant=reject)
n = 0
for path in sys.argv[1:]:
    text = open(path, encoding="utf-8").read()
    i = 0
    while True:
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        if i == len(text):
            break
        _, i = dec.raw_decode(text, i)
        n += 1
print(n, "documents parsed")
PY
then ok "every waljson output parses as strict JSON"; else fail "invalid JSON in waljson output"; fi

# psycopg2's replication connection reads the same bytes
if /usr/bin/python3 - <<'PY'
import select, psycopg2, psycopg2.extras
# The last transaction of the workload is the TRUNCATE: read up to its commit.
out = {}
for slot in ("py_waljson", "py_wal2json"):
    conn = psycopg2.connect(dbname="postgres", connection_factory=psycopg2.extras.LogicalReplicationConnection)
    cur = conn.cursor()
    cur.start_replication(slot_name=slot, decode=True,
                          options={"format-version": "2", "include-xids": "1", "include-pk": "1"})
    rows, seen_truncate = [], False
    while True:
        msg = cur.read_message()
        if msg is None:
            select.select([cur], [], [], 1.0)
            continue
        rows.append(msg.payload)
        msg.cursor.send_feedback(flush_lsn=msg.data_start)
        seen_truncate |= '"action":"T"' in msg.payload
        if seen_truncate and msg.payload.startswith('{"action":"C"'):
            break
    conn.close()
    out[slot] = rows
assert out["py_waljson"] == out["py_wal2json"], "psycopg2 streams differ"
assert len(out["py_waljson"]) > 100, len(out["py_waljson"])
print(len(out["py_waljson"]), "messages identical")
PY
then ok "psycopg2 LogicalReplicationConnection: identical stream"; else fail "psycopg2 stream"; fi

# an unknown option without a value is named in the error, as by wal2json
for plugin in waljson wal2json; do
    "$PGBIN/pg_recvlogical" -d postgres --slot "${plugin}_0" --start --endpos "$end" --no-loop -f /dev/null \
        -o nosuchopt 2>"$dir/$plugin.err.txt"
    grep -o 'option "nosuchopt" = "(null)" is unknown' "$dir/$plugin.err.txt" >"$dir/$plugin.err.msg" || true
done
if [ -s "$dir/waljson.err.msg" ] && cmp -s "$dir/waljson.err.msg" "$dir/wal2json.err.msg"; then
    ok "valueless unknown option: same error as wal2json"
else
    fail "valueless unknown option: $(cat "$dir/waljson.err.txt")"
fi

# include-empty-transaction=0 over the protocol: transactions that write
# nothing are left out, and the slot still confirms past them.
"$PGBIN/pg_recvlogical" -d postgres --slot empty_skip --create-slot -P waljson
sql "CREATE TABLE empty_ddl (a int)"
sql "DROP TABLE empty_ddl"
sql "INSERT INTO skip_me VALUES (2)"
sql "VACUUM FULL skip_me"
sql "INSERT INTO proto VALUES (7777, 'kept')"
sql "INSERT INTO skip_me VALUES (3)"
end2=$(sql "SELECT pg_current_wal_lsn()")
"$PGBIN/pg_recvlogical" -d postgres --slot empty_skip --start --endpos "$end2" --no-loop -f "$dir/empty.out" \
    -o format-version=2 -o include-empty-transaction=0 -o filter-tables=public.skip_me 2>"$dir/empty.err" || fail "pg_recvlogical empty_skip: $(cat "$dir/empty.err")"
got=$(tr '\n' ' ' <"$dir/empty.out")
confirmed=$(sql "SELECT confirmed_flush_lsn >= '$end2' FROM pg_replication_slots WHERE slot_name = 'empty_skip'")
if [ "$got" = '{"action":"B"} {"action":"I","schema":"public","table":"proto","columns":[{"name":"id","type":"integer","value":7777},{"name":"t","type":"text","value":"kept"},{"name":"n","type":"numeric","value":null},{"name":"ts","type":"timestamp with time zone","value":"2026-01-01 00:00:00+00"},{"name":"j","type":"jsonb","value":null}]} {"action":"C"} ' ] && [ "$confirmed" = t ]; then
    ok "include-empty-transaction=0: only the non-empty transaction; the slot confirmed past the skipped ones"
else
    fail "include-empty-transaction=0 over the protocol: got [$got], confirmed past the end: $confirmed"
fi

finish protocol
