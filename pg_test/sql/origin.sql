-- Replication origins: include-origin and filter-origins (filter_by_origin callback).
\set VERBOSITY terse
SET synchronous_commit = on;
SELECT slots_create();
CREATE TABLE origin_t (a int PRIMARY KEY, b text);
SELECT pg_replication_origin_create('origin_one') AS origin_one \gset
SELECT pg_replication_origin_create('origin_two') AS origin_two \gset
INSERT INTO origin_t VALUES (1, 'local');
SELECT pg_replication_origin_session_setup('origin_one');
INSERT INTO origin_t VALUES (2, 'from origin_one');
SELECT 'm' FROM pg_logical_emit_message(true, 'p', 'message from origin_one');
SELECT pg_replication_origin_session_reset();
SELECT pg_replication_origin_session_setup('origin_two');
BEGIN;
SELECT pg_replication_origin_xact_setup('0/AABBCCDD', '2026-01-01 00:00:00+00');
UPDATE origin_t SET b = 'from origin_two';
COMMIT;
SELECT pg_replication_origin_session_reset();
DELETE FROM origin_t WHERE a = 1;

SELECT * FROM diff_all();
SELECT diff('format-version', '2', 'include-origin', '1', 'filter-origins', :'origin_one');
SELECT diff('format-version', '2', 'include-origin', '1', 'filter-origins', :'origin_one' || ',' || :'origin_two');
SELECT diff('format-version', '2', 'include-origin', '1', 'filter-origins', '0');
SELECT replace(replace(w, '"origin":' || :'origin_one', '"origin":ONE'), '"origin":' || :'origin_two', '"origin":TWO')
FROM w('format-version', '2', 'include-origin', '1', 'include-types', '0') AS w;
SELECT replace(w, '"origin":' || :'origin_two', '"origin":TWO')
FROM w('format-version', '2', 'include-origin', '1', 'include-types', '0', 'filter-origins', :'origin_one') AS w;
SELECT slots_drop();
SELECT pg_replication_origin_drop('origin_one');
SELECT pg_replication_origin_drop('origin_two');
