#!/usr/bin/env python3
"""Differential test of publication-names against pgoutput.

For random tables (plain, REPLICA IDENTITY FULL, partitioned with partitions
whose attribute numbers differ from the root's), random publications (tables,
schemas or all tables; publish actions; row filters; column lists;
publish_via_partition_root) and random DML, the changes waljson writes
(format 2) must equal what pgoutput sends on a slot created at the same
point with the same publications: table, action, and the new row's and the
old key's column values. pgoutput's binary protocol (version 1) is decoded
here. An ERROR (different column lists) must be the same ERROR in both.

    pubdiff.py CASES SEED      (connects with the PG* environment variables)
"""
import json
import random
import struct
import sys

import psycopg2

from roundtrip import to_text  # a format-2 value as the type's text output

TYPES = [
    ("int", lambda r: str(r.randint(-5, 120))),
    ("bigint", lambda r: str(r.randint(-10**12, 10**12))),
    ("text", lambda r: "'" + r.choice(["a", "b", "draft", "live", "x y", "é", "O'Neil".replace("'", "''")]) + "'"),
    ("boolean", lambda r: r.choice(["true", "false"])),
    ("numeric", lambda r: r.choice(["1.50", "-2", "100.000", "0.001"])),
]


def filter_for(r, col, typ):
    if typ in ("int", "bigint", "numeric"):
        return f"({col} {r.choice(['>', '<', '<>', '>='])} {r.randint(0, 100)})"
    if typ == "text":
        return r.choice([f"({col} <> 'draft')", f"({col} IS NOT NULL AND {col} < 'm')", f"({col} = 'live')"])
    return r.choice([f"({col})", f"(NOT {col})", f"({col} IS TRUE)"])


class Case:
    def __init__(self, r, n):
        self.r = r
        self.schema = f"pd_{n}"
        self.tables = {}  # name -> [(col, type)], partitioned roots included
        self.leaves = []  # tables DML goes to (partitioned roots route to their partitions)
        self.ddl = [f"CREATE SCHEMA {self.schema}"]
        self.pubs = []
        # Columns row filters read: updates favour them, so that rows move
        # in and out of the filters (UPDATE made INSERT or DELETE).
        self.hot = set()

    def table(self, name, ncols, full):
        cols = [("id", "int")] + [(f"c{i}", self.r.choice(TYPES)[0]) for i in range(1, ncols + 1)]
        q = f"{self.schema}.{name}"
        self.ddl.append(f"CREATE TABLE {q} (" + ", ".join(f"{c} {t}" for c, t in cols) + ", PRIMARY KEY (id))")
        if full:
            self.ddl.append(f"ALTER TABLE {q} REPLICA IDENTITY FULL")
        self.tables[name] = cols
        self.leaves.append(name)

    def partitioned(self, name):
        cols = [("id", "int"), ("region", "text"), ("v", "int"), ("note", "text")]
        q = f"{self.schema}.{name}"
        self.ddl += [
            f"CREATE TABLE {q} (id int, region text, v int, note text, PRIMARY KEY (id, region)) PARTITION BY LIST (region)",
            f"CREATE TABLE {q}_eu PARTITION OF {q} FOR VALUES IN ('eu')",
            # Attached later, columns in another order and a dropped one.
            f"CREATE TABLE {q}_us (gone int, note text, v int, region text NOT NULL, id int NOT NULL)",
            f"ALTER TABLE {q}_us DROP COLUMN gone",
            f"ALTER TABLE {q} ATTACH PARTITION {q}_us FOR VALUES IN ('us')",
        ]
        if self.r.random() < 0.5:
            for t in (name, f"{name}_eu", f"{name}_us"):
                self.ddl.append(f"ALTER TABLE {self.schema}.{t} REPLICA IDENTITY FULL")
        self.tables[name] = cols
        self.tables[f"{name}_eu"] = cols
        self.tables[f"{name}_us"] = [("note", "text"), ("v", "int"), ("region", "text"), ("id", "int")]
        self.leaves.append(name)

    def publication(self, i):
        r = self.r
        name = f"{self.schema}_p{i}"
        actions = [a for a in ("insert", "update", "delete", "truncate") if r.random() < 0.75] or ["insert"]
        opts = [f"publish = '{', '.join(actions)}'"]
        if r.random() < 0.4:
            opts.append("publish_via_partition_root = true")
        kind = r.random()
        if kind < 0.1:
            target = "ALL TABLES"
        elif kind < 0.2:
            target = f"TABLES IN SCHEMA {self.schema}"
        else:
            items = []
            for t in r.sample(sorted(self.tables), r.randint(1, min(3, len(self.tables)))):
                cols = self.tables[t]
                item = f"{self.schema}.{t}"
                if r.random() < 0.25:
                    keep = ["id"] + (["region"] if any(c == "region" for c, _ in cols) else [])
                    keep += [c for c, _ in cols if c not in keep and r.random() < 0.5]
                    item += " (" + ", ".join(keep) + ")"
                if r.random() < 0.5:
                    c, typ = r.choice(cols)
                    item += " WHERE " + filter_for(r, c, typ)
                    self.hot.add((t, c))
                    # A partition's rows are changed through its root too.
                    self.hot.add((t.split("_")[0], c))
                items.append(item)
            target = "TABLE " + ", ".join(items)
        self.ddl.append(f"CREATE PUBLICATION {name} FOR {target} WITH ({', '.join(opts)})")
        self.pubs.append(name)

    def value(self, typ):
        return next(g for t, g in TYPES if t == typ)(self.r)

    def dml(self):
        r = self.r
        t = r.choice(self.leaves)
        cols = self.tables[t]
        q = f"{self.schema}.{t}"
        k = r.random()
        if k < 0.45:
            vals = []
            for c, typ in cols:
                if c == "id":
                    vals.append(str(r.randint(1, 40)))
                elif c == "region":
                    vals.append(r.choice(["'eu'", "'us'"]))
                else:
                    vals.append("NULL" if r.random() < 0.15 else self.value(typ))
            return f"INSERT INTO {q} ({', '.join(c for c, _ in cols)}) VALUES ({', '.join(vals)}) ON CONFLICT DO NOTHING"
        if k < 0.55:
            return f"UPDATE {q} SET id = id + {r.choice([-30, 30, 45])} WHERE id % {r.randint(2, 5)} = {r.randint(0, 1)}"
        if k < 0.8:
            hot = [ct for ct in cols if (t, ct[0]) in self.hot and ct[0] not in ("id", "region")]
            plain = [ct for ct in cols if ct[0] not in ("id", "region")] or cols
            c, typ = r.choice(hot if hot and r.random() < 0.7 else plain)
            v = "NULL" if r.random() < 0.1 else self.value(typ)
            return f"UPDATE {q} SET {c} = {v} WHERE id % {r.randint(2, 5)} = {r.randint(0, 1)}"
        if k < 0.97:
            return f"DELETE FROM {q} WHERE id % {r.randint(3, 7)} = 0"
        return f"TRUNCATE {q}"


