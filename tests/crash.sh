#!/usr/bin/env bash
# Crash and resume through the replication protocol: a writer commits
# numbered transactions (and rolls back others) while pg_recvlogical streams
# from a waljson slot; the server is killed with SIGKILL, later stopped with
# `-m immediate`, and restarted each time; pg_recvlogical reconnects and
# resumes from the slot's confirmed position. At the end every committed
# number must have arrived, first occurrences in commit order with no gap,
# and no rolled-back number at all (duplicates are allowed: at-least-once).
# Sizes: CRASH_TXNS (default 3000) numbered transactions.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
txns=${CRASH_TXNS:-3000}
start_cluster crash "${1:-}"
datadir=$dir/cluster/data
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

sql "CREATE TABLE events (n int PRIMARY KEY)"
"$PGBIN/pg_recvlogical" -d postgres --slot crash --create-slot -P waljson

# The consumer reconnects by itself (every 5 s) after the server goes away.
"$PGBIN/pg_recvlogical" -d postgres --slot crash --start -f "$dir/stream.out" -F 0 -s 1 \
    -o format-version=2 -o include-transaction=0 2>"$dir/consumer.err" &
consumer=$!

# writer: transactions n = $1..$txns, one per commit; every 7th a rolled-back one
writer() {
    local from=$1
    /usr/bin/python3 - "$from" "$txns" <<'PY' >/dev/null 2>&1
import sys, psycopg2
start, end = int(sys.argv[1]), int(sys.argv[2])
conn = psycopg2.connect(dbname="postgres")
cur = conn.cursor()
for n in range(start, end + 1):
    cur.execute("INSERT INTO events VALUES (%s)", (n,))
    conn.commit()
    if n % 7 == 0:
        cur.execute("INSERT INTO events VALUES (%s)", (1000000 + n,))
        conn.rollback()
PY
}

restart_server() {
    local how=$1
    if [ "$how" = kill ]; then
        kill -9 "$(head -1 "$datadir/postmaster.pid")"
    else
        as_pg "$PGBIN/pg_ctl" -D "$datadir" -m immediate -w stop >/dev/null
    fi
    # After a SIGKILL the old backends exit when they notice the postmaster is
    # gone; until then the server refuses to start: retry.
    for _ in $(seq 1 30); do
        as_pg "$PGBIN/pg_ctl" -D "$datadir" -l "$dir/cluster/server.log" -w start >/dev/null 2>&1 && return 0
        sleep 1
    done
    fail "the server did not restart after $how"
}

next_n() { sql "SELECT coalesce(max(n), 0) + 1 FROM events WHERE n < 1000000"; }

third=$((txns / 3))
writer 1 &
w=$!
# let a third of the transactions commit, then SIGKILL the server mid-stream
while [ "$(sql "SELECT count(*) FROM events" 2>/dev/null || echo 0)" -lt "$third" ]; do sleep 0.2; done
restart_server kill
wait $w
writer "$(next_n)" &
w=$!
while [ "$(sql "SELECT count(*) FROM events" 2>/dev/null || echo 0)" -lt $((2 * third)) ]; do sleep 0.2; done
restart_server immediate
wait $w
writer "$(next_n)"
sql "INSERT INTO events VALUES (2000000)" # end marker

# wait for the marker to arrive, then stop the consumer
for _ in $(seq 1 300); do grep -q '"value":2000000' "$dir/stream.out" 2>/dev/null && break; sleep 0.2; done
kill "$consumer" 2>/dev/null
wait "$consumer" 2>/dev/null

sql "SELECT n FROM events WHERE n < 1000000 ORDER BY n" >"$dir/committed.txt"
grep -o '"action":"I","schema":"public","table":"events","columns":\[{"name":"n","type":"integer","value":[0-9]*' "$dir/stream.out" \
    | grep -o '[0-9]*$' >"$dir/received.txt"
committed=$(wc -l <"$dir/committed.txt")
received=$(wc -l <"$dir/received.txt")
echo "     $committed committed transactions, $received inserts received, $(sort -n "$dir/received.txt" | uniq -d | wc -l) of them more than once"
reconnects=$(grep -c "disconnected\|could not" "$dir/consumer.err" || true)
[ "$reconnects" -gt 0 ] && ok "the consumer lost its connection and reconnected" || fail "the consumer never lost its connection (the server was not restarted?)"

# first occurrences, in arrival order, of the committed numbers
awk '$1 < 1000000 && !seen[$1]++' "$dir/received.txt" >"$dir/first.txt"
if cmp -s "$dir/first.txt" "$dir/committed.txt"; then
    ok "every committed transaction arrived, first occurrences in commit order, no gap"
else
    fail "committed vs received differ: $(diff "$dir/committed.txt" "$dir/first.txt" | head -5 | tr '\n' ' ')"
fi
if awk '$1 >= 1000000 && $1 != 2000000 { bad = 1 } END { exit !bad }' "$dir/received.txt"; then
    fail "a rolled-back transaction was received"
else
    ok "no rolled-back transaction was received"
fi
grep -q "automatic recovery in progress" "$dir/cluster/server.log" \
    && ok "the server went through crash recovery" || fail "no crash recovery in the server log"
# the SIGKILL above is ours; no other backend may die by a signal
if grep "terminated by signal" "$dir/cluster/server.log" | grep -vq "signal 9"; then
    fail "a backend died by a signal"
fi
echo "crash: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
