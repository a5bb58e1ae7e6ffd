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
SELECT data, json_typeof(data::json) FROM w('format-version', '2', 'include-transaction', '0') AS data;
SELECT pg_drop_replication_slot('waljson_slot');

-- message-content-encoding=base64 or hex: the payload's bytes, exactly,
-- whatever they are (binary payloads such as protobuf go through unchanged).
CREATE TABLE sent (n int PRIMARY KEY, payload bytea);
INSERT INTO sent
SELECT n, (SELECT coalesce(decode(string_agg(lpad(to_hex((n * 37 + i * 101) % 256), 2, '0'), '' ORDER BY i), 'hex'), '')
           FROM generate_series(1, n) i)
FROM generate_series(0, 300) n;
SELECT 'init' FROM pg_create_logical_replication_slot('enc_slot', 'waljson');
-- even n transactional, odd n not; all in one transaction
SELECT count(pg_logical_emit_message(n % 2 = 0, 'enc' || n, payload)) FROM sent;
SELECT data FROM pg_logical_slot_peek_changes('enc_slot', NULL, NULL, 'format-version', '2', 'include-transaction', '0',
    'message-content-encoding', 'base64', 'add-msg-prefixes', 'enc0,enc1,enc2,enc3,enc4');
SELECT data FROM pg_logical_slot_peek_changes('enc_slot', NULL, NULL, 'format-version', '2', 'include-transaction', '0',
    'message-content-encoding', 'hex', 'add-msg-prefixes', 'enc0,enc1,enc2,enc3');
SELECT data FROM pg_logical_slot_peek_changes('enc_slot', NULL, NULL, 'format-version', '1',
    'message-content-encoding', 'base64', 'add-msg-prefixes', 'enc1,enc2,enc4');
-- every payload, in both formats and both encodings, decodes to the bytes sent
WITH v2 AS (
    SELECT e.enc, data::json AS m
    FROM (VALUES ('base64'), ('hex')) e(enc),
         LATERAL pg_logical_slot_peek_changes('enc_slot', NULL, NULL, 'format-version', '2',
             'include-transaction', '0', 'message-content-encoding', e.enc) p
), v1 AS (
    SELECT e.enc, json_array_elements(data::json->'change') AS m
    FROM (VALUES ('base64'), ('hex')) e(enc),
         LATERAL pg_logical_slot_peek_changes('enc_slot', NULL, NULL, 'format-version', '1',
             'message-content-encoding', e.enc) p
)
SELECT format, enc, count(*) AS messages, count(*) FILTER (WHERE decode(m->>'content', enc) = s.payload) AS exact
FROM (SELECT 2 AS format, * FROM v2 UNION ALL SELECT 1, * FROM v1) g
JOIN sent s ON m->>'prefix' = 'enc' || s.n
GROUP BY format, enc ORDER BY format, enc;
-- text (the default) is wal2json's string
SELECT data FROM pg_logical_slot_peek_changes('enc_slot', NULL, NULL, 'format-version', '2', 'include-transaction', '0',
    'message-content-encoding', 'text', 'add-msg-prefixes', 'enc1');
\set VERBOSITY default
SELECT data FROM pg_logical_slot_peek_changes('enc_slot', NULL, NULL, 'message-content-encoding', 'base32');
SELECT pg_drop_replication_slot('enc_slot');
DROP TABLE sent;
