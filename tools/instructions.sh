#!/usr/bin/env bash
# `make bench-instructions`: instructions executed by one backend decoding the
# benchmark's mixed workload (callgrind), for waljson v2 and v1, wal2json v2
# and pgoutput. Unlike wall-clock time this count does not move with the
# machine's load, so it shows whether a change to the hot path helped; it
# does not count the kernel's work (the SQL function's temp file), which
# `make bench` does.
#
# A throwaway cluster is loaded and stopped; each decode then runs in a
# single-user backend (postgres --single) under valgrind on a copy of it.
#
#   tools/instructions.sh [SO]   SO defaults to target/release/libwaljson.so
#   KEEP=1 keeps the work directory (and its callgrind files); INSTR_ONLY=text
#   runs only the counts whose options contain the text.
set -euo pipefail
cd "$(dirname "$0")/.."
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PGBIN=$("$PG_CONFIG" --bindir)
so=$(realpath "${1:-${CARGO_TARGET_DIR:-target}/release/libwaljson.so}")
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 1; }

work=$(mktemp -d /tmp/waljson-instr.XXXXXX)
chmod 755 "$work"
[ -n "${KEEP:-}" ] || trap 'tools/cluster.sh destroy "$work/cluster" >/dev/null 2>&1; rm -rf "$work"' EXIT
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

tools/cluster.sh start "$work/cluster" "$so" >/dev/null
eval "$(tools/cluster.sh env "$work/cluster")"
psql -qAtX -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE TABLE w_mixed (id bigint PRIMARY KEY, i int, t text, ts timestamptz, num numeric, b bool, f float8, j jsonb);
CREATE PUBLICATION bench_pub FOR ALL TABLES;
CREATE PUBLICATION bench_half FOR TABLE w_mixed WHERE ((id % 2) = 0);
SELECT pg_create_logical_replication_slot('s_waljson', 'waljson');
SELECT pg_create_logical_replication_slot('s_wal2json', 'wal2json');
SELECT pg_create_logical_replication_slot('s_pgoutput', 'pgoutput');
SQL
# The mixed workload of tools/bench.py: 200k inserts in 1000-row
# transactions, then 50k updates and 20k deletes.
for i in $(seq 0 199); do
    echo "INSERT INTO w_mixed SELECT g, g % 1000, 'text value ' || g, '2026-01-01'::timestamptz + g * interval '1 s', g / 7.0, g % 2 = 0, g * 1.5, jsonb_build_object('k', g, 'v', 'x') FROM generate_series($((i * 1000 + 1)), $(((i + 1) * 1000))) g;"
done | psql -qAtX -v ON_ERROR_STOP=1 >/dev/null
for i in $(seq 0 49); do
    echo "UPDATE w_mixed SET i = i + 1, t = t || '!' WHERE id BETWEEN $((i * 1000 + 1)) AND $(((i + 1) * 1000));"
done | psql -qAtX -v ON_ERROR_STOP=1 >/dev/null
for i in $(seq 50 69); do
    echo "DELETE FROM w_mixed WHERE id BETWEEN $((i * 1000 + 1)) AND $(((i + 1) * 1000));"
done | psql -qAtX -v ON_ERROR_STOP=1 >/dev/null
psql -qAtX -c CHECKPOINT >/dev/null
tools/cluster.sh stop "$work/cluster"

count() { # name slot function options...
    local name=$1 slot=$2 fn=$3
    shift 3
    # INSTR_ONLY=bench_half: only the counts whose options contain it.
    if [ -n "${INSTR_ONLY:-}" ] && [[ "$*" != *"$INSTR_ONLY"* ]]; then return; fi
    local opts=""
    for o in "$@"; do opts="$opts, '$o'"; done
    local sql="SELECT count(*), sum(octet_length(data)) FROM $fn('$slot', NULL, NULL$opts);"
    echo "$sql" | as_pg valgrind --tool=callgrind --callgrind-out-file="$work/cluster/cg.$slot.$fn.$#" \
        "$PGBIN/postgres" --single -D "$work/cluster/data" postgres >/dev/null 2>&1
    local total
    callgrind_annotate "$work/cluster/cg.$slot.$fn.$#" 2>/dev/null |
        awk -v name="$name" '/PROGRAM TOTALS/ {gsub(",", "", $1); printf "  %-12s %6.2f G instructions\n", name, $1 / 1e9}' 
}
echo "instructions per decode of the mixed workload (270k changes, peek, callgrind):"
count "waljson v2" s_waljson pg_logical_slot_peek_changes format-version 2
count "waljson v1" s_waljson pg_logical_slot_peek_changes format-version 1 write-in-chunks 1
count "wal2json v2" s_wal2json pg_logical_slot_peek_changes format-version 2
count "pgoutput" s_pgoutput pg_logical_slot_peek_binary_changes proto_version 1 publication_names bench_pub
echo "with a publication whose row filter keeps half of the rows (id % 2 = 0):"
count "waljson v2" s_waljson pg_logical_slot_peek_changes format-version 2 publication-names bench_half
count "pgoutput" s_pgoutput pg_logical_slot_peek_binary_changes proto_version 1 publication_names bench_half
