#!/usr/bin/python3
"""`make bench`: decoding speed of waljson against wal2json, test_decoding and
pgoutput, measured side by side in one throwaway cluster.

For every workload, one slot per plugin configuration is created before the
workload is written; each configuration then decodes the same WAL with
pg_logical_slot_peek_changes (nothing is consumed), interleaved, REPS times
after one untimed warm-up pass.
Reported: min and median seconds, changes/s, output MB/s, and the ratio
waljson / wal2json per format. A floor run (waljson with every table filtered
out) shows the cost of reading the WAL and the reorder buffer alone.
pg_recvlogical runs (best of 3, on copies of one slot) per format and for
pgoutput cover the walsender path.

The `snapshot` workload times waljson.snapshot() (formats 1, 2, 3) reading
a table of a million rows to a client (COPY of the result), against the
same rows turned into JSON by SQL (row_to_json, to_jsonb) and against the
plain COPY that pgoutput's initial table synchronization sends.

Results: a table on stdout and a JSON file (BENCH_OUT, default
target/bench/results.json) for comparing runs.

Sizes scale with BENCH_SCALE (default 1.0 = the sizes in the issue);
BENCH_ONLY=mixed runs only the workloads whose names contain one of its
comma-separated words.
"""
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import psycopg2

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PG_CONFIG = os.environ.get("PG_CONFIG", "/usr/lib/postgresql/15/bin/pg_config")
PGBIN = subprocess.check_output([PG_CONFIG, "--bindir"], text=True).strip()
SCALE = float(os.environ.get("BENCH_SCALE", "1.0"))
REPS = int(os.environ.get("BENCH_REPS", "5"))
RECV_REPS = max(1, min(3, REPS))
# BENCH_ONLY=mixed,wide: only the workloads whose names contain one of these.
ONLY = [w for w in os.environ.get("BENCH_ONLY", "").split(",") if w]
OUT = os.environ.get("BENCH_OUT", os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "bench", "results.json"))


def n(x):
    return max(1, int(x * SCALE))


# name -> (plugin, peek function, options)
CONFIGS = {
    "waljson v2": ("waljson", "text", ["format-version", "2"]),
    "waljson v3": ("waljson", "text", ["format-version", "3"]),
    "wal2json v2": ("wal2json", "text", ["format-version", "2"]),
    "waljson v1": ("waljson", "text", ["format-version", "1", "write-in-chunks", "1"]),
    "wal2json v1": ("wal2json", "text", ["format-version", "1", "write-in-chunks", "1"]),
    "test_decoding": ("test_decoding", "text", []),
    "pgoutput": ("pgoutput", "binary", ["proto_version", "1", "publication_names", "bench_pub"]),
    # A publication whose row filter keeps half of the rows (id % 2 = 0).
    "waljson v2 row filter": ("waljson", "text", ["format-version", "2", "publication-names", "bench_half"]),
    "pgoutput row filter": ("pgoutput", "binary", ["proto_version", "1", "publication_names", "bench_half"]),
    # With streaming on (the 1M-row transaction passes logical_decoding_work_mem
    # and is streamed; the smaller ones are sent at commit as usual).
    "waljson v2 streamed": ("waljson", "text", ["format-version", "2", "stream-changes", "1"]),
    "pgoutput streamed": ("pgoutput", "binary", ["proto_version", "2", "publication_names", "bench_pub", "streaming", "on"]),
    "floor (all filtered)": ("waljson", "text", ["format-version", "2", "filter-tables", "*.*", "include-transaction", "0"]),
}

