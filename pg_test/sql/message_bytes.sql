-- Message payloads that are not valid UTF-8 text. wal2json copies the bytes
-- up to the first NUL and writes them unchecked (invalid JSON / invalid
-- UTF-8); waljson always writes valid JSON: NUL as \u0000 and each byte of an
-- invalid sequence as U+FFFD.
\set VERBOSITY terse
SET synchronous_commit = on;
SELECT 'init' FROM pg_create_logical_replication_slot('waljson_slot', 'waljson');
SELECT 'm' FROM pg_logical_emit_message(false, 'nul', '\x610062'::bytea);
SELECT 'm' FROM pg_logical_emit_message(false, 'bad', '\x61ff62e282'::bytea);
SELECT 'm' FROM pg_logical_emit_message(true, 'ok', convert_to('日本', 'UTF8'));
SELECT data, json_typeof(data::json) FROM pg_logical_slot_peek_changes('waljson_slot', NULL, NULL, 'format-version', '2', 'include-transaction', '0');
SELECT pg_drop_replication_slot('waljson_slot');
