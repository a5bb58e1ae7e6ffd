-- filter-tables, add-tables (wildcards, escapes), actions.
\set VERBOSITY terse
SET synchronous_commit = on;
SELECT slots_create();

CREATE SCHEMA filter_schema_1;
CREATE SCHEMA filter_schema_2;
CREATE SCHEMA "*";
CREATE TABLE filter_table_1 (a int PRIMARY KEY, b text);
CREATE TABLE filter_schema_1.filter_table_1 (a int PRIMARY KEY, b text);
CREATE TABLE filter_schema_2.filter_table_2 (a int PRIMARY KEY, b text);
CREATE TABLE filter_table_3 (a int PRIMARY KEY, b text);
CREATE TABLE "Filter_table_5" (a int PRIMARY KEY, b text);
CREATE TABLE "filter table_6" (a int PRIMARY KEY, b text);
CREATE TABLE "filter.table_7" (a int PRIMARY KEY, b text);
CREATE TABLE "filter,table_8" (a int PRIMARY KEY, b text);
CREATE TABLE "filter""table_9" (a int PRIMARY KEY, b text);
CREATE TABLE " filter_table_10" (a int PRIMARY KEY, b text);
CREATE TABLE "*" (a int PRIMARY KEY, b text);
CREATE TABLE "*".filter_table_0 (a int PRIMARY KEY, b text);
CREATE TABLE keep_me (a int PRIMARY KEY, b text);

DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT c.oid::regclass AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE c.relkind = 'r' AND (c.relname LIKE '%filter%' OR c.relname IN ('*', 'keep_me', 'Filter_table_5'))
             AND n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY c.oid::regclass::text COLLATE "C"
  LOOP
    EXECUTE format('INSERT INTO %s VALUES (1, %L)', r.t, r.t::text);
    EXECUTE format('UPDATE %s SET b = b || ''!''', r.t);
    EXECUTE format('DELETE FROM %s', r.t);
  END LOOP;
END $$;
TRUNCATE filter_table_1, filter_table_3, keep_me;

SELECT * FROM diff_all();
-- wal2json's own filter-tables example (every escape)
SELECT diff('format-version', '2', 'filter-tables', '   foo.bar,*.filter_table_1  ,filter_schema_2.* , public.filter_table_3 , public.Filter_table_5, public.filter\ table_6, public.filter\.table_7 , public.filter\,table_8 , public.filter"table_9, *.\ filter_table_10 , public.\* , \*.filter_table_0  ');
SELECT w('format-version', '2', 'include-transaction', '0', 'actions', 'insert', 'filter-tables', '   foo.bar,*.filter_table_1  ,filter_schema_2.* , public.filter_table_3 , public.Filter_table_5, public.filter\ table_6, public.filter\.table_7 , public.filter\,table_8 , public.filter"table_9, *.\ filter_table_10 , public.\* , \*.filter_table_0  ');
SELECT diff('format-version', '2', 'add-tables', 'public.keep_me, *.filter_table_1, filter_schema_2.*, \*.*');
SELECT w('format-version', '2', 'include-transaction', '0', 'add-tables', 'public.keep_me, *.filter_table_1, filter_schema_2.*, \*.*');
-- every character escaped, as Supabase Realtime builds add-tables
SELECT diff('format-version', '2', 'add-tables', '\p\u\b\l\i\c.\k\e\e\p\_\m\e');
SELECT w('format-version', '2', 'include-transaction', '0', 'add-tables', '\p\u\b\l\i\c.\k\e\e\p\_\m\e');
-- filter-tables is checked before add-tables; both apply to TRUNCATE
SELECT diff('format-version', '2', 'add-tables', 'public.*', 'filter-tables', 'public.keep_me');
SELECT w('format-version', '2', 'include-transaction', '0', 'actions', 'truncate', 'add-tables', 'public.*', 'filter-tables', 'public.keep_me');
-- add-tables restarts its list; filter-tables appends
SELECT diff('format-version', '2', 'add-tables', 'public.keep_me', 'add-tables', 'public.filter_table_3');
SELECT diff('format-version', '2', 'filter-tables', 'public.keep_me', 'filter-tables', 'public.filter_table_3');
-- an empty add-tables selects nothing (only B/C remain)
SELECT diff('format-version', '2', 'add-tables', '');
SELECT w('format-version', '2', 'add-tables', '') LIMIT 2;
-- names are case-sensitive raw catalog names
SELECT diff('format-version', '2', 'add-tables', 'public.filter_table_5');
SELECT diff('format-version', '2', 'add-tables', 'public.Filter_table_5');
-- actions
SELECT diff('format-version', '2', 'actions', 'insert');
SELECT diff('format-version', '2', 'actions', 'update');
SELECT diff('format-version', '2', 'actions', 'delete');
SELECT diff('format-version', '2', 'actions', 'truncate');
SELECT diff('format-version', '2', 'actions', ' delete , update ');
SELECT w('format-version', '2', 'include-transaction', '0', 'actions', 'delete,truncate', 'add-tables', 'public.keep_me');
SELECT slots_drop();
