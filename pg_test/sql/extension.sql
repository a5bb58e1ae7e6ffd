-- CREATE EXTENSION waljson: version(), json_schema(), and snapshot(), whose
-- rows must be what the stream writes for an INSERT of each row (format 3:
-- the same `after` in a read event), in every format and under the
-- options, publications (column lists, row filters) and partitions.
\set VERBOSITY terse
SET synchronous_commit = on;
CREATE EXTENSION waljson;
SELECT extversion = waljson.version() AS version_matches, waljson.version() ~ '^[0-9]+\.[0-9]+\.[0-9]+$' AS semver
  FROM pg_extension WHERE extname = 'waljson';
SELECT n.nspname, p.proname, pg_get_function_identity_arguments(p.oid) AS args, p.proretset, p.provolatile
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
  WHERE n.nspname = 'waljson' ORDER BY p.proname;

-- The schemas: the repository's documents (their titles and kinds here;
-- tests/extension.sh compares them whole with the files).
SELECT f, s->>'$schema' AS dialect, s->>'title' AS title
  FROM generate_series(1, 3) f, waljson.json_schema(f) s;
SELECT waljson.json_schema(NULL) IS NULL AS null_in_null_out;
SELECT waljson.json_schema(0);
SELECT waljson.json_schema(4);

-- A snapshot is captured for the JSON Schema check like the stream (w()).
CREATE FUNCTION snap(tbl regclass, VARIADIC opts text[] DEFAULT '{}') RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  dir text := current_setting('waljson_test.capture_dir', true);
BEGIN
  RETURN QUERY SELECT s FROM waljson.snapshot(tbl, VARIADIC opts) s;
  IF coalesce(dir, '') <> '' THEN
    EXECUTE format('COPY (SELECT %L, s FROM waljson.snapshot(%L::regclass, VARIADIC %L::text[]) s) TO %L (FORMAT csv)',
      array_to_json(opts)::text, tbl, opts, dir || '/' || md5(clock_timestamp()::text || random()::text) || '.csv');
  END IF;
END $$;

-- Values of many kinds, a TOASTed one, a dropped column, NULLs.
CREATE TABLE snap_t (id int PRIMARY KEY, n numeric, f float8, b bool, t text, j jsonb, a int[], ts timestamptz,
                     by bytea, gone int, big text);
ALTER TABLE snap_t DROP COLUMN gone;
SELECT slot_name FROM pg_create_logical_replication_slot('snap_slot', 'waljson');
INSERT INTO snap_t VALUES
  (1, 1.50, 'NaN', true, 'a "q" \ é', '{"k": [1, null]}', '{1,NULL,3}', '2024-01-01 12:00+00', '\x00ff', NULL),
  (2, NULL, -0.0, NULL, NULL, NULL, NULL, 'infinity', NULL, repeat('x', 100000)),
  (3, 123456789012345678901234567890.123, 1e300, false, '', '[]', '{}', '1999-12-31 23:59:59.999999+00', '\x', 'short');

