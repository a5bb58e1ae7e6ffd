#!/usr/bin/env bash
# `make test-long`: one transaction whose format-version 1 output is larger
# than PostgreSQL's 1 GB message limit.
#  1. write-in-chunks through pg_recvlogical: every row arrives (count and
#     id sum checked) and the walsender's private memory stays bounded;
#  2. format-version 2 and format-version 3: the same, bounded (the first
#     messages of each checked against the format's JSON Schema);
#  3. format-version 1 without write-in-chunks: a clear ERROR whose HINT
#     names write-in-chunks and format-version 2, never an allocator error;
#  4. the same transaction with every change filtered out, with a 5 s
#     wal_sender_timeout: no timeout (progress is reported while skipping).
# Sizes: HUGE_ROWS (default 1400000) rows of HUGE_PAYLOAD_MD5S*32 bytes (default 34*32).
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
rows=${HUGE_ROWS:-1400000}
md5s=${HUGE_PAYLOAD_MD5S:-34}
limit_mb=${HUGE_MEMORY_LIMIT_MB:-200}
EXTRA_CONF="wal_sender_timeout = '5s'
max_wal_size = '4GB'
checkpoint_timeout = '30min'" start_cluster huge "${1:-}"

sql "CREATE TABLE big (id bigint PRIMARY KEY, payload text)"
sql "CREATE TABLE marker (id int)"
for slot in chunks v2 v3 nochunks filtered; do
    "$PGBIN/pg_recvlogical" -d postgres --slot "$slot" --create-slot -P waljson
done
start=$(date +%s)
sql "INSERT INTO big SELECT g, repeat(md5(g::text), $md5s) FROM generate_series(1, $rows) g"
sql "INSERT INTO marker VALUES (1)"
end=$(sql "SELECT pg_current_wal_lsn()")
echo "one transaction of $rows rows written in $(($(date +%s) - start)) s; WAL up to $end"

