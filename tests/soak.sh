#!/usr/bin/env bash
# Concurrency soak: pgbench writers (a custom script: upserts, deletes and
# updates on three tables) run for SOAK_SECONDS (default 20; 180 in
# `make test-long`) while another session adds and drops columns, and two
# slots are consumed through pg_recvlogical the whole time (format 2, format 1
# with write-in-chunks, and format 3). At the end: replaying the format-2 and
# the format-3 streams gives exactly each table's contents, all streams carry
# the same number of inserts, updates and deletes, every message validates
# against its format's JSON Schema, and no walsender's memory grew.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
seconds=${SOAK_SECONDS:-20}
start_cluster soak "${1:-}"

for k in 1 2 3; do sql "CREATE TABLE soak_$k (id int PRIMARY KEY, a int NOT NULL, b text)"; done
"$PGBIN/pg_recvlogical" -d postgres --slot soak_v2 --create-slot -P waljson
"$PGBIN/pg_recvlogical" -d postgres --slot soak_v1 --create-slot -P waljson
"$PGBIN/pg_recvlogical" -d postgres --slot soak_v3 --create-slot -P waljson
PGAPPNAME=soak_v2 "$PGBIN/pg_recvlogical" -d postgres --slot soak_v2 --start -f "$dir/v2.out" -s 1 \
    -o format-version=2 -o include-transaction=0 2>"$dir/v2.err" &
c2=$!
PGAPPNAME=soak_v1 "$PGBIN/pg_recvlogical" -d postgres --slot soak_v1 --start -f "$dir/v1.out" -s 1 \
    -o write-in-chunks=1 2>"$dir/v1.err" &
c1=$!
PGAPPNAME=soak_v3 "$PGBIN/pg_recvlogical" -d postgres --slot soak_v3 --start -f "$dir/v3.out" -s 1 \
    -o format-version=3 2>"$dir/v3.err" &
c3=$!

# walsender private memory, sampled every second: "app kB" lines
(
    while true; do
        for app in soak_v2 soak_v1 soak_v3; do
            pid=$(psql -X -At -d postgres -c "SELECT pid FROM pg_stat_replication WHERE application_name = '$app'" 2>/dev/null)
            [ -n "$pid" ] && awk -v a="$app" '/^RssAnon:/ {print a, $2}' "/proc/$pid/status" 2>/dev/null
        done
        sleep 1
    done
) >"$dir/memory.txt" &
sampler=$!

cat >"$dir/bench.sql" <<'EOF'
\set i1 random(1, 3000)
\set i2 random(1, 3000)
\set i3 random(1, 3000)
BEGIN;
INSERT INTO soak_1 AS t (id, a, b) VALUES (:i1, 1, 'a') ON CONFLICT (id) DO UPDATE SET a = t.a + 1, b = left(t.b || 'b', 40);
DELETE FROM soak_2 WHERE id = :i2;
INSERT INTO soak_2 AS t (id, a, b) VALUES (:i2 + 1, 1, 'c "q"') ON CONFLICT (id) DO UPDATE SET a = t.a + 1;
UPDATE soak_3 SET a = a + 1, b = md5(b) WHERE id = :i3;
INSERT INTO soak_3 (id, a, b) VALUES (:i3, 0, 'z') ON CONFLICT DO NOTHING;
END;
EOF
"$PGBIN/pgbench" -n -d postgres -c 4 -j 2 -T "$seconds" --max-tries=20 -f "$dir/bench.sql" >"$dir/pgbench.log" 2>&1 &
bench=$!
# concurrent DDL: add and drop columns (with and without defaults) while writers run
ddl=0
while kill -0 "$bench" 2>/dev/null; do
    k=$((ddl % 3 + 1))
    sql "ALTER TABLE soak_$k ADD COLUMN extra_$ddl int DEFAULT $ddl" 2>/dev/null
    sleep 0.5
    sql "ALTER TABLE soak_$k ADD COLUMN note_$ddl text" 2>/dev/null
    sleep 0.5
    sql "ALTER TABLE soak_$k DROP COLUMN extra_$ddl" 2>/dev/null
    ddl=$((ddl + 1))
done
wait "$bench"
bench_status=$?
txns=$(grep -Eo "number of transactions actually processed: [0-9]+" "$dir/pgbench.log" | grep -Eo "[0-9]+$")
[ "$bench_status" = 0 ] && ok "pgbench ran $seconds s: ${txns:-?} transactions, with $ddl rounds of ADD/DROP COLUMN" \
    || fail "pgbench failed: $(tail -3 "$dir/pgbench.log")"

sql "CREATE TABLE soak_marker (id int)"
sql "INSERT INTO soak_marker VALUES (1)"
for f in v2.out v1.out v3.out; do
    for _ in $(seq 1 600); do grep -q '"soak_marker"' "$dir/$f" 2>/dev/null && break; sleep 0.2; done
