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
    '"(xid|subxid)":[0-9]+', '"\1":N', 'g'),
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

-- Streamed and two-phase output (formats 2 and 3) as a short, stable
-- summary: runs of like events collapsed ("I public.s x1000 in x1/x1"),
-- xids named x1, x2.. in order of appearance, stream blocks left out (how
-- a transaction is cut into blocks depends on the server's memory
-- accounting, which changes between versions). The protocol is checked
-- while reading: blocks open and close in turn, each event of a block
-- names the block's transaction and its (sub)transaction, ends of streamed
-- transactions come between blocks, first_segment is true on a
-- transaction's first block only. A violation is reported as INVALID.
-- Changes of a (sub)transaction that aborts later show as "(aborted)",
-- without a count: how many of them were streamed before the abort
-- depends on the server's memory accounting too.
CREATE FUNCTION xname(names jsonb, x text) RETURNS jsonb LANGUAGE sql AS $$
  SELECT CASE WHEN x IS NULL OR names ? x THEN names
              ELSE names || jsonb_build_object(x, 'x' || ((SELECT count(*) FROM jsonb_object_keys(names)) + 1)) END
$$;

CREATE FUNCTION stream_summary(VARIADIC opts text[]) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  j jsonb;
  names jsonb := '{}';
  blocks jsonb := '{}';
  open_xid text;
  ev text; xid text; sub text; tbl text; extra text;
  key text; prev text; n int := 0;
  problem text;
  in_block boolean;
  events jsonb[];
  aborted text[];
