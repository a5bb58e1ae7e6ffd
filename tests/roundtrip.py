#!/usr/bin/python3
"""Round-trip property test: replaying waljson's stream rebuilds the table.

For each case (seeded, reproducible): a random table (random column count,
names with quotes, spaces and non-ASCII, types drawn from 33), a random
replica identity (DEFAULT with a primary key, FULL, USING INDEX, NOTHING),
random transactions of inserts, updates (including key changes), deletes and
truncates and logical messages with binary payloads (base64, compared byte
for byte), some rolled back, with NULLs, empty strings, control characters,
emoji, NaN, +-Infinity, -0, extreme numbers and TOASTed values (updates that
touch them and that do not). The stream (format-version 2 with
numeric-data-types-as-string) must parse as strict JSON, and replaying it
must give exactly the table's final contents, value by value against each
type's text output.

With ROUNDTRIP_FORMAT=3 the stream is format version 3 instead, decoded in a
session with random DateStyle, TimeZone, IntervalStyle, extra_float_digits,
bytea_output and lc_monetary, and replayed with jsonb_populate_record into
a copy of the table from a session with other random settings: the copy must
equal the table value by value. Every message validates against its
format's JSON Schema (schema/).

Usage: roundtrip.py CASES [SEED]   (connection from PGHOST/PGPORT/PGUSER)
On failure it prints the seed, the case number and the case's SQL script.
"""
import base64
import json
import os
import random
import re
import sys

import psycopg2

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import schema_check  # noqa: E402

CASES = int(sys.argv[1]) if len(sys.argv) > 1 else 200
SEED = int(sys.argv[2]) if len(sys.argv) > 2 else 20261121
FORMAT = int(os.environ.get("ROUNDTRIP_FORMAT", "2"))

# Session settings that change output text, drawn per case for format 3's
# decoding and replaying sessions.
SETTINGS = {
    "DateStyle": ["ISO, MDY", "SQL, DMY", "Postgres, YMD", "German"],
    "TimeZone": ["UTC", "Asia/Kathmandu", "America/St_Johns", "Pacific/Chatham", "Etc/GMT+12"],
    "IntervalStyle": ["postgres", "postgres_verbose", "sql_standard", "iso_8601"],
    "extra_float_digits": ["-15", "0", "1", "3"],
    "bytea_output": ["hex", "escape"],
    "lc_monetary": ["C", "C.UTF-8"],
}

# a statement of make_case's that emits a logical message: (transactional, payload hex)
MESSAGE = re.compile(r"SELECT pg_logical_emit_message\((true|false), 'rt', '\\x([0-9a-f]*)'::bytea\)$")

BIG = "'" + "x" * 10 + "' || repeat(md5('{k}'), 200)"  # ~6.4 kB, compressible: TOASTed inline
# ~3.8 kB of random hex: does not compress, so it is stored out of line
BIG_EXTERNAL = "(SELECT string_agg(md5(random()::text || g::text), '') FROM generate_series(1, 120) g)"


