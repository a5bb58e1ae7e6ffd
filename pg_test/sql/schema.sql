-- Schema changes inside the stream, dropped and generated columns,
-- partitions, defaults, positions, domains and type names.
\set VERBOSITY terse
SET synchronous_commit = on;
SET extra_float_digits = 0;
SELECT slots_create();

CREATE TABLE sc_t (a int PRIMARY KEY, b text, c int);
INSERT INTO sc_t VALUES (1, 'one', 1);
BEGIN;
INSERT INTO sc_t VALUES (2, 'two', 2);
ALTER TABLE sc_t ADD COLUMN d text DEFAULT 'dflt';
INSERT INTO sc_t VALUES (3, 'three', 3, 'x');
UPDATE sc_t SET c = 10 WHERE a = 1;
ALTER TABLE sc_t DROP COLUMN b;
INSERT INTO sc_t VALUES (4, 4, 'y');
ALTER TABLE sc_t RENAME COLUMN c TO "renamed c";
INSERT INTO sc_t VALUES (5, 5, 'z');
ALTER TABLE sc_t ALTER COLUMN "renamed c" TYPE bigint;
INSERT INTO sc_t VALUES (6, 6, 'w');
ALTER TABLE sc_t RENAME TO sc_renamed;
UPDATE sc_renamed SET d = 'v' WHERE a = 6;
COMMIT;
ALTER TABLE sc_renamed ADD COLUMN e numeric(6,2) NOT NULL DEFAULT 1.5;
UPDATE sc_renamed SET d = 'u' WHERE a = 1;
DELETE FROM sc_renamed WHERE a = 2;
CREATE SCHEMA sc_schema;
ALTER TABLE sc_renamed SET SCHEMA sc_schema;
INSERT INTO sc_schema.sc_renamed VALUES (7, 7, 'k', 2);
ALTER SCHEMA sc_schema RENAME TO sc_schema2;
INSERT INTO sc_schema2.sc_renamed VALUES (8, 8, 'k', 2);

-- defaults (including ones with quotes and backslashes), generated columns, positions
CREATE SEQUENCE sc_seq;
CREATE TABLE sc_default (a serial PRIMARY KEY, b int DEFAULT 6, c text DEFAULT 'wal2json', d timestamp DEFAULT '2020-07-12 11:55:30',
  e int DEFAULT NULL, f int, g int GENERATED ALWAYS AS (b * 2) STORED, h bigint DEFAULT nextval('sc_seq'), i text DEFAULT upper('x'));
INSERT INTO sc_default (f) VALUES (1);
ALTER TABLE sc_default ALTER COLUMN f SET DEFAULT 42;
INSERT INTO sc_default (b) VALUES (2);
ALTER TABLE sc_default DROP COLUMN c;
INSERT INTO sc_default DEFAULT VALUES;
CREATE TABLE sc_quoted_default (a int PRIMARY KEY, b text DEFAULT 'say "hi"', c text DEFAULT E'back\\slash');
INSERT INTO sc_quoted_default (a) VALUES (1);

-- partitions are reported under the leaf partition
CREATE TABLE sc_part (id int, region text, v int, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
CREATE TABLE sc_part_eu PARTITION OF sc_part FOR VALUES IN ('eu');
CREATE TABLE sc_part_us PARTITION OF sc_part FOR VALUES IN ('us') PARTITION BY RANGE (id);
CREATE TABLE sc_part_us_low PARTITION OF sc_part_us FOR VALUES FROM (0) TO (100);
INSERT INTO sc_part VALUES (1, 'eu', 1), (2, 'us', 2);
UPDATE sc_part SET v = 10;
UPDATE sc_part SET region = 'us' WHERE id = 1;
DELETE FROM sc_part WHERE id = 2;

-- domains and arrays of quoted types: type names
CREATE TYPE "Quoted Enum" AS ENUM ('a', 'b');
CREATE DOMAIN "Dom Int" AS integer;
CREATE DOMAIN dom_text AS varchar(10);
CREATE DOMAIN dom_num AS numeric(6,3);
CREATE DOMAIN dom_dom AS dom_num;
CREATE TABLE sc_dom (a "Dom Int" PRIMARY KEY, b dom_text, c dom_num, d dom_dom, e "Quoted Enum", f "Quoted Enum"[], g dom_num[]);
INSERT INTO sc_dom VALUES (1, 'x', 1.5, 2.25, 'a', '{a,b}', '{1.5}');
UPDATE sc_dom SET b = 'y';
UPDATE sc_dom SET a = 2;
DELETE FROM sc_dom;
-- a type renamed inside the stream
ALTER TYPE "Quoted Enum" RENAME TO plain_enum;
INSERT INTO sc_dom VALUES (3, 'z', 0, 0, 'b', '{}', NULL);
-- a type not on the search_path is printed schema-qualified
CREATE SCHEMA sc_types;
CREATE TYPE sc_types.hidden AS ENUM ('h');
CREATE TYPE sc_types."Hidden Quoted" AS ENUM ('h');
CREATE TABLE sc_hidden (a int PRIMARY KEY, b sc_types.hidden, c sc_types."Hidden Quoted");
INSERT INTO sc_hidden VALUES (1, 'h', 'h');

SELECT * FROM diff_all();
SELECT w('format-version', '2', 'include-transaction', '0', 'include-column-positions', '1', 'include-default', '1', 'include-not-null', '1', 'include-pk', '1');
SELECT w('format-version', '2', 'include-transaction', '0', 'include-domain-data-type', '1', 'include-type-oids', '0', 'add-tables', 'public.sc_dom,public.sc_hidden');
SELECT slots_drop();
