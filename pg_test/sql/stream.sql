-- Streaming of in-progress transactions (stream-changes), modelled on
-- test_decoding's stream test: large transactions are sent in blocks while
-- they run, with savepoints, rolled back subtransactions, aborts, TRUNCATE,
-- messages, TOASTed values and DDL inside them. logical_decoding_work_mem
-- at its minimum makes the server stream (and on 16+ the debug setting
-- streams every change at once).
\set VERBOSITY terse
SET logical_decoding_work_mem = '64kB';
DO $$ BEGIN
  IF current_setting('server_version_num')::int >= 160000 THEN
    PERFORM set_config('debug_logical_replication_streaming', 'immediate', false);
  END IF;
END $$;

CREATE TABLE stream_t (id int PRIMARY KEY, v text);
CREATE TABLE stream_other (id int PRIMARY KEY);
SELECT slots_create();

-- A subtransaction rolled back after its changes were streamed: the
-- consumer is told to drop exactly that subtransaction's changes.
BEGIN;
INSERT INTO stream_t SELECT g, repeat('a', 50) FROM generate_series(1, 1000) g;
SAVEPOINT s1;
INSERT INTO stream_t SELECT g, 'rolled back' FROM generate_series(1001, 1600) g;
ROLLBACK TO s1;
SELECT 'msg' FROM pg_logical_emit_message(true, 'stream', 'in a block');
SAVEPOINT s2;
UPDATE stream_t SET v = 'kept' WHERE id <= 500;
RELEASE s2;
TRUNCATE stream_other;
DELETE FROM stream_t WHERE id > 900;
COMMIT;

-- A whole streamed transaction aborts.
BEGIN;
INSERT INTO stream_t SELECT g, 'aborted' FROM generate_series(2001, 3000) g;
ROLLBACK;

-- Nested savepoints: rolling back the outer one aborts both.
BEGIN;
INSERT INTO stream_t SELECT g, 'top' FROM generate_series(3001, 3800) g;
SAVEPOINT outer_sp;
INSERT INTO stream_t SELECT g, 'outer' FROM generate_series(3801, 4400) g;
SAVEPOINT inner_sp;
INSERT INTO stream_t SELECT g, 'inner' FROM generate_series(4401, 5000) g;
ROLLBACK TO outer_sp;
INSERT INTO stream_t VALUES (5001, 'after the rollback');
COMMIT;

-- TOASTed values in a streamed transaction arrive whole.
BEGIN;
INSERT INTO stream_t SELECT g, repeat(md5(g::text), 400) FROM generate_series(6001, 6040) g;
INSERT INTO stream_t SELECT g, repeat('b', 50) FROM generate_series(6041, 7000) g;
COMMIT;

-- DDL inside a streamed transaction: the rows after it have the new column.
BEGIN;
INSERT INTO stream_t SELECT g, 'before ddl' FROM generate_series(8001, 8800) g;
ALTER TABLE stream_t ADD COLUMN extra int DEFAULT 7;
INSERT INTO stream_t SELECT g, 'after ddl', g FROM generate_series(8801, 9600) g;
COMMIT;

-- A transaction whose every change is filtered out.
BEGIN;
INSERT INTO stream_other SELECT g FROM generate_series(1, 2000) g;
COMMIT;

SELECT stream_summary('format-version', '2', 'stream-changes', '1');

-- The same changes without streaming: whole transactions at commit.
SELECT stream_summary('format-version', '2');

-- TOASTed and post-DDL rows, streamed.
SELECT (data::jsonb->'columns'->1->>'value') = repeat(md5('6001'), 400) AS toast_whole, mask(left(data, 60))
  FROM pg_logical_slot_peek_changes('waljson_slot', NULL, NULL, 'format-version', '2', 'stream-changes', '1')
 WHERE data ~ '"value":6001}';
SELECT mask(data) FROM pg_logical_slot_peek_changes('waljson_slot', NULL, NULL, 'format-version', '2', 'stream-changes', '1',
    'include-lsn', '1', 'include-timestamp', '1', 'include-origin', '1')
 WHERE data ~ '"action":"[Ac]"' OR data ~ '"first_segment":true' LIMIT 10;
SELECT mask(data) FROM pg_logical_slot_peek_changes('waljson_slot', NULL, NULL, 'format-version', '2', 'stream-changes', '1')
 WHERE data ~ '"value":(8800|8801)}';

-- Empty transactions left out: with every change filtered out, no block
-- and no commit of the last transaction is written.
SELECT stream_summary('format-version', '2', 'stream-changes', '1', 'include-empty-transaction', '0',
    'filter-tables', 'public.stream_t');

-- Format 3.
SELECT stream_summary('format-version', '3', 'stream-changes', '1', 'include-relations', '0');
SELECT stream_summary('format-version', '3', 'stream-changes', '1', 'include-transaction', '0');

-- Format 1 writes one document per transaction: streaming is refused.
SELECT count(*) FROM pg_logical_slot_peek_changes('waljson_slot', NULL, NULL, 'stream-changes', '1');
SELECT count(*) FROM pg_logical_slot_peek_changes('waljson_slot', NULL, NULL, 'format-version', '1', 'stream-changes', 'yes');
SELECT count(*) FROM pg_logical_slot_peek_changes('waljson_slot', NULL, NULL, 'format-version', '2', 'stream-changes', 'maybe');

SELECT slots_drop();
DROP TABLE stream_t, stream_other;
