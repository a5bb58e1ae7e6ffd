#!/usr/bin/env bash
# `make test-long`: one transaction of over 2 GB of format-version 2 output
# (rows without TOASTed values), read through pg_recvlogical twice:
#  1. with stream-changes: every row arrives (count and id sum),
#     pg_stat_replication_slots shows stream_bytes > 0 and spill_bytes = 0,
#     the walsender's private memory stays bounded, and the first change
#     arrives long before the transaction has been read whole;
#  2. without: the same rows, after the server spilled the transaction to
#     disk (spill_bytes, time to first byte printed for comparison);
#  3. a TOAST-heavy transaction with stream-changes: the server spills while
#     a TOASTed row is only partly decoded; every row arrives, and its
#     spill and stream figures are printed.
# Sizes: STREAM_HUGE_ROWS (default 6400000) rows of 7*32 bytes of payload.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
rows=${STREAM_HUGE_ROWS:-6400000}
toast_rows=${STREAM_HUGE_TOAST_ROWS:-60000}
limit_mb=${HUGE_MEMORY_LIMIT_MB:-200}
EXTRA_CONF="max_wal_size = '8GB'
checkpoint_timeout = '30min'" start_cluster stream_huge "${1:-}"

sql "CREATE TABLE big (id bigint PRIMARY KEY, payload text)"
sql "CREATE TABLE toasty (id bigint PRIMARY KEY, payload text)"
sql "ALTER TABLE toasty ALTER COLUMN payload SET STORAGE EXTERNAL"
for slot in streamed spilled; do
    "$PGBIN/pg_recvlogical" -d postgres --slot "$slot" --create-slot -P waljson
done
start=$(date +%s)
sql "INSERT INTO big SELECT g, repeat(md5(g::text), 7) FROM generate_series(1, $rows) g"
end=$(sql "SELECT pg_current_wal_lsn()")
echo "     one transaction of $rows rows written in $(($(date +%s) - start)) s; WAL up to $end"

# Streams slot $1 as application $1 with options $2..; a reader counts the
# inserted rows, their id sum, the output bytes, the stream blocks and the
# seconds to the first change.
stream() {
    local slot=$1
    shift
    sample_memory "$slot" "$dir/$slot.mem" &
    local sampler=$!
    local t0
    t0=$(date +%s.%N)
    PGAPPNAME=$slot "$PGBIN/pg_recvlogical" -d postgres --slot "$slot" --start --endpos "$end" --no-loop -f - \
        -o format-version=2 "$@" 2>"$dir/$slot.err" | /usr/bin/python3 -c '
import sys, time, re
t0 = float(sys.argv[1])
first = None
n = total = blocks = size = 0
num = re.compile(rb"\"value\":([0-9]+)")
for line in sys.stdin.buffer:
    size += len(line)
    if line.startswith(b"{\"action\":\"I\""):
        if first is None:
            first = time.time() - t0
        n += 1
        total += int(num.search(line).group(1))
    elif line.startswith(b"{\"action\":\"S\""):
        blocks += 1
print(n, total, size, blocks, "%.1f" % (first or -1), "%.1f" % (time.time() - t0))
' "$t0" >"$dir/$slot.count"
    local status=${PIPESTATUS[0]}
    kill $sampler 2>/dev/null
    wait $sampler 2>/dev/null
    return "$status"
}

# The slot's statistics, once the walsender that decoded it has reported them.
slot_stats() {
    local s
    for _ in $(seq 1 30); do
        s=$(sql "SELECT spill_bytes, stream_bytes, stream_txns, total_bytes FROM pg_stat_replication_slots WHERE slot_name = '$1' AND total_txns > 0")
        [ -n "$s" ] && { echo "$s"; return; }
        sleep 1
    done
    echo "0|0|0|0"
}

check_rows() {
    local slot=$1 expected_rows=$2 expected_sum=$3
    read -r n sum bytes blocks first secs <"$dir/$slot.count"
    mem_mb=$(($(cat "$dir/$slot.mem" 2>/dev/null || echo 0) / 1024))
    IFS='|' read -r spill streamed stream_txns total <<<"$(slot_stats "$slot")"
    echo "     $slot: $n rows, $((bytes / 1048576)) MB of output in $secs s, first change after $first s, $blocks stream blocks;" \
        "spill $((spill / 1048576)) MB, streamed $((streamed / 1048576)) MB ($stream_txns txns); walsender peak private memory $mem_mb MB"
    if [ "$n" -eq "$expected_rows" ] && [ "$sum" = "$expected_sum" ]; then
        ok "$slot: every row arrived (count and id sum)"
    else
        fail "$slot: $n rows, id sum $sum (expected $expected_rows, $expected_sum): $(head -3 "$dir/$slot.err")"
    fi
}

sum_to() { awk -v n="$1" -v a="${2:-1}" 'BEGIN { printf "%.0f", (n - a + 1) * (a + n) / 2 }'; }

stream streamed -o stream-changes=1
check_rows streamed "$rows" "$(sum_to "$rows")"
stream_first=$first
[ "$bytes" -gt 2147483648 ] && ok "the output is over 2 GB ($((bytes / 1048576)) MB)" || fail "output only $bytes bytes: raise STREAM_HUGE_ROWS"
[ "$blocks" -gt 1 ] && [ "$streamed" -gt 0 ] && ok "streamed in $blocks blocks, stream_bytes $streamed" || fail "not streamed: $blocks blocks, stream_bytes $streamed"
[ "$spill" -eq 0 ] && ok "nothing spilled to disk" || fail "spill_bytes $spill with streaming"
[ "$mem_mb" -gt 0 ] && [ "$mem_mb" -lt "$limit_mb" ] && ok "walsender memory bounded: peak $mem_mb MB < $limit_mb MB" || fail "walsender peak memory $mem_mb MB"

stream spilled
check_rows spilled "$rows" "$(sum_to "$rows")"
[ "$spill" -gt 0 ] && ok "without streaming the server spilled $((spill / 1048576)) MB" || fail "no spill without streaming"
awk -v a="$stream_first" -v b="$first" 'BEGIN { exit !(a >= 0 && a < b) }' \
    && ok "first change after $stream_first s streamed, $first s not streamed" || fail "time to first change: streamed $stream_first s, not streamed $first s"

# A TOAST-heavy transaction: out-of-line values (random, incompressible).
"$PGBIN/pg_recvlogical" -d postgres --slot toasted --create-slot -P waljson
sql "INSERT INTO toasty SELECT i, p FROM generate_series(1, $toast_rows) g(i),
     LATERAL (SELECT string_agg(md5(random()::text || i || x), '') AS p FROM generate_series(1, 128) x) l"
end=$(sql "SELECT pg_current_wal_lsn()")
stream toasted -o stream-changes=1
check_rows toasted "$toast_rows" "$(sum_to "$toast_rows")"
echo "     TOAST-heavy transaction ($toast_rows rows of 4 kB out of line): spilled $((spill / 1048576)) MB, streamed $((streamed / 1048576)) MB"
finish stream_huge