# type -> list of SQL value expressions (NULL is added for nullable columns)
TYPES = {
    "int2": ["0", "-32768", "32767", "-1", "42"],
    "int4": ["0", "-2147483648", "2147483647", "7"],
    "int8": ["0", "-9223372036854775808", "9223372036854775807", "123456789012"],
    "float4": ["'NaN'", "'Infinity'", "'-Infinity'", "'-0'", "'1.17549435e-38'", "'3.4028235e38'", "'0.1'"],
    "float8": ["'NaN'", "'Infinity'", "'-Infinity'", "'-0'", "'2.2250738585072014e-308'", "'1.7976931348623157e308'", "'0.30000000000000004'", "1e15", "1e-5"],
    "numeric": ["'NaN'", "'Infinity'", "'-Infinity'", "'-0.0'", "'123456789012345678901234567890.123456789'", "'0.000000001'", "'-5'"],
    "numeric(10,3)": ["'NaN'", "1.5", "-9999999.999", "0"],
    "bool": ["true", "false"],
    "text": ["''", "'plain'", "E'quote \" backslash \\\\ slash /'", "E'ctl \\x01\\x02\\x1f \\t\\n\\r\\b\\f'", "'emoji 😀🎉 ⁿ 陿'", "E'del \\x7f'", BIG, BIG_EXTERNAL],
    "varchar(20)": ["''", "'short'", "'ünïcödé'"],
    "char(5)": ["''", "'ab'", "'abcde'"],
    "bytea": ["''::bytea", "'\\x00ff10'::bytea", "decode(repeat('ab', 3000), 'hex')"],
    "date": ["'2020-02-29'", "'infinity'", "'-infinity'", "'4713-01-01 BC'"],
    "time": ["'00:00'", "'23:59:59.999999'"],
    "timestamp": ["'2020-02-29 12:34:56.789'", "'infinity'", "'-infinity'"],
    "timestamptz": ["'2020-02-29 12:34:56.789+05:30'", "'infinity'", "'1970-01-01 00:00:00+00'"],
    "interval": ["'1 year 2 mons 3 days 04:05:06.7'", "'-1 day'", "'0'"],
    "uuid": ["'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", "'00000000-0000-0000-0000-000000000000'"],
    "json": ["'{\"a\": [1, 2.5, \"x\"]}'", "'null'", "'\"str\"'", "'[]'"],
    "jsonb": ["'{\"b\": 1, \"a\": [true, null]}'", "'\"\\\\u0001\"'", "'{}'"],
    "int4[]": ["'{}'", "'{1,NULL,-3}'", "'{{1,2},{3,4}}'"],
    "text[]": ["'{}'", "'{\"a b\",\"c\\\\\"d\",NULL}'", "ARRAY['😀', '']"],
    "inet": ["'192.168.0.1/24'", "'::1'"],
    "cidr": ["'10.0.0.0/8'", "'::/0'"],
    "macaddr": ["'08:00:2b:01:02:03'"],
    "money": ["12.34", "-0.5", "0"],
    "bit(8)": ["B'10101010'", "B'00000000'"],
    "point": ["'(1.5,-2)'", "'(0,0)'"],
    "rt_mood": ["'sad'", "'happy \"quoted\"'"],
    "rt_posint": ["1", "2147483647"],
    "rt_pair": ["'(1,\"x y\")'", "'(,)'"],
    "tsvector": ["'fat cat sat'", "''"],
    "xml": ["'<a href=\"x\">&amp;</a>'", "''"],
}
# types usable in a key (they have btree equality)
KEY_TYPES = ["int4", "int8", "text", "varchar(20)", "uuid", "date", "numeric"]
NAME_PARTS = ["a", "b", "col", "Mixed Case", 'q"uote', "sp ace", "ünï", "数据", "emoji😀", "back\\slash", "tab\tin", "dot.name"]


if FORMAT == 3:
    # A json JSON null reads back as SQL NULL through jsonb_populate_record
    # (README, format 3): not a value that replay can tell apart.
    TYPES["json"] = [v for v in TYPES["json"] if v != "'null'"]


def ident(s):
    return '"' + s.replace('"', '""') + '"'