-- Formats 1 (documents of batch-size rows, or chunks) and 2, and format 3's
-- `after`: exactly what the stream wrote for these INSERTs, under each
-- option set (the transaction's own keys aside: xid, timestamp, lsn).
CREATE FUNCTION same_as_stream(VARIADIC opts text[]) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  stream text[];
  snapshot text[];
BEGIN
  SELECT array_agg(data ORDER BY n) INTO stream
    FROM pg_logical_slot_peek_changes('snap_slot', NULL, NULL, VARIADIC opts || ARRAY['include-transaction', '0'])
         WITH ORDINALITY AS c(lsn, xid, data, n)
   WHERE data LIKE '{"action":"I"%';
  SELECT array_agg(s ORDER BY n) INTO snapshot FROM snap('snap_t', VARIADIC opts) WITH ORDINALITY AS r(s, n);
  RETURN CASE WHEN stream = snapshot THEN format('same %s rows', cardinality(stream))
              ELSE format('DIFFERENT: stream %s, snapshot %s', stream, snapshot) END;
END $$;
SELECT o, same_as_stream(VARIADIC o) FROM (VALUES
  (ARRAY['format-version', '2']),
  (ARRAY['format-version', '2', 'include-type-oids', '1', 'include-typmod', '0', 'include-pk', '1', 'include-not-null', '1',
         'include-column-positions', '1', 'include-default', '1', 'numeric-data-types-as-string', '1']),
  (ARRAY['format-version', '2', 'include-schemas', '0', 'include-types', '0'])) v(o);
-- Transaction keys have no meaning for a snapshot row: left out.
SELECT s FROM snap('snap_t', 'format-version', '2', 'include-xids', '1', 'include-timestamp', '1', 'include-lsn', '1',
                   'include-origin', '1', 'include-types', '0') s WHERE s LIKE '%"value":3}%';
-- Format 1: one document per batch-size rows, the stream's entries.
SELECT regexp_replace(s, 'x{200}x*', '<long>') FROM snap('snap_t', 'batch-size', '2', 'include-types', '0') s;
SELECT regexp_replace(s, 'x{200}x*', '<long>') FROM snap('snap_t', 'write-in-chunks', '1', 'batch-size', '2', 'include-types', '0') s;
SELECT count(*) AS documents, sum(json_array_length(s::json->'change')) AS entries
  FROM snap('snap_t', 'pretty-print', '1') s;
SELECT (SELECT string_agg(data, '') FROM pg_logical_slot_peek_changes('snap_slot', NULL, NULL, 'include-types', '0')
         WHERE data LIKE '{"change":[{"kind":"insert"%')
     = (SELECT string_agg(s, '') FROM snap('snap_t', 'include-types', '0') s) AS v1_same_as_stream;

-- Format 3: read events, the stream's `after`, Debezium's snapshot markers.
SELECT e->>'op' AS op, e->'source'->>'snapshot' AS marker, e->'source'->>'name' AS name, e->'source'->>'table' AS tbl,
       e->'source'->'txId' AS txid, e->'source'->'lsn' AS lsn, e->'transaction' AS txn, e->'before' AS before,
       (e->'source'->>'ts_ms')::bigint = floor(extract(epoch FROM now()) * 1000)::bigint AS ts_is_transaction_start
  FROM snap('snap_t', 'format-version', '3', 'slot-name', 'snap_slot') s, jsonb(s) e;
SELECT (SELECT array_agg(data::jsonb->'after' ORDER BY lsn)
          FROM pg_logical_slot_peek_changes('snap_slot', NULL, NULL, 'format-version', '3')
         WHERE data::jsonb->>'op' = 'c')
     = (SELECT array_agg(s::jsonb->'after') FROM snap('snap_t', 'format-version', '3') s) AS v3_after_same_as_stream;
SELECT count(*) FROM snap('snap_t', 'format-version', '3') s, jsonb(s) e WHERE e->'source'->'name' = 'null';
SELECT pg_drop_replication_slot('snap_slot');

-- Publications: membership, column lists, row filters (for INSERT).
CREATE PUBLICATION snap_cols FOR TABLE snap_t (id, t) WHERE (id > 1);
CREATE PUBLICATION snap_upd FOR TABLE snap_t WITH (publish = 'update');
SELECT s FROM snap('snap_t', 'format-version', '2', 'publication-names', 'snap_cols') s;
SELECT count(*) AS not_published_for_insert FROM snap('snap_t', 'format-version', '2', 'publication-names', 'snap_upd') s;
SELECT count(*) AS both FROM snap('snap_t', 'format-version', '2', 'publication-names', 'snap_cols,snap_upd') s;
-- The table filters and actions of the stream.
SELECT count(*) AS filtered FROM snap('snap_t', 'format-version', '2', 'filter-tables', 'public.snap_t') s;
SELECT count(*) AS added FROM snap('snap_t', 'format-version', '2', 'add-tables', 'public.snap_t') s;
SELECT count(*) AS no_inserts FROM snap('snap_t', 'format-version', '2', 'actions', 'update,delete') s;

-- Partitions: a partitioned table reads its leaves, each reported as the
-- stream reports it (the leaf, or the root with partition-root).
CREATE TABLE snap_p (id int, k text) PARTITION BY LIST (k);
CREATE TABLE snap_p1 PARTITION OF snap_p FOR VALUES IN ('a');
CREATE TABLE snap_p2 PARTITION OF snap_p FOR VALUES IN ('b') PARTITION BY LIST (k);
CREATE TABLE snap_p21 PARTITION OF snap_p2 FOR VALUES IN ('b');
INSERT INTO snap_p VALUES (1, 'a'), (2, 'b'), (3, 'a');
SELECT s FROM snap('snap_p', 'format-version', '2', 'include-types', '0') s ORDER BY s;
SELECT s FROM snap('snap_p', 'format-version', '2', 'include-types', '0', 'partition-root', '1') s ORDER BY s;
SELECT e->'source'->>'table' AS tbl, e->'source'->>'snapshot' AS marker
  FROM snap('snap_p', 'format-version', '3') s, jsonb(s) e ORDER BY e->'after'->>'id';
-- An empty table: no rows, no document.
CREATE TABLE snap_empty (a int);
SELECT count(*) FROM snap('snap_empty') s;

-- Stopping early (LIMIT, a cursor closed or left open at COMMIT) releases
-- the scan: no WARNING about leaked buffers or snapshots.
SELECT count(*) FROM (SELECT waljson.snapshot('snap_t', 'format-version', '2') LIMIT 1) s;
BEGIN;
DECLARE c CURSOR FOR SELECT * FROM waljson.snapshot('snap_t', 'format-version', '2');
FETCH 1 FROM c;
CLOSE c;
DECLARE c2 CURSOR FOR SELECT waljson.snapshot('snap_t', 'format-version', '2');
FETCH 1 FROM c2;
COMMIT;
-- A cursor made in a subtransaction that is rolled back, and one made
-- before a savepoint and read inside it.
BEGIN;
SAVEPOINT a;
DECLARE c3 CURSOR FOR SELECT * FROM waljson.snapshot('snap_t', 'format-version', '2', 'include-types', '0');
FETCH 1 FROM c3;
ROLLBACK TO a;
DECLARE c4 CURSOR FOR SELECT * FROM waljson.snapshot('snap_t', 'format-version', '2', 'include-types', '0');
SAVEPOINT b;
FETCH 1 FROM c4;
ROLLBACK TO b;
FETCH 1 FROM c4;
COMMIT;
-- An ERROR in the middle (a row filter dividing by zero) leaves nothing behind.
CREATE PUBLICATION snap_div FOR TABLE snap_t WHERE (10 / (id - 2) > 0);
SELECT count(*) FROM snap('snap_t', 'format-version', '2', 'publication-names', 'snap_div') s;
SELECT count(*) FROM snap('snap_t', 'format-version', '2') s;
-- The same ERROR caught by PL/pgSQL (a subtransaction rolled back).
DO $$
DECLARE n int;
BEGIN
  SELECT count(*) INTO n FROM waljson.snapshot('snap_t', 'format-version', '2', 'publication-names', 'snap_div');
EXCEPTION WHEN division_by_zero THEN
  RAISE NOTICE 'caught: %', SQLERRM;
END $$;
SELECT count(*) FROM snap('snap_t', 'format-version', '2') s;

-- Errors: the table, the role's privileges, the options.
SELECT * FROM waljson.snapshot('no_such_table');
SELECT * FROM waljson.snapshot(0);
CREATE VIEW snap_v AS SELECT 1 AS a;
SELECT * FROM waljson.snapshot('snap_v');
CREATE UNLOGGED TABLE snap_u (a int);
SELECT * FROM waljson.snapshot('snap_u');
CREATE TEMP TABLE snap_tmp (a int);
SELECT * FROM waljson.snapshot('snap_tmp');
SELECT * FROM waljson.snapshot('pg_class');
SELECT * FROM waljson.snapshot('snap_t', 'format-version');
SELECT * FROM waljson.snapshot('snap_t', NULL, '1');
SELECT * FROM waljson.snapshot('snap_t', 'no-such-option', '1');
SELECT * FROM waljson.snapshot('snap_t', 'format-version', '4');
SELECT * FROM waljson.snapshot('snap_t', 'batch-size', '0');
-- Options that concern only the stream are taken (one list serves both).
SELECT count(*) FROM waljson.snapshot('snap_t', 'format-version', '1', 'stream-changes', '1', 'include-xids', '1');
SELECT * FROM waljson.snapshot('snap_t', 'publication-names', 'snap_cols', 'partition-root', '1');
SELECT * FROM waljson.snapshot('snap_t', 'publication-names', '"unterminated');
SELECT count(*) AS null_table_no_rows FROM waljson.snapshot(NULL);
CREATE ROLE snap_reader;
SET ROLE snap_reader;
SELECT * FROM waljson.snapshot('snap_t');
RESET ROLE;
GRANT SELECT (id, t) ON snap_t TO snap_reader;
SET ROLE snap_reader;
SELECT * FROM waljson.snapshot('snap_t');
RESET ROLE;
GRANT SELECT ON snap_t TO snap_reader;
SET ROLE snap_reader;
SELECT count(*) AS readable FROM waljson.snapshot('snap_t', 'format-version', '2');
RESET ROLE;
ALTER TABLE snap_t ENABLE ROW LEVEL SECURITY;
SET ROLE snap_reader;
SELECT * FROM waljson.snapshot('snap_t');
RESET ROLE;
ALTER TABLE snap_t DISABLE ROW LEVEL SECURITY;
-- A slot takes no snapshot-only option.
SELECT slot_name FROM pg_create_logical_replication_slot('snap_slot2', 'waljson');
SELECT data FROM pg_logical_slot_peek_changes('snap_slot2', NULL, NULL, 'batch-size', '10');
SELECT data FROM pg_logical_slot_peek_changes('snap_slot2', NULL, NULL, 'format-version', '3', 'slot-name', 'x');
SELECT pg_drop_replication_slot('snap_slot2');

DROP PUBLICATION snap_cols, snap_upd, snap_div;
DROP TABLE snap_t, snap_p, snap_empty, snap_u;
DROP VIEW snap_v;
DROP ROLE snap_reader;
DROP FUNCTION snap, same_as_stream;
DROP EXTENSION waljson;
SELECT count(*) AS schema_left FROM pg_namespace WHERE nspname = 'waljson';
