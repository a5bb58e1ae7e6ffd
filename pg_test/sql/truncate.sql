-- TRUNCATE: one T object per relation, table filters, actions.
\set VERBOSITY terse
SET synchronous_commit = on;
SELECT slots_create();
CREATE TABLE tr_1 (a int PRIMARY KEY);
CREATE TABLE tr_2 (a int PRIMARY KEY, b int REFERENCES tr_1);
CREATE TABLE "tr 3" (a int);
CREATE SEQUENCE tr_seq;
INSERT INTO tr_1 VALUES (1);
TRUNCATE tr_1 CASCADE;
BEGIN;
INSERT INTO tr_1 VALUES (2);
TRUNCATE tr_2, "tr 3";
INSERT INTO "tr 3" VALUES (3);
COMMIT;
BEGIN;
TRUNCATE tr_1 CASCADE;
ROLLBACK;
TRUNCATE tr_1, tr_2, "tr 3" RESTART IDENTITY;

SELECT * FROM diff_all();
SELECT w('format-version', '2');
SELECT diff('format-version', '2', 'filter-tables', 'public.tr_2');
SELECT diff('format-version', '2', 'add-tables', 'public.tr\ 3');
SELECT w('format-version', '2', 'include-transaction', '0', 'add-tables', 'public.tr\ 3', 'include-lsn', '0', 'include-schemas', 'false');
SELECT diff('format-version', '2', 'actions', 'insert');
SELECT slots_drop();