def make_case(rnd, case_no):
    """Returns (setup SQL list, transactions as (statements, commit?) list, identity)."""
    table = f"rt_{case_no}"
    ncols = rnd.randint(1, 7)
    used = set()
    cols = []
    for i in range(ncols):
        name = rnd.choice(NAME_PARTS) + f"_{i}"
        used.add(name)
        cols.append((name, rnd.choice(list(TYPES))))
    identity = rnd.choice(["default", "full", "index", "nothing"])
    key_type = rnd.choice(KEY_TYPES)
    coldefs = [f"id {key_type} NOT NULL"] + [f"{ident(n)} {t}" for n, t in cols]
    setup = [f"CREATE TABLE {table} ({', '.join(coldefs)})"]
    if identity == "default":
        setup.append(f"ALTER TABLE {table} ADD PRIMARY KEY (id)")
    elif identity == "index":
        setup.append(f"CREATE UNIQUE INDEX {table}_id ON {table} (id)")
        setup.append(f"ALTER TABLE {table} REPLICA IDENTITY USING INDEX {table}_id")
    elif identity == "full":
        setup.append(f"ALTER TABLE {table} REPLICA IDENTITY FULL")
    else:
        setup.append(f"ALTER TABLE {table} REPLICA IDENTITY NOTHING")

    def key_literal(k):
        if key_type in ("int4", "int8", "numeric"):
            return str(k)
        if key_type == "uuid":
            return f"'00000000-0000-0000-0000-{k:012d}'"
        if key_type == "date":
            return f"'2000-01-01'::date + {k}"
        return f"'k{k}'"

    def value(t, k):
        v = rnd.choice(TYPES[t] + ["NULL"])
        return v.format(k=k) if "{k}" in v else v

    txns = []
    next_key = 1
    live = []
    for _ in range(rnd.randint(1, 5)):
        stmts = []
        commit = rnd.random() < 0.85
        for _ in range(rnd.randint(1, 6)):
            if rnd.random() < 0.08:  # a logical message with a binary payload
                size = rnd.choice([0, 1, 2, 3, rnd.randint(4, 64), rnd.randint(65, 3000)])
                payload = rnd.randbytes(size).hex()
                transactional = "true" if rnd.random() < 0.5 else "false"
                stmts.append(f"SELECT pg_logical_emit_message({transactional}, 'rt', '\\x{payload}'::bytea)")
            op = rnd.random()
            if op < 0.5 or not live or identity == "nothing" and op < 0.95:
                k = next_key
                next_key += 1
                vals = [key_literal(k)] + [value(t, k) for _, t in cols]
                stmts.append(f"INSERT INTO {table} VALUES ({', '.join(vals)})")
                live.append(k)
            elif op < 0.75 and identity != "nothing":
                k = rnd.choice(live)
                sets = []
                for n, t in rnd.sample(cols, rnd.randint(0, len(cols))):
                    v = value(t, k)
                    if ("repeat" in v or "string_agg" in v) and rnd.random() < 0.5:
                        continue  # leave TOASTed values alone in some updates
                    sets.append(f"{ident(n)} = {v}")
                if rnd.random() < 0.3:  # key change
                    nk = next_key
                    next_key += 1
                    sets.append(f"id = {key_literal(nk)}")
                    live[live.index(k)] = nk
                if not sets:
                    sets.append("id = id")
                stmts.append(f"UPDATE {table} SET {', '.join(sets)} WHERE id = {key_literal(k)}")
            elif op < 0.95 and identity != "nothing":
                k = rnd.choice(live)
                stmts.append(f"DELETE FROM {table} WHERE id = {key_literal(k)}")
                live.remove(k)
            else:
                stmts.append(f"TRUNCATE {table}")
                live.clear()
        txns.append((stmts, commit))
    return table, cols, identity, setup, txns


def to_text(v):
    """A JSON value as the type's text output (numbers arrive as strings)."""
    if v is None:
        return None
    if v is True:
        return "t"
    if v is False:
        return "f"
    return v


def replay(events, table, colnames, identity, bytea_cols):
    rows = []

    def norm(name, v):
        t = to_text(v)
        if t is not None and name in bytea_cols:
            t = "\\x" + t
        return t

    def matches(row, ident_cols):
        return all(row.get(c["name"]) == norm(c["name"], c["value"]) for c in ident_cols)

    for e in events:
        if e.get("table") != table:
            continue
        a = e["action"]
        if a == "I":
            rows.append({c["name"]: norm(c["name"], c["value"]) for c in e["columns"]})
        elif a == "U":
            for i, r in enumerate(rows):
                if matches(r, e["identity"]):
                    for c in e["columns"]:
                        r[c["name"]] = norm(c["name"], c["value"])
                    break
            else:
                raise AssertionError(f"UPDATE of a row not in the model: {e}")
        elif a == "D":
            for i, r in enumerate(rows):
                if matches(r, e["identity"]):
                    del rows[i]
                    break
            else:
                raise AssertionError(f"DELETE of a row not in the model: {e}")
        elif a == "T":
            rows.clear()
    return rows


