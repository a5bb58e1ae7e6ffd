-- waljson 0.1.0 -> 0.2.0: the schema waljson and its functions (0.1.0's
-- extension had no objects). The same objects as a fresh CREATE EXTENSION
-- of 0.2.0: tests/extension.sh compares the two.
\echo Use "ALTER EXTENSION waljson UPDATE" to load this file. \quit

CREATE SCHEMA IF NOT EXISTS waljson;

CREATE FUNCTION waljson."version"() RETURNS TEXT
STRICT STABLE PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'version_wrapper';

CREATE FUNCTION waljson."json_schema"(
	"format" INT
) RETURNS jsonb
STRICT STABLE PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'json_schema_wrapper';

CREATE FUNCTION waljson."snapshot"(
	"tbl" regclass,
	"options" VARIADIC TEXT[] DEFAULT '{}'
) RETURNS SETOF text
STRICT
LANGUAGE c
AS 'MODULE_PATHNAME', 'snapshot_wrapper';

GRANT USAGE ON SCHEMA waljson TO PUBLIC;