# Streams slot $1 with options $3.. as application $2; counts inserted rows and sums their ids.
stream() {
    local slot=$1 app=$2
    shift 2
    sample_memory "$app" "$dir/$slot.mem" &
    local sampler=$!
    PGAPPNAME=$app "$PGBIN/pg_recvlogical" -d postgres --slot "$slot" --start --endpos "$end" --no-loop -f - "$@" \
        2>"$dir/$slot.err" | LC_ALL=C awk -v out="$dir/$slot.count" -v sample="$dir/$slot.sample" '
            { bytes += length($0) + 1 }
            NR <= 2000 { print > sample }
            /"(kind|action)":"(insert|I)"/ && /"table":"big"/ {
                n++
                if (match($0, /"(value|columnvalues)":\[?[0-9]+/)) { v = substr($0, RSTART, RLENGTH); gsub(/[^0-9]/, "", v); sum += v }
            }
            /^\{"before":null,"after":\{"id":/ && /"op":"c"/ && /"table":"big"/ {
                n++
                if (match($0, /"after":\{"id":[0-9]+/)) { v = substr($0, RSTART, RLENGTH); gsub(/[^0-9]/, "", v); sum += v }
            }
            END { printf "%d %.0f %d\n", n, sum, bytes > out }'
    local status=${PIPESTATUS[0]}
    kill $sampler 2>/dev/null
    wait $sampler 2>/dev/null
    return "$status"
}

expected_sum=$(awk -v n="$rows" 'BEGIN { printf "%.0f", n * (n + 1) / 2 }')
check_stream() {
    local slot=$1 what=$2
    read -r n sum bytes <"$dir/$slot.count"
    local mem_kb
    mem_kb=$(cat "$dir/$slot.mem" 2>/dev/null || echo 0)
    local mem_mb=$((mem_kb / 1024))
    echo "     $what: $n rows, $((bytes / 1048576)) MB of output, walsender peak private memory $mem_mb MB"
    if [ "$n" -eq "$rows" ] && [ "$sum" = "$expected_sum" ]; then ok "$what: every row arrived (count and id sum)"; else fail "$what: $n rows, id sum $sum (expected $rows, $expected_sum)"; fi
    if [ "$mem_kb" -gt 0 ] && [ "$mem_mb" -lt "$limit_mb" ]; then ok "$what: peak memory $mem_mb MB < $limit_mb MB"; else fail "$what: peak memory $mem_mb MB"; fi
}

t=$(date +%s)
if stream chunks waljson_chunks -o write-in-chunks=1; then
    check_stream chunks "format 1, write-in-chunks"
    read -r _ _ bytes <"$dir/chunks.count"
    if [ "$bytes" -gt 1610612736 ]; then ok "format 1 output is over 1.5 GB ($((bytes / 1048576)) MB)"; else fail "output only $bytes bytes: raise HUGE_ROWS"; fi
else
    fail "format 1 with write-in-chunks: $(cat "$dir/chunks.err")"
fi
echo "     ($(($(date +%s) - t)) s)"

t=$(date +%s)
if stream v2 waljson_v2 -o format-version=2; then check_stream v2 "format 2"; else fail "format 2: $(cat "$dir/v2.err")"; fi
echo "     ($(($(date +%s) - t)) s)"

t=$(date +%s)
if stream v3 waljson_v3 -o format-version=3 -o include-relations=0; then check_stream v3 "format 3"; else fail "format 3: $(cat "$dir/v3.err")"; fi
echo "     ($(($(date +%s) - t)) s)"
for v in 2 3; do
    if /usr/bin/python3 tools/schema_check.py "$v" "$dir/v$v.sample" >"$dir/v$v.schema"; then
        ok "format $v: the first messages validate against the JSON Schema ($(cat "$dir/v$v.schema"))"
    else
        fail "format $v: $(head -3 "$dir/v$v.schema")"
    fi
done

t=$(date +%s)
# Output discarded: only the error matters (and a one-line document of
# hundreds of MB would stall a line-oriented reader).
if PGAPPNAME=waljson_nochunks "$PGBIN/pg_recvlogical" -d postgres --slot nochunks --start --endpos "$end" --no-loop \
    -f /dev/null -o format-version=1 2>"$dir/nochunks.err"; then
    fail "format 1 without write-in-chunks succeeded although the document is over 1 GB"
else
    err=$(cat "$dir/nochunks.err")
    if grep -q "would exceed 1 GB" <<<"$err" && grep -q "write-in-chunks" <<<"$err" && grep -q "format-version=2" <<<"$err" \
        && ! grep -Eqi "invalid memory alloc|out of memory|enlarge string" <<<"$err"; then
        ok "format 1 without write-in-chunks: clear ERROR with HINT"
        grep -E "ERROR|HINT" <<<"$err" | sed 's/^/     /'
    else
        fail "format 1 without write-in-chunks: unexpected error: $err"
    fi
fi
echo "     ($(($(date +%s) - t)) s)"

# A subscriber whose wal_receiver_timeout is below the time the filtered
# transaction takes to replay would disconnect unless the plugin reports
# progress (PostgreSQL 15 and older): measure the longest silence from the
# server as the client sees it (psycopg2's io_timestamp), keepalives included.
t=$(date +%s)
log_offset=$(stat -c %s "$dir/cluster/server.log")
if gap=$(/usr/bin/python3 - <<'PY'
import select, time, psycopg2, psycopg2.extras
conn = psycopg2.connect(dbname="postgres", connection_factory=psycopg2.extras.LogicalReplicationConnection)
cur = conn.cursor()
cur.start_replication(slot_name="filtered", decode=True, status_interval=1,
                      options={"add-tables": "public.marker", "write-in-chunks": "1"})
last_io, max_gap, deadline = None, 0.0, time.time() + 600
while time.time() < deadline:
    msg = cur.read_message()
    if cur.io_timestamp is not None:
        io = cur.io_timestamp.timestamp()
        if last_io is not None and io != last_io:
            max_gap = max(max_gap, io - last_io)
        last_io = io
    if msg is None:
        select.select([cur], [], [], 0.1)
        continue
    msg.cursor.send_feedback(flush_lsn=msg.data_start)
    if '"table":"marker"' in msg.payload:
        break
else:
    raise SystemExit("marker row never arrived")
print("%.1f" % max_gap)
PY
); then
    echo "     longest silence from the server while replaying the filtered transaction: $gap s"
    if tail -c +"$((log_offset + 1))" "$dir/cluster/server.log" | grep -q "replication timeout"; then
        fail "filtered transaction: the walsender timed out"
    elif awk -v g="$gap" 'BEGIN { exit !(g < 5) }'; then
        ok "filtered transaction: the server was never silent for wal_sender_timeout (5 s)"
    else
        fail "filtered transaction: silent for $gap s"
    fi
else
    fail "filtered transaction: the stream failed"
fi
echo "     ($(($(date +%s) - t)) s)"

finish huge
