-- publication-names: what pgoutput publishes, as waljson writes it.
-- Modelled on PostgreSQL's 028_row_filter.pl and 031_column_list.pl; a
-- pgoutput slot created at the same point checks the sequence of actions.
\set VERBOSITY terse
SET synchronous_commit = on;

-- waljson's changes (format 2, no transactions) under publications.
CREATE FUNCTION pub(pubs text, VARIADIC more text[] DEFAULT '{}') RETURNS SETOF text LANGUAGE sql AS $$
  SELECT w(VARIADIC ARRAY['format-version', '2', 'include-transaction', '0', 'publication-names', pubs] || more)
$$;
-- The actions (I, U, D) each plugin sends under the same publications, in order.
CREATE FUNCTION actions_match(pubs text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  mine text;
  theirs text;
BEGIN
  SELECT coalesce(string_agg(a, '' ORDER BY n), '') INTO mine
    FROM (SELECT data::json->>'action' AS a, n FROM pub(pubs) WITH ORDINALITY AS t(data, n)) x
   WHERE a IN ('I', 'U', 'D');
  SELECT coalesce(string_agg(a, '' ORDER BY n), '') INTO theirs
    FROM (SELECT chr(get_byte(data, 0)) AS a, n
            FROM pg_logical_slot_peek_binary_changes('po_slot', NULL, NULL, 'proto_version', '1', 'publication_names', pubs)
                 WITH ORDINALITY AS t(lsn, xid, data, n)) x
   WHERE a IN ('I', 'U', 'D');
  RETURN CASE WHEN mine = theirs THEN 'same as pgoutput: ' || mine
              ELSE format('DIFFERENT: waljson %s, pgoutput %s', mine, theirs) END;
END $$;

CREATE SCHEMA pub_s;
CREATE TABLE pub_rf (id int PRIMARY KEY, status text, v int);
ALTER TABLE pub_rf REPLICA IDENTITY FULL;
CREATE TABLE pub_cl (id int PRIMARY KEY, a text, b text, c text, g int GENERATED ALWAYS AS (id * 2) STORED);
CREATE TABLE pub_s.in_schema (id int PRIMARY KEY, x text);
CREATE TABLE pub_other (id int PRIMARY KEY);
CREATE TABLE pub_part (id int, region text, v int, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
CREATE TABLE pub_part_eu PARTITION OF pub_part FOR VALUES IN ('eu');
CREATE TABLE pub_part_us (dropped int, v int, region text NOT NULL, id int NOT NULL);
ALTER TABLE pub_part_us DROP COLUMN dropped;
ALTER TABLE pub_part ATTACH PARTITION pub_part_us FOR VALUES IN ('us');
ALTER TABLE pub_part REPLICA IDENTITY FULL;
ALTER TABLE pub_part_eu REPLICA IDENTITY FULL;
ALTER TABLE pub_part_us REPLICA IDENTITY FULL;

CREATE PUBLICATION p_rf FOR TABLE pub_rf WHERE (status <> 'draft');
CREATE PUBLICATION p_rf2 FOR TABLE pub_rf WHERE (v > 100);
CREATE PUBLICATION p_rf_all FOR TABLE pub_rf;
CREATE PUBLICATION p_ins FOR TABLE pub_rf, pub_other WITH (publish = 'insert');
CREATE PUBLICATION p_cl FOR TABLE pub_cl (id, b);
CREATE PUBLICATION p_cl2 FOR TABLE pub_cl (id, c);
CREATE PUBLICATION p_cl_full FOR TABLE pub_cl;
CREATE PUBLICATION p_schema FOR TABLES IN SCHEMA pub_s;
CREATE PUBLICATION p_all FOR ALL TABLES;
CREATE PUBLICATION p_root FOR TABLE pub_part (id, region) WHERE (id > 10) WITH (publish_via_partition_root = true);
CREATE PUBLICATION p_leaf FOR TABLE pub_part_us WHERE (v > 0);
CREATE PUBLICATION p_parent FOR TABLE pub_part;
CREATE PUBLICATION p_div FOR TABLE pub_other WHERE (100 / (id - 5) > 0);
-- PostgreSQL 18: stored generated columns published on request or when a
-- column list names them (earlier versions refuse both).
CREATE PUBLICATION p_gen FOR TABLE pub_cl WITH (publish_generated_columns = stored);
CREATE PUBLICATION p_gen_list FOR TABLE pub_cl (id, g);
SELECT slots_create();
SELECT 'init' FROM pg_create_logical_replication_slot('po_slot', 'pgoutput');

-- Row filters: INSERT by the new row, DELETE by the old row, UPDATE by
-- both (old passes, new fails: DELETE; the reverse: INSERT; neither: dropped).
INSERT INTO pub_rf VALUES (1, 'draft', 1), (2, 'live', 2), (3, 'live', 300), (4, NULL, 4), (5, 'draft', 500);
UPDATE pub_rf SET status = 'live' WHERE id = 1;
UPDATE pub_rf SET status = 'draft' WHERE id = 2;
UPDATE pub_rf SET v = 5 WHERE id = 2;
UPDATE pub_rf SET v = 6 WHERE id = 3;
DELETE FROM pub_rf WHERE id IN (1, 2);
-- Column lists, generated columns.
INSERT INTO pub_cl VALUES (1, 'a', 'b', 'c');
UPDATE pub_cl SET a = 'a2', b = 'b2';
DELETE FROM pub_cl;
INSERT INTO pub_s.in_schema VALUES (1, 'x');
INSERT INTO pub_other VALUES (1);
UPDATE pub_other SET id = 2;
-- Partitions: via the root (root's filter and column list), or each its own.
INSERT INTO pub_part VALUES (1, 'eu', 1), (11, 'eu', 2), (12, 'us', 3), (13, 'us', -1);
UPDATE pub_part SET id = 20 WHERE id = 1;
UPDATE pub_part SET v = -2 WHERE id = 12;
DELETE FROM pub_part WHERE id = 13;
TRUNCATE pub_part_us;
TRUNCATE pub_part;

SELECT pub('p_rf');
SELECT actions_match('p_rf');
-- Filters of several publications are OR-ed.
SELECT pub('p_rf, p_rf2');
SELECT actions_match('p_rf,p_rf2');
-- A publication without a filter for the action wins.
SELECT ARRAY(SELECT pub('p_rf,p_rf_all')) = ARRAY(SELECT pub('p_rf_all')) AS unfiltered_wins;
SELECT count(*) AS unfiltered_rows FROM pub('p_rf_all, p_rf');
-- Actions: insert only (for pub_rf the insert-only publication removes
-- the filter on INSERT, not on UPDATE or DELETE).
SELECT pub('p_ins');
SELECT actions_match('p_ins');
SELECT actions_match('p_ins,p_rf');
-- Column lists: the listed columns only, in new and old rows; generated
-- columns are not published without a list naming them.
SELECT pub('p_cl');
SELECT pub('p_cl_full');
SELECT pub('p_cl, p_cl2');
SELECT pub('p_gen');
SELECT pub('p_gen_list');
-- FOR TABLES IN SCHEMA and FOR ALL TABLES.
SELECT pub('p_schema');
SELECT actions_match('p_all');
SELECT data::json->>'table' AS table, count(*) FROM pub('p_all') AS d(data) GROUP BY 1 ORDER BY 1;
-- Partitions: through the root, its filter (id > 10) and list (id, region).
SELECT pub('p_root');
SELECT actions_match('p_root');
-- Each partition as itself: pub_part_us's own filter (v > 0); pub_part_eu
-- is published through its parent, without a filter.
SELECT pub('p_leaf');
SELECT pub('p_parent');
SELECT actions_match('p_parent');
SELECT actions_match('p_leaf,p_parent');
-- Through the root when any publication publishes via the root.
SELECT actions_match('p_root,p_parent');
-- Combined with waljson's own filters: both must pass.
SELECT pub('p_all', 'add-tables', 'pub_s.*', 'actions', 'insert');
SELECT pub('p_rf', 'filter-tables', 'public.pub_rf');
-- Formats 1 and 3 decide the same.
SELECT w('format-version', '1', 'publication-names', 'p_cl', 'include-empty-transaction', '0');
SELECT data::jsonb->'op' AS op, data::jsonb->'after' AS after, data::jsonb->'before' AS before
  FROM w('format-version', '3', 'publication-names', 'p_rf', 'include-relations', '0') AS d(data)
 WHERE data::jsonb ? 'op';
-- An ERROR inside a row filter is the filter's ERROR, with a context
-- line naming the table.
INSERT INTO pub_other VALUES (5);
SELECT count(*) FROM pub('p_div');
DO $$
DECLARE c text;
BEGIN
  PERFORM count(*) FROM pub('p_div');
EXCEPTION WHEN division_by_zero THEN
  GET STACKED DIAGNOSTICS c = PG_EXCEPTION_CONTEXT;
  RAISE NOTICE 'division_by_zero, context: %', substring(c from 'waljson: row filter[^
]*');
END $$;
SELECT slots_drop();
SELECT pg_drop_replication_slot('po_slot');

-- Publications created, altered or dropped while the slot decodes take
-- effect at the right change.
TRUNCATE pub_other;
SELECT slots_create();
SELECT 'init' FROM pg_create_logical_replication_slot('po_slot', 'pgoutput');
CREATE PUBLICATION p_late FOR TABLE pub_rf;
INSERT INTO pub_other VALUES (10);
ALTER PUBLICATION p_late ADD TABLE pub_other;
INSERT INTO pub_other VALUES (11);
BEGIN;
INSERT INTO pub_other VALUES (12);
ALTER PUBLICATION p_late SET (publish = 'update');
INSERT INTO pub_other VALUES (13);
UPDATE pub_other SET id = 14 WHERE id = 13;
COMMIT;
ALTER PUBLICATION p_late SET (publish = 'insert');
ALTER PUBLICATION p_late SET TABLE pub_other WHERE (id > 20);
INSERT INTO pub_other VALUES (15), (25);
ALTER PUBLICATION p_late DROP TABLE pub_other;
INSERT INTO pub_other VALUES (26);
ALTER PUBLICATION p_late ADD TABLE pub_other;
INSERT INTO pub_other VALUES (27);
SELECT pub('p_late');
SELECT actions_match('p_late');
-- A publication that does not exist at a change being decoded (PostgreSQL
-- 18 skips it with a WARNING, earlier versions stop with an ERROR).
SELECT count(*) FROM pub('p_late, p_never');

-- An UPDATE turned INSERT carries the TOASTed value the new tuple only
-- points to, taken from the old row (REPLICA IDENTITY FULL logs it whole).
CREATE TABLE pub_toast (id int PRIMARY KEY, flag bool, big text);
ALTER TABLE pub_toast REPLICA IDENTITY FULL;
ALTER TABLE pub_toast ALTER COLUMN big SET STORAGE EXTERNAL;
CREATE PUBLICATION p_toast FOR TABLE pub_toast WHERE (flag AND length(big) > 5000);
SELECT slots_drop();
SELECT pg_drop_replication_slot('po_slot');
SELECT slots_create();
SELECT 'init' FROM pg_create_logical_replication_slot('po_slot', 'pgoutput');
INSERT INTO pub_toast SELECT 1, false, string_agg(md5(g::text), '') FROM generate_series(1, 300) g;
UPDATE pub_toast SET flag = true;
UPDATE pub_toast SET flag = false;
SELECT d::jsonb->>'action' AS action,
       (SELECT length(c->>'value') FROM jsonb_array_elements(d::jsonb->'columns') c WHERE c->>'name' = 'big') AS big_length,
       (SELECT length(c->>'value') FROM jsonb_array_elements(d::jsonb->'identity') c WHERE c->>'name' = 'big') AS old_big_length
  FROM pub('p_toast') AS d;
SELECT actions_match('p_toast');

-- Option errors.
SELECT w('publication-names', 'a b');
SELECT w('publication_names', '"unterminated');
SELECT w('publication-names', 'p_rf', 'partition-root', '1');
SELECT slots_drop();
SELECT pg_drop_replication_slot('po_slot');
DROP PUBLICATION IF EXISTS p_gen, p_gen_list;
DROP PUBLICATION p_toast;
DROP TABLE pub_toast;
DROP PUBLICATION p_rf, p_rf2, p_rf_all, p_ins, p_cl, p_cl2, p_cl_full, p_schema, p_all, p_root, p_leaf, p_parent, p_div, p_late;
DROP TABLE pub_rf, pub_cl, pub_s.in_schema, pub_other, pub_part;
DROP SCHEMA pub_s;
