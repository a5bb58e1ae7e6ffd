-- INSERTs of many types, quoted and non-ASCII identifiers.
\set VERBOSITY terse
SET synchronous_commit = on;
SET extra_float_digits = 0;
SELECT slots_create();

CREATE TABLE table_with_pk (a smallserial, b smallint, c int, d bigint, e numeric(5,3), f real NOT NULL,
  g double precision, h char(10), i varchar(30), j text, k bit varying(20), l timestamp, m date,
  n boolean NOT NULL, o json, p tsvector, PRIMARY KEY(b, c, d));
CREATE TABLE table_without_pk (a smallserial, b smallint, c int, d bigint, e numeric(5,3), f real NOT NULL,
  g double precision, h char(10), i varchar(30), j text, k bit varying(20), l timestamp, m date,
  n boolean NOT NULL, o json, p tsvector);
CREATE TABLE table_with_unique (a smallserial, b smallint, c int, d bigint, e numeric(5,3) NOT NULL, f real NOT NULL,
  g double precision NOT NULL, h char(10), i varchar(30), j text, k bit varying(20), l timestamp, m date,
  n boolean NOT NULL, o json, p tsvector, UNIQUE(g, n));
CREATE SCHEMA "test ""schema";
CREATE TABLE "test ""schema"."test "" with 'quotes'" (id serial PRIMARY KEY, "col spaces" int, "col""quotes" int);
CREATE TABLE "Ünïcödé_tåble" ("ключ" int PRIMARY KEY, "値" text, "emoji 😀" text);
CREATE TABLE "CamelCase" ("MixedCol" int, "back\slash" text, "tab	in name" text);

BEGIN;
INSERT INTO table_with_pk (b, c, d, e, f, g, h, i, j, k, l, m, n, o, p) VALUES (1, 2, 3, 3.54, 876.563452345, 1.23, 'teste', 'testando', 'um texto longo', B'001110010101010', '2013-11-02 17:30:52', '2013-02-04', true, '{ "a": 123 }', 'Old Old Parr'::tsvector);
INSERT INTO table_without_pk (b, c, d, e, f, g, h, i, j, k, l, m, n, o, p) VALUES (1, 2, 3, 3.54, 876.563452345, 1.23, 'teste', 'testando', 'um texto longo', B'001110010101010', '2013-11-02 17:30:52', '2013-02-04', true, '{ "a": 123 }', 'Lorem ipsum dolor sit amet'::tsvector);
INSERT INTO table_with_unique (b, c, d, e, f, g, h, i, j, k, l, m, n, o, p) VALUES (1, 2, 3, 3.54, 876.563452345, 1.23, 'teste', 'testando', 'um texto longo', B'001110010101010', '2013-11-02 17:30:52', '2013-02-04', true, '{ "a": 123 }', 'Lorem ipsum dolor sit amet'::tsvector);
INSERT INTO "test ""schema"."test "" with 'quotes'" VALUES (1, 2, 3);
INSERT INTO "Ünïcödé_tåble" VALUES (1, 'ⁿ 陿 データ', '😀🎉');
INSERT INTO "CamelCase" VALUES (7, 'a\b', E'x\ty');
COMMIT;
-- NULLs everywhere, extremes
INSERT INTO table_without_pk (f, n) VALUES (0, false);
INSERT INTO table_with_pk (b, c, d, e, f, g, n) VALUES (-32768, -2147483648, -9223372036854775808, -99.999, -3.4e38, -1.7976931348623157e308, false);
INSERT INTO table_with_pk (b, c, d, e, f, g, n) VALUES (32767, 2147483647, 9223372036854775807, 99.999, 1e-37, 2.2250738585072014e-308, true);
-- an empty transaction and a multi-row insert
BEGIN; COMMIT;
INSERT INTO "Ünïcödé_tåble" SELECT g, 'row ' || g, NULL FROM generate_series(2, 4) g;

SELECT * FROM diff_all();
SELECT w('format-version', '2');
SELECT w('format-version', '2', 'include-transaction', '0', 'include-schemas', '0', 'include-types', '0', 'add-tables', '*.Ünïcödé_tåble,*.CamelCase');
SELECT count(*) FROM pg_logical_slot_get_changes('waljson_slot', NULL, NULL, 'format-version', '2');
SELECT count(*) FROM pg_logical_slot_get_changes('wal2json_slot', NULL, NULL, 'format-version', '2');
SELECT slots_drop();
