-- Format version 3: the envelope, transaction metadata, relation records,
-- typed values of every type family, the options, and losslessness:
-- jsonb_populate_record(NULL::the_table, after) rebuilds each row exactly,
-- whatever the decoding session's settings are.
\set VERBOSITY terse
SET synchronous_commit = on;
SELECT slots_create();

-- Format 3 through w(), with what varies from run to run (xids, LSNs, times,
-- OIDs) masked, and the long TOAST values of this test shortened.
CREATE FUNCTION w3(VARIADIC opts text[] DEFAULT '{}') RETURNS SETOF text LANGUAGE sql AS $$
  SELECT regexp_replace(regexp_replace(regexp_replace(d,
    'x{250}x*|y{250}y*', '<long>', 'g'),
    '"(ts_ms|ts_us|txId|lsn|commit_lsn|oid|type_oid)":[0-9]+', '"\1":N', 'g'),
    '"id":"[0-9]+:[0-9]+"', '"id":"X"', 'g')
  FROM w(VARIADIC array['format-version', '3'] || opts) AS d
$$;

-- For each INSERT event of `tbl` decoded now: does the row rebuilt from
-- `after` print the same as the row in the table (looked up by id)?
CREATE FUNCTION lossless(tbl regclass) RETURNS TABLE (id int, same boolean) LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY EXECUTE format(
    'SELECT (ev_json->''after''->>''id'')::int, jsonb_populate_record(NULL::%1$s, ev_json->''after'')::text = src::text
       FROM (SELECT d::jsonb AS ev_json FROM w(''format-version'', ''3'', ''include-transaction'', ''0'', ''include-relations'', ''0'') AS d) ev
       JOIN %1$s src ON src.id = (ev_json->''after''->>''id'')::int
      WHERE ev_json->>''op'' = ''c'' AND ev_json->''source''->>''table'' = %2$L
      ORDER BY 1', tbl, (SELECT relname FROM pg_class WHERE oid = tbl));
END $$;

-- The text of each INSERT's `after` object, as written.
CREATE FUNCTION after_text(VARIADIC opts text[] DEFAULT '{}') RETURNS SETOF text LANGUAGE sql AS $$
  SELECT substring(d FROM '^\{"before":null,"after":(.*),"source":')
  FROM w(VARIADIC array['format-version', '3', 'include-transaction', '0', 'include-relations', '0'] || opts) AS d
$$;

CREATE TYPE v3_mood AS ENUM ('sad', 'happy "quoted"');
CREATE TYPE v3_pair AS (x int, y text, z date[]);
CREATE DOMAIN v3_posint AS int CHECK (VALUE > 0);
CREATE DOMAIN v3_posints AS int[];
CREATE TABLE v3_types (id int PRIMARY KEY, i2 int2, i4 int4, i8 int8, o oid, f4 float4, f8 float8, n numeric,
  b bool, t text, vc varchar(10), c char(3), by bytea, j json, jb jsonb, u uuid, d date, ts timestamp,
  tstz timestamptz, tm time, tmtz timetz, iv interval, arr int[], tarr text[], m2 int[][], narr numeric[],
  tsarr timestamptz[], p v3_pair, parr v3_pair[], dom v3_posint, doms v3_posints, e v3_mood, ip inet, money money,
  rng tstzrange, pt point, bits bit(4), tsv tsvector, x xml);
INSERT INTO v3_types VALUES
  (1, 0, 0, 0, 0, 0, 0, 0, false, '', '', '', '', '[]', '"str"', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
   '2000-01-01', '2000-01-01 00:00', '2000-01-01 00:00+00', '00:00', '00:00+00', '0', '{}', '{}', '{}', '{}',
   '{}', '(,,)', '{}', 1, '{}', 'sad', '::1', 0, 'empty', '(0,0)', B'0000', '', ''),
  (2, -32768, -2147483648, -9223372036854775808, 4294967295, 'NaN', 'Infinity', 'NaN', true,
   E'valid: '' " \\ / \b \f \n \r \t \u207F \x01\x1f\x7f end', 'ab', 'x', '\x00ff10',
   '{"a": [1, 2.50, "x"]}', '{"b": 1, "a": [true, null, 1.50]}', '00000000-0000-0000-0000-000000000000',
   '0044-03-15 BC', '0044-03-15 12:00:00.5 BC', '0044-03-15 12:00:00.5+00 BC', '24:00', '23:59:59.999999-15:59',
   '1 year 2 mons -3 days 04:05:06.789', '{1,NULL,3}', '{"a b",NULL,"c\"d",""}', '{{1,2},{3,4}}', '{1.50,NaN,-0.001}',
   '{"2024-01-01 00:00:00+05",NULL}', '(1,"a ""b""","{2024-01-01,infinity}")', '{"(2,,)",NULL}', 7, '{4,5}',
   'happy "quoted"', '192.168.0.1/24', -12.34, '[2024-01-01 00:00+05,2024-01-02)', '(1.5,-2)', B'1010',
   'fat cat', '<a href="x">&amp;</a>'),
  (3, 32767, 2147483647, 9223372036854775807, 1, '-Infinity', '-0', 'Infinity', NULL, NULL, NULL, NULL, NULL,
   NULL, '[]', NULL, 'infinity', 'infinity', '-infinity', '12:34:56.000001', '12:34:56+05:30', '-0.5 s', NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (4, 1, 1, 1, 1, 3.4028235e38, 1.7976931348623157e308, 123456789012345678901234567890.123456789, true, 'ⁿ 陿 データ 😀',
   NULL, NULL, '\x', '{}', '{"nested": {"deep": [[]]}}', NULL, '5874897-12-31', '294276-12-31 23:59:59.999999',
   '1999-12-31 23:59:59.999999-08', NULL, NULL, '-178000000 years', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (5, NULL, NULL, NULL, NULL, 1.4e-45, 5e-324, 0.000000000001, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   '-infinity', '-infinity', '1970-01-01 00:00:00.123456+00', NULL, NULL, '1 day -1 microseconds', NULL, NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

-- json is embedded as its text, with line breaks and tabs between tokens
-- made spaces (every message stays one line); a json or jsonb JSON null
-- reads back as SQL NULL through jsonb_populate_record, so rows 1 and 2
-- above avoid both.
CREATE TABLE v3_json (id int PRIMARY KEY, j json, jb jsonb);
INSERT INTO v3_json VALUES (1, E'{"a":\n\t[1,\r\n 2.50, "x\\ty"]}', 'null'), (2, 'null', '{"k": null}');

-- The events with the default options (the relation record first).
SELECT * FROM w3();

-- Lossless in a session with the default settings ...
SELECT * FROM lossless('v3_types');
CREATE TABLE v3_after_default AS SELECT * FROM after_text() AS a;
-- ... and where every setting that changes output text is changed.
SET DateStyle = 'SQL, DMY';
SET TimeZone = 'Asia/Kathmandu';
SET IntervalStyle = 'sql_standard';
SET extra_float_digits = -15;
SET bytea_output = 'escape';
SET lc_monetary = 'C.UTF-8';
SELECT * FROM lossless('v3_types');
-- The values are the same bytes in both sessions.
SELECT count(*) AS events, count(*) FILTER (WHERE a IN (SELECT a FROM v3_after_default)) AS same_bytes
FROM after_text() AS a WHERE a LIKE '{"id":%';
-- ... and the session's settings are as they were after decoding.
SHOW DateStyle;
SHOW TimeZone;
SHOW IntervalStyle;
SHOW extra_float_digits;
RESET DateStyle;
RESET TimeZone;
RESET IntervalStyle;
RESET extra_float_digits;
RESET bytea_output;
RESET lc_monetary;

-- Updates, deletes, REPLICA IDENTITY FULL, unchanged TOAST, TRUNCATE, messages, transactions.
CREATE TABLE v3_toast (id int PRIMARY KEY, big text, small int);
ALTER TABLE v3_toast ALTER COLUMN big SET STORAGE EXTERNAL;
CREATE TABLE v3_full (id int, big text, small int);
ALTER TABLE v3_full REPLICA IDENTITY FULL;
ALTER TABLE v3_full ALTER COLUMN big SET STORAGE EXTERNAL;
SELECT slots_drop();
SELECT slots_create();
INSERT INTO v3_toast VALUES (1, repeat('x', 3000), 1);
INSERT INTO v3_full VALUES (1, repeat('y', 3000), 1);
BEGIN;
UPDATE v3_toast SET small = 2;
UPDATE v3_full SET small = 2;
UPDATE v3_toast SET id = 10 WHERE id = 1;
SELECT 'msg' FROM pg_logical_emit_message(true, 'pfx', 'transactional');
DELETE FROM v3_toast;
DELETE FROM v3_full;
COMMIT;
SELECT 'msg' FROM pg_logical_emit_message(false, 'pfx', '\x00ff'::bytea);
TRUNCATE v3_toast, v3_full;
SELECT * FROM w3();
-- The placeholder Debezium users set, text messages, base64 bytea, numbers as strings, origin, no metadata.
SELECT * FROM w3('unchanged-toast-placeholder', '__debezium_unavailable_value', 'message-content-encoding', 'text',
        'include-transaction', '0', 'include-relations', '0', 'actions', 'update');
SELECT d FROM w3('include-relations', '0', 'include-origin', '1', 'filter-tables', 'public.v3_full',
                 'add-msg-prefixes', 'none', 'message-content-encoding', 'hex') d;
SELECT slots_drop();
SELECT slots_create();
INSERT INTO v3_types (id, f8, n, i8, by) VALUES (6, 0.1, 1.10, 42, '\xdeadbeef');
SELECT d FROM w3('include-transaction', '0', 'include-relations', '0', 'numeric-data-types-as-string', '1',
                 'binary-encoding', 'base64') d;
-- Format 1 and 2 layout options are accepted and ignored.
SELECT count(*) FROM w3('pretty-print', '1', 'write-in-chunks', '1', 'include-types', '0', 'include-pk', '1');
-- Relation records again after the table changes.
ALTER TABLE v3_types ADD COLUMN added text DEFAULT 'x';
INSERT INTO v3_types (id) VALUES (7);
SELECT d FROM w3('include-transaction', '0') d WHERE d LIKE '{"op":"relation"%';
-- Bad values of the format-3 options.
SELECT w('format-version', '3', 'binary-encoding', 'base32');
SELECT w('format-version', '3', 'include-relations', 'maybe');
SELECT slots_drop();
