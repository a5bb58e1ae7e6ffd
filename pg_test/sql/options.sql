-- Option parsing: errors, boolean spellings, aliases, format-version.
\set VERBOSITY terse
SET synchronous_commit = on;
SELECT slots_create();
CREATE TABLE opt_t (a int PRIMARY KEY, b text);
INSERT INTO opt_t VALUES (1, 'one');

-- errors: each bad option is read by both plugins; the messages are the same
SELECT w('format-version', '2', 'nosuchopt', '42');
SELECT w2j('format-version', '2', 'nosuchopt', '42');
SELECT w('format-version', '2', 'include-unchanged-toast', '1');
SELECT w2j('format-version', '2', 'include-unchanged-toast', '1');
SELECT w('format-version', '2', 'include-xids', 'maybe');
SELECT w2j('format-version', '2', 'include-xids', 'maybe');
SELECT w('format-version', '2', 'include-xids', '');
SELECT w2j('format-version', '2', 'include-xids', '');
SELECT w('format-version', '2', 'include-xids', 'o');
SELECT w2j('format-version', '2', 'include-xids', 'o');
SELECT w('format-version', '2', 'include-xids', 'truex');
SELECT w2j('format-version', '2', 'include-xids', 'truex');
SELECT w('format-version', '2', 'include-timestamp', '2');
SELECT w2j('format-version', '2', 'include-timestamp', '2');
SELECT w('format-version', '2', 'include-lsn', ' on');
SELECT w2j('format-version', '2', 'include-lsn', ' on');
SELECT w('format-version', '2', 'include-pk', 'nope');
SELECT w2j('format-version', '2', 'include-pk', 'nope');
SELECT w('format-version', '2', 'pretty-print', 'x');
SELECT w2j('format-version', '2', 'pretty-print', 'x');
SELECT w('format-version', '2', 'write-in-chunks', 'x');
SELECT w2j('format-version', '2', 'write-in-chunks', 'x');
SELECT w('format-version', '2', 'include-default', 'x');
SELECT w2j('format-version', '2', 'include-default', 'x');
SELECT w('format-version', '2', 'include-types', 'x');
SELECT w2j('format-version', '2', 'include-types', 'x');
SELECT w('format-version', '2', 'include-schemas', 'x');
SELECT w2j('format-version', '2', 'include-schemas', 'x');
SELECT w('format-version', '2', 'include-transaction', 'x');
SELECT w2j('format-version', '2', 'include-transaction', 'x');
SELECT w('format-version', '2', 'include-type-oids', 'x');
SELECT w2j('format-version', '2', 'include-type-oids', 'x');
SELECT w('format-version', '2', 'include-typmod', 'x');
SELECT w2j('format-version', '2', 'include-typmod', 'x');
SELECT w('format-version', '2', 'include-domain-data-type', 'x');
SELECT w2j('format-version', '2', 'include-domain-data-type', 'x');
SELECT w('format-version', '2', 'include-column-positions', 'x');
SELECT w2j('format-version', '2', 'include-column-positions', 'x');
SELECT w('format-version', '2', 'include-not-null', 'x');
SELECT w2j('format-version', '2', 'include-not-null', 'x');
SELECT w('format-version', '2', 'include-origin', 'x');
SELECT w2j('format-version', '2', 'include-origin', 'x');
SELECT w('format-version', '4');  -- waljson's own format 3 exists
SELECT w2j('format-version', '3');
SELECT w('format-version', '0');
SELECT w2j('format-version', '0');
SELECT w('format-version', '-1');
SELECT w2j('format-version', '-1');
SELECT w('format-version', 'two');
SELECT w2j('format-version', 'two');
SELECT w('format-version', '');
SELECT w2j('format-version', '');
SELECT w('format-version', '2x');
SELECT w2j('format-version', '2x');
SELECT w('format-version', '08');
SELECT w2j('format-version', '08');
SELECT w('format-version', '99999999999');
SELECT w2j('format-version', '99999999999');
SELECT w('format-version', '2', 'actions', 'insert, xupdate');
SELECT w2j('format-version', '2', 'actions', 'insert, xupdate');
SELECT w('format-version', '2', 'actions', 'insert,,delete');
SELECT w2j('format-version', '2', 'actions', 'insert,,delete');
SELECT w('format-version', '2', 'actions', 'insert delete');
SELECT w2j('format-version', '2', 'actions', 'insert delete');
SELECT w('format-version', '2', 'actions', 'INSERT');
SELECT w2j('format-version', '2', 'actions', 'INSERT');
SELECT w('format-version', '2', 'filter-tables', 'nodot');
SELECT w2j('format-version', '2', 'filter-tables', 'nodot');
SELECT w('format-version', '2', 'filter-tables', 'a.b,');
SELECT w2j('format-version', '2', 'filter-tables', 'a.b,');
SELECT w('format-version', '2', 'filter-tables', 'a.b c.d');
SELECT w2j('format-version', '2', 'filter-tables', 'a.b c.d');
SELECT w('format-version', '2', 'add-tables', 'public');
SELECT w2j('format-version', '2', 'add-tables', 'public');
SELECT w('format-version', '2', 'add-tables', ',');
SELECT w2j('format-version', '2', 'add-tables', ',');
SELECT w('format-version', '2', 'filter-msg-prefixes', 'a,,b');
SELECT w2j('format-version', '2', 'filter-msg-prefixes', 'a,,b');
SELECT w('format-version', '2', 'add-msg-prefixes', ' , ');
SELECT w2j('format-version', '2', 'add-msg-prefixes', ' , ');
SELECT w('format-version', '2', 'filter-origins', '1 2');
SELECT w2j('format-version', '2', 'filter-origins', '1 2');
-- option names are case-sensitive, as in wal2json
SELECT w('format-version', '2', 'Include-Xids', '1');
SELECT w2j('format-version', '2', 'Include-Xids', '1');

