-- TOASTed values: inserted (compressed and external), changed, and
-- unchanged in an UPDATE (left out, as the WAL does not carry them).
\set VERBOSITY terse
SET synchronous_commit = on;
SELECT slots_create();
CREATE TABLE toast_t (id int PRIMARY KEY, small text, big text, bin bytea, other int);
ALTER TABLE toast_t ALTER COLUMN big SET STORAGE EXTERNAL;
CREATE TABLE toast_c (id int PRIMARY KEY, big text);
CREATE TABLE toast_full (id int PRIMARY KEY, big text, other int);
ALTER TABLE toast_full REPLICA IDENTITY FULL;

INSERT INTO toast_t SELECT 1, 'small', string_agg(md5(g::text), ''), decode(string_agg(md5(g::text), ''), 'hex'), 1 FROM generate_series(1, 300) g;
INSERT INTO toast_c SELECT 1, repeat('compressible ', 20000);
INSERT INTO toast_full SELECT 1, string_agg(md5(g::text), ''), 1 FROM generate_series(1, 300) g;
UPDATE toast_t SET other = 2;
UPDATE toast_t SET big = big || '!' ;
UPDATE toast_c SET big = big || 'x';
UPDATE toast_full SET other = 2;
DELETE FROM toast_t;
DELETE FROM toast_full;

SELECT * FROM diff_all();
-- lengths and keys only (the values are long)
SELECT j->>'action' AS action, j->>'table' AS tab,
       (SELECT string_agg(c->>'name' || ':' || length(c->>'value'), ',') FROM json_array_elements(j->'columns') c) AS columns,
       (SELECT string_agg(c->>'name' || ':' || coalesce(length(c->>'value')::text, 'null'), ',') FROM json_array_elements(j->'identity') c) AS identity
FROM (SELECT data::json AS j FROM w('format-version', '2', 'include-transaction', '0') AS t(data)) s;
SELECT slots_drop();
