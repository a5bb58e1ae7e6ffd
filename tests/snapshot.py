#!/usr/bin/python3
"""Initial snapshot, then stream (README recipe), under concurrent writers.

    snapshot.py ROUNDS SEED

Writers commit random inserts, updates and deletes (and roll some back)
continuously on three tables. Meanwhile a consumer creates a slot on a
replication connection with an exported snapshot, reads every table with
waljson.snapshot() inside that snapshot, then streams from the slot's
consistent point. The rows so rebuilt must equal the tables at the end:
an INSERT of a row already there, or an UPDATE/DELETE of a row not there,
is a change applied twice or missing, and fails the round at once.
Each round runs in format 2 and in format 3.
"""
import json
import random
import sys
import threading
import time

import psycopg2
import psycopg2.extras

sys.path.insert(0, "tools")
from consumer import Reassembler  # noqa: E402

TABLES = {
    "snap_a": "id int PRIMARY KEY, v text, n numeric, big text",
    "snap_b": "id bigint PRIMARY KEY, j jsonb, ts timestamptz, f float8",
    "snap_c": "id int PRIMARY KEY, k text, flag bool",
}
END_PREFIX = "waljson-snapshot-test-end"


class Twice(Exception):
    pass


def values_for(table, rnd):
    if table == "snap_a":
        big = "x" * rnd.choice([0, 10, 5000, 300000]) if rnd.random() < 0.3 else None
        return (f"v{rnd.randrange(1000)}", rnd.choice([None, "1.50", "-0.001", "123456789012345678901.5"]), big)
    if table == "snap_b":
        return (json.dumps({"k": rnd.randrange(100), "a": [1, None]}), rnd.choice([None, "2024-01-01 00:00+00", "infinity"]),
                rnd.choice([0.1, -0.0, 1e300, None]))
    return (rnd.choice(["a", "b", "é ü", '"q"']), rnd.choice([True, False, None]))


def writer(dsn, seed, stop, ids, lock, errors):
    rnd = random.Random(seed)
    conn = psycopg2.connect(dsn)
    cur = conn.cursor()
    try:
        while not stop.is_set():
            for _ in range(rnd.randint(1, 4)):
                table = rnd.choice(list(TABLES))
                op = rnd.random()
                with lock:
                    existing = list(ids[table])
                if op < 0.5 or not existing:
                    with lock:
                        ids["next"] += 1
                        new_id = ids["next"]
                    vals = values_for(table, rnd)
                    cur.execute(f"INSERT INTO {table} VALUES (%s{', %s' * len(vals)})", (new_id, *vals))
                    with lock:
                        ids[table].add(new_id)
                elif op < 0.8:
                    vals = values_for(table, rnd)
                    cols = [c.split()[0] for c in TABLES[table].split(", ")][1:]
                    sets = ", ".join(f"{c} = %s" for c in cols)
                    cur.execute(f"UPDATE {table} SET {sets} WHERE id = %s", (*vals, rnd.choice(existing)))
                else:
                    victim = rnd.choice(existing)
                    cur.execute(f"DELETE FROM {table} WHERE id = %s", (victim,))
            # The id sets are only hints (a rolled back INSERT left its id).
            if rnd.random() < 0.1:
                conn.rollback()
            else:
                conn.commit()
            time.sleep(rnd.random() * 0.005)
    except Exception as e:  # noqa: BLE001
        errors.append(repr(e))
    finally:
        conn.close()


def row_key(row):
    return row["id"]


def apply_v2(model, event):
    a = event["action"]
    table = event["table"]
    rows = model[table]
    if a in ("U", "D"):
        key = {c["name"]: c["value"] for c in event.get("identity") or event["columns"]}["id"]
        if key not in rows:
            raise Twice(f"{a} of a row not there: {table} id {key}")
        del rows[key]
    if a in ("I", "U"):
        row = {c["name"]: c["value"] for c in event["columns"]}
        if row["id"] in rows:
            raise Twice(f"{a} of a row already there: {table} id {row['id']}")
        rows[row["id"]] = row


def apply_v3(model, event):
    op = event["op"]
    table = event["source"]["table"]
    rows = model[table]
    if op in ("u", "d"):
        # An UPDATE that keeps its key has no `before` (default replica identity).
        key = (event["before"] or event["after"])["id"]
        if key not in rows:
            raise Twice(f"{op} of a row not there: {table} id {key}")
        del rows[key]
    if op in ("c", "u", "r"):
        row = event["after"]
        if row["id"] in rows:
            raise Twice(f"{op} of a row already there: {table} id {row['id']}")
        rows[row["id"]] = row


def snapshot_rows(cur, table, opts, fmt):
    cur.execute("SELECT s FROM waljson.snapshot(%s, VARIADIC %s) s", (table, opts))
    for (s,) in cur.fetchall():
        yield json.loads(s)