def set_random(cur, rnd):
    """Applies random output-changing settings to a session; returns them."""
    chosen = {k: rnd.choice(v) for k, v in SETTINGS.items()}
    for k, v in chosen.items():
        cur.execute("SELECT set_config(%s, %s, false)", (k, v))
    return chosen


def replay_v3(cur, events, raw, table, copy):
    """Applies format 3's events of `table` to `copy` with jsonb_populate_record
    (each from the message's own text: Python's floats would round numbers)."""
    for e, text in zip(events, raw):
        src = e.get("source", {})
        if src.get("table") != table or e.get("op") not in ("c", "u", "d", "t"):
            continue
        op = e["op"]
        if op == "c":
            cur.execute(f"INSERT INTO {copy} SELECT * FROM jsonb_populate_record(NULL::{copy}, (%s::jsonb)->'after')", (text,))
        elif op == "u":
            # No old row in the WAL when a DEFAULT or USING INDEX key did not change.
            old = "before" if e["before"] is not None else "after"
            sets = ", ".join(f"{ident(c)} = r.{ident(c)}" for c in e["after"])
            cur.execute(
                f"UPDATE {copy} c SET {sets} FROM jsonb_populate_record(NULL::{copy}, (%s::jsonb)->'after') r, "
                f"jsonb_populate_record(NULL::{copy}, (%s::jsonb)->'{old}') o WHERE c.id = o.id",
                (text, text),
            )
            if cur.rowcount != 1:
                raise AssertionError(f"UPDATE of a row not in the copy: {text[:500]}")
        elif op == "d":
            cur.execute(
                f"DELETE FROM {copy} c USING jsonb_populate_record(NULL::{copy}, (%s::jsonb)->'before') o WHERE c.id = o.id",
                (text,),
            )
            if cur.rowcount != 1:
                raise AssertionError(f"DELETE of a row not in the copy: {text[:500]}")
        else:
            cur.execute(f"TRUNCATE {copy}")


def strict_json(text):
    def reject(c):
        raise ValueError("non-standard JSON constant " + c)

    return json.loads(text, parse_constant=reject)