WORKLOADS = [
    (
        "narrow inserts",
        "CREATE TABLE w_narrow (id int PRIMARY KEY, t text)",
        lambda: [
            f"INSERT INTO w_narrow SELECT g, 'row ' || g FROM generate_series({i * 1000 + 1}, {(i + 1) * 1000}) g"
            for i in range(n(200))
        ],
    ),
    (
        "mixed 8 columns",
        "CREATE TABLE w_mixed (id bigint PRIMARY KEY, i int, t text, ts timestamptz, num numeric, b bool, f float8, j jsonb)",
        lambda: [
            "INSERT INTO w_mixed SELECT g, g % 1000, 'text value ' || g, '2026-01-01'::timestamptz + g * interval '1 s', "
            f"g / 7.0, g % 2 = 0, g * 1.5, jsonb_build_object('k', g, 'v', 'x') FROM generate_series({i * 1000 + 1}, {(i + 1) * 1000}) g"
            for i in range(n(200))
        ]
        + [
            f"UPDATE w_mixed SET i = i + 1, t = t || '!' WHERE id BETWEEN {i * 1000 + 1} AND {(i + 1) * 1000}"
            for i in range(n(50))
        ]
        + [f"DELETE FROM w_mixed WHERE id BETWEEN {i * 1000 + 1} AND {(i + 1) * 1000}" for i in range(n(50), n(50) + n(20))],
    ),
    (
        "wide rows (50 columns)",
        "CREATE TABLE w_wide (id int PRIMARY KEY, "
        + ", ".join(f"c{k} {'int' if k % 3 == 0 else 'text' if k % 3 == 1 else 'numeric'}" for k in range(49))
        + ")",
        lambda: [
            "INSERT INTO w_wide SELECT g, "
            + ", ".join(f"g + {k}" if k % 3 == 0 else f"'v{k} ' || g" if k % 3 == 1 else f"g / {k + 1}.0" for k in range(49))
            + f" FROM generate_series({i * 1000 + 1}, {(i + 1) * 1000}) g"
            for i in range(n(40))
        ],
    ),
    (
        "one 1M-row transaction",
        "CREATE TABLE w_big (id int PRIMARY KEY, t text, n int)",
        lambda: [f"INSERT INTO w_big SELECT g, 'big ' || g, g % 100 FROM generate_series(1, {n(1000000)}) g"],
    ),
    (
        "TOASTed text updates",
        "CREATE TABLE w_toast (id int PRIMARY KEY, doc text, counter int)",
        lambda: [
            f"INSERT INTO w_toast SELECT g, repeat(md5(g::text), 300), 0 FROM generate_series(1, {n(2000)}) g",
            f"UPDATE w_toast SET counter = counter + 1",
            f"UPDATE w_toast SET doc = doc || 'x' WHERE id % 2 = 0",
        ],
    ),
]


def start_cluster(tmp):
    env = dict(os.environ, EXTRA_CONF="shared_buffers = '512MB'\nmax_wal_size = '8GB'\ncheckpoint_timeout = '1h'")
    subprocess.check_call([os.path.join(ROOT, "tools", "cluster.sh"), "start", tmp], env=env, stdout=subprocess.DEVNULL)
    port = open(os.path.join(tmp, "port")).read().strip()
    return {"host": tmp, "port": port, "user": "postgres", "dbname": "postgres"}