def one_round(dsn, seed, fmt):
    rnd = random.Random(seed)
    opts = ["format-version", str(fmt)] + (["include-xids", "1"] if fmt == 2 else [])
    admin = psycopg2.connect(dsn)
    admin.autocommit = True
    a = admin.cursor()
    for t, cols in TABLES.items():
        a.execute(f"DROP TABLE IF EXISTS {t}; CREATE TABLE {t} ({cols})")
    ids = {t: set() for t in TABLES}
    ids["next"] = 0
    lock = threading.Lock()
    stop = threading.Event()
    errors = []
    # Some rows before anything starts.
    for t in TABLES:
        for _ in range(rnd.randint(0, 30)):
            ids["next"] += 1
            vals = values_for(t, rnd)
            a.execute(f"INSERT INTO {t} VALUES (%s{', %s' * len(vals)})", (ids["next"], *vals))
            ids[t].add(ids["next"])
    writers = [threading.Thread(target=writer, args=(dsn, seed * 10 + i, stop, ids, lock, errors)) for i in range(2)]
    for w in writers:
        w.start()
    time.sleep(0.2 + rnd.random() * 0.3)

    slot = f"snap_{fmt}_{seed}"
    repl = psycopg2.connect(dsn, connection_factory=psycopg2.extras.LogicalReplicationConnection)
    rcur = repl.cursor()
    rcur.execute(f'CREATE_REPLICATION_SLOT "{slot}" LOGICAL "waljson" EXPORT_SNAPSHOT')
    slot_name, consistent_point, snapshot_name, plugin = rcur.fetchone()

    model = {t: {} for t in TABLES}
    reader = psycopg2.connect(dsn)
    rd = reader.cursor()
    rd.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
    rd.execute("SET TRANSACTION SNAPSHOT %s", (snapshot_name,))
    snapshot_count = 0
    for t in TABLES:
        for ev in snapshot_rows(rd, t, opts, fmt):
            (apply_v2 if fmt == 2 else apply_v3)(model, ev)
            snapshot_count += 1
    reader.commit()
    reader.close()

    time.sleep(0.3 + rnd.random() * 0.5)
    stop.set()
    for w in writers:
        w.join()
    if errors:
        raise RuntimeError(f"writer failed: {errors}")
    a.execute("SELECT pg_logical_emit_message(true, %s, 'x')", (END_PREFIX,))

    # Stream from the slot's consistent point until the end marker.
    options = dict(zip(opts[::2], opts[1::2]))
    rcur.start_replication(slot_name=slot, decode=True, options=options)
    reassembler = Reassembler()
    streamed = 0
    done = False
    while not done:
        msg = rcur.read_message()
        if msg is None:
            time.sleep(0.01)
            continue
        ev = json.loads(msg.payload)
        if fmt == 2:
            for _xid, changes in reassembler.feed(ev):
                for c in changes:
                    if c["action"] == "M" and c["prefix"] == END_PREFIX:
                        done = True
                    elif c["action"] in ("I", "U", "D"):
                        apply_v2(model, c)
                        streamed += 1
        else:
            if ev.get("op") == "m" and ev["message"]["prefix"] == END_PREFIX:
                done = True
            elif ev.get("op") in ("c", "u", "d"):
                apply_v3(model, ev)
                streamed += 1
        msg.cursor.send_feedback(flush_lsn=msg.data_start)
    repl.close()
    # The walsender exits shortly after its connection closes.
    for _ in range(200):
        a.execute("SELECT active FROM pg_replication_slots WHERE slot_name = %s", (slot,))
        if not a.fetchone()[0]:
            break
        time.sleep(0.05)
    a.execute("SELECT pg_drop_replication_slot(%s)", (slot,))

    # The tables now: their keys by plain SQL, their rows as waljson writes them.
    for t in TABLES:
        a.execute(f"SELECT id FROM {t}")
        keys = {r[0] for r in a.fetchall()}
        final = {}
        for ev in snapshot_rows(a, t, opts, fmt):
            row = {c["name"]: c["value"] for c in ev["columns"]} if fmt == 2 else ev["after"]
            final[row["id"]] = row
        if set(final) != keys:
            raise AssertionError(f"{t}: the final snapshot's keys differ from the table's")
        if model[t] != final:
            missing = sorted(set(final) - set(model[t]))[:5]
            extra = sorted(set(model[t]) - set(final))[:5]
            changed = sorted(k for k in set(final) & set(model[t]) if final[k] != model[t][k])[:5]
            raise AssertionError(f"{t}: rebuilt rows differ: missing {missing}, extra {extra}, different {changed}")
    admin.close()
    return snapshot_count, streamed, consistent_point


def main():
    rounds, seed = int(sys.argv[1]), int(sys.argv[2])
    dsn = ""
    failures = 0
    for i in range(rounds):
        for fmt in (2, 3):
            s = seed + i
            try:
                snap, streamed, point = one_round(dsn, s, fmt)
                print(f"ok   round {i} format {fmt} (seed {s}): {snap} snapshot rows + {streamed} streamed changes "
                      f"from {point} rebuild the tables", flush=True)
            except (Twice, AssertionError, RuntimeError, psycopg2.Error) as e:
                failures += 1
                print(f"FAIL round {i} format {fmt} (seed {s}): {e}", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
