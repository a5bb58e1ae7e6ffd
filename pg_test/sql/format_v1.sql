-- Format version 1: layouts (compact, pretty, write-in-chunks framing),
-- empty transactions, TRUNCATE (dropped, or kept with include-truncate),
-- transactional and non-transactional messages.
\set VERBOSITY terse
SET synchronous_commit = on;
SET extra_float_digits = 0;
SELECT slots_create();
CREATE TABLE v1_t (a smallint PRIMARY KEY, b int, c bool NOT NULL, d numeric(5,2), e text);
CREATE TABLE v1_nopk (a int, b text);
CREATE TABLE v1_full (a int, b text);
ALTER TABLE v1_full REPLICA IDENTITY FULL;
BEGIN;
INSERT INTO v1_t VALUES (1, NULL, true, 1.5, 'one'), (2, 2, false, NULL, 'two "2"');
SELECT 'm' FROM pg_logical_emit_message(true, 'p', 'in between');
UPDATE v1_t SET b = 123 WHERE a = 1;
UPDATE v1_t SET a = 3 WHERE a = 2;
DELETE FROM v1_t WHERE a = 1;
COMMIT;
BEGIN; COMMIT;
TRUNCATE v1_t;
INSERT INTO v1_nopk VALUES (1, 'x');
UPDATE v1_nopk SET b = 'y';
INSERT INTO v1_full VALUES (1, NULL), (2, 'two');
UPDATE v1_full SET b = 'deux' WHERE a = 2;
DELETE FROM v1_full;
SELECT 'm' FROM pg_logical_emit_message(false, 'p', 'alone');
BEGIN;
INSERT INTO v1_t VALUES (10, 10, true, 10, 'ten');
TRUNCATE v1_t, v1_nopk;
INSERT INTO v1_t VALUES (11, 11, true, 11, 'eleven');
COMMIT;

SELECT * FROM diff_all();
-- compact (the default)
SELECT w('include-xids', '0');
-- pretty, with the comma starting the next entry
SELECT w('pretty-print', '1', 'include-typmod', '0', 'include-pk', '1', 'add-tables', 'public.v1_t') OFFSET 4 LIMIT 1;
-- write-in-chunks: one message for the opening, one per entry, one for the closing
SELECT w('write-in-chunks', '1', 'include-types', '0', 'add-tables', 'public.v1_t');
SELECT w('write-in-chunks', '1', 'pretty-print', '1', 'include-types', '0', 'add-tables', 'public.v1_t') OFFSET 8 LIMIT 5;
-- the wal2json 2.5 defect: columnoptionals stays empty without include-types (kept for compatibility)
SELECT w('include-types', '0', 'include-not-null', '1', 'add-tables', 'public.v1_t') OFFSET 4 LIMIT 1;
-- TRUNCATE: wal2json drops it in format 1; include-truncate adds entries
SELECT w('include-truncate', '1', 'include-types', '0', 'filter-tables', 'public.v1_full');
SELECT w('include-truncate', '1', 'write-in-chunks', '1', 'pretty-print', '1', 'actions', 'truncate');
-- every document parses as JSON
SELECT count(*) AS documents, count(*) FILTER (WHERE json_typeof(d::json) = 'object') AS objects
FROM w('include-truncate', '1', 'pretty-print', '1') AS d;
SELECT slots_drop();
