-- Helpers shared by every test of the suite.
--
-- Each test creates two slots at the same point of the WAL: waljson_slot
-- (this plugin) and wal2json_slot (Debian's wal2json, the reference), runs its
-- SQL, and compares the bytes both plugins produce for the same options.
\set VERBOSITY terse

CREATE FUNCTION slots_create() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_create_logical_replication_slot('waljson_slot', 'waljson');
  PERFORM pg_create_logical_replication_slot('wal2json_slot', 'wal2json');
  RETURN 'slots created';
END $$;

CREATE FUNCTION slots_drop() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_drop_replication_slot('waljson_slot');
  PERFORM pg_drop_replication_slot('wal2json_slot');
  RETURN 'slots dropped';
END $$;

-- waljson's output for these options (peek: nothing is consumed). When the
-- suite runs with waljson_test.capture_dir set (tools/regress.sh sets it),
-- the output is also written there, with the options, for the JSON Schema
-- check (tools/schema_check.py --capture). COPY writes no WAL, so the
-- capture adds nothing to what later tests decode.
CREATE FUNCTION w(VARIADIC opts text[]) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  dir text := current_setting('waljson_test.capture_dir', true);
  shown text := current_setting('client_min_messages');
BEGIN
  RETURN QUERY SELECT data FROM pg_logical_slot_peek_changes('waljson_slot', NULL, NULL, VARIADIC opts);
  IF coalesce(dir, '') <> '' THEN
    -- The second decoding's WARNINGs were shown by the first.
    PERFORM set_config('client_min_messages', 'error', true);
    EXECUTE format('COPY (SELECT %L, data FROM pg_logical_slot_peek_changes(%L, NULL, NULL, VARIADIC %L::text[])) TO %L (FORMAT csv)',
      array_to_json(opts)::text, 'waljson_slot', opts, dir || '/' || md5(clock_timestamp()::text || random()::text) || '.csv');
    PERFORM set_config('client_min_messages', shown, true);
  END IF;
END $$;

-- wal2json's output for these options.
CREATE FUNCTION w2j(VARIADIC opts text[]) RETURNS SETOF text LANGUAGE sql AS $$
  SELECT data FROM pg_logical_slot_peek_changes('wal2json_slot', NULL, NULL, VARIADIC opts)
$$;

-- Hides what changes from run to run (xids, LSNs, commit times) in reports.
CREATE FUNCTION mask(t text) RETURNS text LANGUAGE sql AS $$
  SELECT regexp_replace(regexp_replace(regexp_replace(t,
    '"xid":[0-9]+', '"xid":N', 'g'),
    '"(lsn|nextlsn)":"[0-9A-F]+/[0-9A-F]+"', '"\1":"X/X"', 'g'),
    '"timestamp":"[^"]*"', '"timestamp":"T"', 'g')
$$;

-- Compares both plugins' output byte for byte, row by row. Rows where
-- wal2json 2.5 writes invalid JSON and waljson deliberately does not are
-- counted apart, and only when the difference is exactly that defect:
--  * format 1: a non-transactional message after a multi-change transaction
--    gets a leading comma, `{"change":[,{` (fixed in wal2json 2.6);
--  * include-default: the default expression is not escaped (fixed in 2.7);
--    such rows must be equal once `\"` and `\\` are unescaped on both sides.
-- And one deliberate difference from wal2json 2.6 and later: in format 1
-- they print the "pk" object for any table with a primary key, where 2.5
-- (and waljson) print it only for REPLICA IDENTITY DEFAULT; such rows must
-- be equal once the pk objects are removed. Likewise 2.7 fills format 1's
-- "columnoptionals" without include-types, where 2.5, 2.6 and waljson leave
-- it empty.
CREATE FUNCTION diff(VARIADIC opts text[]) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  a text[];
  b text[];
  known int := 0;
  pk_rule int := 0;
  optionals_rule int := 0;
  unesc_a text;
  unesc_b text;
BEGIN
  SELECT coalesce(array_agg(d ORDER BY n), '{}') INTO a FROM w(VARIADIC opts) WITH ORDINALITY AS t(d, n);
  SELECT coalesce(array_agg(d ORDER BY n), '{}') INTO b FROM w2j(VARIADIC opts) WITH ORDINALITY AS t(d, n);
  FOR i IN 1 .. greatest(cardinality(a), cardinality(b)) LOOP
    CONTINUE WHEN a[i] IS NOT DISTINCT FROM b[i];
    IF a[i] = regexp_replace(b[i], '^(\{\s*"change":\s*\[\s*),\{', '\1{') THEN
      known := known + 1;
      CONTINUE;
    END IF;
    IF b[i] <> a[i] AND regexp_replace(b[i], ',?\s*"pk":\s*\{[^{}]*\}', '', 'g')
                      = regexp_replace(a[i], ',?\s*"pk":\s*\{[^{}]*\}', '', 'g') THEN
      pk_rule := pk_rule + 1;
      CONTINUE;
    END IF;
    IF 'include-not-null' = ANY (opts)
       AND regexp_replace(b[i], '("columnoptionals":\s*\[)[^]]*\]', '\1]', 'g') = a[i] THEN
      optionals_rule := optionals_rule + 1;
      CONTINUE;
    END IF;
    IF 'include-default' = ANY (opts) THEN
      unesc_a := replace(replace(a[i], '\\', '\'), '\"', '"');
      unesc_b := replace(replace(b[i], '\\', '\'), '\"', '"');
      IF unesc_a = unesc_b THEN
        known := known + 1;
        CONTINUE;
      END IF;
    END IF;
    RETURN format('DIFFERENT at row %s of %s/%s: waljson=%s wal2json=%s',
                  i, cardinality(a), cardinality(b), mask(a[i]), mask(b[i]));
  END LOOP;
  IF optionals_rule > 0 THEN
    RETURN format('identical, %s rows, except %s where wal2json 2.7 fills "columnoptionals" without include-types',
                  cardinality(a), optionals_rule);
  END IF;
  IF pk_rule > 0 THEN
    RETURN format('identical, %s rows, except %s where wal2json 2.6+ adds "pk" for a non-DEFAULT replica identity',
                  cardinality(a), pk_rule);
  END IF;
  IF known > 0 THEN
    RETURN format('identical, %s rows, except %s where wal2json 2.5 writes invalid JSON', cardinality(a), known);
  END IF;
  RETURN format('identical, %s rows', cardinality(a));
END $$;

-- The option sets every data test is compared under (both format versions).
CREATE FUNCTION option_sets() RETURNS TABLE (name text, opts text[]) LANGUAGE sql AS $$
  VALUES
    ('defaults',        ARRAY['format-version', '2']),
    ('xid/ts/lsn/origin', ARRAY['format-version', '2', 'include-xids', '1', 'include-timestamp', '1', 'include-lsn', '1', 'include-origin', '1']),
    ('no transaction',  ARRAY['format-version', '2', 'include-transaction', '0']),
    ('no schema/types', ARRAY['format-version', '2', 'include-schemas', '0', 'include-types', '0']),
    ('type oids/typmod', ARRAY['format-version', '2', 'include-type-oids', '1', 'include-typmod', '0']),
    ('column details',  ARRAY['format-version', '2', 'include-not-null', '1', 'include-column-positions', '1', 'include-default', '1']),
    ('pk',              ARRAY['format-version', '2', 'include-pk', '1']),
    ('domain base type', ARRAY['format-version', '2', 'include-domain-data-type', '1']),
    ('insert,delete',   ARRAY['format-version', '2', 'actions', 'insert,delete']),
    ('update,truncate', ARRAY['format-version', '2', 'actions', 'update, truncate']),
    ('everything',      ARRAY['format-version', '2', 'include-xids', 't', 'include-pk', 'yes', 'include-type-oids', 'on',
                              'include-default', '1', 'include-not-null', 'true', 'include-column-positions', 'y',
                              'include-domain-data-type', '1', 'include-lsn', '1']),
    ('v1-only options', ARRAY['format-version', '2', 'pretty-print', '1', 'write-in-chunks', '1', 'include-typmod', 'f']),
    ('table filters',   ARRAY['format-version', '2', 'filter-tables', '*.nothing_here', 'add-tables', '*.*']),
    ('v1 defaults',     '{}'::text[]),
    ('v1 pretty',       ARRAY['format-version', '1', 'pretty-print', '1']),
    ('v1 chunks',       ARRAY['format-version', '1', 'write-in-chunks', '1']),
    ('v1 pretty chunks xid/ts/lsn/origin', ARRAY['pretty-print', '1', 'write-in-chunks', '1', 'include-xids', '1',
                              'include-timestamp', '1', 'include-lsn', '1', 'include-origin', '1']),
    ('v1 typnames/oids/pk', ARRAY['format-version', '1', 'include-typmod', '0', 'include-type-oids', '1', 'include-pk', '1']),
    ('v1 column details', ARRAY['format-version', '1', 'include-not-null', '1', 'include-column-positions', '1', 'include-default', '1']),
    ('v1 no types',     ARRAY['format-version', '1', 'include-types', '0', 'include-not-null', '1', 'include-type-oids', '1']),
    ('v1 domain base',  ARRAY['format-version', '1', 'include-domain-data-type', '1', 'include-type-oids', '1']),
    ('v1 domain typname', ARRAY['format-version', '1', 'include-domain-data-type', '1', 'include-typmod', '0', 'include-pk', '1']),
    ('v1 filters',      ARRAY['format-version', '1', 'include-schemas', '0', 'actions', 'insert,update', 'filter-tables', '*.nothing_here']),
    ('v1 everything',   ARRAY['format-version', '1', 'pretty-print', '1', 'include-xids', '1', 'include-pk', '1',
                              'include-type-oids', '1', 'include-default', '1', 'include-not-null', '1',
                              'include-column-positions', '1', 'include-domain-data-type', '1', 'include-lsn', '1'])
$$;

-- diff() under every option set. Warnings (identity-less changes) would
-- repeat for every set and plugin; tests show them once on their own.
CREATE FUNCTION diff_all() RETURNS TABLE (option_set text, result text) LANGUAGE sql
SET client_min_messages = error AS $$
  SELECT name, diff(VARIADIC opts) FROM option_sets()
$$;