def cstring(b, i):
    j = b.index(0, i)
    return b[i:j].decode(), j + 1


def tuple_data(b, i):
    (n,) = struct.unpack_from(">h", b, i)
    i += 2
    out = []
    for _ in range(n):
        kind = chr(b[i])
        i += 1
        if kind == "t":
            (ln,) = struct.unpack_from(">i", b, i)
            i += 4
            out.append(("t", b[i:i + ln].decode()))
            i += ln
        else:
            out.append((kind, None))
    return out, i


def pgoutput_events(cur, slot, pubs):
    cur.execute("SELECT data FROM pg_logical_slot_peek_binary_changes(%s, NULL, NULL, 'proto_version', '1', 'publication_names', %s)",
                (slot, ",".join(pubs)))
    rels = {}
    events = []
    for (data,) in cur.fetchall():
        b = bytes(data)
        tag = chr(b[0])
        if tag == "R":
            (relid,) = struct.unpack_from(">I", b, 1)
            ns, i = cstring(b, 5)
            name, i = cstring(b, i)
            i += 1  # replica identity
            (ncols,) = struct.unpack_from(">h", b, i)
            i += 2
            cols = []
            for _ in range(ncols):
                flags = b[i]
                cname, i = cstring(b, i + 1)
                i += 8
                cols.append((cname, flags & 1))
            rels[relid] = (ns, name, cols)
        elif tag in "IUD":
            (relid,) = struct.unpack_from(">I", b, 1)
            ns, name, cols = rels[relid]
            i = 5
            new = old = None
            while i < len(b):
                sub = chr(b[i])
                row, i = tuple_data(b, i + 1)
                named = {c: v for (c, key), (kind, v) in zip(cols, row) if kind != "u"}
                if sub == "N":
                    new = named
                elif sub == "K":
                    old = {c: v for (c, key), (kind, v) in zip(cols, row) if key}
                else:
                    old = named
            if tag == "U" and old is None:
                # Key unchanged: no old tuple; format 2 takes the key from the new row.
                old = {c: new[c] for c, key in cols if key and c in new}
            events.append((tag, ns, name, new, old))
        elif tag == "T":
            (nrels,) = struct.unpack_from(">i", b, 1)
            for k in range(nrels):
                (relid,) = struct.unpack_from(">I", b, 6 + 4 * k)
                ns, name, _ = rels[relid]
                events.append(("T", ns, name, None, None))
    return events


