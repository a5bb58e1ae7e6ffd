-- wal2json 2.7's options: include-empty-transaction and partition-root.
-- Compared with wal2json where it has them (2.7, on PostgreSQL 18).
\set VERBOSITY terse
SET synchronous_commit = on;

-- The reference's output under these options, or a note when the
-- reference predates them (wal2json 2.5 and 2.6 reject both options).
CREATE FUNCTION diff27(VARIADIC opts text[]) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  BEGIN
    PERFORM count(*) FROM w2j(VARIADIC opts);
  EXCEPTION WHEN others THEN
    RETURN 'no reference: this wal2json predates 2.7';
  END;
  RETURN diff(VARIADIC opts);
END $$;

CREATE TABLE w27_kept (a integer PRIMARY KEY);
CREATE TABLE w27_filtered (b integer PRIMARY KEY);
CREATE TABLE w27_nothing (a integer);
ALTER TABLE w27_nothing REPLICA IDENTITY NOTHING;
CREATE TABLE w27_part (a integer, t text, PRIMARY KEY (a, t)) PARTITION BY LIST (t);
CREATE TABLE w27_part_one PARTITION OF w27_part FOR VALUES IN ('one');
-- A sub-partitioned branch, and a partition attached after creation
-- whose attribute numbers differ from its root's (a dropped column).
CREATE TABLE w27_part_two PARTITION OF w27_part FOR VALUES IN ('two') PARTITION BY RANGE (a);
CREATE TABLE w27_part_two_low PARTITION OF w27_part_two FOR VALUES FROM (0) TO (100);
CREATE TABLE w27_part_three (x int, a integer NOT NULL, extra_dropped int, t text NOT NULL);
ALTER TABLE w27_part_three DROP COLUMN x, DROP COLUMN extra_dropped;
ALTER TABLE w27_part ATTACH PARTITION w27_part_three FOR VALUES IN ('three');
-- A partition whose columns are in another order than its root's:
-- waljson writes the root's order, wal2json 2.7 the partition's (so the
-- comparisons with partition-root leave this table out).
CREATE TABLE w27_rev (a integer, t text, n numeric) PARTITION BY LIST (t);
CREATE TABLE w27_rev_x (n numeric, t text NOT NULL, a integer);
ALTER TABLE w27_rev ATTACH PARTITION w27_rev_x FOR VALUES IN ('x');
CREATE MATERIALIZED VIEW w27_mv AS SELECT count(*) AS n FROM w27_kept;
SELECT slots_create();

INSERT INTO w27_kept VALUES (1);
INSERT INTO w27_filtered VALUES (1);
INSERT INTO w27_part VALUES (1, 'one'), (2, 'two'), (3, 'three');
INSERT INTO w27_rev VALUES (1, 'x', 1.5);
CREATE TABLE w27_ddl (c integer);
DROP TABLE w27_ddl;
TRUNCATE w27_filtered;
VACUUM FULL w27_kept;
REFRESH MATERIALIZED VIEW w27_mv;
INSERT INTO w27_nothing VALUES (1);
UPDATE w27_nothing SET a = 2;
DELETE FROM w27_nothing;
SELECT 1 FROM pg_logical_emit_message(true, 'kept', 'kept message');
SELECT 1 FROM pg_logical_emit_message(false, 'kept', 'non-transactional message');
SELECT 1 FROM pg_logical_emit_message(true, 'filtered', 'filtered message');
BEGIN;
INSERT INTO w27_filtered VALUES (2);
INSERT INTO w27_kept VALUES (2), (3);
COMMIT;
BEGIN;
SAVEPOINT s1;
INSERT INTO w27_kept VALUES (4);
ROLLBACK TO SAVEPOINT s1;
COMMIT;
UPDATE w27_part SET a = a + 10;
UPDATE w27_part SET t = 'one' WHERE a = 13;
DELETE FROM w27_part WHERE a = 12;
TRUNCATE w27_part_two;
TRUNCATE w27_part;

-- include-empty-transaction: empty transactions are written by default
SELECT count(*) FILTER (WHERE data = '{"change":[]}') > 0 AS v1_has_empty,
       count(*) AS v1_rows FROM w('format-version', '1', 'add-tables', 'public.w27_kept') AS d(data);
SELECT w('format-version', '1', 'add-tables', 'public.w27_kept', 'include-empty-transaction', '0');
SELECT w('format-version', '2', 'add-tables', 'public.w27_kept', 'include-empty-transaction', '0', 'include-xids', '0');
SELECT w('format-version', '2', 'filter-msg-prefixes', 'filtered', 'add-tables', 'public.w27_nothing', 'include-empty-transaction', '0');
SELECT w('format-version', '1', 'filter-msg-prefixes', 'filtered', 'add-tables', 'public.w27_nothing', 'include-empty-transaction', '0', 'write-in-chunks', '1');
SELECT w('format-version', '2', 'actions', 'truncate', 'include-empty-transaction', 'false', 'add-tables', 'public.w27_filtered');
-- format 3 leaves empty transactions' BEGIN and END out too
SELECT count(*) FILTER (WHERE data::jsonb->>'status' = 'BEGIN') AS begins,
       count(*) FILTER (WHERE data::jsonb->>'status' = 'END') AS ends
  FROM w('format-version', '3', 'add-tables', 'public.w27_kept', 'include-empty-transaction', '0') AS d(data);