def main():
    rnd = random.Random(SEED)
    conn = psycopg2.connect(dbname="postgres")
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SET client_min_messages = error")
    for ddl in (
        "CREATE TYPE rt_mood AS ENUM ('sad', 'happy \"quoted\"')",
        "CREATE DOMAIN rt_posint AS int CHECK (VALUE > 0)",
        "CREATE TYPE rt_pair AS (x int, y text)",
    ):
        try:
            cur.execute(ddl)
        except psycopg2.errors.DuplicateObject:
            pass
    failures = 0
    messages = 0
    for case_no in range(CASES):
        table, cols, identity, setup, txns = make_case(rnd, case_no)
        script = setup + [
            ("BEGIN; " + "; ".join(s) + ("; COMMIT" if c else "; ROLLBACK")) for s, c in txns
        ]
        try:
            cur.execute(f"DROP TABLE IF EXISTS {table}")
            for s in setup:
                cur.execute(s)
            cur.execute("SELECT pg_create_logical_replication_slot('rt', 'waljson')")
            # logical messages expected, in stream order per kind: transactional
            # ones of committed transactions, non-transactional ones always
            sent = {True: [], False: []}
            for stmts, commit in txns:
                in_txn = []
                try:
                    cur.execute("BEGIN")
                    for s in stmts:
                        cur.execute(s)
                        m = MESSAGE.match(s)
                        if m:
                            (in_txn if m.group(1) == "true" else sent[False]).append(m.group(2))
                    cur.execute("COMMIT" if commit else "ROLLBACK")
                    if commit:
                        sent[True] += in_txn
                except psycopg2.Error:
                    cur.execute("ROLLBACK")
            # Decoding reads only flushed WAL, and neither a non-transactional
            # message nor a rollback flushes it (the WAL writer does, soon;
            # PostgreSQL 17 added a flush argument): the commit of a transaction
            # that wrote WAL does, here one with a message of another prefix.
            cur.execute("SELECT pg_logical_emit_message(true, 'flush', '')")
            names = ["id"] + [n for n, _ in cols]
            if FORMAT == 3:
                decoding_settings = set_random(cur, rnd)
                cur.execute("SELECT data FROM pg_logical_slot_get_changes('rt', NULL, NULL, 'format-version', '3')")
            else:
                cur.execute(
                    "SELECT data FROM pg_logical_slot_get_changes('rt', NULL, NULL, 'format-version', '2', "
                    "'numeric-data-types-as-string', '1', 'include-transaction', '0', "
                    "'message-content-encoding', 'base64')"
                )
            raw = [r[0] for r in cur.fetchall()]
            problems = schema_check.check(FORMAT, raw)
            if problems:
                raise AssertionError("schema: " + "; ".join(problems[:3]))
            events = [strict_json(r) for r in raw]
            messages += len(events)
            got = {True: [], False: []}
            for e in events:
                if FORMAT == 3 and e.get("op") == "m" and e["message"]["prefix"] == "rt":
                    transactional = e["source"]["txId"] is not None
                    got[transactional].append(base64.b64decode(e["message"]["content"], validate=True).hex())
                elif FORMAT == 2 and e["action"] == "M" and e["prefix"] == "rt":
                    got[e["transactional"]].append(base64.b64decode(e["content"], validate=True).hex())
            if got != sent:
                raise AssertionError(f"logical messages differ\n  sent: {sent}\n  got:  {got}")
            if FORMAT == 3:
                copy = f"{table}_copy"
                cur.execute(f"DROP TABLE IF EXISTS {copy}")
                cur.execute(f"CREATE TABLE {copy} (LIKE {table})")
                replay_settings = set_random(cur, rnd)
                replay_v3(cur, events, raw, table, copy)
                cur.execute("RESET ALL")
                cur.execute("SET client_min_messages = error")
            else:
                bytea_cols = {n for n, t in cols if t == "bytea"}
                model = replay(events, table, names, identity, bytea_cols)
            # the output function's text (format's %s), not a cast to text, which
            # differs for some types (inet adds the mask, char(n) drops padding);
            # num_nulls, since a composite of NULL fields "IS NULL" but is a value
            outs = [f"CASE WHEN num_nulls({ident(n)}) = 1 THEN NULL ELSE format('%s', {ident(n)}) END" for n in names]
            cur.execute(f"SELECT {', '.join(outs)} FROM {table}")
            actual = [dict(zip(names, r)) for r in cur.fetchall()]
            if FORMAT == 3:
                cur.execute(f"SELECT {', '.join(outs)} FROM {copy}")
                model = [dict(zip(names, r)) for r in cur.fetchall()]
            key = lambda r: json.dumps([r.get(n) for n in names])
            if sorted(map(key, model)) != sorted(map(key, actual)):
                differ = sorted(set(map(key, model)) ^ set(map(key, actual)))
                settings = f"\n  decoded under {decoding_settings}, replayed under {replay_settings}" if FORMAT == 3 else ""
                raise AssertionError(f"replayed contents differ from the table: {differ[:4]}{settings}")
        except Exception as exc:  # report and go on
            failures += 1
            print(f"FAIL seed {SEED} case {case_no} ({identity} identity): {exc}")
            print("  SQL to reproduce:")
            for s in script:
                print("    " + s + ";")
        finally:
            cur.execute("SELECT pg_drop_replication_slot('rt') FROM pg_replication_slots WHERE slot_name = 'rt'")
            cur.execute("RESET ALL")
            cur.execute("SET client_min_messages = error")
            cur.execute(f"DROP TABLE IF EXISTS {table}, {table}_copy")
    print(f"format {FORMAT}: {CASES} cases, {messages} messages, seed {SEED}")
    print(f"roundtrip: {CASES - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
