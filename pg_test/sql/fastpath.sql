-- Fast paths (values formatted without the type's output function) against
-- wal2json, which calls the output functions: edge values of float4/float8,
-- numeric (short and long on-disk forms), jsonb (strides of 32 children,
-- nesting, escapes, compressed) and timestamp/timestamptz, under every
-- setting their text depends on.
\set VERBOSITY terse
SET synchronous_commit = on;
SELECT slots_create();
CREATE DOMAIN num_dom AS numeric;
CREATE DOMAIN jb_dom AS jsonb;
CREATE DOMAIN ts_dom AS timestamptz;
CREATE TABLE fp_float (id serial PRIMARY KEY, f4 float4, f8 float8);
CREATE TABLE fp_numeric (id serial PRIMARY KEY, n numeric, n3 numeric(12,3), d num_dom);
CREATE TABLE fp_jsonb (id serial PRIMARY KEY, j jsonb, d jb_dom);
CREATE TABLE fp_time (id serial PRIMARY KEY, ts timestamp, tstz timestamptz, d ts_dom);
ALTER TABLE fp_jsonb ALTER COLUMN j SET STORAGE main;

INSERT INTO fp_float (f4, f8) SELECT CASE WHEN v::float8 = 0 OR abs(v::float8) BETWEEN 1.4e-45 AND 3.4028235e38 OR v IN ('NaN', 'Infinity', '-Infinity') THEN v::float4 END, v::float8 FROM unnest(ARRAY[
  '0', '-0', '1', '-1', '0.1', '0.5', '1.5', '100', '1e14', '1e15', '1e16', '1e17', '123456789012345678',
  '0.0001', '0.00001', '1.2345e-5', '3.4028235e38', '-3.4028235e38', '1.17549435e-38', '1.4e-45',
  '1.7976931348623157e308', '2.2250738585072014e-308', '5e-324', '0.30000000000000004', '33.333333333333336',
  '-9.999999e-7', '4.5e15', '999999999999999', 'NaN', 'Infinity', '-Infinity']) AS v;
INSERT INTO fp_float (f4) VALUES (16777216), (16777217), (0.1::float4 * 3), (1e-40), (1.17549435e-38);

INSERT INTO fp_numeric (n, n3, d) SELECT v::numeric, CASE WHEN abs(v::numeric) < 1e8 THEN v::numeric END, v::numeric
  FROM unnest(ARRAY[
  '0', '-0', '0.000', '1', '-1', '9999', '10000', '10001', '99999999', '100000000', '0.1', '0.0001', '0.00001',
  '0.00012340', '12345.678901234', '-12345678901234567890.123', '1.500', '1e100', '1e300', '-1e-300',
  '1.0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001',
  '123456789012345678901234567890123456789012345678901234567890.5', 'NaN', 'Infinity', '-Infinity']) AS v;
INSERT INTO fp_numeric (n) VALUES (('1' || repeat('0', 1000) || '.5')::numeric), (1::numeric / 3), (round(2::numeric / 3, 200));

INSERT INTO fp_jsonb (j, d) SELECT v::jsonb, v::jsonb FROM unnest(ARRAY[
  '{}', '[]', '1', '-0.0', '"s"', 'null', 'true', 'false', '[[]]', '[{}]', '{"a": {}}', '{"a": []}',
  '{"b": 1, "a": [true, null, false], "aa": {"x": [1.50, -2e-3, 1e100, 12345678901234567890.5]}}',
  '"esc \" \\ / \b \f \n \r \t \u0001 \u001f \u007f é 𝄞"',
  '{"key \"q\"\n": "v\\", "": ""}',
  '[1, [2, [3, [4, [5, [6, {"deep": [7]}]]]]]]',
  '{"n": 1e-300, "m": -1e300, "z": 0.000}']) AS v;
-- 40 children: JEntries store an end offset every 32nd child
INSERT INTO fp_jsonb (j) SELECT jsonb_agg(g) FROM generate_series(1, 40) g;
INSERT INTO fp_jsonb (j) SELECT jsonb_agg(CASE WHEN g % 3 = 0 THEN to_jsonb(g / 7.0) WHEN g % 3 = 1 THEN to_jsonb(repeat('x', g)) ELSE jsonb_build_object('g', g) END) FROM generate_series(1, 70) g;
INSERT INTO fp_jsonb (j) SELECT jsonb_object_agg('k' || g, g * 1.5) FROM generate_series(1, 45) g;
INSERT INTO fp_jsonb (j) SELECT jsonb_object_agg(repeat('k', g), CASE WHEN g % 2 = 0 THEN jsonb_build_array(g, 'v') ELSE to_jsonb(g) END) FROM generate_series(1, 70) g;
-- compressed inline (STORAGE main): read through detoasting
INSERT INTO fp_jsonb (j) SELECT jsonb_agg(jsonb_build_object('id', g, 'name', 'same text ' || (g % 10))) FROM generate_series(1, 500) g;
SELECT pg_column_compression(j) IS NOT NULL AS compressed FROM fp_jsonb ORDER BY id DESC LIMIT 1;
-- 100 levels deep
INSERT INTO fp_jsonb (j) SELECT (repeat('[', 100) || '1' || repeat(']', 100))::jsonb;

SET TimeZone = 'UTC';
INSERT INTO fp_time (ts, tstz, d) SELECT v::timestamp, v::timestamptz, v::timestamptz FROM unnest(ARRAY[
  '2000-01-01 00:00:00', '1999-12-31 23:59:59.999999', '2026-11-21 12:34:56.5', '2026-11-21 12:34:56.000001',
  '2026-11-21 12:34:56.120000', '1970-01-01', '1900-02-28 01:02:03', '1800-06-01 12:00', '0001-01-01',
  '0044-03-15 BC', '4713-11-24 00:00 BC', '294276-12-31 23:59:59.999999', '10000-01-01', 'infinity', '-infinity']) AS v;
INSERT INTO fp_time (tstz) VALUES ('2026-03-29 00:59:59+00'), ('2026-03-29 01:00:00+00'), ('2026-10-25 00:59:59+00'), ('2026-10-25 01:00:00+00');

-- tuples older than their descriptor (columns added with a default later):
-- REPLICA IDENTITY FULL logs the stored tuple as the old row
CREATE TABLE fp_missing (a int, b text);
ALTER TABLE fp_missing REPLICA IDENTITY FULL;
INSERT INTO fp_missing VALUES (1, 'one'), (2, 'two');
ALTER TABLE fp_missing ADD COLUMN c text DEFAULT 'fast default', ADD COLUMN d numeric DEFAULT 2.50, ADD COLUMN e jsonb DEFAULT '[1, "two"]';
UPDATE fp_missing SET b = 'uno' WHERE a = 1;
DELETE FROM fp_missing WHERE a = 2;

-- every setting the text depends on, read by the same session for both plugins
SET extra_float_digits = 1;
SET DateStyle = 'ISO, MDY';
SELECT * FROM diff_all();
SELECT w('format-version', '2', 'include-transaction', '0', 'add-tables', 'public.fp_float,public.fp_numeric,public.fp_time');
SELECT w('format-version', '2', 'include-transaction', '0', 'add-tables', 'public.fp_missing');
SELECT count(*) AS jsonb_rows FROM w('format-version', '2', 'include-transaction', '0', 'add-tables', 'public.fp_jsonb');
SELECT w('format-version', '2', 'include-transaction', '0', 'add-tables', 'public.fp_jsonb') LIMIT 18;
CREATE FUNCTION diff_settings() RETURNS TABLE (setting text, option_set text, result text) LANGUAGE plpgsql AS $$
DECLARE
  s text[];
BEGIN
  FOREACH s SLICE 1 IN ARRAY ARRAY[
    ['extra_float_digits', '3'], ['extra_float_digits', '0'], ['extra_float_digits', '-15'], ['extra_float_digits', '2'],
    ['DateStyle', 'SQL, DMY'], ['DateStyle', 'Postgres, MDY'], ['DateStyle', 'German'], ['DateStyle', 'ISO, YMD'],
    ['TimeZone', 'America/Sao_Paulo'], ['TimeZone', 'Asia/Kolkata'], ['TimeZone', 'Europe/Amsterdam'],
    ['TimeZone', 'Etc/GMT+3'], ['TimeZone', 'Pacific/Chatham'], ['TimeZone', '<+0130>-01:30'],
    ['TIME ZONE', '0.01'], ['TIME ZONE', 'INTERVAL ''-00:19:32'''], ['TIME ZONE', '-5.5'], ['TimeZone', 'UTC'],
    ['DateStyle', 'Postgres, DMY']]
  LOOP
    IF s[1] = 'TIME ZONE' THEN
      -- offsets in hours or as an interval, down to seconds
      EXECUTE 'SET LOCAL TIME ZONE ' || s[2];
    ELSE
      PERFORM set_config(s[1], s[2], true);
    END IF;
    RETURN QUERY SELECT s[1] || '=' || s[2], d.option_set, d.result FROM diff_all() d WHERE d.result NOT LIKE 'identical%';
    RETURN QUERY SELECT s[1] || '=' || s[2], 'every option set', 'identical'
      WHERE NOT EXISTS (SELECT 1 FROM diff_all() d WHERE d.result NOT LIKE 'identical%');
  END LOOP;
END $$;
SELECT * FROM diff_settings();
SELECT slots_drop();