-- partition-root: reported as the root partitioned table, matched by its name
SELECT w('format-version', '2', 'partition-root', '1', 'add-tables', 'public.w27_part', 'include-empty-transaction', '0');
SELECT w('format-version', '1', 'partition-root', 'true', 'filter-tables', 'public.w27_kept, public.w27_filtered', 'include-empty-transaction', '0', 'include-pk', '1');
SELECT w('format-version', '2', 'partition-root', '1', 'add-tables', 'public.w27_part_one');
SELECT w('format-version', '2', 'partition-root', '1', 'add-tables', 'public.w27_rev', 'include-empty-transaction', '0', 'include-type-oids', '1');
SELECT w('format-version', '1', 'partition-root', '1', 'add-tables', 'public.w27_rev', 'include-empty-transaction', '0');
SELECT data::jsonb->>'op' AS op, data::jsonb->'source'->>'table' AS table, data::jsonb->'before' AS before, data::jsonb->'after' AS after
  FROM w('format-version', '3', 'partition-root', '1', 'add-tables', 'public.w27_part', 'include-empty-transaction', '0', 'include-relations', '0') AS d(data)
 WHERE data::jsonb ? 'op' AND data::jsonb->>'op' <> 'm';

-- byte for byte against wal2json 2.7
SELECT diff27('format-version', '1', 'include-empty-transaction', '0');
SELECT diff27('format-version', '1', 'include-empty-transaction', '0', 'write-in-chunks', '1', 'add-tables', 'public.w27_kept');
SELECT diff27('format-version', '1', 'include-empty-transaction', '0', 'pretty-print', '1', 'filter-msg-prefixes', 'filtered');
SELECT diff27('format-version', '2', 'include-empty-transaction', '0');
SELECT diff27('format-version', '2', 'include-empty-transaction', '0', 'include-transaction', '0', 'add-tables', 'public.w27_kept');
SELECT diff27('format-version', '2', 'include-empty-transaction', '0', 'actions', 'insert', 'add-msg-prefixes', 'kept');
SELECT diff27('format-version', '2', 'partition-root', '1', 'filter-tables', 'public.w27_rev');
SELECT diff27('format-version', '2', 'partition-root', '1', 'add-tables', 'public.w27_part', 'include-pk', '1', 'include-type-oids', '1');
SELECT diff27('format-version', '2', 'partition-root', '1', 'filter-tables', 'public.w27_rev', 'filter-tables', 'public.w27_part');
SELECT diff27('format-version', '1', 'partition-root', '1', 'filter-tables', 'public.w27_rev', 'include-pk', '1');
SELECT diff27('format-version', '1', 'partition-root', '1', 'filter-tables', 'public.w27_rev', 'pretty-print', '1', 'write-in-chunks', '1', 'include-empty-transaction', '0');
SELECT diff27('format-version', '2', 'include-empty-transaction', '1', 'partition-root', '0');

-- Renaming the root is seen at the next change of its partitions.
ALTER TABLE w27_rev RENAME TO w27_rev_renamed;
INSERT INTO w27_rev_renamed VALUES (2, 'x', 2.5);
ALTER TABLE w27_rev_renamed RENAME TO w27_rev;
INSERT INTO w27_rev VALUES (3, 'x', 3.5);
SELECT data::json->>'table' AS table, data::json->'columns'->0->>'value' AS a
  FROM w('format-version', '2', 'partition-root', '1', 'include-transaction', '0', 'actions', 'insert') AS d(data)
 WHERE data::json->>'table' LIKE 'w27_rev%';

-- The old row is what the partition's replica identity logged (here FULL,
-- while the root's is DEFAULT without a key).
ALTER TABLE w27_rev_x REPLICA IDENTITY FULL;
UPDATE w27_rev SET n = n + 1 WHERE a = 3;
SELECT w('format-version', '2', 'partition-root', '1', 'include-transaction', '0', 'actions', 'update', 'add-tables', 'public.w27_rev');

-- PostgreSQL 18 lists loaded modules with the name and version they declare.
SELECT module_name, version ~ '^[0-9]+\.[0-9]+' AS has_version
  FROM pg_get_loaded_modules() WHERE module_name IN ('waljson', 'wal2json') ORDER BY 1;

-- bad values
SELECT w('include-empty-transaction', 'maybe');
SELECT w('partition-root', '2');
SELECT slots_drop();
DROP MATERIALIZED VIEW w27_mv;
DROP TABLE w27_kept, w27_filtered, w27_nothing, w27_part, w27_rev;
