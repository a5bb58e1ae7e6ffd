-- UPDATE and DELETE under every replica identity.
\set VERBOSITY terse
SET synchronous_commit = on;
SET extra_float_digits = 0;
SELECT slots_create();

CREATE TABLE id_pk (a int PRIMARY KEY, b text, c int);
CREATE TABLE id_pk2 (a int, b text, c int NOT NULL, PRIMARY KEY (c, a));
CREATE TABLE id_nopk (a int, b text);
CREATE TABLE id_nothing (a int PRIMARY KEY, b text);
ALTER TABLE id_nothing REPLICA IDENTITY NOTHING;
CREATE TABLE id_full (a int PRIMARY KEY, b text, c int);
ALTER TABLE id_full REPLICA IDENTITY FULL;
CREATE TABLE id_full_nopk (a int, b text, c numeric);
ALTER TABLE id_full_nopk REPLICA IDENTITY FULL;
CREATE TABLE id_index (a int, b text NOT NULL, c int NOT NULL, d int);
CREATE UNIQUE INDEX id_index_bc ON id_index (c, b);
ALTER TABLE id_index REPLICA IDENTITY USING INDEX id_index_bc;
CREATE TABLE id_index_pk (a int PRIMARY KEY, b text NOT NULL, c int);
CREATE UNIQUE INDEX id_index_pk_b ON id_index_pk (b);
ALTER TABLE id_index_pk REPLICA IDENTITY USING INDEX id_index_pk_b;
CREATE TABLE id_unique (a int UNIQUE NOT NULL, b text);
CREATE TABLE id_default_nothing_pk (a int, b text);

INSERT INTO id_pk VALUES (1, 'one', 1), (2, 'two', NULL);
INSERT INTO id_pk2 VALUES (1, 'one', 10), (2, 'two', 20);
INSERT INTO id_nopk VALUES (1, 'one'), (2, 'two');
INSERT INTO id_nothing VALUES (1, 'one');
INSERT INTO id_full VALUES (1, 'one', NULL), (2, NULL, 2);
INSERT INTO id_full_nopk VALUES (1, 'one', 1.10), (2, NULL, NULL);
INSERT INTO id_index VALUES (1, 'one', 1, 1), (2, 'two', 2, NULL);
INSERT INTO id_index_pk VALUES (1, 'one', 1);
INSERT INTO id_unique VALUES (1, 'one');

-- key unchanged, key changed, delete
UPDATE id_pk SET b = 'uno' WHERE a = 1;
UPDATE id_pk SET a = 10 WHERE a = 2;
UPDATE id_pk2 SET b = 'dos' WHERE a = 2;
UPDATE id_pk2 SET c = 11 WHERE a = 1;
DELETE FROM id_pk WHERE a = 1;
DELETE FROM id_pk2;
-- no key: skipped with a WARNING
UPDATE id_nopk SET b = 'uno' WHERE a = 1;
DELETE FROM id_nopk WHERE a = 2;
UPDATE id_nothing SET b = 'uno';
UPDATE id_nothing SET a = 5;
DELETE FROM id_nothing;
UPDATE id_unique SET b = 'uno';
DELETE FROM id_unique;
-- FULL: the whole old row, NULLs included
UPDATE id_full SET b = 'uno' WHERE a = 1;
UPDATE id_full SET a = 20 WHERE a = 2;
DELETE FROM id_full;
UPDATE id_full_nopk SET b = 'x';
DELETE FROM id_full_nopk WHERE a = 1;
DELETE FROM id_full_nopk;
-- USING INDEX: key columns of the index, changed or not
UPDATE id_index SET a = 100 WHERE a = 1;
UPDATE id_index SET c = 200 WHERE a = 2;
DELETE FROM id_index;
UPDATE id_index_pk SET c = 5;
UPDATE id_index_pk SET b = 'uno';
UPDATE id_index_pk SET a = 9;
DELETE FROM id_index_pk;
-- identity changes inside the stream
INSERT INTO id_default_nothing_pk VALUES (1, 'a');
UPDATE id_default_nothing_pk SET b = 'b';
ALTER TABLE id_default_nothing_pk ADD PRIMARY KEY (a);
UPDATE id_default_nothing_pk SET b = 'c';
ALTER TABLE id_default_nothing_pk REPLICA IDENTITY FULL;
UPDATE id_default_nothing_pk SET b = 'd';
ALTER TABLE id_default_nothing_pk REPLICA IDENTITY NOTHING;
DELETE FROM id_default_nothing_pk;

SELECT * FROM diff_all();
-- the same WARNINGs from both plugins
SELECT count(*) FROM w('format-version', '2');
SELECT count(*) FROM w2j('format-version', '2');
SELECT w('format-version', '2', 'include-transaction', '0', 'include-pk', '1', 'actions', 'update,delete');
SELECT slots_drop();