def waljson_events(cur, slot, pubs):
    cur.execute("SELECT data FROM pg_logical_slot_peek_changes(%s, NULL, NULL, 'format-version', '2', 'include-transaction', '0',"
                " 'include-types', '0', 'publication-names', %s)", (slot, ",".join(pubs)))
    events = []
    for (data,) in cur.fetchall():
        m = json.loads(data, parse_int=str, parse_float=str)
        if m["action"] not in "IUDT":
            continue
        new = {c["name"]: to_text(c["value"]) for c in m["columns"]} if "columns" in m else None
        old = {c["name"]: to_text(c["value"]) for c in m["identity"]} if "identity" in m else None
        if m["action"] == "I":
            old = None
        events.append((m["action"], m["schema"], m["table"], new, old))
    return events


def run(cases, seed):
    conn = psycopg2.connect(dbname="postgres")
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SET client_min_messages = error")
    passed = failed = 0
    totals = {"events": 0, "errors": 0}
    for n in range(cases):
        r = random.Random(seed * 1000 + n)
        case = Case(r, n)
        for t in range(r.randint(1, 3)):
            case.table(f"t{t}", r.randint(1, 4), r.random() < 0.5)
        if r.random() < 0.7:
            case.partitioned("part")
        for i in range(r.randint(1, 3)):
            case.publication(i)
        kept = []
        for stmt in case.ddl:
            try:
                cur.execute(stmt)
                kept.append(stmt)
            except psycopg2.Error:
                # A combination PostgreSQL refuses (a row filter on a
                # partitioned table not published via its root, ...).
                if not stmt.startswith("CREATE PUBLICATION"):
                    raise
                case.pubs.remove(stmt.split()[2])
        case.ddl = kept
        if not case.pubs:
            case.ddl.append(f"CREATE PUBLICATION {case.schema}_all FOR TABLES IN SCHEMA {case.schema}")
            cur.execute(case.ddl[-1])
            case.pubs.append(f"{case.schema}_all")
        cur.execute("SELECT pg_create_logical_replication_slot('pd_waljson', 'waljson'), pg_create_logical_replication_slot('pd_pgoutput', 'pgoutput')")
        sqls = []
        for _ in range(r.randint(10, 40)):
            stmts = [case.dml() for _ in range(r.randint(1, 4))]
            try:
                cur.execute("BEGIN; " + "; ".join(stmts) + "; COMMIT")
                sqls.extend(stmts)
            except psycopg2.Error:
                # The publisher refuses UPDATE/DELETE a publication cannot
                # replicate (replica identity); nothing is decoded for it.
                cur.execute("ROLLBACK")
        if r.random() < 0.3:
            # A publication changed while the slot decodes.
            stmt = f"ALTER PUBLICATION {case.pubs[0]} SET (publish = 'insert')"
            cur.execute(stmt)
            sqls.append(stmt)
            for _ in range(5):
                s = case.dml()
                try:
                    cur.execute(s)
                    sqls.append(s)
                except psycopg2.Error:
                    pass
        results = []
        for fn, slot in ((waljson_events, "pd_waljson"), (pgoutput_events, "pd_pgoutput")):
            try:
                results.append(("ok", fn(cur, slot, case.pubs)))
            except psycopg2.Error as e:
                results.append(("error", e.pgerror.split("\n")[0] if e.pgerror else str(e)))
        mine, theirs = results
        if mine == theirs:
            passed += 1
            if mine[0] == "ok":
                totals["events"] += len(mine[1])
            else:
                totals["errors"] += 1
        else:
            failed += 1
            print(f"FAIL case {n} (seed {seed}): publications {case.pubs}")
            if mine[0] != theirs[0]:
                print(f"  waljson: {mine}\n  pgoutput: {theirs}")
            else:
                for k in range(max(len(mine[1]), len(theirs[1]))):
                    a = mine[1][k] if k < len(mine[1]) else None
                    b = theirs[1][k] if k < len(theirs[1]) else None
                    if a != b:
                        print(f"  first difference at event {k}:\n    waljson  {a}\n    pgoutput {b}")
                        break
            print("  DDL:\n    " + ";\n    ".join(case.ddl))
            print("  DML:\n    " + ";\n    ".join(sqls))
        cur.execute("SELECT pg_drop_replication_slot('pd_waljson'), pg_drop_replication_slot('pd_pgoutput')")
        for p in case.pubs:
            cur.execute(f"DROP PUBLICATION {p}")
        cur.execute(f"DROP SCHEMA {case.schema} CASCADE")
    print(f"{cases} cases: {passed} passed, {failed} failed ({totals['events']} changes compared, "
          f"{totals['errors']} cases where both raised the same ERROR)")
    return failed == 0


if __name__ == "__main__":
    sys.exit(0 if run(int(sys.argv[1]), int(sys.argv[2])) else 1)
