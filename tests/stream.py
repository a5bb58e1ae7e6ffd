#!/usr/bin/python3
"""Streaming and two-phase property test.

Random large transactions (batches of inserts, updates, key changes,
deletes, TRUNCATE, nested savepoints, rollbacks to savepoints, releases) run
on one connection while small transactions commit on another between their
statements, so streamed blocks interleave with other transactions. Each
large transaction commits, rolls back, or is prepared and later committed
or rolled back prepared. The server streams (logical_decoding_work_mem =
64kB; on 16+ also debug_logical_replication_streaming = immediate) to
pg_recvlogical on a two-phase slot (format 2, stream-changes); the
reference consumer (tools/consumer.py) reassembles the file and its
tables must equal the source tables exactly.

With --crash, the server is killed with SIGKILL in the middle of some large
transactions (streamed in part, or prepared and not resolved) and restarted;
pg_recvlogical reconnects. Every committed transaction must still reach
the consumer (at least once) and no aborted one may be applied.

Usage: stream.py CASES SEED DIR PGBIN [--crash]   (connection from PGHOST/PGPORT/PGUSER)
"""
import json
import os
import random
import signal
import subprocess
import sys
import time

import psycopg2

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from consumer import Reassembler, apply  # noqa: E402

CASES = int(sys.argv[1])
SEED = int(sys.argv[2])
DIR = sys.argv[3]
PGBIN = sys.argv[4]
CRASH = "--crash" in sys.argv
OUT = os.path.join(DIR, "stream.jsonl")
KEYS = {"public.sa": ["id"], "public.sb": ["id"]}


def connect():
    for _ in range(120):
        try:
            c = psycopg2.connect(dbname="postgres")
            c.autocommit = True
            return c
        except psycopg2.OperationalError:
            time.sleep(0.5)
    raise SystemExit("the server did not come back")


def start_consumer():
    err = open(os.path.join(DIR, "recvlogical.err"), "a")
    return subprocess.Popen(
        [f"{PGBIN}/pg_recvlogical", "-d", "postgres", "--slot", "stream_prop", "--start", "-f", OUT, "-F", "1", "-s", "1",
         "-o", "format-version=2", "-o", "stream-changes=1", "-o", "include-xids=1"],
        stderr=err)


