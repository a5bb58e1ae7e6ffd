#!/usr/bin/env bash
# Crash and resume through the replication protocol: a writer commits
# numbered transactions (and rolls back others) while pg_recvlogical (format
# 2) and psycopg2's LogicalReplicationConnection (format 3) each stream from a
# waljson slot;
# the server is killed with SIGKILL, later stopped with `-m immediate`, and
# restarted each time; both clients reconnect and resume from their slot's
# confirmed position. At the end every committed
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
"$PGBIN/pg_recvlogical" -d postgres --slot crash_py --create-slot -P waljson

# The consumer reconnects by itself (every 5 s) after the server goes away.
"$PGBIN/pg_recvlogical" -d postgres --slot crash --start -f "$dir/stream.out" -F 0 -s 1 \
    -o format-version=2 -o include-transaction=0 2>"$dir/consumer.err" &
consumer=$!

# The same in format 3 through psycopg2's LogicalReplicationConnection: it appends each
# message to a file and confirms its LSN only once written; on a lost
# connection it reconnects (every second) and resumes from the slot.
/usr/bin/python3 - "$dir/stream_py.out" <<'PY' 2>"$dir/consumer_py.err" &
import select, sys, time, psycopg2, psycopg2.extras
out = open(sys.argv[1], "a", encoding="utf-8")
while True:
    try:
        conn = psycopg2.connect(dbname="postgres", connection_factory=psycopg2.extras.LogicalReplicationConnection)
        cur = conn.cursor()
        cur.start_replication(slot_name="crash_py", decode=True, status_interval=1,
                              options={"format-version": "3", "include-transaction": "0", "include-relations": "0"})
        while True:
            msg = cur.read_message()
            if msg is None:
                select.select([cur], [], [], 1.0)
                continue
            out.write(msg.payload + "\n")
            out.flush()
            msg.cursor.send_feedback(flush_lsn=msg.data_start)
    except psycopg2.Error as e:
        print("reconnecting after:", str(e).strip().splitlines()[0], file=sys.stderr, flush=True)
        time.sleep(1)
PY
consumer_py=$!

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

# wait for the marker to arrive, then stop the consumers
for f in stream.out stream_py.out; do
    for _ in $(seq 1 300); do grep -Eq '"value":2000000|"n":2000000' "$dir/$f" 2>/dev/null && break; sleep 0.2; done
done
kill "$consumer" "$consumer_py" 2>/dev/null
wait "$consumer" "$consumer_py" 2>/dev/null

check_stream() {
    local client=$1 stream=$2 errlog=$3 insert=$4
    grep -o "$insert" "$stream" | grep -o '[0-9]*$' >"$dir/received.txt"
    echo "     $client: $(wc -l <"$dir/committed.txt") committed transactions, $(wc -l <"$dir/received.txt") inserts received," \
        "$(sort -n "$dir/received.txt" | uniq -d | wc -l) of them more than once"
    if [ -s "$errlog" ]; then ok "$client lost its connection and reconnected"; else fail "$client never lost its connection"; fi
    # first occurrences, in arrival order, of the committed numbers
    awk '$1 < 1000000 && !seen[$1]++' "$dir/received.txt" >"$dir/first.txt"
    if cmp -s "$dir/first.txt" "$dir/committed.txt"; then
        ok "$client: every committed transaction arrived, first occurrences in commit order, no gap"
    else
        fail "$client: committed vs received differ: $(diff "$dir/committed.txt" "$dir/first.txt" | head -5 | tr '\n' ' ')"
    fi
    if awk '$1 >= 1000000 && $1 != 2000000 { bad = 1 } END { exit !bad }' "$dir/received.txt"; then
        fail "$client: a rolled-back transaction was received"
    else
        ok "$client: no rolled-back transaction was received"
    fi
}
sql "SELECT n FROM events WHERE n < 1000000 ORDER BY n" >"$dir/committed.txt"
check_stream pg_recvlogical "$dir/stream.out" "$dir/consumer.err" \
    '"action":"I","schema":"public","table":"events","columns":\[{"name":"n","type":"integer","value":[0-9]*'
check_stream "psycopg2 (format 3)" "$dir/stream_py.out" "$dir/consumer_py.err" '{"before":null,"after":{"n":[0-9]*'
if /usr/bin/python3 tools/schema_check.py 3 "$dir/stream_py.out" >"$dir/schema.txt"; then
    ok "the format-3 stream validates against its JSON Schema"
else
    fail "format 3 stream: $(head -3 "$dir/schema.txt")"
fi
grep -q "automatic recovery in progress" "$dir/cluster/server.log" \
    && ok "the server went through crash recovery" || fail "no crash recovery in the server log"
# the SIGKILL above is ours; no other backend may die by a signal
if grep "terminated by signal" "$dir/cluster/server.log" | grep -vq "signal 9"; then
    fail "a backend died by a signal"
fi
echo "crash: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