-- where waljson deliberately differs
-- a trailing backslash: wal2json 2.5 reads past the end of the string (fixed in 2.7)
SELECT w('format-version', '2', 'filter-tables', 'public.t\');
SELECT w('format-version', '2', 'add-msg-prefixes', 'abc\');
-- underscores are accepted as aliases of the hyphens (wal2json knows only hyphens)
SELECT w('format-version', '2', 'include_xids', 'maybe');
SELECT w2j('format-version', '2', 'include_xids', 'maybe');
SELECT w('format_version', '2', 'include_schemas', '0', 'include_types', 'false');
-- numeric-data-types-as-string exists since wal2json 2.6 (2.5 rejects it)
SELECT w('format-version', '2', 'numeric-data-types-as-string', 'x');
SELECT w2j('format-version', '2', 'numeric-data-types-as-string', 'x');
SELECT w('format-version', '2', 'numeric-data-types-as-string', '1');
SELECT w2j('format-version', '2', 'numeric-data-types-as-string', '1');
-- format version 1 is the default when the option is absent, as in wal2json
SELECT diff('include-xids', '0');
SELECT w('include-xids', '0');
SELECT diff('format-version', '1', 'format-version', '2', 'format-version', '1');
-- include-truncate is waljson's own option
SELECT w('include-truncate', 'x');
SELECT w2j('include-truncate', '1');

-- accepted spellings give the same bytes as wal2json
SELECT diff('format-version', '2', 'include-schemas', 'off', 'include-types', 'OFF');
SELECT diff('format-version', ' 2 ', 'include-schemas', 'of', 'include-types', 'n');
SELECT diff('format-version', '0x2', 'include-types', 'NO', 'include-pk', 'Y');
SELECT diff('format-version', '02', 'include-types', 'fal', 'include-pk', 'tr');
SELECT diff('format-version', '2.4', 'include-types', '0', 'include-pk', '1');
SELECT diff('format-version', '2', 'include-typmod', '0', 'include-typmod', '1');
-- a later value wins ...
SELECT diff('format-version', '2', 'include-schemas', '0', 'include-schemas', '1');
-- ... except that pretty-print cannot be switched off again (harmless in v2)
SELECT diff('format-version', '2', 'pretty-print', '1', 'pretty-print', '0');
SELECT diff('format-version', '2', 'actions', '');
SELECT diff('format-version', '2', 'filter-origins', ' 1, 2 ,abc', 'filter-origins', '');

-- odd but valid values, compared with wal2json
SELECT diff('format-version', '2', 'include-xids', '1', 'include-xids', '0', 'include-xids', 'on');
SELECT diff('format-version', '2', 'filter-tables', repeat('s.t,', 20000) || 'public.opt_t');
SELECT diff('format-version', '2', 'add-tables', repeat('s.t,', 20000) || 'public.opt_t');
SELECT diff('format-version', '2', 'filter-tables', '.');
SELECT diff('format-version', '2', 'add-tables', '*.');
SELECT diff('format-version', '2', 'add-tables', '.*');
SELECT diff('format-version', '2', 'add-tables', 'public.opt\_t');
SELECT diff('format-version', '2', 'add-tables', 'pub\lic.opt_t, \\.x');
SELECT diff('format-version', '2', 'filter-msg-prefixes', repeat('p,', 10000) || 'p');
-- bad ones: long names and values are echoed whole, as by wal2json
SELECT length(w) FROM w('format-version', '2', repeat('x', 1000), '1') AS w;
SELECT length(w) FROM w2j('format-version', '2', repeat('x', 1000), '1') AS w;
SELECT w('format-version', '2', '', '');
SELECT w2j('format-version', '2', '', '');
SELECT w('format-version', '2', 'actions', repeat('insert,', 1000) || 'bogus');
SELECT w2j('format-version', '2', 'actions', repeat('insert,', 1000) || 'bogus');

SELECT slots_drop();
DROP TABLE opt_t;
