-- Value rendering: numbers and their special values, booleans, bytea,
-- escaping, and types printed through their output functions.
\set VERBOSITY terse
SET synchronous_commit = on;
SET extra_float_digits = 0;
SELECT slots_create();
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy "quoted"');
CREATE TYPE pair AS (x int, y text);
CREATE DOMAIN posint AS int CHECK (VALUE > 0);
CREATE DOMAIN "Quoted Domain" AS numeric(5,2);
CREATE TABLE val_num (id serial PRIMARY KEY, i2 int2, i4 int4, i8 int8, o oid, f4 float4, f8 float8, n numeric, n2 numeric(10,3));
CREATE TABLE val_misc (id serial PRIMARY KEY, b bool, by bytea, t text, vc varchar(5), c char(3), j json, jb jsonb,
  u uuid, ip inet, cidr cidr, mac macaddr, money money, bits bit(4), pt point, iv interval, d date, ts timestamp,
  tstz timestamptz, tm time, tmtz timetz, arr int[], tarr text[], m mood, p pair, dom posint, qdom "Quoted Domain",
  tsv tsvector, x xml, rng int4range, nm name, ch "char");

INSERT INTO val_num (i2, i4, i8, o, f4, f8, n, n2) VALUES
  (0, 0, 0, 0, 0, 0, 0, 0),
  (-32768, -2147483648, -9223372036854775808, 4294967295, -0.0, -0.0, -0.0, -0.0),
  (32767, 2147483647, 9223372036854775807, 1, 'NaN', 'NaN', 'NaN', 'NaN'),
  (1, 1, 1, 1, 'Infinity', 'Infinity', 'Infinity', NULL),
  (-1, -1, -1, 1, '-Infinity', '-Infinity', '-Infinity', NULL),
  (NULL, NULL, NULL, NULL, 3.4028235e38, 1.7976931348623157e308, 123456789012345678901234567890.123456789, 1.5),
  (NULL, NULL, NULL, NULL, 1.4e-45, 5e-324, 0.000000000001, 0.0001),
  (NULL, NULL, NULL, NULL, 1e15, 1e15, 1e15, 1e3),
  (NULL, NULL, NULL, NULL, 0.1, 0.30000000000000004, 1e-20, -1e-3);
SET extra_float_digits = 3;
INSERT INTO val_num (f4, f8) VALUES (0.1, 0.1), (1e-5, 1e-5), (123456789, 123456789012345678);
RESET extra_float_digits;
INSERT INTO val_misc (b, by, t, vc, c, j, jb, u, ip, cidr, mac, money, bits, pt, iv, d, ts, tstz, tm, tmtz, arr, tarr, m, p, dom, qdom, tsv, x, rng, nm, ch) VALUES
  (true, '\x00ff10', E'valid: '' " \\ / \b \f \n \r \t \u207F \u967F \x01\x1f\x7f invalid: \\g \\k end', 'ab', 'x',
   '{ "a": [1, 2.50, "x"] }', '{"b": 1, "a": [true, null]}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '192.168.0.1/24', '10.0.0.0/8',
   '08:00:2b:01:02:03', 12.34, B'1010', '(1.5,-2)', '1 day 02:03:04.5', '2020-02-29', '2020-02-29 23:59:59.999999',
   '2020-02-29 23:59:59+05:30', '12:34:56', '12:34:56+01', '{1,2,NULL}', '{"a b","c\"d",NULL}', 'happy "quoted"', '(1,"x y")', 7, 3.14,
   'fat cat sat', '<a href="x">&amp;</a>', '[1,10)', 'a name', 'q'),
  (false, '', '', '', '', 'null', '"str"', NULL, '::1', '::/0', NULL, -0.5, B'0000', NULL, '-1 mon', 'infinity', '-infinity',
   'infinity', '00:00', NULL, '{}', '{}', 'sad', '(,)', 1, -1.5, '', NULL, 'empty', '', NULL);
SET DateStyle = 'SQL, DMY';
SET IntervalStyle = 'iso_8601';
SET bytea_output = 'hex';
INSERT INTO val_misc (d, ts, tstz, iv) VALUES ('2021-01-02', '2021-01-02 03:04:05', '2021-01-02 03:04:05+00', '1 year 2 days');

-- output depends on the reading session's settings, for both plugins alike
SET DateStyle = 'ISO, MDY';
SET extra_float_digits = 1;
SELECT * FROM diff_all();
SET DateStyle = 'Postgres, MDY';
SET IntervalStyle = 'postgres';
SET extra_float_digits = 0;
SET TimeZone = 'America/Sao_Paulo';
SELECT * FROM diff_all();
SELECT w('format-version', '2', 'include-transaction', '0');
SET extra_float_digits = 3;
SELECT diff('format-version', '2', 'include-transaction', '0');
RESET TimeZone;
-- wal2json 2.6's option: numbers as JSON strings, NaN/Infinity included
SET extra_float_digits = 0;
SELECT w('format-version', '2', 'include-transaction', '0', 'numeric-data-types-as-string', '1', 'add-tables', 'public.val_num', 'include-types', '0');
-- a domain's values are quoted strings in format-version 2, whatever its base type
SELECT w('format-version', '2', 'include-transaction', '0', 'include-domain-data-type', '1', 'add-tables', 'public.val_misc', 'actions', 'insert') LIMIT 1;
SELECT slots_drop();