def read_events():
    with open(OUT, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    rnd = random.Random(SEED)
    admin = connect()
    cur = admin.cursor()
    cur.execute("SHOW server_version_num")
    version = int(cur.fetchone()[0])
    cur.execute("ALTER SYSTEM SET logical_decoding_work_mem = '64kB'")
    if version >= 160000:
        cur.execute("ALTER SYSTEM SET debug_logical_replication_streaming = 'immediate'")
    cur.execute("SELECT pg_reload_conf()")
    cur.execute("CREATE TABLE sa (id int PRIMARY KEY, v text, n int)")
    cur.execute("CREATE TABLE sb (id int PRIMARY KEY, v text)")
    cur.execute("SELECT pg_create_logical_replication_slot('stream_prop', 'waljson', false, true)")
    consumer = start_consumer()
    big, small = connect(), connect()
    next_id = [1]
    committed = aborted = prepared_committed = prepared_rolled_back = crashes = 0

    def ids(n):
        first = next_id[0]
        next_id[0] += n
        return first, first + n - 1

    def small_txn():
        a, b = ids(rnd.randint(1, 5))
        small.cursor().execute(f"INSERT INTO sb SELECT g, md5(g::text) FROM generate_series({a}, {b}) g")

    def crash():
        nonlocal big, small, admin, crashes
        pid = int(open(os.path.join(os.environ["PGHOST"], "data", "postmaster.pid")).readline())
        os.kill(pid, signal.SIGKILL)
        # The old backends exit when they notice the postmaster is gone;
        # until then the server refuses to start: retry.
        data = os.path.join(os.environ["PGHOST"], "data")
        as_pg = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
        for _ in range(60):
            time.sleep(1)
            started = subprocess.run(as_pg + [f"{PGBIN}/pg_ctl", "-D", data, "-l", os.path.join(os.environ["PGHOST"], "server.log"),
                                      "-w", "start"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if started.returncode == 0:
                break
        else:
            raise SystemExit("FAIL the server did not restart")
        admin, big, small = connect(), connect(), connect()
        # pg_recvlogical reconnects by itself (every 5 s) and resumes from the slot.
        crashes += 1

    for case in range(CASES):
        c = big.cursor()
        c.execute("BEGIN")
        savepoints = []
        for step in range(rnd.randint(3, 12)):
            op = rnd.random()
            if op < 0.35:
                a, b = ids(rnd.randint(50, 600))
                c.execute(f"INSERT INTO sa SELECT g, repeat(md5(g::text), {rnd.randint(1, 8)}), 0 FROM generate_series({a}, {b}) g")
            elif op < 0.45:
                a, b = ids(rnd.randint(1, 50))
                c.execute(f"INSERT INTO sb SELECT g, 'big ' || g FROM generate_series({a}, {b}) g")
            elif op < 0.55:
                c.execute(f"UPDATE sa SET v = md5(v), n = n + 1 WHERE id % {rnd.randint(2, 9)} = {rnd.randint(0, 1)}")
            elif op < 0.60:
                c.execute(f"UPDATE sa SET id = -id WHERE id > 0 AND id % 17 = {rnd.randint(0, 16)}")
            elif op < 0.67:
                c.execute(f"DELETE FROM sa WHERE id % {rnd.randint(3, 11)} = {rnd.randint(0, 2)}")
            elif op < 0.69:
                c.execute("TRUNCATE sa")
            elif op < 0.80:
                name = f"s{step}"
                c.execute(f"SAVEPOINT {name}")
                savepoints.append(name)
            elif op < 0.90 and savepoints:
                name = rnd.choice(savepoints)
                c.execute(f"ROLLBACK TO SAVEPOINT {name}")
                savepoints = savepoints[: savepoints.index(name) + 1]
            elif savepoints:
                name = rnd.choice(savepoints)
                c.execute(f"RELEASE SAVEPOINT {name}")
                savepoints = savepoints[: savepoints.index(name)]
            if rnd.random() < 0.5:
                small_txn()
        end = rnd.random()
        if CRASH and end < 0.12:
            crash()  # the open transaction dies with the server
            aborted += 1
            continue
        if end < 0.55:
            c.execute("COMMIT")
            committed += 1
        elif end < 0.70:
            c.execute("ROLLBACK")
            aborted += 1
        else:
            gid = f"prop_{SEED}_{case}"
            c.execute(f"PREPARE TRANSACTION '{gid}'")
            for _ in range(rnd.randint(0, 3)):
                small_txn()
            if CRASH and rnd.random() < 0.3:
                crash()  # a prepared transaction survives the crash
                c = admin.cursor()
            else:
                c = big.cursor()
            if rnd.random() < 0.6:
                c.execute(f"COMMIT PREPARED '{gid}'")
                prepared_committed += 1
            else:
                c.execute(f"ROLLBACK PREPARED '{gid}'")
                prepared_rolled_back += 1

    # A last transaction marks the end of the stream.
    small.cursor().execute("INSERT INTO sb VALUES (0, 'the end')")
    deadline = time.time() + 300
    events = []
    while time.time() < deadline:
        if os.path.exists(OUT):
            events = read_events()
            if any(e.get("action") == "I" and e["table"] == "sb" and e["columns"][0]["value"] == 0 for e in events):
                break
        time.sleep(0.5)
    else:
        raise SystemExit(f"FAIL the end marker never arrived ({len(events)} events)")
    consumer.send_signal(signal.SIGINT)
    consumer.wait()

    r = Reassembler()
    tables = {}
    for e in events:
        for _xid, changes in r.feed(e):
            apply(tables, changes, KEYS)
    cur = admin.cursor()
    problems = []
    for name in KEYS:
        cur.execute(f"SELECT to_jsonb(t) FROM {name} t")
        source = {tuple(row[k] for k in KEYS[name]): row for (row,) in cur.fetchall()}
        replica = tables.get(name, {})
        if source != replica:
            missing = [k for k in source if k not in replica][:5]
            extra = [k for k in replica if k not in source][:5]
            wrong = [k for k in source if k in replica and source[k] != replica[k]][:5]
            problems.append(f"{name}: {len(source)} rows at the source, {len(replica)} rebuilt; "
                            f"missing {missing}, extra {extra}, different {wrong}")
    counts = {}
    for e in events:
        a = e["action"]
        if a == "A":
            a = "A(sub)" if e["subxid"] != e["xid"] else "A(top)"
        counts[a] = counts.get(a, 0) + 1
    summary = (f"{CASES} large transactions ({committed} committed, {aborted} aborted, {prepared_committed} "
               f"prepared+committed, {prepared_rolled_back} prepared+rolled back, {crashes} crashes), "
               f"{len(events)} events: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    for needed in ("S", "A(sub)", "c"):
        if counts.get(needed, 0) == 0:
            problems.append(f"no {needed} event: the server did not stream as the test needs")
    if problems:
        print("FAIL seed", SEED, summary)
        for p in problems:
            print("FAIL", p)
        sys.exit(1)
    print("ok", summary)


main()
