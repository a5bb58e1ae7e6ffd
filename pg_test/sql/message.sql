-- Logical messages: transactional and not, rollbacks, prefix filters.
\set VERBOSITY terse
SET synchronous_commit = on;
SELECT slots_create();
CREATE TABLE msg_t (a int PRIMARY KEY);

SELECT 'msg1' FROM pg_logical_emit_message(false, 'wal2json', 'this message will be printed even if the transaction is rollbacked');
BEGIN;
INSERT INTO msg_t VALUES (1);
SELECT 'msg2' FROM pg_logical_emit_message(true, 'wal2json', 'this is message #1');
SELECT 'msg3' FROM pg_logical_emit_message(false, 'wal2json', 'this message will be printed before message #1');
INSERT INTO msg_t VALUES (2);
SELECT 'msg4' FROM pg_logical_emit_message(true, 'wal2json', 'this is message #2');
COMMIT;
BEGIN;
SELECT 'msg5' FROM pg_logical_emit_message(true, 'wal2json', 'rolled back: never printed');
SELECT 'msg6' FROM pg_logical_emit_message(false, 'wal2json', 'not transactional: printed although rolled back');
ROLLBACK;
SELECT 'msg7' FROM pg_logical_emit_message(true, 'other', 'a message in its own transaction');
SELECT 'msg8' FROM pg_logical_emit_message(true, 'a,b', 'prefix with a comma');
SELECT 'msg9' FROM pg_logical_emit_message(false, 'esc', E'quotes " and \\ backslash / \b\f\n\r\t \x01 ⁿ 陿 😀');
SELECT 'msg10' FROM pg_logical_emit_message(true, '', '');
SELECT 'msg11' FROM pg_logical_emit_message(false, 'bytes', '\x68656c6c6f'::bytea);
-- a commit flushes the WAL, so the last non-transactional message is decodable
INSERT INTO msg_t VALUES (3);

SELECT * FROM diff_all();
SELECT w('format-version', '2');
SELECT diff('format-version', '2', 'filter-msg-prefixes', 'wal2json');
SELECT diff('format-version', '2', 'add-msg-prefixes', 'other, esc');
SELECT diff('format-version', '2', 'filter-msg-prefixes', 'other', 'add-msg-prefixes', 'other,esc');
SELECT diff('format-version', '2', 'add-msg-prefixes', 'a\,b');
SELECT diff('format-version', '2', 'filter-msg-prefixes', 'wal2json', 'filter-msg-prefixes', 'esc');
SELECT mask(w) FROM w('format-version', '2', 'include-transaction', '0', 'add-msg-prefixes', 'other,esc,bytes', 'include-xids', '1', 'include-origin', '1') AS w;
SELECT slots_drop();
DROP TABLE msg_t;
