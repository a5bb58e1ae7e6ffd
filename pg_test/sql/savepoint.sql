-- Subtransactions: rolled-back savepoints and aborted transactions never appear.
\set VERBOSITY terse
SET synchronous_commit = on;
SELECT slots_create();
CREATE TABLE sp_t (a int PRIMARY KEY, b text);
BEGIN;
INSERT INTO sp_t VALUES (1, 'kept');
SAVEPOINT s1;
INSERT INTO sp_t VALUES (2, 'rolled back');
ROLLBACK TO SAVEPOINT s1;
SAVEPOINT s2;
INSERT INTO sp_t VALUES (3, 'released');
RELEASE SAVEPOINT s2;
SAVEPOINT s3;
UPDATE sp_t SET b = 'nested' WHERE a = 3;
SAVEPOINT s4;
DELETE FROM sp_t;
ROLLBACK TO s4;
COMMIT;
BEGIN;
INSERT INTO sp_t VALUES (9, 'aborted');
ROLLBACK;
-- a failed transaction
BEGIN;
INSERT INTO sp_t VALUES (10, 'failed');
INSERT INTO sp_t VALUES (10, 'duplicate');
COMMIT;
SELECT * FROM diff_all();
SELECT w('format-version', '2');
SELECT slots_drop();
