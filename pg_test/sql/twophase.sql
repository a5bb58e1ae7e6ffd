-- Two-phase commit, modelled on test_decoding's twophase and
-- twophase_stream tests: on a slot created for two-phase decoding a
-- prepared transaction is decoded at PREPARE TRANSACTION (with its gid), and
-- COMMIT PREPARED / ROLLBACK PREPARED come as events of their own.
\set VERBOSITY terse
CREATE TABLE tp (id int PRIMARY KEY, v text);
CREATE TABLE tp_ddl (id int PRIMARY KEY, v text);
SELECT 'created' FROM pg_create_logical_replication_slot('waljson_slot', 'waljson', false, true);

BEGIN;
INSERT INTO tp VALUES (1, 'one'), (2, 'two');
PREPARE TRANSACTION 'tp_commit';
COMMIT PREPARED 'tp_commit';

BEGIN;
INSERT INTO tp VALUES (3, 'rolled back');
PREPARE TRANSACTION 'tp_rollback';
ROLLBACK PREPARED 'tp_rollback';

-- Savepoints: only what was not rolled back is prepared.
BEGIN;
INSERT INTO tp VALUES (4, 'kept');
SAVEPOINT s;
INSERT INTO tp VALUES (5, 'gone');
ROLLBACK TO s;
UPDATE tp SET v = 'updated' WHERE id = 1;
PREPARE TRANSACTION 'tp_savepoint';

-- DDL in a prepared transaction (its lock is released at COMMIT PREPARED:
-- decoding must not wait for it while the transaction is only prepared).
BEGIN;
ALTER TABLE tp_ddl ADD COLUMN extra int;
INSERT INTO tp_ddl VALUES (6, 'with ddl', 66);
PREPARE TRANSACTION 'tp_ddl';
SELECT stream_summary('format-version', '2');
COMMIT PREPARED 'tp_ddl';
COMMIT PREPARED 'tp_savepoint';

-- A gid needing escapes; an empty prepared transaction, of which the
-- server decodes nothing at all.
BEGIN;
INSERT INTO tp VALUES (7, 'quoted gid');
PREPARE TRANSACTION 'gid "with" \ and ü';
COMMIT PREPARED 'gid "with" \ and ü';
BEGIN;
PREPARE TRANSACTION 'tp_empty';
COMMIT PREPARED 'tp_empty';

SELECT stream_summary('format-version', '2');
SELECT stream_summary('format-version', '2', 'include-empty-transaction', '0', 'include-transaction', '0');
SELECT mask(data) FROM pg_logical_slot_peek_changes('waljson_slot', NULL, NULL, 'format-version', '2',
    'include-lsn', '1', 'include-timestamp', '1')
 WHERE data ~ '"action":"[bPKr]"' AND data ~ 'tp_(commit|rollback)';
SELECT mask(data) FROM pg_logical_slot_peek_changes('waljson_slot', NULL, NULL, 'format-version', '2')
 WHERE data ~ 'with';
SELECT stream_summary('format-version', '3', 'include-relations', '0');

-- Format 1 writes one document per transaction: on a two-phase slot it
-- gets prepared transactions at COMMIT PREPARED, as ordinary ones.
SELECT count(*) AS documents, count(*) FILTER (WHERE data ~ '"kind":"insert"') AS with_inserts
  FROM pg_logical_slot_peek_changes('waljson_slot', NULL, NULL, 'format-version', '1');

-- Streamed and prepared: the blocks, then the stream's PREPARE, then COMMIT PREPARED.
SELECT 'consumed' FROM (SELECT count(*) FROM pg_logical_slot_get_changes('waljson_slot', NULL, NULL)) c;
SET logical_decoding_work_mem = '64kB';
BEGIN;
INSERT INTO tp SELECT g, repeat('s', 50) FROM generate_series(100, 1500) g;
SAVEPOINT s;
INSERT INTO tp SELECT g, 'rolled back' FROM generate_series(1501, 2200) g;
ROLLBACK TO s;
PREPARE TRANSACTION 'tp_stream';
SELECT stream_summary('format-version', '2', 'stream-changes', '1');
COMMIT PREPARED 'tp_stream';
BEGIN;
INSERT INTO tp SELECT g, 'stream then rollback' FROM generate_series(3000, 4000) g;
PREPARE TRANSACTION 'tp_stream_rollback';
-- (Decoded while it is still prepared: PostgreSQL 18 drops the changes of a
-- transaction it finds aborted before it streams them.)
SELECT stream_summary('format-version', '2', 'stream-changes', '1');
SELECT stream_summary('format-version', '3', 'stream-changes', '1', 'include-relations', '0');
-- Not streamed: the same transactions whole at PREPARE.
SELECT stream_summary('format-version', '2');
SELECT 'consumed' FROM (SELECT count(*) FROM pg_logical_slot_get_changes('waljson_slot', NULL, NULL, 'format-version', '2', 'stream-changes', '1')) c;
ROLLBACK PREPARED 'tp_stream_rollback';
SELECT stream_summary('format-version', '2', 'stream-changes', '1');

SELECT pg_drop_replication_slot('waljson_slot');
DROP TABLE tp, tp_ddl;