BEGIN
  SELECT coalesce(array_agg(data::jsonb ORDER BY ord), '{}') INTO events
    FROM pg_logical_slot_peek_changes('waljson_slot', NULL, NULL, VARIADIC opts) WITH ORDINALITY AS c(l, x, data, ord);
  -- Captured for the JSON Schema check, as w() does: every event but the
  -- rows after the first 200 (thousands of them, alike).
  IF coalesce(current_setting('waljson_test.capture_dir', true), '') <> '' THEN
    EXECUTE format('COPY (SELECT %L, e::text FROM unnest(%L::jsonb[]) WITH ORDINALITY AS u(e, i)
                          WHERE i <= 200 OR NOT (e ? ''columns'' OR e ? ''identity'' OR e ? ''before'')) TO %L (FORMAT csv)',
      array_to_json(opts)::text, events,
      current_setting('waljson_test.capture_dir') || '/' || md5(clock_timestamp()::text || random()::text) || '.csv');
  END IF;
  SELECT coalesce(array_agg(e->>'subxid'), '{}') INTO aborted FROM unnest(events) e
   WHERE e->>'action' = 'A' OR e->>'status' = 'STREAM_ABORT';
  FOREACH j IN ARRAY events LOOP
    -- format 3 mapped onto format 2's letters
    IF j ? 'status' THEN
      ev := CASE j->>'status' WHEN 'BEGIN' THEN 'B' WHEN 'END' THEN 'C' WHEN 'STREAM_START' THEN 'S'
              WHEN 'STREAM_STOP' THEN 'E' WHEN 'STREAM_ABORT' THEN 'A' WHEN 'STREAM_COMMIT' THEN 'c'
              WHEN 'BEGIN_PREPARE' THEN 'b' WHEN 'PREPARE' THEN 'P' WHEN 'STREAM_PREPARE' THEN 'p'
              WHEN 'COMMIT_PREPARED' THEN 'K' WHEN 'ROLLBACK_PREPARED' THEN 'r' END;
      xid := j->>'xid';
      sub := j->>'subxid';
      extra := CASE WHEN ev IN ('c', 'p', 'P', 'C') THEN ' events ' || (j->>'event_count') ELSE '' END;
    ELSIF j ? 'op' THEN
      ev := CASE j->>'op' WHEN 'c' THEN 'I' WHEN 'u' THEN 'U' WHEN 'd' THEN 'D' WHEN 't' THEN 'T'
              WHEN 'm' THEN 'M' WHEN 'relation' THEN 'R' END;
      xid := j->'source'->>'txId';
      sub := j->'source'->>'subxid';
      tbl := (j->'source'->>'schema') || '.' || (j->'source'->>'table');
      extra := CASE WHEN ev = 'M' THEN ' ' || (j->'message'->>'prefix') ELSE '' END;
      IF open_xid IS NOT NULL AND j->'source'->>'ts_ms' IS NOT NULL THEN
        problem := coalesce(problem, 'a streamed event with a commit time: ' || j::text);
      END IF;
    ELSE
      ev := j->>'action';
      xid := j->>'xid';
      sub := j->>'subxid';
      tbl := (j->>'schema') || '.' || (j->>'table');
      extra := CASE WHEN ev = 'M' THEN ' ' || (j->>'prefix') || ': ' || (j->>'content') ELSE '' END;
    END IF;
    names := xname(xname(names, xid), sub);
    in_block := open_xid IS NOT NULL;
    key := NULL;
    CASE
      WHEN ev = 'S' THEN
        IF in_block THEN problem := coalesce(problem, 'a block opens inside a block'); END IF;
        IF (j->>'first_segment')::boolean = (blocks ? xid) THEN
          problem := coalesce(problem, 'first_segment is ' || (j->>'first_segment') || ' on block ' || (coalesce((blocks->>xid)::int, 0) + 1));
        END IF;
        blocks := blocks || jsonb_build_object(xid, coalesce((blocks->>xid)::int, 0) + 1);
        open_xid := xid;
      WHEN ev = 'E' THEN
        IF open_xid IS DISTINCT FROM xid THEN problem := coalesce(problem, 'a block closes that is not open'); END IF;
        open_xid := NULL;
      WHEN ev IN ('I', 'U', 'D', 'T', 'R', 'M') THEN
        IF in_block AND xid IS DISTINCT FROM open_xid THEN
          problem := coalesce(problem, 'an event of another transaction inside a block: ' || j::text);
        END IF;
        IF in_block AND ev <> 'M' AND sub IS NULL THEN
          problem := coalesce(problem, 'a streamed event without its subxid: ' || j::text);
        END IF;
        key := ev || CASE WHEN ev = 'M' THEN '' ELSE ' ' || tbl END || extra
               || CASE WHEN in_block THEN ' in ' || (names->>xid) || CASE WHEN ev = 'M' THEN '' ELSE '/' || (names->>sub) END ELSE '' END
               || CASE WHEN in_block AND sub = ANY (aborted) THEN ' (aborted)' ELSE '' END;
      ELSE
        IF in_block THEN problem := coalesce(problem, ev || ' inside a block'); END IF;
        IF ev IN ('A', 'c', 'p') AND NOT blocks ? xid THEN
          problem := coalesce(problem, ev || ' of a transaction never streamed');
        END IF;
        key := ev || coalesce(' ' || (names->>xid), '')
               || CASE WHEN ev = 'A' THEN '/' || (names->>sub) ELSE '' END
               || coalesce(' ' || (j->>'gid'), '') || extra;
    END CASE;
    CONTINUE WHEN key IS NULL;
    IF key = prev THEN
      n := n + 1;
    ELSE
      IF prev IS NOT NULL THEN RETURN NEXT prev || CASE WHEN n > 1 AND prev NOT LIKE '%(aborted)' THEN ' x' || n ELSE '' END; END IF;
      prev := key;
      n := 1;
    END IF;
  END LOOP;
  IF prev IS NOT NULL THEN RETURN NEXT prev || CASE WHEN n > 1 AND prev NOT LIKE '%(aborted)' THEN ' x' || n ELSE '' END; END IF;
  IF open_xid IS NOT NULL THEN problem := coalesce(problem, 'a block left open'); END IF;
  IF problem IS NOT NULL THEN RETURN NEXT 'INVALID: ' || problem; END IF;
  RETURN NEXT 'streamed in more than one block: '
    || coalesce((SELECT string_agg(names->>k, ', ' ORDER BY names->>k) FROM jsonb_object_keys(blocks) k WHERE (blocks->>k)::int > 1), 'none');
END $$;
