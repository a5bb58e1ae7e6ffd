#!/usr/bin/env bash
# waljson.snapshot() of a table of SNAPSHOT_ROWS rows (default 10 million),
# read by psql as a client does (COPY of the result to stdout): every row
# comes out, and the backend's peak private memory stays flat (under
# SNAPSHOT_MAX_MB, default 100 MB): rows are written as they are read.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
rows=${SNAPSHOT_ROWS:-10000000}
max_mb=${SNAPSHOT_MAX_MB:-100}
EXTRA_CONF="shared_buffers = 128MB" start_cluster snapshot-big "${1:-}"
sql "CREATE EXTENSION waljson"
sql "CREATE TABLE big (id bigint PRIMARY KEY, t text, n numeric, ts timestamptz, j jsonb)"
start=$(date +%s)
sql "INSERT INTO big SELECT g, md5(g::text), g * 1.5, '2026-01-01'::timestamptz + g * interval '1 second', jsonb_build_object('g', g) FROM generate_series(1, $rows) g"
echo "   $rows rows loaded in $(($(date +%s) - start)) s"

for fmt in 2 3; do
    sample_memory "snapshot_big_$fmt" "$dir/peak$fmt" pg_stat_activity &
    sampler=$!
    start=$(date +%s)
    n=$(PGAPPNAME=snapshot_big_$fmt psql -X -At -d postgres -c "COPY (SELECT s FROM waljson.snapshot('big', 'format-version', '$fmt') s) TO STDOUT" | wc -l)
    secs=$(($(date +%s) - start))
    sleep 0.5
    kill $sampler 2>/dev/null; wait $sampler 2>/dev/null
    peak_kb=$(cat "$dir/peak$fmt" 2>/dev/null || echo 0)
    echo "   format $fmt: $n rows in $secs s, backend peak private memory $((peak_kb / 1024)) MB"
    [ "$n" = "$rows" ] && ok "format $fmt: all $rows rows" || fail "format $fmt: $n rows of $rows"
    if [ "$peak_kb" -gt 0 ] && [ "$peak_kb" -lt $((max_mb * 1024)) ]; then
        ok "format $fmt: peak backend memory $((peak_kb / 1024)) MB < $max_mb MB"
    else
        fail "format $fmt: peak backend memory ${peak_kb} kB (limit $max_mb MB)"
    fi
done
finish snapshot_big