done
kill "$c1" "$c2" "$c3" "$sampler" 2>/dev/null
wait "$c1" "$c2" "$c3" 2>/dev/null

# Replay formats 2 and 3 into models and compare with the tables; count all streams.
if /usr/bin/python3 - "$dir" <<'PY'
import json, os, sys, psycopg2
sys.path.insert(0, os.path.join(os.getcwd(), "tools"))
import schema_check
d = sys.argv[1]
model = {f"soak_{k}": {} for k in (1, 2, 3)}
model3 = {f"soak_{k}": {} for k in (1, 2, 3)}
counts = {"v2": {}, "v1": {}, "v3": {}}
for line in open(f"{d}/v2.out", encoding="utf-8"):
    e = json.loads(line)
    t = e.get("table")
    if t not in model:
        continue
    a = e["action"]
    counts["v2"][a] = counts["v2"].get(a, 0) + 1
    if a in ("U", "D"):
        old = {c["name"]: c["value"] for c in e["identity"]}
        model[t].pop(old["id"], None)
    if a in ("I", "U"):
        new = {c["name"]: c["value"] for c in e["columns"]}
        model[t][new["id"]] = (new["a"], new["b"])
ops = {"c": "I", "u": "U", "d": "D"}
for line in open(f"{d}/v3.out", encoding="utf-8"):
    e = json.loads(line)
    t = e.get("source", {}).get("table")
    if t not in model3 or e.get("op") not in ops:
        continue
    a = ops[e["op"]]
    counts["v3"][a] = counts["v3"].get(a, 0) + 1
    if a in ("U", "D"):
        model3[t].pop((e["before"] or e["after"])["id"], None)
    if a in ("I", "U"):
        model3[t][e["after"]["id"]] = (e["after"]["a"], e["after"]["b"])
kinds = {"insert": "I", "update": "U", "delete": "D"}
for line in open(f"{d}/v1.out", encoding="utf-8"):
    if '"table":"soak_' in line and '"table":"soak_marker"' not in line:
        k = kinds[json.loads(line.lstrip(",").rstrip())["kind"]]
        counts["v1"][k] = counts["v1"].get(k, 0) + 1
conn = psycopg2.connect(dbname="postgres")
cur = conn.cursor()
bad = 0
for t, rows in model.items():
    cur.execute(f"SELECT id, a, b FROM {t}")
    actual = {r[0]: (r[1], r[2]) for r in cur.fetchall()}
    actual = {str(k): v for k, v in actual.items()}
    for name, replayed in (("format 2", rows), ("format 3", model3[t])):
        replayed = {str(k): v for k, v in replayed.items()}
        if actual != replayed:
            bad += 1
            diff = [k for k in set(actual) | set(replayed) if actual.get(k) != replayed.get(k)][:5]
            print(f"{t}, {name}: {len(replayed)} replayed rows vs {len(actual)} in the table; differing ids {diff}")
print("changes per stream:", counts)
if not counts["v2"] == counts["v1"] == counts["v3"]:
    print("the streams differ")
    bad += 1
# Schema check (about 1 ms per message): the first 20000 lines and every
# 50th line after (format 1: the first 20000 lines' complete documents).
for version, name in ((2, "v2.out"), (1, "v1.out"), (3, "v3.out")):
    lines = [l.rstrip("\n") for l in open(f"{d}/{name}", encoding="utf-8")]
    sample = lines
    if len(lines) > 20000:
        if version == 1:
            head = lines[:20000]
            sample = head[: len(head) - head[::-1].index("]}")] if "]}" in head else []
        else:
            sample = lines[:20000] + lines[20000::50]
    problems = schema_check.check(version, sample)
    print(f"{name}: {len(lines)} lines, {len(sample)} validated, {len(problems)} schema problems", *problems[:3], sep="\n  ")
    bad += bool(problems) or not sample
sys.exit(1 if bad else 0)
PY
then ok "replaying formats 2 and 3 rebuilds all three tables; format 1 carries the same changes; all validate"
else fail "streams and tables disagree"; fi

# memory: the last samples must not exceed the first ones (after warm-up) by much
for app in soak_v2 soak_v1 soak_v3; do
    read -r first peak last < <(awk -v a="$app" '$1 == a {n++; v[n] = $2} END {
        s = (n > 4 ? 4 : 1); max = 0; for (i = s; i <= n; i++) if (v[i] > max) max = v[i]; print v[s], max, v[n] }' "$dir/memory.txt")
    echo "     $app walsender private memory: ${first:-?} kB after warm-up, peak ${peak:-?} kB, last ${last:-?} kB"
    if [ -n "${first:-}" ] && [ $((last - first)) -lt 32768 ]; then ok "$app: no memory growth"; else fail "$app: memory grew"; fi
done
finish soak