def main():
    tmp = tempfile.mkdtemp(prefix="waljson-bench.")
    os.chmod(tmp, 0o755)
    cluster = os.path.join(tmp, "cluster")
    conninfo = start_cluster(cluster)
    results = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "git": subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip(),
        "scale": SCALE,
        "reps": REPS,
        "workloads": [],
    }
    try:
        conn = psycopg2.connect(**conninfo)
        conn.autocommit = True
        cur = conn.cursor()
        # The server's default work_mem (4MB): the SQL function's result
        # spills to a temp file. Storing the result costs per output byte
        # either way (it is most of the time of a large output); measured here,
        # holding it in memory with a large work_mem cost more (a page fault
        # per fresh page), for every plugin.
        for wname, ddl, statements in WORKLOADS:
            if ONLY and not any(o in wname for o in ONLY):
                continue
            cur.execute(ddl)
            cur.execute("DROP PUBLICATION IF EXISTS bench_pub")
            cur.execute("CREATE PUBLICATION bench_pub FOR ALL TABLES")
            cur.execute("DROP PUBLICATION IF EXISTS bench_half")
            cur.execute(f"CREATE PUBLICATION bench_half FOR TABLE {ddl.split()[2]} WHERE ((id % 2) = 0)")
            slots = {}
            for i, (cname, (plugin, _, _)) in enumerate(CONFIGS.items()):
                slot = f"bench_{i}"
                cur.execute("SELECT pg_create_logical_replication_slot(%s, %s)", (slot, plugin))
                slots[cname] = slot
            recv_slots = {}
            for fmt in ("v2", "v1", "v3"):
                for plugin in ("waljson", "wal2json") if fmt != "v3" else ("waljson",):
                    slot = f"recv_{plugin}_{fmt}"
                    cur.execute("SELECT pg_create_logical_replication_slot(%s, %s)", (slot, plugin))
                    recv_slots[(plugin, fmt)] = slot
            cur.execute("SELECT pg_create_logical_replication_slot('recv_pgoutput', 'pgoutput')")
            recv_slots[("pgoutput", "")] = "recv_pgoutput"
            for plugin in ("waljson", "pgoutput"):
                slot = f"recv_{plugin}_row_filter"
                cur.execute("SELECT pg_create_logical_replication_slot(%s, %s)", (slot, plugin))
                recv_slots[(plugin, "row filter")] = slot
            t0 = time.perf_counter()
            for st in statements():
                cur.execute(st)
            load_s = time.perf_counter() - t0
            cur.execute("SELECT pg_current_wal_lsn()")
            end_lsn = cur.fetchone()[0]
            runs = {c: [] for c in CONFIGS}
            sizes = {}
            # rep -1 is an untimed warm-up: the first decode after loading pays
            # for cold caches, which would land on whichever plugin runs first
            for rep in range(-1, REPS):
                for cname, (plugin, kind, opts) in CONFIGS.items():
                    fn = "pg_logical_slot_peek_binary_changes" if kind == "binary" else "pg_logical_slot_peek_changes"
                    q = f"SELECT count(*), coalesce(sum(octet_length(data)), 0) FROM {fn}(%s, %s, NULL" + ", %s" * len(opts) + ")"
                    t0 = time.perf_counter()
                    cur.execute(q, [slots[cname], end_lsn] + opts)
                    rows, nbytes = cur.fetchone()
                    if rep >= 0:
                        runs[cname].append(time.perf_counter() - t0)
                    sizes[cname] = (rows, int(nbytes))
            # changes = rows of test_decoding minus its BEGIN/COMMIT lines
            cur.execute(
                "SELECT count(*) FILTER (WHERE data NOT LIKE 'BEGIN%%' AND data NOT LIKE 'COMMIT%%') "
                "FROM pg_logical_slot_peek_changes(%s, %s, NULL)",
                (slots["test_decoding"], end_lsn),
            )
            changes = cur.fetchone()[0]
            recv = {}
            for (plugin, fmt), slot in recv_slots.items():
                opts = {
                    "v2": ["-o", "format-version=2"],
                    "v1": ["-o", "format-version=1", "-o", "write-in-chunks=1"],
                    "v3": ["-o", "format-version=3"],
                    "": ["-o", "proto_version=1", "-o", "publication_names=bench_pub"],
                    "row filter": ["-o", "format-version=2", "-o", "publication-names=bench_half"] if plugin == "waljson"
                    else ["-o", "proto_version=1", "-o", "publication_names=bench_half"],
                }[fmt]
                # Each run consumes its slot: run on copies, keep the fastest.
                best = None
                for rep in range(RECV_REPS):
                    copy = f"{slot}_run"
                    cur.execute("SELECT pg_copy_logical_replication_slot(%s, %s)", (slot, copy))
                    t0 = time.perf_counter()
                    subprocess.check_call(
                        [os.path.join(PGBIN, "pg_recvlogical"), "-h", conninfo["host"], "-p", conninfo["port"], "-U", "postgres",
                         "-d", "postgres", "--slot", copy, "--start", "--endpos", end_lsn, "--no-loop", "-f", "/dev/null"] + opts
                    )
                    t = time.perf_counter() - t0
                    best = t if best is None else min(best, t)
                    cur.execute("SELECT pg_drop_replication_slot(%s)", (copy,))
                recv[f"{plugin} {fmt}".strip()] = best
            w = {"name": wname, "changes": changes, "load_seconds": round(load_s, 2), "configs": {}, "pg_recvlogical_seconds": {}}
            for cname, times in runs.items():
                mn, med = min(times), statistics.median(times)
                rows, nbytes = sizes[cname]
                w["configs"][cname] = {
                    "min_s": round(mn, 4),
                    "median_s": round(med, 4),
                    "changes_per_s": round(changes / mn),
                    "output_mb": round(nbytes / 1e6, 2),
                    "output_mb_per_s": round(nbytes / 1e6 / mn, 1),
                    "messages": rows,
                }
            for k, v in recv.items():
                w["pg_recvlogical_seconds"][k] = round(v, 3)
            c = w["configs"]
            w["ratio_v2"] = round(c["waljson v2"]["min_s"] / c["wal2json v2"]["min_s"], 3)
            w["ratio_v1"] = round(c["waljson v1"]["min_s"] / c["wal2json v1"]["min_s"], 3)
            w["ratio_v2_to_pgoutput"] = round(c["waljson v2"]["min_s"] / c["pgoutput"]["min_s"], 3)
            w["ratio_row_filter_to_pgoutput"] = round(c["waljson v2 row filter"]["min_s"] / c["pgoutput row filter"]["min_s"], 3)
            r = w["pg_recvlogical_seconds"]
            w["ratio_row_filter_to_pgoutput_walsender"] = round(r["waljson row filter"] / r["pgoutput row filter"], 3)
            w["ratio_streamed_to_pgoutput"] = round(c["waljson v2 streamed"]["min_s"] / c["pgoutput streamed"]["min_s"], 3)
            w["ratio_v3_to_v2"] = round(c["waljson v3"]["min_s"] / c["waljson v2"]["min_s"], 3)
            w["ratio_v3_to_wal2json_v2"] = round(c["waljson v3"]["min_s"] / c["wal2json v2"]["min_s"], 3)
            # The plugins' own cost: time above the floor (reading the WAL and
            # the reorder buffer, which every plugin pays alike).
            floor = c["floor (all filtered)"]["min_s"]
            net = lambda a, b: round(max(c[a]["min_s"] - floor, 0) / max(c[b]["min_s"] - floor, 1e-9), 3)
            w["net_ratio_v2"] = net("waljson v2", "wal2json v2")
            w["net_ratio_v1"] = net("waljson v1", "wal2json v1")
            results["workloads"].append(w)
            print_workload(w)
            for slot in list(slots.values()) + list(recv_slots.values()):
                cur.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
            cur.execute("CHECKPOINT")
        if not ONLY or any(o in "snapshot" for o in ONLY):
            results["snapshot"] = snapshot_bench(cur)
        conn.close()
    finally:
        subprocess.call([os.path.join(ROOT, "tools", "cluster.sh"), "destroy", cluster], stdout=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(results, f, indent=2)
    print(f"\nresults written to {OUT}")
    print("ratios waljson / wal2json of min times (below 1 is faster); 'net' = time above the floor:")
    if "snapshot" in results:
        w = results["snapshot"]
        print(f"  snapshot ({w['rows']} rows): waljson.snapshot v2 / row_to_json {w['ratio_v2_to_row_to_json']:.2f}, "
              f"v3 / to_jsonb {w['ratio_v3_to_to_jsonb']:.2f}, v2 / plain COPY {w['ratio_v2_to_copy']:.2f}")
    for w in results["workloads"]:
        print(f"  {w['name']:<26} v2 {w['ratio_v2']:.2f} (net {w['net_ratio_v2']:.2f})   v1 {w['ratio_v1']:.2f} (net {w['net_ratio_v1']:.2f})"
              f"   waljson v2 / pgoutput {w['ratio_v2_to_pgoutput']:.2f}"
              f"   v3 / waljson v2 {w['ratio_v3_to_v2']:.2f}, v3 / wal2json v2 {w['ratio_v3_to_wal2json_v2']:.2f}"
              f"   row filter (half): waljson v2 / pgoutput {w['ratio_row_filter_to_pgoutput']:.2f}"
              f" (walsender {w['ratio_row_filter_to_pgoutput_walsender']:.2f})"
              f"   streamed: waljson v2 / pgoutput {w['ratio_streamed_to_pgoutput']:.2f}")


class Discard:
    """A file that counts what COPY writes to it."""

    def __init__(self):
        self.bytes = 0

    def write(self, b):
        self.bytes += len(b)


SNAPSHOT_QUERIES = {
    "waljson.snapshot v2": "COPY (SELECT s FROM waljson.snapshot('bench_snap', 'format-version', '2') s) TO STDOUT",
    "waljson.snapshot v3": "COPY (SELECT s FROM waljson.snapshot('bench_snap', 'format-version', '3') s) TO STDOUT",
    "waljson.snapshot v1": "COPY (SELECT s FROM waljson.snapshot('bench_snap', 'format-version', '1') s) TO STDOUT",
    "row_to_json (SQL)": "COPY (SELECT row_to_json(r) FROM bench_snap r) TO STDOUT",
    "to_jsonb (SQL)": "COPY (SELECT to_jsonb(r) FROM bench_snap r) TO STDOUT",
    "COPY (pgoutput table sync)": "COPY bench_snap TO STDOUT",
}


def snapshot_bench(cur):
    rows = n(1_000_000)
    cur.execute("CREATE EXTENSION IF NOT EXISTS waljson")
    cur.execute("DROP TABLE IF EXISTS bench_snap")
    cur.execute("CREATE TABLE bench_snap (id bigint PRIMARY KEY, t text, n numeric, ts timestamptz, j jsonb, b bool)")
    t0 = time.perf_counter()
    cur.execute(
        "INSERT INTO bench_snap SELECT g, md5(g::text), g * 1.5, '2026-01-01'::timestamptz + g * interval '1 second', "
        f"jsonb_build_object('g', g, 'h', 'x'), g % 2 = 0 FROM generate_series(1, {rows}) g"
    )
    cur.execute("VACUUM ANALYZE bench_snap")
    load_s = time.perf_counter() - t0
    runs = {k: [] for k in SNAPSHOT_QUERIES}
    sizes = {}
    for rep in range(-1, REPS):
        for name, q in SNAPSHOT_QUERIES.items():
            sink = Discard()
            t0 = time.perf_counter()
            cur.copy_expert(q, sink)
            if rep >= 0:
                runs[name].append(time.perf_counter() - t0)
            sizes[name] = sink.bytes
    w = {"name": "snapshot", "rows": rows, "load_seconds": round(load_s, 2), "configs": {}}
    for name, times in runs.items():
        mn = min(times)
        w["configs"][name] = {
            "min_s": round(mn, 4),
            "median_s": round(statistics.median(times), 4),
            "rows_per_s": round(rows / mn),
            "output_mb": round(sizes[name] / 1e6, 2),
        }
    c = w["configs"]
    ratio = lambda a, b: round(c[a]["min_s"] / c[b]["min_s"], 3)
    w["ratio_v2_to_row_to_json"] = ratio("waljson.snapshot v2", "row_to_json (SQL)")
    w["ratio_v3_to_to_jsonb"] = ratio("waljson.snapshot v3", "to_jsonb (SQL)")
    w["ratio_v2_to_copy"] = ratio("waljson.snapshot v2", "COPY (pgoutput table sync)")
    print(f"\n== snapshot: {rows} rows (loaded in {w['load_seconds']} s), read to the client with COPY")
    print(f"  {'query':<28}{'min s':>9}{'median s':>10}{'rows/s':>11}{'MB out':>9}")
    for name, r in c.items():
        print(f"  {name:<28}{r['min_s']:>9.3f}{r['median_s']:>10.3f}{r['rows_per_s']:>11}{r['output_mb']:>9.1f}")
    print(f"  ratios: waljson.snapshot v2 / row_to_json {w['ratio_v2_to_row_to_json']:.2f}, "
          f"v3 / to_jsonb {w['ratio_v3_to_to_jsonb']:.2f}, v2 / plain COPY {w['ratio_v2_to_copy']:.2f}")
    cur.execute("DROP TABLE bench_snap")
    return w


def print_workload(w):
    print(f"\n== {w['name']}: {w['changes']} changes (loaded in {w['load_seconds']} s)")
    print(f"  {'plugin':<22}{'min s':>9}{'median s':>10}{'changes/s':>12}{'MB out':>9}{'MB/s':>8}")
    for cname, c in w["configs"].items():
        print(f"  {cname:<22}{c['min_s']:>9.3f}{c['median_s']:>10.3f}{c['changes_per_s']:>12}{c['output_mb']:>9.1f}{c['output_mb_per_s']:>8.1f}")
    print(f"  ratio waljson/wal2json: v2 {w['ratio_v2']:.2f} (net of floor {w['net_ratio_v2']:.2f}), "
          f"v1 {w['ratio_v1']:.2f} (net {w['net_ratio_v1']:.2f}); waljson v2 / pgoutput {w['ratio_v2_to_pgoutput']:.2f}; "
          f"v3 / waljson v2 {w['ratio_v3_to_v2']:.2f}, v3 / wal2json v2 {w['ratio_v3_to_wal2json_v2']:.2f}; "
          f"row filter keeping half: waljson v2 / pgoutput {w['ratio_row_filter_to_pgoutput']:.2f}; "
          f"streaming on: waljson v2 / pgoutput {w['ratio_streamed_to_pgoutput']:.2f}")
    r = w["pg_recvlogical_seconds"]
    print("  pg_recvlogical (walsender): " + ", ".join(f"{k} {v:.2f} s" for k, v in r.items()))


if __name__ == "__main__":
    sys.exit(main())
